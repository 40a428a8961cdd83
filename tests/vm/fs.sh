# SPDX-License-Identifier: MIT
# Shared folders: pva_sf.ko against pva-host's sf service, sharing fresh
# host directories (tests/vm/hostfs.py): POSIX semantics, random I/O,
# mmap, change notification, host/guest coherence, large directories and
# files, read-only shares, confinement, host restarts. Run by vmtest.py.
# vmtest-shares: main ro,ro extra
. /tests/lib.sh

M=/mnt/main

mount_share() {	# NAME DIR [OPTIONS]
	mkdir -p "$2"
	mount -t pvasf ${3:+-o "$3"} "$1" "$2" || die "mount $1 ($3) failed"
}

# the sha256 of a guest file
gsha() {
	sha256sum "$1" | cut -d ' ' -f 1
}

t_load() {
	load
	insmod /modules/pva_sf.ko || die "insmod pva_sf failed"
	d=$(ls -d /sys/bus/auxiliary/devices/pva_core.sf.* | head -n 1)
	[ -e "$d/driver" ] || die "no bound sf device"
	cat "$d/shares" | sort | tr '\n' ' ' > /tmp/shares
	[ "$(cat /tmp/shares)" = "extra main ro " ] ||
		die "shares offered: $(cat /tmp/shares)"
	mount_share main $M
	grep -q "^main $M pvasf " /proc/mounts || die "not in /proc/mounts: $(grep pvasf /proc/mounts)"
	mount_share ro /mnt/ro
	mount_share main /mnt/nocache cache=none
	# an unknown share, a bad option
	mkdir -p /mnt/x
	! mount -t pvasf nosuch /mnt/x 2>/dev/null || die "mounted an unknown share"
	! mount -t pvasf -o cache=bogus main /mnt/x 2>/dev/null ||
		die "accepted cache=bogus"
}

# Guest writes reach the host, host writes reach the guest.
t_basic() {
	echo "hello from the guest" > $M/g.txt
	hostcmd hostfs cat-is main/g.txt hello from the guest ||
		die "host does not see the guest's write"
	hostcmd hostfs write main/h.txt hello from the host
	[ "$(cat $M/h.txt)" = "hello from the host" ] || die "guest read: $(cat $M/h.txt)"
	mkdir $M/d1 && touch $M/d1/a $M/d1/b
	hostcmd hostfs count main/d1 2 || die "host sees the wrong entries"
	[ "$(ls $M/d1 | tr '\n' ' ')" = "a b " ] || die "ls: $(ls $M/d1)"
	chmod 640 $M/d1/a
	hostcmd hostfs mode-is main/d1/a 640 || die "chmod did not reach the host"
	rm -r $M/d1
	hostcmd hostfs missing main/d1 || die "rm -r did not reach the host"
	df $M | grep -q main || die "statfs: $(df $M)"
	[ "$(cat /mnt/nocache/h.txt)" = "hello from the host" ] ||
		die "cache=none read failed"
}

t_posix() {
	mkdir $M/posix
	fs-posix $M/posix
}

t_posix_nocache() {
	mkdir /mnt/nocache/posix2
	fs-posix --quick /mnt/nocache/posix2
}

t_fsx() {
	fs-fsx -N 4000 -S 1 -l 256K $M
	fs-fsx -N 2000 -S 2 -d $M
	fs-fsx -N 2000 -S 3 /mnt/nocache
}

# MAP_SHARED writes reach the host; host changes reach a fresh mapping.
t_mmap() {
	fs-mmap write $M/map1 1000000 7 || die "mmap write failed"
	hostcmd hostfs sha256-is main/map1 "$(gsha $M/map1)" ||
		die "the host has other bytes than the guest wrote through mmap"
	fs-mmap verify $M/map1 1000000 7 || die "mmap verify failed"
	fs-mmap dirty-close $M/map2 300000 9 || die "dirty-close failed"
	echo 3 > /proc/sys/vm/drop_caches
	fs-mmap verify $M/map2 300000 9 || die "dirty pages lost"
	hostcmd hostfs sha256-is main/map2 "$(gsha $M/map2)" || die "map2 differs"
	hostcmd hostfs write-size main/map1 5000
	sleep 1.2	# beyond the attribute timeout
	[ "$(stat -c %s $M/map1)" = 5000 ] || die "size after host change: $(stat -c %s $M/map1)"
	hostcmd hostfs sha256-is main/map1 "$(gsha $M/map1)" ||
		die "guest reads stale data after a host change"
	fs-mmap selftest $M
}

# watch DIR EVENT...: start fs-notify in the background, wait for "ready"
watch() {
	_dir=$1
	shift
	fs-notify watch "$_dir" 5000 "$@" > /tmp/notify.out &
	watch_pid=$!
	i=0
	until grep -q ready /tmp/notify.out; do
		i=$((i + 1))
		[ $i -lt 50 ] || die "fs-notify did not start"
		sleep 0.1
	done
}

