// SPDX-License-Identifier: MIT
/*
 * fs-posix: POSIX semantics of a filesystem, in the spirit of pjdfstest.
 * Runs in the test VMs on a pvasf mount (statically linked), and on any
 * local filesystem, whose behaviour is the reference: every check passes
 * on Linux's ext4 and tmpfs as root.
 *
 *   fs-posix [--xfail PATTERN]... [--no-chown] [--big N] [--quick] DIR
 *
 * Works in DIR/fs-posix.PID (removed at the end). One line per check
 * (fs-tap.h), then "fs-posix: N passed, N failed, N skipped". Exit status:
 * 0 every check passed, 1 a check failed, 2 usage or setup error, 77
 * nothing passed (everything skipped).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fs-tap.h"

#define PROG "fs-posix"

static bool opt_no_chown, opt_quick;
static long opt_big;
static bool is_root;

static const char usage_text[] =
"Usage: fs-posix [OPTION]... DIR\n"
"POSIX filesystem semantics in DIR: open, creat, unlink, rmdir, mkdir,\n"
"rename, renameat2, link, symlink, chmod, chown, truncate, utimensat,\n"
"stat, readdir, seekdir, fsync, statfs, O_DIRECT, xattrs, record locks,\n"
"flock and sparse files. Works in DIR/fs-posix.PID and removes it.\n"
"\n"
"  --xfail PATTERN  a known failure: checks whose group or \"group: check\"\n"
"                   matches the fnmatch(3) PATTERN count as skipped\n"
"                   (repeatable)\n"
"  --no-chown       chown to another user may fail with EPERM (skipped)\n"
"  --big N          also list a directory of N entries\n"
"  --quick          smaller directories\n"
"  -h, --help       this text\n"
"\n"
"Prints one line per check and \"fs-posix: N passed, N failed, N skipped\".\n"
"Exit status: 0 all passed, 1 a check failed, 2 usage or setup error,\n"
"77 nothing passed. The chown checks need root.\n";

/* ---- helpers ---- */

static char dbuf[512];

/* a check's description, printf-style (one at a time) */
static const char *D(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *D(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dbuf, sizeof(dbuf), fmt, ap);
	va_end(ap);
	return dbuf;
}

#define CHECK(cond, desc, ...) tap_result((cond), (desc), __VA_ARGS__)

/* the call (returning -1 and errno on failure) succeeded */
static bool expect_ok(long r, const char *desc)
{
	int e = errno;

	return tap_result(r != -1, desc, "failed with %s", tap_errname(e));
}

/* the call failed with errno WANT */
static bool expect_err(long r, int want, const char *desc)
{
	int e = errno;

	if (r != -1)
		return tap_result(false, desc, "succeeded (returned %ld), expected %s",
				  r, tap_errname(want));
	if (e != want) {
		char w[32];

		snprintf(w, sizeof(w), "%s", tap_errname(want));
		return tap_result(false, desc, "failed with %s, expected %s",
				  tap_errname(e), w);
	}
	return tap_result(true, desc, "%s", "");
}

/* the call failed with errno A or B */
static bool expect_err2(long r, int a, int b, const char *desc)
{
	int e = errno;

	if (r == -1 && (e == a || e == b))
		return tap_result(true, desc, "%s", "");
	if (r != -1)
		return tap_result(false, desc, "succeeded (returned %ld)", r);
	return tap_result(false, desc, "failed with %s", tap_errname(e));
}

