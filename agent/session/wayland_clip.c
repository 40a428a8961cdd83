// SPDX-License-Identifier: MIT
/*
 * The Wayland backend's clipboard, through the compositor's data-control
 * protocol: a seat's selections, seen and set by a client that has no
 * surface and no keyboard focus (what clipboard managers use).
 *
 *  - session -> host: the device's selection events name the current
 *    offer; its types go to the core (agent_local_grab) and the host's
 *    requests are read from the offer through pipes;
 *  - host -> session: a source of ours holds the selection for the host;
 *    when a client pastes, the compositor hands us a descriptor that we
 *    fill with the content fetched from the host (agent_fetch_host).
 *
 * Our own source's selection comes back to us as an offer like anyone
 * else's. It is recognised by its source still being alive: whoever
 * replaces the selection makes the compositor cancel our source first,
 * on the same connection, so a selection event that finds our source
 * uncancelled is ours (or one about to be) and is never announced.
 */
#include "wayland_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ext-data-control-v1-client-protocol.h"
#include "log.h"
#include "loop.h"
#include "wlr-data-control-unstable-v1-client-protocol.h"

#define READ_STALL_MS	10000	/* an owner sending nothing this long */
#define WRITE_STALL_MS	30000	/* a paster reading nothing this long */
#define WATCH_MS	1000
#define READ_CHUNK	(64 * 1024)
#define WRITE_CHUNK	(1024 * 1024)
#define MAX_OFFERS	4	/* at once: 2 current, 2 on their way */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- the two data-control protocols as one ---- */

/*
 * ext-data-control-v1 is wlr-data-control-unstable-v1 standardised: the
 * same interfaces, requests and events in the same order with the same
 * arguments, under other names (and PRIMARY from its version 1, where
 * wlr has it from version 2). So one set of code speaks both: objects
 * are plain wl_proxy, requests go by opcode, and the listeners below
 * have the layout of both protocols' listeners.
 */
struct dc_proto {
	const char *label;
	int rank;		/* the higher, the more preferred */
	const struct wl_interface *manager, *device, *source, *offer;
	uint32_t primary_since;
};

enum { DC_EXT, DC_WLR };

static const struct dc_proto dc_protos[] = {
	[DC_EXT] = {
		.label = "ext-data-control-v1",
		.rank = 2,
		.manager = &ext_data_control_manager_v1_interface,
		.device = &ext_data_control_device_v1_interface,
		.source = &ext_data_control_source_v1_interface,
		.offer = &ext_data_control_offer_v1_interface,
		.primary_since = 1,
	},
	[DC_WLR] = {
		.label = "wlr-data-control-unstable-v1",
		.rank = 1,
		.manager = &zwlr_data_control_manager_v1_interface,
		.device = &zwlr_data_control_device_v1_interface,
		.source = &zwlr_data_control_source_v1_interface,
		.offer = &zwlr_data_control_offer_v1_interface,
		.primary_since = 2,
	},
};

#define SAME_OPCODE(x)	_Static_assert(ZWLR_DATA_CONTROL_##x == \
				       EXT_DATA_CONTROL_##x, #x)
SAME_OPCODE(MANAGER_V1_CREATE_DATA_SOURCE);
SAME_OPCODE(MANAGER_V1_GET_DATA_DEVICE);
SAME_OPCODE(MANAGER_V1_DESTROY);
SAME_OPCODE(DEVICE_V1_SET_SELECTION);
SAME_OPCODE(DEVICE_V1_DESTROY);
SAME_OPCODE(DEVICE_V1_SET_PRIMARY_SELECTION);
SAME_OPCODE(SOURCE_V1_OFFER);
SAME_OPCODE(SOURCE_V1_DESTROY);
SAME_OPCODE(OFFER_V1_RECEIVE);
SAME_OPCODE(OFFER_V1_DESTROY);

