// SPDX-License-Identifier: MIT
/*
 * ioctl_test.exe: the user-mode interface of pva.sys (windows/include/
 * pva_win.h), against the test build pvatest.sys and its built-in
 * loopback host (windows/driver/wine_test.c), under wine or on Windows.
 * Run by tests/windows/driver_test.sh. Opens \\.\PvaDevice the way the
 * agent does (overlapped), binds "echo", writes messages and reads them
 * back, and checks the error paths: unknown names, busy channels,
 * malformed headers, small buffers, full rings, cancellation, resets.
 * Prints "ioctl: N passed, N failed"; exits 1 on any failure.
 *
 *   ioctl_test.exe [label]
 */
#include "pva_win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_ID		1	/* the test host's table: control, echo, balloon */
#define ECHO_RING	16384u
#define ECHO_MAX	(ECHO_RING / 2 - 24)
#define WAIT_MS		5000

static int passed, failed;
static const char *label = "";

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		passed++;						\
	} else {							\
		failed++;						\
		printf("FAIL %s(%s:%d): ", label, __FILE__, __LINE__);	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

/* One overlapped operation. */
struct op {
	OVERLAPPED ov;
	DWORD err;		/* 0, ERROR_IO_PENDING, or the failure */
	DWORD got;
};

static void op_init(struct op *op)
{
	memset(op, 0, sizeof(*op));
	op->ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
}

static void op_free(struct op *op)
{
	CloseHandle(op->ov.hEvent);
}

/* Wait up to @ms for @op; 0 or the error it completed with, WAIT_TIMEOUT. */
static DWORD op_wait(HANDLE h, struct op *op, DWORD ms)
{
	if (op->err != ERROR_IO_PENDING)
		return op->err;
	if (WaitForSingleObject(op->ov.hEvent, ms) != WAIT_OBJECT_0)
		return WAIT_TIMEOUT;
	op->err = GetOverlappedResult(h, &op->ov, &op->got, FALSE) ? 0 :
		  GetLastError();
	return op->err;
}

static void op_read(HANDLE h, struct op *op, void *buf, DWORD cap)
{
	ResetEvent(op->ov.hEvent);
	op->got = 0;
	op->err = ReadFile(h, buf, cap, &op->got, &op->ov) ? 0 : GetLastError();
	if (!op->err)	/* completed at once: collect the count */
		GetOverlappedResult(h, &op->ov, &op->got, FALSE);
}

static void op_write(HANDLE h, struct op *op, const void *buf, DWORD len)
{
	ResetEvent(op->ov.hEvent);
	op->got = 0;
	op->err = WriteFile(h, buf, len, &op->got, &op->ov) ? 0 : GetLastError();
	if (!op->err)
		GetOverlappedResult(h, &op->ov, &op->got, FALSE);
}

static DWORD dev_ioctl(HANDLE h, DWORD code, void *in, DWORD inlen, void *out,
		       DWORD outlen, DWORD *got)
{
	struct op op;
	DWORD err, n = 0;

	op_init(&op);
	op.err = DeviceIoControl(h, code, in, inlen, out, outlen, &n, &op.ov) ?
		 0 : GetLastError();
	err = op_wait(h, &op, WAIT_MS);
	if (!err && op.got)
		n = op.got;
	if (got)
		*got = n;
	op_free(&op);
	return err;
}

static DWORD bind_raw(HANDLE h, const struct pva_win_bind *b, DWORD len)
{
	return dev_ioctl(h, IOCTL_PVA_BIND, (void *)b, len, NULL, 0, NULL);
}

static DWORD bind_name(HANDLE h, const char *name)
{
	struct pva_win_bind b;

	memset(&b, 0, sizeof(b));
	strncpy(b.name, name, sizeof(b.name) - 1);
	return bind_raw(h, &b, sizeof(b));
}

static DWORD get_info(HANDLE h, struct pva_win_info *info)
{
	DWORD got = 0, err;

	memset(info, 0xee, sizeof(*info));
	err = dev_ioctl(h, IOCTL_PVA_INFO, NULL, 0, info, sizeof(*info), &got);
	if (!err && got != sizeof(*info))
		err = ERROR_INVALID_DATA;
	return err;
}

static DWORD test_host(HANDLE h, __u32 cmd, __u32 arg,
		       struct pva_win_test_host *out)
{
	struct pva_win_test_host c;
	DWORD got = 0;

	memset(&c, 0, sizeof(c));
	c.cmd = cmd;
	c.arg = arg;
	if (!out)
		out = &c;
	*out = c;
	return dev_ioctl(h, IOCTL_PVA_TEST_HOST, &c, sizeof(c), out,
			 sizeof(*out), &got);
}

/* Wait until the device runs a generation other than @not_gen. */
static int wait_running(HANDLE h, __u32 not_gen, struct pva_win_info *info)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!get_info(h, info) && info->state == PVA_WIN_STATE_RUNNING &&
		    info->generation != not_gen)
			return 1;
		Sleep(50);
	}
	return 0;
}

