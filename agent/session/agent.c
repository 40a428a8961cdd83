// SPDX-License-Identifier: MIT
/*
 * pva-agent's core: the connection to pva-service (register, welcome,
 * active), the clipboard bookkeeping between the service and the backend
 * (the host's grabs, fetches of the host's content with a cache, answers
 * to the host's requests streamed in chunks) and the display layout.
 * See agent.h and protocol/PROTOCOL.md 6.8.
 */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define RECONNECT_MS	1000
#define PACKET_MAX	(sizeof(struct pva_msg_hdr) + PVA_MSG_MAX)
#define CHUNK_MAX	(PVA_MSG_MAX - sizeof(struct pva_clip_data))
#define FETCH_TIMEOUT_S	30

/* Something to send to the service: a packet, or a content in chunks. */
struct out {
	struct out *next;
	uint8_t *buf;		/* packet (hdr + payload), or content */
	size_t len, off;
	bool content;
	uint32_t transfer;	/* content: DATA chunks of this transfer */
};

struct fetch {
	struct fetch *next;
	uint32_t handle;	/* for the backend */
	uint32_t transfer;	/* on the wire; 0 while waiting for another */
	unsigned int sel;
	char type[PVA_CLIP_TYPE_MAX + 1];
	agent_fetch_done done;
	void *ctx;
	struct clip_rx rx;
	time_t started;
};

/* The last content fetched from the host, per selection. */
struct cache {
	bool valid;
	char type[PVA_CLIP_TYPE_MAX + 1];
	uint8_t *data;
	size_t len;
};

struct host_grab {
	bool owns;		/* the host owns the selection */
	uint32_t serial;
	struct clip_types types;
};

struct read {
	struct read *next;
	uint32_t id;		/* the service's transfer id */
};

struct agent {
	struct agent_options opt;
	struct loop *loop;
	const struct backend_ops *ops;
	struct backend *be;
	int fd;
	struct loop_source *src, *timer;
	bool welcomed, active;
	uint64_t clip_max;	/* the lower of ours and the service's */
	struct out *out, **out_tail;
	struct fetch *fetches;
	uint32_t next_handle, next_transfer;
	struct read *reads;
	struct host_grab grab[PVA_CLIP_NR_SELECTIONS];
	struct cache cache[PVA_CLIP_NR_SELECTIONS];
	/* the last grab the session made, to repeat after a reconnect */
	bool local_valid[PVA_CLIP_NR_SELECTIONS];
	struct clip_types local[PVA_CLIP_NR_SELECTIONS];
	struct log_ratelimit rl;
	int exit_code;
	bool quit;
};

static void conn_close(struct agent *a, const char *why);
static void conn_want_write(struct agent *a, bool on);

/* ---- sending ---- */

static void queue(struct agent *a, struct out *o)
{
	o->next = NULL;
	*a->out_tail = o;
	a->out_tail = &o->next;
	conn_want_write(a, true);
}

static void send_msg(struct agent *a, uint16_t type, uint32_t status,
		     const void *payload, uint32_t len)
{
	struct out *o;
	struct pva_msg_hdr h = {
		.len = pva_cpu32(len),
		.type = pva_cpu16(type),
		.status = pva_cpu32(status),
	};

	if (a->fd < 0)
		return;
	o = calloc(1, sizeof(*o));
	if (o)
		o->buf = malloc(sizeof(h) + len);
	if (!o || !o->buf) {
		free(o);
		log_err("out of memory: a message to pva-service is lost");
		return;
	}
	memcpy(o->buf, &h, sizeof(h));
	if (len)
		memcpy(o->buf + sizeof(h), payload, len);
	o->len = sizeof(h) + len;
	queue(a, o);
}

static void send_data_error(struct agent *a, uint32_t transfer,
			    uint32_t status)
{
	struct pva_clip_data d;

	clip_data_header(&d, transfer, status, 0, 0, 0);
	send_msg(a, PVA_AGENT_CLIP_DATA, 0, &d, sizeof(d));
}

static void send_cancel(struct agent *a, uint32_t transfer)
{
	struct pva_clip_cancel c = { .transfer = pva_cpu32(transfer) };

	send_msg(a, PVA_AGENT_CLIP_CANCEL, 0, &c, sizeof(c));
}