enum {
	DC_CREATE_SOURCE = ZWLR_DATA_CONTROL_MANAGER_V1_CREATE_DATA_SOURCE,
	DC_GET_DEVICE = ZWLR_DATA_CONTROL_MANAGER_V1_GET_DATA_DEVICE,
	DC_MANAGER_DESTROY = ZWLR_DATA_CONTROL_MANAGER_V1_DESTROY,
	DC_SET_SELECTION = ZWLR_DATA_CONTROL_DEVICE_V1_SET_SELECTION,
	DC_DEVICE_DESTROY = ZWLR_DATA_CONTROL_DEVICE_V1_DESTROY,
	DC_SET_PRIMARY = ZWLR_DATA_CONTROL_DEVICE_V1_SET_PRIMARY_SELECTION,
	DC_SOURCE_OFFER = ZWLR_DATA_CONTROL_SOURCE_V1_OFFER,
	DC_SOURCE_DESTROY = ZWLR_DATA_CONTROL_SOURCE_V1_DESTROY,
	DC_OFFER_RECEIVE = ZWLR_DATA_CONTROL_OFFER_V1_RECEIVE,
	DC_OFFER_DESTROY = ZWLR_DATA_CONTROL_OFFER_V1_DESTROY,
};

struct dc_device_listener {
	void (*data_offer)(void *data, struct wl_proxy *dev,
			   struct wl_proxy *offer);
	void (*selection)(void *data, struct wl_proxy *dev,
			  struct wl_proxy *offer);
	void (*finished)(void *data, struct wl_proxy *dev);
	void (*primary_selection)(void *data, struct wl_proxy *dev,
				  struct wl_proxy *offer);
};

struct dc_source_listener {
	void (*send)(void *data, struct wl_proxy *src, const char *mime,
		     int32_t fd);
	void (*cancelled)(void *data, struct wl_proxy *src);
};

struct dc_offer_listener {
	void (*offer)(void *data, struct wl_proxy *offer, const char *mime);
};

_Static_assert(sizeof(struct dc_device_listener) ==
	       sizeof(struct zwlr_data_control_device_v1_listener) &&
	       sizeof(struct dc_device_listener) ==
	       sizeof(struct ext_data_control_device_v1_listener),
	       "device listener");
_Static_assert(sizeof(struct dc_source_listener) ==
	       sizeof(struct zwlr_data_control_source_v1_listener) &&
	       sizeof(struct dc_source_listener) ==
	       sizeof(struct ext_data_control_source_v1_listener),
	       "source listener");
_Static_assert(sizeof(struct dc_offer_listener) ==
	       sizeof(struct zwlr_data_control_offer_v1_listener) &&
	       sizeof(struct dc_offer_listener) ==
	       sizeof(struct ext_data_control_offer_v1_listener),
	       "offer listener");

static void dc_listen(struct wl_proxy *p, const void *listener, void *data)
{
	wl_proxy_add_listener(p, (void (**)(void))listener, data);
}

static struct wl_proxy *dc_new(struct wl_proxy *parent, uint32_t opcode,
			       const struct wl_interface *iface,
			       struct wl_seat *seat)
{
	uint32_t v = wl_proxy_get_version(parent);

	if (seat)
		return wl_proxy_marshal_flags(parent, opcode, iface, v, 0,
					      NULL, seat);
	return wl_proxy_marshal_flags(parent, opcode, iface, v, 0, NULL);
}

static void dc_destroy(struct wl_proxy *p, uint32_t opcode)
{
	if (p)
		wl_proxy_marshal_flags(p, opcode, NULL, wl_proxy_get_version(p),
				       WL_MARSHAL_FLAG_DESTROY);
}

static void dc_set(struct wl_proxy *device, unsigned int sel,
		   struct wl_proxy *source)
{
	wl_proxy_marshal_flags(device, sel == PVA_CLIP_PRIMARY ?
			       DC_SET_PRIMARY : DC_SET_SELECTION, NULL,
			       wl_proxy_get_version(device), 0, source);
}

static void dc_offer(struct wl_proxy *source, const char *mime)
{
	wl_proxy_marshal_flags(source, DC_SOURCE_OFFER, NULL,
			       wl_proxy_get_version(source), 0, mime);
}

static void dc_receive(struct wl_proxy *offer, const char *mime, int fd)
{
	wl_proxy_marshal_flags(offer, DC_OFFER_RECEIVE, NULL,
			       wl_proxy_get_version(offer), 0, mime, fd);
}

/* ---- state ---- */

/* Another client's content on a selection. */
struct offer {
	struct wl_list link;		/* wlc.offers, oldest first */
	struct wl_proxy *proxy;
	struct clip_types other;	/* valid MIME types, not text */
	int text_rank;			/* of text_name; 0: no text */
	char text_name[PVA_CLIP_TYPE_MAX + 1];
};

/* Our source, holding a selection for the host. */
struct source {
	struct wl_list link;		/* wlc.sources */
	struct wlc *c;
	struct wl_proxy *proxy;
	unsigned int sel;
	struct clip_types types;	/* the host's */
};

