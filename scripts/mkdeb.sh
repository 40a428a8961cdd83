#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the Debian packages of the pva guest additions (make deb):
#   build/deb/pva-dkms_VERSION_all.deb     the module sources for DKMS
#   build/deb/pva-guest_VERSION_amd64.deb  pva-service, pva-agent,
#   build/deb/pva-guest_VERSION_arm64.deb  pva-mount-shares, units, rules
#
# Usage: scripts/mkdeb.sh [--arch x86_64|arm64]...    (default: both)
#
# The packages are put together with dpkg-deb from the same trees as the
# ISO (packaging/dkms/stage-src.sh, make install-guest), with maintainer
# scripts written by hand in packaging/deb/ (no debian/ source package and
# no debhelper needed on the build machine; the scripts follow dh_dkms's
# and dh_installsystemd's conventions). VERSION is the version.
#
# Environment: MAKE (make), PVA_VERSION (instead of VERSION, for tests),
# PVA_MAINTAINER (the Maintainer field), SOURCE_DATE_EPOCH (file dates;
# default: VERSION's mtime, so two builds of one tree are the same).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

die() { echo "mkdeb: $*" >&2; exit 1; }
say() { echo "mkdeb: $*"; }

archs=
while [ $# -gt 0 ]; do
	case $1 in
	--arch)
		[ $# -ge 2 ] || die "--arch needs x86_64 or arm64"
		case $2 in
		x86_64|amd64) archs="$archs x86_64" ;;
		arm64|aarch64) archs="$archs arm64" ;;
		*) die "unknown architecture '$2' (x86_64 or arm64)" ;;
		esac
		shift ;;
	-h|--help)
		sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'
		exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
[ -n "$archs" ] || archs="x86_64 arm64"

version=${PVA_VERSION:-$(cat VERSION)}
case $version in
''|*[!0-9A-Za-z.+~-]*) die "bad version '$version' (VERSION)" ;;
esac
maintainer=${PVA_MAINTAINER:-pva developers <pva-devel@example.org>}
: "${SOURCE_DATE_EPOCH:=$(stat -c %Y VERSION)}"
export SOURCE_DATE_EPOCH
MAKE=${MAKE:-make}

for tool in dpkg-deb dpkg-shlibdeps readelf gzip md5sum; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install dpkg-dev binutils)"
done

out=$top/build/deb
work=$out/work
rm -rf "$work"
mkdir -p "$work"
rm -f "$out"/pva-dkms_*.deb "$out"/pva-guest_*.deb
umask 022

# Debian's name of an architecture.
debarch() { case $1 in x86_64) echo amd64 ;; arm64) echo arm64 ;; esac; }
native=$(dpkg --print-architecture)

# strip(1) for an architecture: the native one or the cross binutils.
strip_for() {
	if [ "$(debarch "$1")" = "$native" ]; then
		echo strip
	elif [ "$1" = arm64 ]; then
		echo aarch64-linux-gnu-strip
	else
		echo x86_64-linux-gnu-strip
	fi
}

# The changelog every package carries (Debian policy 12.7), made from
# VERSION: the project keeps no separate Debian changelog.
write_changelog() { # PACKAGE-DOC-DIR
	{
		echo "pva ($version) unstable; urgency=medium"
		echo
		echo "  * pva $version."
		echo
		echo " -- $maintainer  $(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
	} | gzip -9n > "$1/changelog.gz"
}

# Control fields and files common to both packages, then the .deb.
# pack ROOT CONTROL-TEMPLATE PACKAGE SCRIPT-DIR DEBARCH [DEPENDS]
pack() {
	root=$1 template=$2 pkg=$3 scripts=$4 arch=$5 depends=${6:-}
	doc=$root/usr/share/doc/$pkg
	mkdir -p "$doc" "$root/DEBIAN"
	cp packaging/deb/copyright "$doc/copyright"
	write_changelog "$doc"
	# Files and directories: a clean set of modes, whatever the checkout's.
	find "$root" -type d -exec chmod 755 {} +
	find "$root" -type f ! -perm -u+x -exec chmod 644 {} +
	find "$root" -type f -perm -u+x -exec chmod 755 {} +
	size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
	sed -e "s/@VERSION@/$version/g" -e "s/@ARCH@/$arch/g" \
		-e "s/@SIZE@/$size/g" -e "s|@MAINTAINER@|$maintainer|g" \
		-e "s#@DEPENDS@#$depends#g" "$template" > "$root/DEBIAN/control"
	for s in preinst postinst prerm postrm; do
		[ -f "$scripts/$s" ] || continue
		sed "s/@VERSION@/$version/g" "$scripts/$s" > "$root/DEBIAN/$s"
		chmod 755 "$root/DEBIAN/$s"
	done
	# Files in /etc are conffiles (policy 10.7); md5sums has the others.
	(cd "$root" && find etc -type f 2>/dev/null | sed 's|^|/|' | LC_ALL=C sort) > "$root/DEBIAN/conffiles"
	[ -s "$root/DEBIAN/conffiles" ] || rm -f "$root/DEBIAN/conffiles"
	(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print |
		sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) > "$root/DEBIAN/md5sums"
	chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
	[ ! -f "$root/DEBIAN/conffiles" ] || chmod 644 "$root/DEBIAN/conffiles"
	find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	deb=$out/${pkg}_${version}_$arch.deb
	dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
	say "$deb"
}

