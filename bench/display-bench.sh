# SPDX-License-Identifier: MIT
# Guest suite of the display benchmark (bench/run-display.sh, via
# vmtest.py): pva_drm against QEMU's bochs-display and virtio-gpu, all
# three cards in the same guest.
#
# 1. Throughput at the chosen mode (default 1920x1080): the same
#    `pva-drmtest pattern` on every card, a full-screen frame each time,
#    (a) drawn into the back buffer and page-flipped, (b) drawn into the
#    front buffer and announced with DIRTYFB (one clip: the whole screen;
#    what Xorg's modesetting driver does). Rounds alternate the drivers,
#    each round in another order. "DISPBENCH: DRIVER ROUND METRIC VALUE".
# 2. Resize latency: the host asks for a new size (pva: `pva-hostctl
#    display resize`; virtio-gpu: an RFB SetDesktopSize to QEMU's VNC
#    server, vmtest's qemu-vnc-resize), alternating sizes and drivers.
#    Times come from the guest kernel's log clock: a mark written to
#    /dev/kmsg just before the request goes out on the console, DRM's
#    "generating hotplug event" (drm.debug=1 during this part), a mark
#    when the host's answer is back, and a mark when `pva-drmtest
#    wait-preferred` (started then) sees the new preferred mode. The lines
#    are printed as "DISPBENCH-K: ..." for bench/display_report.py.
#
# Parameters (kernel command line):
#   pvadisp.rounds=N    throughput rounds (default 5)
#   pvadisp.frames=N    frames per throughput run (default 120)
#   pvadisp.mode=WxH    throughput mode (default 1920x1080)
#   pvadisp.resizes=N   resizes per driver (default 10)
#   pvadisp.only=LIST   comma-separated drivers (pva,bochs,virtio-gpu)
# A driver whose card is missing is left out with "DISPBENCH-SKIP: ...".
# vmtest-slub-debug: off
. /tests/lib.sh

B_rounds=5
B_frames=120
B_mode=1920x1080
B_resizes=10
B_only=
for _w in $(cat /proc/cmdline); do
	case "$_w" in
	pvadisp.*=*)
		_k=${_w#pvadisp.}
		_k=${_k%%=*}
		_v=${_w#*=}
		case "$_k$_v" in
		*[!a-z0-9_=,x-]*) die "bad parameter $_w" ;;
		esac
		eval "B_$_k=\$_v"
		;;
	esac
done
MODE_W=${B_mode%x*}
MODE_H=${B_mode#*x}
# the sizes the resize test alternates between (each differs from the last)
SIZES="1280x800 1024x768"

wanted() {
	[ -z "$B_only" ] && return 0
	case ",$B_only," in *",$1,"*) return 0 ;; esac
	return 1
}

# card_of DRIVER: /dev/dri/cardN of the card the kernel driver DRIVER runs
# (virtio-gpu's card is the virtio PCI device's: its driver is the
# virtio device's under it)
card_of() {
	for _c in /sys/class/drm/card*; do
		case "${_c##*/}" in *-*) continue ;; esac
		for _d in "$_c/device/driver" "$_c"/device/virtio*/driver; do
			_d=$(readlink "$_d") || continue
			[ "${_d##*/}" = "$1" ] && { echo "/dev/dri/${_c##*/}"; return 0; }
		done
	done
	return 1
}

# conn_of CARD: the name of the card's first connector (connector names
# are numbered across all cards: pva's first may be Virtual-3)
conn_of() {
	pva-drmtest --card "$1" list | sed -n '1s/^connector=\([^ ]*\) .*/\1/p'
}

kmark() {
	echo "<7>dispbench: $*" > /dev/kmsg
}

# klog: the kernel log since the last call, then cleared (DRM's debug
# output would overrun the log buffer): the marks and DRM's hotplug events
# as "DISPBENCH-K:" lines, the rest but DRM's debug lines as they are, so
# the harness still sees any kernel warning
klog() {
	dmesg -c > /tmp/klog
	grep -E 'dispbench: |generating hotplug event' /tmp/klog |
		sed 's/^/DISPBENCH-K: /'
	grep -v -E '\[drm:|dispbench: ' /tmp/klog || true
}

CARDS=
t_setup() {
	load
	insmod /modules/pva_drm.ko || die "insmod pva_drm failed"
	_i=0
	until hostcmd status-cmp services[display].display.guest_driver eq true; do
		_i=$((_i + 1))
		[ $_i -lt 40 ] || die "the host never heard from pva_drm"
		sleep 0.25
	done
	for _c in /sys/class/drm/card*; do
		case "${_c##*/}" in *-*) continue ;; esac
		echo "${_c##*/}: $(basename "$(readlink "$_c/device/driver")")"
	done
	hostcmd hostctl display resize "$MODE_W" "$MODE_H" ||
		die "pva-hostctl display resize $MODE_W $MODE_H failed"
	for _n in pva:pva_drm bochs:bochs-drm virtio-gpu:virtio_gpu; do
		_name=${_n%%:*}
		wanted "$_name" || continue
		if ! _card=$(card_of "${_n#*:}"); then
			echo "DISPBENCH-SKIP: $_name no card (driver ${_n#*:})"
			continue
		fi
		_conn=$(conn_of "$_card")
		if ! pva-drmtest --card "$_card" wait-preferred "$_conn" "$B_mode" --timeout 20; then
			pva-drmtest --card "$_card" list
			echo "DISPBENCH-SKIP: $_name $B_mode is not its preferred mode"
			continue
		fi
		echo "DISPBENCH-CARD: $_name $_card $_conn"
		CARDS="$CARDS $_name:$_card:$_conn"
	done
	echo "$CARDS" > /tmp/cards
	[ -n "$CARDS" ] || die "no card to measure"
}

