// SPDX-License-Identifier: MIT
/*
 * The agent channel over a transport (protocol/PROTOCOL.md 5, 6.8):
 * HELLO after every connection and device reset, the checks of every
 * message header, the host's messages to the parts that handle them, and
 * the send queue: whole messages, and clipboard contents cut into
 * CLIP_DATA chunks only as the transport takes them, so a 64 MiB paste
 * does not sit in memory twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define HELLO_ID	1
#define HDR		sizeof(struct pva_msg_hdr)

struct out {
	struct out *next;
	uint8_t *buf;		/* a message (header and payload), or a content */
	size_t len, off;
	bool content;
	uint32_t transfer;
};

/* A host message kept while channel_wait() runs. */
struct held {
	struct held *next;
	struct pva_msg_hdr h;
	uint32_t len;
	unsigned int conn;
	uint8_t payload[];
};

struct channel {
	struct agent *a;
	struct transport *t;
	bool enabled, opening, connected, up;
	uint64_t features, host_clip_max;
	unsigned int conn;	/* changes whenever the host forgets us */
	char last_why[256];	/* the last reason we could not connect */
	struct out *out, **out_tail;
	uint8_t *pkt;		/* scratch for one chunk */
	int nested;
	struct held *held, **held_tail;
};

static void pump(struct channel *ch);

/* ---- the queue ---- */

static void out_clear(struct channel *ch)
{
	while (ch->out) {
		struct out *o = ch->out;

		ch->out = o->next;
		free(o->buf);
		free(o);
	}
	ch->out_tail = &ch->out;
}

static void held_clear(struct channel *ch)
{
	while (ch->held) {
		struct held *m = ch->held;

		ch->held = m->next;
		free(m);
	}
	ch->held_tail = &ch->held;
}

static bool queue_msg(struct channel *ch, uint16_t type, uint16_t flags,
		      uint32_t req_id, uint32_t status, const void *p,
		      uint32_t len)
{
	struct pva_msg_hdr h = {
		.len = pva_cpu32(len), .type = pva_cpu16(type),
		.flags = pva_cpu16(flags), .req_id = pva_cpu32(req_id),
		.status = pva_cpu32(status),
	};
	struct out *o = calloc(1, sizeof(*o));

	if (o)
		o->buf = malloc(HDR + len);
	if (!o || !o->buf) {
		free(o);
		log_err("out of memory: a message to the host is lost");
		return false;
	}
	memcpy(o->buf, &h, HDR);
	if (len)
		memcpy(o->buf + HDR, p, len);
	o->len = HDR + len;
	*ch->out_tail = o;
	ch->out_tail = &o->next;
	pump(ch);
	return true;
}

/* ---- connection state ---- */

static void host_down(struct channel *ch)
{
	ch->conn++;
	held_clear(ch);
	if (!ch->up)
		return;
	ch->up = false;
	clip_host_down(ch->a->clip);
}

static void send_hello(struct channel *ch)
{
	struct agent *a = ch->a;
	struct pva_agent_hello h = {
		.version = pva_cpu32(PVA_AGENT_VERSION),
		.features = pva_cpu64(PVA_AGENT_F_INFO |
				      (a->opt.clipboard ? PVA_AGENT_F_CLIPBOARD : 0) |
				      (a->opt.display ? PVA_AGENT_F_DISPLAY : 0) |
				      (a->opt.control ? PVA_AGENT_F_CONTROL : 0)),
		.clip_max = pva_cpu64(a->opt.clip_max),
	};

	out_clear(ch);
	queue_msg(ch, PVA_AGENT_HELLO, PVA_MSG_F_REQUEST, HELLO_ID, 0, &h,
		  sizeof(h));
}

static void on_opened(void *ctx)
{
	struct channel *ch = ctx;

	ch->opening = false;
	ch->connected = true;
	ch->last_why[0] = 0;
	log_info("connected to %s: saying HELLO", ch->t->name);
	send_hello(ch);
}

static void on_reset(void *ctx)
{
	struct channel *ch = ctx;

	log_info("the pva device was reset: saying HELLO again");
	host_down(ch);
	send_hello(ch);
}

