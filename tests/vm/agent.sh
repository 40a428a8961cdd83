# SPDX-License-Identifier: MIT
# The desktop agent in a real guest: systemd, logind, D-Bus and udev of the
# host's own Debian, booted in the VM; pva's userspace installed as the
# installer puts it (make install-guest). pva-service starts when the device
# appears (udev); two users log in (pam_systemd sessions on VT1 and VT2):
# alice's X11 session on Xorg with pva_drm, whose pva-agent XDG autostart
# starts (the systemd user generator), and bob's sway session (headless)
# with pva-agent in sway's config. The clipboard both ways with real
# clients (xclip, wl-copy, wl-paste): UTF-8, 10 MiB, PNG; only the active
# session gets it; resolution sync to xrandr and swaymsg; agent killed and
# restarted; malformed messages; service and device restarts. Run by
# vmtest.py (x86_64: the host's programs).
# vmtest-hostroot: yes
# vmtest-init: systemd
# vmtest-install: yes
# vmtest-clipdata: yes
# vmtest-modules: drm drm_kms_helper drm_shmem_helper
. /tests/lib.sh

A=services[agent].agent
TEXT="text/plain;charset=utf-8"

as_alice() {
	runuser -u alice -- env DISPLAY=:0 XAUTHORITY=/home/alice/.Xauthority \
		XDG_RUNTIME_DIR=/run/user/1001 "$@"
}

as_bob() {
	runuser -u bob -- env XDG_RUNTIME_DIR=/run/user/1002 \
		WAYLAND_DISPLAY=wayland-1 "$@"
}

# session ID: the logind session id of USER
session_of() {
	loginctl list-sessions --no-legend | awk -v u="$1" '$3 == u { print $1 }'
}

has_session() {
	[ -n "$(session_of "$1")" ]
}

session_active() {
	[ "$(loginctl show-session "$1" -p Active --value)" = yes ]
}

# same FILE KIND: FILE holds clipdata KIND exactly (the harness wrote it)
same() {
	cmp -s "$1" "/tests/clip/$2"
}

journal_has() {
	journalctl -b --no-pager -u pva-service | grep -q "$1"
}

t_setup() {
	useradd -m -u 1001 -s /bin/sh alice || die "useradd alice"
	useradd -m -u 1002 -s /bin/sh bob || die "useradd bob"
	for f in /usr/sbin/pva-service /usr/bin/pva-agent \
		 /usr/lib/systemd/system/pva-service.service \
		 /usr/lib/udev/rules.d/70-pva.rules /etc/xdg/autostart/pva-agent.desktop; do
		[ -e "$f" ] || die "$f is not installed"
	done
	# debug logs of the service, for when a test fails
	mkdir -p /etc/systemd/system/pva-service.service.d
	printf '[Service]\nExecStart=\nExecStart=/usr/sbin/pva-service -v\n' \
		> /etc/systemd/system/pva-service.service.d/verbose.conf
	sed -i 's|^Exec=/usr/bin/pva-agent$|Exec=/usr/bin/pva-agent -v|' \
		/etc/xdg/autostart/pva-agent.desktop
	systemctl daemon-reload
	udevadm control --reload
	! systemctl is-active -q pva-service || die "pva-service runs before the device exists"
}

t_service_by_udev() {
	load
	wait_for 30 "udev did not start pva-service when /dev/pva appeared" \
		systemctl is-active -q pva-service
	systemctl --no-pager status pva-service | head -n 5
	_i=0
	until hostcmd status-cmp $A.agent eq true; do
		_i=$((_i + 1)); [ $_i -lt 80 ] || die "the host never heard HELLO"; sleep 0.25
	done
}

t_guest_info() {
	hostcmd guest-info kernel.release "$(uname -r)" || die "kernel.release"
	hostcmd guest-info arch "$(uname -m)" || die "arch"
	hostcmd guest-info hostname "$(hostname)" || die "hostname"
	. /etc/os-release
	hostcmd guest-info os.id "$ID" || die "os.id"
	hostcmd guest-info os.version "$VERSION_ID" || die "os.version"
	hostcmd guest-info agent.version "$(pva-service --version | cut -d' ' -f2)" ||
		die "agent.version"
	hostcmd guest-info session.agent no || die "an agent without a session"
}