struct selection {
	struct offer *offer;		/* the current one; NULL: empty */
	bool offer_ours;		/* ... made of our own source */
	struct source *own;		/* ours, not cancelled yet */
	bool quiet_empty;		/* an empty selection is no news */
};

/* The session's content, read for the host. */
struct rd {
	struct wl_list link;		/* wlc.reads */
	struct wlc *c;
	uint32_t id;
	int fd;
	struct loop_source *src;
	uint8_t *buf;
	size_t len, cap, max;
	bool latin1;			/* X11's STRING */
	uint64_t last;			/* progress, ms */
};

enum wr_state { WR_FETCHING, WR_WRITING, WR_OVER };

/* The host's content, written to a client that pastes. */
struct wr {
	struct wl_list link;		/* wlc.writes */
	struct wlc *c;
	int fd;
	struct loop_source *src;
	enum wr_state state;
	bool starting;			/* inside agent_fetch_host() */
	uint32_t fetch;			/* its handle while fetching */
	uint8_t *data;
	size_t len, off;
	uint64_t last;
};

struct wlc {
	struct backend *b;
	const struct dc_proto *proto;
	struct wl_proxy *manager, *device;
	uint32_t version;
	bool primary;			/* the protocol has PRIMARY */
	struct selection sel[PVA_CLIP_NR_SELECTIONS];
	struct wl_list offers, sources, reads, writes;
	unsigned int nr_offers;
	struct loop_source *watch;	/* stalled transfers */
};

static const char *sel_name(unsigned int sel)
{
	return sel == PVA_CLIP_PRIMARY ? "PRIMARY" : "CLIPBOARD";
}

/* ---- plain text ---- */

/* Plain text's names, best first: what to ask an owner for. */
static const char *const text_names[] = {
	MIME_TEXT, "UTF8_STRING", "text/plain", "STRING", "TEXT",
};
#define NR_TEXT_NAMES	ARRAY_SIZE(text_names)
#define RANK_STRING	2	/* X11's STRING: Latin-1 */

/* How good a name for plain text @mime is: 0 not one. */
static int text_rank(const char *mime)
{
	for (unsigned int i = 0; i < NR_TEXT_NAMES; i++)
		if (!strcasecmp(mime, text_names[i]))
			return (int)(NR_TEXT_NAMES - i);
	return 0;
}

/* The length of the UTF-8 sequence that starts with @c; 0: none does. */
static unsigned int utf8_len(uint8_t c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

static bool utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned int n = utf8_len(p[i]);
		uint32_t cp;

		if (!n || len - i < n)
			return false;
		cp = n == 1 ? p[i] : p[i] & (0x7f >> n);
		for (unsigned int k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		/* overlong, surrogates, beyond U+10FFFF */
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += n;
	}
	return true;
}

/*
 * X11's STRING is Latin-1, but Wayland clients often serve the same
 * UTF-8 under every text name: keep what is valid UTF-8, convert the
 * rest. Frees @p; NULL when out of memory.
 */
static uint8_t *latin1_to_utf8(uint8_t *p, size_t *len)
{
	size_t n = 0;
	uint8_t *out;

	if (utf8_valid(p, *len))
		return p;
	out = malloc(*len * 2 + 1);
	if (out) {
		for (size_t i = 0; i < *len; i++) {
			if (p[i] < 0x80) {
				out[n++] = p[i];
			} else {
				out[n++] = (uint8_t)(0xc0 | p[i] >> 6);
				out[n++] = (uint8_t)(0x80 | (p[i] & 0x3f));
			}
		}
		*len = n;
	}
	free(p);
	return out;
}

/* ---- stalled transfers ---- */

static void read_fail(struct rd *r, uint32_t status);
static void write_free(struct wr *w);

static void watch_tick(struct loop *loop, int fd, uint32_t events,
		       void *data)
{
	struct wlc *c = data;
	uint64_t now = wlb_now_ms();
	struct rd *r, *rn;
	struct wr *w, *wn;

	(void)loop;
	(void)fd;
	(void)events;
	wl_list_for_each_safe(r, rn, &c->reads, link) {
		if (now - r->last < READ_STALL_MS)
			continue;
		log_warn("clipboard: the session's owner sent nothing for %d s: giving up",
			 READ_STALL_MS / 1000);
		read_fail(r, PVA_S_EIO);
	}
	wl_list_for_each_safe(w, wn, &c->writes, link) {
		if (w->state != WR_WRITING || now - w->last < WRITE_STALL_MS)
			continue;
		log_info("clipboard: a pasting client read nothing for %d s: giving up",
			 WRITE_STALL_MS / 1000);
		write_free(w);
	}
}