/* a setup step: silent when it works, a failed check when not */
static bool setup(long r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool setup(long r, const char *fmt, ...)
{
	char what[300];
	int e = errno;
	va_list ap;

	if (r != -1)
		return true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	tap_result(false, "setup", "%s failed with %s", what, tap_errname(e));
	return false;
}

static bool lst(const char *path, struct stat *st)
{
	return setup(lstat(path, st), "lstat %s", path);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int put_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	if (len && write(fd, data, len) != (ssize_t)len) {
		int e = errno ? errno : EIO;

		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

static int mk(const char *path, const char *s)
{
	return put_file(path, s, strlen(s));
}

/* the file's whole content, NUL-terminated, in BUF; its length or -1 */
static ssize_t get_file(const char *path, char *buf, size_t max)
{
	int fd = open(path, O_RDONLY);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return -1;
	while (n < max - 1 && (r = read(fd, buf + n, max - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = 0;
	return (ssize_t)n;
}

static bool has_content(const char *path, const char *want)
{
	char buf[256];
	ssize_t n = get_file(path, buf, sizeof(buf));

	return n >= 0 && !strcmp(buf, want);
}

static void check_content(const char *path, const char *want, const char *desc)
{
	char buf[256];
	ssize_t n = get_file(path, buf, sizeof(buf));
	int e = errno;

	if (n < 0)
		tap_result(false, desc, "reading %s: %s", path, tap_errname(e));
	else
		CHECK(!strcmp(buf, want), desc, "%s holds \"%.40s\", expected \"%s\"",
		      path, buf, want);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* long enough for the next timestamp to differ (a coarse clock tick) */
static void tick(void)
{
	sleep_ms(opt_quick ? 15 : 25);
}

static int ts_cmp(struct timespec a, struct timespec b)
{
	if (a.tv_sec != b.tv_sec)
		return a.tv_sec < b.tv_sec ? -1 : 1;
	if (a.tv_nsec != b.tv_nsec)
		return a.tv_nsec < b.tv_nsec ? -1 : 1;
	return 0;
}

static bool ts_eq(struct timespec a, long long sec, long nsec)
{
	return a.tv_sec == sec && a.tv_nsec == nsec;
}

/*
 * Make PATH's atime and mtime an hour old and wait a tick, so that the
 * next change of its mtime or ctime shows; ST gets the aged times.
 */
static bool age(const char *path, struct stat *st)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= 3600;
	t[0].tv_nsec = 0;
	t[1] = t[0];
	if (!setup(utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW),
		   "making %s's times old", path))
		return false;
	tick();
	return lst(path, st);
}

/* PATH's mtime (if MTIME) and ctime changed since BEFORE (from age()) */
static void check_changed(const char *path, const struct stat *before,
			  bool mtime, const char *desc)
{
	struct stat st;

	if (!lst(path, &st))
		return;
	if (mtime)
		CHECK(ts_cmp(st.st_mtim, before->st_mtim) > 0 &&
		      ts_cmp(st.st_ctim, before->st_ctim) > 0, desc,
		      "mtime %lld.%09ld -> %lld.%09ld, ctime %lld.%09ld -> %lld.%09ld",
		      (long long)before->st_mtim.tv_sec, before->st_mtim.tv_nsec,
		      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		      (long long)before->st_ctim.tv_sec, before->st_ctim.tv_nsec,
		      (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	else
		CHECK(ts_cmp(st.st_ctim, before->st_ctim) > 0 &&
		      ts_cmp(st.st_mtim, before->st_mtim) == 0, desc,
		      "mtime %lld.%09ld -> %lld.%09ld, ctime %lld.%09ld -> %lld.%09ld",
		      (long long)before->st_mtim.tv_sec, before->st_mtim.tv_nsec,
		      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		      (long long)before->st_ctim.tv_sec, before->st_ctim.tv_nsec,
		      (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

/* PATH's mtime and ctime did not change since BEFORE */
static void check_unchanged(const char *path, const struct stat *before,
			    const char *desc)
{
	struct stat st;

	if (!lst(path, &st))
		return;
	CHECK(ts_cmp(st.st_mtim, before->st_mtim) == 0 &&
	      ts_cmp(st.st_ctim, before->st_ctim) == 0, desc,
	      "mtime %lld.%09ld -> %lld.%09ld, ctime %lld.%09ld -> %lld.%09ld",
	      (long long)before->st_mtim.tv_sec, before->st_mtim.tv_nsec,
	      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	      (long long)before->st_ctim.tv_sec, before->st_ctim.tv_nsec,
	      (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

static void check_mode(const char *path, mode_t want, const char *desc)
{
	struct stat st;

	if (!lst(path, &st))
		return;
	CHECK(st.st_mode == want, desc, "mode 0%o, expected 0%o",
	      (unsigned)st.st_mode, (unsigned)want);
}

static void check_nlink(const char *path, nlink_t want, const char *desc)
{
	struct stat st;

	if (!lst(path, &st))
		return;
	CHECK(st.st_nlink == want, desc, "nlink %lu, expected %lu",
	      (unsigned long)st.st_nlink, (unsigned long)want);
}

static void check_gone(const char *path, const char *desc)
{
	struct stat st;

	expect_err(lstat(path, &st), ENOENT, desc);
}

static ino_t ino_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? 0 : st.st_ino;
}

static void begin(const char *group)
{
	tap.group = group;
	if (mkdir(group, 0755) || chdir(group)) {
		fprintf(stderr, PROG ": cannot make and enter %s: %s\n", group,
			strerror(errno));
		exit(2);
	}
}

static void end(void)
{
	if (chdir("..")) {
		fprintf(stderr, PROG ": chdir ..: %s\n", strerror(errno));
		exit(2);
	}
}

static char *name_of_len(size_t len, char c)
{
	static char buf[PATH_MAX + 16];

	memset(buf, c, len);
	buf[len] = 0;
	return buf;
}

/* ---- open, creat ---- */

static void t_open(void)
{
	struct stat st;
	char buf[64];
	int fd;

	begin("open");
	fd = open("f", O_CREAT | O_WRONLY, 0644);
	expect_ok(fd, "O_CREAT creates a file");
	if (fd >= 0)
		close(fd);
	if (lst("f", &st)) {
		CHECK(st.st_mode == (S_IFREG | 0644), "new file: regular, mode 0644",
		      "mode 0%o", (unsigned)st.st_mode);
		CHECK(st.st_size == 0 && st.st_nlink == 1,
		      "new file: size 0, one link", "size %lld, nlink %lu",
		      (long long)st.st_size, (unsigned long)st.st_nlink);
		CHECK(st.st_uid == geteuid() && st.st_gid == getegid(),
		      "new file: owned by the caller", "uid %u gid %u, expected %u %u",
		      st.st_uid, st.st_gid, geteuid(), getegid());
	}
	umask(022);
	fd = open("um", O_CREAT | O_WRONLY, 0666);
	umask(0);
	if (expect_ok(fd, "O_CREAT with umask 022")) {
		close(fd);
		check_mode("um", S_IFREG | 0644, "umask 022 turns 0666 into 0644");
	}
	expect_err(open("f", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST,
		   "O_CREAT|O_EXCL on an existing file: EEXIST");
	if (setup(mk("f", "hello"), "write f")) {
		fd = open("f", O_CREAT | O_WRONLY, 0600);
		expect_ok(fd, "O_CREAT without O_EXCL opens an existing file");
		if (fd >= 0)
			close(fd);
		if (lst("f", &st))
			CHECK(st.st_size == 5 && (st.st_mode & 07777) == 0644,
			      "O_CREAT on an existing file keeps its data and mode",
			      "size %lld mode 0%o", (long long)st.st_size,
			      (unsigned)st.st_mode);
		fd = open("f", O_WRONLY | O_TRUNC);
		expect_ok(fd, "O_TRUNC opens");
		if (fd >= 0)
			close(fd);
		if (lst("f", &st))
			CHECK(st.st_size == 0, "O_TRUNC empties the file", "size %lld",
			      (long long)st.st_size);
	}
	if (setup(mk("c", "old content"), "write c")) {
		fd = creat("c", 0600);
		expect_ok(fd, "creat() on an existing file");
		if (fd >= 0) {
			expect_err(read(fd, buf, 1), EBADF,
				   "creat() opens write-only: read gives EBADF");
			close(fd);
		}
		if (lst("c", &st))
			CHECK(st.st_size == 0 && (st.st_mode & 07777) == 0644,
			      "creat() truncates and keeps the mode",
			      "size %lld mode 0%o", (long long)st.st_size,
			      (unsigned)st.st_mode);
	}

	/* O_APPEND */
	if (setup(mk("a", "abc"), "write a")) {
		fd = open("a", O_WRONLY | O_APPEND);
		if (expect_ok(fd, "O_APPEND opens")) {
			off_t pos;

			lseek(fd, 0, SEEK_SET);
			CHECK(write(fd, "def", 3) == 3, "O_APPEND write",
			      "%s", strerror(errno));
			pos = lseek(fd, 0, SEEK_CUR);
			CHECK(pos == 6, "O_APPEND: the offset is at the end after a write",
			      "offset %lld", (long long)pos);
			lseek(fd, 1, SEEK_SET);
			CHECK(write(fd, "g", 1) == 1, "O_APPEND second write", "%s",
			      strerror(errno));
			close(fd);
			check_content("a", "abcdefg",
				      "O_APPEND writes at the end whatever the offset");
		}
		fd = open("a", O_RDONLY);
		if (fd >= 0) {
			expect_err(write(fd, "x", 1), EBADF,
				   "write on an O_RDONLY file: EBADF");
			close(fd);
		}
	}

	/* errors */
	expect_err(open("none", O_RDONLY), ENOENT, "open a missing file: ENOENT");
	expect_err(open("nodir/f", O_CREAT | O_WRONLY, 0644), ENOENT,
		   "O_CREAT in a missing directory: ENOENT");
	expect_err(open("", O_RDONLY), ENOENT, "open \"\": ENOENT");
	expect_err(open("f/x", O_RDONLY), ENOTDIR,
		   "open below a regular file: ENOTDIR");
	expect_err(open("f/x", O_CREAT | O_WRONLY, 0644), ENOTDIR,
		   "O_CREAT below a regular file: ENOTDIR");
	expect_err(open("f/", O_RDONLY), ENOTDIR,
		   "open a regular file with a trailing slash: ENOTDIR");
	expect_err(open("f", O_RDONLY | O_DIRECTORY), ENOTDIR,
		   "O_DIRECTORY on a regular file: ENOTDIR");
	if (setup(mkdir("d", 0755), "mkdir d")) {
		fd = open("d", O_RDONLY | O_DIRECTORY);
		if (expect_ok(fd, "O_DIRECTORY on a directory")) {
			CHECK(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode),
			      "O_DIRECTORY: fstat says directory", "mode 0%o",
			      (unsigned)st.st_mode);
			expect_err(read(fd, buf, sizeof(buf)), EISDIR,
				   "read(2) on a directory: EISDIR");
			close(fd);
		}
		expect_err(open("d", O_WRONLY), EISDIR,
			   "open a directory O_WRONLY: EISDIR");
		expect_err(open("d", O_RDWR), EISDIR, "open a directory O_RDWR: EISDIR");
		expect_err(open("d", O_CREAT | O_RDONLY, 0644), EISDIR,
			   "O_CREAT on an existing directory: EISDIR");
	}

	/* symlinks */
	if (setup(symlink("f", "sl"), "symlink sl")) {
		expect_err(open("sl", O_RDONLY | O_NOFOLLOW), ELOOP,
			   "O_NOFOLLOW on a symlink: ELOOP");
		fd = open("sl", O_PATH | O_NOFOLLOW);
		if (expect_ok(fd, "O_PATH|O_NOFOLLOW opens the symlink itself")) {
			CHECK(fstat(fd, &st) == 0 && S_ISLNK(st.st_mode),
			      "O_PATH|O_NOFOLLOW: fstat says symlink", "mode 0%o",
			      (unsigned)st.st_mode);
			close(fd);
		}
		fd = open("f", O_RDONLY | O_NOFOLLOW);
		expect_ok(fd, "O_NOFOLLOW on a regular file opens it");
		if (fd >= 0)
			close(fd);
		fd = open("sl", O_RDONLY);
		expect_ok(fd, "open through a symlink");
		if (fd >= 0) {
			CHECK(fstat(fd, &st) == 0 && st.st_ino == ino_of("f"),
			      "open through a symlink opens its target", "ino %lu",
			      (unsigned long)st.st_ino);
			close(fd);
		}
	}
	if (setup(symlink("target", "dangling"), "symlink dangling")) {
		expect_err(open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST,
			   "O_CREAT|O_EXCL on a dangling symlink: EEXIST");
		CHECK(!exists("target"), "O_CREAT|O_EXCL did not create the target",
		      "%s", "target exists");
		fd = open("dangling", O_CREAT | O_WRONLY, 0644);
		if (expect_ok(fd, "O_CREAT through a dangling symlink")) {
			close(fd);
			CHECK(exists("target"),
			      "O_CREAT through a dangling symlink creates its target",
			      "%s", "no target");
		}
	}
	if (setup(symlink("loop2", "loop1"), "symlink loop1") &&
	    setup(symlink("loop1", "loop2"), "symlink loop2")) {
		expect_err(open("loop1", O_RDONLY), ELOOP, "open a symlink loop: ELOOP");
		expect_err(open("loop1/x", O_CREAT | O_WRONLY, 0644), ELOOP,
			   "O_CREAT below a symlink loop: ELOOP");
	}
	if (setup(symlink("self", "self"), "symlink self"))
		expect_err(open("self", O_RDONLY), ELOOP,
			   "open a symlink to itself: ELOOP");
	{
		/* a chain of 20 symlinks resolves, 41 do not (MAXSYMLINKS 40) */
		char a[32], b[32];
		bool ok = true;

		for (int i = 0; i < 41 && ok; i++) {
			snprintf(a, sizeof(a), "ch%d", i);
			snprintf(b, sizeof(b), "ch%d", i + 1);
			ok = setup(symlink(i == 40 ? "f" : b, a), "symlink chain");
		}
		if (ok) {
			fd = open("ch20", O_RDONLY);
			expect_ok(fd, "open through a chain of 20 symlinks");
			if (fd >= 0)
				close(fd);
			expect_err(open("ch0", O_RDONLY), ELOOP,
				   "open through a chain of 41 symlinks: ELOOP");
		}
	}

	/* name lengths */
	fd = open(name_of_len(255, 'n'), O_CREAT | O_WRONLY, 0644);
	if (expect_ok(fd, "create a 255-byte name")) {
		close(fd);
		CHECK(exists(name_of_len(255, 'n')), "a 255-byte name can be looked up",
		      "%s", strerror(errno));
		expect_ok(unlink(name_of_len(255, 'n')), "unlink a 255-byte name");
	}
	expect_err(open(name_of_len(256, 'n'), O_CREAT | O_WRONLY, 0644),
		   ENAMETOOLONG, "create a 256-byte name: ENAMETOOLONG");
	expect_err(open(name_of_len(256, 'n'), O_RDONLY), ENAMETOOLONG,
		   "open a 256-byte name: ENAMETOOLONG");
	{
		char *p = name_of_len(PATH_MAX + 8, 'x');

		for (int i = 1; i < PATH_MAX + 8; i += 2)
			p[i] = '/';
		expect_err(open(p, O_RDONLY), ENAMETOOLONG,
			   "open a path longer than PATH_MAX: ENAMETOOLONG");
	}
	end();
}

/* ---- read, write, lseek ---- */

static void t_io(void)
{
	enum { SZ = 1 << 20 };
	static unsigned char w[SZ], r[SZ];
	struct stat st;
	size_t done;
	ssize_t n;
	int fd;

	begin("io");
	for (size_t i = 0; i < SZ; i++)
		w[i] = (unsigned char)((i * 2654435761u) >> 13);
	fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!setup(fd, "create f")) {
		end();
		return;
	}
	done = 0;
	while (done < SZ) {
		size_t len = SZ - done < 3001 ? SZ - done : 3001;

		n = write(fd, w + done, len);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	CHECK(done == SZ, "1 MiB written in 3001-byte writes", "wrote %zu", done);
	CHECK(fstat(fd, &st) == 0 && st.st_size == SZ, "fstat: size 1 MiB",
	      "size %lld", (long long)st.st_size);
	CHECK(lseek(fd, 0, SEEK_END) == SZ, "lseek SEEK_END gives the size", "%s",
	      strerror(errno));
	CHECK(read(fd, r, 10) == 0, "read at the end of the file gives 0", "%s",
	      "data past the end");
	lseek(fd, 0, SEEK_SET);
	done = 0;
	while (done < SZ && (n = read(fd, r + done, 65536 + 7)) > 0)
		done += (size_t)n;
	CHECK(done == SZ && !memcmp(w, r, SZ), "reading it back gives the same data",
	      "read %zu bytes, mismatch", done);
	{
		bool ok = true;
		unsigned seed = 12345;

		for (int i = 0; i < 200 && ok; i++) {
			size_t off, len;

			seed = seed * 1103515245u + 12345u;
			off = (seed >> 8) % SZ;
			len = 1 + (seed >> 3) % 9000;
			if (off + len > SZ)
				len = SZ - off;
			n = pread(fd, r, len, (off_t)off);
			ok = n == (ssize_t)len && !memcmp(r, w + off, len);
			if (!ok)
				CHECK(false, "pread at 200 random offsets",
				      "pread(%zu, %zu) gave %zd, data %s", off, len, n,
				      n == (ssize_t)len ? "differs" : "short");
		}
		if (ok)
			CHECK(true, "pread at 200 random offsets", "%s", "");
	}
	CHECK(pwrite(fd, "XYZ", 3, 1000) == 3 && pread(fd, r, 5, 999) == 5 &&
	      r[0] == w[999] && !memcmp(r + 1, "XYZ", 3) && r[4] == w[1003],
	      "pwrite in the middle changes only its bytes", "%s", "mismatch");
	CHECK(pwrite(fd, "E", 1, SZ + 10000) == 1, "pwrite past the end", "%s",
	      strerror(errno));
	CHECK(fstat(fd, &st) == 0 && st.st_size == SZ + 10001,
	      "pwrite past the end extends the file", "size %lld",
	      (long long)st.st_size);
	{
		static unsigned char z[10000];

		n = pread(fd, r, 10001, SZ);
		CHECK(n == 10001 && !memcmp(r, z, 10000) && r[10000] == 'E',
		      "the gap before it reads as zeros", "read %zd", n);
	}
	expect_err(lseek(fd, -1, SEEK_SET), EINVAL, "lseek to -1: EINVAL");
	if (setup(fsync(fd), "fsync f"))
		CHECK(fstat(fd, &st) == 0 && st.st_blocks * 512 >= SZ,
		      "st_blocks counts the data after fsync", "st_blocks %lld",
		      (long long)st.st_blocks);
	CHECK(st.st_blksize > 0, "st_blksize is positive", "st_blksize %ld",
	      (long)st.st_blksize);
	{
		struct stat st2;
		int fd2 = open("f", O_RDONLY);

		CHECK(fd2 >= 0 && fstat(fd2, &st2) == 0 && st2.st_ino == st.st_ino &&
		      st2.st_dev == st.st_dev && pread(fd2, r, 3, 1000) == 3 &&
		      !memcmp(r, "XYZ", 3),
		      "a second open sees the same inode and data", "%s",
		      strerror(errno));
		if (fd2 >= 0)
			close(fd2);
	}
	close(fd);
	end();
}

/* ---- unlink, rmdir, mkdir ---- */

static void t_unlink(void)
{
	struct stat st, dst;
	char buf[16];
	int fd;

	begin("unlink");
	if (setup(mk("f", "data"), "create f")) {
		if (age(".", &dst)) {
			expect_ok(unlink("f"), "unlink a file");
			check_changed(".", &dst, true,
				      "unlink updates the directory's mtime and ctime");
		}
		check_gone("f", "the unlinked file is gone");
	}
	expect_err(unlink("f"), ENOENT, "unlink a missing file: ENOENT");
	if (setup(mkdir("d", 0755), "mkdir d"))
		expect_err(unlink("d"), EISDIR, "unlink a directory: EISDIR");
	if (setup(mk("g", "gdata"), "create g")) {
		expect_err(unlink("g/x"), ENOTDIR, "unlink below a file: ENOTDIR");
		if (setup(symlink("g", "sl"), "symlink sl")) {
			expect_ok(unlink("sl"), "unlink a symlink");
			CHECK(!exists("sl") && exists("g"),
			      "unlink removes the symlink, not its target", "%s",
			      "wrong one removed");
		}
		fd = open("g", O_RDONLY);
		if (setup(fd, "open g")) {
			expect_ok(unlink("g"), "unlink an open file");
			CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0,
			      "an unlinked open file has no links", "nlink %lu",
			      (unsigned long)st.st_nlink);
			CHECK(read(fd, buf, sizeof(buf)) == 5 && !memcmp(buf, "gdata", 5),
			      "an unlinked open file can still be read", "%s",
			      "data lost");
			close(fd);
			check_gone("g", "the unlinked open file is gone from its directory");
		}
	}
	if (setup(mk("h", "x"), "create h") && setup(link("h", "h2"), "link h2")) {
		struct stat hst;

		if (age("h", &hst)) {
			expect_ok(unlink("h2"), "unlink one of two links");
			check_changed("h", &hst, false,
				      "unlink updates the other link's ctime");
			check_nlink("h", 1, "the remaining link has nlink 1");
		}
	}
	end();
}

static void t_rmdir(void)
{
	struct stat st;

	begin("rmdir");
	if (setup(mkdir("d", 0755), "mkdir d")) {
		check_nlink(".", 3, "parent has nlink 3 with one subdirectory");
		if (age(".", &st)) {
			expect_ok(rmdir("d"), "rmdir an empty directory");
			check_changed(".", &st, true,
				      "rmdir updates the parent's mtime and ctime");
		}
		check_gone("d", "the removed directory is gone");
		check_nlink(".", 2, "parent's nlink is back to 2");
	}
	expect_err(rmdir("d"), ENOENT, "rmdir a missing directory: ENOENT");
	if (setup(mkdir("ne", 0755), "mkdir ne") && setup(mk("ne/f", ""), "create ne/f")) {
		expect_err(rmdir("ne"), ENOTEMPTY, "rmdir a non-empty directory: ENOTEMPTY");
		CHECK(exists("ne/f"), "the non-empty directory is still there", "%s",
		      "ne/f is gone");
	}
	if (setup(mkdir("ne2", 0755), "mkdir ne2") &&
	    setup(mkdir("ne2/sub", 0755), "mkdir ne2/sub"))
		expect_err(rmdir("ne2"), ENOTEMPTY,
			   "rmdir a directory with a subdirectory: ENOTEMPTY");
	if (setup(mk("f", ""), "create f"))
		expect_err(rmdir("f"), ENOTDIR, "rmdir a file: ENOTDIR");
	if (setup(mkdir("t", 0755), "mkdir t") && setup(symlink("t", "ts"), "symlink ts")) {
		expect_err(rmdir("ts"), ENOTDIR, "rmdir a symlink to a directory: ENOTDIR");
		expect_err(rmdir("t/."), EINVAL, "rmdir DIR/.: EINVAL");
		expect_ok(rmdir("t/"), "rmdir with a trailing slash");
	}
	end();
}

static void t_mkdir(void)
{
	static const mode_t modes[] = { 0755, 0700, 0777, 0500, 0, 01777, 01755 };
	struct stat st, pst;
	char name[32];

	begin("mkdir");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(name, sizeof(name), "m%04o", (unsigned)modes[i]);
		if (expect_ok(mkdir(name, modes[i]), D("mkdir mode 0%04o", (unsigned)modes[i])))
			check_mode(name, S_IFDIR | modes[i],
				   D("mkdir mode 0%04o: stat gives it", (unsigned)modes[i]));
	}
	umask(027);
	expect_ok(mkdir("um", 0777), "mkdir with umask 027");
	umask(0);
	check_mode("um", S_IFDIR | 0750, "umask 027 turns 0777 into 0750");
	if (lst("m0755", &st)) {
		CHECK(st.st_nlink == 2, "a new directory has nlink 2", "nlink %lu",
		      (unsigned long)st.st_nlink);
		CHECK(st.st_uid == geteuid() && st.st_gid == getegid(),
		      "a new directory is owned by the caller", "uid %u gid %u",
		      st.st_uid, st.st_gid);
	}
	if (age(".", &pst) && lst(".", &pst)) {
		nlink_t before = pst.st_nlink;

		expect_ok(mkdir("new", 0755), "mkdir new");
		check_changed(".", &pst, true, "mkdir updates the parent's mtime and ctime");
		check_nlink(".", before + 1, "mkdir adds a link to the parent");
		{
			struct stat a, b;

			CHECK(lstat("new/..", &a) == 0 && lstat(".", &b) == 0 &&
			      a.st_ino == b.st_ino, "DIR/.. is the parent", "%s",
			      "different inode");
			CHECK(lstat("new/.", &a) == 0 && a.st_ino == ino_of("new"),
			      "DIR/. is DIR", "%s", "different inode");
		}
	}
	expect_err(mkdir("new", 0755), EEXIST, "mkdir an existing directory: EEXIST");
	if (setup(mk("f", ""), "create f")) {
		expect_err(mkdir("f", 0755), EEXIST, "mkdir over a file: EEXIST");
		expect_err(mkdir("f/sub", 0755), ENOTDIR, "mkdir below a file: ENOTDIR");
	}
	if (setup(symlink("nowhere", "dl"), "symlink dl"))
		expect_err(mkdir("dl", 0755), EEXIST, "mkdir over a dangling symlink: EEXIST");
	expect_err(mkdir("no/sub", 0755), ENOENT, "mkdir in a missing directory: ENOENT");
	expect_err(mkdir(name_of_len(256, 'd'), 0755), ENAMETOOLONG,
		   "mkdir a 256-byte name: ENAMETOOLONG");
	expect_ok(mkdir(name_of_len(255, 'd'), 0755), "mkdir a 255-byte name");
	expect_ok(mkdir("a", 0755) == 0 && mkdir("a/b", 0755) == 0 &&
		  mkdir("a/b/c", 0755) == 0 ? 0 : -1, "mkdir a nested tree");
	CHECK(exists("a/b/c/.."), "the nested tree resolves", "%s", strerror(errno));
	expect_ok(mkdir("trail/", 0755), "mkdir with a trailing slash");
	end();
}

/* ---- rename ---- */

static void t_rename(void)
{
	struct stat st, st2, dst1, dst2;
	char buf[16];
	ino_t ia, id;
	int fd;

	begin("rename");
	if (setup(mk("a", "A"), "create a")) {
		ia = ino_of("a");
		expect_ok(rename("a", "b"), "rename a file");
		check_gone("a", "rename: the old name is gone");
		CHECK(ino_of("b") == ia, "rename: the new name is the same inode", "%s",
		      "different inode");
		check_content("b", "A", "rename: the data moved with it");
		if (setup(mk("c", "C"), "create c")) {
			fd = open("c", O_RDONLY);
			if (setup(fd, "open c")) {
				expect_ok(rename("b", "c"), "rename over an existing file");
				CHECK(ino_of("c") == ia && !exists("b"),
				      "rename over a file: the target is replaced", "%s",
				      "wrong inode");
				check_content("c", "A", "rename over a file: new data at the target");
				CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0,
				      "rename over a file: the replaced file has no links",
				      "nlink %lu", (unsigned long)st.st_nlink);
				CHECK(read(fd, buf, sizeof(buf)) == 1 && buf[0] == 'C',
				      "rename over a file: the replaced file stays readable",
				      "%s", "data lost");
				close(fd);
			}
		}
	}
	/* timestamps */
	if (setup(mkdir("d1", 0755), "mkdir d1") && setup(mkdir("d2", 0755), "mkdir d2") &&
	    setup(mk("d1/x", "X"), "create d1/x")) {
		if (age("d1", &dst1) && age("d2", &dst2) && age("d1/x", &st)) {
			expect_ok(rename("d1/x", "d2/y"), "rename a file to another directory");
			check_content("d2/y", "X", "rename across directories keeps the data");
			check_changed("d1", &dst1, true,
				      "rename updates the source directory's mtime and ctime");
			check_changed("d2", &dst2, true,
				      "rename updates the target directory's mtime and ctime");
			check_changed("d2/y", &st, false,
				      "rename updates the file's ctime, not its mtime");
		}
	}
	/* directories */
	if (setup(mkdir("d1/sub", 0755), "mkdir d1/sub") &&
	    setup(mk("d1/sub/in", "in"), "create d1/sub/in")) {
		id = ino_of("d1/sub");
		expect_ok(rename("d1/sub", "d2/sub2"), "rename a directory to another directory");
		CHECK(ino_of("d2/sub2") == id && !exists("d1/sub"),
		      "the directory moved", "%s", "not moved");
		check_content("d2/sub2/in", "in", "its content moved with it");
		CHECK(lstat("d2/sub2/..", &st) == 0 && st.st_ino == ino_of("d2"),
		      "the moved directory's .. is its new parent", "ino %lu",
		      (unsigned long)st.st_ino);
		check_nlink("d1", 2, "the old parent lost a link");
		check_nlink("d2", 3, "the new parent gained a link");
	}
	if (setup(mkdir("e1", 0755), "mkdir e1") && setup(mkdir("e2", 0755), "mkdir e2") &&
	    setup(mk("e1/in", "e"), "create e1/in")) {
		id = ino_of("e1");
		expect_ok(rename("e1", "e2"), "rename a directory over an empty directory");
		CHECK(ino_of("e2") == id && !exists("e1"),
		      "the empty directory was replaced", "%s", "wrong inode");
		check_content("e2/in", "e", "the moved directory keeps its content");
	}
	if (setup(mkdir("n1", 0755), "mkdir n1") && setup(mkdir("n2", 0755), "mkdir n2") &&
	    setup(mk("n2/f", ""), "create n2/f") && setup(mk("file", "F"), "create file")) {
		expect_err(rename("n1", "n2"), ENOTEMPTY,
			   "rename a directory over a non-empty directory: ENOTEMPTY");
		expect_err(rename("file", "n1"), EISDIR,
			   "rename a file over a directory: EISDIR");
		expect_err(rename("n1", "file"), ENOTDIR,
			   "rename a directory over a file: ENOTDIR");
		expect_err(rename("n2", "n2/inside"), EINVAL,
			   "rename a directory into itself: EINVAL");
		expect_err(rename("file/", "file2"), ENOTDIR,
			   "rename a file with a trailing slash: ENOTDIR");
		CHECK(exists("n1") && exists("n2/f") && has_content("file", "F"),
		      "failed renames changed nothing", "%s", "something moved");
	}
	expect_err(rename("missing", "x"), ENOENT, "rename a missing file: ENOENT");
	expect_err(rename("file", "nodir/x"), ENOENT,
		   "rename into a missing directory: ENOENT");
	expect_err(rename("file", name_of_len(256, 'r')), ENAMETOOLONG,
		   "rename to a 256-byte name: ENAMETOOLONG");
	if (setup(mk("h1", "H"), "create h1") && setup(link("h1", "h2"), "link h2")) {
		expect_ok(rename("h1", "h2"), "rename between two links of one file");
		CHECK(exists("h1") && exists("h2"),
		      "rename between links of one file does nothing", "%s",
		      "a link was removed");
	}
	expect_ok(rename("file", "file"), "rename a file to itself");
	check_content("file", "F", "rename to itself keeps the file");
	if (setup(symlink("file", "sl"), "symlink sl")) {
		expect_ok(rename("sl", "sl2"), "rename a symlink");
		CHECK(!exists("sl") && lstat("sl2", &st) == 0 && S_ISLNK(st.st_mode) &&
		      readlink("sl2", buf, sizeof(buf)) == 4 && !memcmp(buf, "file", 4),
		      "rename moves the symlink itself", "%s", "not a symlink");
		check_content("file", "F", "the symlink's target is untouched");
	}

	/* renameat2 */
	if (setup(mk("p", "P"), "create p") && setup(mk("q", "Q"), "create q")) {
		expect_err(renameat2(AT_FDCWD, "p", AT_FDCWD, "q", RENAME_NOREPLACE), EEXIST,
			   "RENAME_NOREPLACE over an existing file: EEXIST");
		CHECK(has_content("p", "P") && has_content("q", "Q"),
		      "the failed RENAME_NOREPLACE changed nothing", "%s", "changed");
		expect_ok(renameat2(AT_FDCWD, "p", AT_FDCWD, "p2", RENAME_NOREPLACE),
			  "RENAME_NOREPLACE to a new name");
		CHECK(!exists("p") && has_content("p2", "P"),
		      "RENAME_NOREPLACE moved the file", "%s", "not moved");
		ia = ino_of("p2");
		id = ino_of("q");
		expect_ok(renameat2(AT_FDCWD, "p2", AT_FDCWD, "q", RENAME_EXCHANGE),
			  "RENAME_EXCHANGE of two files");
		CHECK(has_content("p2", "Q") && has_content("q", "P") &&
		      ino_of("p2") == id && ino_of("q") == ia,
		      "RENAME_EXCHANGE swapped the files", "%s", "not swapped");
		if (setup(mkdir("xd", 0755), "mkdir xd") && setup(mk("xd/in", "i"), "create xd/in")) {
			expect_ok(renameat2(AT_FDCWD, "q", AT_FDCWD, "xd", RENAME_EXCHANGE),
				  "RENAME_EXCHANGE of a file and a directory");
			CHECK(lstat("q", &st) == 0 && S_ISDIR(st.st_mode) &&
			      lstat("xd", &st2) == 0 && S_ISREG(st2.st_mode) &&
			      has_content("q/in", "i") && has_content("xd", "P"),
			      "RENAME_EXCHANGE swapped the file and the directory", "%s",
			      "not swapped");
		}
		expect_err(renameat2(AT_FDCWD, "p2", AT_FDCWD, "nope", RENAME_EXCHANGE), ENOENT,
			   "RENAME_EXCHANGE with a missing target: ENOENT");
		expect_err(renameat2(AT_FDCWD, "p2", AT_FDCWD, "q",
				     RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL,
			   "RENAME_EXCHANGE|RENAME_NOREPLACE: EINVAL");
	}
	end();
}

/* ---- link, symlink ---- */

static void t_link(void)
{
	struct stat st, ast;
	char name[32];
	bool ok;

	begin("link");
	if (!setup(mk("a", "data"), "create a") || !setup(mkdir("d", 0755), "mkdir d")) {
		end();
		return;
	}
	if (age("a", &ast)) {
		expect_ok(link("a", "b"), "link a file");
		check_changed("a", &ast, false, "link updates the file's ctime, not its mtime");
	}
	check_nlink("a", 2, "after link: nlink 2 on the old name");
	check_nlink("b", 2, "after link: nlink 2 on the new name");
	CHECK(ino_of("a") == ino_of("b"), "both names are one inode", "%s", "different");
	check_content("b", "data", "the new name reads the data");
	if (setup(put_file("b", "new", 3), "write b"))
		check_content("a", "new", "writing through one name shows in the other");
	expect_err(link("a", "b"), EEXIST, "link to an existing name: EEXIST");
	expect_err(link("d", "dl"), EPERM, "link a directory: EPERM");
	expect_err(link("missing", "x"), ENOENT, "link a missing file: ENOENT");
	expect_err(link("a", "nodir/x"), ENOENT, "link into a missing directory: ENOENT");
	expect_err(link("a", name_of_len(256, 'l')), ENAMETOOLONG,
		   "link to a 256-byte name: ENAMETOOLONG");
	ok = true;
	for (int i = 0; i < 10 && ok; i++) {
		snprintf(name, sizeof(name), "d/l%d", i);
		ok = setup(link("a", name), "link d/lN");
	}
	if (ok) {
		check_nlink("a", 12, "12 links: nlink 12");
		for (int i = 0; i < 10; i++) {
			snprintf(name, sizeof(name), "d/l%d", i);
			unlink(name);
		}
		check_nlink("a", 2, "after unlinking 10 of them: nlink 2");
	}
	expect_ok(unlink("a"), "unlink the first name");
	check_nlink("b", 1, "the other name has nlink 1");
	check_content("b", "new", "the other name still has the data");
	if (setup(symlink("b", "sl"), "symlink sl")) {
		expect_ok(linkat(AT_FDCWD, "sl", AT_FDCWD, "sl2", 0), "linkat a symlink");
		CHECK(lstat("sl2", &st) == 0 && S_ISLNK(st.st_mode) &&
		      st.st_ino == ino_of("sl"),
		      "linkat without AT_SYMLINK_FOLLOW links the symlink", "%s",
		      "links something else");
		expect_ok(linkat(AT_FDCWD, "sl", AT_FDCWD, "sl3", AT_SYMLINK_FOLLOW),
			  "linkat AT_SYMLINK_FOLLOW");
		CHECK(lstat("sl3", &st) == 0 && S_ISREG(st.st_mode) &&
		      st.st_ino == ino_of("b"),
		      "linkat AT_SYMLINK_FOLLOW links the target", "%s",
		      "links something else");
	}
	end();
}

static void t_symlink(void)
{
	static const size_t lens[] = { 1, 2, 100, 255, 256, 1000, 4000, 4095 };
	static char target[4200], got[4200];
	struct stat st;
	ssize_t n;
	int fd;

	begin("symlink");
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t len = lens[k];
		char name[32];

		for (size_t i = 0; i < len; i++)
			target[i] = (i % 16 == 15) ? '/' : (char)('a' + (i * 7 + k) % 26);
		target[len] = 0;
		snprintf(name, sizeof(name), "s%zu", len);
		if (!expect_ok(symlink(target, name), D("symlink with a %zu-byte target", len)))
			continue;
		n = readlink(name, got, sizeof(got));
		CHECK(n == (ssize_t)len && !memcmp(got, target, len),
		      D("readlink gives the %zu-byte target back", len),
		      "returned %zd", n);
		CHECK(lstat(name, &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == (off_t)len,
		      D("lstat: a symlink of size %zu", len), "mode 0%o size %lld",
		      (unsigned)st.st_mode, (long long)st.st_size);
	}
	memset(target, 'x', 4096);
	target[4096] = 0;
	expect_err(symlink(target, "toolong"), ENAMETOOLONG,
		   "symlink with a 4096-byte target: ENAMETOOLONG");
	expect_err(symlink("", "empty"), ENOENT, "symlink with an empty target: ENOENT");
	if (expect_ok(symlink("nowhere", "dangling"), "symlink to a missing file")) {
		expect_err(stat("dangling", &st), ENOENT, "stat of a dangling symlink: ENOENT");
		CHECK(lstat("dangling", &st) == 0 && S_ISLNK(st.st_mode),
		      "lstat of a dangling symlink works", "%s", strerror(errno));
		CHECK((st.st_mode & 0777) == 0777, "a symlink's mode is 0777", "mode 0%o",
		      (unsigned)st.st_mode);
		n = readlink("dangling", got, sizeof(got));
		CHECK(n == 7 && !memcmp(got, "nowhere", 7),
		      "readlink of a dangling symlink", "returned %zd", n);
		n = readlink("dangling", got, 3);
		CHECK(n == 3 && !memcmp(got, "now", 3),
		      "readlink into a short buffer truncates", "returned %zd", n);
		expect_err(symlink("other", "dangling"), EEXIST,
			   "symlink over an existing symlink: EEXIST");
	}
	if (setup(mk("f", "F"), "create f")) {
		expect_err(symlink("x", "f"), EEXIST, "symlink over a file: EEXIST");
		expect_err(readlink("f", got, sizeof(got)), EINVAL,
			   "readlink of a regular file: EINVAL");
	}
	expect_err(readlink("missing", got, sizeof(got)), ENOENT,
		   "readlink of a missing file: ENOENT");
	if (setup(mkdir("d", 0755), "mkdir d") && setup(symlink("d", "ld"), "symlink ld")) {
		expect_ok(mk("ld/f", "through"), "create a file through a symlink to a directory");
		check_content("d/f", "through", "the file is in the symlink's target");
		fd = open("ld", O_RDONLY | O_DIRECTORY);
		expect_ok(fd, "O_DIRECTORY through a symlink to a directory");
		if (fd >= 0)
			close(fd);
	}
	if (setup(mkdir("sd", 0755), "mkdir sd") && setup(symlink("../f", "sd/rel"), "symlink sd/rel"))
		check_content("sd/rel", "F",
			      "a relative target resolves from the link's directory");
	if (getcwd(target, sizeof(target)) && strlen(target) < 4000) {
		strcat(target, "/f");
		if (expect_ok(symlink(target, "abs"), "symlink with an absolute target"))
			check_content("abs", "F", "an absolute target resolves");
	}
	end();
}

/* ---- chmod, chown ---- */

static void t_chmod(void)
{
	static const mode_t modes[] = { 0, 0644, 0777, 0400, 04755, 02755, 01755, 07777 };
	struct stat st;
	int fd;

	begin("chmod");
	if (!setup(mk("f", "x"), "create f")) {
		end();
		return;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (expect_ok(chmod("f", modes[i]), D("chmod 0%04o", (unsigned)modes[i])))
			check_mode("f", S_IFREG | modes[i],
				   D("chmod 0%04o: stat gives it", (unsigned)modes[i]));
	}
	fd = open("f", O_RDONLY);
	if (setup(fd, "open f")) {
		expect_ok(fchmod(fd, 0640), "fchmod 0640");
		CHECK(fstat(fd, &st) == 0 && st.st_mode == (S_IFREG | 0640),
		      "fchmod: fstat gives it", "mode 0%o", (unsigned)st.st_mode);
		close(fd);
	}
	if (age("f", &st)) {
		expect_ok(chmod("f", 0600), "chmod 0600");
		check_changed("f", &st, false, "chmod updates the ctime, not the mtime");
	}
	if (setup(mkdir("d", 0755), "mkdir d")) {
		expect_ok(chmod("d", 01777), "chmod a directory 01777");
		check_mode("d", S_IFDIR | 01777, "chmod a directory: stat gives it");
		expect_ok(chmod("d", 0700), "chmod a directory 0700");
		check_mode("d", S_IFDIR | 0700, "chmod a directory 0700: stat gives it");
	}
	if (setup(symlink("f", "sl"), "symlink sl")) {
		expect_ok(chmod("sl", 0604), "chmod through a symlink");
		check_mode("f", S_IFREG | 0604, "chmod through a symlink changes the target");
		CHECK(lstat("sl", &st) == 0 && (st.st_mode & 07777) == 0777,
		      "chmod through a symlink leaves the symlink", "mode 0%o",
		      (unsigned)st.st_mode);
	}
	expect_err(chmod("missing", 0644), ENOENT, "chmod a missing file: ENOENT");
	end();
}

static void t_chown(void)
{
	const uid_t u = 65534;
	const gid_t g = 65534;
	struct stat st;
	int fd, r;

	begin("chown");
	if (!is_root) {
		tap_skip("chown to another user and group", "needs root");
		end();
		return;
	}
	if (!setup(mk("f", "x"), "create f")) {
		end();
		return;
	}
	r = chown("f", u, g);
	if (r && errno == EPERM && opt_no_chown) {
		tap_skip("chown to another user and group", "EPERM, --no-chown");
		end();
		return;
	}
	if (expect_ok(r, "chown to 65534:65534") && lst("f", &st))
		CHECK(st.st_uid == u && st.st_gid == g, "chown: stat gives the new owner",
		      "uid %u gid %u", st.st_uid, st.st_gid);
	expect_ok(chown("f", (uid_t)-1, (gid_t)-1), "chown -1:-1");
	if (lst("f", &st))
		CHECK(st.st_uid == u && st.st_gid == g, "chown -1:-1 changes nothing",
		      "uid %u gid %u", st.st_uid, st.st_gid);
	expect_ok(chown("f", 0, (gid_t)-1), "chown the user only");
	if (lst("f", &st))
		CHECK(st.st_uid == 0 && st.st_gid == g, "chown the user only keeps the group",
		      "uid %u gid %u", st.st_uid, st.st_gid);
	fd = open("f", O_RDONLY);
	if (setup(fd, "open f")) {
		expect_ok(fchown(fd, u, 0), "fchown");
		CHECK(fstat(fd, &st) == 0 && st.st_uid == u && st.st_gid == 0,
		      "fchown: fstat gives the new owner", "uid %u gid %u",
		      st.st_uid, st.st_gid);
		close(fd);
	}
	if (age("f", &st)) {
		expect_ok(chown("f", 0, 0), "chown back to root");
		check_changed("f", &st, false, "chown updates the ctime, not the mtime");
	}
	if (setup(chmod("f", 04755), "chmod 04755")) {
		expect_ok(chown("f", u, (gid_t)-1), "chown a setuid file");
		check_mode("f", S_IFREG | 0755, "chown clears the setuid bit");
	}
	if (setup(chmod("f", 02755), "chmod 02755")) {
		expect_ok(chown("f", (uid_t)-1, g), "chown a setgid file");
		check_mode("f", S_IFREG | 0755,
			   "chown clears the setgid bit of a group-executable file");
	}
	if (setup(symlink("f", "sl"), "symlink sl")) {
		expect_ok(lchown("sl", u, g), "lchown a symlink");
		CHECK(lstat("sl", &st) == 0 && st.st_uid == u && st.st_gid == g,
		      "lchown changes the symlink's owner", "uid %u gid %u",
		      st.st_uid, st.st_gid);
		expect_ok(chown("sl", 0, 0), "chown through a symlink");
		CHECK(lstat("f", &st) == 0 && st.st_uid == 0 && st.st_gid == 0,
		      "chown through a symlink changes the target", "uid %u gid %u",
		      st.st_uid, st.st_gid);
		CHECK(lstat("sl", &st) == 0 && st.st_uid == u,
		      "chown through a symlink leaves the symlink", "uid %u", st.st_uid);
	}
	if (setup(mkdir("sg", 0755), "mkdir sg") && setup(chown("sg", 0, g), "chown sg") &&
	    setup(chmod("sg", 02775), "chmod sg 02775")) {
		check_mode("sg", S_IFDIR | 02775, "chmod 02775 on a directory");
		if (setup(mk("sg/f", ""), "create sg/f") && lst("sg/f", &st))
			CHECK(st.st_gid == g,
			      "a file in a setgid directory gets the directory's group",
			      "gid %u", st.st_gid);
		if (setup(mkdir("sg/d", 0755), "mkdir sg/d") && lst("sg/d", &st))
			CHECK(st.st_gid == g && (st.st_mode & S_ISGID),
			      "a directory in a setgid directory gets its group and setgid",
			      "gid %u mode 0%o", st.st_gid, (unsigned)st.st_mode);
	}
	expect_err(chown("missing", 0, 0), ENOENT, "chown a missing file: ENOENT");
	end();
}

/* ---- truncate ---- */

static bool all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void t_truncate(void)
{
	static char buf[200000];
	struct stat st;
	ssize_t n;
	int fd;

	begin("truncate");
	if (!setup(mk("f", "0123456789"), "create f")) {
		end();
		return;
	}
	if (age("f", &st)) {
		expect_ok(truncate("f", 100000), "truncate grows a file");
		check_changed("f", &st, true, "truncate updates the mtime and ctime");
	}
	n = get_file("f", buf, sizeof(buf));
	CHECK(n == 100000, "grown file has the new size", "read %zd", n);
	CHECK(n == 100000 && !memcmp(buf, "0123456789", 10) && all_zero(buf + 10, 99990),
	      "grown file: old data, then zeros", "%s", "not zeros");
	expect_ok(truncate("f", 5), "truncate shrinks a file");
	n = get_file("f", buf, sizeof(buf));
	CHECK(n == 5 && !memcmp(buf, "01234", 5), "shrunk file: 5 bytes of old data",
	      "read %zd", n);
	expect_ok(truncate("f", 8192 + 20), "truncate grows it again");
	n = get_file("f", buf, sizeof(buf));
	CHECK(n == 8212 && !memcmp(buf, "01234", 5) && all_zero(buf + 5, 8207),
	      "regrown file: the cut bytes read as zeros", "read %zd: %.10s", n, buf);
	fd = open("f", O_RDWR);
	if (setup(fd, "open f")) {
		memset(buf, 'a', 20000);
		CHECK(pwrite(fd, buf, 20000, 0) == 20000, "write 20000 bytes", "%s",
		      strerror(errno));
		expect_ok(ftruncate(fd, 4097), "ftruncate shrinks a file");
		CHECK(fstat(fd, &st) == 0 && st.st_size == 4097, "ftruncate: fstat gives the size",
		      "size %lld", (long long)st.st_size);
		expect_ok(ftruncate(fd, 30000), "ftruncate grows it");
		n = pread(fd, buf, sizeof(buf), 0);
		CHECK(n == 30000 && buf[4096] == 'a' && all_zero(buf + 4097, 30000 - 4097),
		      "ftruncate: bytes past the old end read as zeros", "read %zd", n);
		CHECK(pwrite(fd, "Z", 1, 40000) == 1 && ftruncate(fd, 35000) == 0 &&
		      pread(fd, buf, sizeof(buf), 0) == 35000 &&
		      all_zero(buf + 30000, 5000),
		      "a write past the end then a shrink below it", "%s", "stale data");
		expect_ok(ftruncate(fd, 0), "ftruncate to 0");
		CHECK(pread(fd, buf, 10, 0) == 0, "ftruncate to 0: nothing to read", "%s",
		      "data left");
		close(fd);
	}
	fd = open("f", O_RDONLY);
	if (setup(fd, "open f read-only")) {
		expect_err2(ftruncate(fd, 10), EINVAL, EBADF,
			    "ftruncate on a read-only file: EINVAL or EBADF");
		close(fd);
	}
	expect_err(truncate("f", -1), EINVAL, "truncate to -1: EINVAL");
	if (setup(mkdir("d", 0755), "mkdir d"))
		expect_err(truncate("d", 0), EISDIR, "truncate a directory: EISDIR");
	expect_err(truncate("missing", 0), ENOENT, "truncate a missing file: ENOENT");
	end();
}

/* ---- utimensat ---- */

static void t_utimens(void)
{
	struct timespec t[2], now0, now1;
	struct stat st, st0;
	int fd;

	begin("utimensat");
	if (!setup(mk("f", "x"), "create f")) {
		end();
		return;
	}
	t[0].tv_sec = 1000000000;
	t[0].tv_nsec = 123456789;
	t[1].tv_sec = 1500000000;
	t[1].tv_nsec = 987654321;
	expect_ok(utimensat(AT_FDCWD, "f", t, 0), "set atime and mtime");
	if (lst("f", &st)) {
		CHECK(ts_eq(st.st_atim, 1000000000, 123456789),
		      "atime round-trips to the nanosecond", "atime %lld.%09ld",
		      (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
		CHECK(ts_eq(st.st_mtim, 1500000000, 987654321),
		      "mtime round-trips to the nanosecond", "mtime %lld.%09ld",
		      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
	t[0].tv_nsec = UTIME_OMIT;
	t[1].tv_sec = 1600000000;
	t[1].tv_nsec = 1;
	expect_ok(utimensat(AT_FDCWD, "f", t, 0), "UTIME_OMIT for atime");
	if (lst("f", &st))
		CHECK(ts_eq(st.st_atim, 1000000000, 123456789) &&
		      ts_eq(st.st_mtim, 1600000000, 1),
		      "UTIME_OMIT keeps atime, sets mtime", "atime %lld.%09ld mtime %lld.%09ld",
		      (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	st0 = st;
	tick();
	t[0].tv_nsec = UTIME_OMIT;
	t[1].tv_nsec = UTIME_OMIT;
	expect_ok(utimensat(AT_FDCWD, "f", t, 0), "UTIME_OMIT for both");
	if (lst("f", &st))
		CHECK(!ts_cmp(st.st_atim, st0.st_atim) && !ts_cmp(st.st_mtim, st0.st_mtim) &&
		      !ts_cmp(st.st_ctim, st0.st_ctim),
		      "UTIME_OMIT for both changes nothing, not even ctime", "%s", "changed");
	tick();
	clock_gettime(CLOCK_REALTIME, &now0);
	t[0].tv_nsec = UTIME_NOW;
	t[1].tv_nsec = UTIME_NOW;
	expect_ok(utimensat(AT_FDCWD, "f", t, 0), "UTIME_NOW for both");
	clock_gettime(CLOCK_REALTIME, &now1);
	/* the filesystem's clock is coarse; the host's may be a little off */
	now0.tv_sec -= 2;
	now1.tv_sec += 2;
	if (lst("f", &st)) {
		CHECK(ts_cmp(st.st_atim, now0) >= 0 && ts_cmp(st.st_atim, now1) <= 0 &&
		      ts_cmp(st.st_mtim, now0) >= 0 && ts_cmp(st.st_mtim, now1) <= 0,
		      "UTIME_NOW sets atime and mtime to now", "atime %lld mtime %lld now %lld",
		      (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec,
		      (long long)now1.tv_sec - 2);
		CHECK(ts_cmp(st.st_ctim, st0.st_ctim) > 0, "UTIME_NOW updates ctime",
		      "ctime %lld.%09ld", (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	}
	expect_ok(utimensat(AT_FDCWD, "f", NULL, 0), "utimensat with NULL times");
	if (lst("f", &st))
		CHECK(ts_cmp(st.st_mtim, now0) >= 0, "NULL times set mtime to now",
		      "mtime %lld", (long long)st.st_mtim.tv_sec);
	t[0].tv_sec = -1000;
	t[0].tv_nsec = 5;
	t[1].tv_sec = 4102444800LL; /* 2100-01-01 */
	t[1].tv_nsec = 500;
	expect_ok(utimensat(AT_FDCWD, "f", t, 0), "set a time before 1970 and after 2038");
	if (lst("f", &st))
		CHECK(ts_eq(st.st_atim, -1000, 5) && ts_eq(st.st_mtim, 4102444800LL, 500),
		      "times before 1970 and after 2038 round-trip",
		      "atime %lld.%09ld mtime %lld.%09ld",
		      (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	fd = open("f", O_RDONLY);
	if (setup(fd, "open f")) {
		t[0].tv_sec = 1234567890;
		t[0].tv_nsec = 0;
		t[1] = t[0];
		expect_ok(futimens(fd, t), "futimens");
		CHECK(fstat(fd, &st) == 0 && ts_eq(st.st_mtim, 1234567890, 0) &&
		      ts_eq(st.st_atim, 1234567890, 0), "futimens: fstat gives the times",
		      "mtime %lld", (long long)st.st_mtim.tv_sec);
		close(fd);
	}
	if (setup(symlink("f", "sl"), "symlink sl")) {
		t[0].tv_sec = 1111111111;
		t[0].tv_nsec = 11;
		t[1] = t[0];
		expect_ok(utimensat(AT_FDCWD, "sl", t, AT_SYMLINK_NOFOLLOW),
			  "utimensat AT_SYMLINK_NOFOLLOW on a symlink");
		CHECK(lstat("sl", &st) == 0 && ts_eq(st.st_mtim, 1111111111, 11),
		      "AT_SYMLINK_NOFOLLOW sets the symlink's times", "mtime %lld",
		      (long long)st.st_mtim.tv_sec);
		CHECK(lstat("f", &st) == 0 && ts_eq(st.st_mtim, 1234567890, 0),
		      "AT_SYMLINK_NOFOLLOW leaves the target's times", "mtime %lld",
		      (long long)st.st_mtim.tv_sec);
		t[1].tv_sec = 1222222222;
		expect_ok(utimensat(AT_FDCWD, "sl", t, 0), "utimensat through a symlink");
		CHECK(lstat("f", &st) == 0 && ts_eq(st.st_mtim, 1222222222, 11),
		      "utimensat through a symlink sets the target's times", "mtime %lld",
		      (long long)st.st_mtim.tv_sec);
	}
	t[0].tv_sec = 0;
	t[0].tv_nsec = 1000000000;
	t[1] = t[0];
	expect_err(utimensat(AT_FDCWD, "f", t, 0), EINVAL,
		   "tv_nsec of 1000000000: EINVAL");
	expect_err(utimensat(AT_FDCWD, "missing", NULL, 0), ENOENT,
		   "utimensat on a missing file: ENOENT");
	end();
}

/* ---- timestamps on reads and writes ---- */

static void t_times(void)
{
	struct stat st, dst;
	char buf[8];
	int fd;

	begin("times");
	if (!setup(mk("f", "data"), "create f")) {
		end();
		return;
	}
	if (age("f", &st)) {
		fd = open("f", O_RDONLY);
		if (setup(fd, "open f") && setup(read(fd, buf, sizeof(buf)), "read f"))
			close(fd);
		check_unchanged("f", &st, "a read changes neither mtime nor ctime");
	}
	if (age("f", &st)) {
		fd = open("f", O_WRONLY);
		if (setup(fd, "open f")) {
			CHECK(write(fd, "x", 1) == 1, "write 1 byte", "%s", strerror(errno));
			check_changed("f", &st, true, "a write updates mtime and ctime");
			close(fd);
		}
	}
	if (age("f", &st)) {
		fd = open("f", O_WRONLY);
		if (setup(fd, "open f")) {
			close(fd);
			check_unchanged("f", &st, "an open and close without writing changes nothing");
		}
	}
	if (age(".", &dst)) {
		expect_ok(mk("g", "g"), "create g");
		check_changed(".", &dst, true, "a create updates the directory's mtime and ctime");
	}
	if (age(".", &dst)) {
		expect_ok(symlink("g", "sl"), "symlink sl");
		check_changed(".", &dst, true, "symlink updates the directory's mtime and ctime");
	}
	if (age(".", &dst)) {
		expect_ok(link("g", "g2"), "link g2");
		check_changed(".", &dst, true, "link updates the directory's mtime and ctime");
	}
	if (age(".", &dst)) {
		expect_ok(rename("g2", "g3"), "rename g2");
		check_changed(".", &dst, true, "rename updates the directory's mtime and ctime");
	}
	if (age(".", &dst)) {
		fd = open("g", O_WRONLY);
		if (setup(fd, "open g") && setup(write(fd, "x", 1), "write g"))
			close(fd);
		check_unchanged(".", &dst, "writing a file leaves its directory's times");
	}
	if (age("f", &st)) {
		fd = open("f", O_WRONLY);
		if (setup(fd, "open f")) {
			expect_ok(pwrite(fd, "", 0, 0), "a write of 0 bytes");
			close(fd);
			check_unchanged("f", &st, "a write of 0 bytes changes nothing");
		}
	}
	end();
}

/* ---- readdir ---- */

struct dent {
	const char *name;
	unsigned char type;
	ino_t ino;
};

/* entry I's name: e000123, and every 7th one long */
static void rd_name(int i, char *buf, size_t size)
{
	int len = snprintf(buf, size, "e%06d", i);

	if (i % 7 == 0) {
		memset(buf + len, 'L', 200);
		buf[len + 200] = 0;
	}
}

static unsigned char rd_type(int i)
{
	if (i % 50 == 1)
		return DT_DIR;
	if (i % 50 == 2)
		return DT_LNK;
	return DT_REG;
}

static int rd_index(const char *name, int n)
{
	char *end;
	long v;

	if (name[0] != 'e')
		return -1;
	v = strtol(name + 1, &end, 10);
	if (end != name + 7 || v < 0 || v >= n)
		return -1;
	if (*end && !(v % 7 == 0 && strlen(end) == 200))
		return -1;
	if (!*end && v % 7 == 0)
		return -1;
	return (int)v;
}

static int rd_create(int i)
{
	char name[300];

	rd_name(i, name, sizeof(name));
	switch (rd_type(i)) {
	case DT_DIR:
		return mkdir(name, 0755);
	case DT_LNK:
		return symlink("target", name);
	default:
		return mk(name, "");
	}
}

/*
 * List the current directory (N entries made by rd_create) with
 * getdents64 and buffers of BUFSIZE bytes; every entry in WANT must show
 * exactly once, nothing else but . and ..; if UNLINK, each entry is removed
 * as soon as it is read (as rm -r does).
 */
static void rd_list(int n, const bool *want, size_t bufsize, bool unlink_each,
		    const char *desc)
{
	static unsigned char seen[200000];
	char *buf = malloc(bufsize);
	int fd = open(".", O_RDONLY | O_DIRECTORY);
	int dots = 0, extra = 0, dup = 0, missing = 0, badtype = 0, badino = 0;
	int unlink_fail = 0, calls = 0, first_bad = -1;
	char extra_name[64] = "";
	ssize_t len;

	if (!buf || fd < 0) {
		tap_result(false, desc, "setup: %s", strerror(errno));
		free(buf);
		if (fd >= 0)
			close(fd);
		return;
	}
	memset(seen, 0, (size_t)n);
	while ((len = getdents64(fd, buf, bufsize)) > 0) {
		calls++;
		for (ssize_t off = 0; off < len;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			int i;

			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) {
				dots++;
				continue;
			}
			i = rd_index(d->d_name, n);
			if (i < 0 || !want[i]) {
				if (!extra++)
					snprintf(extra_name, sizeof(extra_name), "%.60s", d->d_name);
				continue;
			}
			if (seen[i]++) {
				dup++;
				if (first_bad < 0)
					first_bad = i;
			}
			if (d->d_type != DT_UNKNOWN && d->d_type != rd_type(i))
				badtype++;
			if (i % 97 == 0 || unlink_each) {
				struct stat st;

				if (lstat(d->d_name, &st) || st.st_ino != d->d_ino)
					badino++;
			}
			if (unlink_each &&
			    (rd_type(i) == DT_DIR ? rmdir(d->d_name) : unlink(d->d_name)))
				unlink_fail++;
		}
	}
	if (len < 0) {
		tap_result(false, desc, "getdents64: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (want[i] && !seen[i]) {
			missing++;
			if (first_bad < 0)
				first_bad = i;
		}
	CHECK(dots == 2 && !extra && !dup && !missing && !badtype && !badino && !unlink_fail,
	      desc, "%d calls: %d missing, %d twice (first bad %d), %d unknown (%s), "
	      "%d dots, %d wrong d_type, %d wrong d_ino, %d unlink failures",
	      calls, missing, dup, first_bad, extra, extra_name, dots, badtype, badino,
	      unlink_fail);
out:
	free(buf);
	close(fd);
}

static void t_readdir_n(int n, const char *dir)
{
	bool *want = calloc((size_t)n, 1);
	bool ok = true;

	if (!want || n > 200000) {
		tap_result(false, D("readdir of %d entries", n), "%s", "too many");
		free(want);
		return;
	}
	if (!setup(mkdir(dir, 0755), "mkdir %s", dir)) {
		free(want);
		return;
	}
	if (chdir(dir)) {
		fprintf(stderr, PROG ": chdir %s: %s\n", dir, strerror(errno));
		exit(2);
	}
	for (int i = 0; i < n && ok; i++) {
		want[i] = true;
		ok = setup(rd_create(i), "create entry %d of %d", i, n);
	}
	if (ok) {
		rd_list(n, want, 4096, false,
			D("%d entries, 4 KiB getdents64 buffer: each exactly once", n));
		rd_list(n, want, 65536, false,
			D("%d entries, 64 KiB getdents64 buffer: each exactly once", n));
		rd_list(n, want, 300, false,
			D("%d entries, 300-byte getdents64 buffer: each exactly once", n));
		{
			DIR *d = opendir(".");
			struct dirent *e;
			int count = 0, dots = 0;

			while (d && (e = readdir(d)))
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					dots++;
				else if (rd_index(e->d_name, n) >= 0)
					count++;
			CHECK(d && count == n && dots == 2, D("readdir(3) counts %d entries", n),
			      "counted %d, %d dots", count, dots);
			if (d)
				closedir(d);
		}
		for (int i = 1; i < n; i += 2) {
			char name[300];

			rd_name(i, name, sizeof(name));
			if (rd_type(i) == DT_DIR ? rmdir(name) : unlink(name))
				ok = false;
			want[i] = false;
		}
		if (setup(ok ? 0 : -1, "remove every other entry"))
			rd_list(n, want, 4096, false,
				"after removing every other entry: the rest exactly once");
		rd_list(n, want, 4096, true,
			"removing each entry as it is read: every entry read once");
	}
	free(want);
	if (chdir("..")) {
		fprintf(stderr, PROG ": chdir ..: %s\n", strerror(errno));
		exit(2);
	}
	if (ok)
		expect_ok(rmdir(dir), D("the emptied directory %s can be removed", dir));
}

static void t_readdir(void)
{
	int n = opt_quick ? 200 : 2000;

	begin("readdir");
	if (setup(mkdir("empty", 0755), "mkdir empty")) {
		DIR *d = opendir("empty");
		struct dirent *e;
		int dots = 0, other = 0;

		while (d && (e = readdir(d)))
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				dots++;
			else
				other++;
		CHECK(d && dots == 2 && !other, "an empty directory lists . and .. only",
		      "%d dots, %d others", dots, other);
		if (d)
			closedir(d);
	}
	t_readdir_n(n, "rd");
	if (opt_big > 0)
		t_readdir_n((int)opt_big, "big");
	end();
}

/* ---- seekdir, telldir ---- */

static void t_seekdir(void)
{
	int n = opt_quick ? 60 : 300;
	char **names = calloc((size_t)n + 3, sizeof(char *));
	long *pos = calloc((size_t)n + 3, sizeof(long));
	int count = 0;
	struct dirent *e;
	DIR *d;
	bool ok = true;

	begin("seekdir");
	for (int i = 0; i < n && ok; i++)
		ok = setup(rd_create(i), "create entries");
	d = opendir(".");
	if (!ok || !names || !pos || !setup(d ? 0 : -1, "opendir")) {
		if (d)
			closedir(d);
		free(names);
		free(pos);
		end();
		return;
	}
	for (;;) {
		pos[count] = telldir(d);
		e = readdir(d);
		if (!e || count == n + 2)
			break;
		names[count++] = strdup(e->d_name);
	}
	CHECK(count == n + 2, D("read %d entries with their telldir positions", n + 2),
	      "read %d", count);
	{
		int ks[] = { 0, 1, 2, count / 3, count / 2, count - 1, count };

		for (size_t j = 0; j < sizeof(ks) / sizeof(ks[0]); j++) {
			int k = ks[j], i = k;

			seekdir(d, pos[k]);
			while ((e = readdir(d)) && i < count && !strcmp(e->d_name, names[i]))
				i++;
			CHECK(!e && i == count,
			      D("seekdir to the position of entry %d resumes there", k),
			      "diverged at entry %d (%s)", i, e ? e->d_name : "end");
		}
	}
	rewinddir(d);
	e = readdir(d);
	CHECK(e && count && !strcmp(e->d_name, names[0]), "rewinddir starts over",
	      "got %s", e ? e->d_name : "nothing");
	{
		/* reading in the middle, telldir, more reads, seekdir back */
		long p;
		int i = 1;

		while (i < count / 2 && readdir(d))
			i++;
		p = telldir(d);
		for (int j = 0; j < 10; j++)
			readdir(d);
		seekdir(d, p);
		e = readdir(d);
		CHECK(e && i < count && !strcmp(e->d_name, names[i]),
		      "telldir in the middle, read on, seekdir back", "got %s, expected %s",
		      e ? e->d_name : "nothing", i < count ? names[i] : "?");
	}
	closedir(d);

	/* getdents64 and lseek to a d_off */
	{
		static char buf[2048];
		int fd = open(".", O_RDONLY | O_DIRECTORY);
		ssize_t len = fd >= 0 ? getdents64(fd, buf, sizeof(buf)) : -1;
		int got = 0, bad = 0;

		if (setup(len > 0 ? 0 : -1, "getdents64")) {
			struct dirent64 *first = (struct dirent64 *)buf;
			char next[300];
			struct dirent64 *second = (struct dirent64 *)(buf + first->d_reclen);

			if ((ssize_t)first->d_reclen >= len) {
				tap_result(false, "lseek to a d_off", "%s", "one entry per call");
			} else {
				snprintf(next, sizeof(next), "%s", second->d_name);
				CHECK(lseek(fd, first->d_off, SEEK_SET) == first->d_off,
				      "lseek a directory to the first entry's d_off", "%s",
				      strerror(errno));
				len = getdents64(fd, buf, sizeof(buf));
				CHECK(len > 0 && !strcmp(((struct dirent64 *)buf)->d_name, next),
				      "getdents64 resumes at the second entry", "got %s, expected %s",
				      len > 0 ? ((struct dirent64 *)buf)->d_name : "nothing", next);
			}
			lseek(fd, 0, SEEK_SET);
			while ((len = getdents64(fd, buf, sizeof(buf))) > 0)
				for (ssize_t off = 0; off < len; got++) {
					struct dirent64 *de = (struct dirent64 *)(buf + off);

					off += de->d_reclen;
					if (strcmp(de->d_name, names[got < count ? got : 0]))
						bad++;
				}
			CHECK(got == count && !bad, "lseek to 0 lists everything again in order",
			      "%d entries, %d differ", got, bad);
		}
		if (fd >= 0)
			close(fd);
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	free(pos);
	end();
}

/* ---- fsync, statfs ---- */

static void t_fsync(void)
{
	char buf[16];
	int fd, dfd;

	begin("fsync");
	fd = open("f", O_RDWR | O_CREAT, 0644);
	if (!setup(fd, "create f")) {
		end();
		return;
	}
	CHECK(write(fd, "synced", 6) == 6, "write", "%s", strerror(errno));
	expect_ok(fsync(fd), "fsync a file");
	expect_ok(fdatasync(fd), "fdatasync a file");
	CHECK(pwrite(fd, "S", 1, 0) == 1 && fdatasync(fd) == 0, "write then fdatasync",
	      "%s", strerror(errno));
	expect_ok(syncfs(fd), "syncfs");
	close(fd);
	fd = open("f", O_RDONLY);
	if (setup(fd, "open f")) {
		expect_ok(fsync(fd), "fsync a read-only file");
		CHECK(read(fd, buf, sizeof(buf)) == 6 && !memcmp(buf, "Synced", 6),
		      "the synced data reads back", "%s", "wrong data");
		close(fd);
	}
	dfd = open(".", O_RDONLY | O_DIRECTORY);
	if (setup(dfd, "open .")) {
		expect_ok(fsync(dfd), "fsync a directory");
		expect_ok(fdatasync(dfd), "fdatasync a directory");
		close(dfd);
	}
	end();
}

static void t_statfs(void)
{
	struct statfs sf, sf2;
	struct statvfs sv;
	int fd;

	begin("statfs");
	if (expect_ok(statfs(".", &sf), "statfs")) {
		CHECK(sf.f_bsize > 0, "f_bsize is positive", "f_bsize %ld", (long)sf.f_bsize);
		CHECK(sf.f_blocks > 0, "f_blocks is positive", "f_blocks %llu",
		      (unsigned long long)sf.f_blocks);
		CHECK(sf.f_bfree <= sf.f_blocks && sf.f_bavail <= sf.f_blocks,
		      "f_bavail <= f_blocks, f_bfree <= f_blocks",
		      "blocks %llu free %llu avail %llu", (unsigned long long)sf.f_blocks,
		      (unsigned long long)sf.f_bfree, (unsigned long long)sf.f_bavail);
		CHECK(sf.f_bavail > 0, "there is free space", "f_bavail 0%s", "");
		CHECK(sf.f_ffree <= sf.f_files, "f_ffree <= f_files", "files %llu free %llu",
		      (unsigned long long)sf.f_files, (unsigned long long)sf.f_ffree);
		CHECK(sf.f_namelen >= 255, "f_namelen is at least 255", "f_namelen %ld",
		      (long)sf.f_namelen);
		fd = open(".", O_RDONLY | O_DIRECTORY);
		if (setup(fd, "open .")) {
			CHECK(fstatfs(fd, &sf2) == 0 && sf2.f_type == sf.f_type &&
			      sf2.f_blocks == sf.f_blocks && sf2.f_bsize == sf.f_bsize,
			      "fstatfs agrees with statfs", "%s", "differs");
			close(fd);
		}
	}
	if (expect_ok(statvfs(".", &sv), "statvfs")) {
		CHECK(sv.f_frsize > 0 && sv.f_blocks > 0 && sv.f_bfree <= sv.f_blocks,
		      "statvfs: sizes are sane", "frsize %lu blocks %llu",
		      sv.f_frsize, (unsigned long long)sv.f_blocks);
		CHECK(!(sv.f_flag & ST_RDONLY), "statvfs: not read-only", "f_flag %#lx",
		      sv.f_flag);
		CHECK(sv.f_namemax >= 255, "statvfs: f_namemax is at least 255",
		      "f_namemax %lu", sv.f_namemax);
	}
	end();
}

/* ---- O_DIRECT ---- */

static void t_odirect(void)
{
	const size_t sz = 65536;
	unsigned char *w = NULL, *r = NULL;
	int fd, bfd;
	ssize_t n;

	begin("odirect");
	if (posix_memalign((void **)&w, 4096, sz) || posix_memalign((void **)&r, 4096, sz)) {
		tap_result(false, "allocate aligned buffers", "%s", "no memory");
		goto out;
	}
	for (size_t i = 0; i < sz; i++)
		w[i] = (unsigned char)(i * 31 + (i >> 9));
	fd = open("f", O_RDWR | O_CREAT | O_DIRECT, 0644);
	if (!expect_ok(fd, "open O_DIRECT"))
		goto out;
	n = pwrite(fd, w, sz, 0);
	CHECK(n == (ssize_t)sz, "O_DIRECT write of 64 KiB at 0", "returned %zd: %s", n,
	      strerror(errno));
	n = pwrite(fd, w, 4096, 17 * 4096);
	CHECK(n == 4096, "O_DIRECT write of 4 KiB at 68 KiB", "returned %zd: %s", n,
	      strerror(errno));
	memset(r, 0xee, sz);
	n = pread(fd, r, sz, 0);
	CHECK(n == (ssize_t)sz && !memcmp(r, w, sz), "O_DIRECT read gives the data back",
	      "returned %zd", n);
	memset(r, 0xee, sz);
	n = pread(fd, r, 8192, 16 * 4096);
	CHECK(n == 8192 && all_zero((char *)r, 4096) && !memcmp(r + 4096, w, 4096),
	      "O_DIRECT read across a hole and a write", "returned %zd", n);
	memset(r, 0xee, sz);
	n = pread(fd, r, sz, 16 * 4096);
	CHECK(n == 8192, "O_DIRECT read at the end is short", "returned %zd", n);
	bfd = open("f", O_RDWR);
	if (setup(bfd, "open f buffered")) {
		n = pread(bfd, r, sz, 0);
		CHECK(n == (ssize_t)sz && !memcmp(r, w, sz),
		      "a buffered read sees the O_DIRECT write", "returned %zd", n);
		memset(w, 0x5a, 4096);
		CHECK(pwrite(bfd, w, 4096, 8192) == 4096, "buffered write", "%s",
		      strerror(errno));
		memset(r, 0, sz);
		n = pread(fd, r, 4096 * 3, 4096);
		CHECK(n == 4096 * 3 && r[4096] == 0x5a && r[8191] == 0x5a &&
		      r[0] == w[4096] && r[8192] == w[12288],
		      "an O_DIRECT read sees the buffered write", "returned %zd", n);
		close(bfd);
	}
	close(fd);
out:
	free(w);
	free(r);
	end();
}

/* ---- xattrs ---- */

static void t_xattr(void)
{
	char val[4096], list[4096];
	ssize_t n;
	bool found_a, found_b;

	begin("xattr");
	if (!setup(mk("f", "x"), "create f") || !setup(mkdir("d", 0755), "mkdir d")) {
		end();
		return;
	}
	if (!expect_ok(setxattr("f", "user.a", "value-a", 7, 0), "set user.a")) {
		end();
		return;
	}
	n = getxattr("f", "user.a", val, sizeof(val));
	CHECK(n == 7 && !memcmp(val, "value-a", 7), "get user.a", "returned %zd", n);
	n = getxattr("f", "user.a", NULL, 0);
	CHECK(n == 7, "get user.a's size with a 0-byte buffer", "returned %zd", n);
	expect_err(getxattr("f", "user.a", val, 3), ERANGE,
		   "get user.a into a 3-byte buffer: ERANGE");
	expect_err(getxattr("f", "user.none", val, sizeof(val)), ENODATA,
		   "get a missing attribute: ENODATA");
	expect_err(setxattr("f", "user.a", "v", 1, XATTR_CREATE), EEXIST,
		   "XATTR_CREATE on an existing attribute: EEXIST");
	expect_err(setxattr("f", "user.b", "v", 1, XATTR_REPLACE), ENODATA,
		   "XATTR_REPLACE on a missing attribute: ENODATA");
	expect_ok(setxattr("f", "user.a", "replaced", 8, XATTR_REPLACE),
		  "XATTR_REPLACE on an existing attribute");
	n = getxattr("f", "user.a", val, sizeof(val));
	CHECK(n == 8 && !memcmp(val, "replaced", 8), "the value was replaced",
	      "returned %zd", n);
	expect_ok(setxattr("f", "user.b", "", 0, XATTR_CREATE), "XATTR_CREATE an empty value");
	n = getxattr("f", "user.b", val, sizeof(val));
	CHECK(n == 0, "an empty value reads back empty", "returned %zd", n);
	{
		char big[2000];

		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (char)(i * 13);
		expect_ok(setxattr("f", "user.big", big, sizeof(big), 0),
			  "set a 2000-byte binary value");
		n = getxattr("f", "user.big", val, sizeof(val));
		CHECK(n == (ssize_t)sizeof(big) && !memcmp(val, big, sizeof(big)),
		      "the binary value reads back", "returned %zd", n);
	}
	n = listxattr("f", list, sizeof(list));
	found_a = found_b = false;
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1) {
		found_a |= !strcmp(list + off, "user.a");
		found_b |= !strcmp(list + off, "user.b");
	}
	CHECK(n > 0 && found_a && found_b, "listxattr names user.a and user.b",
	      "returned %zd", n);
	CHECK(listxattr("f", NULL, 0) == n, "listxattr's size with a 0-byte buffer",
	      "%s", "differs");
	expect_ok(removexattr("f", "user.a"), "remove user.a");
	expect_err(getxattr("f", "user.a", val, sizeof(val)), ENODATA,
		   "a removed attribute: ENODATA");
	expect_err(removexattr("f", "user.a"), ENODATA,
		   "remove a missing attribute: ENODATA");
	n = listxattr("f", list, sizeof(list));
	found_a = false;
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1)
		found_a |= !strcmp(list + off, "user.a");
	CHECK(n > 0 && !found_a, "listxattr no longer names user.a", "returned %zd", n);
	{
		int fd = open("f", O_RDONLY);

		if (setup(fd, "open f")) {
			expect_ok(fsetxattr(fd, "user.fd", "F", 1, 0), "fsetxattr");
			n = fgetxattr(fd, "user.fd", val, sizeof(val));
			CHECK(n == 1 && val[0] == 'F', "fgetxattr", "returned %zd", n);
			close(fd);
		}
	}
	expect_ok(setxattr("d", "user.dir", "D", 1, 0), "set an attribute on a directory");
	n = getxattr("d", "user.dir", val, sizeof(val));
	CHECK(n == 1 && val[0] == 'D', "get an attribute of a directory", "returned %zd", n);
	if (setup(symlink("f", "sl"), "symlink sl")) {
		expect_err(lsetxattr("sl", "user.l", "L", 1, 0), EPERM,
			   "user.* on a symlink itself: EPERM");
		n = getxattr("sl", "user.fd", val, sizeof(val));
		CHECK(n == 1 && val[0] == 'F', "getxattr follows a symlink", "returned %zd", n);
	}
	expect_err(getxattr("missing", "user.a", val, sizeof(val)), ENOENT,
		   "getxattr on a missing file: ENOENT");
	if (setup(rename("f", "g"), "rename f g")) {
		n = getxattr("g", "user.big", val, sizeof(val));
		CHECK(n == 2000, "attributes survive a rename", "returned %zd", n);
	}
	end();
}

/* ---- locks ---- */

/* a child's check result, sent to the parent to print */
struct crec {
	int sync; /* 1: the child waits for the parent */
	int pass;
	char desc[160];
	char msg[200];
};

static int crec_fd = -1;

static void child_check(bool pass, const char *desc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void child_check(bool pass, const char *desc, const char *fmt, ...)
{
	struct crec c = { .pass = pass };
	va_list ap;

	snprintf(c.desc, sizeof(c.desc), "%s", desc);
	va_start(ap, fmt);
	vsnprintf(c.msg, sizeof(c.msg), fmt, ap);
	va_end(ap);
	if (write(crec_fd, &c, sizeof(c)) != sizeof(c))
		_exit(3);
}

static void child_sync(int wait_fd)
{
	struct crec c = { .sync = 1 };
	char b;

	if (write(crec_fd, &c, sizeof(c)) != sizeof(c) || read(wait_fd, &b, 1) != 1)
		_exit(3);
}

/* print the child's results until it waits (1) or ends (0) */
static int collect(int fd)
{
	struct crec c;

	while (read(fd, &c, sizeof(c)) == sizeof(c)) {
		if (c.sync)
			return 1;
		tap_result(c.pass, c.desc, "%s", c.msg);
	}
	return 0;
}

static void go(int fd)
{
	if (write(fd, "g", 1) != 1)
		perror("write");
}

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start,
			    .l_len = len };

	return fcntl(fd, cmd, &fl);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void lock_child(int p2c)
{
	struct flock fl;
	int fd = open("lk", O_RDWR);
	int e;
	double t0;

	if (fd < 0)
		_exit(3);
	e = lk(fd, F_SETLK, F_WRLCK, 50, 10);
	child_check(e == -1 && (errno == EAGAIN || errno == EACCES),
		    "conflicting write lock: EAGAIN", "returned %d, %s", e, strerror(errno));
	e = lk(fd, F_SETLK, F_RDLCK, 0, 1);
	child_check(e == -1 && (errno == EAGAIN || errno == EACCES),
		    "read lock on a write-locked range: EAGAIN", "returned %d, %s", e,
		    strerror(errno));
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 10 };
	e = fcntl(fd, F_GETLK, &fl);
	child_check(e == 0 && fl.l_type == F_WRLCK && fl.l_pid == getppid() &&
		    fl.l_start == 0 && fl.l_len == 100,
		    "F_GETLK reports the holder's lock and pid",
		    "returned %d: type %d pid %d (parent %d) start %lld len %lld", e,
		    fl.l_type, fl.l_pid, getppid(), (long long)fl.l_start,
		    (long long)fl.l_len);
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1000, .l_len = 10 };
	e = fcntl(fd, F_GETLK, &fl);
	child_check(e == 0 && fl.l_type == F_UNLCK, "F_GETLK on a free range: F_UNLCK",
		    "returned %d: type %d", e, fl.l_type);
	e = lk(fd, F_SETLK, F_WRLCK, 200, 100);
	child_check(e == 0, "write lock on a free range", "%s", strerror(errno));
	e = lk(fd, F_SETLK, F_RDLCK, 600, 50);
	child_check(e == 0, "read lock on a read-locked range", "%s", strerror(errno));
	e = lk(fd, F_SETLK, F_WRLCK, 600, 10);
	child_check(e == -1 && (errno == EAGAIN || errno == EACCES),
		    "write lock on a read-locked range: EAGAIN", "returned %d, %s", e,
		    strerror(errno));
	child_sync(p2c); /* the parent unlocks 0-99 */
	e = lk(fd, F_SETLK, F_WRLCK, 50, 10);
	child_check(e == 0, "after the unlock the write lock succeeds", "%s",
		    strerror(errno));
	child_sync(p2c); /* the parent locks 400-499 and unlocks it 200 ms later */
	t0 = mono();
	e = lk(fd, F_SETLKW, F_WRLCK, 400, 10);
	t0 = mono() - t0;
	child_check(e == 0 && t0 > 0.1, "F_SETLKW waits for the unlock",
		    "returned %d (%s) after %.3f s", e, e ? strerror(errno) : "ok", t0);
	close(fd);
	_exit(0);
}

static void t_lock(void)
{
	int fd, c2p[2], p2c[2], status;
	struct flock fl;
	pid_t pid;

	begin("lock");
	fd = open("lk", O_RDWR | O_CREAT, 0644);
	if (!setup(fd, "create lk") || !setup(ftruncate(fd, 1000), "ftruncate lk")) {
		end();
		return;
	}
	expect_ok(lk(fd, F_SETLK, F_WRLCK, 0, 100), "F_SETLK write lock on 0-99");
	expect_ok(lk(fd, F_SETLK, F_RDLCK, 600, 100), "F_SETLK read lock on 600-699");
	if (!setup(pipe(c2p), "pipe") || !setup(pipe(p2c), "pipe")) {
		close(fd);
		end();
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(c2p[0]);
		close(p2c[1]);
		crec_fd = c2p[1];
		lock_child(p2c[0]);
	}
	close(c2p[1]);
	close(p2c[0]);
	if (!setup(pid, "fork")) {
		close(c2p[0]);
		close(p2c[1]);
		close(fd);
		end();
		return;
	}
	if (collect(c2p[0])) {
		fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 250,
				     .l_len = 1 };
		CHECK(fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_WRLCK && fl.l_pid == pid &&
		      fl.l_start == 200 && fl.l_len == 100,
		      "F_GETLK in the parent reports the child's lock", "type %d pid %d",
		      fl.l_type, fl.l_pid);
		expect_ok(lk(fd, F_SETLK, F_UNLCK, 0, 100), "unlock 0-99");
		go(p2c[1]);
	}
	if (collect(c2p[0])) {
		expect_ok(lk(fd, F_SETLK, F_WRLCK, 400, 100), "write lock on 400-499");
		go(p2c[1]);
		sleep_ms(250);
		expect_ok(lk(fd, F_SETLK, F_UNLCK, 400, 100), "unlock 400-499");
	}
	collect(c2p[0]);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "the locking child finished", "status %#x", status);
	close(c2p[0]);
	close(p2c[1]);
	/* the child's locks went with it */
	expect_ok(lk(fd, F_SETLK, F_WRLCK, 0, 0), "the child's locks end with it");
	close(fd);

	/* OFD locks: per open file description */
	{
		int a = open("lk", O_RDWR), b = open("lk", O_RDWR);

		if (setup(a, "open lk") && setup(b, "open lk")) {
			expect_ok(lk(a, F_OFD_SETLK, F_WRLCK, 0, 10), "OFD write lock");
			expect_err2(lk(b, F_OFD_SETLK, F_WRLCK, 5, 10), EAGAIN, EACCES,
				    "OFD lock through another open file: EAGAIN");
			expect_ok(lk(a, F_OFD_SETLK, F_UNLCK, 0, 10), "OFD unlock");
			expect_ok(lk(b, F_OFD_SETLK, F_WRLCK, 5, 10),
				  "OFD lock after the unlock");
		}
		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
	}
	end();
}

static void t_flock(void)
{
	int a, b, c, status;
	pid_t pid;

	begin("flock");
	a = open("fl", O_RDWR | O_CREAT, 0644);
	b = open("fl", O_RDWR);
	c = open("fl", O_RDONLY);
	if (setup(a, "create fl") && setup(b, "open fl") && setup(c, "open fl")) {
		expect_ok(flock(a, LOCK_EX | LOCK_NB), "exclusive flock");
		expect_err(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK,
			   "a second exclusive flock: EWOULDBLOCK");
		expect_err(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK,
			   "a shared flock against an exclusive one: EWOULDBLOCK");
		{
			int d = dup(a);

			expect_ok(flock(d, LOCK_EX | LOCK_NB),
				  "flock through a dup of the holder");
			close(d);
		}
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			int fd = open("fl", O_RDWR);

			_exit(fd < 0 ? 3 : flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 :
			      errno == EWOULDBLOCK ? 1 : 2);
		}
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 1,
		      "another process's flock: EWOULDBLOCK", "child status %#x", status);
		expect_ok(flock(a, LOCK_UN), "flock unlock");
		expect_ok(flock(b, LOCK_EX | LOCK_NB), "exclusive flock after the unlock");
		close(b);
		b = -1;
		expect_ok(flock(a, LOCK_SH | LOCK_NB), "close released the lock: shared flock");
		expect_ok(flock(c, LOCK_SH | LOCK_NB), "two shared flocks");
		b = open("fl", O_RDWR);
		if (setup(b, "open fl")) {
			expect_err(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK,
				   "exclusive flock against shared ones: EWOULDBLOCK");
			expect_ok(flock(c, LOCK_EX | LOCK_NB) == -1 && flock(a, LOCK_UN) == 0 &&
				  flock(c, LOCK_EX | LOCK_NB) == 0 ? 0 : -1,
				  "a shared flock upgrades when it is the only one");
		}
	}
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	if (c >= 0)
		close(c);
	end();
}

/* ---- sparse files ---- */

static void t_sparse(void)
{
	const off_t four_g = 4LL << 30;
	static char buf[65536];
	struct stat st;
	ssize_t n;
	int fd;

	begin("sparse");
	fd = open("sp", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!setup(fd, "create sp")) {
		end();
		return;
	}
	n = pwrite(fd, "x", 1, four_g - 1);
	if (!CHECK(n == 1, "write 1 byte at 4 GiB - 1", "returned %zd: %s", n,
		   strerror(errno))) {
		close(fd);
		end();
		return;
	}
	CHECK(fstat(fd, &st) == 0 && st.st_size == four_g, "the size is 4 GiB",
	      "size %lld", (long long)st.st_size);
	if (setup(fsync(fd), "fsync sp"))
		CHECK(fstat(fd, &st) == 0 && st.st_blocks <= 2048,
		      "it takes little space (st_blocks)", "st_blocks %lld",
		      (long long)st.st_blocks);
	memset(buf, 0x55, sizeof(buf));
	n = pread(fd, buf, sizeof(buf), 0);
	CHECK(n == (ssize_t)sizeof(buf) && all_zero(buf, sizeof(buf)),
	      "the hole at 0 reads as zeros", "returned %zd", n);
	memset(buf, 0x55, sizeof(buf));
	n = pread(fd, buf, sizeof(buf), 2LL << 30);
	CHECK(n == (ssize_t)sizeof(buf) && all_zero(buf, sizeof(buf)),
	      "the hole at 2 GiB reads as zeros", "returned %zd", n);
	memset(buf, 0x55, sizeof(buf));
	n = pread(fd, buf, sizeof(buf), four_g - 4096);
	CHECK(n == 4096 && all_zero(buf, 4095) && buf[4095] == 'x',
	      "the last page: zeros, then the byte", "returned %zd", n);
	n = pread(fd, buf, 10, four_g);
	CHECK(n == 0, "a read at 4 GiB gives 0", "returned %zd", n);
	CHECK(lseek(fd, four_g - 1, SEEK_DATA) == four_g - 1,
	      "SEEK_DATA at the byte finds it", "%s", strerror(errno));
	expect_err(lseek(fd, four_g, SEEK_DATA), ENXIO, "SEEK_DATA at the end: ENXIO");
	expect_ok(ftruncate(fd, (2LL << 30) + 1), "shrink the sparse file to 2 GiB + 1");
	n = pread(fd, buf, 10, 2LL << 30);
	CHECK(n == 1 && buf[0] == 0, "after the shrink: one zero byte at 2 GiB",
	      "returned %zd", n);
	close(fd);
	end();
}

/* ---- main ---- */

/* make every directory searchable and writable, so that it can be emptied */
static int open_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
		return rmdir(path) && errno != ENOENT ? -1 : 0;
	return unlink(path) && errno != ENOENT ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "xfail", required_argument, NULL, 'x' },
		{ "no-chown", no_argument, NULL, 'c' },
		{ "big", required_argument, NULL, 'b' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char work[PATH_MAX];
	int c, base, rc;
	char *end;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'x':
			if (!tap_add_xfail(optarg)) {
				fprintf(stderr, PROG ": too many --xfail patterns\n");
				return 2;
			}
			break;
		case 'c':
			opt_no_chown = true;
			break;
		case 'b':
			errno = 0;
			opt_big = strtol(optarg, &end, 0);
			if (errno || *end || opt_big < 1 || opt_big > 200000) {
				fprintf(stderr, PROG ": --big: not a number of 1 to 200000: %s\n",
					optarg);
				return 2;
			}
			break;
		case 'q':
			opt_quick = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'fs-posix --help'.\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, PROG ": %s\nTry 'fs-posix --help'.\n",
			optind == argc ? "no directory given" : "one directory only");
		return 2;
	}
	base = open(argv[optind], O_RDONLY | O_DIRECTORY);
	if (base < 0) {
		fprintf(stderr, PROG ": %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}
	snprintf(work, sizeof(work), "fs-posix.%d", (int)getpid());
	if (mkdirat(base, work, 0755) || fchdir(base) || chdir(work)) {
		fprintf(stderr, PROG ": cannot make %s/%s: %s\n", argv[optind], work,
			strerror(errno));
		return 2;
	}
	umask(0);
	is_root = geteuid() == 0;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_note("fs-posix in %s/%s%s", argv[optind], work,
		 is_root ? "" : " (not root: the chown checks are skipped)");

	t_open();
	t_io();
	t_unlink();
	t_rmdir();
	t_mkdir();
	t_rename();
	t_link();
	t_symlink();
	t_chmod();
	t_chown();
	t_truncate();
	t_utimens();
	t_times();
	t_readdir();
	t_seekdir();
	t_fsync();
	t_statfs();
	t_odirect();
	t_xattr();
	t_lock();
	t_flock();
	t_sparse();

	tap.group = "";
	if (fchdir(base) || nftw(work, open_entry, 64, FTW_PHYS) ||
	    nftw(work, rm_entry, 64, FTW_DEPTH | FTW_PHYS)) {
		fprintf(stderr, PROG ": cannot remove %s/%s: %s\n", argv[optind], work,
			strerror(errno));
		rc = tap_summary(PROG);
		return rc ? rc : 2;
	}
	close(base);
	return tap_summary(PROG);
}
