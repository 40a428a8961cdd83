// SPDX-License-Identifier: MIT
/*
 * fs-fsx: random file I/O checked against an in-memory model, in the
 * spirit of fsx. One file, random writes, reads, truncates (growing and
 * shrinking), reads and writes through shared mappings, fsync, fdatasync,
 * close and reopen, and with -d aligned O_DIRECT reads and writes; every
 * read is compared with the model, and the file's size after every
 * operation. The operations depend only on the seed and the options.
 *
 *   fs-fsx [-N ops] [-S seed] [-l maxlen] [-t seconds] [-d] [-W] [-R] [-k] DIR
 *
 * On a mismatch it prints the bad bytes, the log of the last operations
 * and exits 1. Exit status: 0 pass, 1 mismatch or failed call, 2 usage or
 * setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs-tap.h"

#define PROG "fs-fsx"
#define DIO_ALIGN 4096
#define MAX_OPLEN (64 * 1024)
#define LOG_SIZE 256
#define LOG_TAIL 60

static const char usage_text[] =
"Usage: fs-fsx [OPTION]... DIR\n"
"Random I/O on one file in DIR (DIR/fs-fsx.PID), every read checked\n"
"against an in-memory model: pwrite, pread, truncate, mmap reads and\n"
"writes (MAP_SHARED, msync), fsync, fdatasync, close and reopen.\n"
"\n"
"  -N OPS      number of operations (default 10000, or unlimited with -t)\n"
"  -S SEED     random seed (default 1); a seed always gives the same run\n"
"  -l MAXLEN   largest file length in bytes, K/M/G suffixes allowed\n"
"              (default 256K)\n"
"  -t SECONDS  run for this long (stops at -N operations if also given)\n"
"  -d          also aligned O_DIRECT reads and writes\n"
"  -W          no writes through mmap\n"
"  -R          no reads through mmap\n"
"  -k          keep the file at the end\n"
"  -h, --help  this text\n"
"\n"
"On a mismatch prints the bad bytes and the last operations.\n"
"Exit status: 0 pass, 1 mismatch or failed call, 2 usage or setup error.\n";

enum op {
	OP_WRITE, OP_READ, OP_TRUNC, OP_MAPREAD, OP_MAPWRITE, OP_FSYNC,
	OP_FDATASYNC, OP_REOPEN, OP_DREAD, OP_DWRITE, OP_NR
};

static const char *const op_names[OP_NR] = {
	"write", "read", "truncate", "mapread", "mapwrite", "fsync",
	"fdatasync", "reopen", "dread", "dwrite",
};

static const int op_weight[OP_NR] = { 24, 20, 8, 10, 10, 3, 2, 2, 8, 8 };

struct logent {
	uint64_t n;
	enum op op;
	long long off, len, size_before, size_after;
};

static struct {
	const char *dir;
	char path[PATH_MAX];
	uint64_t nops;
	uint64_t seed;
	long long maxlen;
	double seconds;
	bool dio, no_mapwrite, no_mapread, keep;
} opt = { .seed = 1, .maxlen = 256 * 1024 };

static uint64_t rng;
static unsigned char *model, *buf, *dbuf;
static uint32_t *owner; /* which operation wrote each byte (NULL: too big) */
static long long size;   /* the model's size; model[size..] is zero */
static int fd = -1, dfd = -1;
static long pagesize;
static uint64_t opno, counts[OP_NR], verified;
static struct logent oplog[LOG_SIZE];

static uint64_t next_rand(void)
{
	/* splitmix64 */
	uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t n)
{
	return n ? next_rand() % n : 0;
}

static void print_log(void)
{
	uint64_t first = opno >= LOG_TAIL ? opno - LOG_TAIL + 1 : 1;

	printf("# the last operations (number, op, offset, length, size before -> after):\n");
	for (uint64_t n = first; n <= opno; n++) {
		struct logent *l = &oplog[n % LOG_SIZE];

		if (l->n != n)
			continue;
		printf("#   %8" PRIu64 " %-9s %#10llx %#8llx  %#llx -> %#llx\n", l->n,
		       op_names[l->op], l->off, l->len, l->size_before, l->size_after);
	}
}

