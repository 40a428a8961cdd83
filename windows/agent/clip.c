// SPDX-License-Identifier: MIT
/*
 * The clipboard between the host and Windows (protocol/PROTOCOL.md
 * 6.8.1-6.8.3). Windows has one clipboard, the protocol's CLIPBOARD;
 * PRIMARY is ignored.
 *
 *  - An application copies: WM_CLIPBOARDUPDATE; unless our own window
 *    owns the clipboard (it holds the host's content: that is no news,
 *    and announcing it would loop), GRAB with the MIME types of what is
 *    there. The host pastes: REQUEST; we read the clipboard then and
 *    answer in CLIP_DATA chunks.
 *  - The host copies: GRAB; our window takes the clipboard with delayed
 *    rendering (SetClipboardData(fmt, NULL)), so nothing moves until an
 *    application pastes: WM_RENDERFORMAT, where we REQUEST the content
 *    and wait for it (channel_wait), then hand it over converted. The
 *    content is kept for the next format or paste of the same grab.
 *
 * Serials: ours count our grabs from 1 after each HELLO; a host GRAB
 * that did not see our last one crossed it and is ignored (the guest's
 * wins); a REQUEST for another serial than our last is stale.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define FETCH_IDLE_MS	10000	/* a paste gives up after so long without data */
#define OPEN_TRIES	20	/* OpenClipboard: another program may hold it */
#define MAX_OFFERED	8

struct cached {
	bool valid;
	char type[PVA_CLIP_TYPE_MAX + 1];
	uint8_t *data;
	size_t len;
};

struct fetch {
	bool active, done;
	uint32_t transfer, status;
	struct clip_rx rx;
	ULONGLONG progress;
	char type[PVA_CLIP_TYPE_MAX + 1];
};

struct clip {
	struct agent *a;
	bool listening;
	/* serials of this connection (PROTOCOL.md 6.8.2) */
	uint32_t guest_serial, host_serial;
	/* the host's content, which our window offers */
	bool host_owns, we_own;
	struct clip_types host_types;
	struct cached cache[2];
	/* our own EmptyClipboard: its WM_DESTROYCLIPBOARD is not news */
	bool taking;
	/* inside WM_RENDERFORMAT: the clipboard is the paster's to open */
	bool in_render;
	/* what an application copied last: sent again after HELLO */
	bool local_valid;
	struct clip_types local;
	struct fetch f;
	uint32_t next_transfer;
};

static bool synced(const struct clip *c)
{
	return c->a->opt.clipboard &&
	       (channel_features(c->a->ch) & PVA_AGENT_F_CLIPBOARD);
}

static void cache_clear(struct clip *c)
{
	for (int i = 0; i < 2; i++) {
		free(c->cache[i].data);
		memset(&c->cache[i], 0, sizeof(c->cache[i]));
	}
}

static struct cached *cache_find(struct clip *c, const char *type)
{
	for (int i = 0; i < 2; i++)
		if (c->cache[i].valid && !strcmp(c->cache[i].type, type))
			return &c->cache[i];
	return NULL;
}

/* Keep @data (taken) as the content of @type. */
static struct cached *cache_put(struct clip *c, const char *type,
				uint8_t *data, size_t len)
{
	struct cached *k = !c->cache[0].valid ? &c->cache[0] :
			   !c->cache[1].valid ? &c->cache[1] : &c->cache[0];

	free(k->data);
	k->valid = true;
	snprintf(k->type, sizeof(k->type), "%s", type);
	k->data = data;
	k->len = len;
	return k;
}

static bool open_clipboard(struct clip *c)
{
	for (int i = 0; i < OPEN_TRIES; i++) {
		if (OpenClipboard(c->a->hwnd))
			return true;
		Sleep(10);
	}
	log_warn("clipboard: another program keeps the clipboard open: %s",
		 win_strerror(GetLastError()));
	return false;
}