static void on_closed(void *ctx, const char *why)
{
	struct channel *ch = ctx;

	if (ch->connected)
		log_warn("lost the host (%s): %s; trying again every %d s",
			 ch->t->name, why, TICK_MS / 1000);
	else if (strcmp(why, ch->last_why))
		log_info("waiting for %s: %s", ch->t->name, why);
	snprintf(ch->last_why, sizeof(ch->last_why), "%s", why);
	ch->opening = ch->connected = false;
	out_clear(ch);
	host_down(ch);
}

static void close_transport(struct channel *ch, const char *why)
{
	ch->t->ops->close(ch->t);
	on_closed(ch, why);
}

/* Send from the head of the queue until the transport is full. */
static void pump(struct channel *ch)
{
	while (ch->out && ch->connected) {
		struct out *o = ch->out;
		const uint8_t *msg = o->buf;
		size_t n = o->len, chunk = 0;
		enum tr_result r;

		if (o->content) {
			uint32_t maxp = ch->t->ops->max_payload(ch->t);
			struct pva_msg_hdr h = { .type = pva_cpu16(PVA_AGENT_CLIP_DATA) };
			struct pva_clip_data d;
			bool last;

			chunk = o->len - o->off;
			if (chunk > maxp - sizeof(d))
				chunk = maxp - sizeof(d);
			last = o->off + chunk == o->len;
			clip_data_header(&d, o->transfer, PVA_S_OK,
					 last ? PVA_CLIP_DATA_LAST : 0, o->off,
					 o->len);
			h.len = pva_cpu32((uint32_t)(sizeof(d) + chunk));
			memcpy(ch->pkt, &h, HDR);
			memcpy(ch->pkt + HDR, &d, sizeof(d));
			if (chunk)
				memcpy(ch->pkt + HDR + sizeof(d), o->buf + o->off,
				       chunk);
			msg = ch->pkt;
			n = HDR + sizeof(d) + chunk;
		}
		r = ch->t->ops->send(ch->t, msg, n);
		if (r == TR_AGAIN)
			return;		/* `writable` calls us again */
		if (r == TR_RESET) {
			on_reset(ch);	/* the queue is new: o is gone */
			return;
		}
		if (r == TR_CLOSED) {
			close_transport(ch, "the connection broke while sending");
			return;
		}
		if (o->content) {
			o->off += chunk;
			if (o->off < o->len)
				continue;
		}
		ch->out = o->next;
		if (!ch->out)
			ch->out_tail = &ch->out;
		free(o->buf);
		free(o);
	}
}

static void on_writable(void *ctx)
{
	pump(ctx);
}

/* ---- from the host ---- */

static void hello_answer(struct channel *ch, const struct pva_msg_hdr *h,
			 const uint8_t *p, uint32_t len)
{
	struct agent *a = ch->a;
	struct pva_agent_hello ans;
	const char *why;

	if (pva_le32(h->status) != PVA_S_OK) {
		log_err("the host refused HELLO (status %u)", pva_le32(h->status));
		return;
	}
	if (agent_hello_parse(p, len, &ans, &why)) {
		log_err("the host's answer to HELLO is malformed: %s", why);
		return;
	}
	if (ch->up)
		host_down(ch);	/* a second answer: start over anyway */
	ch->features = ans.features & PVA_AGENT_F_KNOWN;
	if (!a->opt.clipboard)
		ch->features &= ~PVA_AGENT_F_CLIPBOARD;
	if (!a->opt.display)
		ch->features &= ~PVA_AGENT_F_DISPLAY;
	if (!a->opt.control)
		ch->features &= ~PVA_AGENT_F_CONTROL;
	ch->host_clip_max = ans.clip_max ? ans.clip_max : PVA_CLIP_DEFAULT_MAX;
	ch->up = true;
	ch->conn++;
	log_info("the host answered HELLO (agent protocol %u, features 0x%llx, its clipboard limit %llu bytes)",
		 ans.version, (unsigned long long)ch->features,
		 (unsigned long long)ch->host_clip_max);
	info_send(a->info, true);
	clip_host_up(a->clip);
	display_host_up(a->disp);
	control_host_up(a->ctl);
}