static void cleanup(void)
{
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	fd = dfd = -1;
	if (!opt.keep)
		unlink(opt.path);
	else
		printf("# kept %s\n", opt.path);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# seed %" PRIu64 ", operation %" PRIu64 " (%s): %s\n", opt.seed, opno,
	       op_names[oplog[opno % LOG_SIZE].op], msg);
	print_log();
	tap_result(false, "random operations match the model",
		   "operation %" PRIu64 ": %s", opno, msg);
	cleanup();
	tap_summary(PROG);
	exit(1);
}

static void fill(long long off, long long len)
{
	for (long long i = 0; i < len; i++) {
		long long o = off + i;

		buf[i] = (unsigned char)(o % 251 + (opno % 253) * 7 + 1);
		if (!buf[i])
			buf[i] = 0xa5;
	}
}

static void model_write(long long off, long long len, const unsigned char *data)
{
	memcpy(model + off, data, (size_t)len);
	if (owner)
		for (long long i = 0; i < len; i++)
			owner[off + i] = (uint32_t)opno;
	if (off + len > size)
		size = off + len;
}

static void model_truncate(long long ns)
{
	if (ns < size) {
		memset(model + ns, 0, (size_t)(size - ns));
		if (owner)
			memset(owner + ns, 0, (size_t)(size - ns) * sizeof(*owner));
	}
	size = ns;
}

/* GOT (LEN bytes read at OFF) against the model */
static void compare(const char *how, long long off, long long len, const unsigned char *got)
{
	long long bad = 0, first = -1;

	verified++;
	if (!memcmp(got, model + off, (size_t)len))
		return;
	for (long long i = 0; i < len; i++)
		if (got[i] != model[off + i]) {
			if (first < 0)
				first = i;
			bad++;
		}
	printf("# %s at %#llx, %#llx bytes: %lld bytes differ, the first at %#llx\n", how,
	       off, len, bad, off + first);
	for (long long i = first, shown = 0; i < len && shown < 16; i++) {
		if (got[i] == model[off + i])
			continue;
		shown++;
		if (owner)
			printf("#   at %#llx: %#04x, expected %#04x (%s by operation %u)\n",
			       off + i, got[i], model[off + i],
			       owner[off + i] ? "written" : "zero, never written or cut",
			       owner[off + i]);
		else
			printf("#   at %#llx: %#04x, expected %#04x\n", off + i, got[i],
			       model[off + i]);
	}
	die("%s at %#llx+%#llx: %lld bytes differ from the model, the first at %#llx",
	    how, off, len, bad, off + first);
}

static void open_file(bool create)
{
	fd = open(opt.path, O_RDWR | (create ? O_CREAT | O_TRUNC | O_EXCL : 0), 0644);
	if (fd < 0)
		die("open %s: %s", opt.path, strerror(errno));
	if (opt.dio) {
		dfd = open(opt.path, O_RDWR | O_DIRECT);
		if (dfd < 0)
			die("open %s O_DIRECT: %s", opt.path, strerror(errno));
	}
}

static void check_size(void)
{
	struct stat st;

	if (fstat(fd, &st))
		die("fstat: %s", strerror(errno));
	if (st.st_size != size)
		die("the file's size is %#llx, the model's %#llx", (long long)st.st_size, size);
}

/* read the whole file and compare it with the model */
static void verify_all(const char *how)
{
	long long off = 0;

	check_size();
	while (off < size) {
		long long len = size - off < MAX_OPLEN ? size - off : MAX_OPLEN;
		ssize_t n = pread(fd, buf, (size_t)len, off);

		if (n != len)
			die("%s: pread(%#llx, %#llx) returned %zd: %s", how, off, len, n,
			    n < 0 ? strerror(errno) : "short");
		compare(how, off, len, buf);
		off += len;
	}
	if (pread(fd, buf, 1, size) != 0)
		die("%s: a read at the end of the file returned data", how);
}

/* an offset: mostly anywhere, sometimes just around the end of the file */
static long long pick_off(long long limit)
{
	long long o;

	if (limit <= 0)
		return 0;
	if (rnd(4) == 0) {
		o = size - 64 + (long long)rnd(128);
		if (o < 0)
			o = 0;
		if (o >= limit)
			o = limit - 1;
		return o;
	}
	return (long long)rnd((uint64_t)limit);
}

