// SPDX-License-Identifier: MIT
/*
 * fs-mmap: shared writable mappings on a filesystem, in steps that a test
 * harness can check from the host in between.
 *
 *   fs-mmap write FILE SIZE SEED        create FILE, fill it through a
 *                                       MAP_SHARED mapping, msync, close
 *   fs-mmap verify FILE SIZE SEED       a fresh mapping and read(2) both
 *                                       give the pattern
 *   fs-mmap dirty-close FILE SIZE SEED  fill through a mapping, munmap and
 *                                       close without msync; reopen, fsync
 *   fs-mmap pattern SIZE SEED           print the pattern's SHA-256
 *   fs-mmap selftest DIR                all of it in DIR, and more
 *
 * The pattern (SEED 0 to 2^32-1): byte i of the file is the top byte of a
 * 64-bit product,
 *
 *   byte[i] = (((i + (SEED << 32)) * 0x9E3779B97F4A7C15) mod 2^64) >> 56
 *
 * in Python:
 *
 *   bytes((((i + (seed << 32)) * 0x9E3779B97F4A7C15) & (2**64 - 1)) >> 56
 *         for i in range(size))
 *
 * (seed 0 begins 00 9e 3c da 78 17 b5 53, seed 1 begins 7f 1d bb 59 f8 96;
 * so `fs-mmap pattern SIZE SEED` equals `sha256sum` of a good file).
 *
 * Exit status: 0 every check passed, 1 a check or call failed, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-tap.h"

#define PROG "fs-mmap"

static const char usage_text[] =
"Usage: fs-mmap write FILE SIZE SEED\n"
"       fs-mmap verify FILE SIZE SEED\n"
"       fs-mmap dirty-close FILE SIZE SEED\n"
"       fs-mmap pattern SIZE SEED\n"
"       fs-mmap selftest DIR\n"
"Shared writable mappings, in steps a harness can check from the host.\n"
"\n"
"  write        create FILE (SIZE bytes), fill it with the pattern through a\n"
"               MAP_SHARED mapping, msync(MS_SYNC), munmap, close\n"
"  verify       a fresh mapping of FILE and read(2) both give the pattern\n"
"  dirty-close  like write but munmap and close without msync; then\n"
"               reopen, fsync, and check the data with read(2)\n"
"  pattern      print the SHA-256 of the pattern, as sha256sum would\n"
"  selftest     write, verify, dirty-close and more mapping checks in DIR\n"
"\n"
"SIZE takes K, M, G suffixes; SEED is 0 to 4294967295. Byte i of the\n"
"pattern is (((i + (SEED << 32)) * 0x9E3779B97F4A7C15) mod 2^64) >> 56.\n"
"Prints one line per check and \"fs-mmap: N passed, N failed, N skipped\"\n"
"(pattern prints only the hash). Exit status: 0 all passed, 1 a check\n"
"failed, 2 usage error.\n";

static long pagesize;

/* ---- the pattern ---- */

static void pattern_fill(unsigned char *p, uint64_t off, size_t len, uint32_t seed)
{
	uint64_t x = (off + ((uint64_t)seed << 32)) * 0x9E3779B97F4A7C15ULL;

	for (size_t i = 0; i < len; i++) {
		p[i] = (unsigned char)(x >> 56);
		x += 0x9E3779B97F4A7C15ULL;
	}
}

/* the first offset in P (LEN bytes at OFF) that is not the pattern, or -1 */
static long long pattern_diff(const unsigned char *p, uint64_t off, size_t len,
			      uint32_t seed)
{
	uint64_t x = (off + ((uint64_t)seed << 32)) * 0x9E3779B97F4A7C15ULL;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != (unsigned char)(x >> 56))
			return (long long)(off + i);
		x += 0x9E3779B97F4A7C15ULL;
	}
	return -1;
}

static unsigned char pattern_byte(uint64_t i, uint32_t seed)
{
	return (unsigned char)(((i + ((uint64_t)seed << 32)) * 0x9E3779B97F4A7C15ULL) >> 56);
}

