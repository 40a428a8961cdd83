// SPDX-License-Identifier: MIT
/*
 * The X11 clipboard: CLIPBOARD and PRIMARY between the session's clients
 * and the host (PROTOCOL.md 6.8; ICCCM chapter 2 for the X side).
 *
 * Session -> host: XFixes says when a selection gets a new owner; we ask
 * it for TARGETS and announce them as MIME types. When the host pastes,
 * the selection is converted into a property of our window (INCR for
 * large contents), one property per read in flight.
 *
 * Host -> session: our window owns the selection as the host's proxy and
 * answers SelectionRequests with the host's content, fetched through the
 * core, written to the requestor's property (INCR for large contents).
 */
#include "x11_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <X11/Xatom.h>
#include <X11/extensions/Xfixes.h>

#include "log.h"

#define TARGETS_TIMEOUT_MS	3000
#define READ_TIMEOUT_MS		10000	/* an owner's silence, while reading */
#define SEND_TIMEOUT_MS		10000	/* a requestor's, while sending INCR */
#define QUARANTINE_MS		5000	/* a failed read's property rests */
#define NR_PROPS		24	/* reads in flight, at most */
#define MAX_TARGETS		512	/* looked at, of one owner */
#define TARGETS_MAX_BYTES	(64 * 1024)
#define MAX_SENDS		64	/* requests served at once */
/* Larger contents go INCR even when the server would take them in one
 * request: a property of many MiB costs the server that much memory. Up
 * to 2 MiB go in one piece: every INCR chunk is a round trip through the
 * requestor, which costs more than the memory (measured: bench/).
 */
#define INCR_CHUNK_MAX		(2 * 1024 * 1024)

/* A conversion of a selection into a property of our window. */
struct rx {
	struct rx *next;
	unsigned int sel;
	unsigned int prop;	/* index in c->prop */
	Atom target;
	bool targets;		/* TARGETS for an owner change, else content */
	uint32_t owner_gen;	/* targets: the owner change it is for */
	uint32_t id;		/* content: the core's read */
	bool text;		/* content: MIME_TEXT, converted to UTF-8 */
	bool notified;		/* SelectionNotify came */
	bool incr;		/* the owner sends chunks */
	bool dead;		/* given up: only holds its property */
	Atom type;		/* of the data */
	int format;
	uint8_t *buf;
	size_t len, cap;
	uint64_t deadline;
};

/* The host's content on its way to a requestor's property. */
struct tx {
	struct tx *next;
	struct x11_clip *c;
	Window requestor;
	Atom selection, target, property, type;
	Time time;
	unsigned int sel;
	enum { AS_IS, TO_LATIN1, TO_TEXT } conv;
	bool fetching, in_call;	/* waiting for the host; inside the call */
	uint32_t fetch;		/* its handle */
	uint32_t status;
	uint8_t *data;
	size_t len, off;
	bool incr;		/* INCR: waiting for deletes */
	uint64_t deadline;
};

/* What the session's owner of a selection offers, as announced. */
struct offer {
	struct clip_types types;
	Atom atom[PVA_CLIP_MAX_TYPES];	/* the X target of each type */
};

/* The selection as we hold it for the host. */
struct proxy {
	bool owned;
	Time since;		/* server time we took it at */
	/* waiting for a timestamp to do this */
	enum { WANT_NOTHING, WANT_OWN, WANT_CLEAR, WANT_RELEASE } want;
	Time cleared;		/* we set the owner to None at this time */
	struct clip_types types;
	Atom atom[PVA_CLIP_MAX_TYPES];
};

struct x11_clip {
	struct x11 *x;
	struct agent *a;
	int fixes_event;
	bool synced[PVA_CLIP_NR_SELECTIONS];
	Atom sel_atom[PVA_CLIP_NR_SELECTIONS];
	uint32_t owner_gen[PVA_CLIP_NR_SELECTIONS];
	struct offer offer[PVA_CLIP_NR_SELECTIONS];
	struct proxy proxy[PVA_CLIP_NR_SELECTIONS];
	Atom prop[NR_PROPS];
	bool prop_busy[NR_PROPS];
	uint64_t prop_freed[NR_PROPS];
	struct rx *rxs;		/* oldest first */
	struct tx *txs;
	unsigned int nr_tx;
	size_t chunk;		/* most bytes written to a property at once */
};

static const char *const sel_name[] = { "CLIPBOARD", "PRIMARY" };

static int sel_of(const struct x11_clip *c, Atom a)
{
	for (int s = 0; s < PVA_CLIP_NR_SELECTIONS; s++)
		if (c->synced[s] && c->sel_atom[s] == a)
			return s;
	return -1;
}

/* ---- text conversions ---- */

static uint8_t *latin1_to_utf8(const uint8_t *s, size_t n, size_t *out)
{
	size_t high = 0, j = 0;
	uint8_t *d;

	for (size_t i = 0; i < n; i++)
		high += s[i] >= 0x80;
	d = malloc(n + high + 1);
	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x80) {
			d[j++] = s[i];
		} else {
			d[j++] = (uint8_t)(0xc0 | s[i] >> 6);
			d[j++] = (uint8_t)(0x80 | (s[i] & 0x3f));
		}
	}
	*out = j;
	return d;
}

