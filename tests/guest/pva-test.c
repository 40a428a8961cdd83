// SPDX-License-Identifier: MIT
/*
 * pva-test: guest-side tests and benchmarks of /dev/pva against pva-host's
 * echo channel. Runs inside the test VM (statically linked). Exit status:
 * 0 pass, 1 fail, 2 usage.
 *
 * Host actions (kill the worker, corrupt memory...) are asked of the test
 * harness over the console: "PVA-HOST: <command> PVA-LEN <n>" out, "PVA-HOST-DONE <rc>"
 * back on stdin.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "pva_ring.h"
#include "uapi/pva.h"

#define HDR	((uint32_t)sizeof(struct pva_msg_hdr))

static const char *dev_path = "/dev/pva";
static const char *test_name = "pva-test";

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

/* Ask the harness to do something on the host; returns its exit code. */
static int host_cmd(const char *fmt, ...)
{
	char line[512], cmd[400];
	va_list ap;
	int rc;

	FILE *tty = fopen("/dev/console", "r+");

	if (!tty)
		fail("cannot open /dev/console to talk to the harness");
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	/* the length lets the harness see a line kernel messages cut into */
	for (int try = 0; try < 5; try++) {
		fprintf(tty, "PVA-HOST: %s PVA-LEN %zu\n", cmd, strlen(cmd));
		fflush(tty);
		while (fgets(line, sizeof(line), tty)) {
			char *p = strstr(line, "PVA-HOST-DONE ");

			if (strstr(line, "PVA-HOST-RETRY"))
				break;
			if (p && sscanf(p + 14, "%d", &rc) == 1) {
				fclose(tty);
				return rc;
			}
		}
	}
	fail("no answer from the harness to '%s'", cmd);
}

static int chan_open_bind(const char *name, int flags, uint32_t bind_flags)
{
	struct pva_bind b = { .flags = bind_flags };
	int fd = open(dev_path, O_RDWR | flags);

	if (fd < 0)
		fail("open %s: %s", dev_path, strerror(errno));
	snprintf(b.name, sizeof(b.name), "%s", name);
	if (ioctl(fd, PVA_IOC_BIND, &b) < 0)
		fail("bind %s: %s", name, strerror(errno));
	return fd;
}

static int chan_open_flags(const char *name, int flags)
{
	return chan_open_bind(name, flags, 0);
}

static int chan_open(const char *name)
{
	return chan_open_flags(name, 0);
}

/* Append a record (header, payload, padding) at @p; returns its size. */
static uint32_t put_record(uint8_t *p, uint16_t type, uint16_t flags,
			   uint32_t req_id, const void *payload, uint32_t len)
{
	struct pva_msg_hdr h = {
		.len = pva_cpu32(len), .type = pva_cpu16(type),
		.flags = pva_cpu16(flags), .req_id = pva_cpu32(req_id),
	};
	uint32_t rec = pva_msg_record_size(len);

	memcpy(p, &h, HDR);
	if (len)
		memcpy(p + HDR, payload, len);
	memset(p + HDR + len, 0, rec - HDR - len);
	return rec;
}

static struct pva_info chan_info(int fd)
{
	struct pva_info info;

	if (ioctl(fd, PVA_IOC_INFO, &info) < 0)
		fail("PVA_IOC_INFO: %s", strerror(errno));
	return info;
}

static uint8_t *msgbuf;

/* Write one message; returns 0 or -errno. */
static int send_msg(int fd, uint16_t type, uint16_t flags, uint32_t req_id,
		    const void *payload, uint32_t len)
{
	struct pva_msg_hdr *h = (struct pva_msg_hdr *)msgbuf;
	ssize_t n;

	memset(h, 0, sizeof(*h));
	h->len = pva_cpu32(len);
	h->type = pva_cpu16(type);
	h->flags = pva_cpu16(flags);
	h->req_id = pva_cpu32(req_id);
	if (len && payload != msgbuf + HDR)
		memcpy(msgbuf + HDR, payload, len);
	n = write(fd, msgbuf, HDR + len);
	if (n < 0)
		return -errno;
	if ((size_t)n != HDR + len)
		fail("short write: %zd of %u", n, HDR + len);
	return 0;
}