/* ---- SHA-256 (FIPS 180-4) ---- */

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
	e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
			      sha_k[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		h = g, g = f, f = e, e = d + t1;
		d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
	s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t h0[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(s->h, h0, sizeof(h0));
	s->len = 0;
	s->n = 0;
}

static void sha256_update(struct sha256 *s, const unsigned char *p, size_t len)
{
	s->len += len;
	while (len) {
		size_t k = 64 - s->n < len ? 64 - s->n : len;

		memcpy(s->buf + s->n, p, k);
		s->n += k;
		p += k;
		len -= k;
		if (s->n == 64) {
			sha256_block(s, s->buf);
			s->n = 0;
		}
	}
}

static void sha256_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->len * 8;
	unsigned char pad[72] = { 0x80 };
	size_t padlen = (s->n < 56 ? 56 : 120) - s->n;

	for (int i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, pad, padlen + 8);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

static void pattern_sha256(uint64_t size, uint32_t seed, char out[65])
{
	static unsigned char chunk[65536];
	struct sha256 s;

	sha256_init(&s);
	for (uint64_t off = 0; off < size; off += sizeof(chunk)) {
		size_t n = size - off < sizeof(chunk) ? (size_t)(size - off) : sizeof(chunk);

		pattern_fill(chunk, off, n, seed);
		sha256_update(&s, chunk, n);
	}
	sha256_hex(&s, out);
}

/* ---- checks ---- */

static bool call_ok(bool ok, const char *desc)
{
	int e = errno;

	return tap_result(ok, desc, "failed with %s", tap_errname(e));
}

static size_t map_len(uint64_t size)
{
	return (size_t)size;
}

/* fill FILE through a shared mapping; msync unless DIRTY */
static bool do_write(const char *file, uint64_t size, uint32_t seed, bool dirty)
{
	unsigned char *p;
	int fd;
	bool ok = true;

	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!call_ok(fd >= 0, "create the file"))
		return false;
	if (!call_ok(ftruncate(fd, (off_t)size) == 0, "ftruncate to SIZE")) {
		close(fd);
		return false;
	}
	if (size) {
		p = mmap(NULL, map_len(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (!call_ok(p != MAP_FAILED, "mmap MAP_SHARED, PROT_READ|PROT_WRITE")) {
			close(fd);
			return false;
		}
		pattern_fill(p, 0, map_len(size), seed);
		if (!dirty)
			ok &= call_ok(msync(p, map_len(size), MS_SYNC) == 0, "msync MS_SYNC");
		ok &= call_ok(munmap(p, map_len(size)) == 0,
			      dirty ? "munmap without msync" : "munmap");
	}
	ok &= call_ok(close(fd) == 0, "close");
	return ok;
}

/* read FILE with read(2): SIZE bytes of the pattern, then the end */
static bool check_read(const char *file, uint64_t size, uint32_t seed, const char *desc)
{
	static unsigned char chunk[65536 + 1];
	uint64_t off = 0;
	long long bad = -1;
	int fd = open(file, O_RDONLY);
	ssize_t n = 0;

	if (fd < 0)
		return tap_result(false, desc, "open: %s", strerror(errno));
	while (off < size + 1 && (n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (bad < 0) {
			size_t k = off + (uint64_t)n > size ? (size_t)(size - off) : (size_t)n;

			bad = pattern_diff(chunk, off, k, seed);
		}
		off += (uint64_t)n;
	}
	close(fd);
	if (n < 0)
		return tap_result(false, desc, "read at %" PRIu64 ": %s", off, strerror(errno));
	if (bad >= 0) {
		unsigned char got = 0;

		fd = open(file, O_RDONLY);
		if (fd >= 0) {
			if (pread(fd, &got, 1, bad) != 1)
				got = 0;
			close(fd);
		}
		return tap_result(false, desc, "byte %lld is %#04x, expected %#04x", bad, got,
				  pattern_byte((uint64_t)bad, seed));
	}
	return tap_result(off == size, desc, "read %" PRIu64 " bytes, expected %" PRIu64,
			  off, size);
}

static bool do_verify(const char *file, uint64_t size, uint32_t seed)
{
	struct stat st;
	bool ok;
	int fd = open(file, O_RDONLY);

	if (!call_ok(fd >= 0, "open the file"))
		return false;
	ok = tap_result(fstat(fd, &st) == 0 && (uint64_t)st.st_size == size,
			"the file's size is SIZE", "size %lld, expected %" PRIu64,
			(long long)st.st_size, size);
	if (size) {
		unsigned char *p = mmap(NULL, map_len(size), PROT_READ, MAP_SHARED, fd, 0);
		long long bad;

		if (call_ok(p != MAP_FAILED, "mmap MAP_SHARED, PROT_READ")) {
			bad = pattern_diff(p, 0, map_len(size), seed);
			ok &= tap_result(bad < 0, "a fresh mapping holds the pattern",
					 "byte %lld is %#04x, expected %#04x", bad,
					 bad < 0 ? 0 : p[bad],
					 pattern_byte((uint64_t)(bad < 0 ? 0 : bad), seed));
			munmap(p, map_len(size));
		} else {
			ok = false;
		}
	}
	close(fd);
	ok &= check_read(file, size, seed, "read(2) gives the pattern, then the end");
	return ok;
}

static bool do_dirty_close(const char *file, uint64_t size, uint32_t seed)
{
	bool ok = do_write(file, size, seed, true);
	int fd;

	fd = open(file, O_RDWR);
	if (!call_ok(fd >= 0, "reopen"))
		return false;
	ok &= call_ok(fsync(fd) == 0, "fsync after reopening");
	ok &= call_ok(close(fd) == 0, "close");
	ok &= check_read(file, size, seed, "read(2) gives the pattern written without msync");
	return ok;
}

/* ---- selftest ---- */

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_hit;

static void on_bus(int sig)
{
	(void)sig;
	bus_hit = 1;
	siglongjmp(bus_jmp, 1);
}

/* does reading P[0] raise SIGBUS? */
static bool raises_sigbus(volatile unsigned char *p)
{
	struct sigaction sa = { .sa_handler = on_bus }, old;
	volatile unsigned char v = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	bus_hit = 0;
	if (!sigsetjmp(bus_jmp, 1))
		v = *p;
	sigaction(SIGBUS, &old, NULL);
	(void)v;
	return bus_hit;
}

static bool file_sha256(const char *file, char out[65])
{
	static unsigned char chunk[65536];
	struct sha256 s;
	ssize_t n;
	int fd = open(file, O_RDONLY);

	if (fd < 0)
		return false;
	sha256_init(&s);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		sha256_update(&s, chunk, (size_t)n);
	close(fd);
	sha256_hex(&s, out);
	return n == 0;
}

static void selftest_more(const char *f)
{
	const size_t len = (size_t)pagesize * 4;
	unsigned char *p, *q, *buf = malloc(len);
	int fd, fd2;
	struct stat st;

	tap.group = "coherence";
	fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0644);
	fd2 = open(f, O_RDWR);
	if (!buf || !call_ok(fd >= 0 && fd2 >= 0, "open a file twice") ||
	    !call_ok(ftruncate(fd, (off_t)len) == 0, "ftruncate")) {
		free(buf);
		return;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	if (call_ok(p != MAP_FAILED && q != MAP_FAILED, "two shared mappings")) {
		pattern_fill(p, 0, len, 77);
		tap_result(pattern_diff(q, 0, len, 77) < 0,
			   "a write through one mapping shows in the other at once", "%s",
			   "differs");
		tap_result(pread(fd2, buf, len, 0) == (ssize_t)len &&
			   pattern_diff(buf, 0, len, 77) < 0,
			   "read(2) sees a mapping's write before msync", "%s", "differs");
		pattern_fill(buf, 0, (size_t)pagesize, 78);
		tap_result(pwrite(fd, buf, (size_t)pagesize, pagesize) == pagesize &&
			   pattern_diff(q + pagesize, 0, (size_t)pagesize, 78) < 0,
			   "a mapping sees a write(2) at once", "%s", "differs");
		munmap(q, len);
		q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd2, 0);
		if (call_ok(q != MAP_FAILED, "a private mapping")) {
			memset(q, 0xcc, (size_t)pagesize);
			tap_result(pread(fd, buf, 16, 0) == 16 && pattern_diff(buf, 0, 16, 77) < 0 &&
				   pattern_diff(p, 0, 16, 77) < 0,
				   "a write to a private mapping stays private", "%s",
				   "reached the file");
			munmap(q, len);
		}
		/* a mapping past the end of the file */
		call_ok(msync(p, len, MS_SYNC) == 0, "msync");
		if (call_ok(ftruncate(fd, pagesize + 100) == 0, "shrink the mapped file")) {
			tap_result(!raises_sigbus(p + pagesize + 99),
				   "reading the last page of a mapping works", "%s", "SIGBUS");
			tap_result(!raises_sigbus(p + 2 * pagesize - 1),
				   "reading past the end within the last page works", "%s",
				   "SIGBUS");
			tap_result(raises_sigbus(p + 2 * pagesize),
				   "reading a page past the end: SIGBUS", "%s", "no signal");
			tap_result(raises_sigbus(p + 3 * pagesize + 5),
				   "reading two pages past the end: SIGBUS", "%s", "no signal");
			p[pagesize + 200] = 0x42; /* past the end: never reaches the file */
			call_ok(msync(p, (size_t)pagesize * 2, MS_SYNC) == 0,
				"msync with bytes written past the end");
			tap_result(fstat(fd, &st) == 0 && st.st_size == pagesize + 100,
				   "a mapping's write past the end does not grow the file",
				   "size %lld", (long long)st.st_size);
			tap_result(pread(fd, buf, len, 0) == pagesize + 100,
				   "read(2) stops at the end of the file", "%s", "read more");
			if (call_ok(ftruncate(fd, 3 * pagesize) == 0, "grow the file again"))
				tap_result(!raises_sigbus(p + 2 * pagesize) && p[2 * pagesize] == 0,
					   "after growing, the mapping reads zeros there", "%s",
					   "SIGBUS or data");
		}
		munmap(p, len);
	}
	close(fd);
	close(fd2);
	free(buf);
}

static int selftest(const char *dir)
{
	static const uint64_t sizes[] = { 1, 4095, 4096, 65537, (1 << 20) + 123, 0 };
	char d[PATH_MAX], f[PATH_MAX + 32], hash[65], fhash[65];

	snprintf(d, sizeof(d), "%s/fs-mmap.%d", dir, (int)getpid());
	if (mkdir(d, 0755)) {
		fprintf(stderr, PROG ": cannot make %s: %s\n", d, strerror(errno));
		return 2;
	}
	snprintf(f, sizeof(f), "%s/f", d);
	tap_note("fs-mmap selftest in %s", d);

	tap.group = "pattern";
	pattern_sha256(4096, 1, hash);
	tap_result(!strcmp(hash, "ab7eee18e2f39c3f48be6bb29c68d6e14afa3dc24f024942957df85df642cc76"),
		   "the pattern is the documented one (sha256 of 4096 bytes, seed 1)", "got %s",
		   hash);
	pattern_sha256(0, 5, hash);
	tap_result(!strcmp(hash, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
		   "sha256 of nothing", "got %s", hash);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t size = sizes[i];
		uint32_t seed = (uint32_t)(1000 + i);
		char group[64];

		snprintf(group, sizeof(group), "write %" PRIu64, size);
		tap.group = group;
		do_write(f, size, seed, false);
		snprintf(group, sizeof(group), "verify %" PRIu64, size);
		do_verify(f, size, seed);
		pattern_sha256(size, seed, hash);
		tap_result(file_sha256(f, fhash) && !strcmp(hash, fhash),
			   "the file's sha256 is the pattern's", "file %s, pattern %s", fhash, hash);
		snprintf(group, sizeof(group), "dirty-close %" PRIu64, size);
		do_dirty_close(f, size, seed + 7);
		snprintf(group, sizeof(group), "verify %" PRIu64, size);
		do_verify(f, size, seed + 7);
	}
	selftest_more(f);
	tap.group = "";
	unlink(f);
	if (rmdir(d))
		tap_result(false, "remove the directory", "%s", strerror(errno));
	return tap_summary(PROG);
}

/* ---- main ---- */

static bool parse_u64(const char *s, uint64_t *v, bool suffix)
{
	unsigned long long x;
	char *end;

	errno = 0;
	if (*s == '-')
		return false;
	x = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	if (suffix && *end) {
		int shift = strchr("kK", *end) ? 10 : strchr("mM", *end) ? 20 :
			    strchr("gG", *end) ? 30 : -1;

		if (shift < 0 || end[1] || x > (ULLONG_MAX >> shift))
			return false;
		x <<= shift;
		end++;
	}
	if (*end)
		return false;
	*v = x;
	return true;
}

static int usage(const char *msg)
{
	fprintf(stderr, PROG ": %s\nTry 'fs-mmap --help'.\n", msg);
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t size, seed;
	const char *cmd;
	int i = 1;

	pagesize = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2)
		return usage("no command given");
	cmd = argv[i++];
	if (!strcmp(cmd, "selftest")) {
		if (argc != 3)
			return usage("usage: fs-mmap selftest DIR");
		return selftest(argv[2]);
	}
	if (!strcmp(cmd, "pattern")) {
		char hash[65];

		if (argc != 4)
			return usage("usage: fs-mmap pattern SIZE SEED");
		if (!parse_u64(argv[2], &size, true))
			return usage("SIZE is not a size");
		if (!parse_u64(argv[3], &seed, false) || seed > UINT32_MAX)
			return usage("SEED is not a number of 0 to 4294967295");
		pattern_sha256(size, (uint32_t)seed, hash);
		printf("%s\n", hash);
		return 0;
	}
	if (strcmp(cmd, "write") && strcmp(cmd, "verify") && strcmp(cmd, "dirty-close"))
		return usage("unknown command");
	if (argc != 5)
		return usage("usage: fs-mmap write|verify|dirty-close FILE SIZE SEED");
	if (!parse_u64(argv[3], &size, true) || size > (uint64_t)SIZE_MAX / 2)
		return usage("SIZE is not a size");
	if (!parse_u64(argv[4], &seed, false) || seed > UINT32_MAX)
		return usage("SEED is not a number of 0 to 4294967295");
	tap.group = cmd;
	if (!strcmp(cmd, "write"))
		do_write(argv[2], size, (uint32_t)seed, false);
	else if (!strcmp(cmd, "verify"))
		do_verify(argv[2], size, (uint32_t)seed);
	else
		do_dirty_close(argv[2], size, (uint32_t)seed);
	return tap_summary(PROG);
}
