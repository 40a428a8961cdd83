# SPDX-License-Identifier: MIT
# The end of the demo (make demo): a guest set up the way a user does it,
# from the ISO. The host's Debian boots with systemd, its root's changes on
# a virtual disk, build/pva-guest.iso in the CD-ROM drive; install.sh
# builds the modules with DKMS, starts the services, and then the features
# answer the host with nothing loaded or started by hand.
# vmtest-hostroot: yes
# vmtest-init: systemd
# vmtest-disk: 4096
# vmtest-kmods: yes
# vmtest-cdrom: build/pva-guest.iso
# vmtest-mem: 1536
# vmtest-shares: main
. /tests/lib.sh

CD=/mnt/cdrom

t_demo_install() {
	# the harness boots its own initramfs: the kernel hook's is not needed
	ln -sf /bin/true /etc/kernel/postinst.d/initramfs-tools
	# the host's root has other kernels' headers too: the installer would
	# build for each of them (minutes apiece under TCG)
	for b in /lib/modules/*/build; do
		[ "$b" = "/lib/modules/$(uname -r)/build" ] || mv "$b" "$b.demo-hidden"
	done
	echo "--- guest: the pva ISO in the CD-ROM drive"
	mkdir -p $CD
	wait_for 30 "no CD-ROM drive" test -b /dev/sr0
	mount -o ro /dev/sr0 $CD || die "cannot mount the ISO"
	ls $CD
	echo "--- guest: $CD/install.sh (DKMS builds the modules: minutes under TCG)"
	$CD/install.sh --no-packages || die "install.sh failed"

	echo "--- guest: what the installer left running"
	dkms status pva
	lsmod | grep '^pva'
	systemctl --no-pager --lines=0 status pva-service | head -n 4
	wait_for 60 "pva-service is not active" systemctl is-active -q pva-service
	_i=0
	until hostcmd status-cmp services[agent].agent.agent eq true; do
		_i=$((_i + 1)); [ $_i -lt 120 ] || die "the host does not hear pva-service"
		sleep 0.5
	done
	echo "--- host: pva-hostctl status"
	hostcmd hostctl status || die "status failed"
	echo "--- host: pva-hostctl guest (what pva-service reports)"
	hostcmd hostctl guest || die "guest failed"

	echo "--- host: pva-hostctl balloon set 128M, then 0"
	hostcmd hostctl balloon set 128M || die "balloon set failed"
	wait_actual 128
	free -m | head -n 2
	hostcmd hostctl balloon set 0 || die "balloon set failed"
	wait_actual 0

	echo "--- guest: the host's share, mounted by pva-mount-shares"
	wait_for 30 "the share is not mounted" grep -q pvasf /proc/mounts
	grep pvasf /proc/mounts
	m=$(awk '$3 == "pvasf" { print $2; exit }' /proc/mounts)
	hostcmd hostfs write main/from-host.txt written on the host
	cat "$m/from-host.txt" || die "cannot read the host's file"

	echo "--- guest: the console on pva_drm; the host's screenshot of it"
	wait_for 30 "no pva_drm card" test -e /dev/dri/card0
	for i in 1 2 3 4 5 6; do
		echo "pva demo: installed from the ISO, drawn on pva_drm ($i)" > /dev/tty1
	done
	sleep 1
	hostcmd screenshot 0 demo-installed nonblack 1000 || die "screenshot failed"
	hostcmd hostctl display heads || die "display heads failed"
	echo "--- guest: uninstall with pva-install --uninstall (the disc is not needed)"
	umount $CD
	pva-install --uninstall | tail -n 5 || die "uninstall failed"
}

PVA_LIVE=1 t_run demo-install t_demo_install
