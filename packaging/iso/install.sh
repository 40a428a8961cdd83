#!/bin/sh
# SPDX-License-Identifier: MIT
# install.sh: install, repair, upgrade or remove the pva guest additions in
# this virtual machine. Runs as root from the mounted pva ISO:
#   mount /dev/sr0 /mnt && sudo /mnt/install.sh
# and, installed as /usr/sbin/pva-install, removes them again:
#   sudo pva-install --uninstall
# See pva-install(8) and docs/install.md.
#
# Order of work, so that a failure never leaves half an installation:
#   1. verify the ISO's SHA256SUMS          (exit 4, nothing changed)
#   2. check every prerequisite             (exit 3, nothing changed; the
#      distribution's package manager may install what is missing)
#   3. one transaction: module sources, DKMS, programs and units, old
#      version's leftovers, systemd and udev, modules loaded, service
#      started. Each step first writes how to undo it to an undo log
#      (/var/lib/pva/txn/undo); a failure, a signal or the next run after
#      a crash replays that log backwards (exit 1, rolled back).
#   4. commit: /var/lib/pva/manifest lists everything that was written,
#      for --uninstall and the next upgrade.
#
# POSIX sh (dash, busybox ash, bash --posix). Not `set -e`: its rules in
# functions called from `if` and `||` would make the error handling of the
# transaction hard to follow; every step checks its own result instead.
set -u
umask 022

PVA_VERSION=@VERSION@
NAME=pva
MODULES="pva_core pva_balloon pva_sf pva_drm"
UNITS="pva-service.service pva-mount-shares.service"
STATE_DIR=/var/lib/pva
MANIFEST=$STATE_DIR/manifest
TXN=$STATE_DIR/txn
LOCK=$STATE_DIR/lock

E_OK=0 E_FAILED=1 E_USAGE=2 E_PREREQ=3 E_CHECKSUM=4

# Where this script is: the ISO's root, or /usr/sbin for the installed copy.
case $0 in
*/*) here=$(cd "${0%/*}" && pwd) ;;
*) here=$(pwd) ;;
esac
if [ -f "$here/VERSION" ]; then
	PVA_VERSION=$(sed -n '1p' "$here/VERSION")
fi

# `su` without `-` keeps a user's PATH, which may lack the sbin directories
# where dkms, modprobe and depmod live. Add them only when PATH has no sbin
# directory at all, so that a PATH set on purpose (tests) is kept.
case ":$PATH:" in
*sbin:*) ;;
*) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin ;;
esac
export PATH
# Messages of the tools we parse are English everywhere.
LC_ALL=C
export LC_ALL

# ---------------------------------------------------------------- output

LOG=/var/log/pva-install.log
log_on=

# One line into the log, with the time.
log() {
	[ -n "$log_on" ] || return 0
	printf '%s %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >> "$LOG" 2>/dev/null
}
# A progress line for the user, and the log.
say() { printf '%s\n' "$*"; log "$*"; }
step() { say "==> $*"; }
warn() { printf 'pva-install: warning: %s\n' "$*" >&2; log "warning: $*"; }
err() { printf 'pva-install: %s\n' "$*" >&2; log "error: $*"; }

# Run a command with its output in the log only; its status is returned.
run() {
	log "+ $*"
	if [ -n "$log_on" ]; then
		"$@" < /dev/null >> "$LOG" 2>&1
	else
		"$@" < /dev/null > /dev/null 2>&1
	fi
}

# The compiler's errors in a build log (with parallel jobs they may be far
# from its end), then its last lines; indented, to the user and the log.
show_build_log() { # FILE
	[ -f "$1" ] || { say "    (no $1)"; return 0; }
	if grep -q 'error' "$1"; then
		say "    --- the errors in $1:"
		grep -m 12 -e 'error' -e 'Error' "$1" | while IFS= read -r l; do say "    $l"; done
	fi
	say "    --- the end of $1:"
	tail -n 12 "$1" | while IFS= read -r l; do say "    $l"; done
	say "    ---"
}

usage() {
	cat <<EOF
Usage: install.sh [--yes | --no-packages] [--rebuild] [--log FILE]
                                                  install, repair or upgrade
       install.sh --check [--no-packages]                what would be done
       install.sh --uninstall [--log FILE]               remove pva
       install.sh --help | --version

Installs the pva guest additions $PVA_VERSION in this virtual machine: the
kernel modules (built by DKMS for the running kernel and every new one),
pva-service, pva-agent, pva-mount-shares, their systemd units and udev
rules. Run it as root from the mounted pva ISO.

  --check         verify the ISO and the prerequisites and print the plan;
                  change nothing
  --yes           install missing prerequisites (kernel headers, compiler,
                  make, dkms) with the distribution's package manager
                  without asking
  --no-packages   never run the package manager: stop and say what to
                  install
  --rebuild       build the modules again even when this version is
                  already built and installed for the kernel, from the
                  same sources (a repair does not rebuild them otherwise)
  --log FILE      the log (default /var/log/pva-install.log)
  --uninstall     remove everything this installer put on the system
  --help          this text
  --version       the version of pva on this ISO

Exit status: 0 done, 1 failed (everything rolled back), 2 bad usage,
3 prerequisites missing (nothing changed), 4 checksum error on the ISO
(nothing changed). See pva-install(8).
EOF
}

# --------------------------------------------------------------- options

mode=install
packages=ask
rebuild=
log_given=
while [ $# -gt 0 ]; do
	case $1 in
	--check) [ "$mode" = install ] || { usage >&2; exit $E_USAGE; }; mode=check ;;
	--uninstall) [ "$mode" = install ] || { usage >&2; exit $E_USAGE; }; mode=uninstall ;;
	--yes|-y) packages=yes ;;
	--no-packages) packages=no ;;
	--rebuild) rebuild=yes ;;
	--log)
		if [ $# -lt 2 ] || [ -z "$2" ]; then
			err "--log needs a file name"; usage >&2; exit $E_USAGE
		fi
		LOG=$2; log_given=1; shift ;;
	--log=*) LOG=${1#--log=}; log_given=1
		[ -n "$LOG" ] || { err "--log needs a file name"; exit $E_USAGE; } ;;
	-h|--help) usage; exit $E_OK ;;
	-V|--version) echo "pva-install $PVA_VERSION"; exit $E_OK ;;
	*) err "unknown argument '$1'"; usage >&2; exit $E_USAGE ;;
	esac
	shift
done

# The log. --check writes none unless asked to: it changes nothing.
open_log() {
	if [ "$mode" = check ] && [ -z "$log_given" ]; then
		return 0
	fi
	case $LOG in /*) ;; *) LOG=$(pwd)/$LOG ;; esac
	if mkdir -p "${LOG%/*}" 2>/dev/null && : >> "$LOG" 2>/dev/null; then
		log_on=1
		log "---- pva-install $PVA_VERSION: $mode (from $here)"
		log "uname: $(uname -a)"
	else
		warn "cannot write the log $LOG: going on without it"
	fi
}

# A helper's copy of a value for `eval`: 'it'\''s'
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

is_root() { [ "$(id -u)" = 0 ]; }

# ---------------------------------------------------------------- system

# The kernel to build for: the running one. PVA_INSTALL_KVER replaces it
# for tests (e.g. a kernel without headers, or headers installed on a
# machine that runs another kernel); the modules are then not loaded.
running_kernel=$(uname -r)
KVER=${PVA_INSTALL_KVER:-$running_kernel}
live=
[ "$KVER" = "$running_kernel" ] && live=1
KDIR=/lib/modules/$KVER/build

detect_arch() {
	machine=$(uname -m)
	case $machine in
	x86_64|amd64) arch=x86_64 ;;
	aarch64|arm64) arch=aarch64 ;;
	*) arch= ;;
	esac
}

# os-release(5) values, read without sourcing the file.
os_value() { # KEY FILE
	sed -n "s/^$1=//p" "$2" | sed -n '1{s/^"\(.*\)"$/\1/;s/^'"'"'\(.*\)'"'"'$/\1/;p;}'
}

detect_distro() {
	osr=${PVA_INSTALL_OS_RELEASE:-/etc/os-release}
	[ -f "$osr" ] || osr=/usr/lib/os-release
	os_id='' os_like='' os_name=''
	if [ -f "$osr" ]; then
		os_id=$(os_value ID "$osr")
		os_like=$(os_value ID_LIKE "$osr")
		os_name=$(os_value PRETTY_NAME "$osr")
	fi
	[ -n "$os_name" ] || os_name=${os_id:-unknown Linux}
	family=
	for w in $os_id $os_like; do
		case $w in
		debian|ubuntu) family=debian ;;
		fedora|rhel|centos) family=fedora ;;
		opensuse*|suse|sles|sled) family=suse ;;
		arch) family=arch ;;
		esac
		[ -z "$family" ] || break
	done
	pm=
	case $family in
	debian) command -v apt-get >/dev/null 2>&1 && pm=apt-get ;;
	fedora) if command -v dnf >/dev/null 2>&1; then pm=dnf
		elif command -v yum >/dev/null 2>&1; then pm=yum; fi ;;
	suse) command -v zypper >/dev/null 2>&1 && pm=zypper ;;
	arch) command -v pacman >/dev/null 2>&1 && pm=pacman ;;
	esac
}

# systemd as the running init, systemctl to enable units (works offline
# too), udev running.
detect_init() {
	have_systemctl=
	command -v systemctl >/dev/null 2>&1 && have_systemctl=1
	systemd_running=
	[ -n "$have_systemctl" ] && [ -d /run/systemd/system ] && systemd_running=1
	udev_running=
	command -v udevadm >/dev/null 2>&1 && [ -e /run/udev/control ] && udev_running=1
	# Where the distribution keeps its units and rules: the directory its
	# own files are in (/usr/lib on merged-/usr systems, /lib on older
	# split ones, where udev may not read /usr/lib/udev).
	unitdir=/usr/lib/systemd/system
	if [ ! -L /lib ] && [ -d /lib/systemd/system ] &&
	   ! ls /usr/lib/systemd/system/*.service >/dev/null 2>&1; then
		unitdir=/lib/systemd/system
	fi
	rulesdir=/usr/lib/udev/rules.d
	if [ ! -L /lib ] && [ -d /lib/udev/rules.d ] &&
	   ! ls /usr/lib/udev/rules.d/*.rules >/dev/null 2>&1; then
		rulesdir=/lib/udev/rules.d
	fi
}

# Secure Boot state from the EFI variable (the 5th byte is the value):
# on, off or empty (no EFI).
secure_boot() {
	sbv=/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0a9c4b3ef8c
	if [ -r "$sbv" ]; then
		case $(od -An -t u1 -j 4 -N 1 "$sbv" 2>/dev/null | tr -d ' ') in
		1) echo on ;;
		*) echo off ;;
		esac
	elif [ -d /sys/firmware/efi ]; then
		echo off
	fi
}

# DKMS's MOK certificate (what must be enrolled for Secure Boot): what its
# build said, else the distribution's default place.
mok_cert() {
	c=
	[ -z "$log_on" ] || c=$(sed -n 's/.*Public certificate (MOK): *//p' "$LOG" | tail -n 1)
	if [ -z "$c" ] || [ ! -f "$c" ]; then
		c=/var/lib/dkms/mok.pub
		[ -f /var/lib/shim-signed/mok/MOK.der ] && c=/var/lib/shim-signed/mok/MOK.der
	fi
	echo "$c"
}