/* Read one message into @buf; returns its payload length or -errno. */
static int recv_msg(int fd, struct pva_msg_hdr *hdr, uint8_t *buf, size_t cap)
{
	ssize_t n = read(fd, buf, cap);

	if (n < 0)
		return -errno;
	if (n < (ssize_t)HDR)
		fail("read returned %zd bytes, less than a header", n);
	memcpy(hdr, buf, HDR);
	if (pva_le32(hdr->len) != (uint32_t)n - HDR)
		fail("read %zd bytes, header says %u", n, pva_le32(hdr->len));
	return (int)(n - HDR);
}

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

/* Echo round trips: N requests of SIZE bytes, WINDOW in flight. */
static void ping(int fd, unsigned long n, uint32_t size, unsigned int window,
		 bool quiet)
{
	uint8_t *in = malloc(HDR + PVA_MSG_MAX), *want = malloc(PVA_MSG_MAX);
	double *rtt = calloc(n, sizeof(double));
	double *sent_at = calloc(window, sizeof(double));
	unsigned long sent = 0, got = 0;
	struct pva_msg_hdr h;
	double t0 = now_s();
	int ret;

	if (!in || !want || !rtt || !sent_at)
		fail("out of memory");
	while (got < n) {
		while (sent < n && sent - got < window) {
			uint32_t id = (uint32_t)sent + 1;

			pattern(msgbuf + HDR, id, size);
			sent_at[sent % window] = now_s();
			ret = send_msg(fd, PVA_ECHO_ECHO, PVA_MSG_F_REQUEST, id,
				       msgbuf + HDR, size);
			if (ret)
				fail("ping %lu: write: %s", sent, strerror(-ret));
			sent++;
		}
		ret = recv_msg(fd, &h, in, HDR + PVA_MSG_MAX);
		if (ret < 0)
			fail("ping %lu: read: %s", got, strerror(-ret));
		rtt[got] = (now_s() - sent_at[got % window]) * 1e6;
		got++;
		pattern(want, (uint32_t)got, size);
		if (pva_le32(h.req_id) != got)
			fail("answer %lu carries request id %u: lost or reordered",
			     got, pva_le32(h.req_id));
		if (pva_le16(h.type) != PVA_ECHO_ECHO ||
		    pva_le16(h.flags) != PVA_MSG_F_RESPONSE || h.status ||
		    (uint32_t)ret != size || memcmp(in + HDR, want, size))
			fail("answer %lu is corrupt (type %u flags %u status %u len %d)",
			     got, pva_le16(h.type), pva_le16(h.flags),
			     pva_le32(h.status), ret);
	}
	qsort(rtt, n, sizeof(double), cmp_double);
	if (!quiet)
		printf("ping: %lu round trips of %u bytes (window %u) in %.2f s: median %.1f us, p99 %.1f us\n",
		       n, size, window, now_s() - t0, rtt[n / 2],
		       rtt[n * 99 / 100 < n ? n * 99 / 100 : n - 1]);
	else
		printf("RESULT rtt_median_us=%.1f rtt_p99_us=%.1f\n", rtt[n / 2],
		       rtt[n * 99 / 100 < n ? n * 99 / 100 : n - 1]);
	free(in);
	free(want);
	free(rtt);
	free(sent_at);
}

/* guest -> host: BYTES of SINK events, then a count request. */
/*
 * guest -> host: BYTES of SINK events, then a count request. With @batch,
 * the channel is in batch mode and each write() carries up to @batch
 * bytes of records.
 */
