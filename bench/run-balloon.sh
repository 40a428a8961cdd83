#!/bin/sh
# SPDX-License-Identifier: MIT
# Balloon benchmark: pva's balloon against QEMU's virtio-balloon, in one
# guest of one QEMU run (TCG), the guest's RAM in a shared file. Every
# inflate and deflate is timed on the host (pva-hostctl, or the QEMU
# monitor for virtio), and the RAM file's allocated blocks show what the
# host really got back. See docs/benchmarks.md. Run through `make bench`.
#
# Usage: bench/run-balloon.sh [--help]
# Settings (environment):
#   BENCH_BALLOON_REPS  repetitions (default 3)
#   BENCH_BALLOON_MEM   guest memory in MiB (default 1024)
#   BENCH_BALLOON_MIB   balloon size to inflate to, MiB (default 512)
# Output: a table on stdout and in build/bench/balloon.md; logs in
# build/bench/balloon-vm/.
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
REPS=${BENCH_BALLOON_REPS:-3}
MEM=${BENCH_BALLOON_MEM:-1024}
MIB=${BENCH_BALLOON_MIB:-512}

for f in build/host/pva-host build/host/pva-hostctl \
	 "build/guest/$ARCH/pva-test" "build/modules/$ARCH-6.1/pva_balloon.ko"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run 'make bench'" >&2; exit 1; }
done
mkdir -p "$OUT"
rm -rf "$OUT/balloon-vm"
echo "bench: balloon, one $ARCH guest of $MEM MiB (TCG), $REPS repetitions of $MIB MiB"
rc=0
python3 tests/vm/vmtest.py --arch "$ARCH" --kver 6.1 \
	--suite "$ROOT/bench/guest/balloon-bench.sh" --out "$OUT/balloon-vm" \
	--host "$ROOT/build/host/pva-host" --mem "$MEM" --timeout 900 \
	--monitor --modules virtio_balloon virtio_pci \
	--qemu-arg=-device --qemu-arg=virtio-balloon-pci \
	--append "pvab.reps=$REPS pvab.mib=$MIB" || rc=$?
python3 bench/balloon_report.py "$OUT/balloon-vm/balloon-bench.txt" \
	"$OUT/balloon.md" "TCG, $(nproc) host cores, guest $MEM MiB, $REPS repetitions of $MIB MiB" ||
	rc=$?
exit $rc
