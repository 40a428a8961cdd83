/* SPDX-License-Identifier: MIT */
/*
 * How pva-agent reaches the host: the "agent" channel of the pva
 * driver (\\.\PvaDevice, one message per ReadFile/WriteFile), or a TCP
 * connection to pva-host's --agent-socket (a byte stream of the same
 * messages, for tests under wine where no device exists). The channel
 * (channel.c) sees only this interface.
 *
 * Everything runs on the agent's one thread: the back end hands out
 * handles for the main loop to wait on and does its work when one is
 * signalled, reporting through the callbacks. A back end never calls
 * `closed` from inside send(): send() returns TR_CLOSED instead, so the
 * channel is never closed under its own feet.
 */
#ifndef PVA_WIN_AGENT_TRANSPORT_H
#define PVA_WIN_AGENT_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <windows.h>

#include "pva_protocol.h"

enum tr_result {
	TR_OK,		/* the message is taken */
	TR_AGAIN,	/* no room now: `writable` comes when there is */
	TR_RESET,	/* the device reset: say HELLO again */
	TR_CLOSED,	/* the connection is gone */
};

struct transport_events {
	/* open() said ERROR_IO_PENDING, and now it is open */
	void (*opened)(void *ctx);
	/* one message, its header's len checked against its size */
	void (*message)(void *ctx, const struct pva_msg_hdr *h,
			const uint8_t *payload, uint32_t len);
	void (*writable)(void *ctx);
	/* the device was reset (host restart, renegotiation): the channel
	 * is still bound, but the host forgot everything
	 */
	void (*reset)(void *ctx);
	/* lost: why, for the log; open() again later */
	void (*closed)(void *ctx, const char *why);
};

struct transport;

struct transport_ops {
	/* ERROR_SUCCESS: open now; ERROR_IO_PENDING: `opened` follows (or
	 * `closed`); else the Win32 error why not.
	 */
	DWORD (*open)(struct transport *t);
	void (*close)(struct transport *t);
	bool (*is_open)(const struct transport *t);
	/* the handles to wait on now (at most @max) */
	unsigned int (*handles)(struct transport *t, HANDLE *out,
				unsigned int max);
	void (*signalled)(struct transport *t, HANDLE h);
	/* one whole message: header and payload */
	enum tr_result (*send)(struct transport *t, const void *msg,
			       size_t len);
	/* bytes accepted but not yet handed to the host */
	size_t (*queued)(const struct transport *t);
	uint32_t (*max_payload)(const struct transport *t);
	void (*destroy)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	const struct transport_events *ev;
	void *ctx;
	char name[300];		/* for the log: "tcp:127.0.0.1:4000" */
};

/* "tcp:HOST:PORT"; NULL (after a message) when it is not that. */
struct transport *transport_tcp_new(const wchar_t *addr);
/* The pva driver's device (NULL: \\.\PvaDevice), bound to @channel
 * ("agent"; another name only for tests against the driver's loopback
 * build). open() fails with ERROR_FILE_NOT_FOUND when there is no
 * device, ERROR_NOT_FOUND when the host offers no such channel,
 * ERROR_SHARING_VIOLATION when another handle has it bound and
 * ERROR_DEVICE_NOT_CONNECTED while the device is not running.
 */
struct transport *transport_dev_new(const wchar_t *path, const char *channel);

#endif