/* a length: mostly small, sometimes up to MAX_OPLEN */
static long long pick_len(void)
{
	switch (rnd(4)) {
	case 0:
		return 1 + (long long)rnd(16);
	case 1:
		return 1 + (long long)rnd(4096);
	default:
		return 1 + (long long)rnd(MAX_OPLEN);
	}
}

static enum op pick_op(void)
{
	int total = 0, r;
	bool on[OP_NR];

	for (int i = 0; i < OP_NR; i++) {
		on[i] = true;
		if ((i == OP_MAPREAD && opt.no_mapread) || (i == OP_MAPWRITE && opt.no_mapwrite) ||
		    ((i == OP_DREAD || i == OP_DWRITE) && !opt.dio))
			on[i] = false;
		if (on[i])
			total += op_weight[i];
	}
	r = (int)rnd((uint64_t)total);
	for (int i = 0; i < OP_NR; i++) {
		if (!on[i])
			continue;
		if (r < op_weight[i])
			return (enum op)i;
		r -= op_weight[i];
	}
	return OP_READ;
}

static void do_op(enum op op)
{
	struct logent *l = &oplog[opno % LOG_SIZE];
	long long off = 0, len = 0;
	ssize_t n;

	*l = (struct logent){ .n = opno, .op = op, .size_before = size, .size_after = size };
	counts[op]++;
	switch (op) {
	case OP_WRITE:
		off = pick_off(opt.maxlen);
		len = pick_len();
		if (off + len > opt.maxlen)
			len = opt.maxlen - off;
		l->off = off;
		l->len = len;
		fill(off, len);
		n = pwrite(fd, buf, (size_t)len, off);
		if (n != len)
			die("pwrite(%#llx, %#llx) returned %zd: %s", off, len, n,
			    n < 0 ? strerror(errno) : "short");
		model_write(off, len, buf);
		break;
	case OP_READ:
		off = pick_off(size);
		len = pick_len();
		if (off + len > size)
			len = size - off;
		l->off = off;
		l->len = len;
		n = pread(fd, buf, (size_t)len + 1, off);
		if (off + len < size)
			len++; /* also the byte after */
		if (n != len)
			die("pread(%#llx, %#llx) returned %zd, expected %#llx: %s", off,
			    l->len + 1, n, len, n < 0 ? strerror(errno) : "wrong length");
		compare("read", off, len, buf);
		break;
	case OP_TRUNC:
		if (rnd(2))
			len = size - 8192 + (long long)rnd(16384);
		else
			len = (long long)rnd((uint64_t)opt.maxlen + 1);
		if (len < 0)
			len = 0;
		if (len > opt.maxlen)
			len = opt.maxlen;
		l->off = len;
		if (ftruncate(fd, len))
			die("ftruncate(%#llx): %s", len, strerror(errno));
		model_truncate(len);
		break;
	case OP_MAPREAD: {
		long long pg;
		void *p;

		if (!size) {
			counts[op]--;
			counts[OP_READ]++;
			l->op = OP_READ;
			if (pread(fd, buf, 1, 0) != 0)
				die("a read of the empty file returned data");
			break;
		}
		off = pick_off(size);
		len = pick_len();
		if (off + len > size)
			len = size - off;
		l->off = off;
		l->len = len;
		pg = off & ~(long long)(pagesize - 1);
		p = mmap(NULL, (size_t)(off + len - pg), PROT_READ, MAP_SHARED, fd, pg);
		if (p == MAP_FAILED)
			die("mmap(%#llx, %#llx) to read: %s", pg, off + len - pg, strerror(errno));
		compare("mapread", off, len, (unsigned char *)p + (off - pg));
		if (munmap(p, (size_t)(off + len - pg)))
			die("munmap: %s", strerror(errno));
		break;
	}
	case OP_MAPWRITE: {
		long long pg;
		void *p;

		off = pick_off(opt.maxlen);
		len = pick_len();
		if (off + len > opt.maxlen)
			len = opt.maxlen - off;
		l->off = off;
		l->len = len;
		if (off + len > size) {
			/* a mapping cannot extend a file: grow it first */
			if (ftruncate(fd, off + len))
				die("ftruncate(%#llx) before a mapwrite: %s", off + len,
				    strerror(errno));
			model_truncate(off + len);
		}
		pg = off & ~(long long)(pagesize - 1);
		p = mmap(NULL, (size_t)(off + len - pg), PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, pg);
		if (p == MAP_FAILED)
			die("mmap(%#llx, %#llx) to write: %s", pg, off + len - pg,
			    strerror(errno));
		fill(off, len);
		memcpy((unsigned char *)p + (off - pg), buf, (size_t)len);
		model_write(off, len, buf);
		if (msync(p, (size_t)(off + len - pg), MS_SYNC))
			die("msync: %s", strerror(errno));
		if (munmap(p, (size_t)(off + len - pg)))
			die("munmap: %s", strerror(errno));
		break;
	}
	case OP_FSYNC:
		if (fsync(fd))
			die("fsync: %s", strerror(errno));
		break;
	case OP_FDATASYNC:
		if (fdatasync(fd))
			die("fdatasync: %s", strerror(errno));
		break;
	case OP_REOPEN:
		if (close(fd))
			die("close: %s", strerror(errno));
		if (dfd >= 0 && close(dfd))
			die("close the O_DIRECT file: %s", strerror(errno));
		fd = dfd = -1;
		open_file(false);
		verify_all("reread after reopen");
		break;
	case OP_DREAD: {
		long long want;

		off = pick_off(size) & ~(long long)(DIO_ALIGN - 1);
		len = (1 + (long long)rnd(MAX_OPLEN / DIO_ALIGN)) * DIO_ALIGN;
		l->off = off;
		l->len = len;
		want = size - off < len ? size - off : len;
		if (want < 0)
			want = 0;
		n = pread(dfd, dbuf, (size_t)len, off);
		if (n != want)
			die("O_DIRECT pread(%#llx, %#llx) returned %zd, expected %#llx: %s", off,
			    len, n, want, n < 0 ? strerror(errno) : "wrong length");
		compare("dread", off, want, dbuf);
		break;
	}
	case OP_DWRITE:
		off = pick_off(opt.maxlen) & ~(long long)(DIO_ALIGN - 1);
		len = (1 + (long long)rnd(MAX_OPLEN / DIO_ALIGN)) * DIO_ALIGN;
		if (off + len > opt.maxlen)
			len = (opt.maxlen - off) & ~(long long)(DIO_ALIGN - 1);
		l->off = off;
		l->len = len;
		if (!len)
			break;
		fill(off, len);
		memcpy(dbuf, buf, (size_t)len);
		n = pwrite(dfd, dbuf, (size_t)len, off);
		if (n != len)
			die("O_DIRECT pwrite(%#llx, %#llx) returned %zd: %s", off, len, n,
			    n < 0 ? strerror(errno) : "short");
		model_write(off, len, dbuf);
		break;
	default:
		break;
	}
	l->size_after = size;
	check_size();
}

