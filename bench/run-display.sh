#!/bin/sh
# SPDX-License-Identifier: MIT
# Display benchmark: pva_drm (pva-host's display service) against QEMU's
# bochs-display and virtio-gpu-pci, all three cards in the same guest of
# one QEMU run (TCG), measured in alternating rounds by
# bench/display-bench.sh: full-screen update throughput (page flips, and
# front-buffer DIRTYFB as Xorg does) at 1920x1080, and the time from a
# host-side resize (pva: pva-hostctl display resize; virtio-gpu: RFB
# SetDesktopSize to QEMU's own VNC server) to the new preferred mode in
# the guest. See docs/benchmarks.md. Run through `make bench`, which
# builds pva-host, the guest programs and the modules.
#
# Usage: bench/run-display.sh [--help] [ARCH...]  (x86_64 by default; arm64 too)
# Settings (environment):
#   BENCH_DISPLAY_ROUNDS   throughput rounds (default 5)
#   BENCH_DISPLAY_FRAMES   frames per throughput run (default 120)
#   BENCH_DISPLAY_MODE     throughput mode (default 1920x1080)
#   BENCH_DISPLAY_RESIZES  timed resizes per driver (default 10)
#   BENCH_DISPLAY_ONLY     comma-separated subset of pva,bochs,virtio-gpu
#   BENCH_DISPLAY_TIMEOUT  seconds for one guest (default 600)
# Output: a table on stdout and in build/bench/display-ARCH.md; logs and
# the guest console in build/bench/display-vm-ARCH/.
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
ROUNDS=${BENCH_DISPLAY_ROUNDS:-5}
FRAMES=${BENCH_DISPLAY_FRAMES:-120}
MODE=${BENCH_DISPLAY_MODE:-1920x1080}
RESIZES=${BENCH_DISPLAY_RESIZES:-10}
TIMEOUT=${BENCH_DISPLAY_TIMEOUT:-600}
W=${MODE%x*}
H=${MODE#*x}
case "$W$H" in
''|*[!0-9]*) echo "bench: BENCH_DISPLAY_MODE '$MODE' is not WxH" >&2; exit 2 ;;
esac

for a in $ARCHES; do
	for f in build/host/pva-host build/host/pva-hostctl \
		 "build/guest/$a/pva-drmtest" "build/modules/$a-$KVER/pva_core.ko" \
		 "build/modules/$a-$KVER/pva_drm.ko"; do
		[ -e "$f" ] || { echo "bench: $f is missing: run 'make bench' (ARCH=$a)" >&2; exit 1; }
	done
done
mkdir -p "$OUT"

# QEMU's VNC server listens here (a short path: UNIX socket names are short)
TMP=$(mktemp -d /tmp/pva-dispbench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

APPEND="pvadisp.rounds=$ROUNDS pvadisp.frames=$FRAMES pvadisp.mode=$MODE"
APPEND="$APPEND pvadisp.resizes=$RESIZES"
[ -z "${BENCH_DISPLAY_ONLY:-}" ] || APPEND="$APPEND pvadisp.only=$BENCH_DISPLAY_ONLY"

rc=0
for ARCH in $ARCHES; do
	log=$OUT/display-vm-$ARCH
	echo "bench: display, one $ARCH guest (TCG): pva_drm, bochs-display, virtio-gpu-pci;" \
		"$ROUNDS rounds of $FRAMES frames at $MODE, $RESIZES resizes each"
	# bochs-display: 64 MiB of VRAM, so fbcon's buffer and both of
	# pva-drmtest's 1920x1080 buffers stay in VRAM together (with the
	# default 16 MiB, TTM moves buffers in and out of VRAM on every flip).
	# The VNC server shows virtio-gpu's console: its SetDesktopSize
	# messages go to virtio-gpu (ui_info), as a viewer's window resize would.
	python3 tests/vm/vmtest.py --arch "$ARCH" --kver "$KVER" \
		--suite "$ROOT/bench/display-bench.sh" --out "$log" \
		--host "$ROOT/build/host/pva-host" --timeout "$TIMEOUT" \
		--modules drm drm_kms_helper drm_shmem_helper bochs virtio_pci virtio_gpu \
		--qemu-arg=-device --qemu-arg="bochs-display,id=bochs,xres=$W,yres=$H,vgamem=64M" \
		--qemu-arg=-device --qemu-arg="virtio-gpu-pci,id=vgpu,xres=$W,yres=$H" \
		--qemu-arg=-vnc --qemu-arg="unix:$TMP/vnc-$ARCH.sock,display=vgpu" \
		--append "$APPEND" || rc=$?
	python3 bench/display_report.py --out "$OUT/display-$ARCH.md" \
		--note "TCG, $(nproc) host cores; guest $ARCH, Linux $KVER; $ROUNDS rounds of $FRAMES frames at $MODE; $RESIZES resizes per driver" \
		"$log/console.log" || rc=$?
done
exit $rc