/* The watchdog runs while there are transfers, so an idle agent sleeps. */
static void watch_update(struct wlc *c)
{
	bool busy = !wl_list_empty(&c->reads) || !wl_list_empty(&c->writes);

	if (busy && !c->watch) {
		c->watch = loop_add_timer(c->b->loop, WATCH_MS, watch_tick, c);
		if (!c->watch)
			log_warn("clipboard: no timer: stalled transfers stay");
	} else if (!busy && c->watch) {
		loop_remove(c->watch);
		c->watch = NULL;
	}
}

/* ---- session -> host: reading an offer ---- */

static void read_free(struct rd *r)
{
	struct wlc *c = r->c;

	wl_list_remove(&r->link);
	loop_remove(r->src);
	close(r->fd);
	free(r->buf);
	free(r);
	watch_update(c);
}

static void read_fail(struct rd *r, uint32_t status)
{
	agent_content(r->c->b->a, r->id, status, NULL, 0);
	read_free(r);
}

static void read_done(struct rd *r)
{
	uint8_t *data = r->buf ? r->buf : malloc(1);
	size_t len = r->len;

	r->buf = NULL;
	if (data && r->latin1)
		data = latin1_to_utf8(data, &len);
	if (!data) {
		log_err("out of memory: the session's content is lost");
		read_fail(r, PVA_S_ENOMEM);
		return;
	}
	log_debug("clipboard: read %zu bytes of the session's content", len);
	agent_content(r->c->b->a, r->id, PVA_S_OK, data, len);
	read_free(r);
}

/* Room for more: false when over the bound or out of memory. */
static bool read_grow(struct rd *r)
{
	size_t cap = r->cap ? r->cap * 2 : READ_CHUNK;
	uint8_t *p;

	/* one byte more than allowed tells "too large" from "just fits" */
	if (cap > r->max + 1)
		cap = r->max + 1;
	if (cap <= r->cap) {
		log_info("clipboard: the session's content is larger than %zu bytes",
			 r->max);
		read_fail(r, PVA_S_E2BIG);
		return false;
	}
	p = realloc(r->buf, cap);
	if (!p) {
		log_err("out of memory reading the session's content");
		read_fail(r, PVA_S_ENOMEM);
		return false;
	}
	r->buf = p;
	r->cap = cap;
	return true;
}

