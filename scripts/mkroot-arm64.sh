#!/bin/sh
# SPDX-License-Identifier: MIT
# An arm64 userland for the arm64 test guests, which cannot run this
# machine's x86_64 programs: Debian 12 arm64 packages (Xvfb, Xorg with its
# modesetting driver, sway, the X11 and Wayland clipboard tools, a shell and
# the basic tools) unpacked into a tree that a guest mounts over virtio-9p as
# its root, as the x86_64 guests mount the host's /. Nothing is installed on
# this machine and its apt sources are left alone: the packages are chosen by
# apt's resolver in simulation against a private, empty dpkg status, fetched
# with apt-get download and unpacked; no maintainer script runs, so what
# they would do that the guests need is done here.
#
# Usage: scripts/mkroot-arm64.sh     (as root; run by scripts/setup.sh)
# Output: $PVA_CACHE/root-arm64 (default /var/cache/pva), the .debs in
# $PVA_CACHE/debs-arm64. PVA_SETUP_FORCE=1 rebuilds the tree.
set -eu

PVA_CACHE=${PVA_CACHE:-/var/cache/pva}

# What the guests' test scripts run: the X servers and clients, sway and
# the Wayland clipboard, and for the scripts themselves a shell and the
# tools they call (awk, cmp, insmod and rmmod for pva's modules, setpriv).
# The -dev packages make the tree the sysroot that pva's arm64 userspace
# (pva-agent, pva-service) is cross-built against.
WANT="xvfb xserver-xorg-core x11-xserver-utils x11-utils xclip xauth
	x11-xkb-utils xkb-data sway wl-clipboard
	dash coreutils grep sed mawk diffutils findutils procps util-linux
	kmod hostname e2fsprogs mount
	libx11-dev libxfixes-dev libxrandr-dev libwayland-dev libsystemd-dev
	libudev-dev libdrm-dev"

# Dependencies taken as present and left out: daemons and tools that the
# guests do not run (systemd, udev's daemon, D-Bus, polkit) and what only
# maintainer scripts use (perl, debconf, adduser, dpkg...). libgl1-mesa-dri
# (with LLVM, a third of the download) is the software GL that no test
# uses: Xorg runs with AccelMethod none, sway with WLR_RENDERER=pixman, and
# the X servers go on without GLX's software renderer. shared-mime-info
# (with libxml2 and ICU) only serves gdk-pixbuf's type sniffing, which sway
# needs for background images only; swaybg draws them and is not wanted.
OMIT="systemd systemd-sysv udev dbus polkitd libpam-systemd
	perl perl-base debconf adduser passwd keyboard-configuration
	init-system-helpers usrmerge dpkg tar sysvinit-utils
	libgl1-mesa-dri shared-mime-info swaybg cpp cpp-12 xml-core sgml-base"

log() { printf 'mkroot-arm64: %s\n' "$*" >&2; }

root=$PVA_CACHE/root-arm64
dl=$PVA_CACHE/debs-arm64
stamp=$root/.pva-stamp
# The stamp is this script's checksum: any change to it (its package lists
# included) rebuilds the tree; a newer package in the archive does not.
want_stamp=$(sha256sum < "$0" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] &&
   [ -z "${PVA_SETUP_FORCE:-}" ]; then
	log "already built ($root)"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || { log "run as root (the tree's files are root's)"; exit 1; }
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	# only makes apt read the arm64 package lists; nothing is installed
	log "adding the arm64 architecture"
	dpkg --add-architecture arm64
	apt-get update -qq
fi

# A private apt view of the machine's own package lists (as apt-get update
# left them) in which arm64 is the native architecture and nothing is
# installed: then the resolver picks what a fresh arm64 Debian would get
# with --no-install-recommends, one alternative and one provider of each
# virtual package, rather than apt-cache depends --recurse's every one. No
# lock is taken and no cache is written outside $state.
state=$PVA_CACHE/apt-arm64
rm -rf "$state"
mkdir -p "$state/archives/partial"
set -- -o APT::Architecture=arm64 -o APT::Architectures::=arm64 \
	-o Dir::State::status="$state/status" \
	-o Dir::State::extended_states="$state/extended_states" \
	-o Dir::Cache::archives="$state/archives" \
	-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
	-o Debug::NoLocking=1
: > "$state/status"
# The omitted packages as if installed, without dependencies of their own
# and with the candidate's Provides (logind, dbus-system-bus), at a version
# just above the candidate's: at the same version apt would take the
# archive's record, dependencies and all, and reinstall them.
# shellcheck disable=SC2086
apt-cache "$@" show --no-all-versions $OMIT |
	awk '/^Version:/ { print $0 "+pva"; next }
	     /^(Package|Architecture|Multi-Arch|Provides):/ { print; next }
	     /^$/ { print "Status: install ok installed\n"; next }' > "$state/status"