# ----------------------------------------------------------- the medium

media=
# The ISO this runs from: its root has VERSION, SHA256SUMS, src/, linux/.
find_media() {
	if [ -d "$here/src" ] || [ -d "$here/linux" ] || [ -f "$here/SHA256SUMS" ]; then
		media=$here
	fi
}

# Every file SHA256SUMS names must be there with that checksum, and every
# file this installer copies (src/, linux/) must be named in it.
verify_media() {
	if [ ! -f "$media/SHA256SUMS" ]; then
		err "checksum error: SHA256SUMS (missing: the ISO is incomplete)"
		return 1
	fi
	if ! command -v sha256sum >/dev/null 2>&1; then
		err "sha256sum is missing (coreutils): cannot verify the ISO"
		return 2
	fi
	vm_bad=0 vm_n=0
	while read -r vm_sum vm_name; do
		[ -n "$vm_sum" ] || continue
		vm_name=${vm_name#\*}
		case $vm_name in
		''|/*|..|../*|*/../*|*/..)
			err "checksum error: SHA256SUMS names '$vm_name'"; vm_bad=1; continue ;;
		esac
		vm_n=$((vm_n + 1))
		if [ ! -f "$media/$vm_name" ]; then
			err "checksum error: $vm_name (missing)"; vm_bad=1; continue
		fi
		vm_got=$(sha256sum < "$media/$vm_name" 2>/dev/null) || vm_got=
		vm_got=${vm_got%% *}
		if [ "$vm_got" != "$vm_sum" ]; then
			err "checksum error: $vm_name"; vm_bad=1
		fi
	done < "$media/SHA256SUMS"
	if [ "$vm_n" -eq 0 ]; then
		err "checksum error: SHA256SUMS lists no file"
		return 1
	fi
	for vm_f in $(cd "$media" && find src linux -type f 2>/dev/null); do
		if ! awk -v f="$vm_f" '{ n = $2; sub(/^\*/, "", n); if (n == f) found = 1 }
				END { exit !found }' "$media/SHA256SUMS"; then
			err "checksum error: $vm_f (not listed in SHA256SUMS)"; vm_bad=1
		fi
	done
	[ "$vm_bad" -eq 0 ] || return 1
	media_files=$vm_n
	return 0
}

# ------------------------------------------------------- prerequisites

# The kernel's headers look usable: a Makefile and the configuration.
headers_ok() { # KVER
	[ -f "/lib/modules/$1/build/Makefile" ] &&
		{ [ -f "/lib/modules/$1/build/.config" ] ||
		  [ -f "/lib/modules/$1/build/include/config/auto.conf" ]; }
}

