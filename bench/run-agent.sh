#!/bin/sh
# SPDX-License-Identifier: MIT
# Desktop-agent benchmark: in one x86_64 host-root guest of one QEMU run
# (TCG) with Xorg on pva_drm, pva-service and pva-agent, measured by
# bench/agent-bench.sh and vmtest.py's agent-bench host action:
#   1. clipboard round trip host -> guest -> host (1 KiB, 1 MiB of text):
#      the host copies, bench/guest/clip-echo pastes it in the guest and
#      copies it back, the host pastes; against the same bytes through a
#      virtserialport that `cat` echoes in the same guest; timed on the
#      host, content checked byte for byte;
#   2. resize: the host's display resize to the session's X screen having
#      the size (RandR's RRScreenChangeNotify seen by clip-echo, guest
#      kernel log clock) and to the session's DISPLAY_STATE on the host;
#   3. memory of pva-service and pva-agent (VmRSS, Pss), idle afterwards.
# See docs/benchmarks.md. Run through `make bench`, which builds pva-host,
# the guest programs, the agent and the modules.
#
# Usage: bench/run-agent.sh [--help]
# Settings (environment):
#   BENCH_AGENT_ROUNDS   clipboard rounds, each size and transport (default 10)
#   BENCH_AGENT_SIZES    comma-separated clipboard sizes in bytes
#                        (default 1024,1048576)
#   BENCH_AGENT_RESIZES  timed resizes (default 12)
#   BENCH_AGENT_ONLY     clipboard transports, subset of clip,vport
#   BENCH_AGENT_TIMEOUT  seconds for the guest (default 900)
#   BENCH_AGENT_HOST     the pva-host to run (default build/host/pva-host,
#                        the optimised build; another one for experiments)
# Output: a table on stdout and in build/bench/agent-x86_64.md; logs, the
# guest console and the host's timings (agent-bench.txt) in
# build/bench/agent-vm-x86_64/.
set -eu

case "${1:-}" in
-h|--help) awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
'') ;;
*) echo "usage: $0 [--help]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$ROOT/build/bench
ARCH=x86_64		# a host-root guest runs the host's own programs
KVER=6.1
ROUNDS=${BENCH_AGENT_ROUNDS:-10}
SIZES=${BENCH_AGENT_SIZES:-1024,1048576}
RESIZES=${BENCH_AGENT_RESIZES:-12}
ONLY=${BENCH_AGENT_ONLY:-clip,vport}
TIMEOUT=${BENCH_AGENT_TIMEOUT:-900}
PVA_HOST=${BENCH_AGENT_HOST:-$ROOT/build/host/pva-host}
for v in "$ROUNDS" "$RESIZES" "$TIMEOUT"; do
	case "$v" in ''|*[!0-9]*) echo "bench: '$v' is not a number" >&2; exit 2 ;; esac
done
case "$SIZES" in ''|*[!0-9,]*) echo "bench: BENCH_AGENT_SIZES '$SIZES' is not a list of byte counts" >&2; exit 2 ;; esac
case ",$ONLY," in *,clip,*|*,vport,*) ;; *) echo "bench: BENCH_AGENT_ONLY '$ONLY' names neither clip nor vport" >&2; exit 2 ;; esac
[ "$(uname -m)" = x86_64 ] || { echo "bench: the agent benchmark runs the host's x86_64 programs in the guest" >&2; exit 1; }

# (vmtest.py builds and installs pva-service and pva-agent into the guest)
for f in "$PVA_HOST" build/host/pva-hostctl \
	 "build/modules/$ARCH-$KVER/pva_core.ko" "build/modules/$ARCH-$KVER/pva_drm.ko"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run 'make bench'" >&2; exit 1; }
done
for x in Xorg xrandr setpriv; do
	command -v "$x" > /dev/null || { echo "bench: no $x on this host (scripts/setup.sh installs it)" >&2; exit 1; }
done
mkdir -p "$OUT"
# The guest runs it from the host's root (over 9p): the host's libraries
WARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
gcc -std=c11 -D_GNU_SOURCE -O2 $WARN -o "$OUT/clip-echo" \
	bench/guest/clip-echo.c -lX11 -lXfixes -lXrandr

# QEMU listens on the virtserialport's socket; vmtest connects to it
TMP=$(mktemp -d /tmp/pva-agentbench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

APPEND="printk.devkmsg=on pvaagent.rounds=$ROUNDS pvaagent.sizes=$SIZES"
APPEND="$APPEND pvaagent.resizes=$RESIZES pvaagent.only=$ONLY"
log=$OUT/agent-vm-$ARCH
echo "bench: desktop agent, one $ARCH guest (TCG): clipboard $SIZES bytes," \
	"pva against a virtserialport, $ROUNDS rounds; $RESIZES resizes; memory"
rc=0
python3 tests/vm/vmtest.py --arch "$ARCH" --kver "$KVER" \
	--suite "$ROOT/bench/agent-bench.sh" --out "$log" \
	--host "$PVA_HOST" --timeout "$TIMEOUT" \
	--guest-prog "$OUT/clip-echo" \
	--qemu-arg=-device --qemu-arg=virtio-serial-pci \
	--qemu-arg=-chardev --qemu-arg="socket,id=agentvp,path=$TMP/vport.sock,server=on,wait=off" \
	--qemu-arg=-device --qemu-arg=virtserialport,chardev=agentvp,name=pva.agentbench \
	--append "$APPEND" || rc=$?
python3 bench/agent_report.py --out "$OUT/agent-$ARCH.md" \
	--note "TCG, $(nproc) host cores; ${BENCH_AGENT_HOST:+pva-host $PVA_HOST (experiment); }guest $ARCH, Linux $KVER, -smp 2; Xorg (modesetting) on pva_drm; $ROUNDS rounds; $RESIZES resizes" \
	"$log" || rc=$?
exit $rc
