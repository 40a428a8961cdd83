# SPDX-License-Identifier: MIT
# The display in a guest: pva_drm loads, fbcon draws on it and the host's
# screenshot shows it; a libdrm client's modes, page flips and front-buffer
# damage reach the host pixel for pixel; DPMS blanking; host resizes become the preferred
# mode with a hotplug uevent; a second head; bad requests; a host restart;
# the host's VNC view, and a viewer resizing it; an unbind while a client
# holds the device. Run by vmtest.py.
# vmtest-modules: drm drm_kms_helper drm_shmem_helper
# vmtest-host-args: --vnc 127.0.0.1:@FREEPORT@
. /tests/lib.sh

D=services[display].display

# a failed test leaves no client holding the device
die() {
	[ -n "${drawer:-}" ] && kill "$drawer" 2>/dev/null
	echo "$*"
	exit 1
}
CARD=/sys/class/drm/card0

# fnv_of OUTPUT: the fnv= value pva-drmtest printed
fnv_of() { sed -n 's/.*fnv=\([0-9a-f]*\).*/\1/p' "$1" | tail -n 1; }

# draw OUT ARGS...: pva-drmtest pattern ARGS in the background, holding the
# device (when it exits, fbdev takes the screen back) until stop_draw;
# returns once the last frame is up, its output in OUT.
draw() {
	_out=$1
	shift
	pva-drmtest pattern --hold 60 "$@" > "$_out" 2>&1 &
	drawer=$!
	_i=0
	until grep -q fnv= "$_out"; do
		kill -0 $drawer 2>/dev/null || { cat "$_out"; die "pattern $* failed"; }
		_i=$((_i + 1))
		[ $_i -lt 300 ] || die "pattern $* did not draw"
		sleep 0.1
	done
	cat "$_out"
}

stop_draw() {
	kill $drawer 2>/dev/null
	wait $drawer
	return 0
}

load_drm() {
	insmod /modules/pva_drm.ko || die "insmod pva_drm failed"
	_i=0
	until [ -e /dev/dri/card0 ] && hostcmd status-cmp $D.guest_driver eq true; do
		_i=$((_i + 1))
		[ $_i -lt 40 ] || die "no /dev/dri/card0 or the host never heard from pva_drm"
		sleep 0.25
	done
}

t_load() {
	load
	dmesg_mark load
	load_drm
	[ "$(cat $CARD-Virtual-1/status)" = connected ] ||
		die "Virtual-1 is $(cat $CARD-Virtual-1/status)"
	[ "$(cat $CARD-Virtual-2/status)" = disconnected ] ||
		die "Virtual-2 is $(cat $CARD-Virtual-2/status)"
	head -n 1 $CARD-Virtual-1/modes | grep -qx 1024x768 ||
		die "first mode is $(head -n 1 $CARD-Virtual-1/modes), not the host's 1024x768"
	pva-drmtest list
	pva-drmtest list | grep 'connector=Virtual-1 ' | grep -q 'hotplug_mode_update=1' ||
		die "no hotplug_mode_update property"
}

t_fbcon() {
	# fbdev emulation, and fbcon on it
	[ -e /dev/fb0 ] || die "no /dev/fb0"
	_i=0
	until dmesg | grep -q "frame buffer device"; do
		_i=$((_i + 1))
		[ $_i -lt 20 ] || die "fbcon did not take the console"
		sleep 0.25
	done
	i=0
	while [ $i -lt 30 ]; do
		echo "pva fbcon test line $i: the quick brown fox jumps over the lazy dog" > /dev/tty1
		i=$((i + 1))
	done
	sleep 1	# fbdev flushes its damage from a worker
	hostcmd screenshot 0 fbcon size 1024x768 nonblack 2000 ||
		die "the host's screenshot of the console is blank or wrong"
}

t_pattern() {
	draw /tmp/p.out --connector Virtual-1 --frames 6 --seed 7
	grep -q 'flips=5' /tmp/p.out || die "not 5 page flips"
	hostcmd screenshot 0 pattern fnv "$(fnv_of /tmp/p.out)" ||
		die "the host's picture differs from the last frame"
	stop_draw
}

