# SPDX-License-Identifier: MIT
# Guest suite of the balloon benchmark (bench/run-balloon.sh): pva's balloon
# and virtio-balloon in one guest, alternating. Before every inflate the
# guest touches its free memory, so the host has something to get back.
# The host times each move and measures its RAM file ("bench-balloon").
# vmtest-slub-debug: off
. /tests/lib.sh

B_reps=3
B_mib=512
for _w in $(cat /proc/cmdline); do
	case "$_w" in
	pvab.reps=*) B_reps=${_w#*=} ;;
	pvab.mib=*) B_mib=${_w#*=} ;;
	esac
done

touch_free() {
	pva-test hog $(($(awk '/^MemAvailable/ { print int($2 / 1024) }' /proc/meminfo) - 64)) >/dev/null
}

# one TRANSPORT REP: inflate to B_mib, deflate to 0
one() {
	touch_free
	hostcmd bench-balloon "inflate-$2" "$1" "$B_mib" || die "$1 inflate failed"
	hostcmd bench-balloon "deflate-$2" "$1" 0 || die "$1 deflate failed"
}

t_setup() {
	load
	# free page reporting off for both: it would return memory early
	insmod /modules/pva_balloon.ko reporting=0 deflate_on_oom=0 ||
		die "insmod pva_balloon failed"
	ls -d /sys/bus/virtio/drivers/virtio_balloon/virtio* >/dev/null ||
		die "virtio-balloon is not bound"
	sleep 1
}

t_run setup t_setup
_r=1
while [ "$_r" -le "$B_reps" ]; do
	if [ $((_r % 2)) = 1 ]; then
		t_run "pva-$_r" one pva "$_r"
		t_run "virtio-$_r" one virtio "$_r"
	else
		t_run "virtio-$_r" one virtio "$_r"
		t_run "pva-$_r" one pva "$_r"
	fi
	_r=$((_r + 1))
done
