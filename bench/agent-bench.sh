# SPDX-License-Identifier: MIT
# Guest suite of the desktop-agent benchmark (bench/run-agent.sh, via
# vmtest.py), in a host-root guest: Xorg (modesetting on pva_drm),
# pva-service (--no-logind) and pva-agent as in tests/vm/agent-basic.sh,
# and bench/guest/clip-echo as the session's application.
#
# 1. Clipboard round trip host -> guest -> host, per size (default 1 KiB
#    and 1 MiB of UTF-8 text), timed on the host (vmtest's agent-bench
#    action): "clip" is pva (the host copies, clip-echo pastes through
#    pva-agent and copies the same bytes back, the host pastes); "vport"
#    is the peer, the same bytes through a virtserialport that `cat`
#    echoes here. Rounds alternate which goes first; round 0 is a warm-up.
#    Around each pva round the guest kernel log's marks (the suite's
#    "clip-req", clip-echo's "clip owner/got/grab/served") are printed as
#    "AGENTBENCH-K: ..." lines: the guest's share of the time. For scale,
#    X11 alone: `clip-echo --paste` reads the last content from clip-echo,
#    client to client through the X server ("AGENTBENCH-X11: ...").
# 2. Resize: the host's display-resize, alternating two sizes; a mark
#    "req I WxH" just before the request leaves on the console, clip-echo's
#    "screen WxH" when RandR's RRScreenChangeNotify reaches it; the host
#    times the same request to the session's DISPLAY_STATE. Each size is
#    checked with xrandr afterwards. Resize 0 is a warm-up.
# 3. Memory: VmRSS, RssAnon and Pss (smaps_rollup) of pva-service and of
#    pva-agent's supervisor and worker, idle after the runs:
#    "AGENTBENCH-MEM: ROLE PID RSS_KIB ANON_KIB PSS_KIB".
#
# Parameters (kernel command line):
#   pvaagent.rounds=N    clipboard rounds (default 10)
#   pvaagent.sizes=LIST  comma-separated byte counts (default 1024,1048576)
#   pvaagent.resizes=N   timed resizes (default 12)
#   pvaagent.only=LIST   clipboard transports: clip,vport (default both)
# The run also needs printk.devkmsg=on: clip-echo writes its marks through
# one descriptor of /dev/kmsg, which the kernel otherwise rate-limits (10
# lines per 5 s, the rest dropped silently).
# vmtest-hostroot: yes
# vmtest-install: yes
# vmtest-slub-debug: off
# vmtest-modules: drm drm_kms_helper drm_shmem_helper virtio_console
. /tests/lib.sh

B_rounds=10
B_sizes=1024,1048576
B_resizes=12
B_only=clip,vport
for _w in $(cat /proc/cmdline); do
	case "$_w" in
	pvaagent.*=*)
		_k=${_w#pvaagent.}
		_k=${_k%%=*}
		_v=${_w#*=}
		case "$_k$_v" in
		*[!a-z0-9_=,-]*) die "bad parameter $_w" ;;
		esac
		eval "B_$_k=\$_v"
		;;
	esac
done
SIZES=$(echo "$B_sizes" | tr ',' ' ')
RESIZE_SIZES="1280x800 1024x768"	# alternated, each differs from the last

A='services[agent].agent'
U=1000			# the session user
RT=/tmp/run-$U

wait_for() {
	_max=$(($1 * 10))
	_what=$2
	shift 2
	_i=0
	until "$@" > /dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -lt $_max ] || die "$_what"
		sleep 0.1
	done
}

as_user() {
	setpriv --reuid=$U --regid=$U --clear-groups -- \
		env HOME=/tmp XDG_RUNTIME_DIR=$RT "$@"
}

kmark() {
	echo "<7>agentbench: $*" > /dev/kmsg
}

# klog: the benchmark's marks in the kernel log since the last call (then
# cleared) as "AGENTBENCH-K:" lines, everything else as it is (the
# harness checks the kernel log for warnings)
klog() {
	dmesg -c > /tmp/klog
	grep 'agentbench: ' /tmp/klog | sed 's/^/AGENTBENCH-K: /'
	grep -v 'agentbench: ' /tmp/klog || true
	! grep -q 'agentbench: clip-echo error' /tmp/klog ||
		die "clip-echo: $(tail -n 3 /tmp/clip-echo.err)"
}

wanted() {
	case ",$B_only," in *",$1,"*) return 0 ;; esac
	return 1
}

