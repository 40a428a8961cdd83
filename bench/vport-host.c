// SPDX-License-Identifier: MIT
/*
 * vport-host: the host peer of the virtio-serial side of the transport
 * benchmark (bench/run.sh). It listens on a UNIX socket that QEMU's
 * virtserialport chardev connects to and serves vport-bench's commands
 * (bench/vport.h): echo, sink, source.
 *
 * It is meant to cost the comparison nothing: blocking I/O, one process,
 * no per-byte work (source data comes from a precomputed buffer, echo
 * sends back whatever each read returned, sink only counts).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vport.h"

#define BUF_SIZE	(256u << 10)
#define SOURCE_CHUNK	(64u << 10)

static bool verbose;
static uint8_t buf[BUF_SIZE];
/* byte i of the source stream is (uint8_t)i: any 64 KiB window of it */
static uint8_t pattern[SOURCE_CHUNK + 256];

static int write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Returns 1 on a full read, 0 on end of file before any byte, -1 else. */
static int read_all(int fd, void *p, size_t len)
{
	uint8_t *b = p;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, b + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return got ? -1 : 0;
		got += (size_t)n;
	}
	return 1;
}

/* Read up to @left bytes (never past the current command's data). */
static ssize_t read_some(int fd, uint64_t left)
{
	size_t want = left < BUF_SIZE ? (size_t)left : BUF_SIZE;
	ssize_t n;

	do {
		n = read(fd, buf, want);
	} while (n < 0 && errno == EINTR);
	return n;
}

static int do_echo(int fd, uint64_t left)
{
	while (left) {
		ssize_t n = read_some(fd, left);

		if (n <= 0 || write_all(fd, buf, (size_t)n))
			return -1;
		left -= (uint64_t)n;
	}
	return 0;
}

static int do_sink(int fd, uint64_t bytes)
{
	uint64_t got = 0;

	while (got < bytes) {
		ssize_t n = read_some(fd, bytes - got);

		if (n <= 0)
			return -1;
		got += (uint64_t)n;
	}
	return write_all(fd, &got, sizeof(got));
}

static int do_source(int fd, uint64_t bytes)
{
	uint64_t pos = 0;

	while (pos < bytes) {
		size_t n = bytes - pos < SOURCE_CHUNK ? (size_t)(bytes - pos) :
			   SOURCE_CHUNK;
		ssize_t w = write(fd, pattern + (pos & 255), n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		pos += (uint64_t)w;
	}
	return 0;
}

/* Serve one connection until QEMU closes it. */
static void serve(int fd)
{
	struct vpb_cmd c;
	int ret;

	while ((ret = read_all(fd, &c, sizeof(c))) == 1) {
		if (c.magic != VPB_MAGIC) {
			fprintf(stderr, "vport-host: bad command magic 0x%x: out of step, dropping the connection\n",
				c.magic);
			return;
		}
		errno = 0;
		switch (c.mode) {
		case VPB_ECHO:
			if (c.size && c.count > UINT64_MAX / c.size)
				ret = -1;
			else
				ret = do_echo(fd, c.count * c.size);
			break;
		case VPB_SINK:
			ret = do_sink(fd, c.count);
			break;
		case VPB_SOURCE:
			ret = do_source(fd, c.count);
			break;
		default:
			fprintf(stderr, "vport-host: unknown mode %u\n", c.mode);
			return;
		}
		if (ret) {
			fprintf(stderr, "vport-host: mode %u: %s\n", c.mode,
				errno ? strerror(errno) : "connection closed");
			return;
		}
		if (verbose)
			fprintf(stderr, "vport-host: mode %u size %u count %llu done\n",
				c.mode, c.size, (unsigned long long)c.count);
	}
	if (ret < 0)
		fprintf(stderr, "vport-host: reading a command: %s\n",
			strerror(errno));
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
"Usage: vport-host [-v] [-1] SOCKET\n"
"Host peer of vport-bench: listens on the UNIX socket SOCKET, which QEMU\n"
"connects to with -chardev socket,path=SOCKET (no server=on).\n"
"  -1, --once      exit after the first connection ends\n"
"  -v, --verbose   log every command\n"
"  -h, --help      this text\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, '1' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	bool once = false;
	int opt, lfd;

	while ((opt = getopt_long(argc, argv, "1vh", opts, NULL)) != -1) {
		switch (opt) {
		case '1':
			once = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc - 1 || strlen(argv[optind]) >= sizeof(sa.sun_path))
		usage(2);
	for (unsigned int i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)i;
	signal(SIGPIPE, SIG_IGN);
	strcpy(sa.sun_path, argv[optind]);
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 1) < 0) {
		perror("vport-host: listen");
		return 1;
	}
	do {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("vport-host: accept");
			return 1;
		}
		if (verbose)
			fprintf(stderr, "vport-host: connected\n");
		serve(fd);
		close(fd);
		if (verbose)
			fprintf(stderr, "vport-host: disconnected\n");
	} while (!once);
	close(lfd);
	unlink(sa.sun_path);
	return 0;
}
