#!/bin/sh
# SPDX-License-Identifier: MIT
# Transport benchmark: pva's rings against virtio-serial, in one guest of
# one QEMU run (TCG). See docs/benchmarks.md. Run through `make bench`,
# which builds pva-host, pva-test and pva_core.ko first.
#
# Usage: bench/run.sh [--help]
# Settings (environment):
#   BENCH_REPS          repetitions of every measurement (default 7)
#   BENCH_SMP           guest CPUs (default 2)
#   BENCH_RTT64_N       round trips with 64-byte messages (default 10000)
#   BENCH_RTT64K_N      round trips with 64 KiB messages (default 3000)
#   BENCH_G2H64_BYTES   guest->host bytes in 64-byte messages (32 MiB)
#   BENCH_G2H64K_BYTES  guest->host bytes in 64 KiB messages (512 MiB)
#   BENCH_H2G64_BYTES   host->guest bytes in 64-byte messages (64 MiB)
#   BENCH_H2G64K_BYTES  host->guest bytes in 64 KiB messages (512 MiB)
# (each run takes about 1-3 s here; scale them to the machine)
# Output: a table on stdout and in build/bench/results.md; logs and the
# guest console in build/bench/vm/.
set -eu

case "${1:-}" in
-h|--help) awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
'') ;;
*) echo "usage: $0 [--help]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$ROOT/build/bench
ARCH=$(uname -m | sed 's/aarch64/arm64/')
KVER=6.1
REPS=${BENCH_REPS:-7}
SMP=${BENCH_SMP:-2}

for f in build/host/pva-host build/host/pva-hostctl \
	 "build/guest/$ARCH/pva-test" "build/modules/$ARCH-$KVER/pva_core.ko"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run 'make bench'" >&2; exit 1; }
done

mkdir -p "$OUT"
WARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
gcc -std=c11 -D_GNU_SOURCE -O2 $WARN -static \
	-o "$OUT/vport-bench" bench/guest/vport-bench.c
gcc -std=c11 -D_GNU_SOURCE -O2 $WARN -o "$OUT/vport-host" bench/vport-host.c

TMP=$(mktemp -d /tmp/pva-bench.XXXXXX)
SOCK=$TMP/vport.sock
"$OUT/vport-host" -v "$SOCK" 2>"$OUT/vport-host.log" &
VPORT_PID=$!
cleanup() {
	kill "$VPORT_PID" 2>/dev/null || true
	wait "$VPORT_PID" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
i=0
while [ ! -S "$SOCK" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "bench: vport-host did not start" >&2; exit 1; }
	sleep 0.05
done

# The bench suite's parameters travel on the guest's kernel command line.
APPEND="pvab.reps=$REPS pvab.rtt64_n=${BENCH_RTT64_N:-10000}"
APPEND="$APPEND pvab.rtt64k_n=${BENCH_RTT64K_N:-3000}"
APPEND="$APPEND pvab.g2h64_bytes=${BENCH_G2H64_BYTES:-33554432}"
APPEND="$APPEND pvab.g2h64k_bytes=${BENCH_G2H64K_BYTES:-536870912}"
APPEND="$APPEND pvab.h2g64_bytes=${BENCH_H2G64_BYTES:-67108864}"
APPEND="$APPEND pvab.h2g64k_bytes=${BENCH_H2G64K_BYTES:-536870912}"
APPEND="$APPEND pvab.g2h64b_bytes=${BENCH_G2H64B_BYTES:-134217728}"
APPEND="$APPEND pvab.h2g64b_bytes=${BENCH_H2G64B_BYTES:-268435456}"

echo "bench: one $ARCH guest (TCG, -smp $SMP), $REPS repetitions; pva-host: build/host/pva-host"
rc=0
python3 tests/vm/vmtest.py --arch "$ARCH" --kver "$KVER" \
	--suite "$ROOT/bench/guest/bench.sh" --out "$OUT/vm" \
	--host "$ROOT/build/host/pva-host" --smp "$SMP" --timeout 540 \
	--modules virtio_console virtio_pci --guest-prog "$OUT/vport-bench" \
	--qemu-arg=-device --qemu-arg=virtio-serial-pci \
	--qemu-arg=-chardev --qemu-arg="socket,id=vpb,path=$SOCK" \
	--qemu-arg=-device --qemu-arg=virtserialport,chardev=vpb,name=pva.bench \
	--append "$APPEND" || rc=$?

# figures from a guest with debugging options on would be meaningless
if grep -q 'Command line:.*\(slub_debug\|kasan\|debug_pagealloc\)' "$OUT/vm/console.log"; then
	echo "bench: WARNING: the guest kernel ran with debugging options:" >&2
	grep -o 'Command line:.*' "$OUT/vm/console.log" >&2
	rc=1
fi
python3 bench/report.py "$OUT/vm/console.log" "$OUT/results.md" \
	"TCG, $(nproc) host cores, guest -smp $SMP, $REPS repetitions" || rc=$?
exit $rc