static const char *type_name(uint16_t type)
{
	static const char *const names[] = {
		"?", "HELLO", "INFO", "CLIP_GRAB", "CLIP_REQUEST", "CLIP_DATA",
		"CLIP_CANCEL", "DISPLAY_LAYOUT", "DISPLAY_STATE", "TIME_SYNC",
		"TIME_QUERY", "TIME_STATUS", "POWER", "GUEST_STATE", "FSFREEZE",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

/* A request or event from the host, with the feature it needs. */
static void deliver(struct channel *ch, const struct pva_msg_hdr *h,
		    const uint8_t *p, uint32_t len)
{
	struct agent *a = ch->a;
	uint16_t type = pva_le16(h->type);
	uint64_t need = 0;

	switch (type) {
	case PVA_AGENT_CLIP_GRAB:
	case PVA_AGENT_CLIP_REQUEST:
	case PVA_AGENT_CLIP_DATA:
	case PVA_AGENT_CLIP_CANCEL:
		need = PVA_AGENT_F_CLIPBOARD;
		break;
	case PVA_AGENT_DISPLAY_LAYOUT:
		need = PVA_AGENT_F_DISPLAY;
		break;
	case PVA_AGENT_TIME_SYNC:
	case PVA_AGENT_POWER:
	case PVA_AGENT_FSFREEZE:
		need = PVA_AGENT_F_CONTROL;
		break;
	}
	if (pva_le16(h->flags) & PVA_MSG_F_REQUEST) {
		if ((type == PVA_AGENT_POWER || type == PVA_AGENT_FSFREEZE) &&
		    (ch->features & need)) {
			control_rx_request(a->ctl, h, p, len);
			return;
		}
		host_bad(a, "the host sent a request of type %u (%s) that this agent does not take: ENOTSUP",
			 type, type_name(type));
		channel_reply(ch, h, PVA_S_ENOTSUP, NULL, 0);
		return;
	}
	if (need && !(ch->features & need)) {
		host_bad(a, "the host sent %s without the feature for it: dropped",
			 type_name(type));
		return;
	}
	switch (type) {
	case PVA_AGENT_CLIP_GRAB:
		clip_rx_grab(a->clip, p, len);
		break;
	case PVA_AGENT_CLIP_REQUEST:
		clip_rx_request(a->clip, p, len);
		break;
	case PVA_AGENT_CLIP_DATA:
		clip_rx_data(a->clip, p, len);
		break;
	case PVA_AGENT_CLIP_CANCEL:
		clip_rx_cancel(a->clip, p, len);
		break;
	case PVA_AGENT_DISPLAY_LAYOUT:
		display_rx_layout(a->disp, p, len);
		break;
	case PVA_AGENT_TIME_SYNC:
		control_rx_event(a->ctl, type, p, len);
		break;
	default:
		host_bad(a, "the host sent an event of type %u (%s) this agent does not know: dropped",
			 type, type_name(type));
		break;
	}
}

static void hold(struct channel *ch, const struct pva_msg_hdr *h,
		 const uint8_t *p, uint32_t len)
{
	struct held *m = malloc(sizeof(*m) + len);

	if (!m) {
		log_err("out of memory: a message from the host is lost");
		return;
	}
	m->next = NULL;
	m->h = *h;
	m->len = len;
	m->conn = ch->conn;
	if (len)
		memcpy(m->payload, p, len);
	*ch->held_tail = m;
	ch->held_tail = &m->next;
	if (!ch->nested)
		PostMessageW(ch->a->hwnd, WM_APP_DEFERRED, 0, 0);
}

static void on_message(void *ctx, const struct pva_msg_hdr *h,
		       const uint8_t *p, uint32_t len)
{
	struct channel *ch = ctx;
	struct agent *a = ch->a;
	uint16_t flags = pva_le16(h->flags), type = pva_le16(h->type);

	if (h->reserved0 || h->reserved1 || (flags & ~PVA_MSG_F_KNOWN) ||
	    flags == PVA_MSG_F_KNOWN ||
	    (!(flags & PVA_MSG_F_REQUEST) && h->req_id && !(flags & PVA_MSG_F_RESPONSE))) {
		host_bad(a, "the host sent a malformed message header (type %u, flags 0x%x): dropped",
			 type, flags);
		return;
	}
	if (flags & PVA_MSG_F_RESPONSE) {
		if (type == PVA_AGENT_HELLO && pva_le32(h->req_id) == HELLO_ID)
			hello_answer(ch, h, p, len);
		else if (ch->up && type == PVA_AGENT_TIME_QUERY)
			control_rx_answer(a->ctl, h, p, len);
		else if (ch->up)
			host_bad(a, "the host answered a request of type %u (%s) that was not asked",
				 type, type_name(type));
		return;
	}
	if (!ch->up) {
		if (flags & PVA_MSG_F_REQUEST)
			channel_reply(ch, h, PVA_S_EAGAIN, NULL, 0);
		else
			log_debug("a %s from the host before its answer to HELLO: dropped",
				  type_name(type));
		return;
	}
	/* inside a paste only the transfer moves; anything else, and
	 * everything behind something held, keeps its order
	 */
	if (ch->held || (ch->nested && !(flags == 0 &&
					 (type == PVA_AGENT_CLIP_DATA ||
					  type == PVA_AGENT_CLIP_CANCEL)))) {
		hold(ch, h, p, len);
		return;
	}
	deliver(ch, h, p, len);
}

void channel_run_deferred(struct channel *ch)
{
	while (ch->held && !ch->nested) {
		struct held *m = ch->held;

		ch->held = m->next;
		if (!ch->held)
			ch->held_tail = &ch->held;
		if (m->conn == ch->conn && ch->up)
			deliver(ch, &m->h, m->payload, m->len);
		free(m);
	}
}

static const struct transport_events events = {
	.opened = on_opened,
	.message = on_message,
	.writable = on_writable,
	.reset = on_reset,
	.closed = on_closed,
};

/* ---- the interface ---- */

struct channel *channel_new(struct agent *a, struct transport *t)
{
	struct channel *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->pkt = malloc(HDR + PVA_MSG_MAX);
	if (!ch->pkt) {
		free(ch);
		return NULL;
	}
	ch->a = a;
	ch->t = t;
	ch->out_tail = &ch->out;
	ch->held_tail = &ch->held;
	t->ev = &events;
	t->ctx = ch;
	return ch;
}

void channel_free(struct channel *ch)
{
	if (!ch)
		return;
	ch->t->ops->destroy(ch->t);
	out_clear(ch);
	held_clear(ch);
	free(ch->pkt);
	free(ch);
}

unsigned int channel_handles(struct channel *ch, HANDLE *h, unsigned int max)
{
	return ch->t->ops->handles(ch->t, h, max);
}

void channel_signalled(struct channel *ch, HANDLE h)
{
	ch->t->ops->signalled(ch->t, h);
}

static const char *open_error(DWORD err)
{
	switch (err) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
		return "no pva device (is the driver installed?)";
	case ERROR_NOT_FOUND:
		return "the host offers no agent channel (pva-host --no-agent?)";
	case ERROR_SHARING_VIOLATION:
		return "another program has the channel (the agent of another session?)";
	case ERROR_DEVICE_NOT_CONNECTED:
		return "the pva device is not running (it negotiates with the host)";
	case ERROR_NOT_SUPPORTED:
		return "the device back end is not built in";
	case ERROR_ACCESS_DENIED:
		return "the pva device does not let this user in (its security descriptor in pva.inf must allow interactive users, docs/windows.md)";
	default:
		return win_strerror(err);
	}
}

void channel_tick(struct channel *ch)
{
	DWORD err;

	if (!ch->enabled || ch->opening || ch->connected)
		return;
	err = ch->t->ops->open(ch->t);
	if (err == ERROR_SUCCESS)
		on_opened(ch);
	else if (err == ERROR_IO_PENDING)
		ch->opening = true;
	else
		on_closed(ch, open_error(err));
}

void channel_enable(struct channel *ch, bool on)
{
	if (ch->enabled == on)
		return;
	ch->enabled = on;
	if (on) {
		log_info("this session is on the console: connecting to the host");
		channel_tick(ch);
		return;
	}
	log_info("this session is not on the console: leaving the host to the one that is");
	if (ch->connected || ch->opening) {
		ch->t->ops->close(ch->t);
		ch->opening = ch->connected = false;
		out_clear(ch);
		host_down(ch);
	}
}

bool channel_up(const struct channel *ch)
{
	return ch && ch->up;
}

uint64_t channel_features(const struct channel *ch)
{
	return ch && ch->up ? ch->features : 0;
}

uint64_t channel_host_clip_max(const struct channel *ch)
{
	return ch && ch->up ? ch->host_clip_max : PVA_CLIP_DEFAULT_MAX;
}

bool channel_send(struct channel *ch, uint16_t type, const void *p,
		  uint32_t len)
{
	if (!ch->up)
		return false;
	if (len > ch->t->ops->max_payload(ch->t)) {
		log_warn("a %u-byte %s is too large for the channel: not sent",
			 len, type_name(type));
		return false;
	}
	return queue_msg(ch, type, 0, 0, 0, p, len);
}

bool channel_request(struct channel *ch, uint16_t type, uint32_t req_id,
		     const void *p, uint32_t len)
{
	if (!ch->up || len > ch->t->ops->max_payload(ch->t))
		return false;
	return queue_msg(ch, type, PVA_MSG_F_REQUEST, req_id, 0, p, len);
}

void channel_reply(struct channel *ch, const struct pva_msg_hdr *req,
		   uint32_t status, const void *p, uint32_t len)
{
	if (!ch->connected)
		return;
	queue_msg(ch, pva_le16(req->type), PVA_MSG_F_RESPONSE,
		  pva_le32(req->req_id), status, p, len);
}

bool channel_send_content(struct channel *ch, uint32_t transfer,
			  uint8_t *data, size_t len)
{
	struct out *o;

	if (!ch->up) {
		free(data);
		return false;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		free(data);
		return false;
	}
	o->buf = data;
	o->len = len;
	o->content = true;
	o->transfer = transfer;
	*ch->out_tail = o;
	ch->out_tail = &o->next;
	pump(ch);
	return true;
}

void channel_drop_content(struct channel *ch, uint32_t transfer)
{
	struct out **pp = &ch->out;

	while (*pp) {
		struct out *o = *pp;

		/* the head may be half sent: it is dropped all the same,
		 * the host ignores the chunks of a transfer it cancelled
		 */
		if (o->content && o->transfer == transfer) {
			*pp = o->next;
			free(o->buf);
			free(o);
			continue;
		}
		pp = &o->next;
	}
	ch->out_tail = &ch->out;
	while (*ch->out_tail)
		ch->out_tail = &(*ch->out_tail)->next;
}

bool channel_wait(struct channel *ch, bool (*done)(void *ctx), void *ctx,
		  const ULONGLONG *progress, DWORD idle_ms)
{
	ch->nested++;
	while (!done(ctx) && ch->up) {
		ULONGLONG age = GetTickCount64() - *progress;
		HANDLE h[4];
		unsigned int n;
		DWORD r;

		if (age >= idle_ms)
			break;
		n = ch->t->ops->handles(ch->t, h, 4);
		if (!n)
			break;
		r = WaitForMultipleObjects(n, h, FALSE, (DWORD)(idle_ms - age));
		if (r < WAIT_OBJECT_0 + n)
			ch->t->ops->signalled(ch->t, h[r - WAIT_OBJECT_0]);
		else if (r != WAIT_TIMEOUT)
			break;
	}
	ch->nested--;
	if (!ch->nested && ch->held)
		PostMessageW(ch->a->hwnd, WM_APP_DEFERRED, 0, 0);
	return done(ctx);
}

void channel_flush(struct channel *ch, DWORD ms)
{
	ULONGLONG end = GetTickCount64() + ms;

	while (ch->connected && (ch->out || ch->t->ops->queued(ch->t))) {
		ULONGLONG now = GetTickCount64();
		HANDLE h[4];
		unsigned int n = ch->t->ops->handles(ch->t, h, 4);
		DWORD r;

		if (now >= end || !n)
			break;
		r = WaitForMultipleObjects(n, h, FALSE, (DWORD)(end - now));
		if (r >= WAIT_OBJECT_0 + n)
			break;
		ch->t->ops->signalled(ch->t, h[r - WAIT_OBJECT_0]);
	}
}
