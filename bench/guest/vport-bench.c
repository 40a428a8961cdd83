// SPDX-License-Identifier: MIT
/*
 * vport-bench: the virtio-serial side of the transport benchmark, run in
 * the guest next to pva-test. It does the same three measurements as
 * pva-test's rtt/sink/source against bench/vport-host.c on the host, over
 * a virtserialport found by name, and prints the same RESULT lines.
 * Exit status: 0 pass, 1 fail, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../vport.h"

#define PORTS_DIR	"/sys/class/virtio-ports"
#define MAX_SIZE	(1u << 20)

static const char *test_name = "vport-bench";

static void fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "FAIL %s: ", test_name);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fprintf(stdout, "\n");
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The port's name arrives on virtio-serial's control queue a little after
 * the driver loads, so look for it for a while.
 */
static int open_port(const char *name, double wait_s)
{
	double deadline = now_s() + wait_s;
	char path[300], got[128];

	do {
		DIR *d = opendir(PORTS_DIR);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			FILE *f;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), PORTS_DIR "/%s/name",
				 de->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (!fgets(got, sizeof(got), f))
				got[0] = 0;
			fclose(f);
			got[strcspn(got, "\n")] = 0;
			if (strcmp(got, name))
				continue;
			snprintf(path, sizeof(path), "/dev/%s", de->d_name);
			closedir(d);
			int fd = open(path, O_RDWR);

			if (fd < 0)
				fail("open %s: %s", path, strerror(errno));
			return fd;
		}
		if (d)
			closedir(d);
		usleep(50000);
	} while (now_s() < deadline);
	fail("no virtio-serial port named '%s' in " PORTS_DIR, name);
}

/* The port takes at most 32 KiB per write(): loop. */
static void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("write: %s", n ? strerror(errno) : "wrote nothing");
		p += n;
		len -= (size_t)n;
	}
}

/* A read returns at most one of the port's (page-sized) buffers: loop. */
static void read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("read: %s", n ? strerror(errno) : "end of file");
		p += n;
		len -= (size_t)n;
	}
}

static void send_cmd(int fd, enum vpb_mode mode, uint32_t size,
		     uint64_t count)
{
	struct vpb_cmd c = {
		.magic = VPB_MAGIC, .mode = mode, .size = size, .count = count,
	};

	write_all(fd, &c, sizeof(c));
}

/* Same pattern as pva-test, so both sides fill messages alike. */
static void pattern(uint8_t *p, uint32_t seed, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void rtt(int fd, unsigned long n, uint32_t size)
{
	uint8_t *out = malloc(size), *in = malloc(size);
	double *t = calloc(n, sizeof(double));

	if (!out || !in || !t)
		fail("out of memory");
	send_cmd(fd, VPB_ECHO, size, n);
	for (unsigned long i = 0; i < n; i++) {
		double t0;

		pattern(out, (uint32_t)i + 1, size);
		t0 = now_s();
		write_all(fd, out, size);
		read_all(fd, in, size);
		t[i] = (now_s() - t0) * 1e6;
		if (memcmp(in, out, size))
			fail("echo %lu came back wrong", i);
	}
	qsort(t, n, sizeof(double), cmp_double);
	printf("RESULT rtt_median_us=%.1f rtt_p99_us=%.1f\n", t[n / 2],
	       t[n * 99 / 100 < n ? n * 99 / 100 : n - 1]);
	free(out);
	free(in);
	free(t);
}

/* guest -> host: BYTES in SIZE-byte writes, until the host acks them. */
static double sink(int fd, uint64_t bytes, uint32_t size)
{
	uint8_t *buf = malloc(size);
	uint64_t done = 0, ack;
	double t0 = now_s();

	if (!buf)
		fail("out of memory");
	memset(buf, 0x5a, size);
	send_cmd(fd, VPB_SINK, 0, bytes);
	while (done < bytes) {
		uint32_t n = bytes - done < size ? (uint32_t)(bytes - done) : size;

		write_all(fd, buf, n);
		done += n;
	}
	read_all(fd, &ack, sizeof(ack));
	if (ack != bytes)
		fail("sink: host counted %llu bytes, sent %llu",
		     (unsigned long long)ack, (unsigned long long)bytes);
	free(buf);
	return (double)bytes / (now_s() - t0) / (1 << 20);
}

/* host -> guest: BYTES read with SIZE-byte reads, every byte checked. */
static double source(int fd, uint64_t bytes, uint32_t size)
{
	uint8_t *in = malloc(size);
	uint64_t pos = 0;
	double t0 = now_s();

	if (!in)
		fail("out of memory");
	send_cmd(fd, VPB_SOURCE, 0, bytes);
	while (pos < bytes) {
		size_t want = bytes - pos < size ? (size_t)(bytes - pos) : size;
		ssize_t n = read(fd, in, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("source: read: %s", n ? strerror(errno) : "end of file");
		for (ssize_t i = 0; i < n; i++)
			if (in[i] != (uint8_t)(pos + (uint64_t)i))
				fail("source: byte %llu is wrong",
				     (unsigned long long)(pos + (uint64_t)i));
		pos += (uint64_t)n;
	}
	free(in);
	return (double)bytes / (now_s() - t0) / (1 << 20);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
"Usage: vport-bench [-n PORT] TEST ARGS\n"
"Transport benchmark over a virtio-serial port (bench/vport-host on the host).\n"
"  -n PORT               the port's name (default pva.bench), looked up in\n"
"                        " PORTS_DIR "/*/name\n"
"  rtt N SIZE            N echo round trips of SIZE bytes, checked\n"
"  sink BYTES SIZE       guest->host throughput, SIZE-byte writes\n"
"  source BYTES SIZE     host->guest throughput, SIZE-byte reads, checked\n"
"Prints RESULT lines like pva-test. Exit status: 0 pass, 1 fail, 2 usage.\n");
	exit(status);
}

int main(int argc, char **argv)
{
	const char *name = "pva.bench";
	uint32_t size;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		usage(0);
	if (argc > 2 && !strcmp(argv[1], "-n")) {
		name = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc != 4)
		usage(2);
	test_name = argv[1];
	size = (uint32_t)strtoul(argv[3], NULL, 0);
	if (!size || size > MAX_SIZE)
		fail("SIZE must be 1..%u", MAX_SIZE);
	fd = open_port(name, 10);
	if (!strcmp(argv[1], "rtt")) {
		unsigned long n = strtoul(argv[2], NULL, 0);

		if (!n)
			fail("N must be > 0");
		rtt(fd, n, size);
	} else if (!strcmp(argv[1], "sink")) {
		printf("RESULT g2h_mib_s=%.1f\n",
		       sink(fd, strtoull(argv[2], NULL, 0), size));
	} else if (!strcmp(argv[1], "source")) {
		printf("RESULT h2g_mib_s=%.1f\n",
		       source(fd, strtoull(argv[2], NULL, 0), size));
	} else {
		usage(2);
	}
	close(fd);
	printf("PASS %s\n", test_name);
	return 0;
}