/* One packet (or chunk) of the head of the queue; 0 sent, -EAGAIN, -1. */
static int send_one(struct agent *a)
{
	struct out *o = a->out;
	uint8_t pkt[PACKET_MAX];
	const uint8_t *p;
	size_t n;
	ssize_t w;

	if (o->content) {
		struct pva_msg_hdr h = { .type = pva_cpu16(PVA_AGENT_CLIP_DATA) };
		struct pva_clip_data d;
		size_t chunk = o->len - o->off;
		bool last;

		if (chunk > CHUNK_MAX)
			chunk = CHUNK_MAX;
		last = o->off + chunk == o->len;
		clip_data_header(&d, o->transfer, PVA_S_OK,
				 last ? PVA_CLIP_DATA_LAST : 0, o->off, o->len);
		h.len = pva_cpu32((uint32_t)(sizeof(d) + chunk));
		memcpy(pkt, &h, sizeof(h));
		memcpy(pkt + sizeof(h), &d, sizeof(d));
		if (chunk)
			memcpy(pkt + sizeof(h) + sizeof(d), o->buf + o->off,
			       chunk);
		p = pkt;
		n = sizeof(h) + sizeof(d) + chunk;
		w = send(a->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0)
			return errno == EAGAIN ? -EAGAIN : -1;
		o->off += chunk;
		return last ? 1 : 0;
	}
	w = send(a->fd, o->buf, o->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0)
		return errno == EAGAIN ? -EAGAIN : -1;
	return 1;
}

static void out_free(struct out *o)
{
	free(o->buf);
	free(o);
}

static void flush_out(struct agent *a)
{
	while (a->out && a->fd >= 0) {
		int r = send_one(a);

		if (r == -EAGAIN)
			return;
		if (r < 0) {
			conn_close(a, strerror(errno));
			return;
		}
		if (r == 1) {
			struct out *o = a->out;

			a->out = o->next;
			if (!a->out)
				a->out_tail = &a->out;
			out_free(o);
		}
	}
	if (a->fd >= 0)
		conn_want_write(a, false);
}

/* Drop a content still queued for @transfer (the host cancelled). */
static void drop_content(struct agent *a, uint32_t transfer)
{
	struct out **pp = &a->out;

	while (*pp) {
		struct out *o = *pp;

		/* the head may be half sent: end it with an error instead */
		if (o->content && o->transfer == transfer && o != a->out) {
			*pp = o->next;
			out_free(o);
			continue;
		}
		pp = &o->next;
	}
	a->out_tail = &a->out;
	while (*a->out_tail)
		a->out_tail = &(*a->out_tail)->next;
}

/* ---- the clipboard ---- */

static void cache_clear(struct agent *a, unsigned int sel)
{
	free(a->cache[sel].data);
	memset(&a->cache[sel], 0, sizeof(a->cache[sel]));
}

static bool sel_synced(const struct agent *a, unsigned int sel)
{
	return sel == PVA_CLIP_CLIPBOARD ? a->opt.clipboard : a->opt.primary;
}

void agent_local_grab(struct agent *a, unsigned int sel,
		      const struct clip_types *types)
{
	uint8_t buf[sizeof(struct pva_clip_grab) +
		    PVA_CLIP_MAX_TYPES * (PVA_CLIP_TYPE_MAX + 1)];
	struct clip_types none = { 0 };
	uint32_t len;

	if (sel >= PVA_CLIP_NR_SELECTIONS || !sel_synced(a, sel))
		return;
	if (!types)
		types = &none;
	a->local[sel] = *types;
	a->local_valid[sel] = true;
	/* the session owns it now, not the host */
	a->grab[sel].owns = false;
	cache_clear(a, sel);
	if (!a->welcomed)
		return;
	len = clip_grab_build(buf, sizeof(buf), sel, 0, 0, types);
	log_debug("clipboard: the session's %s has %u types",
		  sel ? "PRIMARY" : "CLIPBOARD", types->n);
	send_msg(a, PVA_AGENT_CLIP_GRAB, 0, buf, len);
}

