#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every fuzzer for SECONDS (default 600) on its corpus.
# Usage: tests/fuzz/run.sh [SECONDS]
set -eu
secs=${1:-600}
top=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
pass=0
for f in "$top"/build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=$top/build/fuzz/corpus/$name
	mkdir -p "$corpus"
	echo "== $name ($secs s)"
	if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$top/build/fuzz/$name-" \
		"$corpus" > "$top/build/fuzz/$name.log" 2>&1; then
		grep -E "stat::number_of_executed_units|cov:" "$top/build/fuzz/$name.log" | tail -n 2
		pass=$((pass + 1))
	else
		tail -n 40 "$top/build/fuzz/$name.log"
		echo "FAIL $name (crash input in build/fuzz/$name-*)"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