t_dirty() {
	# front-buffer rendering with DIRTYFB clips (Xorg's modesetting)
	draw /tmp/d.out --connector Virtual-1 --dirty --clips 4 --frames 3 --seed 11
	hostcmd screenshot 0 dirty fnv "$(fnv_of /tmp/d.out)" ||
		die "the host's picture differs after DIRTYFB"
	stop_draw
}

t_blank() {
	# DPMS off: the host shows nothing; on: the same frame again
	pva-drmtest pattern --connector Virtual-1 --frames 2 --seed 13 --blank 3 \
		--hold 60 > /tmp/b.out 2>&1 &
	drawer=$!
	_i=0
	until grep -q blanked=1 /tmp/b.out; do
		_i=$((_i + 1)); [ $_i -lt 300 ] || die "no DPMS off: $(cat /tmp/b.out)"; sleep 0.1
	done
	hostcmd status-cmp $D.heads.0.scanout.on eq false ||
		die "the host still shows head 0 while it is blanked"
	_i=0
	until grep -q unblanked=1 /tmp/b.out; do
		_i=$((_i + 1)); [ $_i -lt 300 ] || die "no DPMS on"; sleep 0.1
	done
	cat /tmp/b.out
	hostcmd screenshot 0 unblanked fnv "$(fnv_of /tmp/b.out)" ||
		die "the frame did not come back after DPMS on"
	stop_draw
}

t_resize() {
	rm -f /tmp/ue
	pva-drmtest uevents --count 1 --timeout 30 --out /tmp/ue > /tmp/ue.ready &
	ue=$!
	_i=0
	until grep -q ready /tmp/ue.ready; do
		_i=$((_i + 1)); [ $_i -lt 50 ] || die "uevent listener not ready"; sleep 0.1
	done
	hostcmd hostctl display resize 1280 800 || die "display resize failed"
	pva-drmtest wait-preferred Virtual-1 1280x800 --timeout 20 ||
		die "the preferred mode did not become 1280x800"
	wait $ue || die "no hotplug uevent"
	cat /tmp/ue
	[ -s /tmp/ue ] || die "no hotplug uevent recorded"
	# the new mode works end to end
	draw /tmp/r.out --connector Virtual-1 --mode 1280x800 --frames 2
	hostcmd screenshot 0 resized size 1280x800 fnv "$(fnv_of /tmp/r.out)" ||
		die "the host's picture is not the 1280x800 frame"
	stop_draw
}

t_second_head() {
	hostcmd hostctl display resize 800 600 --head 1 || die "head 1 resize failed"
	pva-drmtest wait-status Virtual-2 connected --timeout 20 ||
		die "Virtual-2 did not connect"
	pva-drmtest wait-preferred Virtual-2 800x600 --timeout 20
	pva-drmtest list | grep 'connector=Virtual-2 ' | grep -q 'suggested_x=1280' ||
		die "Virtual-2 is not placed right of Virtual-1"
	draw /tmp/h.out --connector Virtual-2 --frames 3 --seed 5
	hostcmd screenshot 1 head1 size 800x600 fnv "$(fnv_of /tmp/h.out)" ||
		die "head 1's picture differs"
	stop_draw
	hostcmd hostctl display disable --head 1 || die "disable head 1 failed"
	pva-drmtest wait-status Virtual-2 disconnected --timeout 20 ||
		die "Virtual-2 did not disconnect"
}

t_bad_requests() {
	hostcmd hostctl display resize 0 600 && die "0x600 accepted"
	hostcmd hostctl display resize 9000 600 && die "9000x600 accepted"
	hostcmd hostctl display resize 8192 8192 && die "8192x8192 accepted (no room)"
	hostcmd hostctl display resize 800 600 --head 4 && die "head 4 accepted"
	hostcmd hostctl display disable --head 0 && die "the last head turned off"
	# nothing changed for the guest
	pva-drmtest wait-preferred Virtual-1 1280x800 --timeout 5
}