static void fetch_finish(struct agent *a, struct fetch *f, uint32_t status,
			 uint8_t *data, size_t len)
{
	struct fetch **pp = &a->fetches;

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	clip_rx_free(&f->rx);
	f->done(f->ctx, status, data, len);
	free(f);
}

static uint8_t *copy_of(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	if (c && len)
		memcpy(c, p, len);
	return c;
}

uint32_t agent_fetch_host(struct agent *a, unsigned int sel,
			  const char *type, agent_fetch_done done, void *ctx)
{
	uint8_t buf[sizeof(struct pva_clip_request) + PVA_CLIP_TYPE_MAX + 1];
	struct host_grab *g = &a->grab[sel % PVA_CLIP_NR_SELECTIONS];
	struct cache *c = &a->cache[sel % PVA_CLIP_NR_SELECTIONS];
	uint32_t handle = ++a->next_handle ? a->next_handle : ++a->next_handle;
	struct fetch *f;
	uint32_t len;

	if (sel >= PVA_CLIP_NR_SELECTIONS || !g->owns || !a->active ||
	    a->fd < 0) {
		done(ctx, PVA_S_ESTALE, NULL, 0);
		return handle;
	}
	if (!clip_types_has(&g->types, type)) {
		done(ctx, PVA_S_ENOENT, NULL, 0);
		return handle;
	}
	if (c->valid && !strcmp(c->type, type)) {
		uint8_t *d = copy_of(c->data, c->len);

		done(ctx, d ? PVA_S_OK : PVA_S_ENOMEM, d, d ? c->len : 0);
		return handle;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		done(ctx, PVA_S_ENOMEM, NULL, 0);
		return handle;
	}
	f->handle = handle;
	f->transfer = ++a->next_transfer ? a->next_transfer :
					   ++a->next_transfer;
	f->sel = sel;
	snprintf(f->type, sizeof(f->type), "%s", type);
	f->done = done;
	f->ctx = ctx;
	f->started = time(NULL);
	clip_rx_init(&f->rx, f->transfer, a->clip_max);
	f->next = a->fetches;
	a->fetches = f;
	len = clip_request_build(buf, sizeof(buf), sel, g->serial, f->transfer,
				 type);
	send_msg(a, PVA_AGENT_CLIP_REQUEST, 0, buf, len);
	log_debug("clipboard: asked the host for %s (transfer %u)", type,
		  f->transfer);
	return handle;
}

void agent_fetch_cancel(struct agent *a, uint32_t handle)
{
	struct fetch **pp = &a->fetches;

	while (*pp) {
		struct fetch *f = *pp;

		if (f->handle == handle) {
			*pp = f->next;
			send_cancel(a, f->transfer);
			clip_rx_free(&f->rx);
			free(f);
			return;
		}
		pp = &f->next;
	}
}

static void fail_fetches(struct agent *a, uint32_t status)
{
	while (a->fetches)
		fetch_finish(a, a->fetches, status, NULL, 0);
}

static struct read *find_read(struct agent *a, uint32_t id, bool unlink)
{
	struct read **pp = &a->reads;

	while (*pp) {
		struct read *r = *pp;

		if (r->id == id) {
			if (unlink)
				*pp = r->next;
			return r;
		}
		pp = &r->next;
	}
	return NULL;
}

void agent_content(struct agent *a, uint32_t id, uint32_t status,
		   uint8_t *data, size_t len)
{
	struct read *r = find_read(a, id, true);
	struct out *o;

	if (!r) {	/* cancelled meanwhile */
		free(data);
		return;
	}
	free(r);
	if (status == PVA_S_OK && len > a->clip_max)
		status = PVA_S_E2BIG;
	if (status != PVA_S_OK || !data) {
		free(data);
		send_data_error(a, id, status ? status : PVA_S_EIO);
		return;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		free(data);
		send_data_error(a, id, PVA_S_ENOMEM);
		return;
	}
	o->buf = data;
	o->len = len;
	o->content = true;
	o->transfer = id;
	queue(a, o);
	log_debug("clipboard: sending %zu bytes (transfer %u)", len, id);
}