# inotify in the guest fires for changes made on the host. A change to a
# file that is gone again by the time the guest hears of it has no inode
# to report it on, so the steps wait for their events.
t_notify() {
	mkdir $M/watch
	touch $M/watch/old
	watch $M/watch create:new modify:new attrib:old
	hostcmd hostfs write main/watch/new first
	hostcmd hostfs append main/watch/new second
	hostcmd hostfs chmod main/watch/old 600
	wait $watch_pid || die "events missing: $(cat /tmp/notify.out)"
	cat /tmp/notify.out
	watch $M/watch moved_from:new moved_to:renamed delete:renamed
	hostcmd hostfs rename main/watch/new main/watch/renamed
	hostcmd hostfs rm main/watch/renamed
	wait $watch_pid || die "events missing: $(cat /tmp/notify.out)"
	cat /tmp/notify.out
	# the cache follows at once: no stale entry
	[ ! -e $M/watch/renamed ] || die "a deleted file is still there"
}

# Without notifications, host changes show within the attribute timeout.
t_coherence() {
	mount_share main /mnt/t attr_timeout=300,entry_timeout=300
	echo one > /mnt/t/c.txt
	[ "$(cat /mnt/t/c.txt)" = one ] || die "first read"
	hostcmd hostfs write main/c.txt two two
	sleep 0.5
	[ "$(cat /mnt/t/c.txt)" = "two two" ] || die "stale after the timeout: $(cat /mnt/t/c.txt)"
	hostcmd hostfs rm main/c.txt
	sleep 0.5
	[ ! -e /mnt/t/c.txt ] || die "a file removed on the host is still there"
	umount /mnt/t || die "umount failed"
}

t_bigdir() {
	hostcmd hostfs make-files main/big 10000
	n=$(ls $M/big | wc -l)
	[ "$n" = 10000 ] || die "listed $n of 10000 entries"
	n=$(ls $M/big | sort -u | wc -l)
	[ "$n" = 10000 ] || die "duplicates in the listing ($n unique)"
	rm -r $M/big
	hostcmd hostfs missing main/big || die "rm -r of 10000 files"
}

t_sparse() {
	dd if=/dev/zero of=$M/sparse bs=1 count=1 seek=4294967295 2>/dev/null ||
		die "write at 4 GiB - 1 failed"
	[ "$(stat -c %s $M/sparse)" = 4294967296 ] || die "size $(stat -c %s $M/sparse)"
	hostcmd hostfs size-is main/sparse 4294967296 || die "host size"
	[ "$(stat -c %b $M/sparse)" -lt 1024 ] || die "not sparse: $(stat -c %b $M/sparse) blocks"
	[ "$(dd if=$M/sparse bs=4096 skip=500000 count=1 2>/dev/null | tr -d '\0' | wc -c)" = 0 ] ||
		die "a hole reads non-zero"
	rm $M/sparse
}

t_readonly() {
	hostcmd hostfs write ro/file read only
	[ "$(cat /mnt/ro/file)" = "read only" ] || die "cannot read a ro share"
	for op in "touch /mnt/ro/new" "mkdir /mnt/ro/d" "rm -f /mnt/ro/file" \
		"chmod 600 /mnt/ro/file" "mv -f /mnt/ro/file /mnt/ro/f2"; do
		out=$($op 2>&1) && die "'$op' worked on a read-only share"
		echo "$out" | grep -q "Read-only file system" ||
			die "'$op': $out (not EROFS)"
	done
	(echo x >> /mnt/ro/file) 2>/dev/null && die "append worked on a ro share"
	hostcmd hostfs cat-is ro/file read only || die "the ro share's file changed"
	mount -o remount,rw /mnt/ro 2>/dev/null
	touch /mnt/ro/new2 2>/dev/null && die "writable after remount,rw"
	hostcmd hostfs missing ro/new2 || die "host has a file in a ro share"
}