t_start() {
	for f in /usr/sbin/pva-service /usr/bin/pva-agent /usr/local/bin/clip-echo; do
		[ -x "$f" ] || die "$f is not installed"
	done
	[ "$(cat /proc/sys/kernel/printk_devkmsg)" = on ] ||
		die "printk.devkmsg=on is not on the kernel command line"
	id $U > /dev/null 2>&1 || echo "pvatest:x:$U:$U::/tmp:/bin/sh" >> /etc/passwd
	mkdir -p $RT
	chown $U:$U $RT
	chmod 700 $RT
	load
	insmod /modules/pva_drm.ko || die "insmod pva_drm"
	wait_for 20 "no /dev/dri/card0" test -e /dev/dri/card0
	pva-service --no-logind > /tmp/svc.log 2>&1 &
	echo $! > /tmp/svc.pid
	_i=0
	until hostcmd status-cmp "$A.agent" eq true; do
		_i=$((_i + 1)); [ $_i -lt 80 ] || { cat /tmp/svc.log; die "no HELLO"; }
		sleep 0.25
	done
}

t_session() {
	# Xorg, not Xvfb: the resize has to go the real way, pva_drm's
	# connectors as RandR outputs (Virtual-1) of the modesetting driver
	xorg_conf
	Xorg :0 -noreset -nolisten tcp -nocursor vt1 -config /tmp/xorg.conf \
		-ac -logfile /tmp/Xorg.0.log < /dev/null > /tmp/xorg.out 2>&1 &
	echo $! > /tmp/xorg.pid
	wait_for 60 "Xorg is not ready" env DISPLAY=:0 xrandr
	# a simple command (setpriv and env exec): $! is pva-agent's supervisor
	setpriv --reuid=$U --regid=$U --clear-groups -- env HOME=/tmp \
		XDG_RUNTIME_DIR=$RT DISPLAY=:0 pva-agent > /tmp/agent.log 2>&1 &
	echo $! > /tmp/agent.pid
	wait_for 30 "the X11 agent did not register" hostcmd guest-info session.type x11
	# the session's application, unprivileged; its marks go through a
	# descriptor of /dev/kmsg opened here; its exit status is kept
	as_user env DISPLAY=:0 sh -c 'clip-echo --kmsg-fd 3 > /tmp/clip-echo.out 2> /tmp/clip-echo.err &
		echo $! > /tmp/clip-echo.pid
		wait $!
		echo $? > /tmp/clip-echo.rc' 3> /dev/kmsg &
	wait_for 20 "clip-echo did not start" grep -q ready /tmp/clip-echo.out
	cat /tmp/clip-echo.out
	env DISPLAY=:0 xrandr | head -n 3
}

t_vport() {
	wanted vport || exit 77
	_port=
	for _p in /sys/class/virtio-ports/*; do
		[ "$(cat "$_p/name" 2>/dev/null)" = pva.agentbench ] && _port=/dev/${_p##*/}
	done
	[ -n "$_port" ] || die "no virtserialport named pva.agentbench"
	# a port reads end-of-file while nothing is connected on the host:
	# the host connects first, cat starts once the guest has heard of it
	hostcmd agent-bench vport-connect || die "the host could not connect to the port"
	mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
	wait_for 10 "the guest never saw the host connect to $_port" \
		grep -q 'host_connected: 1' "/sys/kernel/debug/virtio-ports/${_port#/dev/}"
	# one open, read and write (a port takes one open at a time)
	cat <> "$_port" >&0 2> /tmp/vport-echo.err &
	echo $! > /tmp/vport-echo.pid
	echo "echo on $_port, pid $(cat /tmp/vport-echo.pid)"
}

# clip_one clip|vport SIZE ROUND
clip_one() {
	case "$1" in
	clip)
		kmark "clip-req $2 $3"
		hostcmd agent-bench clip "$2" "$3" ||
			{ klog; die "clipboard round trip of $2 bytes (round $3) failed: see harness.log"; }
		# clip-echo's last mark comes after the host has the content
		wait_for 5 "clip-echo did not finish serving (round $3)" \
			sh -c "dmesg | grep -q 'agentbench: clip served $2\$'"
		klog
		;;
	vport)
		hostcmd agent-bench vport "$2" "$3" ||
			die "virtserialport round trip of $2 bytes (round $3) failed: see harness.log"
		;;
	esac
	echo "AGENTBENCH-DONE: $1 $2 $3"
}

