#!/bin/sh
# SPDX-License-Identifier: MIT
# Man pages: every program under build/host, build/guest/*/ and build/agent/*/ has a page
# in docs/man (NAME.SECTION), and every page in docs/man renders with
# `groff -man -ww -z` without a warning and names itself in its .TH line.
# Run after `make host guest`. Ends with "man: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

if ! command -v groff > /dev/null 2>&1; then
	echo "FAIL: groff not found (apt-get install groff-base)"
	echo "man: 0 passed, 1 failed"
	exit 1
fi

# Every program has a page. Guest programs are built once per
# architecture: each name is checked once.
seen=" "
for prog in build/host/* build/guest/*/* build/agent/*/pva-*; do
	if [ ! -f "$prog" ] || [ ! -x "$prog" ]; then continue; fi
	name=${prog##*/}
	case "$seen" in *" $name "*) continue ;; esac
	seen="$seen$name "
	set -- docs/man/"$name".[1-9]*
	if [ -f "$1" ]; then
		ok
	else
		bad "$prog has no page docs/man/$name.<section>"
	fi
done
if [ "$seen" = " " ]; then
	bad "no programs under build/host or build/guest/*/: run make host guest"
fi

# Every page renders cleanly.
for page in docs/man/*; do
	[ -f "$page" ] || continue
	base=${page##*/}
	name=${base%.*}
	sect=${base##*.}
	if [ "$name" = "$base" ]; then
		bad "$page: not named NAME.SECTION"
		continue
	fi
	warn=$(groff -man -ww -z "$page" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$warn" ]; then
		bad "$page: groff exit $rc: $warn"
		continue
	fi
	th=$(sed -n 's/^\.TH[ 	]\{1,\}\([^ 	]*\)[ 	]\{1,\}\([^ 	]*\).*/\1 \2/p' "$page" |
		head -n 1)
	want="$(echo "$name" | tr '[:lower:]' '[:upper:]') $sect"
	if [ "$th" != "$want" ]; then
		bad "$page: .TH says '$th', expected '$want'"
		continue
	fi
	ok
done

echo "man: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