static void rx_grab(struct agent *a, const void *p, uint32_t len)
{
	struct clip_grab g;
	const char *why;

	if (clip_grab_parse(p, len, &g, &why)) {
		log_warn("pva-service sent a malformed GRAB: %s", why);
		return;
	}
	if (!sel_synced(a, g.selection))
		return;
	a->grab[g.selection].owns = g.types.n > 0;
	a->grab[g.selection].serial = g.serial;
	a->grab[g.selection].types = g.types;
	a->local_valid[g.selection] = false;
	cache_clear(a, g.selection);
	log_debug("clipboard: the host's %s has %u types",
		  g.selection ? "PRIMARY" : "CLIPBOARD", g.types.n);
	if (a->be)
		a->ops->host_grab(a->be, g.selection, &g.types);
}

static void rx_request(struct agent *a, const void *p, uint32_t len)
{
	struct clip_request r;
	struct read *rd;
	const char *why;

	if (clip_request_parse(p, len, &r, &why)) {
		log_warn("pva-service sent a malformed REQUEST: %s", why);
		return;
	}
	if (!sel_synced(a, r.selection) || !a->be) {
		send_data_error(a, r.transfer, PVA_S_ESTALE);
		return;
	}
	if (find_read(a, r.transfer, false)) {
		log_warn("pva-service reused transfer %u", r.transfer);
		return;
	}
	rd = calloc(1, sizeof(*rd));
	if (!rd) {
		send_data_error(a, r.transfer, PVA_S_ENOMEM);
		return;
	}
	rd->id = r.transfer;
	rd->next = a->reads;
	a->reads = rd;
	log_debug("clipboard: the host asks for %s (transfer %u)", r.type,
		  r.transfer);
	a->ops->read_content(a->be, r.selection, r.type, r.transfer);
}

static void rx_data(struct agent *a, const void *p, uint32_t len)
{
	struct clip_data d;
	struct fetch *f;
	const char *why;
	int r;

	if (clip_data_parse(p, len, &d, &why)) {
		log_warn("pva-service sent malformed DATA: %s", why);
		return;
	}
	for (f = a->fetches; f && f->transfer != d.transfer; f = f->next)
		;
	if (!f)
		return;		/* cancelled */
	r = clip_rx_chunk(&f->rx, &d, &why);
	if (r == 0)
		return;
	if (r < 0) {
		if (r == -EINVAL)
			log_warn("clipboard: transfer %u from the host: %s",
				 d.transfer, why);
		else
			log_warn("clipboard: the host's content is larger than %llu bytes",
				 (unsigned long long)a->clip_max);
		send_cancel(a, d.transfer);
		fetch_finish(a, f, r == -E2BIG ? PVA_S_E2BIG : PVA_S_EIO,
			     NULL, 0);
		return;
	}
	if (f->rx.status != PVA_S_OK) {
		log_info("clipboard: the host did not send %s: %s", f->type,
			 clip_status_name(f->rx.status));
		fetch_finish(a, f, f->rx.status, NULL, 0);
		return;
	} else {
		size_t n;
		uint8_t *data = clip_rx_take(&f->rx, &n);
		struct cache *c = &a->cache[f->sel];

		/* keep a copy: the next paste needs no transfer */
		cache_clear(a, f->sel);
		c->data = copy_of(data, n);
		if (c->data) {
			c->valid = true;
			c->len = n;
			snprintf(c->type, sizeof(c->type), "%s", f->type);
		}
		log_debug("clipboard: %zu bytes of %s from the host", n,
			  f->type);
		fetch_finish(a, f, data ? PVA_S_OK : PVA_S_ENOMEM, data,
			     data ? n : 0);
	}
}

static void rx_cancel(struct agent *a, const void *p, uint32_t len)
{
	uint32_t transfer;
	const char *why;
	struct read *r;

	if (clip_cancel_parse(p, len, &transfer, &why)) {
		log_warn("pva-service sent a malformed CANCEL: %s", why);
		return;
	}
	r = find_read(a, transfer, true);
	if (r) {
		free(r);
		if (a->be)
			a->ops->cancel_read(a->be, transfer);
	}
	drop_content(a, transfer);
}

/* ---- the display ---- */