# alice logs in on VT1: Xorg on pva_drm, her session's agent by autostart
t_alice_x11() {
	insmod /modules/pva_drm.ko || die "insmod pva_drm"
	wait_for 20 "no /dev/dri/card0" test -e /dev/dri/card0
	xorg_conf
	# the X server of her session (a display manager would start it)
	Xorg :0 -noreset -nolisten tcp -nocursor vt1 -config /tmp/xorg.conf \
		-ac -logfile /tmp/Xorg.0.log < /dev/null > /tmp/xorg.out 2>&1 &
	wait_for 60 "Xorg is not ready" env DISPLAY=:0 xrandr
	# a desktop's session target, as GNOME's and KDE's: it pulls in the
	# XDG autostart programs (systemd's generator makes them units)
	mkdir -p /etc/systemd/user
	cat > /etc/systemd/user/pva-test-desktop.target <<-'EOF'
	[Unit]
	Description=a test desktop session
	BindsTo=graphical-session.target
	Wants=xdg-desktop-autostart.target
	EOF
	cat > /tmp/alice-session.sh <<-'EOF'
	# what a desktop session does at start: tell the user's systemd about
	# the display, start the session target
	systemctl --user import-environment DISPLAY XDG_SESSION_ID XDG_SESSION_TYPE
	systemctl --user daemon-reload
	systemctl --user list-unit-files 'app-*'
	systemctl --user start pva-test-desktop.target
	exec sleep 100000
	EOF
	XDG_SESSION_TYPE=x11 XDG_SEAT=seat0 XDG_VTNR=1 XDG_SESSION_CLASS=user \
		DISPLAY=:0 setsid runuser -l alice -c \
		"DISPLAY=:0 XDG_SESSION_TYPE=x11 sh /tmp/alice-session.sh" \
		> /tmp/alice.out 2>&1 &
	wait_for 30 "no logind session for alice" has_session alice
	SA=$(session_of alice)
	echo "alice: session $SA"
	session_active "$SA" || die "alice's session is not active"
	if ! wait_for 60 "x" hostcmd guest-info session.user alice; then
		cat /tmp/alice.out
		as_alice systemctl --user --no-pager status 'app-pva*' 2>&1 | head -n 20
		as_alice systemctl --user --no-pager list-units --all | head -n 40
		ls /run/user/1001/systemd/generator.late 2>&1
		journalctl -b --no-pager | grep -i -E "pva|autostart" | tail -n 40
		die "alice's agent did not register (autostart)"
	fi
	hostcmd guest-info session.agent yes || die "session.agent"
	hostcmd guest-info session.type x11 || die "session.type"
	as_alice systemctl --user --no-pager list-units 'app-pva*' | grep -q autostart ||
		die "the agent was not started by the XDG autostart generator"
}

t_host_to_x11() {
	for k in utf8 big; do
		hostcmd clip-set $k || die "host clipboard set $k"
		as_alice xclip -o -selection clipboard > /tmp/got || die "xclip -o ($k)"
		same /tmp/got $k || die "$k: xclip pasted $(wc -c < /tmp/got) bytes, not the host's"
	done
	as_alice xclip -o -selection clipboard -t UTF8_STRING > /tmp/got
	same /tmp/got big || die "UTF8_STRING differs"
	hostcmd clip-set png image/png || die "host clipboard set png"
	as_alice xclip -o -selection clipboard -t TARGETS > /tmp/targets
	grep -qx image/png /tmp/targets || die "TARGETS lacks image/png: $(cat /tmp/targets)"
	as_alice xclip -o -selection clipboard -t image/png > /tmp/got
	same /tmp/got png || die "the PNG differs"
}

t_x11_to_host() {
	as_alice sh -c 'xclip -i -selection clipboard < /tests/clip/utf8 > /dev/null 2>&1 &'
	wait_for 20 "the host did not see alice's copy" \
		hostcmd status-field $A.clipboard.selections.0.owner guest
	hostcmd clip-check utf8 || die "the host got something else than alice copied"
	as_alice sh -c 'xclip -i -selection clipboard < /tests/clip/big > /dev/null 2>&1 &'
	sleep 1
	hostcmd clip-check big || die "10 MiB from X11 differ on the host"
	as_alice sh -c 'xclip -i -selection clipboard -t image/png < /tests/clip/png > /dev/null 2>&1 &'
	sleep 1
	hostcmd clip-check png image/png || die "the PNG from X11 differs on the host"
}

t_empty() {
	# the owner goes away: the clipboard is empty on the host too
	pkill -u alice xclip
	wait_for 20 "the host still has alice's clipboard after xclip exited" \
		hostcmd status-field $A.clipboard.selections.0.owner none
	hostcmd clip-set utf8
	as_alice xclip -o -selection clipboard > /dev/null || die "no paste after set"
	hostcmd hostctl clipboard set --clear || die "clipboard set --clear"
	sleep 1
	! as_alice xclip -o -selection clipboard > /dev/null 2>&1 ||
		die "the guest still pastes after the host cleared its clipboard"
}

