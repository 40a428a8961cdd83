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
STAMP_VERSION=14	# bump when this script's result changes

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
	libjson-c-dev libcmocka-dev busybox-static libpng-dev libdrm-dev libvncserver-dev
	linux-headers-$k61-amd64 linux-headers-$k612-amd64
	linux-kbuild-6.1 linux-source-6.1
	flex bison bc libelf-dev libssl-dev kmod groff-base
	xserver-xorg-core x11-xserver-utils x11-utils xvfb xauth xclip
	sway wl-clipboard seatd xwayland
	libx11-dev libxrandr-dev libxfixes-dev libwayland-dev wayland-protocols
	libsystemd-dev libudev-dev systemd udev dbus libpam-systemd
	xorriso dpkg-dev dkms lintian shellcheck devscripts
	gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev libz-mingw-w64-dev
	wine wine64 nsis osslsigncode"
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
	# the package's postinst would run depmod: test guests that mount
	# these modules load them with modprobe and udev
	depmod -b "$root" "$kver-$arch"
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
for t in "$k61-amd64" "$k61-arm64" "$k612-amd64" "$k612-arm64"; do
	[ -f "$PVA_CACHE/kernel-$t/lib/modules/$t/modules.dep" ] ||
		depmod -b "$PVA_CACHE/kernel-$t" "$t"
done

# busybox for the arm64 guests (the amd64 one is installed)
if [ ! -x "$PVA_CACHE/busybox-arm64" ]; then
	fetch busybox-static:arm64
	t=$(mktemp -d)
	dpkg -x "$dl/busybox-static_"*"_arm64.deb" "$t"
	cp "$t/bin/busybox" "$PVA_CACHE/busybox-arm64"
	rm -rf "$t"
fi
cp /bin/busybox "$PVA_CACHE/busybox-amd64"

# libdrm for the static arm64 guest programs (the amd64 one is installed),
# unpacked rather than installed: nothing of arm64 lands in /usr
if [ ! -f "$PVA_CACHE/libdrm-arm64/.done" ]; then
	fetch libdrm-dev:arm64
	rm -rf "$PVA_CACHE/libdrm-arm64"
	dpkg -x "$dl/libdrm-dev_"*"_arm64.deb" "$PVA_CACHE/libdrm-arm64"
	touch "$PVA_CACHE/libdrm-arm64/.done"
fi

# checkpatch.pl and the data files it reads, from the 6.1 source tarball
if [ ! -x "$PVA_CACHE/checkpatch/scripts/checkpatch.pl" ]; then
	log "extracting checkpatch.pl"
	mkdir -p "$PVA_CACHE/checkpatch"
	tar -C "$PVA_CACHE/checkpatch" --strip-components=1 \
		-xf /usr/src/linux-source-6.1.tar.xz \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi

