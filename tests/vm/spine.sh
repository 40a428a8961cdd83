# SPDX-License-Identifier: MIT
# The spine's guest test suite: transport, negotiation, rings, resets,
# version skew, malformed shared memory. Run by vmtest.py.
# vmtest-host-args: --test-service selftest --test-service sf
# vmtest-boots: 2
. /tests/lib.sh

t_load() {
	load
	expect_attr protocol_version 1.0
	expect_attr features 0x3
	[ -c /dev/pva ] || die "no /dev/pva"
	hostcmd status-field guest.status running || die "host: guest not running"
	hostcmd status-field guest.protocol 1.0 || die "host: wrong protocol"
	hostcmd status-field "services[control].guest_info.kernel" "$(uname -r)" ||
		die "host: wrong guest kernel"
	hostcmd status-field "services[control].guest_info.arch" "$(uname -m)" ||
		die "host: wrong guest arch"
	grep -q "^0 control 1 " "$(pva_sysdir)/services" || die "no control service"
	grep -q "^1 echo 5 " "$(pva_sysdir)/services" || die "no echo channel"
	grep -q " selftest 6 " "$(pva_sysdir)/services" || die "no selftest service"
}

# The API for feature drivers, through pva_selftest.ko and the host's
# selftest service; auxiliary devices survive a host restart.
t_selftest() {
	insmod /modules/pva_selftest.ko || die "insmod pva_selftest failed"
	d=$(ls -d /sys/bus/auxiliary/devices/pva_core.selftest.* | head -n 1)
	[ -n "$d" ] && [ -e "$d/driver" ] || die "no bound selftest device"
	ls -d /sys/bus/auxiliary/devices/pva_core.sf.* >/dev/null ||
		die "no sf device for the placeholder service"
	grep -q "ups 1 downs 0 " "$d/stats" || die "stats: $(cat "$d/stats")"
	echo 500 > "$d/echo" || die "echo calls failed"
	echo 3000 > "$d/kick" || die "events did not arrive"
	grep -q "events 3000 bad_events 0" "$d/stats" || die "stats: $(cat "$d/stats")"
	echo 1 > "$d/unknown" || die "an unknown call did not fail with EOPNOTSUPP"
	ino=$(ls -di "$d" | cut -d ' ' -f 1)
	hostcmd kill-worker || die "kill-worker failed"
	i=0
	until grep -q "ups 2 downs 1 " "$d/stats"; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "no down/up after the restart: $(cat "$d/stats")"
		sleep 0.1
	done
	[ "$(ls -di "$d" | cut -d ' ' -f 1)" = "$ino" ] || die "device re-created"
	echo 200 > "$d/echo" || die "echo calls after the restart failed"
	rmmod pva_core 2>/dev/null && die "pva_core unloaded under pva_selftest"
	rmmod pva_selftest || die "rmmod pva_selftest failed"
}

t_errors() {
	pva-test errors
}

t_ping_guest() {
	pva-test ping 100000 64 1
}

t_ping_guest_window() {
	pva-test ping 20000 1024 32
}

t_ping_host() {
	hostcmd hostctl ping -c 100000 -s 64 -t 10000 || die "host ping failed"
}

t_ping_host_window() {
	hostcmd hostctl ping -c 20000 -s 1024 -w 64 || die "windowed host ping failed"
}

t_maxsize() {
	pva-test maxsize
	# the control ring (64 KiB) carries at most 32744 bytes
	hostcmd hostctl ping -c 50 -s 32744 || die "max-size host ping failed"
	hostcmd hostctl ping -c 1 -s 32745 && die "oversized host ping accepted"
	true
}

t_backpressure() {
	pva-test backpressure
}

t_stream() {
	pva-test sink 33554432 65536
	pva-test source 33554432 65536
	pva-test source 1000000 1000
	# batch mode: many small messages per system call, every byte checked
	pva-test sink 8388608 64 65536
	pva-test source 8388608 64 65536
	pva-test source 1000000 1000 4096
}

t_batch() {
	pva-test batch
}

# The host's 100 ms safety net must not have been needed: every doorbell
# arrived (a lost one would show here before it shows as a stall).
t_no_lost_doorbells() {
	hostcmd status-field host.tick_rescues 0 || die "the host tick had to rescue a ring"
}

