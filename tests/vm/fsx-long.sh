# SPDX-License-Identifier: MIT
# make fuzz: fs-fsx for several minutes on a pvasf share, in each cache
# mode, with O_DIRECT and mmap mixed in. Run by vmtest.py.
# vmtest-shares: main
. /tests/lib.sh

fsx_for() {	# SECONDS SEED DIR [OPTIONS]
	_secs=$1
	_seed=$2
	_dir=$3
	shift 3
	fs-fsx -t "$_secs" -S "$_seed" -l 1M "$@" "$_dir" | tail -n 4
}

t_fsx_long() {
	load
	insmod /modules/pva_sf.ko || die "insmod pva_sf failed"
	for c in strict loose none; do
		mkdir -p /mnt/$c
		mount -t pvasf -o cache=$c main /mnt/$c || die "mount cache=$c failed"
	done
	fsx_for 60 11 /mnt/strict
	fsx_for 60 12 /mnt/strict -d
	fsx_for 45 13 /mnt/loose
	fsx_for 45 14 /mnt/none -d
	# two mounts of one share writing different files at once
	fs-fsx -t 30 -S 15 /mnt/strict > /tmp/a.log 2>&1 &
	a=$!
	fs-fsx -t 30 -S 16 /mnt/loose > /tmp/b.log 2>&1 &
	b=$!
	wait $a || die "concurrent fsx (strict): $(tail -n 20 /tmp/a.log)"
	wait $b || die "concurrent fsx (loose): $(tail -n 20 /tmp/b.log)"
	umount /mnt/strict /mnt/loose /mnt/none || die "umount failed"
}

t_run fsx-long t_fsx_long
