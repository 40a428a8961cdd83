#!/bin/sh
# SPDX-License-Identifier: MIT
# Tests of install.sh and the .debs that really install, on the build
# machine, without changing it: everything runs in a private mount
# namespace where /usr, /etc, /var and /run are overlays on a tmpfs, so
# DKMS really builds and installs the modules, systemctl really enables
# units (offline) and dpkg really installs the packages, and all of it is
# gone when the namespace ends. The kernel is one whose headers are
# installed here (PVA_INSTALL_KVER), not the running one, so no module is
# ever loaded; modprobe, rmmod and udevadm are stubs anyway.
#
# Usage (root; after make iso):
#   packaging/iso/test-install.sh [KVER]
# KVER: a kernel with headers in /lib/modules/KVER/build (default: the
# first one found). Takes about 15 minutes (DKMS builds for every kernel
# with headers, many times). Ends with "install: N passed, N failed"; the
# installer's outputs and log are kept in build/test-install/.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)

if [ "${1:-}" != --inside ]; then
	[ "$(id -u)" = 0 ] || { echo "test-install: run as root (it needs a mount namespace)" >&2; exit 2; }
	[ -f "$top/build/pva-guest.iso" ] || { echo "test-install: no build/pva-guest.iso: run make iso" >&2; exit 2; }
	command -v xorriso >/dev/null 2>&1 || { echo "test-install: xorriso is missing" >&2; exit 2; }
	command -v dkms >/dev/null 2>&1 || { echo "test-install: dkms is missing (apt-get install dkms)" >&2; exit 2; }
	kver=${1:-}
	if [ -z "$kver" ]; then
		for d in /lib/modules/*/build; do
			[ -f "$d/Makefile" ] || continue
			kver=${d%/build}; kver=${kver##*/}; break
		done
	fi
	if [ -z "$kver" ] || [ ! -f "/lib/modules/$kver/build/Makefile" ]; then
		echo "test-install: no kernel headers under /lib/modules/*/build" >&2; exit 2
	fi
	unshare -m --propagation private sh "$0" --inside "$kver"
	rc=$?
	rmdir /tmp/pva-test-install.* 2>/dev/null
	exit $rc
fi

# ------------------------------------------------------------ the sandbox
kver=$2
sbx=/tmp/pva-test-install.$$
mkdir -p "$sbx"
mount -t tmpfs -o size=4g tmpfs "$sbx" || exit 2
for d in usr etc var run; do
	mkdir -p "$sbx/upper/$d" "$sbx/work/$d"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$sbx/upper/$d,workdir=$sbx/work/$d" "/$d" || exit 2
done
mkdir -p "$sbx/stubs"
for s in modprobe rmmod insmod udevadm mokutil; do
	printf '#!/bin/sh\necho "%s $*" >> %s/calls.log\nexit 0\n' "$s" "$sbx" > "$sbx/stubs/$s"
done
# dkms with failures on request: PVA_TEST_FAIL="ACTION VERSION" fails that
# call, PVA_TEST_CRASH=ACTION kills the installer (SIGKILL, no traps) there.
cat > "$sbx/stubs/dkms" <<'EOF'
#!/bin/sh
act=$1
ver=$(echo " $* " | sed -n 's/.* -v \([^ ]*\) .*/\1/p')
if [ -n "${PVA_TEST_FAIL:-}" ] && [ "$PVA_TEST_FAIL" = "$act $ver" ]; then
	echo "dkms stub: failing $act $ver on purpose" >&2
	exit 1
fi
if [ -n "${PVA_TEST_CRASH:-}" ] && [ "$PVA_TEST_CRASH" = "$act" ]; then
	kill -s KILL "$PPID"
	exit 1
