#!/bin/sh
# SPDX-License-Identifier: MIT
# Idempotent set-up of a Debian 12 machine for building, testing and demoing
# pva: apt packages, kernel headers for the supported kernels (6.1 and 6.12,
# x86_64 and arm64), guest kernel images and busybox for the test VMs, and
# checkpatch.pl. Everything that is not an apt install lands in $PVA_CACHE.
#
# Usage: scripts/setup.sh            (as root, or with sudo available)
set -eu

PVA_CACHE=${PVA_CACHE:-/var/cache/pva}
STAMP_VERSION=3	# bump when this script's result changes

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
log() { printf 'setup: %s\n' "$*" >&2; }

stamp=$PVA_CACHE/setup.stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$STAMP_VERSION" ] &&
   [ -z "${PVA_SETUP_FORCE:-}" ]; then
	log "already set up ($stamp); PVA_SETUP_FORCE=1 to redo"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	log "adding the arm64 architecture (cross headers, guest busybox)"
	$SUDO dpkg --add-architecture arm64
fi
log "apt-get update"
$SUDO apt-get update -qq

# The 6.1 ABI is whatever linux-headers-amd64 points at today; 6.12 is the
# newest linux-headers-6.12.*+deb12 that bookworm's security suite carries.
k61=$(apt-cache depends linux-headers-amd64 |
	sed -n 's/.*Depends: linux-headers-\(6\.1\.[0-9.-]*\)-amd64$/\1/p' | head -n1)
k612=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
	awk '{print $1}' | sed 's/^linux-headers-//; s/-amd64$//' | sort -V | tail -n1)
[ -n "$k61" ] || { log "cannot find the 6.1 kernel ABI"; exit 1; }
[ -n "$k612" ] || { log "cannot find a 6.12 kernel for bookworm"; exit 1; }
log "kernels: 6.1 = $k61, 6.12 = $k612"

pkgs="build-essential make pkg-config python3 cpio gzip xz-utils file
	qemu-system-x86 qemu-system-arm qemu-utils
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu
	clang llvm libclang-rt-14-dev sparse
	libjson-c-dev libcmocka-dev busybox-static
	linux-headers-$k61-amd64 linux-headers-$k612-amd64
	linux-kbuild-6.1 linux-source-6.1"
log "apt-get install"
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null

$SUDO mkdir -p "$PVA_CACHE"
$SUDO chown "$(id -u):$(id -g)" "$PVA_CACHE"
dl=$PVA_CACHE/debs
mkdir -p "$dl"

# fetch PKG... : apt-get download into $dl unless already there
fetch() {
	for p in "$@"; do
		n=$(echo "$p" | sed 's/:.*//')
		a=$(echo "$p" | sed -n 's/.*://p')
		ls "$dl/${n}_"*"_${a:-*}.deb" >/dev/null 2>&1 && continue
		(cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root "$p")
	done
}
# unpack ARCH KVER: guest kernel image + modules and, for arm64, headers
unpack_kernel() {
	arch=$1 kver=$2
	root=$PVA_CACHE/kernel-$kver-$arch
	[ -f "$root/.done" ] && return 0
	log "unpacking $kver $arch into $root"
	rm -rf "$root"; mkdir -p "$root"
	img=linux-image-$kver-$arch
	[ "$arch" = arm64 ] && img=linux-image-$kver-arm64-unsigned
	[ "$arch" = amd64 ] && img=linux-image-$kver-amd64-unsigned
	fetch "$img:$arch"
	dpkg -x "$dl/${img}_"*"_$arch.deb" "$root"
	if [ "$arch" = arm64 ]; then
		fetch "linux-headers-$kver-arm64:arm64" "linux-headers-$kver-common"
		dpkg -x "$dl/linux-headers-$kver-arm64_"*"_arm64.deb" "$root"
		dpkg -x "$dl/linux-headers-$kver-common_"*"_all.deb" "$root"
		# The headers' scripts symlink points into the (amd64, Multi-Arch:
		# foreign) linux-kbuild package installed on this machine.
		kb=$(readlink "$root/usr/src/linux-headers-$kver-arm64/scripts" |
			sed 's|.*/lib/\(linux-kbuild-[^/]*\)/.*|\1|')
		mkdir -p "$root/usr/lib"
		ln -sfn "/usr/lib/$kb" "$root/usr/lib/$kb"
		[ -d "/usr/lib/$kb" ] || $SUDO apt-get install -y -qq \
			--no-install-recommends "$kb" >/dev/null
	fi
	touch "$root/.done"
}
unpack_kernel amd64 "$k61"
unpack_kernel arm64 "$k61"
unpack_kernel amd64 "$k612"
unpack_kernel arm64 "$k612"

# busybox for the arm64 guests (the amd64 one is installed)
if [ ! -x "$PVA_CACHE/busybox-arm64" ]; then
	fetch busybox-static:arm64
	t=$(mktemp -d)
	dpkg -x "$dl/busybox-static_"*"_arm64.deb" "$t"
	cp "$t/bin/busybox" "$PVA_CACHE/busybox-arm64"
	rm -rf "$t"
fi
cp /bin/busybox "$PVA_CACHE/busybox-amd64"

# checkpatch.pl and the data files it reads, from the 6.1 source tarball
if [ ! -x "$PVA_CACHE/checkpatch/scripts/checkpatch.pl" ]; then
	log "extracting checkpatch.pl"
	mkdir -p "$PVA_CACHE/checkpatch"
	tar -C "$PVA_CACHE/checkpatch" --strip-components=1 \
		-xf /usr/src/linux-source-6.1.tar.xz \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi

cat > "$PVA_CACHE/kernels.mk" <<EOM
# written by scripts/setup.sh
PVA_K61 := $k61
PVA_K612 := $k612
EOM
echo "$STAMP_VERSION" > "$stamp"
log "done"