# ---- pva-dkms: /usr/src/pva-VERSION, the tree install.sh also copies
root=$work/pva-dkms
packaging/dkms/stage-src.sh "$root/usr/src/pva-$version" "$version"
pack "$root" packaging/deb/pva-dkms/control pva-dkms packaging/deb/pva-dkms all

# ---- pva-guest, per architecture, from make install-guest
# The tree of one architecture in $work/ARCH/debian/pva-guest, where
# dpkg-shlibdeps expects a package's files.
guest_tree() { # ARCH
	d=$work/$1
	if [ -d "$d/debian/pva-guest" ]; then return 0; fi
	mkdir -p "$d/debian"
	$MAKE -s --no-print-directory -C "$top" install-guest ARCH="$1" DESTDIR="$d/debian/pva-guest" >&2 ||
		die "make install-guest ARCH=$1 failed"
	s=$(strip_for "$1")
	command -v "$s" >/dev/null 2>&1 || die "$s is missing (binutils for $1)"
	for b in usr/sbin/pva-service usr/bin/pva-agent; do
		"$s" --remove-section=.comment --remove-section=.note "$d/debian/pva-guest/$b"
	done
	# man pages are compressed in packages (policy 12.1)
	find "$d/debian/pva-guest/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +
	printf 'Source: pva\n\nPackage: pva-guest\nArchitecture: any\n' > "$d/debian/control"
}

# The shared libraries a program links, sorted.
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | LC_ALL=C sort; }
# The newest glibc symbol version it needs.
glibc_max() { readelf -V "$1" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1; }

# Depends of pva-guest: dpkg-shlibdeps on the binaries of the build
# machine's architecture (its libraries are installed here with their
# symbols files). The other architecture's binaries come from the same
# Debian release (the arm64 sysroot of scripts/mkroot-arm64.sh), so the
# same Depends hold for them; that is checked: same libraries, same
# glibc symbol versions, or the build stops.
native_arch=$(case $native in amd64) echo x86_64 ;; arm64) echo arm64 ;; *) echo "" ;; esac)
[ -n "$native_arch" ] || die "build machine architecture $native: need amd64 or arm64"
guest_tree "$native_arch"
nd=$work/$native_arch
depends=$(cd "$nd" && dpkg-shlibdeps -O -e debian/pva-guest/usr/sbin/pva-service \
		-e debian/pva-guest/usr/bin/pva-agent 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies for pva-service and pva-agent"

for arch in $archs; do
	guest_tree "$arch"
	d=$work/$arch
	if [ "$arch" != "$native_arch" ]; then
		for b in usr/sbin/pva-service usr/bin/pva-agent; do
			if [ "$(needed "$d/debian/pva-guest/$b")" != "$(needed "$nd/debian/pva-guest/$b")" ] ||
			   [ "$(glibc_max "$d/debian/pva-guest/$b")" != "$(glibc_max "$nd/debian/pva-guest/$b")" ]; then
				die "$arch's $b links other libraries than $native_arch's: cannot reuse its Depends"
			fi
		done
	fi
	# the package's root is a copy: dpkg-deb wants DEBIAN/ in it
	root=$work/pva-guest-$arch
	rm -rf "$root"
	cp -a "$d/debian/pva-guest" "$root"
	pack "$root" packaging/deb/pva-guest/control pva-guest packaging/deb/pva-guest \
		"$(debarch "$arch")" "$depends"
done
