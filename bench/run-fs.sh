#!/bin/sh
# SPDX-License-Identifier: MIT
# Shared-folder benchmark: pvasf (pva_sf.ko + pva-host's sf service)
# against virtio-9p (cache=mmap and cache=loose) and virtiofs (QEMU's
# virtiofsd, cache=auto), all four mounted in the same guest of one QEMU
# run (TCG) and measured in interleaved rounds (bench/guest/fs-bench.sh).
# Every host directory (the pvasf share, both 9p exports, the virtiofs
# source) lives in one fresh directory under /dev/shm, so the backing
# store is the same tmpfs for all. See docs/benchmarks.md. Run through
# `make bench`, which builds pva-host, the guest programs and the modules.
#
# Usage: bench/run-fs.sh [--help] [ARCH...]   (x86_64 by default; arm64 too)
# Settings (environment):
#   BENCH_FS_ROUNDS   rounds (default 3)
#   BENCH_FS_MIB      sequential file size in MiB (default 256)
#   BENCH_FS_RAND     4 KiB random reads per round, at most (default 5000)
#   BENCH_FS_RANDSEC  ... or this many seconds (default 10)
#   BENCH_FS_FILES    files for create/stat/unlink (default 5000)
#   BENCH_FS_TREE     directory to tar for the untar/find tests
#                     (default /usr/include/linux)
#   BENCH_FS_PVASF    pvasf mount options (default none: cache=strict)
#   BENCH_FS_ONLY     comma-separated subset of pvasf,9p-mmap,9p-loose,virtiofs
#   BENCH_FS_MEM      guest memory in MiB (default 1024)
#   BENCH_FS_TIMEOUT  seconds for one guest (default 1500; a busy
#                     host made a run take 814 s)
# Output: a table on stdout and in build/bench/fs-ARCH.md; logs and the
# guest console in build/bench/fs-vm-ARCH/.
set -eu

ARCHES=
for a in "$@"; do
	case "$a" in
	-h|--help) awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	x86_64|arm64) ARCHES="$ARCHES $a" ;;
	aarch64) ARCHES="$ARCHES arm64" ;;
	*) echo "usage: $0 [--help] [x86_64] [arm64]" >&2; exit 2 ;;
	esac
done
[ -n "$ARCHES" ] || ARCHES=x86_64

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$ROOT/build/bench
KVER=6.1
ROUNDS=${BENCH_FS_ROUNDS:-3}
MIB=${BENCH_FS_MIB:-256}
RAND=${BENCH_FS_RAND:-5000}
RANDSEC=${BENCH_FS_RANDSEC:-10}
FILES=${BENCH_FS_FILES:-5000}
TREE=${BENCH_FS_TREE:-/usr/include/linux}
MEM=${BENCH_FS_MEM:-1024}
TIMEOUT=${BENCH_FS_TIMEOUT:-1500}
VIRTIOFSD=/usr/lib/qemu/virtiofsd

for a in $ARCHES; do
	for f in build/host/pva-host build/host/pva-hostctl \
		 "build/guest/$a/pva-fsbench" "build/modules/$a-$KVER/pva_core.ko"; do
		[ -e "$f" ] || { echo "bench: $f is missing: run 'make bench' (ARCH=$a)" >&2; exit 1; }
	done
done
[ -x "$VIRTIOFSD" ] || { echo "bench: $VIRTIOFSD is missing (package qemu-system-common)" >&2; exit 1; }
[ -d "$TREE" ] || { echo "bench: no directory $TREE to tar" >&2; exit 1; }
mkdir -p "$OUT"

