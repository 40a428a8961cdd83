#!/bin/sh
# SPDX-License-Identifier: MIT
# Everything `make check` runs, after scripts/setup.sh: builds for both
# architectures and every supported kernel (W=1, sparse), checkpatch, unit
# tests under ASan/UBSan, fuzzer smoke runs, CLI tests, man pages, the
# Windows driver and agent under wine, the ISO, and the VM tests on x86_64
# and arm64 (the last one installs from the ISO). Ends with "check: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logdir=build/check
rm -rf "$logdir"
mkdir -p "$logdir"
pass=0
fail=0
failed=""
start=$(date +%s)

# step NAME COMMAND...: run, log to build/check/NAME.log, count.
step() {
	name=$1
	shift
	t0=$(date +%s)
	printf '%-28s ' "$name"
	if "$@" > "$logdir/$name.log" 2>&1; then
		echo "ok ($(($(date +%s) - t0)) s)"
		pass=$((pass + 1))
	else
		echo "FAIL ($(($(date +%s) - t0)) s), log: $logdir/$name.log"
		tail -n 30 "$logdir/$name.log" | sed 's/^/    /'
		fail=$((fail + 1))
		failed="$failed $name"
	fi
}

# Kernel modules for ARCH/KVER with W=1 and sparse (not on the newest
# kernel: it wants a newer sparse than Debian 12 has): any diagnostic fails.
modules() {
	sparse=C=2
	[ "$2" = newest ] && sparse=
	make modules ARCH="$1" KVER="$2" $sparse > "$logdir/modules-$1-$2.out" 2>&1 ||
		{ cat "$logdir/modules-$1-$2.out"; return 1; }
	if grep -E "warning:|error:" "$logdir/modules-$1-$2.out"; then
		return 1
	fi
	echo "built $(ls build/modules/"$1-$2")"
}

vm() {
	python3 tests/vm/vmtest.py --arch "$1" --kver "$2" ${3:+--suite "$3"}
}

step build-host make -j2 host host-asan
step build-guest-x86_64 make -j2 guest ARCH=x86_64
step build-guest-arm64 make -j2 guest ARCH=arm64
step modules-x86_64-6.1 modules x86_64 6.1
step modules-x86_64-6.12 modules x86_64 6.12
step modules-arm64-6.1 modules arm64 6.1
step modules-arm64-6.12 modules arm64 6.12
step modules-x86_64-newest modules x86_64 newest
step modules-arm64-newest modules arm64 newest
step checkpatch tests/checkpatch.sh
step unit make -j2 unit
step fuzz-smoke sh -c 'make -j2 fuzzers && tests/fuzz/run.sh ${FUZZ_SMOKE_SECONDS:-20}'
step cli tests/cli.sh
step agent-x11 python3 tests/agent/x11_test.py
step agent-wayland python3 tests/agent/wayland_test.py
[ -x tests/man.sh ] && step man tests/man.sh
step version tests/version.sh
step windows-driver make windows-driver-test
step windows-agent make windows-agent-test
step iso make iso
step vm-x86_64-6.1 vm x86_64 6.1
step vm-arm64-6.1 vm arm64 6.1
step vm-x86_64-6.12 vm x86_64 6.12
step balloon-x86_64-6.1 vm x86_64 6.1 balloon.sh
step balloon-arm64-6.1 vm arm64 6.1 balloon.sh
step fs-x86_64-6.1 vm x86_64 6.1 fs.sh
step fs-arm64-6.1 vm arm64 6.1 fs.sh
step fs-x86_64-6.12 vm x86_64 6.12 fs.sh
step display-x86_64-6.1 vm x86_64 6.1 display.sh
step display-arm64-6.1 vm arm64 6.1 display.sh
step display-x86_64-6.12 vm x86_64 6.12 display.sh
step display-arm64-6.12 vm arm64 6.12 display.sh
step xorg-x86_64-6.1 vm x86_64 6.1 display-xorg.sh
step xorg-arm64-6.1 vm arm64 6.1 display-xorg.sh
step agent-x86_64-6.1 vm x86_64 6.1 agent.sh
step agent-arm64-6.1 vm arm64 6.1 agent-basic.sh
step agent-x86_64-6.12 vm x86_64 6.12 agent-basic.sh
step control-x86_64-6.1 vm x86_64 6.1 control.sh
step install-x86_64-6.1 python3 tests/vm/vmtest.py --arch x86_64 --kver 6.1 --suite install.sh --timeout 1700

echo "check took $(($(date +%s) - start)) s${failed:+; failed:$failed}"
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
