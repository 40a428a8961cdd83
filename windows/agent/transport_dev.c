// SPDX-License-Identifier: MIT
/*
 * The device back end: the pva driver's \\.\PvaDevice, bound to the
 * "agent" channel (IOCTL_PVA_BIND), one message per ReadFile and per
 * WriteFile, overlapped so the agent's one thread never blocks on it. A
 * read and a write are in flight at most. After a device reset one
 * read or write fails with the driver's reset error; the handle stays
 * bound and the agent says HELLO again.
 *
 * The driver's interface is windows/include/pva_win.h (the driver's
 * engineer owns it); without it this back end is built as a stub that
 * says so, and only --host works.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "transport.h"

#if __has_include("pva_win.h")
#include "pva_win.h"
#define HAVE_PVA_WIN 1
#else
#define HAVE_PVA_WIN 0
#endif

#define HDR		sizeof(struct pva_msg_hdr)

#if HAVE_PVA_WIN

/* The error after which the handle is still bound but the host forgot
 * everything (pva_win.h: STATUS_CONNECTION_RESET).
 */
static bool is_reset(DWORD err)
{
	return err == ERROR_NETNAME_DELETED;
}

struct dev {
	struct transport t;
	wchar_t path[MAX_PATH];
	char channel[PVA_WIN_NAME_LEN];
	HANDLE h;
	OVERLAPPED rov, wov;
	uint8_t *rbuf, *wbuf;
	size_t cap;		/* HDR + max_payload, both buffers */
	uint32_t max_payload;
	bool reading, writing, want_writable;
	DWORD read_err;		/* a ReadFile that failed at once */
};

static struct dev *dev_of(struct transport *t)
{
	return (struct dev *)t;
}

/* An IOCTL on the overlapped handle, waited for: binding is quick. */
static DWORD ioctl_sync(HANDLE h, DWORD code, void *in, DWORD in_len,
			void *out, DWORD out_len, DWORD *got)
{
	OVERLAPPED ov = { .hEvent = CreateEventW(NULL, TRUE, FALSE, NULL) };
	DWORD n = 0, err = ERROR_SUCCESS;

	if (!ov.hEvent)
		return GetLastError();
	if (!DeviceIoControl(h, code, in, in_len, out, out_len, &n, &ov) &&
	    (err = GetLastError()) == ERROR_IO_PENDING)
		err = GetOverlappedResult(h, &ov, &n, TRUE) ? ERROR_SUCCESS :
							      GetLastError();
	CloseHandle(ov.hEvent);
	if (got)
		*got = n;
	return err;
}

static void start_read(struct dev *d)
{
	DWORD err;

	ResetEvent(d->rov.hEvent);
	d->read_err = 0;
	/* done at once or later: the event says so either way */
	if (!ReadFile(d->h, d->rbuf, (DWORD)d->cap, NULL, &d->rov) &&
	    (err = GetLastError()) != ERROR_IO_PENDING) {
		/* no completion for a request that failed at once: keep
		 * its error for read_done(), from the main loop
		 */
		d->read_err = err;
		SetEvent(d->rov.hEvent);
	}
	d->reading = true;
}

static void dev_close(struct transport *t)
{
	struct dev *d = dev_of(t);
	DWORD n;

	if (d->h == INVALID_HANDLE_VALUE)
		return;
	/* the buffers and OVERLAPPEDs belong to the driver until the
	 * requests are done
	 */
	CancelIoEx(d->h, NULL);
	if (d->reading && !d->read_err)
		GetOverlappedResult(d->h, &d->rov, &n, TRUE);
	if (d->writing)
		GetOverlappedResult(d->h, &d->wov, &n, TRUE);
	CloseHandle(d->h);
	d->h = INVALID_HANDLE_VALUE;
	d->reading = d->writing = d->want_writable = false;
}

/* Buffers for the largest message of the bound channel. */
static bool size_buffers(struct dev *d, const struct pva_win_info *info)
{
	size_t cap;

	d->max_payload = info->max_payload && info->max_payload <= PVA_MSG_MAX ?
			 info->max_payload : PVA_MSG_MAX;
	cap = HDR + d->max_payload;
	if (cap > d->cap) {
		uint8_t *r = realloc(d->rbuf, cap), *w;

		if (r)
			d->rbuf = r;
		w = realloc(d->wbuf, cap);
		if (w)
			d->wbuf = w;
		if (!r || !w)
			return false;
		d->cap = cap;
	}
	return true;
}