static void send_grab(struct clip *c, const struct clip_types *types)
{
	uint8_t buf[sizeof(struct pva_clip_grab) +
		    PVA_CLIP_MAX_TYPES * (PVA_CLIP_TYPE_MAX + 1)];
	uint32_t len;

	if (!synced(c))
		return;
	c->guest_serial++;
	len = clip_grab_build(buf, sizeof(buf), PVA_CLIP_CLIPBOARD,
			      c->guest_serial, c->host_serial, types);
	if (len)
		channel_send(c->a->ch, PVA_AGENT_CLIP_GRAB, buf, len);
}

static void data_error(struct clip *c, uint32_t transfer, uint32_t status)
{
	struct pva_clip_data d;

	clip_data_header(&d, transfer, status, 0, 0, 0);
	channel_send(c->a->ch, PVA_AGENT_CLIP_DATA, &d, sizeof(d));
}

static void send_cancel(struct clip *c, uint32_t transfer)
{
	struct pva_clip_cancel x = { .transfer = pva_cpu32(transfer) };

	channel_send(c->a->ch, PVA_AGENT_CLIP_CANCEL, &x, sizeof(x));
}

/* Our window owns the clipboard now, with the host's formats (none:
 * the clipboard is empty, as the host's is).
 */
static void take_clipboard(struct clip *c)
{
	UINT fmts[MAX_OFFERED];
	unsigned int n = clip_fmt_offer(&c->host_types, fmts, MAX_OFFERED);

	if (!open_clipboard(c))
		return;
	c->taking = true;
	EmptyClipboard();
	c->taking = false;
	for (unsigned int i = 0; i < n; i++)
		SetClipboardData(fmts[i], NULL);	/* rendered when pasted */
	CloseClipboard();
	c->we_own = n > 0;
	if (c->host_types.n && !n)
		log_info("clipboard: the host offers nothing Windows can paste (%s%s): the clipboard is empty",
			 c->host_types.name[0], c->host_types.n > 1 ? ", ..." : "");
	else
		log_debug("clipboard: the host's content is on the clipboard (%u formats)", n);
}

/* The host's content is unreachable now: nothing stays on the clipboard
 * that would make a paste wait for it.
 */
static void give_up_clipboard(struct clip *c)
{
	if (!c->we_own)
		return;
	c->we_own = false;
	if (GetClipboardOwner() != c->a->hwnd || !open_clipboard(c))
		return;
	c->taking = true;
	EmptyClipboard();
	c->taking = false;
	CloseClipboard();
}

/* ---- the connection ---- */

void clip_host_up(struct clip *c)
{
	c->guest_serial = c->host_serial = 0;
	c->host_owns = false;
	c->host_types.n = 0;
	/* the host forgot us: what the session has is news again */
	if (c->local_valid && c->local.n && GetClipboardOwner() != c->a->hwnd)
		send_grab(c, &c->local);
}

void clip_host_down(struct clip *c)
{
	if (c->f.active && !c->f.done) {
		c->f.done = true;
		c->f.status = PVA_S_EAGAIN;
	}
	c->host_owns = false;
	c->host_types.n = 0;
	cache_clear(c);
	/* inside a paste we cannot open the clipboard: our formats stay,
	 * but render nothing from now on
	 */
	if (c->in_render)
		c->we_own = false;
	else
		give_up_clipboard(c);
}

/* ---- from the host ---- */

void clip_rx_grab(struct clip *c, const uint8_t *p, uint32_t len)
{
	struct clip_grab g;
	const char *why;

	if (clip_grab_parse(p, len, &g, &why)) {
		host_bad(c->a, "the host sent a malformed CLIP_GRAB: %s", why);
		return;
	}
	if (g.selection != PVA_CLIP_CLIPBOARD)
		return;		/* Windows has no PRIMARY */
	if (g.seen < c->guest_serial) {
		log_info("clipboard: the host's grab crossed ours: ours wins");
		return;
	}
	c->host_serial = g.serial;
	c->host_owns = g.types.n > 0;
	c->host_types = g.types;
	c->local_valid = false;
	cache_clear(c);
	take_clipboard(c);
}