# The compiler the kernel was built with (the headers' Makefile calls it by
# that name, e.g. gcc-12 on Debian): CONFIG_CC_VERSION_TEXT's first word.
kernel_cc() {
	kc_cfg=$KDIR/.config
	[ -f "$kc_cfg" ] || kc_cfg=$KDIR/include/config/auto.conf
	if [ -f "$kc_cfg" ] && grep -q '^CONFIG_CC_IS_CLANG=y' "$kc_cfg"; then
		echo clang
		return
	fi
	kc=
	[ -f "$kc_cfg" ] && kc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\).*/\1/p' "$kc_cfg")
	case $kc in *gcc*) echo "$kc" ;; *) echo gcc ;; esac
}

# Package names, for this distribution, of one missing prerequisite.
pkg_for() { # headers|cc|make|dkms|kmod [compiler]
	case $1 in
	headers)
		case $family in
		debian) echo "linux-headers-$KVER" ;;
		fedora) echo "kernel-devel-$KVER" ;;
		suse)
			pf_flavor=${KVER##*-}
			case $pf_flavor in
			default|rt|kvmsmall|azure|64kb|longterm|vanilla) ;;
			*) pf_flavor=default ;;
			esac
			echo "kernel-$pf_flavor-devel" ;;
		arch)
			case $KVER in
			*-lts) echo linux-lts-headers ;;
			*-zen*) echo linux-zen-headers ;;
			*-hardened*) echo linux-hardened-headers ;;
			*) echo linux-headers ;;
			esac ;;
		*) echo "the kernel headers for $KVER" ;;
		esac ;;
	cc)
		case $2 in
		clang) echo "clang lld" ;;
		*gcc-[0-9]*)
			if [ "$family" = debian ]; then echo "gcc-${2##*gcc-}"; else echo gcc; fi ;;
		*) echo gcc ;;
		esac ;;
	*) echo "$1" ;;
	esac
}

# The command line that installs PACKAGES here.
pm_cmdline() {
	case $pm in
	apt-get) echo "apt-get install $*" ;;
	dnf|yum) echo "$pm install $*" ;;
	zypper) echo "zypper install $*" ;;
	pacman) echo "pacman -S --needed $*" ;;
	*) echo "(install with your distribution's tools) $*" ;;
	esac
}

# Sets missing (what, for the user), missing_pkgs, and the facts found.
check_prereqs() {
	missing='' missing_pkgs=''
	add_missing() { missing="$missing${missing:+, }$1"; missing_pkgs="$missing_pkgs${missing_pkgs:+ }$2"; }
	if headers_ok "$KVER"; then
		have_headers=1
	else
		have_headers=
		add_missing "kernel headers for $KVER ($KDIR)" "$(pkg_for headers)"
	fi
	cc=$(kernel_cc)
	if ! command -v "$cc" >/dev/null 2>&1; then
		add_missing "the compiler $cc" "$(pkg_for cc "$cc")"
	fi
	command -v make >/dev/null 2>&1 || add_missing make make
	command -v dkms >/dev/null 2>&1 || add_missing dkms dkms
	for t in modprobe depmod modinfo; do
		if ! command -v $t >/dev/null 2>&1; then
			add_missing "$t (kmod)" kmod
			break
		fi
	done
	# the same package may be named twice (gcc): once is enough
	# shellcheck disable=SC2086 # one name per word
	missing_pkgs=$(printf '%s\n' $missing_pkgs | awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//')
}

# Can the prebuilt pva-service run here (its libraries, glibc new enough)?
# Sets service_ok and service_why.
check_service_libs() {
	service_ok=1 service_why=
	sl_bin=$media/linux/$arch/usr/sbin/pva-service
	[ -f "$sl_bin" ] || { service_ok=; service_why="not on this ISO"; return; }
	command -v ldd >/dev/null 2>&1 || return 0
	sl_out=$(ldd "$sl_bin" 2>&1) || true
	sl_bad=$(printf '%s\n' "$sl_out" | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | tr '\n' ' ')
	sl_ver=$(printf '%s\n' "$sl_out" | sed -n "s/.*version \`\([^']*\)' not found.*/\1/p" | sort -u | tr '\n' ' ')
	if [ -n "$sl_bad" ]; then
		service_ok='' service_why="missing libraries: $sl_bad"
	elif [ -n "$sl_ver" ]; then
		service_ok='' service_why="this system's C library is too old (needs $sl_ver)"
	fi
}

# pva installed through dpkg (pva-dkms, pva-guest .debs)?
dpkg_has_pva() {
	command -v dpkg-query >/dev/null 2>&1 || return 1
	for p in pva-dkms pva-guest; do
		case $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) in
		i*|?[iUFWHt]*) return 0 ;;
		esac
	done
	return 1
}

# DKMS's pva entries: "VERSION KERNEL STATE" lines (dkms 2.x writes
# "pva, 1.0, 6.1.0, x86_64: installed", 3.x "pva/1.0, 6.1.0, x86_64:
# installed"; added-only versions have no kernel: "-").
dkms_pva() {
	command -v dkms >/dev/null 2>&1 || return 0
	dkms status -m "$NAME" 2>/dev/null | awk -v name="$NAME" '
		{
			line = $0
			state = line; sub(/^[^:]*: */, "", state); sub(/ .*/, "", state)
			sub(/:.*/, "", line)
			sub("^" name "[,/] *", "", line)
			n = split(line, f, /, */)
			if (n < 1 || f[1] == "") next
			k = (n >= 2) ? f[2] : "-"
			print f[1], k, state
		}'
}
dkms_versions() { dkms_pva | awk '{ print $1 }' | sort -u; }
dkms_kernels_of() { dkms_pva | awk -v v="$1" '$1 == v && $3 ~ /^installed/ && $2 != "-" { print $2 }' | sort -u; }

# Meta package that brings the headers of future kernels (Debian, Ubuntu):
# linux-headers-FLAVOUR when linux-image-FLAVOUR is installed without it.
headers_meta() {
	[ "$family" = debian ] && command -v dpkg-query >/dev/null 2>&1 || return 0
	hm_flavour=$(echo "$KVER" | sed -n 's/^[0-9][0-9.]*[-+][^-]*-//p')
	[ -n "$hm_flavour" ] || return 0
	hm_inst() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }
	if { hm_inst "linux-image-$hm_flavour" || hm_inst "linux-$hm_flavour"; } &&
	   ! hm_inst "linux-headers-$hm_flavour"; then
		echo "linux-headers-$hm_flavour"
	fi
}

# Install PACKAGES with the package manager; output in the log.
pm_install() {
	step "Installing $* with $pm"
	case $pm in
	apt-get)
		DEBIAN_FRONTEND=noninteractive
		export DEBIAN_FRONTEND
		if ! run apt-get install -y "$@"; then
			say "    updating the package lists and trying again"
			run apt-get update
			run apt-get install -y "$@"
		fi ;;
	dnf|yum) run "$pm" install -y "$@" ;;
	zypper) run zypper --non-interactive install "$@" ;;
	pacman) run pacman -S --needed --noconfirm "$@" ;;
	*) return 1 ;;
	esac
}