static HANDLE open_dev(void)
{
	return CreateFileW(PVA_WIN_DEVICE_PATH, GENERIC_READ | GENERIC_WRITE, 0,
			   NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
}

/* A message: header + payload, payload byte i = (seed + i) & 0xff. */
static DWORD make_msg(unsigned char *buf, __u16 type, __u16 flags, __u32 req_id,
		      __u32 len, unsigned int seed)
{
	struct pva_msg_hdr hdr;
	__u32 i;

	memset(&hdr, 0, sizeof(hdr));
	hdr.len = len;
	hdr.type = type;
	hdr.flags = flags;
	hdr.req_id = req_id;
	hdr.service = 0x7777;	/* the driver fills it in */
	memcpy(buf, &hdr, sizeof(hdr));
	for (i = 0; i < len; i++)
		buf[sizeof(hdr) + i] = (unsigned char)(seed + i);
	return (DWORD)sizeof(hdr) + len;
}

static int payload_ok(const unsigned char *buf, __u32 len, unsigned int seed)
{
	__u32 i;

	for (i = 0; i < len; i++)
		if (buf[sizeof(struct pva_msg_hdr) + i] != (unsigned char)(seed + i))
			return 0;
	return 1;
}

/* Write one message and wait for it; returns the error (0: written). */
static DWORD write_sync(HANDLE h, const void *buf, DWORD len)
{
	struct op op;
	DWORD err;

	op_init(&op);
	op_write(h, &op, buf, len);
	err = op_wait(h, &op, WAIT_MS);
	if (err == WAIT_TIMEOUT) {
		CancelIoEx(h, &op.ov);
		op_wait(h, &op, INFINITE);
	} else if (!err && op.got != len) {
		err = ERROR_INVALID_DATA;
	}
	op_free(&op);
	return err;
}

/* Read one message, waiting up to @ms (then cancel: WAIT_TIMEOUT). */
static DWORD read_wait(HANDLE h, void *buf, DWORD cap, DWORD *got, DWORD ms)
{
	struct op op;
	DWORD err;

	op_init(&op);
	op_read(h, &op, buf, cap);
	err = op_wait(h, &op, ms);
	if (err == WAIT_TIMEOUT) {
		CancelIoEx(h, &op.ov);
		op_wait(h, &op, INFINITE);
		err = WAIT_TIMEOUT;
	}
	*got = op.got;
	op_free(&op);
	return err;
}

static DWORD read_sync(HANDLE h, void *buf, DWORD cap, DWORD *got)
{
	return read_wait(h, buf, cap, got, WAIT_MS);
}

static unsigned char wbuf[70000], rbuf[70000];

/* Echo one message and check what comes back. */
static int echo_once(HANDLE h, __u16 flags, __u32 req_id, __u32 len,
		     unsigned int seed)
{
	const struct pva_msg_hdr *r = (const void *)rbuf;
	DWORD n = make_msg(wbuf, PVA_ECHO_ECHO, flags, req_id, len, seed), got;
	DWORD err = write_sync(h, wbuf, n);

	if (err) {
		printf("  echo: write of %u bytes failed: %lu\n", len, err);
		return 0;
	}
	err = read_sync(h, rbuf, sizeof(rbuf), &got);
	if (err) {
		printf("  echo: read failed: %lu\n", err);
		return 0;
	}
	if (got != n || r->len != len || r->type != PVA_ECHO_ECHO ||
	    r->service != ECHO_ID || r->req_id != req_id ||
	    r->flags != (flags & PVA_MSG_F_REQUEST ? PVA_MSG_F_RESPONSE : 0) ||
	    r->status != 0 || r->reserved0 || r->reserved1 ||
	    !payload_ok(rbuf, len, seed)) {
		printf("  echo: got %lu bytes (len %u type %u flags %u service %u req %u status %u), wanted %lu\n",
		       got, r->len, r->type, r->flags, r->service, r->req_id,
		       r->status, n);
		return 0;
	}
	return 1;
}

static void test_info_and_bind(HANDLE h, HANDLE h2)
{
	struct pva_win_info info;
	struct pva_win_bind b;
	DWORD err, got;

	CHECK(wait_running(h, 0, &info), "device not RUNNING (state %u)", info.state);
	CHECK(info.major == PVA_VERSION_MAJOR && info.minor == PVA_VERSION_MINOR,
	      "version %u.%u", info.major, info.minor);
	CHECK(info.features == (PVA_F_EVENT_IDX | PVA_F_GUEST_INFO),
	      "features 0x%llx", (unsigned long long)info.features);
	CHECK(info.generation != 0, "generation 0");
	CHECK(info.max_payload == 0 && info.tx_size == 0 && info.rx_size == 0,
	      "unbound handle shows a channel (%u/%u/%u)", info.max_payload,
	      info.tx_size, info.rx_size);
	err = dev_ioctl(h, IOCTL_PVA_INFO, NULL, 0, &info, 8, &got);
	CHECK(err == ERROR_INSUFFICIENT_BUFFER, "INFO with 8 bytes: %lu", err);

	/* not bound yet */
	err = read_sync(h, rbuf, sizeof(rbuf), &got);
	CHECK(err == ERROR_BAD_COMMAND, "read before bind: %lu", err);
	err = write_sync(h, wbuf, make_msg(wbuf, 1, 0, 0, 4, 0));
	CHECK(err == ERROR_BAD_COMMAND, "write before bind: %lu", err);

	/* names */
	err = bind_name(h, "nosuch");
	CHECK(err == ERROR_FILE_NOT_FOUND, "bind nosuch: %lu", err);
	err = bind_name(h, "balloon");
	CHECK(err == ERROR_FILE_NOT_FOUND, "bind balloon (not a channel): %lu", err);
	err = bind_name(h, "control");
	CHECK(err == ERROR_FILE_NOT_FOUND, "bind control: %lu", err);

	/* malformed requests */
	memset(&b, 'a', sizeof(b.name));
	b.flags = b.reserved = 0;
	err = bind_raw(h, &b, sizeof(b));
	CHECK(err == ERROR_INVALID_PARAMETER, "bind without NUL: %lu", err);
	memset(&b, 0, sizeof(b));
	err = bind_raw(h, &b, sizeof(b));
	CHECK(err == ERROR_INVALID_PARAMETER, "bind empty name: %lu", err);
	strcpy(b.name, "echo");
	b.flags = 2;
	err = bind_raw(h, &b, sizeof(b));
	CHECK(err == ERROR_INVALID_PARAMETER, "bind flags 2: %lu", err);
	b.flags = PVA_WIN_BIND_F_BATCH;
	err = bind_raw(h, &b, sizeof(b));
	CHECK(err == ERROR_NOT_SUPPORTED, "bind batch: %lu", err);
	b.flags = 0;
	b.reserved = 1;
	err = bind_raw(h, &b, sizeof(b));
	CHECK(err == ERROR_INVALID_PARAMETER, "bind reserved: %lu", err);
	b.reserved = 0;
	err = bind_raw(h, &b, 20);
	CHECK(err == ERROR_INVALID_PARAMETER, "bind 20 bytes: %lu", err);

	err = bind_name(h, "echo");
	CHECK(err == 0, "bind echo: %lu", err);
	err = bind_name(h, "echo");
	CHECK(err == ERROR_ADDRESS_ALREADY_ASSOCIATED, "bind twice: %lu", err);
	err = bind_name(h2, "echo");
	CHECK(err == ERROR_SHARING_VIOLATION, "bind echo from a second handle: %lu", err);
	err = get_info(h, &info);
	CHECK(!err && info.max_payload == ECHO_MAX && info.tx_size == ECHO_RING &&
	      info.rx_size == ECHO_RING, "INFO bound: %lu, %u/%u/%u", err,
	      info.max_payload, info.tx_size, info.rx_size);
}

static void test_messages(HANDLE h)
{
	const struct pva_msg_hdr *r = (const void *)rbuf;
	struct pva_msg_hdr *w = (void *)wbuf;
	DWORD err, got, n;

	CHECK(echo_once(h, 0, 0, 5, 'h'), "echo event");
	CHECK(echo_once(h, PVA_MSG_F_REQUEST, 77, 100, 3), "echo request");
	CHECK(echo_once(h, 0, 0, 0, 0), "echo empty");
	CHECK(echo_once(h, 0, 0, ECHO_MAX, 9), "echo largest payload");

	/* a request of a type the host does not know: ENOTSUP */
	n = make_msg(wbuf, 99, PVA_MSG_F_REQUEST, 5, 8, 0);
	err = write_sync(h, wbuf, n);
	CHECK(!err, "write unknown request: %lu", err);
	err = read_sync(h, rbuf, sizeof(rbuf), &got);
	CHECK(!err && got == 24 && r->type == 99 && r->req_id == 5 &&
	      r->flags == PVA_MSG_F_RESPONSE && r->status == PVA_S_ENOTSUP,
	      "unknown request answer: %lu, %lu bytes, status %u", err, got,
	      r->status);

	/* malformed writes */
	n = make_msg(wbuf, 1, 0, 0, 10, 0);
	w->len = 11;
	CHECK(write_sync(h, wbuf, n) == ERROR_INVALID_PARAMETER, "len mismatch");
	w->len = 10;
	w->reserved0 = 1;
	CHECK(write_sync(h, wbuf, n) == ERROR_INVALID_PARAMETER, "reserved0");
	w->reserved0 = 0;
	w->reserved1 = 1;
	CHECK(write_sync(h, wbuf, n) == ERROR_INVALID_PARAMETER, "reserved1");
	w->reserved1 = 0;
	w->flags = PVA_MSG_F_REQUEST | PVA_MSG_F_RESPONSE;
	CHECK(write_sync(h, wbuf, n) == ERROR_INVALID_PARAMETER, "both flags");
	w->flags = 4;
	CHECK(write_sync(h, wbuf, n) == ERROR_INVALID_PARAMETER, "unknown flag");
	CHECK(write_sync(h, wbuf, 23) == ERROR_INVALID_PARAMETER, "short header");
	n = make_msg(wbuf, 1, 0, 0, ECHO_MAX + 1, 0);
	err = write_sync(h, wbuf, n);
	CHECK(err == ERROR_INVALID_USER_BUFFER, "payload above the maximum: %lu", err);
	n = make_msg(wbuf, 1, 0, 0, PVA_MSG_MAX + 1, 0);
	err = write_sync(h, wbuf, n);
	CHECK(err == ERROR_INVALID_USER_BUFFER, "payload above 64 KiB: %lu", err);

	/* a buffer too small fails and leaves the message queued */
	n = make_msg(wbuf, PVA_ECHO_ECHO, 0, 0, 100, 42);
	CHECK(!write_sync(h, wbuf, n), "write 100");
	err = read_sync(h, rbuf, 50, &got);
	CHECK(err == ERROR_INSUFFICIENT_BUFFER, "read into 50 bytes: %lu", err);
	err = read_sync(h, rbuf, 123, &got);
	CHECK(err == ERROR_INSUFFICIENT_BUFFER, "read into 123 bytes: %lu", err);
	err = read_sync(h, rbuf, 124, &got);
	CHECK(!err && got == 124 && r->len == 100 && payload_ok(rbuf, 100, 42),
	      "message kept after small reads: %lu, %lu bytes", err, got);
}

/* Reads pend until the DPC completes them, in order. */
static void test_pending(HANDLE h)
{
	static unsigned char bufs[4][256];
	struct op rd[4];
	DWORD err, got, n;
	int i, in_order = 1;

	for (i = 0; i < 4; i++) {
		op_init(&rd[i]);
		op_read(h, &rd[i], bufs[i], sizeof(bufs[i]));
	}
	CHECK(rd[0].err == ERROR_IO_PENDING, "read did not pend: %lu", rd[0].err);
	Sleep(100);
	CHECK(!GetOverlappedResult(h, &rd[0].ov, &got, FALSE) &&
	      GetLastError() == ERROR_IO_INCOMPLETE,
	      "pending read completed without a message");
	for (i = 0; i < 4; i++) {
		n = make_msg(wbuf, PVA_ECHO_ECHO, PVA_MSG_F_REQUEST, 100 + i,
			     16 + i, i);
		CHECK(!write_sync(h, wbuf, n), "write %d", i);
	}
	for (i = 0; i < 4; i++) {
		const struct pva_msg_hdr *r = (const void *)bufs[i];

		err = op_wait(h, &rd[i], WAIT_MS);
		if (err == WAIT_TIMEOUT)
			CancelIoEx(h, &rd[i].ov);
		if (err || rd[i].got != 24u + 16 + i || r->req_id != 100u + i ||
		    !payload_ok(bufs[i], 16 + i, i))
			in_order = 0;
	}
	CHECK(in_order, "pending reads completed in order with their messages");
	for (i = 0; i < 4; i++) {
		op_wait(h, &rd[i], INFINITE);
		op_free(&rd[i]);
	}
}

static void test_cancel(HANDLE h)
{
	struct op rd;
	DWORD err;

	op_init(&rd);
	op_read(h, &rd, rbuf, sizeof(rbuf));
	CHECK(rd.err == ERROR_IO_PENDING, "read did not pend: %lu", rd.err);
	Sleep(50);
	CHECK(CancelIoEx(h, &rd.ov), "CancelIoEx: %lu", GetLastError());
	err = op_wait(h, &rd, WAIT_MS);
	CHECK(err == ERROR_OPERATION_ABORTED, "cancelled read: %lu", err);
	op_free(&rd);
	CHECK(echo_once(h, 0, 0, 33, 7), "echo after a cancelled read");
}

/*
 * The host stops consuming: the guest->host ring (16 KiB) takes 16
 * records of 1 KiB, then writes pend; a pending write can be cancelled;
 * the rest complete once the host goes on, in order.
 */
static void test_full_ring(HANDLE h)
{
	enum { N = 18, LEN = 1000 };
	static unsigned char msgs[N][1024];
	struct op wr[N];
	DWORD err, got;
	int i, queued = 0, order_ok = 1;

	err = test_host(h, PVA_WIN_TEST_PAUSE, 1, NULL);
	CHECK(!err, "pause host: %lu", err);
	for (i = 0; i < N; i++) {
		DWORD n = make_msg(msgs[i], PVA_ECHO_ECHO, 0, 0, LEN, i);

		op_init(&wr[i]);
		op_write(h, &wr[i], msgs[i], n);
		if (wr[i].err == ERROR_IO_PENDING)
			op_wait(h, &wr[i], 200);
	}
	for (i = 0; i < 16; i++)
		if (wr[i].err)
			break;
	CHECK(i == 16, "only %d writes fit a 16 KiB ring (first error %lu)", i,
	      i < N ? wr[i].err : 0);
	CHECK(wr[16].err == ERROR_IO_PENDING && wr[17].err == ERROR_IO_PENDING,
	      "writes to a full ring did not pend (%lu, %lu)", wr[16].err,
	      wr[17].err);
	CHECK(CancelIoEx(h, &wr[17].ov), "cancel a pending write");
	err = op_wait(h, &wr[17], WAIT_MS);
	CHECK(err == ERROR_OPERATION_ABORTED, "cancelled write: %lu", err);
	CHECK(op_wait(h, &wr[16], 100) == WAIT_TIMEOUT,
	      "write 16 completed while the host is paused");
	err = test_host(h, PVA_WIN_TEST_PAUSE, 0, NULL);
	CHECK(!err, "resume host: %lu", err);
	err = op_wait(h, &wr[16], WAIT_MS);
	CHECK(!err && wr[16].got == 24 + LEN, "pending write after resume: %lu", err);
	for (i = 0; i < 17; i++) {
		err = read_sync(h, rbuf, sizeof(rbuf), &got);
		if (err || got != 24 + LEN || !payload_ok(rbuf, LEN, i)) {
			order_ok = 0;
			printf("  full ring: read %d: %lu, %lu bytes\n", i, err, got);
			break;
		}
		queued++;
	}
	CHECK(order_ok && queued == 17, "echoes of the 17 written messages, in order");
	for (i = 0; i < N; i++) {
		op_wait(h, &wr[i], INFINITE);
		op_free(&wr[i]);
	}
}

/* Many sizes, wrapping both rings many times. */
static void test_stress(HANDLE h)
{
	unsigned int seed = 12345, i, ok = 0, rounds = 1500;
	struct op wr[8], rd[8];
	static unsigned char rb[8][ECHO_MAX + 24];
	static unsigned char wb[8][ECHO_MAX + 24];
	int k, batch_ok = 1, b;

	for (i = 0; i < rounds; i++) {
		__u32 len;

		seed = seed * 1103515245 + 12345;
		len = (seed >> 8) % (i % 10 ? 600 : ECHO_MAX + 1);
		ok += echo_once(h, i & 1 ? PVA_MSG_F_REQUEST : 0, i + 1, len, i);
	}
	CHECK(ok == rounds, "%u of %u round trips", ok, rounds);

	/* pipelined: 8 reads pending, 8 writes, for 50 batches */
	for (b = 0; b < 50 && batch_ok; b++) {
		for (k = 0; k < 8; k++) {
			op_init(&rd[k]);
			op_init(&wr[k]);
			op_read(h, &rd[k], rb[k], sizeof(rb[k]));
		}
		for (k = 0; k < 8; k++) {
			DWORD n = make_msg(wb[k], PVA_ECHO_ECHO, 0, 0,
					   (b * 8 + k) * 37 % 2000, b + k);
			op_write(h, &wr[k], wb[k], n);
		}
		for (k = 0; k < 8; k++) {
			DWORD len = (b * 8 + k) * 37 % 2000;

			if (op_wait(h, &wr[k], WAIT_MS) ||
			    op_wait(h, &rd[k], WAIT_MS) ||
			    rd[k].got != 24 + len || !payload_ok(rb[k], len, b + k))
				batch_ok = 0;
		}
		for (k = 0; k < 8; k++) {
			if (wr[k].err == WAIT_TIMEOUT)
				CancelIoEx(h, &wr[k].ov);
			if (rd[k].err == WAIT_TIMEOUT)
				CancelIoEx(h, &rd[k].ov);
			op_wait(h, &wr[k], INFINITE);
			op_wait(h, &rd[k], INFINITE);
			op_free(&rd[k]);
			op_free(&wr[k]);
		}
	}
	CHECK(batch_ok, "pipelined batch %d", b - 1);
}

/*
 * Host restart: the I/O pending at the reset fails with
 * ERROR_NETNAME_DELETED; with none pending, the next call does, once.
 */
static void test_reset(HANDLE h)
{
	struct pva_win_test_host st, st2;
	struct pva_win_info info;
	struct op rd;
	DWORD err, got;
	__u32 gen;

	CHECK(!get_info(h, &info), "INFO");
	gen = info.generation;
	CHECK(!test_host(h, PVA_WIN_TEST_STATS, 0, &st), "host stats");
	CHECK(st.negotiations >= 1 && st.guest_info >= 1,
	      "host saw %u negotiations, %u CTRL_GUEST_INFO", st.negotiations,
	      st.guest_info);

	/* a pending read at the reset */
	op_init(&rd);
	op_read(h, &rd, rbuf, sizeof(rbuf));
	CHECK(rd.err == ERROR_IO_PENDING, "read did not pend: %lu", rd.err);
	CHECK(!test_host(h, PVA_WIN_TEST_RESET, 0, NULL), "reset host");
	err = op_wait(h, &rd, WAIT_MS);
	CHECK(err == ERROR_NETNAME_DELETED, "pending read at reset: %lu", err);
	if (err == WAIT_TIMEOUT) {
		CancelIoEx(h, &rd.ov);
		op_wait(h, &rd, INFINITE);
	}
	op_free(&rd);
	CHECK(wait_running(h, gen, &info), "running again after the reset");
	CHECK(echo_once(h, 0, 0, 64, 1), "echo after reset (reported by the pending read)");
	gen = info.generation;

	/* nothing pending at the reset: the next write reports it, once */
	CHECK(!test_host(h, PVA_WIN_TEST_RESET, 0, NULL), "reset host again");
	CHECK(wait_running(h, gen, &info), "running again after the second reset");
	err = write_sync(h, wbuf, make_msg(wbuf, PVA_ECHO_ECHO, 0, 0, 8, 0));
	CHECK(err == ERROR_NETNAME_DELETED, "first write after reset: %lu", err);
	CHECK(echo_once(h, 0, 0, 8, 2), "echo after the reset was reported");
	err = read_wait(h, rbuf, sizeof(rbuf), &got, 300);
	CHECK(err == WAIT_TIMEOUT, "the failed write was not sent: %lu", err);
	CHECK(!get_info(h, &info) && info.max_payload == ECHO_MAX,
	      "still bound after resets");
	CHECK(!test_host(h, PVA_WIN_TEST_STATS, 0, &st2) &&
	      st2.negotiations >= st.negotiations + 2 &&
	      st2.guest_info >= st.guest_info + 2 &&
	      st2.generation >= st.generation + 2,
	      "host: %u negotiations, %u guest info, generation %u",
	      st2.negotiations, st2.guest_info, st2.generation);
}

/*
 * While the device negotiates, I/O on a bound handle waits for it (like
 * a blocking read on Linux) rather than failing; it can be cancelled.
 */
static void test_parked(HANDLE h)
{
	struct pva_win_info info;
	struct op rd, wr, rd2;
	DWORD err, n;
	__u32 gen;

	CHECK(!get_info(h, &info), "INFO");
	gen = info.generation;
	CHECK(!test_host(h, PVA_WIN_TEST_SLOW, 800, NULL), "slow host");
	op_init(&rd);
	op_read(h, &rd, rbuf, sizeof(rbuf));
	CHECK(!test_host(h, PVA_WIN_TEST_RESET, 0, NULL), "reset host");
	err = op_wait(h, &rd, WAIT_MS);
	CHECK(err == ERROR_NETNAME_DELETED, "pending read at reset: %lu", err);
	CHECK(!get_info(h, &info) && info.state == PVA_WIN_STATE_NEGOTIATING,
	      "not negotiating (state %u)", info.state);
	/* now a read, a write and a read to cancel: all wait */
	op_init(&wr);
	op_init(&rd2);
	op_read(h, &rd2, wbuf + 40000, 20000);
	op_read(h, &rd, rbuf, sizeof(rbuf));
	n = make_msg(wbuf, PVA_ECHO_ECHO, PVA_MSG_F_REQUEST, 9, 300, 5);
	op_write(h, &wr, wbuf, n);
	CHECK(rd.err == ERROR_IO_PENDING && wr.err == ERROR_IO_PENDING &&
	      rd2.err == ERROR_IO_PENDING, "I/O while negotiating did not pend (%lu %lu %lu)",
	      rd.err, wr.err, rd2.err);
	CHECK(op_wait(h, &wr, 100) == WAIT_TIMEOUT, "write done while negotiating");
	CHECK(CancelIoEx(h, &rd2.ov), "cancel a parked read");
	err = op_wait(h, &rd2, WAIT_MS);
	CHECK(err == ERROR_OPERATION_ABORTED, "cancelled parked read: %lu", err);
	err = op_wait(h, &wr, WAIT_MS);
	CHECK(!err && wr.got == n, "parked write after negotiation: %lu", err);
	err = op_wait(h, &rd, WAIT_MS);
	CHECK(!err && rd.got == n && ((struct pva_msg_hdr *)rbuf)->req_id == 9 &&
	      payload_ok(rbuf, 300, 5), "parked read after negotiation: %lu", err);
	CHECK(wait_running(h, gen, &info), "running after a slow negotiation");
	CHECK(!test_host(h, PVA_WIN_TEST_SLOW, 0, NULL), "fast host");
	op_free(&rd);
	op_free(&rd2);
	op_free(&wr);
	CHECK(echo_once(h, 0, 0, 10, 1), "echo after parked I/O");
}

/* Wait until the device is FAILED on a generation other than @not_gen. */
static int wait_failed(HANDLE h, __u32 not_gen, struct pva_win_info *info)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!get_info(h, info) && info->state == PVA_WIN_STATE_FAILED &&
		    info->generation != not_gen)
			return 1;
		Sleep(50);
	}
	return 0;
}