static void read_event(struct loop *loop, int fd, uint32_t events,
		       void *data)
{
	struct rd *r = data;

	(void)loop;
	(void)events;
	/* a bounded batch, so other work is not starved */
	for (int i = 0; i < 16; i++) {
		ssize_t n;

		if (r->len == r->cap && !read_grow(r))
			return;
		n = read(fd, r->buf + r->len, r->cap - r->len);
		if (n > 0) {
			r->len += (size_t)n;
			r->last = wlb_now_ms();
			if (r->len > r->max && !read_grow(r))
				return;
			continue;
		}
		if (n == 0) {
			read_done(r);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return;
		log_warn("clipboard: reading the session's content: %s",
			 strerror(errno));
		read_fail(r, PVA_S_EIO);
		return;
	}
}

/* The offer's name for the core's @type; NULL: it has none. */
static const char *offer_mime(const struct offer *o, const char *type,
			      bool *latin1)
{
	*latin1 = false;
	if (!strcmp(type, MIME_TEXT)) {
		*latin1 = o->text_rank == RANK_STRING;
		return o->text_rank ? o->text_name : NULL;
	}
	return clip_types_has(&o->other, type) ? type : NULL;
}

void wlc_read(struct wlc *c, unsigned int sel, const char *type, uint32_t id)
{
	struct agent *a = c->b->a;
	struct selection *s;
	const char *mime;
	bool latin1;
	struct rd *r;
	int p[2];

	s = sel < PVA_CLIP_NR_SELECTIONS ? &c->sel[sel] : NULL;
	/* ours is the host's own content: the host knows better */
	if (!c->device || !s || !s->offer || s->offer_ours || s->own) {
		agent_content(a, id, PVA_S_ESTALE, NULL, 0);
		return;
	}
	mime = offer_mime(s->offer, type, &latin1);
	if (!mime) {
		agent_content(a, id, PVA_S_ENOENT, NULL, 0);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_warn("clipboard: cannot read the session's content: %s",
			 r ? strerror(errno) : "out of memory");
		free(r);
		agent_content(a, id, PVA_S_EIO, NULL, 0);
		return;
	}
	r->src = loop_add_fd(c->b->loop, p[0], EPOLLIN, read_event, r);
	if (!r->src) {
		close(p[0]);
		close(p[1]);
		free(r);
		agent_content(a, id, PVA_S_EIO, NULL, 0);
		return;
	}
	r->c = c;
	r->id = id;
	r->fd = p[0];
	r->latin1 = latin1;
	r->max = (size_t)agent_clip_max(a);
	r->last = wlb_now_ms();
	wl_list_insert(c->reads.prev, &r->link);
	/* libwayland sends a copy of the write end: ours goes now, so the
	 * owner's close() is our end of file
	 */
	dc_receive(s->offer->proxy, mime, p[1]);
	close(p[1]);
	log_debug("clipboard: reading the session's %s as %s", sel_name(sel),
		  mime);
	watch_update(c);
}

void wlc_cancel_read(struct wlc *c, uint32_t id)
{
	struct rd *r;

	wl_list_for_each(r, &c->reads, link) {
		if (r->id == id) {
			read_free(r);
			return;
		}
	}
}

/* ---- offers and selection events ---- */

static void offer_type(void *data, struct wl_proxy *p, const char *mime)
{
	struct offer *o = data;
	int rank;

	(void)p;
	if (!mime)
		return;
	rank = text_rank(mime);
	if (rank) {
		if (rank > o->text_rank) {
			o->text_rank = rank;
			snprintf(o->text_name, sizeof(o->text_name), "%s",
				 mime);
		}
		return;
	}
	/* X11 targets (TARGETS, SAVE_TARGETS...) are no MIME types; a
	 * name the protocol does not allow is dropped too
	 */
	if (strchr(mime, '/'))
		clip_types_add(&o->other, mime);
}

static const struct dc_offer_listener offer_listener = {
	.offer = offer_type,
};

static void offer_free(struct wlc *c, struct offer *o)
{
	dc_destroy(o->proxy, DC_OFFER_DESTROY);
	wl_list_remove(&o->link);
	c->nr_offers--;
	free(o);
}

static bool offer_current(const struct wlc *c, const struct offer *o)
{
	return c->sel[0].offer == o || c->sel[1].offer == o;
}

static void dev_data_offer(void *data, struct wl_proxy *dev,
			   struct wl_proxy *p)
{
	struct wlc *c = data;
	struct offer *o, *old, *tmp;

	(void)dev;
	if (!p)
		return;
	/* offers never made current (a compositor's odd ways) go, oldest
	 * first, so they cannot pile up
	 */
	wl_list_for_each_safe(old, tmp, &c->offers, link) {
		if (c->nr_offers < MAX_OFFERS)
			break;
		if (!offer_current(c, old))
			offer_free(c, old);
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		log_err("out of memory: a selection of the session is lost");
		dc_destroy(p, DC_OFFER_DESTROY);
		return;
	}
	o->proxy = p;
	dc_listen(p, &offer_listener, o);
	wl_list_insert(c->offers.prev, &o->link);
	c->nr_offers++;
}

/* Ours, made by the data_offer event; NULL for anything else. */
static struct offer *offer_of(struct wl_proxy *p)
{
	if (!p || wl_proxy_get_listener(p) != (const void *)&offer_listener)
		return NULL;
	return wl_proxy_get_user_data(p);
}

static void announce(struct wlc *c, unsigned int sel, const struct offer *o)
{
	struct clip_types t = { 0 };

	if (o->text_rank)
		clip_types_add(&t, MIME_TEXT);
	for (unsigned int i = 0; i < o->other.n; i++)
		clip_types_add(&t, o->other.name[i]);
	log_debug("clipboard: the session's %s has a new owner (%u types)",
		  sel_name(sel), t.n);
	agent_local_grab(c->b->a, sel, &t);
}

static void selection(struct wlc *c, unsigned int sel, struct wl_proxy *p)
{
	struct selection *s = &c->sel[sel];
	struct offer *o = offer_of(p), *prev = s->offer;

	if (p && !o)
		log_warn("clipboard: the compositor named an unknown offer for %s",
			 sel_name(sel));
	s->offer = o;
	if (prev && prev != o && !offer_current(c, prev))
		offer_free(c, prev);
	s->offer_ours = false;
	if (s->own) {
		/* our source, or its selection on its way: not news */
		s->offer_ours = o != NULL;
		return;
	}
	if (!o) {
		if (s->quiet_empty)
			return;
		s->quiet_empty = true;
		log_debug("clipboard: the session's %s is empty",
			  sel_name(sel));
		agent_local_grab(c->b->a, sel, NULL);
		return;
	}
	s->quiet_empty = false;
	announce(c, sel, o);
}

static void dev_selection(void *data, struct wl_proxy *dev,
			  struct wl_proxy *p)
{
	(void)dev;
	selection(data, PVA_CLIP_CLIPBOARD, p);
}

static void dev_primary(void *data, struct wl_proxy *dev, struct wl_proxy *p)
{
	(void)dev;
	selection(data, PVA_CLIP_PRIMARY, p);
}

static void source_free(struct source *src);

/* No device any more: forget the selections (transfers go on). */
static void device_stop(struct wlc *c)
{
	struct source *src, *stmp;
	struct offer *o, *otmp;

	for (unsigned int s = 0; s < PVA_CLIP_NR_SELECTIONS; s++) {
		c->sel[s].offer = NULL;
		c->sel[s].own = NULL;
	}
	wl_list_for_each_safe(src, stmp, &c->sources, link)
		source_free(src);
	wl_list_for_each_safe(o, otmp, &c->offers, link)
		offer_free(c, o);
	dc_destroy(c->device, DC_DEVICE_DESTROY);
	c->device = NULL;
}

static void dev_finished(void *data, struct wl_proxy *dev)
{
	(void)dev;
	log_warn("clipboard: the compositor ended our data device: no clipboard from now on");
	device_stop(data);
}

static const struct dc_device_listener device_listener = {
	.data_offer = dev_data_offer,
	.selection = dev_selection,
	.finished = dev_finished,
	.primary_selection = dev_primary,
};

void wlc_seat_gone(struct wlc *c)
{
	device_stop(c);
}

/* ---- host -> session: writing to a paster ---- */

static void write_free(struct wr *w)
{
	struct wlc *c = w->c;

	if (w->fetch)
		agent_fetch_cancel(c->b->a, w->fetch);
	wl_list_remove(&w->link);
	loop_remove(w->src);
	close(w->fd);
	free(w->data);
	free(w);
	watch_update(c);
}

/* Over: freed now, or by write_start() when inside it. */
static void write_over(struct wr *w)
{
	w->state = WR_OVER;
	if (!w->starting)
		write_free(w);
}

/* 1 all written, 0 more to come, -1 the paster is gone. */
static int write_some(struct wr *w)
{
	while (w->off < w->len) {
		size_t n = w->len - w->off;
		ssize_t r;

		r = write(w->fd, w->data + w->off,
			  n < WRITE_CHUNK ? n : WRITE_CHUNK);
		if (r >= 0) {
			w->off += (size_t)r;
			w->last = wlb_now_ms();
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		/* a reader that leaves early is normal (EPIPE) */
		if (errno == EPIPE)
			log_debug("clipboard: the paster left after %zu of %zu bytes",
				  w->off, w->len);
		else
			log_warn("clipboard: writing to a paster: %s",
				 strerror(errno));
		return -1;
	}
	log_debug("clipboard: pasted %zu bytes", w->len);
	return 1;
}

static void write_event(struct loop *loop, int fd, uint32_t events,
			void *data)
{
	struct wr *w = data;

	(void)loop;
	(void)fd;
	(void)events;
	if (write_some(w))
		write_free(w);
}

static void write_fetched(void *ctx, uint32_t status, uint8_t *data,
			  size_t len)
{
	struct wr *w = ctx;

	w->fetch = 0;
	if (status != PVA_S_OK) {
		log_info("clipboard: a paste gets nothing: the host's content: %s",
			 clip_status_name(status));
		free(data);
		write_over(w);
		return;
	}
	w->data = data;
	w->len = len;
	w->state = WR_WRITING;
	w->last = wlb_now_ms();
	if (write_some(w)) {
		write_over(w);
		return;
	}
	w->src = loop_add_fd(w->c->b->loop, w->fd, EPOLLOUT, write_event, w);
	if (!w->src)
		write_over(w);
}

static void write_start(struct wlc *c, unsigned int sel, const char *type,
			int fd)
{
	struct wr *w = calloc(1, sizeof(*w));
	int fl = fcntl(fd, F_GETFL);
	uint32_t handle;

	if (!w || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_warn("clipboard: a paste gets nothing: %s",
			 w ? strerror(errno) : "out of memory");
		free(w);
		close(fd);
		return;
	}
	w->c = c;
	w->fd = fd;
	w->state = WR_FETCHING;
	wl_list_insert(c->writes.prev, &w->link);
	watch_update(c);
	/* the content may be there at once (cached): write_fetched() runs
	 * inside, and must not free w under our feet
	 */
	w->starting = true;
	handle = agent_fetch_host(c->b->a, sel, type, write_fetched, w);
	w->starting = false;
	if (w->state == WR_FETCHING)
		w->fetch = handle;
	else if (w->state == WR_OVER)
		write_free(w);
}

/* The host's type for what a paster asks, @mime; NULL: none. */
static const char *host_type(const struct source *src, const char *mime)
{
	for (unsigned int i = 0; i < src->types.n; i++)
		if (!strcmp(src->types.name[i], mime))
			return src->types.name[i];
	if (text_rank(mime) && clip_types_has(&src->types, MIME_TEXT))
		return MIME_TEXT;
	return NULL;
}

static void source_send(void *data, struct wl_proxy *p, const char *mime,
			int32_t fd)
{
	struct source *src = data;
	const char *type = mime ? host_type(src, mime) : NULL;

	(void)p;
	if (!type) {
		log_debug("clipboard: a paster asked for %s, not offered",
			  mime ? mime : "nothing");
		close(fd);
		return;
	}
	log_debug("clipboard: a paster asks for the host's %s as %s",
		  sel_name(src->sel), mime);
	write_start(src->c, src->sel, type, fd);
}

static void source_cancelled(void *data, struct wl_proxy *p)
{
	struct source *src = data;
	struct selection *s = &src->c->sel[src->sel];

	(void)p;
	/* someone else owns the selection now: its event comes next */
	if (s->own == src)
		s->own = NULL;
	source_free(src);
}

static const struct dc_source_listener source_listener = {
	.send = source_send,
	.cancelled = source_cancelled,
};

static void source_free(struct source *src)
{
	dc_destroy(src->proxy, DC_SOURCE_DESTROY);
	wl_list_remove(&src->link);
	free(src);
}

static void source_offer(struct source *src, const char *type)
{
	dc_offer(src->proxy, type);
	if (strcmp(type, MIME_TEXT))
		return;
	/* X clients (through Xwayland) and older Wayland ones ask for
	 * text by these names
	 */
	for (unsigned int i = 1; i < NR_TEXT_NAMES; i++)
		if (!clip_types_has(&src->types, text_names[i]))
			dc_offer(src->proxy, text_names[i]);
}

static struct source *source_new(struct wlc *c, unsigned int sel,
				 const struct clip_types *types)
{
	struct source *src = calloc(1, sizeof(*src));

	if (src)
		src->proxy = dc_new(c->manager, DC_CREATE_SOURCE,
				    c->proto->source, NULL);
	if (!src || !src->proxy) {
		log_err("out of memory: the host's %s is not offered",
			sel_name(sel));
		free(src);
		return NULL;
	}
	src->c = c;
	src->sel = sel;
	src->types = *types;
	dc_listen(src->proxy, &source_listener, src);
	wl_list_insert(&c->sources, &src->link);
	for (unsigned int i = 0; i < types->n; i++)
		source_offer(src, types->name[i]);
	return src;
}

/* The host's side is empty: so is the session's. */
static void clear(struct wlc *c, unsigned int sel)
{
	struct selection *s = &c->sel[sel];

	/* the empty selection we make is not news */
	s->quiet_empty = true;
	if (!s->own && !s->offer)
		return;
	dc_set(c->device, sel, NULL);
	if (s->own)
		source_free(s->own);
	s->own = NULL;
}

void wlc_host_grab(struct wlc *c, unsigned int sel,
		   const struct clip_types *types)
{
	struct source *src, *old;

	if (!c->device || sel >= PVA_CLIP_NR_SELECTIONS ||
	    (sel == PVA_CLIP_PRIMARY && !c->primary))
		return;
	if (!types->n) {
		clear(c, sel);
		return;
	}
	src = source_new(c, sel, types);
	if (!src)
		return;
	/* the new one first: destroying the old one before would make the
	 * compositor empty the selection in between
	 */
	dc_set(c->device, sel, src->proxy);
	old = c->sel[sel].own;
	c->sel[sel].own = src;
	c->sel[sel].quiet_empty = false;
	if (old)
		source_free(old);
	log_debug("clipboard: holding the session's %s for the host",
		  sel_name(sel));
}

void wlc_release(struct wlc *c)
{
	for (unsigned int sel = 0; sel < PVA_CLIP_NR_SELECTIONS; sel++) {
		if (c->sel[sel].own && c->device) {
			log_debug("clipboard: giving up the session's %s",
				  sel_name(sel));
			clear(c, sel);
		}
	}
}

/* ---- setup ---- */

static const struct dc_proto *proto_of(const char *interface)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(dc_protos); i++)
		if (!strcmp(interface, dc_protos[i].manager->name))
			return &dc_protos[i];
	return NULL;
}