# ------------------------------------------------------------ manifest

# manifest lines: "version V", "arch A", "dkms V", "kernel K", "unit U",
# "dir - PATH", "file SHA256 PATH"
manifest_key() { [ -f "$MANIFEST" ] && sed -n "s/^$1 //p" "$MANIFEST" | sed -n 1p; }
manifest_paths() { # file|dir [MANIFEST]
	[ -f "${2:-$MANIFEST}" ] || return 0
	awk -v k="$1" '$1 == k { sub(/^[^ ]+ [^ ]+ /, ""); print }' "${2:-$MANIFEST}"
}

# ----------------------------------------------------------- transaction

in_txn=
committed=
# set by the checks; initialised for the paths that stop early
media_files=0 missing='' missing_pkgs='' have_headers='' cc=gcc service_ok=1 service_why=''
pp_meta='' old_version='' failed_kernels='' mok_pending='' reboot_pending=''

# Undo log: each line a shell command, replayed last-first on failure.
# Written before the step it undoes (and so harmless if the step did not
# happen), so that a crash is undone by the next run too.
undo() { printf '%s\n' "$*" >> "$TXN/undo"; }
# Run after the undo log: reloads that need the old files back in place.
late() { grep -qxF "$*" "$TXN/late" 2>/dev/null || printf '%s\n' "$*" >> "$TXN/late"; }

rollback() {
	trap '' INT TERM HUP
	say "==> Undoing what was done (details in $LOG)"
	if [ -f "$TXN/undo" ]; then
		awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' "$TXN/undo" > "$TXN/undo.rev"
		while IFS= read -r rb_cmd; do
			log "undo: $rb_cmd"
			case $rb_cmd in
			"u_dkms_restore '"*"' "?*)
				say "    putting pva $(echo "$rb_cmd" | cut -d"'" -f2) back into DKMS (it is built again)" ;;
			esac
			if [ -n "$log_on" ]; then
				eval "$rb_cmd" < /dev/null >> "$LOG" 2>&1 || log "undo step failed: $rb_cmd"
			else
				eval "$rb_cmd" < /dev/null > /dev/null 2>&1 || true
			fi
		done < "$TXN/undo.rev"
	fi
	if [ -f "$TXN/late" ]; then
		while IFS= read -r rb_cmd; do
			log "undo (late): $rb_cmd"
			if [ -n "$log_on" ]; then
				eval "$rb_cmd" < /dev/null >> "$LOG" 2>&1 || true
			else
				eval "$rb_cmd" < /dev/null > /dev/null 2>&1 || true
			fi
		done < "$TXN/late"
	fi
	rm -rf "$TXN"
	in_txn=
	say "    the system is as it was before"
}

on_signal() {
	err "interrupted"
	exit $E_FAILED
}

on_exit() {
	ox=$?
	if [ -n "$in_txn" ] && [ -z "$committed" ]; then
		rollback
		[ "$ox" -ne 0 ] || ox=$E_FAILED
	fi
	unlock
	exit "$ox"
}

lock() {
	mkdir -p "$STATE_DIR" || { err "cannot create $STATE_DIR"; return 1; }
	chmod 755 "$STATE_DIR"
	if ! mkdir "$LOCK" 2>/dev/null; then
		lk_pid=$(cat "$LOCK/pid" 2>/dev/null)
		if [ -n "$lk_pid" ] && kill -s 0 "$lk_pid" 2>/dev/null; then
			err "another pva-install is running (pid $lk_pid)"
			return 1
		fi
		rm -rf "$LOCK"
		mkdir "$LOCK" || { err "cannot create $LOCK"; return 1; }
	fi
	echo $$ > "$LOCK/pid"
	locked=1
}
locked=
unlock() {
	if [ -n "$locked" ]; then
		rm -rf "$LOCK"
		locked=
		# nothing of pva left (uninstall, or a failed first install)
		rmdir "$STATE_DIR" 2>/dev/null || true
	fi
}

# An earlier run was killed in the middle: undo what it did first.
recover() {
	if [ -d "$TXN" ]; then
		warn "an earlier run was interrupted: undoing it first"
		in_txn=1
		rollback
	fi
}

begin_txn() {
	rm -rf "$TXN"
	mkdir -p "$TXN/backup" || return 1
	: > "$TXN/undo"
	: > "$TXN/manifest"
	in_txn=1
	nbackup=0
}

# SELinux: a file moved into place keeps the label of where it was made
# (a backup restored from /var/lib/pva would stay var_lib_t): relabel.
relabel() {
	[ -n "$selinux" ] || return 0
	restorecon -F "$@" >/dev/null 2>&1 || true
}
selinux=
command -v selinuxenabled >/dev/null 2>&1 && command -v restorecon >/dev/null 2>&1 &&
	selinuxenabled 2>/dev/null && selinux=1

# Undo helpers (called from the undo log).
u_restore() {
	[ -e "$TXN/backup/$1" ] || [ -L "$TXN/backup/$1" ] || return 0
	mkdir -p "$(dirname "$2")" && mv -f "$TXN/backup/$1" "$2" && relabel "$2"
}
u_rm() { rm -f "$1"; }
u_rmdir() { rmdir "$1" 2>/dev/null || true; }
u_dkms_forget() { dkms remove -m "$NAME" -v "$1" --all; }
u_dkms_uninstall() { dkms uninstall -m "$NAME" -v "$1" -k "$2"; }
u_dkms_restore() { # VERSION KERNEL...
	ur_v=$1; shift
	[ -f "/usr/src/$NAME-$ur_v/dkms.conf" ] || return 0
	[ -d "/var/lib/dkms/$NAME/$ur_v" ] || dkms add -m "$NAME" -v "$ur_v"
	for ur_k in "$@"; do
		dkms install -m "$NAME" -v "$ur_v" -k "$ur_k" || true
	done
}
u_disable() { systemctl disable "$1"; }
u_enable() { systemctl enable "$1"; }
u_stop() { systemctl stop "$1"; }
u_start() { systemctl start "$1"; }
u_unload() {
	# shellcheck disable=SC2086 # a list of units
	[ -z "$systemd_running" ] || systemctl stop $UNITS
	unload_modules
}
l_systemd() { [ -z "$systemd_running" ] || systemctl daemon-reload; }
l_udev() { [ -z "$udev_running" ] || udevadm control --reload; }
l_load() { for m in $MODULES; do modprobe "$m" || true; done; }

# Record a path for the new manifest.
rec() { printf '%s\n' "$*" >> "$TXN/manifest"; }

# mkdir -p, recording each directory it creates (for the manifest and the
# undo log); directories that existed are left alone.
make_dirs() { # DIR
	[ -d "$1" ] && return 0
	make_dirs "$(dirname "$1")" || return 1
	undo "u_rmdir $(q "$1")"
	mkdir "$1" || return 1
	relabel "$1"
	rec "dir - $1"
}