void clip_rx_request(struct clip *c, const uint8_t *p, uint32_t len)
{
	uint64_t max = channel_host_clip_max(c->a->ch);
	struct clip_request r;
	const char *why;
	uint8_t *data = NULL;
	size_t n = 0;
	uint32_t status;

	if (clip_request_parse(p, len, &r, &why)) {
		host_bad(c->a, "the host sent a malformed CLIP_REQUEST: %s", why);
		return;
	}
	if (r.selection != PVA_CLIP_CLIPBOARD || r.serial != c->guest_serial ||
	    c->host_owns || !c->local_valid) {
		data_error(c, r.transfer, PVA_S_ESTALE);
		return;
	}
	if (!clip_types_has(&c->local, r.type)) {
		data_error(c, r.transfer, PVA_S_ENOENT);
		return;
	}
	if (!open_clipboard(c)) {
		data_error(c, r.transfer, PVA_S_EIO);
		return;
	}
	status = clip_fmt_read(r.type, &data, &n);
	CloseClipboard();
	if (c->a->opt.clip_max < max)
		max = c->a->opt.clip_max;
	if (status == PVA_S_OK && n > max) {
		log_warn("clipboard: %zu bytes of %s are more than the limit (%llu)",
			 n, r.type, (unsigned long long)max);
		free(data);
		status = PVA_S_E2BIG;
	}
	if (status != PVA_S_OK) {
		data_error(c, r.transfer, status);
		return;
	}
	log_debug("clipboard: sending %zu bytes of %s (transfer %u)", n,
		  r.type, r.transfer);
	channel_send_content(c->a->ch, r.transfer, data, n);
}

void clip_rx_data(struct clip *c, const uint8_t *p, uint32_t len)
{
	struct clip_data d;
	const char *why;
	int r;

	if (clip_data_parse(p, len, &d, &why)) {
		host_bad(c->a, "the host sent malformed CLIP_DATA: %s", why);
		return;
	}
	if (!c->f.active || c->f.done || d.transfer != c->f.transfer) {
		log_debug("clipboard: data of transfer %u, which is not ours (any more)",
			  d.transfer);
		return;
	}
	c->f.progress = GetTickCount64();
	r = clip_rx_chunk(&c->f.rx, &d, &why);
	if (r == 0)
		return;
	c->f.done = true;
	if (r < 0) {
		if (r == -E2BIG)
			log_warn("clipboard: the host's content is larger than %llu bytes",
				 (unsigned long long)c->a->opt.clip_max);
		else
			host_bad(c->a, "clipboard: transfer %u from the host: %s",
				 d.transfer, why);
		send_cancel(c, d.transfer);
		c->f.status = r == -E2BIG ? PVA_S_E2BIG : PVA_S_EIO;
		return;
	}
	c->f.status = c->f.rx.status;
}

void clip_rx_cancel(struct clip *c, const uint8_t *p, uint32_t len)
{
	uint32_t transfer;
	const char *why;

	if (clip_cancel_parse(p, len, &transfer, &why)) {
		host_bad(c->a, "the host sent a malformed CLIP_CANCEL: %s", why);
		return;
	}
	channel_drop_content(c->a->ch, transfer);
}

/* ---- from Windows ---- */

void clip_wm_update(struct clip *c)
{
	struct clip_types t;

	if (!c->a->opt.clipboard)
		return;
	/* our own proxy for the host's content, or our own emptying */
	if (GetClipboardOwner() == c->a->hwnd)
		return;
	clip_fmt_local_types(&t);
	c->we_own = false;
	c->host_owns = false;
	cache_clear(c);
	c->local = t;
	c->local_valid = true;
	log_debug("clipboard: an application copied (%u types)", t.n);
	send_grab(c, &t);
}

void clip_wm_destroy(struct clip *c)
{
	if (!c->taking)
		c->we_own = false;
}

