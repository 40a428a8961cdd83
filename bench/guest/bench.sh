# SPDX-License-Identifier: MIT
# Guest suite of the transport benchmark (bench/run.sh, via vmtest.py):
# the same measurements through pva (/dev/pva, pva-test) and through
# virtio-serial (vport-bench), alternating, each a test of its own so
# vmtest.py shows progress. Results are "PVA-BENCH: TRANSPORT METRIC REP
# key=value..." lines on the console. Parameters come from the kernel
# command line as pvab.NAME=NUMBER (see run.sh).
#
# No slab debugging in a benchmark guest: virtio-serial allocates per write.
# vmtest-slub-debug: off
. /tests/lib.sh

# defaults, normally overridden by run.sh
B_reps=3
B_rtt64_n=2000
B_rtt64k_n=300
B_g2h64_bytes=8388608
B_g2h64k_bytes=134217728
B_h2g64_bytes=8388608
B_g2h64b_bytes=8388608
B_h2g64b_bytes=8388608
B_h2g64k_bytes=134217728
for _w in $(cat /proc/cmdline); do
	case "$_w" in
	pvab.*=*)
		_k=${_w#pvab.}
		_k=${_k%%=*}
		_v=${_w#*=}
		case "$_k$_v" in
		*[!a-z0-9_]*) die "bad parameter $_w" ;;
		esac
		eval "B_$_k=$_v"
		;;
	esac
done

# bench_one TRANSPORT METRIC REP COMMAND...
bench_one() {
	local t=$1 m=$2 r=$3 out res
	shift 3
	out=$("$@") || die "$* failed: $out"
	res=$(echo "$out" | grep '^RESULT ') || die "$*: no RESULT line: $out"
	echo "PVA-BENCH: $t $m $r ${res#RESULT }"
}

# run METRIC REP pva-test/vport-bench arguments
run() {
	local m=$1 r=$2
	shift 2
	# alternate which transport goes first, so neither always runs
	# right after the other's warm-up
	if [ $((r % 2)) = 1 ]; then
		t_run "pva-$m-$r" bench_one pva "$m" "$r" pva-test "$@"
		t_run "vport-$m-$r" bench_one virtio-serial "$m" "$r" vport-bench "$@"
	else
		t_run "vport-$m-$r" bench_one virtio-serial "$m" "$r" vport-bench "$@"
		t_run "pva-$m-$r" bench_one pva "$m" "$r" pva-test "$@"
	fi
}

t_setup() {
	load
	# the virtio-serial port: drivers loaded by vmtest.py, name from QEMU
	vport-bench rtt 10 64
}

t_run setup t_setup

_r=1
while [ "$_r" -le "$B_reps" ]; do
	run rtt_64 "$_r" rtt "$B_rtt64_n" 64
	run rtt_64k "$_r" rtt "$B_rtt64k_n" 65536
	run g2h_64 "$_r" sink "$B_g2h64_bytes" 64
	run g2h_64k "$_r" sink "$B_g2h64k_bytes" 65536
	run h2g_64 "$_r" source "$B_h2g64_bytes" 64
	run h2g_64k "$_r" source "$B_h2g64k_bytes" 65536
	# pva's batch mode, 64 KiB of records per system call (no peer mode)
	t_run "pva-g2h_64b-$_r" bench_one pva g2h_64b "$_r" \
		pva-test sink "$B_g2h64b_bytes" 64 65536
	t_run "pva-h2g_64b-$_r" bench_one pva h2g_64b "$_r" \
		pva-test source "$B_h2g64b_bytes" 64 65536
	_r=$((_r + 1))
done