/*
 * The next character of UTF-8 @s (@n bytes left): its length, and in
 * *cp its code point, or -1 for a malformed sequence (of that length).
 */
static size_t utf8_next(const uint8_t *s, size_t n, long *cp)
{
	size_t len, i;
	long v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, v = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, v = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, v = s[0] & 0x07;
	else
		len = 0, v = 0;
	if (!len || len > n) {
		*cp = -1;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = -1;
			return i;
		}
		v = v << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and beyond Unicode are malformed */
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		v = -1;
	*cp = v;
	return len;
}

/* In place (never longer): what Latin-1 lacks becomes '?'. */
static size_t utf8_to_latin1(uint8_t *s, size_t n)
{
	size_t i = 0, j = 0;

	while (i < n) {
		long cp;

		i += utf8_next(s + i, n - i, &cp);
		s[j++] = cp >= 0 && cp <= 0xff ? (uint8_t)cp : '?';
	}
	return j;
}

static bool utf8_is_latin1(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		long cp;

		i += utf8_next(s + i, n - i, &cp);
		if (cp < 0 || cp > 0xff)
			return false;
	}
	return true;
}

/* ---- properties of our window ---- */

static int prop_get(struct x11_clip *c, unsigned int p, bool del,
		    Atom *type, int *format, unsigned long *n,
		    unsigned char **data)
{
	unsigned long after;

	*data = NULL;
	/* in 32-bit units; one past the limit tells it is over */
	if (XGetWindowProperty(c->x->dpy, c->x->win, c->prop[p], 0,
			       (long)(agent_clip_max(c->a) / 4 + 1), del,
			       AnyPropertyType, type, format, n, &after,
			       data) != Success)
		return -EIO;
	if (after) {
		XDeleteProperty(c->x->dpy, c->x->win, c->prop[p]);
		return -E2BIG;
	}
	return 0;
}

/* Add @n items of @format as Xlib returns them: 32 is in longs. */
static int rx_append(struct x11_clip *c, struct rx *r, int format,
		     const unsigned char *p, unsigned long n)
{
	size_t unit = format == 32 ? 4 : format == 16 ? 2 : 1;
	size_t add = n * unit;
	uint64_t max = r->targets ? TARGETS_MAX_BYTES : agent_clip_max(c->a);

	if (r->len + add > max)
		return -E2BIG;
	if (r->len + add > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		uint8_t *nb;

		while (cap < r->len + add)
			cap *= 2;
		nb = realloc(r->buf, cap);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = cap;
	}
	if (format == 32) {
		for (unsigned long i = 0; i < n; i++) {
			uint32_t v = (uint32_t)((const unsigned long *)p)[i];

			memcpy(r->buf + r->len + i * 4, &v, 4);
		}
	} else if (add) {
		memcpy(r->buf + r->len, p, add);
	}
	r->len += add;
	return 0;
}

/* ---- reads: the session's owner's data into our window ---- */

static struct rx *rx_new(struct x11_clip *c, unsigned int sel)
{
	struct rx *r, **pp;
	int best = -1;