static DWORD dev_open(struct transport *t)
{
	struct dev *d = dev_of(t);
	struct pva_win_bind bind = { .flags = 0 };
	struct pva_win_info info;
	DWORD err, got;

	if (d->h != INVALID_HANDLE_VALUE)
		return ERROR_SUCCESS;
	d->h = CreateFileW(d->path, GENERIC_READ | GENERIC_WRITE, 0, NULL,
			   OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
	if (d->h == INVALID_HANDLE_VALUE)
		return GetLastError();
	snprintf(bind.name, sizeof(bind.name), "%s", d->channel);
	err = ioctl_sync(d->h, IOCTL_PVA_BIND, &bind, sizeof(bind), NULL, 0,
			 NULL);
	/* the device is there, the channel is not: tell them apart */
	if (err == ERROR_FILE_NOT_FOUND)
		err = ERROR_NOT_FOUND;
	if (!err) {
		memset(&info, 0, sizeof(info));
		err = ioctl_sync(d->h, IOCTL_PVA_INFO, NULL, 0, &info,
				 sizeof(info), &got);
	}
	if (err) {
		CloseHandle(d->h);
		d->h = INVALID_HANDLE_VALUE;
		return err;
	}
	if (!size_buffers(d, &info)) {
		CloseHandle(d->h);
		d->h = INVALID_HANDLE_VALUE;
		return ERROR_NOT_ENOUGH_MEMORY;
	}
	start_read(d);
	return ERROR_SUCCESS;
}

static bool dev_is_open(const struct transport *t)
{
	return ((const struct dev *)t)->h != INVALID_HANDLE_VALUE;
}

static unsigned int dev_handles(struct transport *t, HANDLE *out,
				unsigned int max)
{
	struct dev *d = dev_of(t);
	unsigned int n = 0;

	if (d->h == INVALID_HANDLE_VALUE)
		return 0;
	if (d->reading && n < max)
		out[n++] = d->rov.hEvent;
	if (d->writing && n < max)
		out[n++] = d->wov.hEvent;
	return n;
}

static void lost(struct dev *d, DWORD err)
{
	dev_close(&d->t);
	d->t.ev->closed(d->t.ctx, err == ERROR_DEVICE_NOT_CONNECTED ||
			err == ERROR_FILE_NOT_FOUND ?
			"the pva device went away" : win_strerror(err));
}

static void read_done(struct dev *d)
{
	struct pva_msg_hdr h;
	DWORD n;

	d->reading = false;
	if (d->read_err || !GetOverlappedResult(d->h, &d->rov, &n, FALSE)) {
		DWORD err = d->read_err ? d->read_err : GetLastError();

		d->read_err = 0;
		if (err == ERROR_IO_INCOMPLETE) {
			d->reading = true;
			return;
		}
		if (is_reset(err)) {
			start_read(d);
			d->t.ev->reset(d->t.ctx);
			return;
		}
		if (err == ERROR_INSUFFICIENT_BUFFER) {
			/* the channel's maximum grew (a new host): the
			 * message waits for a larger buffer
			 */
			struct pva_win_info info = { 0 };

			if (!ioctl_sync(d->h, IOCTL_PVA_INFO, NULL, 0, &info,
					sizeof(info), &n) &&
			    info.max_payload > d->max_payload &&
			    size_buffers(d, &info)) {
				start_read(d);
				return;
			}
		}
		lost(d, err);
		return;
	}
	if (n < HDR) {
		log_warn("the pva driver returned a %lu-byte message", n);
	} else {
		memcpy(&h, d->rbuf, HDR);
		if (pva_le32(h.len) != n - HDR)
			log_warn("the pva driver returned a message of %lu bytes whose header says %u",
				 n, pva_le32(h.len));
		else
			d->t.ev->message(d->t.ctx, &h, d->rbuf + HDR, (uint32_t)(n - HDR));
	}
	/* the callback may have closed us */
	if (d->h != INVALID_HANDLE_VALUE && !d->reading)
		start_read(d);
}

static void write_done(struct dev *d)
{
	DWORD n;

	d->writing = false;
	if (!GetOverlappedResult(d->h, &d->wov, &n, FALSE)) {
		DWORD err = GetLastError();

		if (err == ERROR_IO_INCOMPLETE) {
			d->writing = true;
			return;
		}
		if (is_reset(err)) {
			d->want_writable = false;
			d->t.ev->reset(d->t.ctx);
			return;
		}
		lost(d, err);
		return;
	}
	if (d->want_writable) {
		d->want_writable = false;
		d->t.ev->writable(d->t.ctx);
	}
}

static void dev_signalled(struct transport *t, HANDLE h)
{
	struct dev *d = dev_of(t);

	if (d->h == INVALID_HANDLE_VALUE)
		return;
	if (h == d->rov.hEvent && d->reading)
		read_done(d);
	else if (h == d->wov.hEvent && d->writing)
		write_done(d);
}

static enum tr_result dev_send(struct transport *t, const void *msg,
			       size_t len)
{
	struct dev *d = dev_of(t);
	DWORD err;

	if (d->h == INVALID_HANDLE_VALUE)
		return TR_CLOSED;
	if (d->writing) {
		d->want_writable = true;
		return TR_AGAIN;
	}
	if (len > d->cap)
		return TR_CLOSED;	/* the channel checks the size first */
	memcpy(d->wbuf, msg, len);
	ResetEvent(d->wov.hEvent);
	if (!WriteFile(d->h, d->wbuf, (DWORD)len, NULL, &d->wov) &&
	    (err = GetLastError()) != ERROR_IO_PENDING) {
		if (is_reset(err))
			return TR_RESET;
		return TR_CLOSED;
	}
	d->writing = true;
	return TR_OK;
}

static size_t dev_queued(const struct transport *t)
{
	return ((const struct dev *)t)->writing ? 1 : 0;
}

static uint32_t dev_max_payload(const struct transport *t)
{
	return ((const struct dev *)t)->max_payload;
}

static void dev_destroy(struct transport *t)
{
	struct dev *d = dev_of(t);

	dev_close(t);
	CloseHandle(d->rov.hEvent);
	CloseHandle(d->wov.hEvent);
	free(d->rbuf);
	free(d->wbuf);
	free(d);
}

static const struct transport_ops dev_ops = {
	.open = dev_open,
	.close = dev_close,
	.is_open = dev_is_open,
	.handles = dev_handles,
	.signalled = dev_signalled,
	.send = dev_send,
	.queued = dev_queued,
	.max_payload = dev_max_payload,
	.destroy = dev_destroy,
};

struct transport *transport_dev_new(const wchar_t *path, const char *channel)
{
	struct dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	snprintf(d->channel, sizeof(d->channel), "%s", channel);
	_snwprintf(d->path, MAX_PATH, L"%ls", path ? path : PVA_WIN_DEVICE_PATH);
	d->path[MAX_PATH - 1] = 0;
	d->h = INVALID_HANDLE_VALUE;
	d->max_payload = PVA_MSG_MAX;
	d->rov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
	d->wov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (!d->rov.hEvent || !d->wov.hEvent) {
		if (d->rov.hEvent)
			CloseHandle(d->rov.hEvent);
		if (d->wov.hEvent)
			CloseHandle(d->wov.hEvent);
		free(d);
		return NULL;
	}
	d->t.ops = &dev_ops;
	snprintf(d->t.name, sizeof(d->t.name), "%s (channel %s)", wstr(d->path),
		 d->channel);
	return &d->t;
}

#else /* no pva_win.h */

static DWORD stub_open(struct transport *t)
{
	(void)t;
	return ERROR_NOT_SUPPORTED;
}

static void stub_close(struct transport *t)
{
	(void)t;
}

static bool stub_is_open(const struct transport *t)
{
	(void)t;
	return false;
}

static unsigned int stub_handles(struct transport *t, HANDLE *out,
				 unsigned int max)
{
	(void)t;
	(void)out;
	(void)max;
	return 0;
}

static void stub_signalled(struct transport *t, HANDLE h)
{
	(void)t;
	(void)h;
}

static enum tr_result stub_send(struct transport *t, const void *msg,
				size_t len)
{
	(void)t;
	(void)msg;
	(void)len;
	return TR_CLOSED;
}

static size_t stub_queued(const struct transport *t)
{
	(void)t;
	return 0;
}

static uint32_t stub_max_payload(const struct transport *t)
{
	(void)t;
	return PVA_MSG_MAX;
}

static void stub_destroy(struct transport *t)
{
	free(t);
}

static const struct transport_ops stub_ops = {
	.open = stub_open,
	.close = stub_close,
	.is_open = stub_is_open,
	.handles = stub_handles,
	.signalled = stub_signalled,
	.send = stub_send,
	.queued = stub_queued,
	.max_payload = stub_max_payload,
	.destroy = stub_destroy,
};

struct transport *transport_dev_new(const wchar_t *path, const char *channel)
{
	struct transport *t = calloc(1, sizeof(*t));

	(void)path;
	(void)channel;
	if (!t)
		return NULL;
	log_warn("this pva-agent was built without the driver's interface (windows/include/pva_win.h): only --host works");
	t->ops = &stub_ops;
	snprintf(t->name, sizeof(t->name), "%s", "the pva device (not built in)");
	return t;
}

#endif
