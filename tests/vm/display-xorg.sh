# SPDX-License-Identifier: MIT
# Xorg on pva_drm: the host's Xorg (modesetting driver, no acceleration)
# runs in a host-root guest, sees Virtual-1..4 and their modes in xrandr,
# follows host resizes at the next probe (xrandr --auto applies them), draws
# what the host's screenshot shows, drives a second head, and stops cleanly
# so pva_drm unloads. Run by vmtest.py (x86_64 only: the host's programs).
# vmtest-hostroot: yes
# vmtest-modules: drm drm_kms_helper drm_shmem_helper
. /tests/lib.sh

D=services[display].display
export DISPLAY=:0

load_drm() {
	insmod /modules/pva_drm.ko || die "insmod pva_drm failed"
	_i=0
	until [ -e /dev/dri/card0 ] && hostcmd status-cmp $D.guest_driver eq true; do
		_i=$((_i + 1))
		[ $_i -lt 40 ] || die "no /dev/dri/card0 or the host never heard from pva_drm"
		sleep 0.25
	done
}

# xr_modes OUTPUT: the mode lines xrandr lists under OUTPUT (it re-probes)
xr_modes() {
	xrandr | awk -v o="$1" '/^[^ \t]/ { cur = $1; next } cur == o'
}

# xr_status OUTPUT: connected or disconnected
xr_status() {
	xrandr | awk -v o="$1" '$1 == o { print $2 }'
}

connected() { [ "$(xr_status "$1")" = connected ]; }

# wait_xr WHAT SECONDS COMMAND...: until COMMAND succeeds (xrandr probes)
wait_xr() {
	_what=$1 _max=$(($2 * 2))
	shift 2
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ $_i -lt $_max ] || { xrandr; die "$_what"; }
		sleep 0.5
	done
}

# mode_is OUTPUT WxH FLAG: OUTPUT lists WxH with FLAG (* current, + preferred)
mode_is() {
	xr_modes "$1" | awk -v m="$2" -v f="$3" \
		'$1 == m && index(substr($0, length($1) + 1), f) { ok = 1 } END { exit !ok }'
}

# wait_host PATH VALUE SECONDS: the host's status shows PATH = VALUE
wait_host() {
	_i=0
	until hostcmd status-cmp "$1" eq "$2"; do
		_i=$((_i + 1))
		[ $_i -lt $(($3 * 4)) ] || die "the host's $1 is not $2"
		sleep 0.25
	done
}

# xorg_errors: Xorg's (EE) lines but the ones a guest without dbus and
# input drivers always has; false when there are none
xorg_errors() {
	grep -E '^\[ *[0-9.]+\] \(EE\)' /tmp/Xorg.0.log |
		grep -vE 'dbus-core: error connecting|Failed to load module "(mouse|kbd|libinput)"|No input driver matching'
}

t_start() {
	command -v Xorg > /dev/null || die "no Xorg on the host (scripts/setup.sh installs xserver-xorg-core)"
	command -v xrandr > /dev/null || die "no xrandr on the host (x11-xserver-utils)"
	load
	load_drm
	xorg_conf
	# -nocursor: pva_drm has no cursor plane, a software cursor would be
	# drawn into the picture the host checks
	Xorg :0 -noreset -nolisten tcp -nocursor vt1 -config /tmp/xorg.conf \
		-logfile /tmp/Xorg.0.log < /dev/null > /tmp/xorg.out 2>&1 &
	echo $! > /tmp/xorg.pid
	t0=$(date +%s)
	_i=0
	until xrandr > /dev/null 2>&1; do
		kill -0 "$(cat /tmp/xorg.pid)" 2>/dev/null ||
			{ cat /tmp/xorg.out; tail -n 30 /tmp/Xorg.0.log; die "Xorg exited"; }
		_i=$((_i + 1))
		[ $_i -lt 120 ] || { tail -n 30 /tmp/Xorg.0.log; die "Xorg not ready in 60 s"; }
		sleep 0.5
	done
	echo "Xorg ready after $(($(date +%s) - t0)) s"
	grep -E 'modeset\(0\): (using drv|ShadowFB|Output .* (connected|disconnected|using))' \
		/tmp/Xorg.0.log || true
	xorg_errors || true
}

t_outputs() {
	xrandr
	[ "$(xr_status Virtual-1)" = connected ] || die "Virtual-1 is not connected"
	for o in Virtual-2 Virtual-3 Virtual-4; do
		[ "$(xr_status $o)" = disconnected ] || die "$o is '$(xr_status $o)', not disconnected"
	done
	mode_is Virtual-1 1024x768 + || die "1024x768 is not Virtual-1's preferred mode"
	mode_is Virtual-1 1024x768 '*' || die "1024x768 is not Virtual-1's current mode"
	wait_host $D.heads.0.scanout.width 1024 10
	wait_host $D.heads.0.scanout.height 768 10
}

