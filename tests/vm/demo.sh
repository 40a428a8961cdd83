# SPDX-License-Identifier: MIT
# The demo (make demo): pva in a guest, seen from both sides.
# vmtest-host-args: --test-service selftest --vnc 127.0.0.1:@FREEPORT@
# vmtest-clipdata: yes
# vmtest-modules: drm drm_kms_helper drm_shmem_helper
# vmtest-shares: main
# vmtest-hostroot: yes
# vmtest-install: yes
. /tests/lib.sh

t_demo() {
	echo "--- guest: loading pva_core"
	load
	d=$(pva_sysdir)
	echo "--- guest: $d"
	for a in state protocol_version features generation driver_version; do
		echo "    $a: $(cat "$d/$a")"
	done
	echo "    services (id name type vector tx rx full):"
	sed 's/^/      /' "$d/services"
	ls -l /dev/pva
	echo "--- host: pva-hostctl status"
	hostcmd hostctl status || die "status failed"
	echo "--- host: pva-hostctl ping -c 10000 (host -> guest driver -> host)"
	hostcmd hostctl ping -c 10000 || die "ping failed"
	echo "--- guest: 10000 echo round trips through /dev/pva"
	pva-test ping 10000 64 1
	echo "--- guest: 64 MiB each way, every byte checked"
	pva-test sink 67108864 65536
	pva-test source 67108864 65536
	echo "--- host: the worker is killed; the guest carries on"
	pva-test host-restart kill-worker
	hostcmd hostctl status || die "status failed"

	echo "--- guest: loading pva_balloon; touching free memory"
	load_balloon reporting=0
	pva-test hog $(($(awk '/^MemAvailable/ { print int($2 / 1024) }' /proc/meminfo) - 48))
	free -m
	echo "--- host: pva-hostctl balloon set 256M"
	hostcmd hostctl balloon set 256M || die "balloon set failed"
	wait_actual 256
	hostcmd hostctl balloon stats --interval 1 >/dev/null
	hostcmd hostctl balloon status || die "balloon status failed"
	echo "--- guest: 256 MiB less"
	free -m
	echo "--- host: pva-hostctl balloon set 0"
	hostcmd hostctl balloon set 0 || die "balloon set failed"
	wait_actual 0
	hostcmd hostctl balloon status || die "balloon status failed"
	free -m

	echo "--- guest: loading pva_sf; the host's shares"
	insmod /modules/pva_sf.ko || die "insmod pva_sf failed"
	cat /sys/bus/auxiliary/devices/pva_core.sf.*/shares
	mkdir -p /mnt/main
	mount -t pvasf main /mnt/main || die "mount failed"
	grep pvasf /proc/mounts
	echo "--- host writes a file; the guest reads it"
	hostcmd hostfs write main/from-host.txt hello from the host
	cat /mnt/main/from-host.txt
	echo "--- guest writes a file; the host reads it"
	echo "hello from the guest" > /mnt/main/from-guest.txt
	hostcmd hostfs cat-is main/from-guest.txt hello from the guest ||
		die "the host did not see it"
	echo "--- guest watches the share; the host changes it"
	fs-notify watch /mnt/main 5000 create:new.txt delete:new.txt &
	sleep 1
	hostcmd hostfs write main/new.txt new
	hostcmd hostfs rm main/new.txt
	wait $! || die "no events"
	echo "--- a symlink pointing outside the share leads nowhere"
	ls -l /mnt/main/escape-rel 2>/dev/null || true
	cat /mnt/main/escape-rel/secret.txt 2>&1 | head -n 1
	echo "--- host: pva-hostctl share list"
	hostcmd hostctl share list || die "share list failed"
	umount /mnt/main

	echo "--- guest: loading pva_drm; the console moves to it"
	insmod /modules/pva_drm.ko || die "insmod pva_drm failed"
	sleep 1
	dmesg | grep -E "pva_drm|frame buffer" | tail -n 3
	pva-drmtest list
	for i in 1 2 3 4 5 6; do
		echo "pva demo: the guest console, drawn by fbcon on pva_drm ($i)" > /dev/tty1
	done
	sleep 1
	echo "--- host: a screenshot of the guest's console"
	hostcmd screenshot 0 demo-console nonblack 1000 || die "screenshot failed"
	echo "--- host: pva-hostctl display resize 1280 800 (a bigger VM window)"
	hostcmd hostctl display resize 1280 800 || die "resize failed"
	pva-drmtest wait-preferred Virtual-1 1280x800 || die "no new preferred mode"
	echo "--- host: a second monitor, 800x600"
	hostcmd hostctl display resize 800 600 --head 1 || die "resize failed"
	pva-drmtest wait-status Virtual-2 connected || die "no second head"
	pva-drmtest list
	echo "--- guest: a KMS client draws and page-flips; the host gets each frame"
	pva-drmtest pattern --connector Virtual-1 --mode 1280x800 --frames 30 --hold 60 > /tmp/p.out &
	until grep -q fnv= /tmp/p.out; do sleep 0.2; done
	cat /tmp/p.out
	hostcmd screenshot 0 demo-pattern fnv "$(sed -n 's/.*fnv=\([0-9a-f]*\).*/\1/p' /tmp/p.out)" ||
		die "the host's picture is not the guest's frame"
	echo "--- host: what a VNC viewer sees is the same frame"
	hostcmd vnc-check fnv "$(sed -n 's/.*fnv=\([0-9a-f]*\).*/\1/p' /tmp/p.out)" ||
		die "the VNC view differs"
	kill $! 2>/dev/null
	hostcmd hostctl display heads || die "display heads failed"

	echo "--- guest: pva-service, and a desktop session: Xorg on pva_drm with pva-agent"
	pva-service --no-logind > /tmp/svc.log 2>&1 &
	xorg_conf
	Xorg :0 -noreset -nolisten tcp -nocursor vt1 -config /tmp/xorg.conf -ac \
		-logfile /tmp/Xorg.0.log < /dev/null > /dev/null 2>&1 &
	_i=0
	until DISPLAY=:0 xrandr > /dev/null 2>&1; do
		_i=$((_i + 1)); [ $_i -lt 120 ] || die "Xorg did not start"; sleep 0.5
	done
	DISPLAY=:0 xsetroot -solid '#2a5599'
	DISPLAY=:0 pva-agent > /tmp/agent.log 2>&1 &
	_i=0
	until hostcmd guest-info session.agent yes; do
		_i=$((_i + 1)); [ $_i -lt 120 ] || die "the agent did not connect"; sleep 0.5
	done
	echo "--- host: pva-hostctl guest"
	hostcmd hostctl guest || die "guest failed"
	echo "--- host copies text (UTF-8); the guest's X11 session pastes it (xclip -o)"
	hostcmd clip-set utf8 || die "clipboard set failed"
	DISPLAY=:0 xclip -o -selection clipboard; echo
	echo "--- guest copies (xclip -i); the host pastes it: pva-hostctl clipboard get"
	echo "copied in the guest, pasted on the host" |
		DISPLAY=:0 xclip -i -selection clipboard > /dev/null 2>&1
	sleep 1
	hostcmd hostctl clipboard get || die "clipboard get failed"
	echo "--- and an image: the host copies a PNG, the guest pastes it"
	hostcmd clip-set png image/png || die "clipboard set failed"
	DISPLAY=:0 xclip -o -selection clipboard -t image/png > /tmp/got.png
	cmp /tmp/got.png /tests/clip/png && echo "    $(wc -c < /tmp/got.png) bytes of PNG, the same as the host's"
	echo "--- host: pva-hostctl display resize 1440 900; the X11 session follows (RandR)"
	hostcmd hostctl display resize 1440 900 || die "resize failed"
	_i=0
	until DISPLAY=:0 xrandr | grep -qE "^Virtual-1 connected (primary )?1440x900"; do
		_i=$((_i + 1)); [ $_i -lt 60 ] || die "the session did not follow"; sleep 0.5
	done
	DISPLAY=:0 xrandr | grep -E "^Screen|^Virtual-[12] connected"
	hostcmd screenshot 0 demo-desktop nonblack 1000 || die "screenshot failed"
	hostcmd hostctl display heads || die "display heads failed"
	pkill pva-agent
	pkill Xorg
	pkill pva-service
}

PVA_LIVE=1 t_run demo t_demo