t_reload() {
	for i in 1 2 3; do
		unload
		hostcmd status-field guest.status reset || die "host did not see the unload"
		load
		pva-test ping 1000 64 1 >/dev/null
	done
	# busy: cannot unload while a file is open
	exec 3<>/dev/pva
	rmmod pva_core 2>/dev/null && die "unloaded with /dev/pva open"
	exec 3>&-
	unload
	load
}

t_unbind_busy() {
	# remove the device under an open, bound file
	d=$(pva_sysdir)
	dev=$(basename "$d")
	pva-test ping 1 64 >/dev/null
	exec 3<>/dev/pva
	echo "$dev" > /sys/bus/pci/drivers/pva_core/unbind
	exec 3>&-
	[ -c /dev/pva ] && die "/dev/pva still there after unbind"
	echo "$dev" > /sys/bus/pci/drivers/pva_core/bind
	wait_state running
	pva-test ping 1000 64 4 >/dev/null
}

t_host_kill() {
	pva-test host-restart kill-worker
	hostcmd hostctl ping -c 1000 || die "host ping after the restart failed"
}

t_host_restart() {
	pva-test host-restart restart-worker
}

t_skew_new_guest() {
	unload
	load proto_major_max=2 proto_minor=9 features=0xffffffffffffffff
	expect_attr protocol_version 1.0
	expect_attr features 0x3
	hostcmd status-field guest.features 0x3 || die "host: wrong features"
	pva-test ping 2000 64 4 >/dev/null
	unload
	load
}

t_skew_old_guest() {
	unload
	load features=0
	expect_attr features 0x0
	hostcmd status-field guest.features 0x0 || die "host: wrong features"
	hostcmd status-min "services[control].tx_msgs" 0
	pva-test ping 5000 64 1 >/dev/null
	pva-test backpressure >/dev/null
	hostcmd hostctl ping -c 2000 || die "host ping without event index failed"
	unload
	load
}

t_skew_new_host() {
	hostcmd hostctl debug proto 1 3 7 0xff00000000000003 || die "switch failed"
	sleep 1
	wait_state running
	expect_attr protocol_version 1.0
	expect_attr features 0x3
	pva-test ping 2000 64 4 >/dev/null
}

t_skew_old_host() {
	hostcmd hostctl debug proto 1 1 0 0 || die "switch failed"
	sleep 1
	wait_state running
	expect_attr features 0x0
	pva-test ping 5000 64 1 >/dev/null
	pva-test backpressure >/dev/null
	hostcmd hostctl ping -c 2000 || die "host ping failed"
}

t_skew_incompatible() {
	dmesg_mark skew
	hostcmd hostctl debug proto 2 3 0 3 || die "switch failed"
	wait_state failed
	dmesg_since skew "no common protocol version"
	hostcmd status-field guest.status failed || die "host: guest not failed"
	hostcmd hostctl debug proto 1 1 0 3 || die "switch failed"
	wait_state running
	expect_attr features 0x3
	pva-test ping 1000 64 1 >/dev/null
}

# corrupt WHAT PATTERN: the guest refuses with PATTERN, then recovers
corrupt() {
	dmesg_mark "$1"
	hostcmd hostctl debug corrupt "$1" || die "corrupt $1 failed"
	wait_state failed
	dmesg_since "$1" "$2"
	hostcmd hostctl debug corrupt restore || die "restore failed"
	wait_state running
	pva-test ping 1000 64 1 >/dev/null
}

t_bad_magic() {
	corrupt magic "bad magic"
}

t_bad_major() {
	corrupt major "no common protocol version"
}

t_bad_table() {
	corrupt table "service table entry"
}

# The guest finds a corrupt ring, stops, and the host resets the device.
ring_corrupt() {
	dmesg_mark "$1"
	gen=$(cat "$(pva_sysdir)/generation")
	hostcmd hostctl debug corrupt "$1" || die "corrupt $1 failed"
	sleep 1
	wait_state running
	[ "$(cat "$(pva_sysdir)/generation")" != "$gen" ] || die "no reset"
	dmesg_since "$1" "$2"
	hostcmd status-min host.guest_ring_failures 1 || die "host did not see the failure"
	pva-test ping 1000 64 1 >/dev/null
}