static const char *skip_version(const char *signature)
{
	while (*signature >= '0' && *signature <= '9')
		signature++;
	return signature;
}

static bool same_messages(const struct wl_message *a, int na,
			  const struct wl_message *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) ||
		    strcmp(skip_version(a[i].signature),
			   skip_version(b[i].signature)))
			return false;
	return true;
}

/* What the code above takes for granted: both have the same messages. */
static bool same_shape(const struct dc_proto *p, const struct dc_proto *q)
{
	const struct wl_interface *const x[] = {
		p->manager, p->device, p->source, p->offer,
	};
	const struct wl_interface *const y[] = {
		q->manager, q->device, q->source, q->offer,
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(x); i++)
		if (!same_messages(x[i]->methods, x[i]->method_count,
				   y[i]->methods, y[i]->method_count) ||
		    !same_messages(x[i]->events, x[i]->event_count,
				   y[i]->events, y[i]->event_count))
			return false;
	return true;
}

int wlc_rank(const char *interface)
{
	const struct dc_proto *p = proto_of(interface);

	if (!p)
		return 0;
	/* the one tested here is wlr's: ext is the one that must match */
	if (p == &dc_protos[DC_EXT] && !same_shape(p, &dc_protos[DC_WLR])) {
		log_err("clipboard: %s is not shaped like %s: not used (a bug in pva-agent)",
			p->label, dc_protos[DC_WLR].label);
		return 0;
	}
	return p->rank;
}