# The newest kernel Debian has (sid), for a compile check: its source,
# Debian's config and the Module.symvers of its headers package, fetched
# with a private apt state so the machine's own sources are never touched.
newest_kernel() {
	apt_dir=$PVA_CACHE/apt-sid
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
	uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
	[ -n "$uri" ] || uri=$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list)
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri sid main" \
		> "$apt_dir/sources.list"
	set -- -o Dir::Etc::sourcelist="$apt_dir/sources.list" \
		-o Dir::Etc::sourceparts=- -o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::Cache::archives="$apt_dir/archives" -o APT::Sandbox::User=root \
		-o APT::Architecture=amd64 -o APT::Architectures::=amd64 \
		-o APT::Architectures::=arm64
	apt-get "$@" update -qq
	src=$(apt-cache "$@" search --names-only '^linux-source-[0-9.]+$' |
		awk '{ print $1 }' | sort -V | tail -n 1)
	ver=${src#linux-source-}
	hdr=$(apt-cache "$@" search --names-only "^linux-headers-$ver[.0-9]*\\+deb[0-9]+-amd64\$" |
		awk '{ print $1 }' | sort -V | tail -n 1)
	hdr_arm64=$(apt-cache "$@" search --names-only "^linux-headers-$ver[.0-9]*\\+deb[0-9]+-arm64\$" |
		awk '{ print $1 }' | sort -V | tail -n 1)
	[ -n "$src" ] && [ -n "$hdr" ] && [ -n "$hdr_arm64" ] ||
		{ log "no newest kernel found in sid"; return 1; }
	tree=$PVA_CACHE/linux-newest/linux-source-$ver
	if [ ! -f "$tree/.pva-done" ]; then
		log "preparing $src for compile checks"
		(cd "$apt_dir" && apt-get "$@" download -qq "$src" "linux-config-$ver" "$hdr")
		rm -rf "$PVA_CACHE/linux-newest"
		mkdir -p "$PVA_CACHE/linux-newest"
		dpkg-deb --fsys-tarfile "$apt_dir/${src}_"*.deb |
			tar -xO "./usr/src/$src.tar.xz" | tar -xJf - -C "$PVA_CACHE/linux-newest"
		dpkg-deb --fsys-tarfile "$apt_dir/linux-config-${ver}_"*_amd64.deb |
			tar -xO "./usr/src/linux-config-$ver/config.amd64_none_amd64.xz" |
			xz -d > "$tree/.config"
		dpkg-deb --fsys-tarfile "$apt_dir/${hdr}_"*.deb |
			tar -xO "./usr/src/$hdr/Module.symvers" > "$tree/Module.symvers"
		make -C "$tree" -s olddefconfig >/dev/null
		make -C "$tree" -s -j"$(nproc)" modules_prepare >/dev/null
		touch "$tree/.pva-done"
	fi
	# the same for arm64: its own tree (Kbuild wants a clean source for
	# a separate output directory), Debian's arm64 config and symbols
	atree=$PVA_CACHE/linux-newest-arm64/linux-source-$ver
	if [ ! -f "$atree/.pva-done" ]; then
		log "preparing $src for arm64 compile checks"
		(cd "$apt_dir" && apt-get "$@" download -qq "$hdr_arm64:arm64" \
			"linux-config-$ver:arm64")
		rm -rf "$PVA_CACHE/linux-newest-arm64"
		mkdir -p "$PVA_CACHE/linux-newest-arm64"
		dpkg-deb --fsys-tarfile "$apt_dir/${src}_"*.deb |
			tar -xO "./usr/src/$src.tar.xz" | tar -xJf - -C "$PVA_CACHE/linux-newest-arm64"
		dpkg-deb --fsys-tarfile "$apt_dir/linux-config-${ver}_"*_arm64.deb |
			tar -xO "./usr/src/linux-config-$ver/config.arm64_none_arm64.xz" |
			xz -d > "$atree/.config"
		dpkg-deb --fsys-tarfile "$apt_dir/${hdr_arm64}_"*_arm64.deb |
			tar -xO "./usr/src/$hdr_arm64/Module.symvers" > "$atree/Module.symvers"
		set -- ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
		make -C "$atree" -s "$@" olddefconfig >/dev/null
		make -C "$atree" -s -j"$(nproc)" "$@" modules_prepare >/dev/null
		touch "$atree/.pva-done"
	fi
	knew=$ver
}
knew=
newest_kernel || log "warning: no compile check against the newest kernel"

# Wayland protocols that bookworm's wayland-protocols lacks: wlroots's
# data-control and output-management (from the wlroots source package)
# and ext-data-control (wayland-protocols of bookworm-backports), fetched
# with a private apt state; only the XML files are kept.
wayland_protocols() {
	wp=$PVA_CACHE/wayland-protocols
	[ -f "$wp/.done" ] && return 0
	apt_dir=$PVA_CACHE/apt-wayland
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$wp"
	uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
	[ -n "$uri" ] || uri=$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list)
	{
		echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm main"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm-backports main"
	} > "$apt_dir/sources.list"
	set -- -o Dir::Etc::sourcelist="$apt_dir/sources.list" \
		-o Dir::Etc::sourceparts=- -o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::Cache::archives="$apt_dir/archives" -o APT::Sandbox::User=root \
		-o APT::Architecture=amd64 -o APT::Architectures::=amd64
	apt-get "$@" update -qq
	(cd "$apt_dir" && apt-get "$@" source --download-only -qq wlroots &&
		apt-get "$@" download -qq wayland-protocols/bookworm-backports)
	tar -xJf "$apt_dir"/wlroots_*.orig.tar.xz -C "$wp" --strip-components=2 \
		--wildcards '*/protocol/wlr-data-control-unstable-v1.xml' \
		'*/protocol/wlr-output-management-unstable-v1.xml'
	dpkg-deb --fsys-tarfile "$apt_dir"/wayland-protocols_*.deb |
		tar -xO --wildcards '*/ext-data-control-v1.xml' > "$wp/ext-data-control-v1.xml"
	[ -s "$wp/ext-data-control-v1.xml" ] || { log "no ext-data-control-v1.xml"; return 1; }
	touch "$wp/.done"
}
wayland_protocols

# the arm64 test guests' userland (and the sysroot of pva's arm64 agent)
"$(dirname "$0")/mkroot-arm64.sh"

cat > "$PVA_CACHE/kernels.mk" <<EOM
# written by scripts/setup.sh
PVA_K61 := $k61
PVA_K612 := $k612
PVA_KNEWEST := $knew
EOM
echo "$STAMP_VERSION" > "$stamp"
log "done"