static bool parse_num(const char *s, long long *v, bool suffix)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 0);
	if (errno || end == s || x < 0)
		return false;
	if (suffix && *end) {
		int shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 :
			    *end == 'G' || *end == 'g' ? 30 : -1;

		if (shift < 0 || end[1] || x > (LLONG_MAX >> shift))
			return false;
		x <<= shift;
		end++;
	}
	if (*end)
		return false;
	*v = x;
	return true;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'fs-fsx --help'.\n");
	return 2;
}

int main(int argc, char **argv)
{
	bool have_n = false;
	double start, last_note;
	long long v;
	int c;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
	while ((c = getopt(argc, argv, "N:S:l:t:dWRkh")) != -1) {
		switch (c) {
		case 'N':
			if (!parse_num(optarg, &v, false) || v < 1)
				return usage_error("-N: not a number of operations: %s", optarg);
			opt.nops = (uint64_t)v;
			have_n = true;
			break;
		case 'S':
			if (!parse_num(optarg, &v, false))
				return usage_error("-S: not a seed: %s", optarg);
			opt.seed = (uint64_t)v;
			break;
		case 'l':
			if (!parse_num(optarg, &v, true) || v < DIO_ALIGN || v > (1LL << 30))
				return usage_error("-l: not a length of 4K to 1G: %s", optarg);
			opt.maxlen = v;
			break;
		case 't':
			if (!parse_num(optarg, &v, false) || v < 1)
				return usage_error("-t: not a number of seconds: %s", optarg);
			opt.seconds = (double)v;
			break;
		case 'd':
			opt.dio = true;
			break;
		case 'W':
			opt.no_mapwrite = true;
			break;
		case 'R':
			opt.no_mapread = true;
			break;
		case 'k':
			opt.keep = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'fs-fsx --help'.\n");
			return 2;
		}
	}
	if (optind != argc - 1)
		return usage_error("%s", optind == argc ? "no directory given" :
				   "one directory only");
	if (!have_n)
		opt.nops = opt.seconds > 0 ? UINT64_MAX : 10000;
	opt.dir = argv[optind];
	snprintf(opt.path, sizeof(opt.path), "%s/fs-fsx.%d", opt.dir, (int)getpid());
	pagesize = sysconf(_SC_PAGESIZE);
	model = calloc((size_t)opt.maxlen + MAX_OPLEN, 1);
	buf = malloc(MAX_OPLEN + 1);
	if (opt.maxlen <= (16 << 20))
		owner = calloc((size_t)opt.maxlen, sizeof(*owner));
	if (!model || !buf || (opt.maxlen <= (16 << 20) && !owner) ||
	    posix_memalign((void **)&dbuf, DIO_ALIGN, MAX_OPLEN)) {
		fprintf(stderr, PROG ": out of memory\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rng = opt.seed;
	fd = open(opt.path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		fprintf(stderr, PROG ": cannot create %s: %s\n", opt.path, strerror(errno));
		return 2;
	}
	if (opt.dio) {
		dfd = open(opt.path, O_RDWR | O_DIRECT);
		if (dfd < 0) {
			fprintf(stderr, PROG ": %s: O_DIRECT: %s\n", opt.path, strerror(errno));
			close(fd);
			unlink(opt.path);
			return 2;
		}
	}
	tap.group = "fsx";
	tap_note("fs-fsx on %s: seed %" PRIu64 ", max length %lld%s%s%s", opt.path,
		 opt.seed, opt.maxlen, opt.dio ? ", O_DIRECT" : "",
		 opt.no_mapwrite ? ", no mmap writes" : "",
		 opt.no_mapread ? ", no mmap reads" : "");
	start = last_note = mono();
	for (opno = 1; opno <= opt.nops; opno++) {
		do_op(pick_op());
		if (opno % 1000 == 0) {
			/* every thousand operations, the whole file */
			verify_all("full read");
			if (opt.seconds > 0 || opno % 10000 == 0) {
				double now = mono();

				if (opno % 10000 == 0 || now - last_note >= 10) {
					tap_note("%" PRIu64 " operations, %.1f s", opno, now - start);
					last_note = now;
				}
				if (opt.seconds > 0 && now - start >= opt.seconds) {
					opno++;
					break;
				}
			}
		}
	}
	opno--;
	{
		char line[400];
		int len = 0;

		for (int i = 0; i < OP_NR; i++)
			if (counts[i])
				len += snprintf(line + len, sizeof(line) - (size_t)len, " %s %" PRIu64,
						op_names[i], counts[i]);
		tap_note("operations:%s", line);
	}
	{
		char desc[128];

		snprintf(desc, sizeof(desc),
			 "%" PRIu64 " random operations, %" PRIu64 " reads matched the model",
			 opno, verified);
		tap_result(true, desc, "%s", "");
	}
	opno++;
	oplog[opno % LOG_SIZE] = (struct logent){ .n = opno, .op = OP_REOPEN,
						  .size_before = size, .size_after = size };
	if (close(fd))
		die("close: %s", strerror(errno));
	if (dfd >= 0)
		close(dfd);
	fd = dfd = -1;
	open_file(false);
	verify_all("final read");
	tap_result(true, "after close and reopen the file matches the model", "%s", "");
	close(fd);
	if (dfd >= 0)
		close(dfd);
	fd = dfd = -1;
	if (!opt.keep)
		tap_result(unlink(opt.path) == 0, "the file can be removed", "%s",
			   strerror(errno));
	return tap_summary(PROG);
}