static double sink(int fd, uint64_t bytes, uint32_t size, uint32_t batch)
{
	static uint8_t out[1 << 20];
	uint8_t *payload = msgbuf + HDR;	/* send_msg() then copies nothing */
	struct pva_echo_count c;
	struct pva_msg_hdr h;
	uint64_t msgs = 0, done = 0;
	double t0 = now_s();
	int ret;

	memset(payload, 0x5a, size);
	while (done < bytes) {
		uint32_t fill = 0;

		do {
			uint32_t n = bytes - done < size ? (uint32_t)(bytes - done) : size;

			if (!batch) {
				ret = send_msg(fd, PVA_ECHO_SINK, 0, 0, payload, n);
				if (ret)
					fail("sink: write: %s", strerror(-ret));
			} else {
				fill += put_record(out + fill, PVA_ECHO_SINK, 0, 0,
						   payload, n);
			}
			done += n;
			msgs++;
		} while (batch && done < bytes &&
			 fill + pva_msg_record_size(size) <= batch);
		if (batch && write(fd, out, fill) != (ssize_t)fill)
			fail("sink: batch write of %u bytes: %s", fill,
			     strerror(errno));
	}
	if (batch) {
		uint32_t n = put_record(out, PVA_ECHO_SINK, PVA_MSG_F_REQUEST, 1,
					NULL, 0);

		if (write(fd, out, n) != (ssize_t)n)
			fail("sink: count request: %s", strerror(errno));
	} else if (send_msg(fd, PVA_ECHO_SINK, PVA_MSG_F_REQUEST, 1, NULL, 0)) {
		fail("sink: count request: %s", strerror(errno));
	}
	ret = recv_msg(fd, &h, msgbuf, HDR + PVA_MSG_MAX);
	if (ret != sizeof(c) || pva_le16(h.flags) != PVA_MSG_F_RESPONSE)
		fail("sink: bad count answer (%d bytes)", ret);
	memcpy(&c, msgbuf + HDR, sizeof(c));
	if (pva_le64(c.bytes) != bytes || pva_le64(c.msgs) != msgs + 1)
		fail("sink: host counted %llu messages / %llu bytes, sent %llu / %llu",
		     (unsigned long long)pva_le64(c.msgs),
		     (unsigned long long)pva_le64(c.bytes),
		     (unsigned long long)msgs + 1, (unsigned long long)bytes);
	return (double)bytes / (now_s() - t0) / (1 << 20);
}

/*
 * One SOURCE message at @p (@avail bytes left of what read() returned);
 * returns the record size, or 0 after the final answer.
 */
static uint32_t source_record(const uint8_t *p, uint32_t avail, uint64_t *pos)
{
	struct pva_msg_hdr h;
	uint32_t len;

	if (avail < HDR)
		fail("source: %u bytes left, less than a header", avail);
	memcpy(&h, p, HDR);
	len = pva_le32(h.len);
	if (len > avail - HDR)
		fail("source: message of %u bytes, only %u read", len, avail - HDR);
	if (pva_le16(h.type) == PVA_ECHO_SOURCE) {
		if (pva_le16(h.flags) != PVA_MSG_F_RESPONSE ||
		    pva_le32(h.req_id) != 7 || h.status)
			fail("source: bad final answer");
		return 0;
	}
	if (pva_le16(h.type) != PVA_ECHO_SOURCE_DATA)
		fail("source: unexpected message type %u", pva_le16(h.type));
	for (uint32_t i = 0; i < len; i++)
		if (p[HDR + i] != (uint8_t)(*pos + i))
			fail("source: byte %llu is wrong",
			     (unsigned long long)*pos + i);
	*pos += len;
	return pva_msg_record_size(len);
}

/*
 * host -> guest: ask for BYTES in SIZE messages, check every byte. With
 * @batch, the channel is in batch mode and each read() takes up to @batch
 * bytes of records.
 */
static double source(int fd, uint64_t bytes, uint32_t size, uint32_t batch)
{
	struct pva_echo_source s = {
		.bytes = pva_cpu64(bytes), .msg_size = pva_cpu32(size),
	};
	uint32_t cap = batch ? batch : HDR + PVA_MSG_MAX;
	uint8_t *in = malloc(cap);
	uint64_t pos = 0;
	double t0 = now_s();
	bool done = false;

	if (!in)
		fail("out of memory");
	if (batch) {
		uint32_t n = put_record(in, PVA_ECHO_SOURCE, PVA_MSG_F_REQUEST, 7,
					&s, sizeof(s));

		if (write(fd, in, n) != (ssize_t)n)
			fail("source: request: %s", strerror(errno));
	} else if (send_msg(fd, PVA_ECHO_SOURCE, PVA_MSG_F_REQUEST, 7, &s,
			    sizeof(s))) {
		fail("source: request: %s", strerror(errno));
	}
	while (!done) {
		ssize_t n = read(fd, in, cap);
		uint32_t off = 0;

		if (n < 0)
			fail("source: read: %s", strerror(errno));
		/* one message, or (batch) several padded records */
		while (off < (uint32_t)n) {
			uint32_t rec = source_record(in + off, (uint32_t)n - off, &pos);

			if (!rec) {
				done = true;
				break;
			}
			if (!batch)
				break;
			off += rec;
		}
	}
	if (pos != bytes)
		fail("source: got %llu bytes, asked for %llu",
		     (unsigned long long)pos, (unsigned long long)bytes);
	free(in);
	return (double)bytes / (now_s() - t0) / (1 << 20);
}

