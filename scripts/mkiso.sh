#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the pva guest additions ISO (make iso): build/pva-guest.iso, the
# disc the host attaches to a VM (scripts/pva-attach-iso) and the guest
# installs from (install.sh; docs/install.md).
#
# Usage: scripts/mkiso.sh [--tree DIR]
#   --tree DIR   only lay out the ISO's files in DIR (tests), no ISO
#
# The ISO (Rock Ridge for Linux, with the files' modes; Joliet for
# Windows; volume id PVA_GUEST_<VERSION>):
#   install.sh autorun.sh README.txt VERSION SHA256SUMS
#   src/pva-VERSION/     the DKMS source tree (packaging/dkms/stage-src.sh)
#   linux/x86_64/        make install-guest ARCH=x86_64, stripped, plus
#   linux/aarch64/         usr/sbin/pva-install and its man page
#   deb/                 build/deb/*.deb of this version (make deb first)
#   man/                 the guest's man pages
#   windows/             pva-setup.exe (make windows-installer; when built)
#                        and README.txt; autorun.inf at the top offers it
# SHA256SUMS has every other file; install.sh checks it first.
#
# Needs xorriso (Debian package xorriso). Environment: MAKE, PVA_VERSION
# (instead of VERSION, for tests), SOURCE_DATE_EPOCH (dates in the ISO;
# default VERSION's mtime).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

die() { echo "mkiso: $*" >&2; exit 1; }

tree_only=
while [ $# -gt 0 ]; do
	case $1 in
	--tree)
		[ $# -ge 2 ] || die "--tree needs a directory"
		tree_only=$2; shift ;;
	-h|--help) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

version=${PVA_VERSION:-$(cat VERSION)}
case $version in
''|*[!0-9A-Za-z.+~-]*) die "bad version '$version' (VERSION)" ;;
esac
: "${SOURCE_DATE_EPOCH:=$(stat -c %Y VERSION)}"
export SOURCE_DATE_EPOCH
MAKE=${MAKE:-make}
umask 022

iso=$top/build/pva-guest.iso
if [ -n "$tree_only" ]; then
	case $tree_only in /*) root=$tree_only ;; *) root=$top/$tree_only ;; esac
else
	command -v xorriso >/dev/null 2>&1 || die "xorriso is missing (apt-get install xorriso)"
	root=$top/build/iso/root
fi

debs="pva-dkms_${version}_all.deb pva-guest_${version}_amd64.deb pva-guest_${version}_arm64.deb"
for d in $debs; do
	[ -f "build/deb/$d" ] || die "build/deb/$d is missing: run make deb (or scripts/mkdeb.sh) first"
done

rm -rf "$root"
mkdir -p "$root"

# Text files with the version filled in.
subst() { sed "s/@VERSION@/$version/g" "$1" > "$2"; chmod "$3" "$2"; }
subst packaging/iso/install.sh "$root/install.sh" 755
cp packaging/iso/autorun.sh "$root/autorun.sh"
chmod 755 "$root/autorun.sh"
subst packaging/iso/README.txt "$root/README.txt" 644
echo "$version" > "$root/VERSION"

# The module sources, as /usr/src/pva-VERSION will hold them.
packaging/dkms/stage-src.sh "$root/src/pva-$version" "$version"

# The userspace of each architecture, as installed (paths from /).
native=$(uname -m | sed 's/aarch64/arm64/')
for a in x86_64 arm64; do
	dir=$root/linux/$(echo $a | sed 's/arm64/aarch64/')
	$MAKE -s --no-print-directory -C "$top" install-guest ARCH=$a DESTDIR="$dir" >&2 ||
		die "make install-guest ARCH=$a failed"
	if [ "$a" = "$native" ]; then s="strip"
	elif [ "$a" = arm64 ]; then s=aarch64-linux-gnu-strip
	else s=x86_64-linux-gnu-strip; fi
	command -v "$s" >/dev/null 2>&1 || die "$s is missing (binutils for $a)"
	for b in usr/sbin/pva-service usr/bin/pva-agent; do
		"$s" --remove-section=.comment --remove-section=.note "$dir/$b"
	done
	# the installer itself, for --uninstall without the disc
	install -D -m 755 "$root/install.sh" "$dir/usr/sbin/pva-install"
	install -D -m 644 docs/man/pva-install.8 "$dir/usr/share/man/man8/pva-install.8"
done

mkdir -p "$root/deb" "$root/man" "$root/windows"
for d in $debs; do
	cp "build/deb/$d" "$root/deb/$d"
done
for m in pva-install.8 pva-service.8 pva-agent.1 pva-mount-shares.8; do
	cp "docs/man/$m" "$root/man/$m"
done
subst packaging/iso/windows-README.txt "$root/windows/README.txt" 644
if [ -f build/windows/pva-setup.exe ]; then
	cp build/windows/pva-setup.exe "$root/windows/pva-setup.exe"
	# Windows offers it in AutoPlay (it runs nothing by itself)
	printf '[autorun]\r\nopen=windows\\pva-setup.exe\r\nlabel=pva guest additions %s\r\n' \
		"$version" > "$root/autorun.inf"
else
	echo "mkiso: no build/windows/pva-setup.exe: the disc has no Windows installer" >&2
fi

# Modes on the disc are these (Rock Ridge keeps them): readable files,
# executable programs and scripts, no write bits.
find "$root" -type d -exec chmod 755 {} +
find "$root" -type f ! -perm -u+x -exec chmod 644 {} +
find "$root" -type f -perm -u+x -exec chmod 755 {} +

(cd "$root" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort |
	xargs sha256sum) > "$root/SHA256SUMS"
chmod 644 "$root/SHA256SUMS"
find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

if [ -n "$tree_only" ]; then
	echo "mkiso: $root"
	exit 0
fi

volid=$(echo "PVA_GUEST_$version" | tr 'a-z.+~-' 'A-Z____' | cut -c1-32)
rm -f "$iso"
xorriso -report_about WARNING -as mkisofs -quiet -o "$iso" -V "$volid" -r -J -joliet-long \
	-publisher "pva" -appid "pva guest additions $version" -sysid LINUX \
	"$root"
echo "mkiso: $iso ($volid)"