t_resize() {
	hostcmd hostctl display resize 1280 800 || die "display resize failed"
	wait_xr "1280x800 is not Virtual-1's preferred mode" 30 \
		mode_is Virtual-1 1280x800 +
	# Xorg does not switch by itself: the mode applies with --auto
	xrandr
	if xrandr | grep -q 'current 1024 x 768'; then
		echo "Xorg kept 1024x768 until asked"
	else
		echo "note: Xorg switched by itself"
	fi
	xrandr --output Virtual-1 --auto || die "xrandr --auto failed"
	wait_xr "1280x800 is not Virtual-1's current mode" 20 \
		mode_is Virtual-1 1280x800 '*'
	xrandr | grep -q 'current 1280 x 800' || die "the screen is not 1280x800"
	wait_host $D.heads.0.scanout.width 1280 20
	wait_host $D.heads.0.scanout.height 800 20
	hostcmd hostctl display heads
}

# wait_solid HEAD NAME WxH RRGGBB: the host's screenshot of HEAD is WxH,
# every pixel RRGGBB (Xorg's drawing reaches the host with DIRTYFB, soon)
wait_solid() {
	_i=0
	until hostcmd screenshot "$1" "$2" size "$3" solid "$4"; do
		_i=$((_i + 1))
		[ $_i -lt 20 ] || die "the host's screenshot of head $1 is not $3 all #$4"
		sleep 0.5
	done
}

t_draw() {
	xsetroot -solid '#3366cc' || die "xsetroot failed"
	wait_solid 0 xorg 1280x800 3366cc
	hostcmd screenshot 0 xorg-nonblack nonblack 1024000 ||
		die "the host's screenshot has black pixels"
}

t_second_head() {
	hostcmd hostctl display resize 800 600 --head 1 || die "head 1 resize failed"
	wait_xr "Virtual-2 did not connect" 30 connected Virtual-2
	wait_xr "800x600 is not Virtual-2's preferred mode" 20 \
		mode_is Virtual-2 800x600 +
	xrandr --output Virtual-2 --auto --right-of Virtual-1 ||
		die "xrandr --output Virtual-2 --auto --right-of Virtual-1 failed"
	wait_xr "800x600 is not Virtual-2's current mode" 20 \
		mode_is Virtual-2 800x600 '*'
	xrandr | grep -q '^Virtual-2 connected 800x600+1280+0' ||
		{ xrandr; die "Virtual-2 is not at +1280+0"; }
	wait_host $D.heads.1.scanout.on true 20
	wait_host $D.heads.1.scanout.width 800 20
	wait_host $D.heads.1.scanout.height 600 20
	# head 0 still shows the 1280x800 part of the screen
	hostcmd status-cmp $D.heads.0.scanout.width eq 1280 || die "head 0 changed"
	hostcmd hostctl display heads
	# one root window across both heads: each shows its part
	wait_solid 0 head0-of-2 1280x800 3366cc
	wait_solid 1 head1-of-2 800x600 3366cc
	xsetroot -solid '#cc6633' || die "xsetroot failed"
	wait_solid 0 head0-redrawn 1280x800 cc6633
	wait_solid 1 head1-redrawn 800x600 cc6633
}

t_stop() {
	pid=$(cat /tmp/xorg.pid)
	kill "$pid" || die "Xorg is gone already"
	_i=0
	# Xorg was started by another test's subshell: not our child, init
	# reaps it
	while [ -e /proc/$pid ] && ! grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 60 ] || { kill -9 "$pid"; die "Xorg did not stop in 30 s"; }
		sleep 0.5
	done
	tail -n 3 /tmp/Xorg.0.log
	grep -q 'Server terminated successfully' /tmp/Xorg.0.log ||
		die "Xorg did not terminate successfully"
	! xorg_errors || die "errors in Xorg's log"
	rmmod pva_drm || die "rmmod pva_drm failed"
	unload
	# DRM's own error messages are no kernel WARNING: look for them here
	! dmesg | grep -v 'module verification failed' |
		grep -E '\*ERROR\*|pva_(drm|core).*(error|fail)' ||
		die "errors in the kernel log"
}

t_run start t_start
t_run outputs t_outputs
t_run resize t_resize
t_run draw t_draw
t_run second-head t_second_head
t_run stop t_stop