fi
exec /usr/sbin/dkms "$@"
EOF
chmod 755 "$sbx"/stubs/*
PATH=$sbx/stubs:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
PVA_INSTALL_KVER=$kver
export PVA_INSTALL_KVER
unset PVA_TEST_FAIL PVA_TEST_CRASH

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # DESCRIPTION COMMAND...
	t_d=$1; shift
	if "$@"; then ok "$t_d"; else bad "$t_d"; fi
}
# Run the installer; keep its output; the exit status is returned.
n=0
inst() { # TREE|SCRIPT ARGS...
	n=$((n + 1))
	t_script=$1; shift
	[ ! -d "$t_script" ] || t_script=$t_script/install.sh
	sh "$t_script" "$@" > "$sbx/out.$n" 2>&1 < /dev/null
	t_rc=$?
	echo "   ($t_script $* -> $t_rc, output: out.$n)"
	return $t_rc
}
expect_rc() { # WANT DESCRIPTION TREE ARGS...
	e_want=$1 e_desc=$2; shift 2
	inst "$@"
	e_rc=$?
	if [ "$e_rc" -eq "$e_want" ]; then
		ok "$e_desc (exit $e_rc)"
	else
		bad "$e_desc: exit $e_rc, expected $e_want"
		tail -n 25 "$sbx/out.$n" | sed 's/^/      | /'
	fi
}

# What the tests changed in the system: every path the overlays hold,
# with its content as seen now; logs and DKMS's signing key (DKMS's own,
# shared by all DKMS modules) aside. A rebuilt module is not the same
# bytes (signature, compression), so modules compare by srcversion (the
# checksum of their sources) and version.
changes() {
	for d in usr etc var run; do
		(cd "$sbx/upper/$d" && find . \( -type f -o -type l -o -type c \) -print) | sed "s|^\.|/$d|"
	done | grep -v -e '^/var/log/' -e '^/var/lib/dkms/mok\.' -e '^/var/cache/' \
		-e '^/var/lib/dkms/.*/log/' -e '/make\.log$' | LC_ALL=C sort -u
}
state() {
	changes | while IFS= read -r p; do
		if [ -L "$p" ]; then echo "$p -> $(readlink "$p")"
		elif [ -f "$p" ]; then
			case $p in
			*.ko|*.ko.*) echo "$p $(modinfo -F srcversion "$p") $(modinfo -F version "$p")" ;;
			*) echo "$p $(sha256sum < "$p" | cut -c1-16)" ;;
			esac
		fi
	done
	dkms status 2>/dev/null | sed 's/^/dkms: /' | LC_ALL=C sort
}
pva_leftovers() {
	{ changes; for d in usr etc var run; do
		(cd "$sbx/upper/$d" && find . -type d -name '*pva*') | sed "s|^\.|/$d|"
	done; } | while IFS= read -r p; do
		[ -e "$p" ] || [ -L "$p" ] || continue
		case $p in *pva*) echo "$p" ;; esac
	done
	dkms status 2>/dev/null | grep -i pva
}

# --------------------------------------------------------------- trees
t1=$sbx/iso-a
xorriso -osirrox on -indev "$top/build/pva-guest.iso" -extract / "$t1" >/dev/null 2>&1 || exit 2
v1=$(cat "$t1/VERSION")
check "the ISO keeps install.sh executable" test -x "$t1/install.sh"

# Another version of the same ISO: VERSION and the DKMS version changed,
# one file dropped and one added (as a release would); BROKEN also breaks
# the module build.
sums() { (cd "$1" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum) > "$1/SHA256SUMS"; }
mk_version() { # DIR VERSION [broken]
	cp -a "$t1" "$1"
	chmod -R u+w "$1"
	echo "$2" > "$1/VERSION"
	mv "$1/src/pva-$v1" "$1/src/pva-$2"
	sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$2\"/" "$1/src/pva-$2/dkms.conf"
	for a in x86_64 aarch64; do
		rm "$1/linux/$a/usr/share/man/man1/pva-agent.1"
		mkdir -p "$1/linux/$a/usr/share/doc/pva"
		echo "pva $2" > "$1/linux/$a/usr/share/doc/pva/NEWS"
	done
	[ "${3:-}" != broken ] ||
		echo '#error broken on purpose' >> "$1/src/pva-$2/kernel/linux/balloon/pva_balloon.c"
	sums "$1"
}
t2=$sbx/iso-b; mk_version "$t2" 9.0.1
t3=$sbx/iso-c; mk_version "$t3" 9.0.2 broken

echo "== sandbox $sbx, kernel $kver, pva $v1"

# ---------------------------------------------------------- --check
expect_rc 0 "--check with everything there" "$t1" --check
check "--check changed nothing (the overlays are empty)" test -z "$(find "$sbx/upper" -mindepth 2 | head -n 1)"
[ -z "$(find "$sbx/upper" -mindepth 2 | head -n 1)" ] || find "$sbx/upper" -mindepth 2 | sed 's/^/      | /' 

# ------------------------------------------------ a failing first install
# a directory where the autostart file goes: the file step fails after
# the sources and DKMS were done
mkdir -p /etc/xdg/autostart/pva-agent.desktop
expect_rc 1 "a fresh install that fails at the files is rolled back" "$t1" --yes
rmdir /etc/xdg/autostart/pva-agent.desktop
check "  nothing of it is left" test -z "$(pva_leftovers)"
check "  the log tells" grep -q 'Undoing what was done' /var/log/pva-install.log