static void rx_layout(struct agent *a, const void *p, uint32_t len)
{
	struct pva_display_config c;
	struct layout l = { 0 };
	const char *why;

	if (display_config_parse(p, len, &c, &why)) {
		log_warn("pva-service sent a malformed DISPLAY_LAYOUT: %s", why);
		return;
	}
	if (!a->opt.display || !a->be)
		return;
	l.generation = pva_le32(c.generation);
	l.nr_heads = pva_le32(c.nr_heads);
	for (unsigned int i = 0; i < l.nr_heads; i++) {
		const struct pva_display_head *h = &c.heads[i];

		l.head[i].on = pva_le32(h->flags) & PVA_DISPLAY_HEAD_ENABLED;
		if (!l.head[i].on)
			continue;
		l.head[i].width = pva_le32(h->width);
		l.head[i].height = pva_le32(h->height);
		l.head[i].x = pva_le32(h->x);
		l.head[i].y = pva_le32(h->y);
	}
	log_info("display: the host asks for layout %u", l.generation);
	a->ops->apply_layout(a->be, &l);
}

void agent_layout_done(struct agent *a, uint32_t generation,
		       uint32_t status, const struct layout *now)
{
	struct pva_agent_display_state s = {
		.generation = pva_cpu32(generation),
		.status = pva_cpu32(status),
	};

	for (unsigned int i = 0; now && i < now->nr_heads &&
	     i < PVA_DISPLAY_MAX_HEADS; i++) {
		const struct layout_head *h = &now->head[i];

		s.nr_heads = pva_cpu32(i + 1);
		if (!h->on)
			continue;
		s.heads[i].flags = pva_cpu32(PVA_DISPLAY_HEAD_ENABLED);
		s.heads[i].width = pva_cpu32(h->width);
		s.heads[i].height = pva_cpu32(h->height);
		s.heads[i].x = pva_cpu32(h->x);
		s.heads[i].y = pva_cpu32(h->y);
	}
	if (status == PVA_S_OK)
		log_info("display: layout %u applied", generation);
	else
		log_warn("display: layout %u not applied (%u)", generation,
			 status);
	send_msg(a, PVA_AGENT_DISPLAY_STATE, 0, &s, sizeof(s));
}

/* ---- the connection ---- */

static void set_active(struct agent *a, bool active)
{
	if (a->active == active)
		return;
	a->active = active;
	log_info("this session is %s", active ? "active: the host sees it" :
		 "not active");
	if (active)
		return;
	for (unsigned int s = 0; s < PVA_CLIP_NR_SELECTIONS; s++) {
		a->grab[s].owns = false;
		cache_clear(a, s);
	}
	fail_fetches(a, PVA_S_ESTALE);
	if (a->be)
		a->ops->release(a->be);
}

static void rx_welcome(struct agent *a, const struct pva_msg_hdr *h,
		       const void *p, uint32_t len)
{
	struct pva_agent_welcome w;

	if (pva_le32(h->status) != PVA_S_OK) {
		log_err("pva-service refused this agent: %s",
			pva_le32(h->status) == PVA_S_EPERM ?
			"the session is not this user's" :
			pva_le32(h->status) == PVA_S_EBUSY ?
			"the session has an agent already" :
			"bad registration");
		a->exit_code = 1;
		a->quit = true;
		loop_quit(a->loop, 1);
		return;
	}
	if (len != sizeof(w)) {
		log_warn("pva-service sent a malformed WELCOME");
		return;
	}
	memcpy(&w, p, sizeof(w));
	a->welcomed = true;
	a->clip_max = a->opt.clip_max;
	if (pva_le64(w.clip_max) && pva_le64(w.clip_max) < a->clip_max)
		a->clip_max = pva_le64(w.clip_max);
	log_info("registered with pva-service (clipboard limit %llu bytes)",
		 (unsigned long long)a->clip_max);
	set_active(a, pva_le32(w.active) != 0);
	/* tell the service what the session has now */
	for (unsigned int s = 0; s < PVA_CLIP_NR_SELECTIONS; s++)
		if (a->local_valid[s])
			agent_local_grab(a, s, &a->local[s]);
}

