#!/bin/sh
# SPDX-License-Identifier: MIT
# checkpatch.pl (from the kernel source, unpacked by scripts/setup.sh) on
# every kernel and protocol source file. Fails on any warning or error.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cp=${CHECKPATCH:-${PVA_CACHE:-/var/cache/pva}/checkpatch/scripts/checkpatch.pl}
[ -x "$cp" ] || { echo "no checkpatch.pl at $cp: run scripts/setup.sh"; exit 1; }
cd "$top" || exit 1
files=$(find kernel protocol -name '*.[ch]' | sort)
out=$("$cp" --no-tree --quiet --show-types -f $files 2>&1)
if [ -n "$out" ]; then
	echo "$out"
	echo "checkpatch: $(echo "$files" | wc -w) files, problems found"
	exit 1
fi
echo "checkpatch: $(echo "$files" | wc -w) files clean"