# ----------------------------------------------------------- install
expect_rc 0 "install $v1" "$t1" --yes
check "  the manifest is there" test -f /var/lib/pva/manifest
check "  DKMS has it installed for $kver" sh -c "dkms status -m pva -v $v1 -k $kver | grep -q installed"
check "  the modules are in /lib/modules/$kver/updates/dkms" sh -c "ls /lib/modules/$kver/updates/dkms/pva_core.ko*"
check "  /usr/src/pva-$v1 holds dkms.conf and Kbuild" test -f "/usr/src/pva-$v1/dkms.conf" -a -f "/usr/src/pva-$v1/Kbuild"
check "  pva-service is installed" test -x /usr/sbin/pva-service
check "  pva-install is installed" test -x /usr/sbin/pva-install
check "  pva-service.service is enabled" test -L /etc/systemd/system/multi-user.target.wants/pva-service.service
check "  pva-mount-shares.service is enabled" test -L /etc/systemd/system/multi-user.target.wants/pva-mount-shares.service
manifest_sums() { awk '$1 == "file" { print $2 "  " $3 }' /var/lib/pva/manifest | sha256sum -c --quiet; }
check "  every manifest file exists with its checksum" manifest_sums
check "  the summary names the log and uninstall" grep -q 'uninstall:.*pva-install --uninstall' "$sbx/out.$n"
check "  no module was loaded (not the running kernel)" test ! -s "$sbx/calls.log"

expect_rc 0 "--check of the installed system" "$t1" --check
check "  it says repair" grep -q 'is repaired' "$sbx/out.$n"

# ------------------------------------------------------------- repair
rm /usr/sbin/pva-mount-shares
expect_rc 0 "install again (repair) after a file was deleted" "$t1" --yes
check "  the deleted file is back" test -x /usr/sbin/pva-mount-shares
check "  one DKMS version" test "$(dkms status -m pva | awk -F'[/,]' '{ print $2 }' | sort -u | wc -l)" -eq 1

# -------------------------------------------------- a failing upgrade
before=$(state)
expect_rc 1 "an upgrade whose build fails is rolled back" "$t3" --yes
check "  the build error is shown" grep -q 'broken on purpose' "$sbx/out.$n"
check "  the system is exactly as before" test "$before" = "$(state)"

before=$(state)
PVA_TEST_FAIL="install 9.0.1"
export PVA_TEST_FAIL
expect_rc 1 "an upgrade failing after the old DKMS version was removed is rolled back" "$t2" --yes
unset PVA_TEST_FAIL
check "  the system is exactly as before (old version back in DKMS)" test "$before" = "$(state)"
if [ "$before" != "$(state)" ]; then
	echo "$before" > "$sbx/state.before"; state > "$sbx/state.after"
	diff "$sbx/state.before" "$sbx/state.after" | sed 's/^/      | /'
fi

# -------------------------------------------------- crash and recovery
before=$(state)
PVA_TEST_CRASH=build
export PVA_TEST_CRASH
expect_rc 137 "an upgrade killed (SIGKILL) during the build" "$t2" --yes
unset PVA_TEST_CRASH
check "  it left its undo log" test -f /var/lib/pva/txn/undo
expect_rc 0 "--check says so" "$t1" --check
check "  (interrupted)" grep -q 'interrupted' "$sbx/out.$n"
expect_rc 0 "the next run undoes the killed one, then installs" "$t1" --yes
check "  it said so" grep -q 'earlier run was interrupted' "$sbx/out.$n"
check "  the system is as before the killed run" test "$before" = "$(state)"

# ------------------------------------------------------------ upgrade
expect_rc 0 "upgrade to 9.0.1" "$t2" --yes
check "  the manifest says 9.0.1" grep -qx 'version 9.0.1' /var/lib/pva/manifest
check "  DKMS has only 9.0.1" test "$(dkms status -m pva | grep -c "$v1")" -eq 0
check "  /usr/src/pva-$v1 is gone" test ! -e "/usr/src/pva-$v1"
check "  the file 9.0.1 dropped is gone" test ! -e /usr/share/man/man1/pva-agent.1
check "  the file 9.0.1 added is there" test -f /usr/share/doc/pva/NEWS
expect_rc 0 "downgrade back to $v1" "$t1" --yes
check "  the 9.0.1-only file and its directory are gone" test ! -e /usr/share/doc/pva