struct wlc *wlc_new(struct backend *b, const char *interface, uint32_t name,
		    uint32_t version)
{
	const struct dc_proto *p = proto_of(interface);
	struct wlc *c;

	if (!p)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_err("out of memory");
		return NULL;
	}
	c->b = b;
	c->proto = p;
	wl_list_init(&c->offers);
	wl_list_init(&c->sources);
	wl_list_init(&c->reads);
	wl_list_init(&c->writes);
	/* the selections the agent finds at start are no news when empty */
	for (unsigned int s = 0; s < PVA_CLIP_NR_SELECTIONS; s++)
		c->sel[s].quiet_empty = true;
	c->version = version < (uint32_t)p->manager->version ?
		     version : (uint32_t)p->manager->version;
	c->manager = wl_registry_bind(b->registry, name, p->manager,
				      c->version);
	if (c->manager)
		c->device = dc_new(c->manager, DC_GET_DEVICE, p->device,
				   b->seat);
	if (!c->device) {
		log_err("out of memory");
		wlc_free(c);
		return NULL;
	}
	dc_listen(c->device, &device_listener, c);
	c->primary = c->version >= p->primary_since;
	log_info("clipboard: through %s version %u", p->label, c->version);
	if (agent_sync_primary(b->a) && !c->primary)
		log_warn("clipboard: PRIMARY is not synced: %s version %u has no primary selection",
			 p->label, c->version);
	return c;
}

void wlc_free(struct wlc *c)
{
	struct rd *r, *rn;
	struct wr *w, *wn;

	if (!c)
		return;
	/* the core has given up its requests by now: no answers */
	wl_list_for_each_safe(r, rn, &c->reads, link)
		read_free(r);
	wl_list_for_each_safe(w, wn, &c->writes, link)
		write_free(w);
	device_stop(c);
	dc_destroy(c->manager, DC_MANAGER_DESTROY);
	loop_remove(c->watch);
	free(c);
}