t_bad_config() {
	# malformed CONFIG events from the host: logged, nothing breaks
	hostcmd hostctl debug send display 2 - || die "send failed"
	hostcmd hostctl debug send display 2 "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" || die "send failed"
	hostcmd hostctl debug send display 77 0102 || die "send failed"
	# 99 heads, head 0 of 4294967295x4294967295: head 0 is taken as off
	hostcmd hostctl debug send display 2 "0500000063000000002000000020000001000000ffffffffffffffff0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" || die "send failed"
	pva-drmtest wait-status Virtual-1 disconnected --timeout 20 ||
		die "an impossible head 0 was not turned off"
	dmesg | grep -q "malformed CONFIG" || die "no log line for the malformed CONFIG"
	# the host's next real layout is taken again
	hostcmd hostctl display resize 1280 800 || die "resize failed"
	pva-drmtest wait-preferred Virtual-1 1280x800 --timeout 20 ||
		die "the driver did not recover"
}

t_host_restart() {
	# a client keeps showing a frame while pva-host's worker restarts
	draw /tmp/k.out --connector Virtual-1 --frames 2 --seed 3
	hostcmd restart-worker || die "worker restart failed"
	_i=0
	until hostcmd status-cmp $D.heads.0.scanout.on eq true; do
		_i=$((_i + 1)); [ $_i -lt 40 ] || die "the scanout was not sent again"; sleep 0.25
	done
	# the restarted host kept the guest's size and has the held frame
	hostcmd status-cmp $D.heads.0.width eq 1280 || die "the host resized the guest"
	hostcmd screenshot 0 restarted fnv "$(fnv_of /tmp/k.out)" ||
		die "the restarted host does not show the held frame"
	stop_draw
	# and the next client works
	draw /tmp/n.out --connector Virtual-1 --frames 2 --seed 4
	hostcmd screenshot 0 after-restart fnv "$(fnv_of /tmp/n.out)" ||
		die "a new client's picture differs after the restart"
	stop_draw
}

t_vnc() {
	# a VNC viewer sees head 0 pixel for pixel
	draw /tmp/w.out --connector Virtual-1 --frames 2 --seed 21
	hostcmd vnc-check size 1280x800 fnv "$(fnv_of /tmp/w.out)" ||
		die "the VNC view differs from the frame"
	stop_draw
}

t_vnc_resize() {
	# the viewer's window is resized: the guest's preferred mode follows
	hostcmd vnc-resize 1152 864 || die "SetDesktopSize failed"
	pva-drmtest wait-preferred Virtual-1 1152x864 --timeout 20 ||
		die "the preferred mode did not follow the VNC viewer"
	draw /tmp/x.out --connector Virtual-1 --mode 1152x864 --frames 2 --seed 22
	hostcmd vnc-check size 1152x864 fnv "$(fnv_of /tmp/x.out)" ||
		die "the VNC view is not the new 1152x864 frame"
	stop_draw
}

t_unbind_held() {
	dev=$(basename "$(ls -d /sys/bus/auxiliary/devices/pva_core.display.*)")
	draw /tmp/u.out --connector Virtual-1 --frames 2 --hold 6
	echo "$dev" > /sys/bus/auxiliary/drivers/pva_drm/unbind || die "unbind failed"
	hostcmd status-cmp $D.heads.0.scanout.on eq false || die "the host still shows head 0"
	# the client holding the device sees it gone, it does not crash
	wait $drawer
	rc=$?
	cat /tmp/u.out
	[ $rc = 3 ] || [ $rc = 0 ] || die "the holding client exited $rc"
	rmmod pva_drm || die "rmmod pva_drm failed"
	load_drm
	draw /tmp/v.out --connector Virtual-1 --frames 2 --seed 9
	hostcmd screenshot 0 reloaded fnv "$(fnv_of /tmp/v.out)" ||
		die "the picture after the reload differs"
	stop_draw
}

t_unload() {
	rmmod pva_drm || die "rmmod pva_drm failed"
	unload
}

t_run load t_load
t_run fbcon t_fbcon
t_run pattern t_pattern
t_run dirty t_dirty
t_run blank t_blank
t_run resize t_resize
t_run second-head t_second_head
t_run bad-requests t_bad_requests
t_run bad-config t_bad_config
t_run host-restart t_host_restart
t_run vnc t_vnc
t_run vnc-resize t_vnc_resize
t_run unbind-held t_unbind_held
t_run unload t_unload