static void dispatch(struct agent *a, const uint8_t *pkt, size_t n)
{
	struct pva_msg_hdr h;
	const uint8_t *p = pkt + sizeof(h);
	uint32_t len;

	if (n < sizeof(h)) {
		log_warn("pva-service sent a packet of %zu bytes", n);
		return;
	}
	memcpy(&h, pkt, sizeof(h));
	len = pva_le32(h.len);
	if (len != n - sizeof(h) || h.flags || h.reserved0 || h.reserved1) {
		if (log_ratelimit_ok(&a->rl))
			log_warn("pva-service sent a malformed message header (type %u)",
				 pva_le16(h.type));
		return;
	}
	if (!a->welcomed && pva_le16(h.type) != PVA_AGENT_LOCAL_WELCOME) {
		log_warn("pva-service sent type %u before WELCOME",
			 pva_le16(h.type));
		return;
	}
	switch (pva_le16(h.type)) {
	case PVA_AGENT_LOCAL_WELCOME:
		rx_welcome(a, &h, p, len);
		break;
	case PVA_AGENT_LOCAL_ACTIVE:
		if (len == sizeof(struct pva_agent_active)) {
			struct pva_agent_active act;

			memcpy(&act, p, sizeof(act));
			set_active(a, pva_le32(act.active) != 0);
		} else {
			log_warn("pva-service sent a malformed ACTIVE");
		}
		break;
	case PVA_AGENT_CLIP_GRAB:
		rx_grab(a, p, len);
		break;
	case PVA_AGENT_CLIP_REQUEST:
		rx_request(a, p, len);
		break;
	case PVA_AGENT_CLIP_DATA:
		rx_data(a, p, len);
		break;
	case PVA_AGENT_CLIP_CANCEL:
		rx_cancel(a, p, len);
		break;
	case PVA_AGENT_DISPLAY_LAYOUT:
		rx_layout(a, p, len);
		break;
	default:
		if (log_ratelimit_ok(&a->rl))
			log_warn("pva-service sent an unknown message type %u",
				 pva_le16(h.type));
		break;
	}
}

static void conn_event(struct loop *loop, int fd, uint32_t events,
		       void *data)
{
	struct agent *a = data;
	static uint8_t pkt[PACKET_MAX + 1];

	(void)loop;
	if (events & EPOLLOUT)
		flush_out(a);
	if (a->fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int i = 0; i < 64 && a->fd >= 0; i++) {
		ssize_t n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(a, n ? strerror(errno) :
				   "pva-service closed the connection");
			return;
		}
		if ((size_t)n > PACKET_MAX) {
			log_warn("pva-service sent a packet of %zd bytes", n);
			continue;
		}
		dispatch(a, pkt, (size_t)n);
	}
}

static void conn_want_write(struct agent *a, bool on)
{
	if (a->src)
		loop_mod_fd(a->src, EPOLLIN | (on ? EPOLLOUT : 0));
}

static void send_register(struct agent *a)
{
	struct pva_agent_register r = {
		.version = pva_cpu32(PVA_AGENT_VERSION),
	};
	const char *e;
	uint32_t caps = 0;

	if (a->opt.clipboard)
		caps |= PVA_AGENT_CAP_CLIPBOARD;
	if (a->opt.primary)
		caps |= PVA_AGENT_CAP_PRIMARY;
	if (a->opt.display)
		caps |= PVA_AGENT_CAP_DISPLAY;
	r.caps = pva_cpu32(caps);
	e = getenv("XDG_SESSION_ID");
	snprintf(r.session, sizeof(r.session), "%s", e ? e : "");
	snprintf(r.kind, sizeof(r.kind), "%s", a->ops->kind);
	e = getenv(strcmp(a->ops->kind, "wayland") ? "DISPLAY" :
		   "WAYLAND_DISPLAY");
	snprintf(r.display, sizeof(r.display), "%s", e ? e : "");
	e = getenv("XDG_CURRENT_DESKTOP");
	snprintf(r.desktop, sizeof(r.desktop), "%s", e ? e : "");
	send_msg(a, PVA_AGENT_LOCAL_REGISTER, 0, &r, sizeof(r));
}