# Install one file (atomically: a temporary file renamed over the old one,
# which also works for a running program), backing up what it replaces.
put_file() { # SRC DEST MODE
	pf_dir=$(dirname "$2")
	make_dirs "$pf_dir" || { err "cannot create $pf_dir"; return 1; }
	if [ -e "$2" ] || [ -L "$2" ]; then
		nbackup=$((nbackup + 1))
		cp -pP "$2" "$TXN/backup/$nbackup" || { err "cannot back up $2"; return 1; }
		undo "u_restore $nbackup $(q "$2")"
	else
		undo "u_rm $(q "$2")"
	fi
	pf_tmp=$pf_dir/.pva-new.$$
	undo "u_rm $(q "$pf_tmp")"
	if ! { cp "$1" "$pf_tmp" && chmod "$3" "$pf_tmp" && mv -f "$pf_tmp" "$2"; }; then
		rm -f "$pf_tmp"
		err "cannot write $2"
		return 1
	fi
	relabel "$2"
	pf_sum=$(sha256sum < "$2"); pf_sum=${pf_sum%% *}
	rec "file $pf_sum $2"
}

# Remove a file of the old version, with a backup for the undo log.
drop_file() { # PATH
	[ -e "$1" ] || [ -L "$1" ] || return 0
	nbackup=$((nbackup + 1))
	cp -pP "$1" "$TXN/backup/$nbackup" || return 1
	undo "u_restore $nbackup $(q "$1")"
	rm -f "$1"
}

# ----------------------------------------------------------- features

loaded() { [ -d "/sys/module/$1" ]; }

unload_modules() {
	for um in pva_drm pva_sf pva_balloon pva_selftest pva_core; do
		loaded "$um" || continue
		run modprobe -r "$um" || run rmmod "$um" || return 1
	done
}

# The pva PCI devices (ivshmem-doorbell, 1af4:1110) and their drivers.
pci_devices() {
	for pd in /sys/bus/pci/devices/*; do
		[ -f "$pd/vendor" ] || continue
		if [ "$(cat "$pd/vendor")" != 0x1af4 ] || [ "$(cat "$pd/device")" != 0x1110 ]; then
			continue
		fi
		pd_drv=
		[ -L "$pd/driver" ] && pd_drv=$(basename "$(readlink "$pd/driver")")
		echo "${pd##*/} ${pd_drv:-none}"
	done
}

# The driver bound to the first auxiliary device of a feature.
aux_driver() { # balloon|sf|display
	for ad in /sys/bus/auxiliary/devices/pva_core."$1".*; do
		[ -e "$ad" ] || continue
		if [ -L "$ad/driver" ]; then
			basename "$(readlink "$ad/driver")"
		else
			echo none
		fi
		return 0
	done
}

unit_active() { [ -n "$systemd_running" ] && systemctl is-active --quiet "$1"; }

# ------------------------------------------------------------ the plan

print_plan() {
	say "pva $PVA_VERSION installer"
	say "  system:        $os_name, $arch, kernel $KVER${live:+ (running)}"
	if [ -n "$pm" ]; then
		say "  packages:      $pm"
	else
		say "  packages:      no supported package manager (${os_id:-unknown}): prerequisites are not installed for you"
	fi
	say "  ISO:           $media (checksums OK, $media_files files)"
	if [ -n "$old_version" ]; then
		if [ "$old_version" = "$PVA_VERSION" ]; then
			say "  installed:     pva $old_version: it is repaired (reinstalled)"
		else
			say "  installed:     pva $old_version: it is upgraded to $PVA_VERSION"
		fi
		pp_bad=0
		while read -r pp_kind pp_sum pp_path; do
			[ "$pp_kind" = file ] || continue
			if [ ! -f "$pp_path" ]; then
				pp_bad=$((pp_bad + 1))
			else
				pp_got=$(sha256sum < "$pp_path"); pp_got=${pp_got%% *}
				[ "$pp_got" = "$pp_sum" ] || pp_bad=$((pp_bad + 1))
			fi
		done < "$MANIFEST"
		[ "$pp_bad" -eq 0 ] || say "                 ($pp_bad of its files are missing or changed)"
	else
		say "  installed:     nothing of pva"
	fi
	for pp_v in $(dkms_versions); do
		say "  DKMS has:      pva $pp_v ($(dkms_kernels_of "$pp_v" | tr '\n' ' ' | sed 's/ $//'))"
	done
	if [ -n "$missing" ]; then
		say "  prerequisites: MISSING: $missing"
	else
		say "  prerequisites: kernel headers $KDIR, compiler $cc, make, dkms: present"
	fi
	[ -n "$service_ok" ] || say "  pva-service:   cannot run here ($service_why): installed but not enabled"
	pp_sb=$(secure_boot)
	[ "$pp_sb" != on ] || say "  Secure Boot:   on (DKMS signs the modules; its key must be enrolled, see below)"
	[ -z "$pp_meta" ] || say "  kernel updates: install $pp_meta so that new kernels come with headers (DKMS needs them)"
	[ ! -d "$TXN" ] || say "  interrupted:   an earlier run was interrupted: install.sh undoes it first"
	say "  plan:"
	say "    1. copy the module sources to /usr/src/$NAME-$PVA_VERSION"
	pp_others=
	for pp_v in $(dkms_versions); do
		[ "$pp_v" = "$PVA_VERSION" ] || pp_others="$pp_others $pp_v"
	done
	if modules_current "$KVER"; then
		say "    2. DKMS: pva $PVA_VERSION is built for $KVER from these sources: kept (--rebuild builds it again)"
	else
		say "    2. DKMS: ${pp_others:+remove pva$pp_others; }add, build and install pva $PVA_VERSION for $KVER$(other_kernels_text)"
	fi
	say "    3. install the programs for $arch: pva-service, pva-agent, pva-mount-shares, pva-install, units, udev rules, autostart, man pages"
	if [ -n "$have_systemctl" ]; then
		say "    4. systemd: enable $UNITS${systemd_running:+, daemon-reload}${udev_running:+; udev: reload the rules}"
	else
		say "    4. no systemd: no units (start pva-service yourself, see the summary)"
	fi
	if [ -n "$live" ]; then
		say "    5. load $MODULES; start pva-service if the pva device is there"
	else
		say "    5. not the running kernel: the modules load when $KVER boots"
	fi
	say "    6. write $MANIFEST (what --uninstall removes)"
}

# This version's modules are built and installed for kernel $1 from the
# sources on the disc (a repair of the same version need not build again:
# minutes on a small VM).
modules_current() { # KVER
	[ -z "$rebuild" ] || return 1
	dkms_kernels_of "$PVA_VERSION" | grep -qx "$1" || return 1
	for mc_m in $MODULES; do
		ls "/lib/modules/$1/updates/dkms/$mc_m.ko"* > /dev/null 2>&1 || return 1
	done
	[ -d "/usr/src/$NAME-$PVA_VERSION" ] &&
		diff -r "$media/src/$NAME-$PVA_VERSION" "/usr/src/$NAME-$PVA_VERSION" > /dev/null 2>&1
}

