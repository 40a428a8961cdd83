# SPDX-License-Identifier: MIT
# The desktop agent without systemd, on both architectures: pva-service
# (--no-logind: the agent registered last is the active one) with an X11
# session (Xorg's modesetting driver on pva_drm) and then a sway session
# (headless), each with pva-agent as an unprivileged user. The clipboard
# both ways with xclip, wl-copy and wl-paste (UTF-8, 10 MiB, PNG), the
# host's resize applied by RandR and by wlr-output-management, malformed
# host messages, the agent killed, the pva device reloaded; guest control
# (the clock an hour off, a filesystem freeze) without systemd. The contents
# compared come from the harness (tests/vm/clipdata.py) in /tests/clip.
# Run by vmtest.py.
# vmtest-hostroot: yes
# vmtest-install: yes
# vmtest-clipdata: yes
# vmtest-modules: drm drm_kms_helper drm_shmem_helper virtio_blk crc32c_generic ext4
# vmtest-datadisk: 128
. /tests/lib.sh

A=services[agent].agent
U=1000			# the session user (pvatest in the arm64 tree)
RT=/tmp/run-$U

as_user() {
	setpriv --reuid=$U --regid=$U --clear-groups -- \
		env HOME=/tmp XDG_RUNTIME_DIR=$RT "$@"
}

x() {
	as_user env DISPLAY=:0 "$@"
}

wl() {
	as_user env WAYLAND_DISPLAY=wayland-1 "$@"
}

same() {
	cmp -s "$1" "/tests/clip/$2"
}

service_log_has() {
	grep -q "$1" /tmp/svc.log
}

t_start() {
	for f in /usr/sbin/pva-service /usr/bin/pva-agent; do
		[ -x "$f" ] || die "$f is not installed"
	done
	id $U > /dev/null 2>&1 || { echo "pvatest:x:$U:$U::/tmp:/bin/sh" >> /etc/passwd; }
	mkdir -p $RT
	chown $U:$U $RT
	chmod 700 $RT
	load
	insmod /modules/pva_drm.ko || die "insmod pva_drm"
	wait_for 20 "no /dev/dri/card0" test -e /dev/dri/card0
	pva-service --no-logind -v > /tmp/svc.log 2>&1 &
	echo $! > /tmp/svc.pid
	_i=0
	until hostcmd status-cmp $A.agent eq true; do
		_i=$((_i + 1)); [ $_i -lt 80 ] || { cat /tmp/svc.log; die "no HELLO"; }
		sleep 0.25
	done
	hostcmd guest-info kernel.release "$(uname -r)" || die "kernel.release"
	hostcmd guest-info arch "$(uname -m)" || die "arch"
	hostcmd guest-info session.agent no || die "session.agent"
}

t_x11() {
	xorg_conf
	Xorg :0 -noreset -nolisten tcp -nocursor vt1 -config /tmp/xorg.conf \
		-ac -logfile /tmp/Xorg.0.log < /dev/null > /tmp/xorg.out 2>&1 &
	wait_for 60 "Xorg is not ready" env DISPLAY=:0 xrandr
	x pva-agent -v > /tmp/agent-x11.log 2>&1 &
	wait_for 30 "the X11 agent did not register" hostcmd guest-info session.type x11
}

t_host_to_x11() {
	for k in utf8 big; do
		hostcmd clip-set $k || die "clipboard set $k"
		x xclip -o -selection clipboard > /tmp/got || die "xclip -o ($k)"
		same /tmp/got $k || die "$k: xclip pasted $(wc -c < /tmp/got) bytes, not the host's"
	done
	hostcmd clip-set png image/png || die "clipboard set png"
	x xclip -o -selection clipboard -t image/png > /tmp/got || die "xclip -o png"
	same /tmp/got png || die "the PNG differs"
}

t_x11_to_host() {
	x sh -c 'xclip -i -selection clipboard < /tests/clip/utf8 > /dev/null 2>&1 &'
	wait_for 20 "the host did not see the copy" \
		hostcmd status-field $A.clipboard.selections.0.owner guest
	hostcmd clip-check utf8 || die "utf8 differs on the host"
	x sh -c 'xclip -i -selection clipboard < /tests/clip/big > /dev/null 2>&1 &'
	sleep 1
	hostcmd clip-check big || die "10 MiB differ on the host"
	x sh -c 'xclip -i -selection clipboard -t image/png < /tests/clip/png > /dev/null 2>&1 &'
	sleep 1
	hostcmd clip-check png image/png || die "the PNG differs on the host"
}

t_resize_x11() {
	hostcmd hostctl display resize 1280 800 || die "display resize"
	wait_for 30 "xrandr does not show 1280x800" \
		sh -c 'env DISPLAY=:0 xrandr | grep -q "current 1280 x 800"'
	hostcmd status-cmp services[display].display.session.status eq 0 ||
		die "no DISPLAY_STATE on the host"
	hostcmd hostctl display resize 1024 768 || die "display resize back"
	wait_for 30 "xrandr does not show 1024x768" \
		sh -c 'env DISPLAY=:0 xrandr | grep -q "current 1024 x 768"'
}

