// SPDX-License-Identifier: MIT
/*
 * pva-fsbench: the timed pieces of the shared-folder benchmark
 * (bench/guest/fs-bench.sh), the same code on every mount.
 *
 *   pva-fsbench time CMD [ARG...]      run CMD, then print "seconds=S"
 *   pva-fsbench randread FILE COUNT [SECONDS]
 *                                      4 KiB pread()s at random 4 KiB-aligned
 *                                      offsets, COUNT of them or until
 *                                      SECONDS have passed; prints
 *                                      "ops=N seconds=S iops=R mbps=M"
 *   pva-fsbench meta DIR N             create N empty files in DIR
 *                                      (open O_CREAT|O_EXCL + close), stat
 *                                      each, unlink each; prints
 *                                      "create_ops=R stat_ops=R unlink_ops=R"
 *                                      (operations per second)
 *
 * Times come from CLOCK_MONOTONIC. A failed operation ends the program with
 * status 1 and a message on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char usage_text[] =
	"usage: pva-fsbench time CMD [ARG...]\n"
	"       pva-fsbench randread FILE COUNT [SECONDS]\n"
	"       pva-fsbench meta DIR N\n"
	"Timed pieces of the shared-folder benchmark (bench/guest/fs-bench.sh):\n"
	"  time      run CMD, then print seconds=S\n"
	"  randread  4 KiB preads at random aligned offsets, COUNT of them or\n"
	"            for SECONDS; prints ops= seconds= iops= mbps=\n"
	"  meta      create, stat and unlink N files in DIR; prints the rates\n"
	"Exit status: 0 done, 1 an operation failed, 2 usage error.\n";

static void usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static int cmd_time(char **argv)
{
	double t0 = now();
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "pva-fsbench: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("waitpid");
		return 1;
	}
	printf("seconds=%.6f\n", now() - t0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "pva-fsbench: %s failed (status 0x%x)\n",
			argv[0], status);
		return 1;
	}
	return 0;
}

/* xorshift64*: the same offsets on every filesystem */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static int cmd_randread(const char *path, long count, double limit)
{
	static char buf[BLOCK];
	uint64_t seed = 0x9E3779B97F4A7C15ULL;
	struct stat st;
	uint64_t blocks;
	double t0, t;
	long n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "pva-fsbench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	blocks = (uint64_t)st.st_size / BLOCK;
	if (!blocks) {
		fprintf(stderr, "pva-fsbench: %s: smaller than %d bytes\n",
			path, BLOCK);
		return 1;
	}
	t0 = now();
	t = t0;
	for (n = 0; n < count; n++) {
		off_t off = (off_t)(rng_next(&seed) % blocks) * BLOCK;
		ssize_t r = pread(fd, buf, BLOCK, off);

		if (r != BLOCK) {
			fprintf(stderr, "pva-fsbench: pread %s at %lld: %s\n",
				path, (long long)off,
				r < 0 ? strerror(errno) : "short read");
			return 1;
		}
		if ((n & 15) == 15) {
			t = now();
			if (limit > 0 && t - t0 >= limit) {
				n++;
				break;
			}
		}
	}
	t = now() - t0;
	close(fd);
	printf("ops=%ld seconds=%.6f iops=%.1f mbps=%.3f\n", n, t, n / t,
	       n * (double)BLOCK / t / 1e6);
	return 0;
}

static int cmd_meta(const char *dir, long n)
{
	char path[4096];
	double t0, tc, ts, tu;
	struct stat st;
	long i;

	t0 = now();
	for (i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			fprintf(stderr, "pva-fsbench: create %s: %s\n", path,
				strerror(errno));
			return 1;
		}
		close(fd);
	}
	tc = now();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		if (stat(path, &st) < 0) {
			fprintf(stderr, "pva-fsbench: stat %s: %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	ts = now();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		if (unlink(path) < 0) {
			fprintf(stderr, "pva-fsbench: unlink %s: %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	tu = now();
	printf("create_ops=%.1f stat_ops=%.1f unlink_ops=%.1f\n",
	       n / (tc - t0), n / (ts - tc), n / (tu - ts));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "time") && argc >= 3)
		return cmd_time(argv + 2);
	if (!strcmp(argv[1], "randread") && (argc == 4 || argc == 5))
		return cmd_randread(argv[2], atol(argv[3]),
				    argc == 5 ? atof(argv[4]) : 0);
	if (!strcmp(argv[1], "meta") && argc == 4 && atol(argv[3]) > 0)
		return cmd_meta(argv[2], atol(argv[3]));
	usage();
	return 2;
}