other_kernels() {
	for ok_d in /lib/modules/*; do
		[ -d "$ok_d" ] || continue
		ok_k=${ok_d##*/}
		[ "$ok_k" != "$KVER" ] || continue
		headers_ok "$ok_k" && echo "$ok_k"
	done
}
other_kernels_text() {
	okt=$(other_kernels | tr '\n' ',' | sed 's/,$//; s/,/, /g')
	[ -z "$okt" ] || printf ' (and %s)' "$okt"
}

# ---------------------------------------------------------- preflight

# Everything before the first change; exits 3 or 4 on a problem.
preflight() {
	find_media
	if [ -z "$media" ]; then
		err "no pva ISO next to this script ($here)."
		err "To install or upgrade, run install.sh from the pva ISO: mount /dev/sr0 /mnt && sudo /mnt/install.sh"
		err "This copy can remove pva: pva-install --uninstall"
		exit $E_USAGE
	fi
	step "Verifying the files on the ISO"
	verify_media
	case $? in
	0) say "    $media_files files OK" ;;
	2) exit $E_PREREQ ;;
	*) err "the ISO is damaged: nothing was changed. Get a fresh copy of the ISO and attach it again."
	   exit $E_CHECKSUM ;;
	esac

	detect_arch
	if [ -z "$arch" ]; then
		err "this machine is $machine: pva supports x86_64 and aarch64 guests only. Nothing was changed."
		exit $E_PREREQ
	fi
	if [ ! -d "$media/linux/$arch" ] || [ ! -d "$media/src/$NAME-$PVA_VERSION" ]; then
		err "checksum error: the ISO has no linux/$arch or src/$NAME-$PVA_VERSION"
		exit $E_CHECKSUM
	fi
	detect_distro
	detect_init
	[ -n "$family" ] || warn "$os_name is not one this installer knows (Debian, Ubuntu, Fedora, RHEL, openSUSE, Arch): going on without a package manager"
	old_version=$(manifest_key version)

	step "Checking the prerequisites"
	if [ "$mode" != check ] && ! is_root; then
		err "run it as root: sudo sh $media/install.sh"
		exit $E_PREREQ
	fi
	if dpkg_has_pva; then
		err "pva is installed from Debian packages (pva-dkms, pva-guest) here. Upgrade those"
		pf_deb=amd64
		[ "$arch" = x86_64 ] || pf_deb=arm64
		err "(apt install $media/deb/pva-dkms_${PVA_VERSION}_all.deb $media/deb/pva-guest_${PVA_VERSION}_$pf_deb.deb)"
		err "or remove them (apt remove pva-dkms pva-guest) before using this installer. Nothing was changed."
		exit $E_PREREQ
	fi
	check_prereqs
	pp_meta=$(headers_meta)
	if [ -n "$missing" ]; then
		say "    missing: $missing"
		pf_go=
		if [ -n "$pm" ] && [ "$mode" = install ]; then
			case $packages in
			yes) pf_go=1 ;;
			ask)
				if [ -t 0 ] && [ -t 1 ]; then
					printf 'Install %s with %s now? [y/N] ' "$missing_pkgs" "$pm"
					read -r pf_ans || pf_ans=
					case $pf_ans in [yY]*) pf_go=1 ;; esac
				fi ;;
			esac
		fi
		if [ -n "$pf_go" ]; then
			# shellcheck disable=SC2086 # package names, split on purpose
			if ! pm_install $missing_pkgs; then
				err "$pm could not install $missing_pkgs (see $LOG)"
			fi
			check_prereqs
		fi
	fi
	if [ -n "$missing" ]; then
		[ "$mode" != check ] || print_plan
		err "missing: $missing. Nothing was changed."
		if [ -n "$pm" ]; then
			err "install them with:  sudo $(pm_cmdline "$missing_pkgs")"
		else
			err "install them with your distribution's package manager, then run install.sh again"
		fi
		case $family/$os_id in
		fedora/rhel|fedora/centos|fedora/rocky|fedora/almalinux|fedora/ol)
			case $missing_pkgs in *dkms*)
				err "(dkms is in EPEL: sudo $pm install epel-release)" ;; esac ;;
		esac
		if [ -z "$have_headers" ] && [ -n "$pm" ] && [ "$packages" = yes ]; then
			err "if the package manager installed headers for a newer kernel than the"
			err "running $KVER: reboot into the newest kernel and run install.sh again."
		fi
		exit $E_PREREQ
	fi
	say "    kernel headers ($KDIR), $cc, make, dkms: OK"
	check_service_libs
	[ -n "$service_ok" ] || warn "pva-service cannot run on this system: $service_why"
	case $KVER in
	[0-5].*|6.0.*) warn "kernel $KVER is older than 6.1, the oldest pva is tested with: the build may fail" ;;
	esac
}

# -------------------------------------------------------------- install