/*
 * A hostile host. Broken rings: the guest stops using them, reports
 * FAILED/PVA_GERR_RING, the pending I/O fails with ERROR_NETNAME_DELETED,
 * and a new generation brings it back. Broken headers and service tables:
 * the guest refuses them (FAILED/PVA_GERR_LAYOUT or _VERSION) and takes
 * the next good one.
 */
static void test_hostile(HANDLE h)
{
	static const char *const corrupt_names[] = {
		NULL, "prod past the ring", "reserved field set",
		"cons past prod", "record longer than published",
	};
	static const char *const bad_names[] = {
		NULL, "ring outside the shared memory", "upper-case name",
		"duplicate name", "id != index", "unaligned ring",
		"ring size not a power of two", "service 0 not control",
		"no services", "table inside the header", "flags set",
		"ring over the table", "wrong shm_size", "major 2 only",
		"unaligned data region", "name without NUL",
	};
	struct pva_win_test_host st;
	struct pva_win_info info;
	struct op rd;
	DWORD err, got;
	__u32 k, gen, want;

	for (k = PVA_WIN_CORRUPT_H2G_PROD; k <= PVA_WIN_CORRUPT_H2G_LEN; k++) {
		CHECK(!get_info(h, &info) && info.state == PVA_WIN_STATE_RUNNING,
		      "running before corruption %u", k);
		gen = info.generation;
		op_init(&rd);
		if (k != PVA_WIN_CORRUPT_G2H_CONS) {
			op_read(h, &rd, rbuf, sizeof(rbuf));
			CHECK(rd.err == ERROR_IO_PENDING, "read did not pend: %lu", rd.err);
		}
		CHECK(!test_host(h, PVA_WIN_TEST_CORRUPT, k, NULL), "corrupt %u", k);
		if (k == PVA_WIN_CORRUPT_G2H_CONS) {
			Sleep(100);	/* the host has done it; the guest finds out */
			op_write(h, &rd, wbuf, make_msg(wbuf, PVA_ECHO_ECHO, 0, 0, 8, 0));
		}
		err = op_wait(h, &rd, WAIT_MS);
		CHECK(err == ERROR_NETNAME_DELETED, "%s: I/O failed with %lu",
		      corrupt_names[k], err);
		if (err == WAIT_TIMEOUT) {
			CancelIoEx(h, &rd.ov);
			op_wait(h, &rd, INFINITE);
		}
		op_free(&rd);
		CHECK(wait_failed(h, 0, &info) && info.generation == gen,
		      "%s: device not FAILED (state %u)", corrupt_names[k], info.state);
		CHECK(!test_host(h, PVA_WIN_TEST_STATS, 0, &st) &&
		      st.guest_status == PVA_GUEST_FAILED &&
		      st.guest_error == PVA_GERR_RING,
		      "%s: guest area says status %u error %u", corrupt_names[k],
		      st.guest_status, st.guest_error);
		err = write_sync(h, wbuf, make_msg(wbuf, PVA_ECHO_ECHO, 0, 0, 8, 0));
		CHECK(err == ERROR_DEVICE_NOT_CONNECTED, "write while FAILED: %lu", err);
		CHECK(!test_host(h, PVA_WIN_TEST_RESET, 0, NULL), "reset host");
		CHECK(wait_running(h, gen, &info), "%s: running after the reset",
		      corrupt_names[k]);
		CHECK(echo_once(h, 0, 0, 20, k), "%s: echo after recovery",
		      corrupt_names[k]);
	}

	for (k = 1; k <= PVA_WIN_BAD_MAX; k++) {
		CHECK(!get_info(h, &info), "INFO");
		gen = info.generation;
		want = k == PVA_WIN_BAD_VERSION ? PVA_GERR_VERSION : PVA_GERR_LAYOUT;
		CHECK(!test_host(h, PVA_WIN_TEST_BAD_LAYOUT, k, NULL) &&
		      !test_host(h, PVA_WIN_TEST_RESET, 0, NULL), "bad layout %u", k);
		CHECK(wait_failed(h, gen, &info), "%s: not refused (state %u)",
		      bad_names[k], info.state);
		CHECK(!test_host(h, PVA_WIN_TEST_STATS, 0, &st) &&
		      st.guest_status == PVA_GUEST_FAILED && st.guest_error == want,
		      "%s: guest area says status %u error %u", bad_names[k],
		      st.guest_status, st.guest_error);
		/* the handle's channel died with the old generation: once */
		err = write_sync(h, wbuf, make_msg(wbuf, PVA_ECHO_ECHO, 0, 0, 8, 0));
		CHECK(err == ERROR_NETNAME_DELETED, "%s: first write: %lu",
		      bad_names[k], err);
		err = read_wait(h, rbuf, sizeof(rbuf), &got, 1000);
		CHECK(err == ERROR_DEVICE_NOT_CONNECTED, "%s: then a read: %lu",
		      bad_names[k], err);
		gen = info.generation;
		CHECK(!test_host(h, PVA_WIN_TEST_BAD_LAYOUT, PVA_WIN_BAD_NONE, NULL) &&
		      !test_host(h, PVA_WIN_TEST_RESET, 0, NULL), "good layout");
		CHECK(wait_running(h, gen, &info), "%s: running after a good layout",
		      bad_names[k]);
		CHECK(echo_once(h, 0, 0, 30, k), "%s: echo after recovery",
		      bad_names[k]);
	}
	err = test_host(h, PVA_WIN_TEST_CORRUPT, 99, NULL);
	CHECK(err == ERROR_INVALID_PARAMETER, "unknown corruption: %lu", err);
}