# ---------------------------------------------------------- uninstall
expect_rc 0 "uninstall (the installed copy, no ISO)" /usr/sbin/pva-install --uninstall
check "  nothing of pva is left" test -z "$(pva_leftovers)"
[ -z "$(pva_leftovers)" ] || pva_leftovers | sed 's/^/      | /'
check "  no unit is enabled" test ! -e /etc/systemd/system/multi-user.target.wants/pva-service.service
expect_rc 0 "uninstall again: nothing to do" "$t1" --uninstall

# ------------------------------------------------------- no systemd
mv /usr/bin/systemctl /usr/bin/systemctl.hidden
expect_rc 0 "install without systemd" "$t1" --yes
check "  no unit installed" test ! -e /usr/lib/systemd/system/pva-service.service
check "  the summary says how to start pva-service" grep -q '/usr/sbin/pva-service &' "$sbx/out.$n"
expect_rc 0 "uninstall without systemd" "$t1" --uninstall
mv /usr/bin/systemctl.hidden /usr/bin/systemctl
check "  nothing of pva is left" test -z "$(pva_leftovers)"

# ------------------------------------- prerequisites from the package manager
mv "$sbx/stubs/dkms" "$sbx/dkms.stub"
if apt-get -qq -o Dpkg::Use-Pty=0 remove -y dkms > "$sbx/apt.log" 2>&1; then
	expect_rc 3 "without dkms and --no-packages: stop" "$t1" --no-packages
	check "  and name the command" grep -q 'apt-get install dkms' "$sbx/out.$n"
	expect_rc 0 "without dkms and --yes: apt-get installs it, then pva" "$t1" --yes
	check "  dkms is installed" sh -c 'command -v dkms'
	check "  by apt-get, said in the log" grep -q 'apt-get install -y dkms' /var/log/pva-install.log
	expect_rc 0 "uninstall" "$t1" --uninstall
else
	echo "skip: could not remove dkms in the sandbox"
fi
command -v dkms >/dev/null 2>&1 || apt-get -qq install -y dkms >> "$sbx/apt.log" 2>&1
mv "$sbx/dkms.stub" "$sbx/stubs/dkms"

# -------------------------------------------------------------- .debs
deb=$t1/deb
darch=$(dpkg --print-architecture)
if dpkg -i "$deb/pva-dkms_${v1}_all.deb" "$deb/pva-guest_${v1}_$darch.deb" > "$sbx/dpkg.log" 2>&1; then
	ok "dpkg -i pva-dkms pva-guest"
else
	bad "dpkg -i pva-dkms pva-guest"; tail -n 30 "$sbx/dpkg.log" | sed 's/^/      | /'
fi
check "  DKMS built and installed for $kver" sh -c "dkms status -m pva -v $v1 -k $kver | grep -q installed"
check "  the units are enabled (deb-systemd-helper)" test -L /etc/systemd/system/multi-user.target.wants/pva-service.service
expect_rc 3 "install.sh refuses while the .debs are installed" "$t1" --yes
check "  and says why" grep -q 'installed from Debian packages' "$sbx/out.$n"
if dpkg --purge pva-guest pva-dkms > "$sbx/dpkg.log" 2>&1; then ok "dpkg --purge"; else bad "dpkg --purge"; fi
check "  nothing of pva is left" test -z "$(pva_leftovers | grep -v -e '^/var/lib/dpkg/' -e '^/var/lib/systemd/deb-systemd-helper')"
expect_rc 0 "install.sh after that" "$t1" --yes
if dpkg -i "$deb/pva-dkms_${v1}_all.deb" > "$sbx/dpkg.log" 2>&1; then
	bad "dpkg -i pva-dkms over an install.sh installation should refuse"
else
	check "dpkg -i pva-dkms refuses over an install.sh installation" grep -q 'pva-install --uninstall' "$sbx/dpkg.log"
fi
expect_rc 0 "uninstall" "$t1" --uninstall

# the installer's outputs and logs, for reading afterwards
res=$top/build/test-install
rm -rf "$res"
mkdir -p "$res"
cp "$sbx"/out.* "$sbx"/*.log /var/log/pva-install.log "$res/" 2>/dev/null
echo "outputs: $res"
echo "install: $pass passed, $fail failed"
cd /
umount /run /var /etc /usr 2>/dev/null
[ "$fail" -eq 0 ]
