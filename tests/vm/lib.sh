# SPDX-License-Identifier: MIT
# Helpers for guest test suites (busybox sh). See vmtest.py.

# Ask the harness to act on the host; returns its exit code.
# The console is used directly: a test's own output goes to a log file.
hostcmd() {
	# The length lets the harness see a line that kernel messages cut
	# into; it then answers PVA-HOST-RETRY and nothing was done.
	_cmd="$*"
	_try=0
	while [ $_try -lt 5 ]; do
		echo "PVA-HOST: $_cmd PVA-LEN ${#_cmd}" > /dev/console
		read -r _answer < /dev/console
		case "$_answer" in
		*PVA-HOST-RETRY*) _try=$((_try + 1)); continue ;;
		esac
		_rc=${_answer##*PVA-HOST-DONE }
		case "$_rc" in
		''|*[!0-9]*) return 99 ;;
		esac
		return "$_rc"
	done
	return 99
}

# t_run NAME FUNCTION: run one test and report it. Output is kept in
# /tmp/NAME.log and shown on failure.
t_run() {
	_name=$1
	shift
	echo "== $_name"
	if [ -n "${PVA_LIVE:-}" ]; then
		# the demo: output as it happens
		if ( set -e; "$@" ) 2>&1; then
			echo "PVA-RESULT: $_name PASS"
		else
			echo "PVA-RESULT: $_name FAIL (see above)"
		fi
		return
	fi
	if ( set -e; "$@" ) > "/tmp/$_name.log" 2>&1; then
		cat "/tmp/$_name.log"
		echo "PVA-RESULT: $_name PASS"
	else
		_rc=$?
		cat "/tmp/$_name.log"
		if [ "$_rc" = 77 ]; then
			echo "PVA-RESULT: $_name SKIP"
		else
			echo "PVA-RESULT: $_name FAIL $(grep -v '^PVA-HOST' "/tmp/$_name.log" | tail -n 1)"
		fi
	fi
}

die() {
	echo "$*"
	exit 1
}

# The pva PCI device's sysfs directory (bound to pva_core), or nothing.
pva_sysdir() {
	for d in /sys/bus/pci/drivers/pva_core/0000:*; do
		[ -d "$d" ] && { echo "$d"; return 0; }
	done
	return 1
}

# wait_state STATE [SECONDS]
wait_state() {
	_i=0
	_max=$((${2:-15} * 10))
	while [ $_i -lt $_max ]; do
		_d=$(pva_sysdir) && [ "$(cat "$_d/state")" = "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	_d=$(pva_sysdir) && echo "state is $(cat "$_d/state"), expected $1"
	return 1
}

# expect_attr NAME VALUE
expect_attr() {
	_v=$(cat "$(pva_sysdir)/$1")
	[ "$_v" = "$2" ] || die "$1 is '$_v', expected '$2'"
}

# dmesg_since MARK PATTERN: the kernel logged PATTERN after MARK
dmesg_mark() {
	echo "pva-test-mark $1" > /dev/kmsg
}
dmesg_since() {
	dmesg | sed -n "/pva-test-mark $1/,\$p" | grep -q "$2" ||
		die "no '$2' in the kernel log after mark $1"
}

load() {
	insmod /modules/pva_core.ko "$@" || die "insmod pva_core $* failed"
	wait_state running
}

unload() {
	rmmod pva_core || die "rmmod pva_core failed"
}

# The kernel log, for the harness to check (before a reboot, at the end).
dump_dmesg() {
	echo PVA-DMESG-BEGIN
	dmesg
	echo PVA-DMESG-END
}

# ---- the balloon ----

MIB=1048576
B=services[balloon].balloon

# wait_actual MIB [SECONDS]: the host sees the balloon at MIB MiB
wait_actual() {
	_i=0
	while [ $_i -lt $((${2:-90} * 2)) ]; do
		hostcmd status-cmp $B.actual eq $(($1 * MIB)) && return 0
		sleep 0.5
		_i=$((_i + 1))
	done
	die "the balloon did not reach $1 MiB"
}

# load_balloon [PARAM=VALUE]...: insmod pva_balloon, wait for the host
load_balloon() {
	insmod /modules/pva_balloon.ko "$@" || die "insmod pva_balloon $* failed"
	_i=0
	until hostcmd status-cmp $B.guest_driver eq true; do
		_i=$((_i + 1))
		[ $_i -lt 40 ] || die "the host never heard from the guest driver"
		sleep 0.25
	done
}

# wait_for SECONDS WHAT COMMAND...: poll COMMAND every 0.25 s until it
# succeeds; after SECONDS die with WHAT (WHAT "x": return 1 instead)
wait_for() {
	_max=$(($1 * 4))
	_what=$2
	shift 2
	_i=0
	until "$@" > /dev/null 2>&1; do
		_i=$((_i + 1))
		if [ $_i -ge $_max ]; then
			[ "$_what" = x ] && return 1
			die "$_what"
		fi
		sleep 0.25
	done
}

# xorg_conf: /tmp/xorg.conf for Xorg's modesetting driver on pva_drm's
# /dev/dri/card0 (no input hotplug, no GLX, no acceleration under TCG)
xorg_conf() {
	cat > /tmp/xorg.conf <<-EOF
	Section "ServerFlags"
		Option "AutoAddDevices" "false"
		Option "AutoEnableDevices" "false"
	EndSection
	Section "Extensions"
		Option "GLX" "Disable"
	EndSection
	Section "Device"
		Identifier "pva"
		Driver "modesetting"
		Option "kmsdev" "/dev/dri/card0"
		Option "AccelMethod" "none"
	EndSection
	EOF
}
