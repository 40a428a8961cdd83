# SPDX-License-Identifier: MIT
# Installing pva from its ISO in a real guest, the way a user does: the
# host's Debian booted with systemd, its root's changes on a virtual disk so
# they survive reboots, pva-guest.iso attached as a CD-ROM. Boot 1 (6.1):
# the installer refuses without kernel headers and with a corrupted file,
# changing nothing; then installs (DKMS builds the modules, the services
# start, the features answer the host), and again (a repair: nothing is
# rebuilt); a second kernel (6.12) and its headers are installed with dpkg
# and DKMS builds pva for it from the kernel's hook. Boot 2 (6.12): it all
# comes back by itself on the new kernel; --uninstall leaves nothing of
# pva. Run by vmtest.py (x86_64: the host's programs); the harness boots
# the kernels vmtest-kernels names, one per boot, on the same disk.
# vmtest-hostroot: yes
# vmtest-init: systemd
# vmtest-disk: 4096
# vmtest-kmods: yes
# vmtest-cdrom: build/pva-guest.iso
# vmtest-kernels: 6.1 6.12
# vmtest-mem: 1536
. /tests/lib.sh

STATE=/var/lib/pva-test	# on the guest's disk: survives the reboots
CD=/mnt/cdrom
# where pva may put files; their lists are compared before and after
DIRS="/usr/src /usr/lib/systemd/system /usr/lib/udev/rules.d /etc/systemd/system
	/etc/udev/rules.d /etc/xdg/autostart /usr/bin /usr/sbin /usr/share/man
	/var/lib/dkms /var/lib/pva /etc/modules-load.d /etc/modprobe.d"

files_now() {
	for d in $DIRS; do
		[ -e "$d" ] && find "$d" \( -type f -o -type l \) 2>/dev/null
	done | sort
}

mount_cd() {
	mkdir -p $CD
	mountpoint -q $CD && return 0
	wait_for 30 "no CD-ROM drive" test -b /dev/sr0
	mount -o ro /dev/sr0 $CD || die "cannot mount the ISO"
	[ -x $CD/install.sh ] || die "no install.sh on the ISO"
}

# features: the device and every driver bound, the service up, the host
# hears the agent
features_ok() {
	wait_for 60 "pva_core is not bound" test -e /sys/bus/pci/drivers/pva_core
	for drv in pva_balloon pva_sf pva_drm; do
		wait_for 30 "$drv is not loaded and bound" \
			sh -c "ls /sys/bus/auxiliary/drivers/$drv/ | grep -q pva_core"
	done
	wait_for 60 "pva-service is not active" systemctl is-active -q pva-service
	_i=0
	until hostcmd status-cmp services[agent].agent.agent eq true; do
		_i=$((_i + 1)); [ $_i -lt 120 ] || die "the host does not hear the agent service"
		sleep 0.5
	done
	hostcmd hostctl status | tail -n 6 || true
	hostcmd guest-info kernel.release "$(uname -r)" || die "guest info: wrong kernel"
}

dkms_installed_for() {
	dkms status pva 2>/dev/null | grep -q "pva/.*, $1, .*: installed"
}