# Nothing outside a share is reachable, whatever the guest sends.
t_confinement() {
	[ "$(readlink $M/escape-rel)" = ../outside ] || die "readlink"
	for p in escape-abs/secret.txt escape-rel/secret.txt escape-file; do
		! cat "$M/$p" 2>/dev/null || die "read outside through $p"
	done
	! ls $M/escape-rel/ 2>/dev/null | grep -q secret || die "listed outside"
	[ "$(cd $M/.. && pwd)" = /mnt ] || die ".. at the root left the mount"
	ln -s ../../../../outside/secret.txt $M/deep
	! cat $M/deep 2>/dev/null || die "read outside through a guest-made link"
	n255=$(printf 'n%.0s' $(seq 255))
	touch "$M/$n255" || die "a 255-byte name failed"
	hostcmd hostfs exists "main/$n255" || die "255-byte name not on the host"
	out=$(touch "$M/${n255}x" 2>&1) && die "a 256-byte name worked"
	echo "$out" | grep -q "too long" || die "256-byte name: $out"
	bad=$(printf 'bad\377\376name')
	echo x > "$M/$bad" || die "a name with invalid UTF-8 failed"
	[ "$(ls $M | grep -c bad)" = 1 ] || die "invalid UTF-8 name not listed"
	rm "$M/$bad" "$M/$n255" $M/deep
	hostcmd hostfs mkdir main/race
	hostcmd hostfs race-start main/race
	i=0
	while [ $i -lt 300 ]; do
		echo x > $M/race/f$i 2>/dev/null
		cat $M/race/secret.txt 2>/dev/null && die "read outside in the race"
		ls $M/race/ 2>/dev/null | grep -q secret && die "listed outside in the race"
		i=$((i + 1))
	done
	hostcmd hostfs race-stop || die "the race did not run"
	hostcmd hostfs outside-intact || die "something outside the share changed"
}

# A restarted pva-host: acknowledged data stays, the mount comes back.
t_host_restart() {
	dd if=/dev/urandom of=$M/before bs=65536 count=16 2>/dev/null
	sync
	h=$(gsha $M/before)
	( i=0; while [ $i -lt 200 ]; do
		dd if=/dev/zero of=$M/busy bs=65536 count=4 2>/dev/null
		cat $M/before > /dev/null 2>&1
		i=$((i + 1))
	done ) &
	bg=$!
	sleep 0.5
	hostcmd restart-worker || die "restart-worker failed"
	hostcmd kill-worker || die "kill-worker failed"
	wait $bg
	hostcmd hostfs sha256-is main/before "$h" || die "fsync'ed data lost"
	wait_state running 20
	[ "$(gsha $M/before)" = "$h" ] || die "cannot read after the restart"
	echo after > $M/after || die "cannot write after the restart"
	hostcmd hostfs cat-is main/after after || die "write after restart"
	ls $M > /dev/null || die "ls after the restart"
}

# Shares the host adds and removes at run time.
t_runtime_shares() {
	hostcmd share-add late || die "share add failed"
	grep -q late /sys/bus/auxiliary/devices/pva_core.sf.*/shares ||
		die "the new share is not offered"
	mount_share late /mnt/late
	echo x > /mnt/late/f && hostcmd hostfs cat-is late/f x || die "late share"
	umount /mnt/late
	hostcmd hostctl share remove late || die "share remove failed"
	! mount -t pvasf late /mnt/late 2>/dev/null || die "mounted a removed share"
}

# Every share the host offers, mounted by the boot-time helper.
t_automount() {
	[ "$(pva-mount-shares --list | sort | tr '\n' ' ')" = "extra main ro " ] ||
		die "--list: $(pva-mount-shares --list)"
	pva-mount-shares --dir /media/pva --options cache=loose || die "mounting failed"
	for s in extra main ro; do
		grep -q " /media/pva/$s pvasf " /proc/mounts || die "$s not mounted"
	done
	grep -q "cache=loose" /proc/mounts || die "options not passed"
	[ "$(cat /media/pva/main/h.txt)" = "hello from the host" ] || die "read"
	pva-mount-shares --dir /media/pva || die "a second run failed"
	[ "$(grep -c ' /media/pva/' /proc/mounts)" = 3 ] || die "mounted twice"
	pva-mount-shares --dir /media/pva --unmount || die "unmounting failed"
	! grep -q " /media/pva/" /proc/mounts || die "still mounted"
	rc=0
	pva-mount-shares --bogus 2>/dev/null || rc=$?
	[ $rc = 2 ] || die "a bad argument is not a usage error ($rc)"
}

t_unmount() {
	exec 3< $M/h.txt
	umount $M 2>/dev/null && die "unmounted with a file open"
	exec 3<&-
	umount $M || die "umount failed"
	umount /mnt/ro /mnt/nocache || die "umount ro/nocache failed"
	rmmod pva_sf || die "rmmod pva_sf failed"
	hostcmd status-field "services[sf].sf.mounts" 0 ||
		die "the host still has mounts"
	unload
}

t_run load t_load
t_run basic t_basic
t_run posix t_posix
t_run posix-nocache t_posix_nocache
t_run fsx t_fsx
t_run mmap t_mmap
t_run notify t_notify
t_run coherence t_coherence
t_run bigdir t_bigdir
t_run sparse t_sparse
t_run readonly t_readonly
t_run confinement t_confinement
t_run host-restart t_host_restart
t_run runtime-shares t_runtime_shares
t_run automount t_automount
t_run unmount t_unmount