static void test_maxsize(void)
{
	int fd = chan_open("echo");
	struct pva_info info = chan_info(fd);
	uint32_t max = info.max_payload;
	uint8_t *in = malloc(HDR + PVA_MSG_MAX + 64);
	struct pva_msg_hdr h;
	int ret;

	if (!in)
		fail("out of memory");
	if (info.state != PVA_STATE_RUNNING || !max || max > PVA_MSG_MAX)
		fail("info: state %u, max payload %u", info.state, max);
	/* the largest message goes through intact */
	pattern(msgbuf + HDR, 99, max);
	if (send_msg(fd, PVA_ECHO_ECHO, PVA_MSG_F_REQUEST, 5, msgbuf + HDR, max))
		fail("max-size write failed: %s", strerror(errno));
	/* a buffer one byte short: EMSGSIZE, and the message stays */
	if (read(fd, in, HDR + max - 1) != -1 || errno != EMSGSIZE)
		fail("short read buffer did not fail with EMSGSIZE");
	ret = recv_msg(fd, &h, in, HDR + PVA_MSG_MAX + 64);
	pattern(msgbuf + HDR, 99, max);
	if (ret != (int)max || memcmp(in + HDR, msgbuf + HDR, max) ||
	    pva_le32(h.req_id) != 5)
		fail("max-size echo came back wrong (%d bytes)", ret);
	/* one byte more than the maximum is refused */
	ret = send_msg(fd, PVA_ECHO_ECHO, 0, 0, msgbuf + HDR, max + 1);
	if (ret != -EMSGSIZE)
		fail("oversized write: %s, expected EMSGSIZE", strerror(-ret));
	/* and the channel still works */
	ping(fd, 10, max, 2, false);
	printf("maxsize: %u-byte messages ok, %u+1 refused\n", max, max);
	close(fd);
	free(in);
}

/*
 * Fill both rings: the host echoes until host->guest is full, then stops
 * draining guest->host, which fills up too. Nothing may be lost.
 */
static void test_backpressure(void)
{
	int fd = chan_open_flags("echo", O_NONBLOCK);
	uint32_t size = 4000;
	uint8_t *in = malloc(HDR + PVA_MSG_MAX);
	struct pva_msg_hdr h;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	unsigned long sent = 0, got = 0;
	int ret;

	if (!in)
		fail("out of memory");
	for (;;) {
		pattern(msgbuf + HDR, (uint32_t)sent, size);
		ret = send_msg(fd, PVA_ECHO_ECHO, 0, 0, msgbuf + HDR, size);
		if (ret == -EAGAIN) {
			/* the host may still be draining: retry briefly */
			if (poll(&pfd, 1, 500) > 0)
				continue;
			break;
		}
		if (ret)
			fail("write %lu: %s", sent, strerror(-ret));
		sent++;
		if (sent > 100000)
			fail("the rings never filled up");
	}
	if (poll(&pfd, 1, 0) != 0)
		fail("poll says writable while writes fail with EAGAIN");
	printf("backpressure: rings full after %lu messages of %u bytes\n",
	       sent, size);
	/* drain everything, in order */
	pfd.events = POLLIN;
	while (got < sent) {
		ret = recv_msg(fd, &h, in, HDR + PVA_MSG_MAX);
		if (ret == -EAGAIN) {
			if (poll(&pfd, 1, 5000) <= 0)
				fail("only %lu of %lu echoes came back", got, sent);
			continue;
		}
		if (ret < 0)
			fail("read: %s", strerror(-ret));
		pattern(msgbuf + HDR, (uint32_t)got, size);
		if ((uint32_t)ret != size || memcmp(in + HDR, msgbuf + HDR, size))
			fail("echo %lu is wrong: lost or reordered", got);
		got++;
	}
	if (recv_msg(fd, &h, in, HDR + PVA_MSG_MAX) != -EAGAIN)
		fail("more echoes than messages sent");
	/* writable again */
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 5000) != 1)
		fail("not writable after draining");
	printf("backpressure: all %lu echoes back in order\n", got);
	close(fd);
	free(in);
}

static void expect_errno(int ret, int want, const char *what);