# bob logs in on VT2: a sway session (headless: one DRM master, Xorg's)
t_bob_wayland() {
	mkdir -p /home/bob/.config/sway
	cat > /home/bob/.config/sway/config <<-'EOF'
	output HEADLESS-1 mode 1024x768
	exec /usr/bin/pva-agent
	EOF
	chown -R bob:bob /home/bob/.config
	XDG_SESSION_TYPE=wayland XDG_SEAT=seat0 XDG_VTNR=2 XDG_SESSION_CLASS=user \
		setsid runuser -l bob -c "WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman exec sway" \
		> /tmp/bob.out 2>&1 &
	wait_for 30 "no logind session for bob" has_session bob
	SB=$(session_of bob)
	wait_for 60 "sway did not start" test -S /run/user/1002/wayland-1
	! session_active "$SB" || die "bob's session is active, alice's should be"
	wait_for 30 "bob's agent did not register" \
		sh -c 'journalctl -b -u pva-service --no-pager | grep -q "session '"$SB"' registered"'
	hostcmd guest-info session.user alice || die "the host sees bob, not the active alice"
	hostcmd guest-info sessions 2 || die "sessions is not 2"
}

t_only_active() {
	SB=$(session_of bob)
	hostcmd clip-set utf8
	as_alice xclip -o -selection clipboard > /tmp/got || die "alice cannot paste"
	same /tmp/got utf8 || die "alice pasted something else"
	! as_bob wl-paste -n > /tmp/bgot 2>/dev/null || [ ! -s /tmp/bgot ] ||
		die "bob's inactive session got the host's clipboard"
	# bob copies while inactive: the host does not see it
	as_bob sh -c 'wl-copy --type text/html < /tests/clip/html'
	sleep 2
	hostcmd status-field $A.clipboard.selections.0.owner host ||
		die "an inactive session's copy reached the host"
	# switch to bob's VT: his session is the active one now
	loginctl activate "$SB" || die "loginctl activate $SB"
	wait_for 20 "bob's session is not active after the switch" session_active "$SB"
	wait_for 20 "the host does not see bob as active" \
		hostcmd guest-info session.user bob
	hostcmd guest-info session.type wayland || die "session.type is not wayland"
	# bob's last copy is the guest's clipboard now; then the host's
	hostcmd clip-check html text/html || die "the host did not get bob's copy on the switch"
	hostcmd clip-set utf8
	as_bob wl-paste -n > /tmp/bgot || die "wl-paste failed"
	same /tmp/bgot utf8 || die "bob pasted $(wc -c < /tmp/bgot) bytes, not the host's"
	hostcmd clip-set big
	as_bob wl-paste -n > /tmp/bgot || die "wl-paste (big) failed"
	same /tmp/bgot big || die "bob's 10 MiB paste differs"
	hostcmd clip-set png image/png
	as_bob wl-paste --type image/png > /tmp/bgot || die "wl-paste png"
	same /tmp/bgot png || die "bob's PNG differs"
	as_bob sh -c 'wl-copy < /tests/clip/utf8'
	sleep 1
	hostcmd clip-check utf8 || die "bob's copy did not reach the host"
	# alice is inactive: she no longer holds the host's clipboard
	! as_alice xclip -o -selection clipboard -t TARGETS 2>/dev/null | grep -q image/png ||
		die "alice's inactive session still serves the host's clipboard"
	loginctl activate "$(session_of alice)"
	wait_for 20 "alice is not active again" session_active "$(session_of alice)"
	wait_for 20 "the host does not see alice again" \
		hostcmd guest-info session.user alice
}

t_resize_x11() {
	hostcmd hostctl display resize 1280 800 || die "display resize"
	wait_for 20 "xrandr does not show 1280x800 on alice's screen" \
		sh -c 'env DISPLAY=:0 xrandr | grep -q "current 1280 x 800"'
	env DISPLAY=:0 xrandr | grep -E '^Virtual-1 connected (primary )?1280x800\+0\+0' ||
		{ env DISPLAY=:0 xrandr; die "Virtual-1 is not 1280x800+0+0"; }
	hostcmd status-cmp services[display].display.session.status eq 0 ||
		die "the host has no DISPLAY_STATE for the layout"
	hostcmd hostctl display resize 800 600 --head 1 || die "head 1"
	wait_for 30 "Virtual-2 is not 800x600 right of Virtual-1" \
		sh -c 'env DISPLAY=:0 xrandr | grep -qE "^Virtual-2 connected (primary )?800x600\+1280\+0"'
	hostcmd hostctl display disable --head 1
	wait_for 20 "Virtual-2 still on" \
		sh -c '! env DISPLAY=:0 xrandr | grep -q "^Virtual-2 connected [0-9]"'
	hostcmd hostctl display resize 1024 768 || die "back to 1024x768"
	wait_for 20 "not back to 1024x768" \
		sh -c 'env DISPLAY=:0 xrandr | grep -q "current 1024 x 768"'
}