/* Closing a handle unbinds it, pending I/O and all. */
static void test_close(HANDLE h, HANDLE h2)
{
	struct op rd;
	DWORD err = 0;
	int i;

	op_init(&rd);
	op_read(h, &rd, rbuf, sizeof(rbuf));
	CHECK(rd.err == ERROR_IO_PENDING, "read did not pend: %lu", rd.err);
	CloseHandle(h);
	err = op_wait(h, &rd, WAIT_MS);
	CHECK(err == ERROR_OPERATION_ABORTED, "read pending at close: %lu", err);
	op_free(&rd);
	for (i = 0; i < 40; i++) {
		err = bind_name(h2, "echo");
		if (err != ERROR_SHARING_VIOLATION)
			break;
		Sleep(50);
	}
	CHECK(err == 0, "bind echo after the first handle closed: %lu", err);
	CHECK(echo_once(h2, 0, 0, 12, 3), "echo on the second handle");
}

int main(int argc, char **argv)
{
	HANDLE h = INVALID_HANDLE_VALUE, h2, h3;
	int i;

	if (argc > 1)
		label = argv[1];
	setvbuf(stdout, NULL, _IONBF, 0);
	/* the driver creates the device during sc start: give it time */
	for (i = 0; i < 100; i++) {
		h = open_dev();
		if (h != INVALID_HANDLE_VALUE)
			break;
		Sleep(100);
	}
	CHECK(h != INVALID_HANDLE_VALUE, "open \\\\.\\PvaDevice: %lu", GetLastError());
	if (h == INVALID_HANDLE_VALUE)
		goto out;
	h2 = open_dev();
	CHECK(h2 != INVALID_HANDLE_VALUE, "second open: %lu", GetLastError());
	h3 = CreateFileW(L"\\\\.\\PvaDevice\\sub", GENERIC_READ | GENERIC_WRITE,
			 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
	CHECK(h3 == INVALID_HANDLE_VALUE, "opened a name below the device");
	if (h3 != INVALID_HANDLE_VALUE)
		CloseHandle(h3);

	printf("%s: info and bind\n", label);
	test_info_and_bind(h, h2);
	printf("%s: messages\n", label);
	test_messages(h);
	printf("%s: pending reads\n", label);
	test_pending(h);
	printf("%s: cancellation\n", label);
	test_cancel(h);
	printf("%s: full ring\n", label);
	test_full_ring(h);
	printf("%s: stress\n", label);
	test_stress(h);
	printf("%s: reset\n", label);
	test_reset(h);
	printf("%s: parked I/O\n", label);
	test_parked(h);
	printf("%s: hostile host\n", label);
	test_hostile(h);
	printf("%s: close\n", label);
	test_close(h, h2);
	CloseHandle(h2);
out:
	printf("ioctl: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
