# SPDX-License-Identifier: MIT
# The demo (make demo): pva in a guest, seen from both sides.
# vmtest-host-args: --test-service selftest
. /tests/lib.sh

t_demo() {
	echo "--- guest: loading pva_core"
	load
	d=$(pva_sysdir)
	echo "--- guest: $d"
	for a in state protocol_version features generation driver_version; do
		echo "    $a: $(cat "$d/$a")"
	done
	echo "    services (id name type vector tx rx full):"
	sed 's/^/      /' "$d/services"
	ls -l /dev/pva
	echo "--- host: pva-hostctl status"
	hostcmd hostctl status || die "status failed"
	echo "--- host: pva-hostctl ping -c 10000 (host -> guest driver -> host)"
	hostcmd hostctl ping -c 10000 || die "ping failed"
	echo "--- guest: 10000 echo round trips through /dev/pva"
	pva-test ping 10000 64 1
	echo "--- guest: 64 MiB each way, every byte checked"
	pva-test sink 67108864 65536
	pva-test source 67108864 65536
	echo "--- host: the worker is killed; the guest carries on"
	pva-test host-restart kill-worker
	hostcmd hostctl status || die "status failed"

	echo "--- guest: loading pva_balloon; touching free memory"
	load_balloon reporting=0
	pva-test hog $(($(awk '/^MemAvailable/ { print int($2 / 1024) }' /proc/meminfo) - 48))
	free -m
	echo "--- host: pva-hostctl balloon set 256M"
	hostcmd hostctl balloon set 256M || die "balloon set failed"
	wait_actual 256
	hostcmd hostctl balloon stats --interval 1 >/dev/null
	hostcmd hostctl balloon status || die "balloon status failed"
	echo "--- guest: 256 MiB less"
	free -m
	echo "--- host: pva-hostctl balloon set 0"
	hostcmd hostctl balloon set 0 || die "balloon set failed"
	wait_actual 0
	hostcmd hostctl balloon status || die "balloon status failed"
	free -m
}

PVA_LIVE=1 t_run demo t_demo