t_bad_ring_index() {
	ring_corrupt ring-index "corrupt host->guest ring"
}

t_bad_msg_len() {
	ring_corrupt msg-len "corrupt host->guest ring"
}

t_probe_bad_magic() {
	dmesg_mark probe
	hostcmd hostctl debug corrupt magic || die "corrupt failed"
	sleep 1
	unload
	insmod /modules/pva_core.ko || die "insmod failed"
	sleep 1
	pva_sysdir >/dev/null && die "bound to a device with a bad magic"
	dmesg_since probe "not a pva device"
	hostcmd hostctl debug corrupt restore || die "restore failed"
	unload
	load
}

# Random writes to everything the host owns, 300 times, while a channel is
# busy: the guest may refuse the device but must never oops, and recovers.
t_chaos() {
	( while :; do pva-test ping 500 64 4; done ) >/dev/null 2>&1 &
	bg=$!
	i=1
	while [ $i -le 300 ]; do
		hostcmd hostctl debug corrupt random $i ||
			{ kill $bg; die "corrupt random $i failed"; }
		i=$((i + 1))
	done
	kill $bg
	wait $bg 2>/dev/null
	hostcmd hostctl debug corrupt restore || die "restore failed"
	wait_state running 20
	pva-test ping 2000 64 4
	hostcmd hostctl ping -c 1000 || die "host ping after chaos failed"
}

t_polling() {
	unload
	load force_poll=1
	pva-test ping 3000 64 1
	hostcmd hostctl ping -c 3000 || die "host ping in polling mode failed"
	pva-test backpressure >/dev/null
	unload
	load
}

# The guest reboots with the driver loaded and busy; the new boot's driver
# must negotiate afresh with the same host. t_run never sees this one end.
t_reboot() {
	load
	pva-test ping 200 64 4 >/dev/null
	hostcmd status-field guest.status running || die "host: guest not running"
	echo "PVA-RESULT: reboot PASS" > /dev/console
	dump_dmesg > /dev/console
	( sleep 0.2; pva-test ping 100000 64 1 ) >/dev/null 2>&1 &
	sleep 1
	reboot -f
}

t_after_reboot() {
	# the old boot's driver said goodbye at shutdown (else still running)
	hostcmd status-field guest.status reset || die "no goodbye at shutdown"
	load
	hostcmd status-field guest.status running || die "host: guest not running"
	pva-test ping 2000 64 4
	hostcmd hostctl ping -c 2000 || die "host ping failed"
	unload
}

t_unload() {
	unload
	hostcmd status-field guest.status reset || die "host did not see the unload"
}

if [ "$PVA_BOOT" = 1 ]; then
	t_run load t_load
	t_run selftest t_selftest
	t_run errors t_errors
	t_run ping-guest t_ping_guest
	t_run ping-guest-window t_ping_guest_window
	t_run ping-host t_ping_host
	t_run ping-host-window t_ping_host_window
	t_run maxsize t_maxsize
	t_run backpressure t_backpressure
	t_run stream t_stream
	t_run batch t_batch
	t_run no-lost-doorbells t_no_lost_doorbells
	t_run reload t_reload
	t_run unbind-busy t_unbind_busy
	t_run host-kill t_host_kill
	t_run host-restart t_host_restart
	t_run skew-new-guest t_skew_new_guest
	t_run skew-old-guest t_skew_old_guest
	t_run skew-new-host t_skew_new_host
	t_run skew-old-host t_skew_old_host
	t_run skew-incompatible t_skew_incompatible
	t_run bad-magic t_bad_magic
	t_run bad-major t_bad_major
	t_run bad-table t_bad_table
	t_run bad-ring-index t_bad_ring_index
	t_run bad-msg-len t_bad_msg_len
	t_run probe-bad-magic t_probe_bad_magic
	t_run chaos t_chaos
	t_run polling t_polling
	t_run unload t_unload
	t_run reboot t_reboot
else
	t_run after-reboot t_after_reboot
fi
