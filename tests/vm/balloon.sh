# SPDX-License-Identifier: MIT
# The memory balloon in a guest: inflate and deflate seen by the guest and
# by the host's RAM file, compaction, statistics, memory pressure, an
# impossible target, free page reporting, unload and host restart while
# inflated. Run by vmtest.py (the guest's RAM is a file pva-host can punch).
. /tests/lib.sh


mem_total_mib() { echo $(($(awk '/^MemTotal/ { print $2 }' /proc/meminfo) / 1024)); }
mem_avail_mib() { echo $(($(awk '/^MemAvailable/ { print $2 }' /proc/meminfo) / 1024)); }

# near A B PERCENT: A within PERCENT % of B
near() {
	d=$(($1 - $2))
	[ $d -lt 0 ] && d=$((-d))
	[ $((d * 100)) -le $(($2 * $3)) ]
}

t_load() {
	load
	# first without free page reporting: it would return the memory the
	# inflate test wants to see returned
	load_balloon reporting=0
	ls /sys/bus/auxiliary/devices/pva_core.balloon.*/driver >/dev/null ||
		die "pva_balloon not bound"
}

t_inflate() {
	# make the guest's free memory real on the host first
	pva-test hog $(($(mem_avail_mib) - 48))
	before=$(mem_total_mib)
	hostcmd ram-mark inflate
	hostcmd hostctl balloon set 256M || die "balloon set failed"
	wait_actual 256
	after=$(mem_total_mib)
	echo "MemTotal $before -> $after MiB"
	near $((before - after)) 256 3 || die "MemTotal dropped by $((before - after)) MiB, not 256"
	hostcmd ram-dropped inflate 243 || die "the host got less than 95% of 256 MiB back"
	hostcmd status-cmp $B.host.refused eq 0 || die "the host refused ranges"
}

t_compact() {
	echo 1 > /proc/sys/vm/compact_memory || die "compaction failed"
	grep -E "compact_|balloon" /proc/vmstat | tr '\n' ' '
	echo
	hostcmd status-cmp $B.actual eq $((256 * MIB)) || die "the balloon changed size"
}

t_stats() {
	hostcmd hostctl balloon stats --interval 0.5 || die "stats request failed"
	sleep 3
	hostcmd status-cmp $B.stats.updates ge 5 || die "too few periodic statistics"
	hostcmd status-cmp $B.stats.age_ms lt 1500 || die "statistics are stale"
	total=$(awk '/^MemTotal/ { print $2 * 1024 }' /proc/meminfo)
	hostcmd status-cmp $B.stats.total eq "$total" || die "stats total is not MemTotal"
	hostcmd hostctl balloon stats --interval 0 || die "stats off failed"
}

t_deflate() {
	before=$(mem_total_mib)
	hostcmd hostctl balloon set 0 || die "balloon set 0 failed"
	wait_actual 0
	after=$(mem_total_mib)
	echo "MemTotal $before -> $after MiB"
	near $((after - before)) 256 3 || die "MemTotal grew by $((after - before)) MiB, not 256"
}

t_pressure() {
	hostcmd hostctl balloon set 300M || die "balloon set failed"
	wait_actual 300
	want=$(($(mem_avail_mib) + 120))
	echo "available $(mem_avail_mib) MiB, hog takes $want MiB"
	pva-test hog $want || die "the hog did not survive"
	dmesg | grep -q "Killed process" && die "the OOM killer killed something"
	hostcmd status-cmp $B.oom_limited eq true || die "no deflate under pressure"
	hostcmd status-cmp $B.actual lt $((300 * MIB)) || die "the balloon did not shrink"
	hostcmd hostctl balloon set 0 || die "balloon set failed"
	wait_actual 0
}

t_impossible() {
	hostcmd hostctl balloon set 2G && die "a target beyond the guest's RAM was accepted"
	hostcmd hostctl balloon set 500M || die "balloon set failed"
	# the guest stops where it cannot give more: either allocation fails
	# (stalled) or it runs short and takes some back (oom_limited)
	i=0
	until hostcmd status-cmp $B.stalled eq true ||
	      hostcmd status-cmp $B.oom_limited eq true; do
		i=$((i + 1))
		[ $i -lt 120 ] || die "neither a stall nor a limit reported"
		sleep 0.5
	done
	hostcmd status-cmp $B.actual lt $((500 * MIB)) || die "not a partial inflate"
	hostcmd status-cmp $B.actual gt $((300 * MIB)) || die "gave up too early"

	hostcmd hostctl balloon status
	pva-test ping 100 64 >/dev/null || die "the guest does not answer while stalled"
	hostcmd hostctl balloon set 0 || die "balloon set failed"
	wait_actual 0
}

t_reporting() {
	rmmod pva_balloon || die "rmmod failed"
	load_balloon
	hostcmd status-cmp $B.guest_features eq 7 || die "free page reporting not in use"
	# let the reporting of what is free now finish first: memory not yet
	# reported is still the host's, and the hog would not grow it
	sleep 3
	hostcmd ram-settle 30 || die "free page reporting did not settle"
	hostcmd ram-mark report
	pva-test hog 200
	hostcmd ram-grown report 150 || die "the hog did not grow the host's RAM"
	i=0
	until hostcmd ram-growth-max report 40; do
		i=$((i + 1))
		[ $i -lt 60 ] || die "freed memory was not returned to the host"
		sleep 0.5
	done
	hostcmd status-cmp $B.host.reported gt 0 || die "nothing reported"
}

t_unload_inflated() {
	before=$(mem_total_mib)
	hostcmd hostctl balloon set 128M || die "balloon set failed"
	wait_actual 128
	rmmod pva_balloon || die "rmmod failed"
	after=$(mem_total_mib)
	near "$after" "$before" 1 || die "MemTotal $after MiB after unload, $before before"
	wait_actual 0 10
	load_balloon
}

t_host_restart() {
	hostcmd hostctl balloon set 128M || die "balloon set failed"
	wait_actual 128
	hostcmd kill-worker || die "kill-worker failed"
	i=0
	until hostcmd status-cmp $B.guest_driver eq true; do
		i=$((i + 1))
		[ $i -lt 40 ] || die "the guest did not come back"
		sleep 0.25
	done
	# the new worker learns the balloon from the guest
	wait_actual 128 20
	hostcmd status-cmp $B.target eq $((128 * MIB)) || die "target not resynchronised"
	hostcmd status-cmp $B.host.inflated ge $((128 * MIB)) || die "ranges not resent"
	hostcmd hostctl balloon set 0 || die "balloon set failed"
	wait_actual 0
}

t_unload() {
	rmmod pva_balloon || die "rmmod pva_balloon failed"
	unload
}

t_run load t_load
t_run inflate t_inflate
t_run compact t_compact
t_run stats t_stats
t_run deflate t_deflate
t_run pressure t_pressure
t_run impossible t_impossible
t_run reporting t_reporting
t_run unload-inflated t_unload_inflated
t_run host-restart t_host_restart
t_run unload t_unload