do_install() {
	lock || exit $E_FAILED
	recover
	trap on_signal INT TERM HUP
	trap on_exit EXIT
	begin_txn || { err "cannot create $TXN"; exit $E_FAILED; }
	rec "version $PVA_VERSION"
	rec "arch $arch"
	rec "kernel $KVER"

	# which kernels already have this version's modules from these sources
	current=
	for k in $KVER $(other_kernels); do
		modules_current "$k" && current="$current $k"
	done

	# 1. module sources
	step "Copying the module sources to /usr/src/$NAME-$PVA_VERSION"
	src=$media/src/$NAME-$PVA_VERSION
	for f in $(cd "$src" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); do
		put_file "$src/$f" "/usr/src/$NAME-$PVA_VERSION/$f" 644 || exit $E_FAILED
	done

	# 2. DKMS
	case " $current " in
	*" $KVER "*) kept=yes ;;
	*) kept= ;;
	esac
	if [ -n "$kept" ]; then
		step "pva $PVA_VERSION is built and installed for $KVER from these sources: not rebuilt (--rebuild does)"
		rec "dkms $PVA_VERSION"
	else
		step "Registering the modules with DKMS"
		before=$(dkms_versions)
		for v in $before; do
			[ "$v" = "$PVA_VERSION" ] || continue
			# the same version again (repair): start from a clean DKMS entry
			undo "u_dkms_restore $(q "$v") $(dkms_kernels_of "$v" | tr '\n' ' ')"
			run dkms remove -m "$NAME" -v "$v" --all || { err "dkms remove $NAME/$v failed"; exit $E_FAILED; }
		done
		undo "u_dkms_forget $(q "$PVA_VERSION")"
		if ! run dkms add -m "$NAME" -v "$PVA_VERSION"; then
			err "dkms add $NAME/$PVA_VERSION failed (see $LOG)"
			exit $E_FAILED
		fi
		rec "dkms $PVA_VERSION"
		step "Building the modules for $KVER (a few minutes)"
		if ! run dkms build -m "$NAME" -v "$PVA_VERSION" -k "$KVER"; then
			err "the modules did not build for $KVER"
			show_build_log "/var/lib/dkms/$NAME/$PVA_VERSION/build/make.log"
			exit $E_FAILED
		fi
		for v in $before; do
			[ "$v" != "$PVA_VERSION" ] || continue
			step "Removing pva $v from DKMS"
			undo "u_dkms_restore $(q "$v") $(dkms_kernels_of "$v" | tr '\n' ' ')"
			run dkms remove -m "$NAME" -v "$v" --all || { err "dkms remove $NAME/$v failed"; exit $E_FAILED; }
		done
		step "Installing the modules for $KVER"
		undo "u_dkms_uninstall $(q "$PVA_VERSION") $(q "$KVER")"
		if ! run dkms install -m "$NAME" -v "$PVA_VERSION" -k "$KVER"; then
			err "dkms install for $KVER failed (see $LOG)"
			exit $E_FAILED
		fi
	fi
	# Kernels installed besides the running one (an upgrade not booted
	# yet): best effort, a failure there is reported, not undone.
	failed_kernels=
	for k in $(other_kernels); do
		case "$kept: $current " in
		yes:*" $k "*) rec "kernel $k"; continue ;;
		esac
		step "Building and installing the modules for $k too"
		undo "u_dkms_uninstall $(q "$PVA_VERSION") $(q "$k")"
		if run dkms install -m "$NAME" -v "$PVA_VERSION" -k "$k"; then
			rec "kernel $k"
		else
			warn "the modules did not build for $k (see $LOG)"
			failed_kernels="$failed_kernels $k"
		fi
	done

	# 3. programs, units, rules, autostart, man pages
	step "Installing the programs for $arch"
	tree=$media/linux/$arch
	for f in $(cd "$tree" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); do
		case $f in
		usr/lib/systemd/system/*)
			[ -n "$have_systemctl" ] || continue
			dest=$unitdir/${f##*/} ;;
		usr/lib/udev/rules.d/*) dest=$rulesdir/${f##*/} ;;
		*) dest=/$f ;;
		esac
		fmode=644
		[ -x "$tree/$f" ] && fmode=755
		put_file "$tree/$f" "$dest" $fmode || exit $E_FAILED
	done

	# 4. what the old version had and this one has not
	if [ -f "$MANIFEST" ]; then
		manifest_paths file "$TXN/manifest" > "$TXN/new-paths"
		for p in $(manifest_paths file); do
			grep -qxF "$p" "$TXN/new-paths" && continue
			log "old file: $p"
			drop_file "$p" || { err "cannot remove the old $p"; exit $E_FAILED; }
		done
		# the old version's directories: still needed ones stay ours
		for d in $(manifest_paths dir | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-); do
			if grep -q "^$d/" "$TXN/new-paths"; then
				grep -qxF "dir - $d" "$TXN/manifest" || rec "dir - $d"
			elif [ -d "$d" ] && rmdir "$d" 2>/dev/null; then
				undo "mkdir -p $(q "$d")"
			fi
		done
	fi

	# 5. systemd and udev
	enabled_units=
	if [ -n "$have_systemctl" ]; then
		step "Enabling $UNITS"
		late l_systemd
		[ -z "$systemd_running" ] || run systemctl daemon-reload
		for u in $UNITS; do
			if [ "$u" = pva-service.service ] && [ -z "$service_ok" ]; then
				warn "not enabling $u: $service_why"
				continue
			fi
			if ! systemctl is-enabled --quiet "$u" 2>/dev/null; then
				undo "u_disable $u"
			fi
			run systemctl enable "$u" || { err "systemctl enable $u failed"; exit $E_FAILED; }
			rec "unit $u"
			enabled_units="$enabled_units $u"
		done
	fi
	if [ -n "$udev_running" ]; then
		late l_udev
		run udevadm control --reload || warn "udevadm control --reload failed"
	fi

	# 6. the modules and the service, now (no reboot)
	mok_pending='' reboot_pending=''
	if [ -n "$live" ]; then
		step "Loading the modules"
		new_src=$(modinfo -k "$KVER" -F srcversion pva_core 2>/dev/null)
		if loaded pva_core && [ "$(cat /sys/module/pva_core/srcversion 2>/dev/null)" != "$new_src" ]; then
			# an older pva_core is loaded: stop its users, reload
			for u in $UNITS; do
				if unit_active "$u"; then
					undo "u_start $u"
					run systemctl stop "$u"
				fi
			done
			late l_load
			if ! unload_modules; then
				warn "the old pva modules are in use: the new ones are used after a reboot"
				reboot_pending=1
				for u in $UNITS; do
					grep -qxF "u_start $u" "$TXN/undo" && run systemctl start "$u"
				done
			fi
		fi
		if [ -z "$reboot_pending" ]; then
			loaded pva_core || undo "u_unload"
			for m in $MODULES; do
				log "+ modprobe $m"
				if ! mp_out=$(modprobe "$m" 2>&1); then
					log "$mp_out"
					case $mp_out in
					*"Key was rejected"*|*"Required key not available"*|*"key"*"reject"*)
						mok_pending=1
						warn "the kernel refused $m: Secure Boot, and DKMS's key is not enrolled yet"
						break ;;
					esac
					err "modprobe $m failed: $mp_out"
					exit $E_FAILED
				fi
			done
			[ -z "$udev_running" ] || run udevadm settle --timeout=30
		fi
		if [ -n "$systemd_running" ] && [ -z "$mok_pending" ]; then
			if [ -n "$service_ok" ] && [ -e /dev/pva ]; then
				step "Starting pva-service"
				if unit_active pva-service.service; then
					run systemctl restart pva-service.service
				else
					undo "u_stop pva-service.service"
					run systemctl start pva-service.service
				fi || {
					err "pva-service did not start:"
					systemctl status --no-pager pva-service.service 2>&1 | tail -n 15 >&2
					exit $E_FAILED
				}
			fi
			# mounts the shares when the host offers some; a share that
			# cannot be mounted is reported below, it is no reason to undo
			if [ -d /sys/bus/auxiliary/devices ] && ls -d /sys/bus/auxiliary/devices/pva_core.sf.* >/dev/null 2>&1; then
				run systemctl start pva-mount-shares.service ||
					warn "pva-mount-shares.service failed: journalctl -u pva-mount-shares"
			fi
		fi
	fi

	# 7. commit
	if ! { cp "$TXN/manifest" "$MANIFEST.new" && mv -f "$MANIFEST.new" "$MANIFEST"; }; then
		err "cannot write $MANIFEST"
		exit $E_FAILED
	fi
	committed=1
	rm -rf "$TXN"
	in_txn=
	log "committed: $(grep -c '^file ' "$MANIFEST") files"
	summary
}

# -------------------------------------------------------------- summary