log "resolving the dependencies of: $(echo "$WANT" | xargs)"
# shellcheck disable=SC2086
apt-get "$@" -s -qq install --no-install-recommends $WANT > "$state/sim"
# Inst NAME (VERSION SUITE [ARCH]): NAME:ARCH=VERSION, ARCH being arm64 or all
pkgs=$(sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) [^[]*\[\([a-z0-9]*\)\]).*/\1:\3=\2/p' "$state/sim")
[ -n "$pkgs" ] || { log "apt chose no packages"; cat "$state/sim" >&2; exit 1; }

# the .deb file name of NAME:ARCH=VERSION as apt-get download writes it
deb_of() {
	echo "$1" | sed 's/^\([^:]*\):\([^=]*\)=\(.*\)/\1_\3_\2.deb/; s/:/%3a/g'
}
mkdir -p "$dl"
missing=
for p in $pkgs; do
	[ -f "$dl/$(deb_of "$p")" ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	log "downloading $(echo "$missing" | wc -w) packages into $dl"
	# shellcheck disable=SC2086
	(cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root $missing)
fi

log "unpacking $(echo "$pkgs" | wc -w) packages into $root"
tmp=$root.new
rm -rf "$tmp"
mkdir -p "$tmp/usr/bin" "$tmp/usr/sbin" "$tmp/usr/lib"
# Debian 12's merged /usr: the packages still ship files under /bin, /sbin
# and /lib (the dynamic loader is /lib/ld-linux-aarch64.so.1), which land in
# /usr through these links. dpkg -x would replace the links with
# directories, tar --keep-directory-symlink goes through them as dpkg does.
for d in bin sbin lib; do
	ln -s "usr/$d" "$tmp/$d"
done
# Documentation, manual pages and translations are left out (a third of
# the tree), as Debian's minimal images do with dpkg's path-exclude.
for p in $pkgs; do
	dpkg-deb --fsys-tarfile "$dl/$(deb_of "$p")" |
		tar -x --keep-directory-symlink -C "$tmp" \
			--exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' \
			--exclude='./usr/share/info/*' --exclude='./usr/share/locale/*'
done

# What base-files, base-passwd and the maintainer scripts would have left.
# Mount points and writable places (the guest puts tmpfs on /tmp and /run;
# /var/lib/xkb takes the X servers' compiled keymaps, through the overlay).
for d in dev proc sys run tmp root home/pvatest var/tmp var/log var/lib/xkb; do
	mkdir -p "$tmp/$d"
done
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
chmod 0700 "$tmp/root"
chown 1000:1000 "$tmp/home/pvatest"
# /bin/sh (dash's postinst), the alternatives that scripts call by their
# generic names (awk, which) and /etc/shells
ln -sf dash "$tmp/usr/bin/sh"
ln -sf mawk "$tmp/usr/bin/awk"
ln -sf which.debianutils "$tmp/usr/bin/which"
cp "$tmp/usr/share/debianutils/shells" "$tmp/etc/shells"
# root, nobody (65534, for unprivileged clients) and a test user; the
# groups with base-passwd's fixed ids
cat > "$tmp/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
pvatest:x:1000:1000:pva test user:/home/pvatest:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > "$tmp/etc/group" <<'EOF'
root:x:0:
tty:x:5:
video:x:44:
pvatest:x:1000:
nogroup:x:65534:
EOF
printf 'root:*:19000:0:99999:7:::\npvatest:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' \
	> "$tmp/etc/shadow"
chmod 0640 "$tmp/etc/shadow"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' \
	> "$tmp/etc/nsswitch.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$tmp/etc/hosts"
echo pva-arm64 > "$tmp/etc/hostname"
# No ld.so.cache: the loader searches Debian's multiarch directories, where
# every library of the tree is, without one.

printf '%s\n' "$want_stamp" > "$tmp/.pva-stamp"
rm -rf "$root"
mv "$tmp" "$root"
# .debs of older versions (a security update replaced them)
keep=$(for p in $pkgs; do deb_of "$p"; done)
for f in "$dl"/*.deb; do
	echo "$keep" | grep -qxF "${f##*/}" || rm -f "$f"
done
rm -rf "$state"
log "done: $(echo "$pkgs" | wc -w) packages, $(du -sh "$dl" | cut -f1) of .debs, $(du -sh "$root" | cut -f1) unpacked"