t_resize_sway() {
	loginctl activate "$(session_of bob)"
	wait_for 20 "the host does not see bob" hostcmd guest-info session.user bob
	hostcmd hostctl display resize 1280 800 || die "display resize"
	wait_for 20 "sway's output is not 1280x800" \
		sh -c "runuser -u bob -- env XDG_RUNTIME_DIR=/run/user/1002 SWAYSOCK=\$(ls /run/user/1002/sway-ipc.*.sock) swaymsg -t get_outputs | grep -q '\"width\": 1280'"
	loginctl activate "$(session_of alice)"
	wait_for 20 "alice is not active again" hostcmd guest-info session.user alice
}

t_agent_killed() {
	child=$(pgrep -u alice -n pva-agent)
	[ -n "$child" ] || die "no agent of alice"
	kill -9 "$child"
	sleep 3
	[ -n "$(pgrep -u alice pva-agent)" ] || die "alice's agent did not come back"
	wait_for 30 "alice's agent did not register again" \
		hostcmd guest-info session.user alice
	hostcmd clip-set utf8
	as_alice xclip -o -selection clipboard > /tmp/got || die "no paste after the restart"
	same /tmp/got utf8 || die "wrong paste after the restart"
}

t_malformed_host() {
	# a GRAB with 40 types, a DATA for nothing, a short REQUEST
	hostcmd hostctl debug send agent 3 0000000001000000000000002800000061006200 ||
		die "debug send"
	hostcmd hostctl debug send agent 5 0100000000000000
	hostcmd hostctl debug send agent 4 00000000
	wait_for 10 "pva-service did not log the malformed GRAB" journal_has "malformed CLIP_GRAB"
	journal_has "malformed CLIP_REQUEST" || die "no log line for the short REQUEST"
	systemctl is-active -q pva-service || die "pva-service died"
	hostcmd clip-set utf8
	as_alice xclip -o -selection clipboard > /tmp/got && same /tmp/got utf8 ||
		die "the clipboard broke after malformed messages"
}

t_bad_register() {
	# bob claims alice's session: refused
	cat > /tmp/claim.py <<-EOF
	import socket, struct
	s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
	s.connect("/run/pva/agent.sock")
	reg = struct.pack("<II", 1, 1) + b"$(session_of alice)".ljust(64, b"\0") + \
	      b"x11".ljust(16, b"\0") + b":0".ljust(64, b"\0") + bytes(32)
	s.send(struct.pack("<IHHHHIII", len(reg), 64, 0, 0, 0, 0, 0, 0) + reg)
	pkt = s.recv(100)
	print("status", struct.unpack_from("<IHHHHIII", pkt)[6])
	EOF
	runuser -u bob -- python3 /tmp/claim.py > /tmp/claim.out 2>&1
	cat /tmp/claim.out
	grep -q "status 9" /tmp/claim.out || die "bob was not refused (EPERM) for alice's session"
	journal_has "session belongs to another user\|names a session its process is not in" ||
		die "no log line for the refused agent"
	hostcmd guest-info session.user alice || die "alice is no longer the one the host sees"
}

t_service_restart() {
	systemctl restart pva-service || die "systemctl restart"
	wait_for 30 "alice's agent did not come back after the service restart" \
		hostcmd guest-info session.user alice
	hostcmd clip-set utf8
	as_alice xclip -o -selection clipboard > /tmp/got && same /tmp/got utf8 ||
		die "no clipboard after the service restart"
	# the host restarts: the guest says HELLO again
	hostcmd kill-worker || die "kill-worker"
	wait_for 30 "no HELLO after the host restart" hostcmd status-cmp $A.agent eq true
	wait_for 30 "the host does not see alice after its restart" \
		hostcmd guest-info session.user alice
	hostcmd clip-set utf8
	if ! { as_alice xclip -o -selection clipboard > /tmp/got && same /tmp/got utf8; }; then
		journalctl -b --no-pager -u pva-service | tail -n 25
		journalctl -b --no-pager _UID=1001 | grep pva-agent | tail -n 25
		die "no clipboard after the host restart"
	fi
}

t_stop() {
	pkill -u bob sway
	pkill Xorg
	sleep 2
	journalctl -b --no-pager -u pva-service | tail -n 30
	! journalctl -b --no-pager | grep -E "pva-(agent|service).*(AddressSanitizer|segfault|core dumped)" ||
		die "a pva program crashed"
}

t_run setup t_setup
t_run service-by-udev t_service_by_udev
t_run guest-info t_guest_info
t_run alice-x11 t_alice_x11
t_run host-to-x11 t_host_to_x11
t_run x11-to-host t_x11_to_host
t_run empty t_empty
t_run bob-wayland t_bob_wayland
t_run only-active t_only_active
t_run resize-x11 t_resize_x11
t_run resize-sway t_resize_sway
t_run agent-killed t_agent_killed
t_run malformed-host t_malformed_host
t_run bad-register t_bad_register
t_run service-restart t_service_restart
t_run stop t_stop