/* Batch mode (PVA_BIND_F_BATCH): several messages per read and write. */
static void test_batch(void)
{
	static uint8_t out[1 << 18], in[1 << 18], p[4096];
	int fd = chan_open_bind("echo", O_NONBLOCK, PVA_BIND_F_BATCH);
	struct pva_info info = chan_info(fd);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint32_t n = 0, got = 0, msgs = 0, off;
	struct pva_msg_hdr h;
	ssize_t r;

	/* 100 echo events of 0..99 bytes in one write; the last unpadded */
	for (uint32_t i = 0; i < 100; i++) {
		pattern(p, i, i);
		n += put_record(out + n, PVA_ECHO_ECHO, 0, i, p, i);
	}
	n -= pva_msg_record_size(99) - HDR - 99;
	if (write(fd, out, n) != (ssize_t)n)
		fail("batch write: %s", strerror(errno));
	/* read them back in pieces: a 1000-byte buffer, records whole */
	while (msgs < 100) {
		if (poll(&pfd, 1, 5000) != 1)
			fail("only %u of 100 echoes", msgs);
		r = read(fd, in, 1000);
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0 || r > 1000 || r % 8)
			fail("batch read returned %zd (%s)", r, strerror(errno));
		for (off = 0; off < (uint32_t)r; msgs++) {
			memcpy(&h, in + off, HDR);
			if (pva_le32(h.len) != msgs || pva_le32(h.req_id) != 0)
				fail("echo %u: len %u", msgs, pva_le32(h.len));
			pattern(p, msgs, msgs);
			if (memcmp(in + off + HDR, p, msgs))
				fail("echo %u: wrong payload", msgs);
			off += pva_msg_record_size(msgs);
			got += msgs;
		}
		if (off != (uint32_t)r)
			fail("a record crosses the end of a read");
	}
	/* a buffer too small for the next message: EMSGSIZE, kept */
	n = put_record(out, PVA_ECHO_ECHO, 0, 0, p, 200);
	if (write(fd, out, n) != (ssize_t)n)
		fail("write: %s", strerror(errno));
	poll(&pfd, 1, 5000);
	expect_errno((int)read(fd, in, 100), EMSGSIZE, "small batch buffer");
	if (read(fd, in, sizeof(in)) != (ssize_t)pva_msg_record_size(200))
		fail("the message did not stay queued");
	/* a bad header in the middle: refused, nothing sent */
	n = put_record(out, PVA_ECHO_ECHO, 0, 0, p, 8);
	n += put_record(out + n, PVA_ECHO_ECHO, 0x40, 0, p, 8);
	expect_errno((int)write(fd, out, n), EINVAL, "bad flags in a batch");
	n = put_record(out, PVA_ECHO_ECHO, 0, 0, p, 8);
	out[n] = 1;	/* trailing garbage shorter than a header */
	expect_errno((int)write(fd, out, n + 1), EINVAL, "trailing bytes");
	/* a length past the end of the buffer */
	n = put_record(out, PVA_ECHO_ECHO, 0, 0, p, 64);
	expect_errno((int)write(fd, out, n - 48), EINVAL, "truncated record");
	/* more than half the ring at once */
	expect_errno((int)write(fd, out, info.tx_size / 2 + 8), EMSGSIZE,
		     "batch larger than half the ring");
	if (poll(&pfd, 1, 300) != 0)
		fail("a refused batch sent something");
	printf("batch: 100 messages (%u payload bytes) in one write, read back whole, bad batches refused\n",
	       got);
	close(fd);
}

static void expect_errno(int ret, int want, const char *what)
{
	if (ret != -1 || errno != want)
		fail("%s: got %d/%s, expected %s", what, ret,
		     ret == -1 ? strerror(errno) : "success", strerror(want));
}