t_clipboard() {
	klog > /dev/null
	_order=
	for _t in clip vport; do
		wanted "$_t" && _order="$_order $_t"
	done
	[ -n "$_order" ] || exit 77
	_r=0
	while [ "$_r" -le "$B_rounds" ]; do
		for _s in $SIZES; do
			for _t in $_order; do
				clip_one "$_t" "$_s" "$_r"
			done
		done
		# the next round starts with the other transport
		_first=${_order# }
		_first=${_first%% *}
		_order=$(echo ${_order#*"$_first"} "$_first")
		_r=$((_r + 1))
	done
}

# For scale: X11 alone, a second client (clip-echo --paste) reading what
# clip-echo holds now (the last pva round's content), 5 times
t_x11_alone() {
	wanted clip || exit 77
	_last=$(echo $SIZES | awk '{ print $NF }')
	_k=1
	while [ $_k -le 5 ]; do
		_o=$(as_user env DISPLAY=:0 clip-echo --paste) || die "clip-echo --paste failed"
		[ "${_o%% *}" = "bytes=$_last" ] || die "clip-echo --paste read '$_o', not $_last bytes"
		echo "AGENTBENCH-X11: $_o"
		_k=$((_k + 1))
	done
}

# resize_one WxH INDEX
resize_one() {
	klog > /dev/null
	kmark "req $2 $1"
	hostcmd agent-bench resize "${1%x*}" "${1#*x}" "$2" ||
		{ klog; die "resize $2 to $1: no DISPLAY_STATE on the host (see harness.log)"; }
	wait_for 5 "resize $2: clip-echo saw no $1 screen" \
		sh -c "dmesg | grep -q 'agentbench: screen $1\$'"
	kmark "seen-checked $2 $1"
	klog
	env DISPLAY=:0 xrandr | grep -q "current ${1%x*} x ${1#*x}," ||
		die "resize $2: xrandr does not show $1"
	# pva_drm's and the agent's work for the change settles
	sleep 0.5
}

t_resize() {
	_cur=$(env DISPLAY=:0 xrandr | sed -n 's/.*current \([0-9]*\) x \([0-9]*\),.*/\1x\2/p')
	echo "the screen is $_cur"
	# the warm-up goes to a size the screen does not have yet
	_warm=1152x864
	[ "$_cur" != "$_warm" ] || _warm=800x600
	resize_one "$_warm" 0
	_n=1		# (wait_for counts in _i)
	while [ "$_n" -le "$B_resizes" ]; do
		resize_one "$(echo $RESIZE_SIZES | cut -d ' ' -f $(((_n - 1) % 2 + 1)))" "$_n"
		_n=$((_n + 1))
	done
}

# mem_of ROLE PID
mem_of() {
	[ -r "/proc/$2/status" ] || die "$1 (pid $2) is not running"
	_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$2/status")
	_anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$2/status")
	_pss=$(awk '/^Pss:/ { print $2 }' "/proc/$2/smaps_rollup")
	[ -n "$_rss" ] && [ -n "$_pss" ] || die "no memory figures for $1"
	echo "AGENTBENCH-MEM: $1 $2 $_rss $_anon $_pss"
}

t_memory() {
	sleep 3		# idle: nothing moves
	mem_of pva-service "$(cat /tmp/svc.pid)"
	_sup=$(cat /tmp/agent.pid)
	[ "$(cat "/proc/$_sup/comm" 2>/dev/null)" = pva-agent ] ||
		die "pva-agent's supervisor (pid $_sup) is not running"
	_wrk=$(pgrep -P "$_sup" -x pva-agent) ||
		die "pva-agent's worker not found (children of $_sup: $(pgrep -a -P "$_sup"))"
	mem_of pva-agent-supervisor "$_sup"
	mem_of pva-agent-worker "$_wrk"
	mem_of clip-echo "$(cat /tmp/clip-echo.pid)"
}

t_stop() {
	_bad=0
	if [ -f /tmp/vport-echo.pid ]; then
		_e=$(cat /tmp/vport-echo.pid)
		kill -0 "$_e" 2> /dev/null || { echo "the port's echo (cat) died early"; cat /tmp/vport-echo.err; _bad=1; }
		kill "$_e" 2> /dev/null || true
	fi
	kill "$(cat /tmp/clip-echo.pid)" || { echo "clip-echo was not running"; _bad=1; }
	wait_for 10 "clip-echo did not exit" test -s /tmp/clip-echo.rc
	cat /tmp/clip-echo.err
	[ "$(cat /tmp/clip-echo.rc)" = 0 ] || { echo "clip-echo failed"; _bad=1; }
	kill "$(cat /tmp/agent.pid)" || _bad=1
	kill "$(cat /tmp/xorg.pid)" || _bad=1
	sleep 1
	kill "$(cat /tmp/svc.pid)" || _bad=1
	sleep 1
	tail -n 5 /tmp/svc.log /tmp/agent.log
	! grep -E "AddressSanitizer|runtime error" /tmp/svc.log /tmp/agent.log || _bad=1
	# a worker that had to be restarted crashed during the benchmark
	! grep "starting it again" /tmp/agent.log || _bad=1
	rmmod pva_drm
	rmmod pva_core || _bad=1
	return $_bad
}

t_run start t_start
t_run session t_session
t_run vport t_vport
t_run clipboard t_clipboard
t_run x11-alone t_x11_alone
t_run resize t_resize
t_run memory t_memory
t_run stop t_stop