static bool fetch_done(void *ctx)
{
	return ((struct clip *)ctx)->f.done;
}

/* The host's content as @type: from the cache, or fetched now. */
static struct cached *fetch(struct clip *c, const char *type)
{
	uint8_t buf[sizeof(struct pva_clip_request) + PVA_CLIP_TYPE_MAX + 1];
	struct cached *k = cache_find(c, type);
	struct fetch *f = &c->f;
	uint32_t n;
	size_t len;

	if (k)
		return k;
	if (f->active || !channel_up(c->a->ch))
		return NULL;
	memset(f, 0, sizeof(*f));
	f->active = true;
	if (!++c->next_transfer)
		++c->next_transfer;
	f->transfer = c->next_transfer;
	f->progress = GetTickCount64();
	snprintf(f->type, sizeof(f->type), "%s", type);
	clip_rx_init(&f->rx, f->transfer, c->a->opt.clip_max);
	n = clip_request_build(buf, sizeof(buf), PVA_CLIP_CLIPBOARD,
			       c->host_serial, f->transfer, type);
	if (!channel_send(c->a->ch, PVA_AGENT_CLIP_REQUEST, buf, n)) {
		f->active = false;
		return NULL;
	}
	log_debug("clipboard: a paste: asking the host for %s (transfer %u)",
		  type, f->transfer);
	c->in_render = true;
	if (!channel_wait(c->a->ch, fetch_done, c, &f->progress,
			  FETCH_IDLE_MS)) {
		log_warn("clipboard: the host did not send %s within %d s: the paste gets nothing",
			 type, FETCH_IDLE_MS / 1000);
		send_cancel(c, f->transfer);
		f->status = PVA_S_EIO;
	}
	c->in_render = false;
	f->active = false;
	if (f->status != PVA_S_OK) {
		if (f->done)
			log_info("clipboard: the host did not send %s: %s", type,
				 clip_status_name(f->status));
		clip_rx_free(&f->rx);
		return NULL;
	}
	{
		uint8_t *data = clip_rx_take(&f->rx, &len);

		if (!data)
			return NULL;
		log_debug("clipboard: %zu bytes of %s from the host", len, type);
		/* a new grab came meanwhile? it is held until we return,
		 * so this content is still the current one
		 */
		return cache_put(c, type, data, len);
	}
}

void clip_wm_render(struct clip *c, UINT fmt)
{
	const char *mime = clip_fmt_mime(fmt);
	struct cached *k;
	HANDLE h;

	if (!mime || !c->we_own || !c->host_owns ||
	    !clip_types_has(&c->host_types, mime))
		return;
	k = fetch(c, mime);
	if (!k)
		return;
	h = clip_fmt_make(fmt, mime, k->data, k->len);
	if (!h) {
		log_warn("clipboard: the host's %s could not be converted for this paste",
			 mime);
		return;
	}
	/* the clipboard is open already, by the program that pastes */
	if (!SetClipboardData(fmt, h)) {
		log_warn("clipboard: SetClipboardData: %s",
			 win_strerror(GetLastError()));
		GlobalFree(h);
	}
}

struct clip *clip_new(struct agent *a)
{
	struct clip *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->a = a;
	if (a->opt.clipboard) {
		c->listening = AddClipboardFormatListener(a->hwnd);
		if (!c->listening)
			log_err("clipboard: cannot watch the clipboard: %s",
				win_strerror(GetLastError()));
	}
	/* what is on the clipboard at start is what the host gets first */
	if (a->opt.clipboard && GetClipboardOwner() != a->hwnd) {
		clip_fmt_local_types(&c->local);
		c->local_valid = c->local.n > 0;
	}
	return c;
}

void clip_free(struct clip *c)
{
	if (!c)
		return;
	if (c->listening)
		RemoveClipboardFormatListener(c->a->hwnd);
	give_up_clipboard(c);
	cache_clear(c);
	clip_rx_free(&c->f.rx);
	free(c);
}
