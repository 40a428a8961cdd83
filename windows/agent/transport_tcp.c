// SPDX-License-Identifier: MIT
/*
 * The TCP back end: pva-host --agent-socket tcp:HOST:PORT. A stream, so
 * messages are cut out of it by their headers (the 24-byte pva_msg_hdr
 * and its len); a header that cannot be right (len above the protocol's
 * maximum) means the stream is lost, and the connection is closed.
 * Non-blocking throughout (WSAEventSelect): a refused connection takes
 * Windows two seconds to report, which must not stall the clipboard.
 */
#include <winsock2.h>
#include <ws2tcpip.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "transport.h"

#define HDR		sizeof(struct pva_msg_hdr)
#define TX_HIGH		(1u << 20)	/* queued bytes before TR_AGAIN */

struct tcp {
	struct transport t;
	wchar_t host[256], port[16];
	SOCKET s;
	WSAEVENT ev;
	bool connected;
	uint8_t *rx;		/* one message: HDR + PVA_MSG_MAX */
	size_t rx_len;
	uint8_t *tx;
	size_t tx_len, tx_cap;
	bool want_writable;
};

static struct tcp *tcp_of(struct transport *t)
{
	return (struct tcp *)t;
}

static void tcp_close(struct transport *t)
{
	struct tcp *c = tcp_of(t);

	if (c->s != INVALID_SOCKET)
		closesocket(c->s);
	c->s = INVALID_SOCKET;
	c->connected = false;
	c->rx_len = c->tx_len = 0;
	c->want_writable = false;
	WSAResetEvent(c->ev);
}

static DWORD tcp_open(struct transport *t)
{
	struct tcp *c = tcp_of(t);
	ADDRINFOW hints = { .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP };
	ADDRINFOW *ai;
	BOOL nodelay = TRUE;
	int err;

	if (c->s != INVALID_SOCKET)
		return ERROR_SUCCESS;
	err = GetAddrInfoW(c->host, c->port, &hints, &ai);
	if (err)
		return (DWORD)err;
	c->s = socket(ai->ai_family, SOCK_STREAM, IPPROTO_TCP);
	if (c->s == INVALID_SOCKET) {
		err = WSAGetLastError();
		FreeAddrInfoW(ai);
		return (DWORD)err;
	}
	/* small messages (GRAB, TIME_QUERY) go out at once */
	setsockopt(c->s, IPPROTO_TCP, TCP_NODELAY, (const char *)&nodelay,
		   sizeof(nodelay));
	WSAEventSelect(c->s, c->ev, FD_CONNECT | FD_READ | FD_WRITE | FD_CLOSE);
	err = connect(c->s, ai->ai_addr, (int)ai->ai_addrlen) ?
	      WSAGetLastError() : 0;
	FreeAddrInfoW(ai);
	if (err && err != WSAEWOULDBLOCK) {
		tcp_close(t);
		return (DWORD)err;
	}
	return ERROR_IO_PENDING;	/* FD_CONNECT tells */
}

static bool tcp_is_open(const struct transport *t)
{
	return ((const struct tcp *)t)->connected;
}

static unsigned int tcp_handles(struct transport *t, HANDLE *out,
				unsigned int max)
{
	struct tcp *c = tcp_of(t);

	if (c->s == INVALID_SOCKET || !max)
		return 0;
	out[0] = c->ev;
	return 1;
}

/* Send what is queued; false when the connection broke. */
static bool flush(struct tcp *c)
{
	size_t off = 0;

	while (off < c->tx_len) {
		size_t n = c->tx_len - off;
		int w = send(c->s, (const char *)c->tx + off,
			     n > INT32_MAX ? INT32_MAX : (int)n, 0);

		if (w == SOCKET_ERROR) {
			if (WSAGetLastError() == WSAEWOULDBLOCK)
				break;	/* FD_WRITE comes when there is room */
			return false;
		}
		off += (size_t)w;
	}
	memmove(c->tx, c->tx + off, c->tx_len - off);
	c->tx_len -= off;
	return true;
}

static enum tr_result tcp_send(struct transport *t, const void *msg,
			       size_t len)
{
	struct tcp *c = tcp_of(t);

	if (!c->connected)
		return TR_CLOSED;
	if (c->tx_len >= TX_HIGH) {
		c->want_writable = true;
		return TR_AGAIN;
	}
	if (c->tx_len + len > c->tx_cap) {
		size_t cap = c->tx_cap ? c->tx_cap : 65536;
		uint8_t *nb;

		while (cap < c->tx_len + len)
			cap *= 2;
		nb = realloc(c->tx, cap);
		if (!nb)
			return TR_AGAIN;
		c->tx = nb;
		c->tx_cap = cap;
	}
	memcpy(c->tx + c->tx_len, msg, len);
	c->tx_len += len;
	return flush(c) ? TR_OK : TR_CLOSED;
}

static size_t tcp_queued(const struct transport *t)
{
	return ((const struct tcp *)t)->tx_len;
}

static uint32_t tcp_max_payload(const struct transport *t)
{
	(void)t;
	return PVA_MSG_MAX;
}

static void lost(struct tcp *c, const char *why)
{
	tcp_close(&c->t);
	c->t.ev->closed(c->t.ctx, why);
}