# one directory on the host's /dev/shm for every share: pvasf's (given to
# pva-host with --share), the two 9p exports and virtiofsd's source
TMP=$(mktemp -d /dev/shm/pva-fsbench.XXXXXX)
VFS_PID=
cleanup() {
	if [ -n "$VFS_PID" ]; then
		kill "$VFS_PID" 2>/dev/null || true
		wait "$VFS_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the tree to untar, made here and put in the guest's initramfs
tar cf "$TMP/fs-tree.tar" -C "$(dirname "$TREE")" "$(basename "$TREE")"
echo "bench: tree $TREE: $(tar tf "$TMP/fs-tree.tar" | wc -l) entries, $(($(wc -c < "$TMP/fs-tree.tar") / 1024)) KiB"

APPEND="pvafs.rounds=$ROUNDS pvafs.mib=$MIB pvafs.rand=$RAND pvafs.randsec=$RANDSEC"
APPEND="$APPEND pvafs.files=$FILES"
[ -z "${BENCH_FS_PVASF:-}" ] || APPEND="$APPEND pvafs.pvasf=$BENCH_FS_PVASF"
[ -z "${BENCH_FS_ONLY:-}" ] || APPEND="$APPEND pvafs.only=$BENCH_FS_ONLY"

rc=0
for ARCH in $ARCHES; do
	run=$TMP/$ARCH
	mkdir -p "$run/pvasf" "$run/9p-mmap" "$run/9p-loose" "$run/virtiofs"
	log=$OUT/fs-vm-$ARCH
	rm -rf "$log"
	mkdir -p "$log"
	# virtiofsd serves one VM and exits when it disconnects. sandbox=chroot:
	# no namespaces needed; the share is the only thing it can see either way.
	sock=$run/virtiofsd.sock
	start_virtiofsd() {
		rm -f "$sock"
		"$VIRTIOFSD" --socket-path="$sock" -o source="$run/virtiofs" \
			-o cache=auto -o sandbox=chroot >>"$OUT/fs-virtiofsd-$ARCH.log" 2>&1 &
		VFS_PID=$!
		i=0
		while [ ! -S "$sock" ]; do
			i=$((i + 1))
			[ $i -lt 100 ] && kill -0 "$VFS_PID" 2>/dev/null ||
				{ echo "bench: virtiofsd did not start (see $OUT/fs-virtiofsd-$ARCH.log)" >&2; exit 1; }
			sleep 0.05
		done
	}
	stop_virtiofsd() {
		kill "$VFS_PID" 2>/dev/null || true
		wait "$VFS_PID" 2>/dev/null || true
		VFS_PID=
	}
	rm -rf "$log-peers" "$OUT/fs-virtiofsd-$ARCH.log"
	echo "bench: shared folders, one $ARCH guest of $MEM MiB (TCG), $ROUNDS rounds," \
		"file $MIB MiB, $FILES files; host dirs in $TMP (tmpfs)"
	# The guest RAM is vmtest's shared memory-backend-file, which is what
	# vhost-user-fs needs.
	vm() {	# LOGDIR APPEND
		python3 tests/vm/vmtest.py --arch "$ARCH" --kver "$KVER" \
			--suite "$ROOT/bench/guest/fs-bench.sh" --out "$1" \
			--host "$ROOT/build/host/pva-host" --mem "$MEM" --timeout "$TIMEOUT" \
			--host-args="--share=bench=$run/pvasf" \
			--modules 9p 9pnet_virtio virtiofs virtio_pci \
			--guest-prog "$TMP/fs-tree.tar" \
			--qemu-arg=-fsdev --qemu-arg="local,id=f9m,path=$run/9p-mmap,security_model=passthrough" \
			--qemu-arg=-device --qemu-arg="virtio-9p-pci,fsdev=f9m,mount_tag=9p-mmap" \
			--qemu-arg=-fsdev --qemu-arg="local,id=f9l,path=$run/9p-loose,security_model=passthrough" \
			--qemu-arg=-device --qemu-arg="virtio-9p-pci,fsdev=f9l,mount_tag=9p-loose" \
			--qemu-arg=-chardev --qemu-arg="socket,id=vfs,path=$sock" \
			--qemu-arg=-device --qemu-arg="vhost-user-fs-pci,chardev=vfs,tag=vfs" \
			--append "$2"
	}
	start_virtiofsd
	logs=$log/console.log
	vm "$log" "$APPEND" || rc=$?
	stop_virtiofsd
	# A guest that died (a pvasf oops, a hang) measured nothing after it:
	# the peers get a guest of their own, so there still are figures.
	if ! grep -q PVA-DONE "$log/console.log" && [ -z "${BENCH_FS_ONLY:-}" ]; then
		echo "bench: the $ARCH guest did not finish (see $log): the peers again, without pvasf" >&2
		rm -rf "$run/pvasf"/* "$run/9p-mmap"/* "$run/9p-loose"/* "$run/virtiofs"/*
		start_virtiofsd
		vm "$log-peers" "$APPEND pvafs.only=9p-mmap,9p-loose,virtiofs" || true
		stop_virtiofsd
		logs="$logs $log-peers/console.log"
	fi
	# shellcheck disable=SC2086
	python3 bench/fs_report.py --out "$OUT/fs-$ARCH.md" \
		--note "TCG, $(nproc) host cores; guest $ARCH, $MEM MiB; host dirs on tmpfs (/dev/shm)" \
		$logs || rc=$?
done
exit $rc