static void test_errors(void)
{
	struct pva_bind b = { .name = "no-such-channel" };
	struct pva_msg_hdr h = { 0 };
	int fd = open(dev_path, O_RDWR), fd2;
	char buf[64];

	if (fd < 0)
		fail("open: %s", strerror(errno));
	expect_errno((int)write(fd, &h, sizeof(h)), EDESTADDRREQ,
		     "write before bind");
	expect_errno((int)read(fd, buf, sizeof(buf)), EDESTADDRREQ,
		     "read before bind");
	expect_errno(ioctl(fd, PVA_IOC_BIND, &b), ENOENT, "bind to unknown");
	strcpy(b.name, "control");
	expect_errno(ioctl(fd, PVA_IOC_BIND, &b), ENOENT,
		     "bind to a kernel service");
	memset(b.name, 'a', sizeof(b.name));
	expect_errno(ioctl(fd, PVA_IOC_BIND, &b), EINVAL, "unterminated name");
	strcpy(b.name, "echo");
	b.flags = 2;
	expect_errno(ioctl(fd, PVA_IOC_BIND, &b), EINVAL, "unknown bind flag");
	b.flags = 0;
	if (ioctl(fd, PVA_IOC_BIND, &b) < 0)
		fail("bind: %s", strerror(errno));
	expect_errno(ioctl(fd, PVA_IOC_BIND, &b), EISCONN, "second bind");
	fd2 = open(dev_path, O_RDWR);
	expect_errno(ioctl(fd2, PVA_IOC_BIND, &b), EBUSY,
		     "bind of a bound channel");
	close(fd2);
	expect_errno((int)write(fd, &h, 10), EINVAL, "write shorter than a header");
	h.len = pva_cpu32(5);
	expect_errno((int)write(fd, &h, sizeof(h)), EINVAL, "len mismatch");
	h.len = 0;
	h.reserved1 = pva_cpu32(1);
	expect_errno((int)write(fd, &h, sizeof(h)), EINVAL, "reserved field set");
	h.reserved1 = 0;
	h.flags = pva_cpu16(PVA_MSG_F_REQUEST | PVA_MSG_F_RESPONSE);
	expect_errno((int)write(fd, &h, sizeof(h)), EINVAL, "request+response");
	h.flags = pva_cpu16(0x80);
	expect_errno((int)write(fd, &h, sizeof(h)), EINVAL, "unknown flag");
	expect_errno(ioctl(fd, _IO(0xb7, 99)), ENOTTY, "unknown ioctl");
	/* an unknown request type is answered ENOTSUP by the host */
	h.flags = pva_cpu16(PVA_MSG_F_REQUEST);
	h.type = pva_cpu16(0x7777);
	h.req_id = pva_cpu32(3);
	if (write(fd, &h, sizeof(h)) != sizeof(h))
		fail("write: %s", strerror(errno));
	if (read(fd, buf, sizeof(buf)) != sizeof(h))
		fail("no answer to an unknown request");
	memcpy(&h, buf, sizeof(h));
	if (pva_le32(h.status) != PVA_S_ENOTSUP || pva_le32(h.req_id) != 3)
		fail("unknown request answered with status %u",
		     pva_le32(h.status));
	/* a released channel can be bound again */
	close(fd);
	fd = chan_open("echo");
	close(fd);
	printf("errors: every misuse refused with the documented errno\n");
}

/*
 * The host's worker is killed while a channel is open: the next operation
 * fails once with ECONNRESET, then the channel works again.
 */
static void test_host_restart(const char *how)
{
	int fd = chan_open("echo"), resets = 0, ret;
	struct pva_info before = chan_info(fd), after;
	struct pva_msg_hdr h;

	ping(fd, 100, 64, 1, false);
	if (host_cmd("%s", how))
		fail("the harness could not %s", how);
	for (int i = 0; i < 20; i++) {
		ret = send_msg(fd, PVA_ECHO_ECHO, PVA_MSG_F_REQUEST, 1, "x", 1);
		if (!ret)
			ret = recv_msg(fd, &h, msgbuf, HDR + PVA_MSG_MAX);
		if (ret >= 0)
			break;
		if (ret != -ECONNRESET)
			fail("after %s: %s, expected ECONNRESET", how,
			     strerror(-ret));
		resets++;
	}
	if (resets != 1)
		fail("after %s: ECONNRESET reported %d times, expected once",
		     how, resets);
	after = chan_info(fd);
	if (after.generation == before.generation)
		fail("generation did not change");
	ping(fd, 1000, 64, 4, false);
	printf("host-restart (%s): one ECONNRESET, generation %u -> %u, channel works\n",
	       how, before.generation, after.generation);
	close(fd);
}

/* Take @mib MiB and touch every page, hold it @secs seconds, free it. */
static void hog(unsigned long mib, unsigned long secs)
{
	size_t chunk = 1 << 20, n;
	char **p = calloc(mib, sizeof(*p));

	if (!p)
		fail("out of memory for the chunk table");
	for (n = 0; n < mib; n++) {
		p[n] = malloc(chunk);
		if (!p[n])
			fail("malloc failed after %zu MiB", n);
		memset(p[n], (int)n | 1, chunk);
	}
	printf("hog: holding %lu MiB\n", mib);
	fflush(stdout);
	sleep((unsigned int)secs);
	for (n = 0; n < mib; n++)
		free(p[n]);
	free(p);
}