t_agent_killed() {
	child=$(pgrep -n -f "pva-agent -v")
	[ -n "$child" ] || die "no agent"
	kill -9 "$child"
	sleep 3
	wait_for 30 "the agent did not come back" hostcmd guest-info session.type x11
	hostcmd clip-set utf8
	x xclip -o -selection clipboard > /tmp/got && same /tmp/got utf8 ||
		die "no clipboard after the agent's restart"
}

t_wayland() {
	mkdir -p /tmp/sway
	cat > /tmp/sway/config <<-'EOF'
	output HEADLESS-1 mode 1024x768
	exec pva-agent -v
	EOF
	chown -R $U:$U /tmp/sway
	as_user env WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 \
		WLR_RENDERER=pixman sway -c /tmp/sway/config > /tmp/sway.log 2>&1 &
	wait_for 60 "sway did not start" test -S $RT/wayland-1
	# no logind: the agent that registered last is the active one
	wait_for 30 "the sway agent did not become active" \
		hostcmd guest-info session.type wayland
	hostcmd clip-set utf8
	wl wl-paste -n > /tmp/got || die "wl-paste"
	same /tmp/got utf8 || die "wl-paste gave something else"
	hostcmd clip-set png image/png
	wl wl-paste --type image/png > /tmp/got || die "wl-paste png"
	same /tmp/got png || die "the PNG differs (wayland)"
	wl sh -c 'wl-copy < /tests/clip/big'
	sleep 1
	hostcmd clip-check big || die "10 MiB from wl-copy differ on the host"
	hostcmd hostctl display resize 1280 800 || die "display resize"
	wait_for 30 "sway's output is not 1280x800" \
		sh -c "setpriv --reuid=$U --regid=$U --clear-groups -- env XDG_RUNTIME_DIR=$RT SWAYSOCK=\$(ls $RT/sway-ipc.*.sock) swaymsg -t get_outputs | grep -q '\"width\": 1280'"
}

t_malformed() {
	hostcmd hostctl debug send agent 3 0000000001000000000000002800000061006200 ||
		die "debug send"
	hostcmd hostctl debug send agent 7 00
	wait_for 10 "pva-service did not log the malformed GRAB" \
		service_log_has "malformed CLIP_GRAB"
	service_log_has "malformed DISPLAY_LAYOUT" || die "no log line for the short layout"
	kill -0 "$(cat /tmp/svc.pid)" || die "pva-service died"
	hostcmd clip-set utf8
	wl wl-paste -n > /tmp/got && same /tmp/got utf8 ||
		die "the clipboard broke after malformed messages"
}

t_time() {
	date -s "@$(($(date +%s) + 3600))" > /dev/null || die "date -s"
	! hostcmd time-near "$(date +%s.%N)" 60 || die "the clock did not move"
	hostcmd hostctl time sync || die "time sync failed"
	hostcmd time-near "$(date +%s.%N)" 2 || die "the clock is not the host's after time sync"
	hostcmd status-field $A.time.action stepped || die "not stepped"
	service_log_has "stepped the clock" || die "no log line for the step"
}

t_freeze() {
	mkfs.ext4 -q /dev/vda || die "mkfs.ext4"
	mkdir -p /data
	mount /dev/vda /data || die "mount"
	hostcmd hostctl fsfreeze freeze --timeout 30 || die "freeze failed"
	( dd if=/dev/zero of=/data/f bs=4096 count=1 conv=fsync 2>/dev/null; echo done > /tmp/write.done ) &
	sleep 2
	[ ! -e /tmp/write.done ] || die "a write went through the freeze"
	! hostcmd hostctl fsfreeze freeze || die "a second freeze was not refused"
	hostcmd hostctl fsfreeze thaw || die "thaw failed"
	wait_for 10 "the write did not finish after the thaw" test -e /tmp/write.done
	umount /data
}

t_reload() {
	# the device goes away (unbound, as at a hot unplug) and comes back:
	# the service waits for it, then says HELLO again
	pkill sway
	pkill Xorg
	sleep 2
	d=$(pva_sysdir) || die "no pva device"
	bdf=${d##*/}
	echo "$bdf" > /sys/bus/pci/drivers/pva_core/unbind || die "unbind"
	wait_for 10 "the host still sees the agent after the unbind" \
		hostcmd status-cmp $A.agent eq false
	sleep 1
	kill -0 "$(cat /tmp/svc.pid)" || die "pva-service exited when the device left"
	echo "$bdf" > /sys/bus/pci/drivers/pva_core/bind || die "bind"
	wait_state running
	_i=0
	until hostcmd status-cmp $A.agent eq true; do
		_i=$((_i + 1)); [ $_i -lt 80 ] || { tail -n 20 /tmp/svc.log; die "no HELLO after the reload"; }
		sleep 0.25
	done
}

t_stop() {
	kill "$(cat /tmp/svc.pid)"
	sleep 1
	tail -n 20 /tmp/svc.log
	! grep -E "AddressSanitizer|runtime error" /tmp/svc.log /tmp/agent-x11.log ||
		die "a sanitizer report"
	rmmod pva_drm
	rmmod pva_core || die "rmmod pva_core"
}

t_run start t_start
t_run x11 t_x11
t_run host-to-x11 t_host_to_x11
t_run x11-to-host t_x11_to_host
t_run resize-x11 t_resize_x11
t_run agent-killed t_agent_killed
t_run wayland t_wayland
t_run malformed t_malformed
t_run time t_time
t_run freeze t_freeze
t_run reload t_reload
t_run stop t_stop