t_boot1_prepare() {
	mkdir -p $STATE
	# the harness boots its own initramfs: the kernel hook's is not needed
	ln -sf /bin/true /etc/kernel/postinst.d/initramfs-tools
	# the host's root has the headers of other kernels (6.12): hidden
	# until the kernel upgrade, which is when a user installs them, so
	# that its DKMS build is the kernel hook's
	: > $STATE/hidden
	for b in /lib/modules/*/build; do
		[ "$b" = "/lib/modules/$(uname -r)/build" ] && continue
		[ -e "$b" ] || continue
		mv "$b" "$b.pva-test-hidden" && echo "$b" >> $STATE/hidden
	done
	cat $STATE/hidden
	files_now > $STATE/before.txt
	wc -l < $STATE/before.txt
	mount_cd
	cat $CD/VERSION
}

t_no_headers() {
	build=/lib/modules/$(uname -r)/build
	mv "$build" "$build.hidden" || die "cannot hide the headers"
	$CD/install.sh --no-packages > /tmp/noh.out 2>&1
	rc=$?
	mv "$build.hidden" "$build"
	cat /tmp/noh.out
	[ $rc = 3 ] || die "without headers the installer exited $rc, not 3"
	grep -q "linux-headers-$(uname -r)" /tmp/noh.out ||
		die "the message does not name linux-headers-$(uname -r)"
	files_now | cmp -s - $STATE/before.txt || die "files changed though it stopped"
}

t_corrupt() {
	rm -rf /tmp/iso
	cp -a $CD /tmp/iso
	# one byte of the module sources changes
	f=$(find /tmp/iso -name '*.c' | head -n 1)
	[ -n "$f" ] || die "no C source on the ISO"
	printf 'X' | dd of="$f" bs=1 seek=10 conv=notrunc 2>/dev/null
	/tmp/iso/install.sh --no-packages > /tmp/bad.out 2>&1
	rc=$?
	cat /tmp/bad.out
	[ $rc = 4 ] || die "a corrupted ISO file: exit $rc, not 4"
	grep -qi "checksum" /tmp/bad.out || die "no checksum error message"
	files_now | cmp -s - $STATE/before.txt || die "files changed though the checksum failed"
	rm -rf /tmp/iso
}

t_install() {
	$CD/install.sh --no-packages > /tmp/inst.out 2>&1
	rc=$?
	cat /tmp/inst.out
	[ $rc = 0 ] || die "install.sh exited $rc"
	dkms status
	dkms_installed_for "$(uname -r)" || die "DKMS has no installed pva for $(uname -r)"
	[ -s /var/log/pva-install.log ] || die "no install log"
	features_ok
	files_now > $STATE/installed.txt
	diff $STATE/before.txt $STATE/installed.txt | grep '^>' | head -n 40
}

t_again() {
	$CD/install.sh --no-packages > /tmp/again.out 2>&1 || die "a second run failed"
	tail -n 15 /tmp/again.out
	grep -q "not rebuilt" /tmp/again.out ||
		die "the repair built the same modules again"
	dkms_installed_for "$(uname -r)" || die "DKMS lost pva"
	files_now | cmp -s - $STATE/installed.txt || {
		files_now | diff $STATE/installed.txt - | head -n 20
		die "a second run changed the set of files"
	}
	features_ok
}

t_boot1_reboot() {
	sync
}

t_kernel_upgrade() {
	deb=$(ls /var/cache/pva/debs/linux-image-6.12.*-amd64-unsigned_*_amd64.deb | head -n 1)
	[ -f "$deb" ] || die "no 6.12 kernel package in the cache"
	k612=$(dpkg-deb -f "$deb" Package | sed 's/^linux-image-//; s/-unsigned$//')
	dkms_installed_for "$k612" && die "pva is built for $k612 before its kernel is installed"
	echo "the headers of $k612 (hidden since boot 1) come back"
	while read -r b; do
		mv "$b.pva-test-hidden" "$b" || die "cannot restore $b"
	done < $STATE/hidden
	echo "installing $k612 from $deb"
	# without an fsync per file (thousands of modules; minutes under TCG)
	dpkg --force-unsafe-io -i "$deb" > /tmp/dpkg.out 2>&1 || { tail -n 30 /tmp/dpkg.out; die "dpkg -i failed"; }
	grep -i dkms /tmp/dpkg.out | head -n 10
	dkms_installed_for "$k612" || { dkms status; die "the kernel hook did not build pva for $k612"; }
	ls /lib/modules/$k612/updates/dkms/
	echo "$k612" > $STATE/k612
	sync
}

t_boot2() {
	[ "$(uname -r)" = "$(cat $STATE/k612)" ] || die "booted $(uname -r), not $(cat $STATE/k612)"
	features_ok
	lsmod | grep pva
	modinfo -n pva_core | grep -q "$(uname -r)/updates/dkms" ||
		die "pva_core is not DKMS's build for this kernel: $(modinfo -n pva_core)"
	# the features work, not only bind: a ping through the control ring
	hostcmd hostctl ping -c 100 || die "ping"
}

t_uninstall() {
	mount_cd
	$CD/install.sh --uninstall > /tmp/un.out 2>&1
	rc=$?
	cat /tmp/un.out
	[ $rc = 0 ] || die "--uninstall exited $rc"
	! dkms status pva 2>/dev/null | grep -q pva || die "DKMS still knows pva"
	! lsmod | grep -q '^pva_' || die "pva modules still loaded"
	! systemctl is-active -q pva-service || die "pva-service still runs"
	ls /lib/modules/*/updates/dkms/pva* 2>/dev/null && die "pva modules left"
	# DKMS's own signing key (made at its first build, used by every
	# DKMS module, perhaps enrolled as a MOK) is not pva's to remove
	files_now | grep -v -e "^/usr/src/linux-" -e "^/var/lib/dkms/mok\.\(key\|pub\)$" > /tmp/after.txt
	grep -v "^/usr/src/linux-" $STATE/before.txt > /tmp/before.txt
	if ! cmp -s /tmp/before.txt /tmp/after.txt; then
		diff /tmp/before.txt /tmp/after.txt | head -n 30
		die "files differ from before the install"
	fi
}

case "$PVA_BOOT" in
1)
	t_run boot1-prepare t_boot1_prepare
	t_run no-headers t_no_headers
	t_run corrupt t_corrupt
	t_run install t_install
	t_run again t_again
	t_run kernel-upgrade t_kernel_upgrade
	t_run boot1-reboot t_boot1_reboot
	systemctl reboot
	sleep 600
	;;
2)
	t_run boot2 t_boot2
	t_run uninstall t_uninstall
	;;
esac