static void test_info(void)
{
	int fd = chan_open("echo");
	struct pva_info i = chan_info(fd);

	printf("INFO state=%u version=%u.%u features=0x%llx generation=%u max_payload=%u tx=%u rx=%u\n",
	       i.state, i.major, i.minor, (unsigned long long)i.features,
	       i.generation, i.max_payload, i.tx_size, i.rx_size);
	close(fd);
}

static void usage(FILE *f, int status)
{
	fprintf(f,
"Usage: pva-test [-d DEV] TEST [ARGS]\n"
"Tests of /dev/pva against pva-host's echo channel.\n"
"  info                        print the channel's state\n"
"  ping N SIZE [WINDOW]        N echo round trips, checked\n"
"  rtt N SIZE [WINDOW]         like ping, prints a RESULT line\n"
"  sink BYTES SIZE [BATCH]     guest->host throughput, checked; with BATCH,\n"
"                              batch mode, BATCH bytes per write()\n"
"  source BYTES SIZE [BATCH]   host->guest throughput, checked; BATCH bytes\n"
"                              per read() in batch mode\n"
"  batch                       batch mode: several messages per call\n"
"  maxsize                     largest message, oversize, small buffers\n"
"  backpressure                full rings in both directions\n"
"  errors                      misuse gets the documented errno\n"
"  host-restart HOW            HOW: kill-worker or restart-worker\n"
"  hog MIB [SECONDS]           take and touch MIB MiB (memory tests)\n"
"N >= 1, SIZE 0..65536 (and at most the channel's maximum), WINDOW 1..1024,\n"
"BYTES >= 0; sink/source SIZE >= 1.\n"
"Exit status: 0 pass, 1 fail, 2 usage.\n");
	exit(status);
}

/* A number argument within [min, max], or a usage error. */
static unsigned long long num(const char *s, unsigned long long min,
			      unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "pva-test: '%s' is not a number in %llu..%llu\n",
			s, min, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "-d")) {
		dev_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage(stderr, 2);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		usage(stdout, 0);
	test_name = argv[1];
	msgbuf = malloc(HDR + PVA_MSG_MAX + 8);
	if (!msgbuf)
		return 1;
	if (!strcmp(argv[1], "info")) {
		test_info();
	} else if ((!strcmp(argv[1], "ping") || !strcmp(argv[1], "rtt")) &&
		   argc >= 4) {
		unsigned long n = num(argv[2], 1, 100000000);
		uint32_t size = (uint32_t)num(argv[3], 0, PVA_MSG_MAX);
		unsigned int window = argc > 4 ?
				      (unsigned int)num(argv[4], 1, 1024) : 1;

		fd = chan_open("echo");
		ping(fd, n, size, window, !strcmp(argv[1], "rtt"));
	} else if ((!strcmp(argv[1], "sink") || !strcmp(argv[1], "source")) &&
		   (argc == 4 || argc == 5)) {
		uint64_t bytes = num(argv[2], 0, 1ull << 40);
		uint32_t size = (uint32_t)num(argv[3], 1, PVA_MSG_MAX);
		uint32_t batch = argc == 5 ? (uint32_t)num(argv[4], 0, 1 << 20) : 0;

		fd = chan_open_bind("echo", 0, batch ? PVA_BIND_F_BATCH : 0);
		if (!strcmp(argv[1], "sink"))
			printf("RESULT g2h_mib_s=%.1f\n", sink(fd, bytes, size, batch));
		else
			printf("RESULT h2g_mib_s=%.1f\n", source(fd, bytes, size, batch));
	} else if (!strcmp(argv[1], "hog") && (argc == 3 || argc == 4)) {
		hog((unsigned long)num(argv[2], 1, 1 << 20),
		    argc == 4 ? (unsigned long)num(argv[3], 0, 86400) : 0);
	} else if (!strcmp(argv[1], "batch")) {
		test_batch();
	} else if (!strcmp(argv[1], "maxsize")) {
		test_maxsize();
	} else if (!strcmp(argv[1], "backpressure")) {
		test_backpressure();
	} else if (!strcmp(argv[1], "errors")) {
		test_errors();
	} else if (!strcmp(argv[1], "host-restart") && argc == 3) {
		test_host_restart(argv[2]);
	} else {
		usage(stderr, 2);
	}
	printf("PASS %s\n", test_name);
	return 0;
}