/* Messages from the stream until it has no more for now. */
static void receive(struct tcp *c)
{
	for (int i = 0; i < 256 && c->connected; i++) {
		struct pva_msg_hdr h;
		size_t need;
		int n;

		need = c->rx_len < HDR ? HDR - c->rx_len : 0;
		if (!need) {
			memcpy(&h, c->rx, HDR);
			need = HDR + pva_le32(h.len) - c->rx_len;
		}
		n = recv(c->s, (char *)c->rx + c->rx_len, (int)need, 0);
		if (n == SOCKET_ERROR && WSAGetLastError() == WSAEWOULDBLOCK)
			return;
		if (n <= 0) {
			lost(c, n ? win_strerror((DWORD)WSAGetLastError()) :
			     "pva-host closed the connection");
			return;
		}
		c->rx_len += (size_t)n;
		if (c->rx_len < HDR)
			continue;
		memcpy(&h, c->rx, HDR);
		if (pva_le32(h.len) > PVA_MSG_MAX) {
			lost(c, "the host sent a message longer than the protocol allows");
			return;
		}
		if (c->rx_len < HDR + pva_le32(h.len))
			continue;
		c->rx_len = 0;
		c->t.ev->message(c->t.ctx, &h, c->rx + HDR, pva_le32(h.len));
	}
	/* more may be there: recv re-enables FD_READ, the event fires again */
}

static void tcp_signalled(struct transport *t, HANDLE h)
{
	struct tcp *c = tcp_of(t);
	WSANETWORKEVENTS ne;

	(void)h;
	if (c->s == INVALID_SOCKET ||
	    WSAEnumNetworkEvents(c->s, c->ev, &ne) == SOCKET_ERROR)
		return;
	if (ne.lNetworkEvents & FD_CONNECT) {
		if (ne.iErrorCode[FD_CONNECT_BIT]) {
			lost(c, win_strerror((DWORD)ne.iErrorCode[FD_CONNECT_BIT]));
			return;
		}
		c->connected = true;
		c->t.ev->opened(c->t.ctx);
		if (!c->connected)
			return;
	}
	if (ne.lNetworkEvents & FD_WRITE) {
		if (!flush(c)) {
			lost(c, win_strerror((DWORD)WSAGetLastError()));
			return;
		}
		if (c->want_writable && c->tx_len < TX_HIGH) {
			c->want_writable = false;
			c->t.ev->writable(c->t.ctx);
		}
	}
	if (ne.lNetworkEvents & (FD_READ | FD_CLOSE))
		receive(c);
	/* FD_CLOSE with nothing more to read: receive() saw the end */
	if (c->connected && (ne.lNetworkEvents & FD_CLOSE))
		receive(c);
	/* the queue drained below the mark by a flush in receive()'s
	 * callbacks: FD_WRITE will not come again for it
	 */
	if (c->connected && c->want_writable && c->tx_len < TX_HIGH) {
		c->want_writable = false;
		c->t.ev->writable(c->t.ctx);
	}
}

static void tcp_destroy(struct transport *t)
{
	struct tcp *c = tcp_of(t);

	tcp_close(t);
	WSACloseEvent(c->ev);
	free(c->rx);
	free(c->tx);
	free(c);
	WSACleanup();
}

static const struct transport_ops tcp_ops = {
	.open = tcp_open,
	.close = tcp_close,
	.is_open = tcp_is_open,
	.handles = tcp_handles,
	.signalled = tcp_signalled,
	.send = tcp_send,
	.queued = tcp_queued,
	.max_payload = tcp_max_payload,
	.destroy = tcp_destroy,
};

struct transport *transport_tcp_new(const wchar_t *addr)
{
	const wchar_t *colon;
	struct tcp *c;
	WSADATA wsa;
	size_t hl;

	colon = wcsncmp(addr, L"tcp:", 4) ? NULL : wcsrchr(addr + 4, L':');
	if (!colon || colon == addr + 4 || !colon[1]) {
		log_err("--host %s: want tcp:HOST:PORT", wstr(addr));
		return NULL;
	}
	hl = (size_t)(colon - addr - 4);
	if (hl >= 256 || wcslen(colon + 1) >= 16) {
		log_err("--host %s: too long", wstr(addr));
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (WSAStartup(MAKEWORD(2, 2), &wsa)) {
		free(c);
		return NULL;
	}
	wmemcpy(c->host, addr + 4, hl);
	c->host[hl] = 0;
	wcscpy(c->port, colon + 1);
	/* [::1]:PORT: the brackets are not part of the name */
	if (c->host[0] == L'[' && hl > 2 && c->host[hl - 1] == L']') {
		wmemmove(c->host, c->host + 1, hl - 2);
		c->host[hl - 2] = 0;
	}
	c->s = INVALID_SOCKET;
	c->ev = WSACreateEvent();
	c->rx = malloc(HDR + PVA_MSG_MAX);
	if (c->ev == WSA_INVALID_EVENT || !c->rx) {
		free(c->rx);
		free(c);
		WSACleanup();
		return NULL;
	}
	c->t.ops = &tcp_ops;
	snprintf(c->t.name, sizeof(c->t.name), "%s", wstr(addr));
	return &c->t;
}
