# SPDX-License-Identifier: MIT
# Guest suite of the shared-folder benchmark (bench/run-fs.sh, via
# vmtest.py): the same workload on pvasf, virtio-9p (cache=mmap and
# cache=loose, two fsdevs) and virtiofs, mounted side by side in one guest,
# interleaved: each round runs every filesystem once, in the order
# pvasf, 9p-mmap, 9p-loose, virtiofs. A filesystem that does not mount is
# left out with a "FSBENCH-SKIP: FS reason" line.
#
# Results are "FSBENCH: FS ROUND METRIC VALUE UNIT" lines on the console
# (bench/fs_report.py). Parameters come from the kernel command line:
#   pvafs.rounds=N    rounds (default 3)
#   pvafs.mib=N       size of the sequential file, MiB (default 256)
#   pvafs.rand=N      4 KiB random reads per round (default 5000), at most
#   pvafs.randsec=S   seconds of random reads (default 10)
#   pvafs.files=N     files for create/stat/unlink (default 5000)
#   pvafs.pvasf=OPTS  pvasf mount options (default: none, i.e. cache=strict)
#   pvafs.only=LIST   comma-separated filesystems to run (default: all)
# The tree to untar is /bin/fs-tree.tar (put there by run-fs.sh).
#
# The pvasf share "bench" is given to pva-host by run-fs.sh.
# vmtest-slub-debug: off
. /tests/lib.sh

B_rounds=3
B_mib=256
B_rand=5000
B_randsec=10
B_files=5000
B_pvasf=
B_only=
for _w in $(cat /proc/cmdline); do
	case "$_w" in
	pvafs.*=*)
		_k=${_w#pvafs.}
		_k=${_k%%=*}
		_v=${_w#*=}
		case "$_k$_v" in
		*[!a-z0-9_=,.-]*) die "bad parameter $_w" ;;
		esac
		eval "B_$_k=\$_v"
		;;
	esac
done
TREE=/bin/fs-tree.tar
ALL="pvasf 9p-mmap 9p-loose virtiofs"

drop() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
}

# secs CMD...: run CMD timed, print its seconds
secs() {
	_o=$(pva-fsbench time "$@") || { echo "$_o"; return 1; }
	echo "$_o" | sed -n 's/^seconds=//p' | tail -n 1
}

res() {	# FS ROUND METRIC VALUE UNIT
	echo "FSBENCH: $1 $2 $3 $4 $5"
	mark "$3"
}

# the guest's uptime at a point of the workload (where the time goes)
mark() {
	echo "FSBENCH-T: $(cut -d ' ' -f 1 /proc/uptime) $fs $r $1"
}

wanted() {
	[ -z "$B_only" ] && return 0
	case ",$B_only," in *",$1,"*) return 0 ;; esac
	return 1
}

skip() {	# FS REASON...
	_fs=$1
	shift
	echo "FSBENCH-SKIP: $_fs $*"
	exit 77
}

# mount_fs FS: mount it on /mnt/FS
mount_fs() {
	wanted "$1" || skip "$1" "not selected (pvafs.only)"
	mkdir -p "/mnt/$1"
	case "$1" in
	pvasf)
		insmod /modules/pva_core.ko || skip pvasf "insmod pva_core failed"
		wait_state running 20 || skip pvasf "pva_core did not reach state running"
		insmod /modules/pva_sf.ko || skip pvasf "insmod pva_sf failed"
		mount -t pvasf ${B_pvasf:+-o "$B_pvasf"} bench /mnt/pvasf ||
			skip pvasf "mount -t pvasf ${B_pvasf:+-o $B_pvasf }bench failed:" \
				"$(dmesg | tail -n 5 | tr '\n' '|')"
		;;
	9p-mmap|9p-loose)
		mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,cache=${1#9p-}" \
			"$1" "/mnt/$1" || skip "$1" "mount -t 9p failed"
		;;
	virtiofs)
		mount -t virtiofs vfs /mnt/virtiofs ||
			skip virtiofs "mount -t virtiofs failed: $(dmesg | tail -n 3 | tr '\n' '|')"
		;;
	esac
	grep " /mnt/$1 " /proc/mounts
	# the mount works: a file goes in and out
	echo probe > "/mnt/$1/probe" && [ "$(cat "/mnt/$1/probe")" = probe ] &&
		rm "/mnt/$1/probe" || skip "$1" "write/read/unlink of a probe file failed"
}

info() {
	echo "FSBENCH-INFO: arch=$PVA_ARCH kernel=$(uname -r) rounds=$B_rounds" \
		"mib=$B_mib rand=$B_rand randsec=$B_randsec files=$B_files" \
		"pvasf_opts=${B_pvasf:-default} cpus=$(grep -c ^processor /proc/cpuinfo)" \
		"mem_mib=$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" \
		"tree_entries=$(tar tf $TREE | wc -l) tree_bytes=$(wc -c < $TREE)"
}