	/* the property that rested longest: a stale owner that still
	 * writes to an old one does not hit a new read
	 */
	for (int i = 0; i < NR_PROPS; i++)
		if (!c->prop_busy[i] &&
		    (best < 0 || c->prop_freed[i] < c->prop_freed[best]))
			best = i;
	if (best < 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->sel = sel;
	r->prop = (unsigned int)best;
	c->prop_busy[best] = true;
	for (pp = &c->rxs; *pp; pp = &(*pp)->next)
		;
	*pp = r;
	return r;
}

static void rx_free(struct x11_clip *c, struct rx *r)
{
	struct rx **pp = &c->rxs;

	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
	c->prop_busy[r->prop] = false;
	c->prop_freed[r->prop] = x11_now_ms();
	free(r->buf);
	free(r);
}

/* Done with @r: free it, or let it hold its property a while when the
 * owner may still write there.
 */
static void rx_retire(struct x11_clip *c, struct rx *r)
{
	if (r->notified && !r->incr) {
		rx_free(c, r);
		return;
	}
	r->dead = true;
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = 0;
	r->deadline = x11_now_ms() + QUARANTINE_MS;
}

static void announce_empty(struct x11_clip *c, unsigned int sel)
{
	memset(&c->offer[sel], 0, sizeof(c->offer[sel]));
	agent_local_grab(c->a, sel, NULL);
}

static void rx_fail(struct x11_clip *c, struct rx *r, uint32_t status)
{
	if (r->targets) {
		/* the owner has something, but we cannot tell what */
		if (r->owner_gen == c->owner_gen[r->sel])
			announce_empty(c, r->sel);
	} else {
		agent_content(c->a, r->id, status, NULL, 0);
	}
	rx_retire(c, r);
}

/* Plain text's rank among the X names for it (0 best), or -1. */
static int text_rank(const char *name)
{
	static const char *const names[] = {
		"UTF8_STRING", MIME_TEXT, "STRING", "text/plain", "TEXT",
		"COMPOUND_TEXT",
	};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return (int)i;
	return -1;
}

/* The MIME types of an owner's targets; @text: its best text target. */
static void offer_build(struct offer *o, char **names, const Atom *atoms,
			unsigned long n)
{
	struct clip_types t = { 0 };
	Atom at[PVA_CLIP_MAX_TYPES], text = None;
	int best = -1;

	for (unsigned long i = 0; i < n; i++) {
		int rank;

		if (!names[i])
			continue;
		rank = text_rank(names[i]);
		if (rank >= 0) {
			if (best < 0 || rank < best) {
				best = rank;
				text = atoms[i];
			}
			continue;
		}
		/* TARGETS, TIMESTAMP, MULTIPLE and the like are no MIME */
		if (!strchr(names[i], '/') || t.n >= PVA_CLIP_MAX_TYPES - 1)
			continue;
		if (!clip_type_valid(names[i], strlen(names[i])) ||
		    clip_types_has(&t, names[i]))
			continue;
		at[t.n] = atoms[i];
		clip_types_add(&t, names[i]);
	}
	memset(o, 0, sizeof(*o));
	if (text != None) {
		clip_types_add(&o->types, MIME_TEXT);
		o->atom[0] = text;
	}
	for (unsigned int i = 0; i < t.n; i++) {
		o->atom[o->types.n] = at[i];
		clip_types_add(&o->types, t.name[i]);
	}
}

static void rx_targets_done(struct x11_clip *c, struct rx *r)
{
	const uint8_t *p = r->buf;
	unsigned long n = r->len / 4, good = 0;
	Atom *atoms;
	char **names;

	if (r->owner_gen != c->owner_gen[r->sel])
		return;		/* another owner meanwhile */
	if (r->format != 32) {
		log_info("clipboard: the owner of %s sent malformed TARGETS",
			 sel_name[r->sel]);
		announce_empty(c, r->sel);
		return;
	}
	if (n > MAX_TARGETS)
		n = MAX_TARGETS;
	atoms = calloc(n + 1, sizeof(*atoms));
	names = calloc(n + 1, sizeof(*names));
	if (!atoms || !names) {
		log_err("out of memory: the session's clipboard is not announced");
		goto out;
	}
	for (unsigned long i = 0; i < n; i++) {
		uint32_t v;

		memcpy(&v, p + i * 4, 4);
		if (v != None)
			atoms[good++] = v;
	}
	/* an owner may send atoms that do not exist: those stay NULL */
	x11_trap_begin(c->x);
	XGetAtomNames(c->x->dpy, atoms, (int)good, names);
	x11_trap_end(c->x);
	offer_build(&c->offer[r->sel], names, atoms, good);
	log_debug("clipboard: the session's %s offers %lu targets, %u types",
		  sel_name[r->sel], n, c->offer[r->sel].types.n);
	agent_local_grab(c->a, r->sel, &c->offer[r->sel].types);
	for (unsigned long i = 0; i < good; i++)
		if (names[i])
			XFree(names[i]);
out:
	free(atoms);
	free(names);
}

static void rx_content_done(struct x11_clip *c, struct rx *r)
{
	uint8_t *data = r->buf;
	size_t len = r->len;
	bool latin1 = r->type == XA_STRING;

	if (r->text && r->type == c->x->atom[X11_COMPOUND_TEXT]) {
		/* without escapes, compound text is Latin-1 */
		if (r->len && memchr(r->buf, 0x1b, r->len)) {
			log_info("clipboard: compound text with other character sets is not supported");
			agent_content(c->a, r->id, PVA_S_EIO, NULL, 0);
			return;
		}
		latin1 = true;
	}
	if (r->text && latin1) {
		data = latin1_to_utf8(r->buf, r->len, &len);
		if (!data) {
			agent_content(c->a, r->id, PVA_S_ENOMEM, NULL, 0);
			return;
		}
		free(r->buf);
	} else if (!data) {
		data = malloc(1);	/* empty content is content */
		if (!data) {
			agent_content(c->a, r->id, PVA_S_ENOMEM, NULL, 0);
			return;
		}
	}
	r->buf = NULL;
	log_debug("clipboard: read %zu bytes from the session's %s",
		  len, sel_name[r->sel]);
	agent_content(c->a, r->id, PVA_S_OK, data, len);
}

static void rx_done(struct x11_clip *c, struct rx *r)
{
	if (r->targets)
		rx_targets_done(c, r);
	else
		rx_content_done(c, r);
	r->incr = false;	/* the owner is done with the property */
	rx_retire(c, r);
}

/* Reading failed (-errno): the read ends with the matching status. */
static void rx_error(struct x11_clip *c, struct rx *r, int err)
{
	if (err == -E2BIG && !r->targets)
		log_info("clipboard: the session's content is larger than %llu bytes",
			 (unsigned long long)agent_clip_max(c->a));
	rx_fail(c, r, err == -E2BIG ? PVA_S_E2BIG :
		      err == -ENOMEM ? PVA_S_ENOMEM : PVA_S_EIO);
}

/* The property the owner answered with: the data, or the start of INCR. */
static void rx_first(struct x11_clip *c, struct rx *r)
{
	unsigned char *p;
	unsigned long n;
	int format, err;
	Atom type;

	err = prop_get(c, r->prop, True, &type, &format, &n, &p);
	if (!err && type == None)
		err = -EIO;	/* announced, but not there */
	if (!err && type == c->x->atom[X11_INCR]) {
		/* deleting it (done) asks for the first chunk */
		log_debug("clipboard: INCR from the owner of %s",
			  sel_name[r->sel]);
		r->incr = true;
		r->deadline = x11_now_ms() + READ_TIMEOUT_MS;
		XFree(p);
		return;
	}
	r->type = type;
	r->format = format;
	if (!err)
		err = rx_append(c, r, format, p, n);
	if (p)
		XFree(p);
	if (err) {
		rx_error(c, r, err);
		return;
	}
	rx_done(c, r);
}

/* An INCR chunk came: take it; an empty one ends the transfer. */
static void rx_chunk(struct x11_clip *c, struct rx *r)
{
	unsigned char *p;
	unsigned long n;
	int format, err;
	Atom type;

	err = prop_get(c, r->prop, True, &type, &format, &n, &p);
	if (!err && type == None) {	/* deleted meanwhile: not a chunk */
		XFree(p);
		return;
	}
	if (!err && n == 0) {
		XFree(p);
		rx_done(c, r);
		return;
	}
	r->type = type;
	r->format = format;
	if (!err)
		err = rx_append(c, r, format, p, n);
	if (p)
		XFree(p);
	if (err) {
		rx_error(c, r, err);
		return;
	}
	r->deadline = x11_now_ms() + READ_TIMEOUT_MS;
}

/* A read that was given up gets its answer: clear the property, unless
 * the owner streams INCR into it (then it rests until its deadline).
 */
static void rx_dead_answer(struct x11_clip *c, struct rx *r)
{
	unsigned char *p = NULL;
	unsigned long n, after;
	int format;
	Atom type = None;

	XGetWindowProperty(c->x->dpy, c->x->win, c->prop[r->prop], 0, 0,
			   False, AnyPropertyType, &type, &format, &n, &after,
			   &p);
	if (p)
		XFree(p);
	if (type == c->x->atom[X11_INCR])
		return;
	XDeleteProperty(c->x->dpy, c->x->win, c->prop[r->prop]);
	rx_free(c, r);
}

static struct rx *rx_for_notify(struct x11_clip *c, const XSelectionEvent *e)
{
	for (struct rx *r = c->rxs; r; r = r->next) {
		if (r->notified)
			continue;
		if (e->property != None ? e->property == c->prop[r->prop] :
		    (c->sel_atom[r->sel] == e->selection &&
		     r->target == e->target))
			return r;
	}
	return NULL;
}

static void on_selection_notify(struct x11_clip *c, const XSelectionEvent *e)
{
	struct rx *r = rx_for_notify(c, e);

	if (!r)
		return;
	r->notified = true;
	if (r->dead) {
		if (e->property == None)
			rx_free(c, r);
		else
			rx_dead_answer(c, r);
		return;
	}
	if (e->property == None) {
		log_debug("clipboard: the owner of %s refused the conversion",
			  sel_name[r->sel]);
		rx_fail(c, r, PVA_S_ENOENT);
		return;
	}
	rx_first(c, r);
}

static bool on_own_property(struct x11_clip *c, const XPropertyEvent *e)
{
	for (struct rx *r = c->rxs; r; r = r->next) {
		if (c->prop[r->prop] != e->atom)
			continue;
		if (r->incr && r->notified && !r->dead &&
		    e->state == PropertyNewValue)
			rx_chunk(c, r);
		return true;
	}
	return true;	/* ours anyway: nothing else uses them */
}

static void ask_targets(struct x11_clip *c, unsigned int sel)
{
	struct rx *r = rx_new(c, sel);

	if (!r) {
		log_warn("clipboard: too many conversions at once: the new content of %s is not announced",
			 sel_name[sel]);
		return;
	}
	r->targets = true;
	r->target = c->x->atom[X11_TARGETS];
	r->owner_gen = c->owner_gen[sel];
	r->deadline = x11_now_ms() + TARGETS_TIMEOUT_MS;
	XConvertSelection(c->x->dpy, c->sel_atom[sel], r->target,
			  c->prop[r->prop], c->x->win, CurrentTime);
}

static void on_owner(struct x11_clip *c, const XFixesSelectionNotifyEvent *e)
{
	int sel = sel_of(c, e->selection);
	Window owner = e->subtype == XFixesSetSelectionOwnerNotify ?
		       e->owner : None;

	if (sel < 0)
		return;
	c->owner_gen[sel]++;
	/* our own proxy for the host: no news (no feedback loops) */
	if (owner == c->x->win)
		return;
	if (owner != None) {
		log_debug("clipboard: %s has a new owner 0x%lx", sel_name[sel],
			  owner);
		ask_targets(c, (unsigned int)sel);
		return;
	}
	/* emptied because the host's was: not news either */
	if (e->subtype == XFixesSetSelectionOwnerNotify &&
	    c->proxy[sel].cleared &&
	    e->selection_timestamp == c->proxy[sel].cleared)
		return;
	log_debug("clipboard: %s is empty now", sel_name[sel]);
	announce_empty(c, (unsigned int)sel);
}

/* The X target to ask the owner of @sel for, to get @type. */
static Atom offer_target(const struct x11_clip *c, unsigned int sel,
			 const char *type)
{
	const struct offer *o = &c->offer[sel];

	for (unsigned int i = 0; i < o->types.n; i++)
		if (!strcmp(o->types.name[i], type))
			return o->atom[i];
	return None;
}

void x11_clip_read(struct x11_clip *c, unsigned int sel, const char *type,
		   uint32_t id)
{
	Window owner;
	struct rx *r;
	Atom target;

	if (sel >= PVA_CLIP_NR_SELECTIONS || !c->synced[sel] || c->x->lost) {
		agent_content(c->a, id, PVA_S_ESTALE, NULL, 0);
		return;
	}
	owner = XGetSelectionOwner(c->x->dpy, c->sel_atom[sel]);
	if (owner == c->x->win) {	/* the host's own content */
		agent_content(c->a, id, PVA_S_ESTALE, NULL, 0);
		return;
	}
	target = offer_target(c, sel, type);
	if (owner == None || target == None) {
		agent_content(c->a, id, PVA_S_ENOENT, NULL, 0);
		return;
	}
	r = rx_new(c, sel);
	if (!r) {
		log_warn("clipboard: too many reads at once");
		agent_content(c->a, id, PVA_S_EBUSY, NULL, 0);
		return;
	}
	r->id = id;
	r->target = target;
	r->text = !strcmp(type, MIME_TEXT);
	r->deadline = x11_now_ms() + READ_TIMEOUT_MS;
	XConvertSelection(c->x->dpy, c->sel_atom[sel], target,
			  c->prop[r->prop], c->x->win, CurrentTime);
}

void x11_clip_cancel(struct x11_clip *c, uint32_t id)
{
	for (struct rx *r = c->rxs; r; r = r->next) {
		if (!r->targets && !r->dead && r->id == id) {
			rx_retire(c, r);
			return;
		}
	}
}

/* ---- serving: the host's content to the session's clients ---- */

static void send_notify(struct x11 *x, Window requestor, Atom selection,
			Atom target, Atom property, Time time)
{
	XEvent ev = { .xselection = {
		.type = SelectionNotify,
		.display = x->dpy,
		.requestor = requestor,
		.selection = selection,
		.target = target,
		.property = property,
		.time = time,
	} };

	XSendEvent(x->dpy, requestor, False, NoEventMask, &ev);
}

static bool window_has_incr(const struct x11_clip *c, Window w)
{
	for (const struct tx *t = c->txs; t; t = t->next)
		if (t->incr && t->requestor == w)
			return true;
	return false;
}

static void tx_free(struct x11_clip *c, struct tx *t, bool window_gone)
{
	struct tx **pp = &c->txs;

	while (*pp && *pp != t)
		pp = &(*pp)->next;
	if (*pp)
		*pp = t->next;
	c->nr_tx--;
	if (t->fetching)
		agent_fetch_cancel(c->a, t->fetch);
	if (t->incr && !window_gone && !c->x->lost &&
	    !window_has_incr(c, t->requestor))
		XSelectInput(c->x->dpy, t->requestor, NoEventMask);
	free(t->data);
	free(t);
}

static void tx_refuse(struct x11_clip *c, struct tx *t)
{
	send_notify(c->x, t->requestor, t->selection, t->target, None,
		    t->time);
	tx_free(c, t, false);
}

/* The text as the requestor asked for it: Latin-1, or for TEXT Latin-1
 * when it can be, else UTF-8.
 */
static void tx_convert(struct x11_clip *c, struct tx *t)
{
	if (t->conv == TO_TEXT) {
		if (utf8_is_latin1(t->data, t->len))
			t->conv = TO_LATIN1;
		else
			t->type = c->x->atom[X11_UTF8_STRING];
	}
	if (t->conv == TO_LATIN1) {
		t->len = utf8_to_latin1(t->data, t->len);
		t->type = XA_STRING;
	}
}

static void tx_start_incr(struct x11_clip *c, struct tx *t)
{
	/* a lower bound of the size, says ICCCM: ours is exact */
	long size = t->len > 0x7fffffff ? 0x7fffffff : (long)t->len;
	Display *dpy = c->x->dpy;

	/* the requestor's deletes are our cue, its destruction the end */
	XSelectInput(dpy, t->requestor, PropertyChangeMask |
		     StructureNotifyMask);
	XChangeProperty(dpy, t->requestor, t->property, c->x->atom[X11_INCR],
			32, PropModeReplace, (unsigned char *)&size, 1);
	send_notify(c->x, t->requestor, t->selection, t->target, t->property,
		    t->time);
	t->incr = true;
	t->deadline = x11_now_ms() + SEND_TIMEOUT_MS;
	log_debug("clipboard: sending %zu bytes with INCR to 0x%lx", t->len,
		  t->requestor);
}

/* The host's content arrived (or not): write it, or start INCR. */
static void tx_proceed(struct x11_clip *c, struct tx *t)
{
	if (c->x->lost) {
		tx_free(c, t, true);
		return;
	}
	if (t->status != PVA_S_OK) {
		log_info("clipboard: no content from the host for a paste (%s)",
			 clip_status_name(t->status));
		tx_refuse(c, t);
		return;
	}
	tx_convert(c, t);
	if (t->len > c->chunk) {
		tx_start_incr(c, t);
		return;
	}
	XChangeProperty(c->x->dpy, t->requestor, t->property, t->type, 8,
			PropModeReplace, t->data, (int)t->len);
	send_notify(c->x, t->requestor, t->selection, t->target, t->property,
		    t->time);
	tx_free(c, t, false);
}

static void tx_fetched(void *ctx, uint32_t status, uint8_t *data, size_t len)
{
	struct tx *t = ctx;

	t->fetching = false;
	t->status = status;
	t->data = data;
	t->len = data ? len : 0;
	/* called from inside agent_fetch_host(): the caller goes on */
	if (!t->in_call)
		tx_proceed(t->c, t);
}

/* The next INCR chunk, the requestor having deleted the last one. */
static void tx_chunk(struct x11_clip *c, struct tx *t)
{
	size_t n = t->len - t->off;

	if (n > c->chunk)
		n = c->chunk;
	XChangeProperty(c->x->dpy, t->requestor, t->property, t->type, 8,
			PropModeReplace, t->data + t->off, (int)n);
	t->off += n;
	t->deadline = x11_now_ms() + SEND_TIMEOUT_MS;
	if (!n) {
		log_debug("clipboard: INCR to 0x%lx complete", t->requestor);
		tx_free(c, t, false);
	}
}

/* The host's type for X @target of @sel, and how to convert to it. */
static const char *target_type(struct x11_clip *c, unsigned int sel,
			       Atom target, struct tx *t)
{
	const struct proxy *p = &c->proxy[sel];
	const Atom *at = c->x->atom;

	if (clip_types_has(&p->types, MIME_TEXT)) {
		t->type = target;
		t->conv = AS_IS;
		if (target == XA_STRING)
			t->conv = TO_LATIN1;
		else if (target == at[X11_TEXT])
			t->conv = TO_TEXT;
		if (target == XA_STRING || target == at[X11_TEXT] ||
		    target == at[X11_UTF8_STRING] ||
		    target == at[X11_MIME_TEXT] ||
		    target == at[X11_TEXT_PLAIN])
			return MIME_TEXT;
	}
	t->type = target;
	t->conv = AS_IS;
	for (unsigned int i = 0; i < p->types.n; i++)
		if (p->atom[i] == target)
			return p->types.name[i];
	return NULL;
}

static void serve_targets(struct x11_clip *c, const XSelectionRequestEvent *e,
			  unsigned int sel, Atom property)
{
	const struct proxy *p = &c->proxy[sel];
	const Atom *at = c->x->atom;
	Atom list[7 + PVA_CLIP_MAX_TYPES];
	int n = 0;

	list[n++] = at[X11_TARGETS];
	list[n++] = at[X11_TIMESTAMP];
	if (clip_types_has(&p->types, MIME_TEXT)) {
		list[n++] = at[X11_UTF8_STRING];
		list[n++] = at[X11_MIME_TEXT];
		list[n++] = at[X11_TEXT_PLAIN];
		list[n++] = XA_STRING;
		list[n++] = at[X11_TEXT];
	}
	for (unsigned int i = 0; i < p->types.n; i++) {
		bool dup = false;

		for (int j = 0; j < n; j++)
			dup |= list[j] == p->atom[i];
		if (!dup && p->atom[i] != None)
			list[n++] = p->atom[i];
	}
	XChangeProperty(c->x->dpy, e->requestor, property, XA_ATOM, 32,
			PropModeReplace, (unsigned char *)list, n);
	send_notify(c->x, e->requestor, e->selection, e->target, property,
		    e->time);
}

static void serve_data(struct x11_clip *c, const XSelectionRequestEvent *e,
		       unsigned int sel, Atom property)
{
	struct tx *t = calloc(1, sizeof(*t));
	const char *type = t ? target_type(c, sel, e->target, t) : NULL;
	uint32_t h;

	if (type && c->nr_tx >= MAX_SENDS) {
		log_warn("clipboard: too many pastes at once");
		type = NULL;
	}
	if (!type) {
		free(t);
		send_notify(c->x, e->requestor, e->selection, e->target, None,
			    e->time);
		return;
	}
	t->c = c;
	t->requestor = e->requestor;
	t->selection = e->selection;
	t->target = e->target;
	t->property = property;
	t->time = e->time;
	t->sel = sel;
	t->next = c->txs;
	c->txs = t;
	c->nr_tx++;
	t->fetching = true;
	t->in_call = true;
	h = agent_fetch_host(c->a, sel, type, tx_fetched, t);
	t->in_call = false;
	if (t->fetching)
		t->fetch = h;
	else
		tx_proceed(c, t);
}

static void on_request(struct x11_clip *c, const XSelectionRequestEvent *e)
{
	int sel = sel_of(c, e->selection);
	const struct proxy *p = sel >= 0 ? &c->proxy[sel] : NULL;
	/* obsolete requestors name no property: use the target's name */
	Atom property = e->property != None ? e->property : e->target;
	const Atom *at = c->x->atom;

	/* a read of ours that raced with taking the selection: we would
	 * hand the host its own content
	 */
	if (!p || !p->owned || e->owner != c->x->win ||
	    e->requestor == c->x->win ||
	    (e->time != CurrentTime && e->time < p->since)) {
		send_notify(c->x, e->requestor, e->selection, e->target, None,
			    e->time);
		return;
	}
	if (e->target == at[X11_TARGETS]) {
		serve_targets(c, e, (unsigned int)sel, property);
	} else if (e->target == at[X11_TIMESTAMP]) {
		long t = (long)p->since;

		XChangeProperty(c->x->dpy, e->requestor, property, XA_INTEGER,
				32, PropModeReplace, (unsigned char *)&t, 1);
		send_notify(c->x, e->requestor, e->selection, e->target,
			    property, e->time);
	} else if (e->target == at[X11_MULTIPLE]) {
		/* not offered in TARGETS: refused */
		send_notify(c->x, e->requestor, e->selection, e->target, None,
			    e->time);
	} else {
		serve_data(c, e, (unsigned int)sel, property);
	}
}

static void on_clear(struct x11_clip *c, const XSelectionClearEvent *e)
{
	int sel = sel_of(c, e->selection);

	if (sel < 0 || e->window != c->x->win || !c->proxy[sel].owned)
		return;		/* or we emptied it ourselves */
	/* another client owns it: its XFixes event announces it */
	log_debug("clipboard: lost %s to another client", sel_name[sel]);
	c->proxy[sel].owned = false;
	/* unless the host's next content is about to take it back */
	if (c->proxy[sel].want != WANT_OWN)
		c->proxy[sel].types.n = 0;
}

static bool on_requestor_property(struct x11_clip *c, const XPropertyEvent *e)
{
	for (struct tx *t = c->txs; t; t = t->next) {
		if (t->incr && t->requestor == e->window &&
		    t->property == e->atom) {
			if (e->state == PropertyDelete)
				tx_chunk(c, t);
			return true;
		}
	}
	return false;
}

static bool on_destroy(struct x11_clip *c, Window w)
{
	bool any = false;

	for (struct tx *t = c->txs, *next; t; t = next) {
		next = t->next;
		if (t->requestor == w) {
			log_debug("clipboard: requestor 0x%lx is gone", w);
			tx_free(c, t, true);
			any = true;
		}
	}
	return any;
}

/* Intern the host's type names (one round trip) for TARGETS. */
static void proxy_set_types(struct x11_clip *c, struct proxy *p,
			    const struct clip_types *types)
{
	char *names[PVA_CLIP_MAX_TYPES];

	p->types = *types;
	memset(p->atom, 0, sizeof(p->atom));
	for (unsigned int i = 0; i < p->types.n; i++)
		names[i] = p->types.name[i];
	if (p->types.n &&
	    !XInternAtoms(c->x->dpy, names, (int)p->types.n, False, p->atom))
		log_warn("clipboard: cannot intern the host's types");
}

void x11_clip_host_grab(struct x11_clip *c, unsigned int sel,
			const struct clip_types *types)
{
	struct proxy *p;

	if (sel >= PVA_CLIP_NR_SELECTIONS || !c->synced[sel] || c->x->lost)
		return;
	p = &c->proxy[sel];
	/* what the session's owner said is stale: the host's is newer */
	c->owner_gen[sel]++;
	memset(&c->offer[sel], 0, sizeof(c->offer[sel]));
	proxy_set_types(c, p, types);
	p->want = types->n ? WANT_OWN : WANT_CLEAR;
	x11_want_time(c->x);
}

void x11_clip_release(struct x11_clip *c)
{
	for (unsigned int s = 0; s < PVA_CLIP_NR_SELECTIONS; s++) {
		struct proxy *p = &c->proxy[s];

		if (!p->owned && p->want != WANT_OWN)
			continue;
		p->types.n = 0;
		p->want = WANT_RELEASE;
		x11_want_time(c->x);
	}
}

static void proxy_act(struct x11_clip *c, unsigned int sel, Time t)
{
	struct proxy *p = &c->proxy[sel];
	Display *dpy = c->x->dpy;
	Atom sa = c->sel_atom[sel];
	Window owner;

	switch (p->want) {
	case WANT_NOTHING:
		return;
	case WANT_OWN:
		XSetSelectionOwner(dpy, sa, c->x->win, t);
		p->owned = XGetSelectionOwner(dpy, sa) == c->x->win;
		p->since = t;
		if (p->owned)
			log_debug("clipboard: %s holds the host's content",
				  sel_name[sel]);
		else
			log_warn("clipboard: could not take %s for the host",
				 sel_name[sel]);
		break;
	case WANT_RELEASE:
		owner = XGetSelectionOwner(dpy, sa);
		if (owner != c->x->win) {
			p->owned = false;	/* someone else's already */
			break;
		}
		/* fall through */
	case WANT_CLEAR:
		p->cleared = t;
		XSetSelectionOwner(dpy, sa, None, t);
		p->owned = false;
		p->types.n = 0;
		log_debug("clipboard: %s is empty for the host", sel_name[sel]);
		break;
	}
	p->want = WANT_NOTHING;
}

void x11_clip_time(struct x11_clip *c, Time t)
{
	for (unsigned int s = 0; s < PVA_CLIP_NR_SELECTIONS; s++)
		if (c->synced[s] && !c->x->lost)
			proxy_act(c, s, t);
}

/* ---- events, timeouts, setup ---- */

bool x11_clip_event(struct x11_clip *c, XEvent *ev)
{
	if (c->x->lost)
		return true;
	if (ev->type == c->fixes_event + XFixesSelectionNotify) {
		on_owner(c, (XFixesSelectionNotifyEvent *)ev);
		return true;
	}
	switch (ev->type) {
	case SelectionNotify:
		if (ev->xselection.requestor != c->x->win)
			return false;
		on_selection_notify(c, &ev->xselection);
		return true;
	case SelectionRequest:
		on_request(c, &ev->xselectionrequest);
		return true;
	case SelectionClear:
		on_clear(c, &ev->xselectionclear);
		return true;
	case PropertyNotify:
		if (ev->xproperty.window == c->x->win)
			return on_own_property(c, &ev->xproperty);
		return on_requestor_property(c, &ev->xproperty);
	case DestroyNotify:
		return on_destroy(c, ev->xdestroywindow.window);
	}
	return false;
}

static uint64_t tick_rx(struct x11_clip *c, uint64_t now)
{
	uint64_t next = 0;

	for (struct rx *r = c->rxs, *n; r; r = n) {
		n = r->next;
		if (r->deadline > now)
			continue;
		if (r->dead) {
			rx_free(c, r);
			continue;
		}
		log_warn("clipboard: the owner of %s did not answer for %s in time",
			 sel_name[r->sel], r->targets ? "TARGETS" : "content");
		rx_fail(c, r, PVA_S_EIO);	/* frees or retires it */
	}
	for (struct rx *r = c->rxs; r; r = r->next)
		if (!next || r->deadline < next)
			next = r->deadline;
	return next;
}

uint64_t x11_clip_tick(struct x11_clip *c, uint64_t now)
{
	uint64_t next;

	if (c->x->lost)
		return 0;
	next = tick_rx(c, now);
	for (struct tx *t = c->txs, *n; t; t = n) {
		n = t->next;
		if (!t->incr)
			continue;
		if (t->deadline <= now) {
			log_warn("clipboard: requestor 0x%lx stopped reading",
				 t->requestor);
			tx_free(c, t, false);
		} else if (!next || t->deadline < next) {
			next = t->deadline;
		}
	}
	return next;
}

static bool intern_props(struct x11_clip *c)
{
	char buf[NR_PROPS][32], *names[NR_PROPS];

	for (unsigned int i = 0; i < NR_PROPS; i++) {
		snprintf(buf[i], sizeof(buf[i]), "_PVA_AGENT_SEL%u", i);
		names[i] = buf[i];
	}
	return XInternAtoms(c->x->dpy, names, NR_PROPS, False, c->prop) != 0;
}

static size_t chunk_size(Display *dpy)
{
	long units = XExtendedMaxRequestSize(dpy);
	size_t bytes;

	if (!units)
		units = XMaxRequestSize(dpy);
	/* room for the ChangeProperty request's own fields */
	bytes = (size_t)units * 4 - 100;
	return bytes < INCR_CHUNK_MAX ? bytes : INCR_CHUNK_MAX;
}

/* What the session has already, when we start: as if it just came. */
static void look_at_owners(struct x11_clip *c)
{
	for (unsigned int s = 0; s < PVA_CLIP_NR_SELECTIONS; s++) {
		Window w;

		if (!c->synced[s])
			continue;
		w = XGetSelectionOwner(c->x->dpy, c->sel_atom[s]);
		if (w != None && w != c->x->win)
			ask_targets(c, s);
	}
}

struct x11_clip *x11_clip_open(struct x11 *x, const struct agent_options *opt)
{
	const unsigned long mask = XFixesSetSelectionOwnerNotifyMask |
				   XFixesSelectionWindowDestroyNotifyMask |
				   XFixesSelectionClientCloseNotifyMask;
	struct x11_clip *c;
	int error_base, major = 5, minor = 0;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->x = x;
	c->a = x->a;
	if (!XFixesQueryExtension(x->dpy, &c->fixes_event, &error_base) ||
	    !XFixesQueryVersion(x->dpy, &major, &minor) || major < 1) {
		log_warn("X11: the server has no XFixes");
		free(c);
		return NULL;
	}
	if (!intern_props(c)) {
		free(c);
		return NULL;
	}
	c->synced[PVA_CLIP_CLIPBOARD] = opt->clipboard;
	c->synced[PVA_CLIP_PRIMARY] = agent_sync_primary(x->a);
	c->sel_atom[PVA_CLIP_CLIPBOARD] = x->atom[X11_CLIPBOARD];
	c->sel_atom[PVA_CLIP_PRIMARY] = XA_PRIMARY;
	c->chunk = chunk_size(x->dpy);
	for (unsigned int s = 0; s < PVA_CLIP_NR_SELECTIONS; s++)
		if (c->synced[s])
			XFixesSelectSelectionInput(x->dpy, x->win,
						   c->sel_atom[s], mask);
	look_at_owners(c);
	return c;
}

void x11_clip_close(struct x11_clip *c)
{
	while (c->txs)
		tx_free(c, c->txs, true);
	/* the core forgot its reads already: no answers now */
	while (c->rxs)
		rx_free(c, c->rxs);
	free(c);
}