summary() {
	say ""
	say "pva $PVA_VERSION is installed."
	sm_kernels=$(sed -n 's/^kernel //p' "$MANIFEST" | tr '\n' ',' | sed 's/,$//; s/,/, /g')
	say "  kernel modules:  built by DKMS for $sm_kernels; new kernels get them automatically"
	[ -z "$failed_kernels" ] || say "                   (the build failed for:$failed_kernels, see $LOG)"
	if [ -n "$mok_pending" ]; then
		sm_cert=$(mok_cert)
		say "  Secure Boot:     the modules are signed, but the key is not enrolled yet:"
		say "                     sudo mokutil --import $sm_cert"
		say "                   choose a password, reboot, and in the blue MOK manager pick"
		say "                   'Enroll MOK', 'Continue', 'Yes', the password. pva starts at that boot."
	elif [ -z "$live" ]; then
		say "  device:          not checked ($KVER is not the running kernel)"
	else
		sm_pci=$(pci_devices)
		case $sm_pci in
		'') say "  device:          no pva device in this VM: the host must run pva-host and give the VM its ivshmem-doorbell device" ;;
		*" pva_core"*) say "  device:          found, pva_core bound ($(echo "$sm_pci" | awk '$2 == "pva_core" { print $1 }' | tr '\n' ' ' | sed 's/ $//'))" ;;
		*) say "  device:          an ivshmem device is there but pva_core did not bind it (dmesg | grep pva)" ;;
		esac
		for sm_f in balloon:pva_balloon:"memory balloon" sf:pva_sf:"shared folders" display:pva_drm:"display"; do
			sm_feat=${sm_f%%:*}; sm_rest=${sm_f#*:}; sm_drv=${sm_rest%%:*}; sm_label=${sm_rest#*:}
			sm_got=$(aux_driver "$sm_feat")
			case $sm_got in
			'') sm_text="not offered by the host" ;;
			"$sm_drv") sm_text="active ($sm_drv bound)" ;;
			*) sm_text="offered, $sm_drv not bound ($sm_got)" ;;
			esac
			[ "$sm_feat" != sf ] || [ "$sm_got" != "$sm_drv" ] ||
				sm_text="$sm_text$(awk '$3 == "pvasf" { n++ } END { if (n) printf ", %d mounted", n }' /proc/mounts)"
			say "  $(printf '%-16s' "$sm_label:") $sm_text"
		done
		[ -z "$reboot_pending" ] || say "  reboot:          needed: the old modules were in use"
	fi
	if [ -z "$service_ok" ]; then
		say "  pva-service:     cannot run here: $service_why"
	elif [ -n "$have_systemctl" ] && [ -z "$systemd_running" ]; then
		say "  pva-service:     enabled; systemd is not running now: it starts at the next boot"
	elif [ -z "$have_systemctl" ]; then
		say "  pva-service:     no systemd: start it from your init system as root:"
		say "                     /usr/sbin/pva-service &"
		say "                   and mount the shares with: pva-mount-shares"
	elif unit_active pva-service.service; then
		say "  pva-service:     active"
	else
		say "  pva-service:     inactive (starts when /dev/pva appears)"
	fi
	if [ -S /run/pva/agent.sock ]; then
		say "  desktop agent:   socket /run/pva/agent.sock present; each desktop session runs pva-agent"
	else
		say "  desktop agent:   no socket yet (/run/pva/agent.sock comes with pva-service); sessions run pva-agent at login"
	fi
	[ -z "$pp_meta" ] || say "  kernel updates:  install $pp_meta so that new kernels come with headers"
	say "  log:             $LOG"
	say "  uninstall:       sudo pva-install --uninstall"
}

# ------------------------------------------------------------ uninstall

# Processes running one of our programs (by their executable, so nothing
# else of the same name is touched).
pids_of() { # PATH
	for pp in /proc/[0-9]*; do
		[ "$(readlink "$pp/exe" 2>/dev/null)" = "$1" ] && echo "${pp##*/}"
	done
}

do_uninstall() {
	if ! is_root; then
		err "run it as root: sudo pva-install --uninstall"
		exit $E_PREREQ
	fi
	detect_init
	lock || exit $E_FAILED
	# not a transaction: an interrupted removal is finished by running it
	# again (the manifest stays until the end)
	trap on_exit EXIT
	trap 'exit $E_FAILED' INT TERM HUP
	recover
	if [ ! -f "$MANIFEST" ]; then
		say "pva is not installed by this installer (no $MANIFEST): nothing to remove."
		if dpkg_has_pva; then
			say "It is installed from Debian packages: sudo apt remove pva-guest pva-dkms"
		fi
		for v in $(dkms_versions); do
			say "DKMS has pva $v (not from this installer): sudo dkms remove $NAME/$v --all"
		done
		exit $E_OK
	fi
	un_version=$(manifest_key version)
	step "Removing pva $un_version"
	un_fail=0
	if [ -n "$systemd_running" ]; then
		for u in pva-service.service pva-mount-shares.service; do
			unit_active "$u" && run systemctl stop "$u"
		done
	else
		[ ! -x /usr/sbin/pva-mount-shares ] || run /usr/sbin/pva-mount-shares --unmount
	fi
	for p in $(pids_of /usr/sbin/pva-service) $(pids_of /usr/bin/pva-agent); do
		run kill "$p"
	done
	if [ -n "$have_systemctl" ]; then
		for u in $(sed -n 's/^unit //p' "$MANIFEST"); do
			run systemctl disable "$u" || warn "systemctl disable $u failed"
		done
	fi
	if loaded pva_core; then
		step "Unloading the modules"
		if ! unload_modules; then
			warn "some pva modules are in use and stay loaded until the next boot"
		fi
	fi
	for v in $(sed -n 's/^dkms //p' "$MANIFEST"); do
		step "Removing pva $v from DKMS"
		if [ -n "$(dkms_pva | awk -v v="$v" '$1 == v')" ]; then
			run dkms remove -m "$NAME" -v "$v" --all || { warn "dkms remove $NAME/$v failed"; un_fail=1; }
		fi
	done
	step "Removing the files"
	un_n=0
	for p in $(manifest_paths file); do
		if [ -e "$p" ] || [ -L "$p" ]; then
			if rm -f "$p"; then un_n=$((un_n + 1)); else warn "cannot remove $p"; un_fail=1; fi
		fi
	done
	for d in $(manifest_paths dir | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-); do
		[ ! -d "$d" ] || rmdir "$d" 2>/dev/null || warn "$d is not empty: left in place"
	done
	say "    $un_n files removed"
	[ -z "$systemd_running" ] || run systemctl daemon-reload
	[ -z "$udev_running" ] || run udevadm control --reload
	rm -f "$MANIFEST"
	say "pva is removed."
	loaded pva_core && say "  (a module is still loaded: it is gone after a reboot)"
	say "  the log stays: $LOG"
	[ "$un_fail" -eq 0 ] || exit $E_FAILED
	exit $E_OK
}

# ----------------------------------------------------------------- main

open_log
case $mode in
uninstall)
	do_uninstall ;;
check)
	preflight
	print_plan
	is_root || say "(not root: the installation itself needs root: sudo sh $media/install.sh)"
	say "check: OK, install.sh would do the above (nothing was changed)"
	exit $E_OK ;;
install)
	preflight
	print_plan
	do_install
	exit $E_OK ;;
esac