# fail MESSAGE: a step of the workload failed (the run goes on with the
# next step; the round is reported as failed)
fail() {
	echo "FSBENCH-ERROR: $fs $r $step: $*"
	return 1
}

# rate BYTES SECONDS: MB/s
rate() {
	awk "BEGIN { printf \"%.1f\", $1 / $2 / 1e6 }"
}

# num TEXT KEY: the number after KEY= in TEXT
num() {
	echo "$1" | sed -n "s/.*$2=\([0-9.]*\).*/\1/p" | grep . || echo "no $2 in: $1"
}

# sequential write, then read after dropping the caches; 4 KiB random
# reads of the same file, cold
step_data() {
	step=data
	bytes=$((B_mib * 1048576))
	drop
	s=$(secs dd if=/dev/zero of="$d/big" bs=1M count="$B_mib" conv=fsync) ||
		fail "dd write: $s" || return 1
	res "$fs" "$r" seq_write "$(rate $bytes "$s")" MB/s
	drop
	s=$(secs dd if="$d/big" of=/dev/null bs=1M) || fail "dd read: $s" || return 1
	res "$fs" "$r" seq_read "$(rate $bytes "$s")" MB/s
	[ "$(stat -c %s "$d/big")" = "$bytes" ] || fail "the file has $(stat -c %s "$d/big") bytes" || return 1
	drop
	o=$(pva-fsbench randread "$d/big" "$B_rand" "$B_randsec") || fail "randread: $o" || return 1
	echo "$o"
	res "$fs" "$r" rand_read_4k "$(num "$o" iops)" IOPS
	rm "$d/big" || fail "rm of the file failed" || return 1
	mark rm_big
}

# create/stat/unlink of many empty files
step_meta() {
	step=meta
	mkdir "$d/m" || fail "mkdir $d/m failed" || return 1
	o=$(pva-fsbench meta "$d/m" "$B_files" 2>&1) || fail "$o" || return 1
	echo "$o"
	for k in create stat unlink; do
		res "$fs" "$r" "$k" "$(num "$o" ${k}_ops)" ops/s
	done
	rmdir "$d/m" || fail "rmdir $d/m failed"
}

# a source tree: untar from the guest's RAM + sync, find + stat of every
# entry after dropping the caches, rm -rf
step_tree() {
	step=tree
	mkdir "$d/t" || fail "mkdir $d/t failed" || return 1
	s=$(secs sh -c "tar xf $TREE -C $d/t && sync") || fail "untar: $s" || return 1
	res "$fs" "$r" untar "$s" s
	n=$(find "$d/t" | wc -l)
	[ "$n" = "$TREE_N" ] || fail "the tree has $n entries, not $TREE_N" || return 1
	drop
	s=$(secs sh -c "find $d/t | xargs stat -c %s > /dev/null") || fail "find + stat: $s" || return 1
	res "$fs" "$r" find_stat "$s" s
	s=$(secs rm -rf "$d/t") || fail "rm -rf: $s" || return 1
	res "$fs" "$r" rm_tree "$s" s
}

# bench_fs FS ROUND: the whole workload on /mnt/FS once
bench_fs() {
	fs=$1
	r=$2
	step=mkdir
	d=/mnt/$fs/r$r
	mkdir "$d" || fail "mkdir $d failed" || die "no directory for the round"
	bad=0
	mark start
	step_data || bad=1
	step_meta || bad=1
	step_tree || bad=1
	rm -rf "$d" || fail "rm -rf $d failed" || bad=1
	mark end
	[ "$bad" = 0 ] || die "failed (FSBENCH-ERROR lines above)"
}

# entries of the tree once extracted: the directory itself + the tar's
TREE_N=$(($(tar tf $TREE | sed 's,/$,,' | sort -u | wc -l) + 1))
t_run info info
t_run mount-pvasf mount_fs pvasf
t_run mount-9p-mmap mount_fs 9p-mmap
t_run mount-9p-loose mount_fs 9p-loose
t_run mount-virtiofs mount_fs virtiofs

FSES=
for fs in $ALL; do
	grep -q " /mnt/$fs " /proc/mounts && FSES="$FSES $fs"
done
echo "FSBENCH-FS:$FSES"
_r=1
while [ "$_r" -le "$B_rounds" ]; do
	for fs in $FSES; do
		t_run "$fs-$_r" bench_fs "$fs" "$_r"
	done
	_r=$((_r + 1))
done
for fs in $FSES; do
	umount "/mnt/$fs" || echo "FSBENCH-WARN: umount /mnt/$fs failed"
done
