#!/bin/sh
# SPDX-License-Identifier: MIT
# The version strings compiled into pva-host, pva-service, pva-agent and
# pva_core agree with VERSION (what the packages, the ISO and the
# Windows builds are stamped with). scripts/set-version.sh changes them.
#   tests/version.sh [--files]
cd "$(dirname "$0")/.." || exit 1
files="host/config.h agent/service/service.h agent/session/agent.h kernel/linux/include/pva.h"
if [ "${1:-}" = --files ]; then
	echo "$files"
	exit 0
fi
want=$(cat VERSION)
pass=0
fail=0
for f in $files; do
	got=$(sed -n -E 's/^#define[[:space:]]+PVA_[A-Z_]*VERSION[A-Z_]*[[:space:]]+"([^"]*)".*/\1/p' "$f")
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
	else
		echo "FAIL $f says ${got:-nothing}, VERSION says $want"
		fail=$((fail + 1))
	fi
done
echo "version: $pass passed, $fail failed"
[ $fail -eq 0 ]