# fps_run NAME:CARD:CONNECTOR flip|dirty ROUND
fps_run() {
	_n=${1%%:*}
	_c=${1#*:}
	_a="--connector ${_c#*:} --mode $B_mode --frames $B_frames --seed $3"
	[ "$2" = dirty ] && _a="$_a --dirty --clips 1"
	# shellcheck disable=SC2086
	if ! pva-drmtest --card "${_c%%:*}" pattern $_a > /tmp/fps.out 2>&1; then
		cat /tmp/fps.out
		if [ "$2" = dirty ] && grep -q 'DIRTYFB.*Function not implemented' /tmp/fps.out; then
			# bochs: the front buffer is the scanout (VRAM), there is
			# nothing to flush; Xorg stops calling DIRTYFB on ENOSYS
			echo "DISPBENCH-NA: $_n $3 $2 no DIRTYFB (ENOSYS)"
			return 0
		fi
		echo "DISPBENCH-FAIL: $_n $3 $2"
		return 1
	fi
	echo "DISPBENCH: $_n $3 $2 $(sed -n 's/^fps=//p' /tmp/fps.out)"
}

t_throughput() {
	CARDS=$(cat /tmp/cards)
	# a first, unmeasured run on every card: page cache, first mode set
	for _nc in $CARDS; do
		_c=${_nc#*:}
		pva-drmtest --card "${_c%%:*}" pattern --connector "${_c#*:}" \
			--mode "$B_mode" --frames 2 > /dev/null 2>&1 || true
	done
	_bad=0
	_r=1
	_order=$CARDS
	while [ "$_r" -le "$B_rounds" ]; do
		for _m in flip dirty; do
			for _nc in $_order; do
				fps_run "$_nc" "$_m" "$_r" || _bad=1
			done
		done
		# the next round starts with the next driver
		_first=${_order%% *}
		[ "$_first" = "$_order" ] || _order="${_order#* } $_first"
		_order=$(echo $_order)
		_r=$((_r + 1))
	done
	return $_bad
}

# resize_one NAME:CARD:CONNECTOR WxH INDEX
resize_one() {
	_n=${1%%:*}
	_c=${1#*:}
	_w=${2%x*}
	_h=${2#*x}
	_rc=0
	kmark "req $_n $3 $2"
	case "$_n" in
	pva) hostcmd hostctl display resize "$_w" "$_h" || _rc=$? ;;
	virtio-gpu) hostcmd qemu-vnc-resize "$_w" "$_h" || _rc=$? ;;
	esac
	kmark "ack $_n $3 $2"
	[ $_rc = 0 ] || { echo "DISPBENCH-FAIL: $_n resize $3 (host action $_rc)"; return 1; }
	if ! pva-drmtest --card "${_c%%:*}" wait-preferred "${_c#*:}" "$2" \
			--timeout 15 > /tmp/w.out 2>&1; then
		kmark "fail $_n $3 $2"
		klog
		cat /tmp/w.out
		echo "DISPBENCH-FAIL: $_n resize $3 to $2 not seen"
		return 1
	fi
	kmark "seen $_n $3 $2"
	klog
	echo "DISPBENCH-WAIT: $_n $3 $2 $(sed -n 's/^elapsed_ms=//p' /tmp/w.out)"
	# let the drivers' own clients (fbdev) finish with the change
	sleep 1
}

t_resize() {
	CARDS=$(cat /tmp/cards)
	_list=
	for _nc in $CARDS; do
		case "${_nc%%:*}" in
		pva|virtio-gpu) _list="$_list $_nc" ;;
		*) echo "DISPBENCH-SKIP: ${_nc%%:*} resize (no way for the host to resize it)" ;;
		esac
	done
	[ -n "$_list" ] || exit 77
	klog
	echo 0x1 > /sys/module/drm/parameters/debug || die "no drm.debug"
	_bad=0
	_i=0	# 0: a warm-up resize per driver, not counted
	_order=$(echo $_list)
	while [ "$_i" -le "$B_resizes" ]; do
		_size=$(echo $SIZES | cut -d ' ' -f $((_i % 2 + 1)))
		for _nc in $_order; do
			resize_one "$_nc" "$_size" "$_i" || _bad=1
		done
		_first=${_order%% *}
		[ "$_first" = "$_order" ] || _order="${_order#* } $_first"
		_order=$(echo $_order)
		_i=$((_i + 1))
	done
	echo 0 > /sys/module/drm/parameters/debug
	return $_bad
}

t_run setup t_setup
t_run throughput t_throughput
t_run resize t_resize
