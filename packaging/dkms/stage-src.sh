#!/bin/sh
# SPDX-License-Identifier: MIT
# Stage the DKMS source tree of the pva modules: the files named by
# packaging/dkms/files, plus dkms.conf with the version filled in.
#   packaging/dkms/stage-src.sh DESTDIR [VERSION]
# DESTDIR becomes what /usr/src/pva-VERSION holds (it is emptied first);
# VERSION defaults to the top-level VERSION file. Used by scripts/mkiso.sh
# and scripts/mkdeb.sh, so the ISO and the .deb ship the same tree.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
list=$top/packaging/dkms/files

die() { echo "stage-src: $*" >&2; exit 1; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then die "usage: stage-src.sh DESTDIR [VERSION]"; fi
dest=$1
version=${2:-$(cat "$top/VERSION")}
case $version in
''|*[!0-9A-Za-z.+~-]*) die "bad version '$version'" ;;
esac

rm -rf "$dest"
mkdir -p "$dest"

# The list, one name per line, relative to $top.
names=$(
	cd "$top"
	sed -e 's/#.*//' "$list" | while read -r path pats; do
		[ -n "$path" ] || continue
		if [ -z "$pats" ]; then
			[ -f "$path" ] || die "$path (named in packaging/dkms/files) is missing"
			echo "$path"
			continue
		fi
		[ -d "$path" ] || die "$path (named in packaging/dkms/files) is missing"
		# Build "( -name A -o -name B ... )" for find; set -f keeps the
		# patterns from being expanded by the shell here.
		set -f
		expr=
		for p in $pats; do
			expr="$expr${expr:+ -o} -name $p"
		done
		# shellcheck disable=SC2086 # $expr is split on purpose
		find "$path" -type f \( $expr \) ! -name '*.mod.c' ! -name '.*' | LC_ALL=C sort
		set +f
	done
)
[ -n "$names" ] || die "packaging/dkms/files names no file"

echo "$names" | (cd "$top" && while read -r f; do
	mkdir -p "$dest/$(dirname "$f")"
	cp "$f" "$dest/$f"
	chmod 644 "$dest/$f"
done)

sed "s/@VERSION@/$version/g" "$top/packaging/dkms/dkms.conf" > "$dest/dkms.conf"
chmod 644 "$dest/dkms.conf"
find "$dest" -type d -exec chmod 755 {} +