static bool conn_open(struct agent *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(a->opt.socket) >= sizeof(sa.sun_path)) {
		log_err("socket path too long: %s", a->opt.socket);
		return false;
	}
	strcpy(sa.sun_path, a->opt.socket);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return false;
	}
	a->fd = fd;
	a->src = loop_add_fd(a->loop, fd, EPOLLIN, conn_event, a);
	if (!a->src) {
		close(fd);
		a->fd = -1;
		return false;
	}
	log_info("connected to pva-service at %s", a->opt.socket);
	send_register(a);
	return true;
}

static void conn_close(struct agent *a, const char *why)
{
	if (a->fd < 0)
		return;
	if (!a->quit)
		log_warn("lost pva-service: %s; trying again every %d ms", why,
			 RECONNECT_MS);
	loop_remove(a->src);
	a->src = NULL;
	close(a->fd);
	a->fd = -1;
	a->welcomed = false;
	while (a->out) {
		struct out *o = a->out;

		a->out = o->next;
		out_free(o);
	}
	a->out_tail = &a->out;
	while (a->reads) {
		struct read *r = a->reads;

		a->reads = r->next;
		if (a->be)
			a->ops->cancel_read(a->be, r->id);
		free(r);
	}
	set_active(a, false);
	fail_fetches(a, PVA_S_EAGAIN);
}

static void tick(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct agent *a = data;
	time_t now = time(NULL);
	uint64_t n;

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	if (a->fd < 0)
		conn_open(a);
	for (struct fetch *f = a->fetches, *next; f; f = next) {
		next = f->next;
		if (now - f->started < FETCH_TIMEOUT_S)
			continue;
		log_warn("clipboard: the host did not answer for %s in %d s",
			 f->type, FETCH_TIMEOUT_S);
		send_cancel(a, f->transfer);
		fetch_finish(a, f, PVA_S_EIO, NULL, 0);
	}
}

uint64_t agent_clip_max(const struct agent *a)
{
	return a->clip_max;
}

bool agent_sync_primary(const struct agent *a)
{
	return a->opt.primary;
}

void agent_backend_lost(struct agent *a, const char *why)
{
	log_info("the display server went away (%s): exiting", why);
	a->quit = true;
	loop_quit(a->loop, 0);
}

static const struct backend_ops *pick_backend(const char *kind)
{
	if (!kind)
		kind = getenv("WAYLAND_DISPLAY") ? "wayland" : "x11";
	if (!strcmp(kind, "wayland"))
		return &wayland_backend_ops;
	if (!strcmp(kind, "x11"))
		return &x11_backend_ops;
	return NULL;
}

int agent_run(const struct agent_options *opt)
{
	struct agent *a = calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return 1;
	a->opt = *opt;
	a->fd = -1;
	a->out_tail = &a->out;
	a->clip_max = opt->clip_max;
	a->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	a->loop = loop_new();
	a->ops = pick_backend(opt->kind);
	if (!a->loop || !a->ops) {
		log_err(a->ops ? "out of memory" : "unknown session kind '%s'",
			opt->kind);
		rc = 1;
		goto out;
	}
	a->be = a->ops->open(a, a->loop, opt);
	if (!a->be && !opt->kind && !strcmp(a->ops->kind, "wayland") &&
	    getenv("DISPLAY")) {
		/* no data-control: X11 clients through Xwayland, which the
		 * compositor bridges to its own clipboard
		 */
		log_info("falling back to X11 (DISPLAY=%s)", getenv("DISPLAY"));
		a->ops = &x11_backend_ops;
		a->be = a->ops->open(a, a->loop, opt);
	}
	if (!a->be) {
		rc = 3;
		goto out;
	}
	a->timer = loop_add_timer(a->loop, RECONNECT_MS, tick, a);
	if (!conn_open(a))
		log_info("pva-service is not there yet (%s): trying every %d ms",
			 opt->socket, RECONNECT_MS);
	rc = loop_run(a->loop) < 0 ? 1 : a->exit_code;
out:
	a->quit = true;
	if (a->fd >= 0)
		conn_close(a, "exiting");
	if (a->be)
		a->ops->close(a->be);
	for (unsigned int s = 0; s < PVA_CLIP_NR_SELECTIONS; s++)
		cache_clear(a, s);
	if (a->timer)
		loop_remove(a->timer);
	loop_free(a->loop);
	free(a);
	return rc;
}
