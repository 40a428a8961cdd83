// SPDX-License-Identifier: MIT
/*
 * The Wayland backend's display layout, through wlr-output-management
 * (wlroots compositors: sway, labwc, river, wayfire, Hyprland...): the
 * host's layout becomes one output configuration, and what the session
 * then shows goes back to the core; so do changes the session makes by
 * itself (a user's kanshi or swaymsg), at most one a second.
 *
 * Layout head n is the output named Virtual-(n+1) (pva_drm's connectors)
 * when there are such outputs, else the n-th head the compositor told of.
 *
 * The wl_output globals (what every client sees) back the heads' state
 * up: sway 1.7 reports outputs without a mode list (headless and other
 * virtual ones) as disabled through wlr-output-management however they
 * are; such a head is on when it has a wl_output, with that one's mode
 * and the position we gave it.
 */
#include "wayland_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"
#include "wlr-output-management-unstable-v1-client-protocol.h"

#define APPLY_TIMEOUT_MS	5000	/* for the compositor's answer */
#define SETTLE_MS		1000	/* for the new state, after success */
#define REPORT_MIN_MS		1000	/* between own changes' reports */
#define MAX_DIM			16384

struct mode {
	struct wl_list link;		/* head.modes */
	struct head *head;
	struct zwlr_output_mode_v1 *proxy;
	int32_t width, height, refresh;
	bool preferred;
};

struct head {
	struct wl_list link;		/* wlo.heads, in announced order */
	struct zwlr_output_head_v1 *proxy;
	char name[64];
	bool enabled;
	struct mode *cur;
	int32_t x, y;
	struct wl_list modes;
	/* while a configuration is built */
	int map;			/* its layout head, or -1 */
	struct zwlr_output_configuration_head_v1 *cfg_head;
	/* where the last layout put it */
	bool placed;
	int32_t px, py;
};

/* A wl_output global. */
struct wlout {
	struct wl_list link;		/* wlo.outputs */
	struct wlo *o;
	struct wl_output *proxy;
	uint32_t global;
	char name[64];
	int32_t width, height;		/* the current mode, once done */
	int32_t next_width, next_height;
};

enum phase {
	IDLE,
	APPLYING,	/* waiting for succeeded, failed or cancelled */
	SETTLING,	/* succeeded: waiting for the new state */
	RETRYING,	/* cancelled: waiting for a new serial */
};

struct wlo {
	struct backend *b;
	struct zwlr_output_manager_v1 *mgr;
	struct wl_list heads;
	struct wl_list outputs;		/* struct wlout */
	uint32_t serial;
	bool ready;
	/* the layout being applied */
	enum phase phase;
	uint32_t generation;		/* the host's, to answer */
	struct layout want;		/* to show: the host's, or before */
	struct layout before;		/* to go back to when it fails */
	unsigned int before_known;	/* its heads (bits) we know all of */
	bool missing;			/* a head of it has no output */
	bool retried, reverting;
	struct zwlr_output_configuration_v1 *cfg;
	uint32_t cfg_serial;
	struct wl_callback *sync;
	struct loop_source *timer;
	/* one more that came meanwhile */
	bool have_next;
	struct layout next;
	/* what the core was told last */
	struct layout reported;
	uint64_t reported_at;
	struct loop_source *report_timer;
};

static void start(struct wlo *o, const struct layout *l);

/* ---- the session's layout ---- */

static bool has_virtual(const struct wlo *o)
{
	struct head *h;

	wl_list_for_each(h, &o->heads, link)
		if (!strncmp(h->name, "Virtual-", 8))
			return true;
	return false;
}

static struct head *head_for(const struct wlo *o, unsigned int n,
			     bool virt)
{
	char want[32];
	struct head *h;
	unsigned int i = 0;

	snprintf(want, sizeof(want), "Virtual-%u", n + 1);
	wl_list_for_each(h, &o->heads, link) {
		if (virt ? !strcmp(h->name, want) : i == n)
			return h;
		i++;
	}
	return NULL;
}

static uint32_t clamp_u32(int32_t v)
{
	return v < 0 ? 0 : (uint32_t)v;
}

/* The head's wl_output, when it has one with a mode. */
static const struct wlout *wlout_of(const struct wlo *o, const struct head *h)
{
	struct wlout *w;

	wl_list_for_each(w, &o->outputs, link)
		if (w->name[0] && !strcmp(w->name, h->name) &&
		    w->width > 0 && w->height > 0)
			return w;
	return NULL;
}

static bool head_on(const struct wlo *o, const struct head *h)
{
	return (h->enabled && h->cur) || wlout_of(o, h);
}

/* Do we know where it is? Not when only its wl_output tells it is on. */
static bool head_known(const struct wlo *o, const struct head *h)
{
	return (h->enabled && h->cur) || h->placed || !wlout_of(o, h);
}

static void head_state(const struct wlo *o, const struct head *h,
		       struct layout_head *lh)
{
	const struct wlout *w;

	memset(lh, 0, sizeof(*lh));
	if (h->enabled && h->cur) {
		lh->on = true;
		lh->width = clamp_u32(h->cur->width);
		lh->height = clamp_u32(h->cur->height);
		lh->x = clamp_u32(h->x);
		lh->y = clamp_u32(h->y);
		return;
	}
	w = wlout_of(o, h);
	if (!w)
		return;
	/* wlroots puts every wl_output at 0,0: the position is ours */
	lh->on = true;
	lh->width = clamp_u32(w->width);
	lh->height = clamp_u32(w->height);
	lh->x = h->placed ? clamp_u32(h->px) : 0;
	lh->y = h->placed ? clamp_u32(h->py) : 0;
}

static void current(const struct wlo *o, struct layout *l)
{
	bool virt = has_virtual(o);

	memset(l, 0, sizeof(*l));
	for (unsigned int n = 0; n < PVA_DISPLAY_MAX_HEADS; n++) {
		struct head *h = head_for(o, n, virt);

		if (!h)
			continue;
		l->nr_heads = n + 1;
		head_state(o, h, &l->head[n]);
	}
}

static bool head_same(const struct layout_head *a, const struct layout_head *b)
{
	if (a->on != b->on)
		return false;
	return !a->on || (a->width == b->width && a->height == b->height &&
			  a->x == b->x && a->y == b->y);
}

/* Does @now show @want's heads in @mask (heads beyond @want's do not
 * matter)?
 */
static bool shows(const struct layout *now, const struct layout *want,
		  unsigned int mask)
{
	for (unsigned int n = 0; n < want->nr_heads; n++)
		if (mask & 1u << n &&
		    !head_same(&now->head[n], &want->head[n]))
			return false;
	return true;
}

static bool layout_same(const struct layout *a, const struct layout *b)
{
	return a->nr_heads == b->nr_heads && shows(a, b, ~0u);
}

/* ---- reporting the session's own changes ---- */

static void report_fire(struct loop *loop, int fd, uint32_t events,
			void *data);

static void report(struct wlo *o)
{
	struct layout now;
	uint64_t t = wlb_now_ms();

	if (!o->ready || o->phase != IDLE || o->report_timer)
		return;
	current(o, &now);
	if (layout_same(&now, &o->reported))
		return;
	if (t - o->reported_at < REPORT_MIN_MS) {
		/* a burst of changes: the state it ends in, a bit later */
		o->report_timer = loop_add_timer(o->b->loop,
			(unsigned int)(REPORT_MIN_MS - (t - o->reported_at)),
			report_fire, o);
		if (o->report_timer)
			return;
	}
	o->reported = now;
	o->reported_at = t;
	log_info("display: the session changed its outputs");
	agent_layout_done(o->b->a, 0, PVA_S_OK, &now);
}

static void report_fire(struct loop *loop, int fd, uint32_t events,
			void *data)
{
	struct wlo *o = data;

	(void)loop;
	(void)fd;
	(void)events;
	loop_remove(o->report_timer);
	o->report_timer = NULL;
	report(o);
}

/* ---- applying a layout ---- */

static void timer_fire(struct loop *loop, int fd, uint32_t events,
		       void *data);

static void timer_set(struct wlo *o, unsigned int ms)
{
	loop_remove(o->timer);
	o->timer = ms ? loop_add_timer(o->b->loop, ms, timer_fire, o) : NULL;
	if (ms && !o->timer)
		log_warn("display: no timer: an unanswered layout waits forever");
}

static void cfg_destroy(struct wlo *o)
{
	struct head *h;

	wl_list_for_each(h, &o->heads, link) {
		if (h->cfg_head)
			zwlr_output_configuration_head_v1_destroy(h->cfg_head);
		h->cfg_head = NULL;
	}
	if (o->cfg)
		zwlr_output_configuration_v1_destroy(o->cfg);
	o->cfg = NULL;
}

static void finish(struct wlo *o, uint32_t status)
{
	struct layout now;

	cfg_destroy(o);
	if (o->sync)
		wl_callback_destroy(o->sync);
	o->sync = NULL;
	timer_set(o, 0);
	o->phase = IDLE;
	current(o, &now);
	if (o->reverting) {
		status = PVA_S_EIO;
	} else if (status == PVA_S_OK && o->missing) {
		log_warn("display: layout %u has heads the session has no output for",
			 o->generation);
		status = PVA_S_ENOENT;
	}
	agent_layout_done(o->b->a, o->generation, status, &now);
	o->reported = now;
	o->reported_at = wlb_now_ms();
	if (o->have_next) {
		struct layout next = o->next;

		o->have_next = false;
		start(o, &next);
	}
}

/* The head's mode of @w x @h: the current one, the preferred one, the
 * fastest one; NULL: none.
 */
static struct mode *find_mode(struct head *h, uint32_t w, uint32_t ht)
{
	struct mode *m, *best = NULL;

	wl_list_for_each(m, &h->modes, link) {
		if (m->width < 0 || m->height < 0 ||
		    (uint32_t)m->width != w || (uint32_t)m->height != ht)
			continue;
		if (m == h->cur)
			return m;
		if (!best || (m->preferred && !best->preferred) ||
		    (m->preferred == best->preferred &&
		     m->refresh > best->refresh))
			best = m;
	}
	return best;
}

static void configure_head(struct wlo *o, struct head *h)
{
	const struct layout_head *lh;
	struct mode *m;

	/* going back: a head we know too little of stays as it is */
	if (o->reverting && h->map >= 0 &&
	    !(o->before_known & 1u << h->map))
		h->map = -1;
	if (h->map < 0 && !head_on(o, h)) {
		zwlr_output_configuration_v1_disable_head(o->cfg, h->proxy);
		return;
	}
	if (h->map >= 0 && !o->want.head[h->map].on) {
		zwlr_output_configuration_v1_disable_head(o->cfg, h->proxy);
		return;
	}
	/* the protocol wants every head named: an unmapped one keeps its
	 * state (enable_head starts from the current one)
	 */
	h->cfg_head = zwlr_output_configuration_v1_enable_head(o->cfg,
							       h->proxy);
	if (h->map < 0 || !h->cfg_head)
		return;
	lh = &o->want.head[h->map];
	m = find_mode(h, lh->width, lh->height);
	if (m)
		zwlr_output_configuration_head_v1_set_mode(h->cfg_head,
							   m->proxy);
	else
		zwlr_output_configuration_head_v1_set_custom_mode(h->cfg_head,
			(int32_t)lh->width, (int32_t)lh->height, 0);
	zwlr_output_configuration_head_v1_set_position(h->cfg_head,
						       (int32_t)lh->x,
						       (int32_t)lh->y);
}

static const struct zwlr_output_configuration_v1_listener cfg_listener;

static void send_config(struct wlo *o)
{
	bool virt = has_virtual(o);
	struct head *h;

	o->cfg = zwlr_output_manager_v1_create_configuration(o->mgr,
							     o->serial);
	if (!o->cfg) {
		log_err("out of memory");
		finish(o, PVA_S_ENOMEM);
		return;
	}
	zwlr_output_configuration_v1_add_listener(o->cfg, &cfg_listener, o);
	o->cfg_serial = o->serial;
	o->missing = false;
	wl_list_for_each(h, &o->heads, link)
		h->map = -1;
	for (unsigned int n = 0; n < o->want.nr_heads; n++) {
		h = head_for(o, n, virt);
		if (h)
			h->map = (int)n;
		else if (o->want.head[n].on)
			o->missing = true;
	}
	wl_list_for_each(h, &o->heads, link)
		configure_head(o, h);
	zwlr_output_configuration_v1_apply(o->cfg);
	o->phase = APPLYING;
	timer_set(o, APPLY_TIMEOUT_MS);
}

static bool layout_valid(const struct layout *l)
{
	if (l->nr_heads > PVA_DISPLAY_MAX_HEADS)
		return false;
	for (unsigned int n = 0; n < l->nr_heads; n++) {
		const struct layout_head *h = &l->head[n];

		if (h->on && (!h->width || !h->height || h->width > MAX_DIM ||
			      h->height > MAX_DIM || h->x > INT32_MAX ||
			      h->y > INT32_MAX))
			return false;
	}
	return true;
}

static void start(struct wlo *o, const struct layout *l)
{
	struct layout now;

	if (!layout_valid(l)) {
		log_warn("display: layout %u is not one a compositor can show",
			 l->generation);
		current(o, &now);
		agent_layout_done(o->b->a, l->generation, PVA_S_EINVAL, &now);
		return;
	}
	o->generation = l->generation;
	o->want = *l;
	current(o, &o->before);
	o->before_known = 0;
	for (unsigned int n = 0; n < PVA_DISPLAY_MAX_HEADS; n++) {
		struct head *h = head_for(o, n, has_virtual(o));

		if (h && head_known(o, h))
			o->before_known |= 1u << n;
	}
	o->retried = false;
	o->reverting = false;
	send_config(o);
}

void wlo_apply(struct wlo *o, const struct layout *l)
{
	if (!o->mgr) {
		agent_layout_done(o->b->a, l->generation, PVA_S_ENOTSUP, NULL);
		return;
	}
	if (o->phase != IDLE) {
		/* only the newest matters: the host answers to that one */
		if (o->have_next)
			log_debug("display: layout %u skipped for %u",
				  o->next.generation, l->generation);
		o->next = *l;
		o->have_next = true;
		return;
	}
	start(o, l);
}

static bool settled(const struct wlo *o)
{
	struct layout now;

	current(o, &now);
	/* going back, heads we know too little of were left alone */
	return shows(&now, &o->want, o->reverting ? o->before_known : ~0u);
}

static void sync_done(void *data, struct wl_callback *cb, uint32_t serial)
{
	struct wlo *o = data;

	(void)serial;
	wl_callback_destroy(cb);
	o->sync = NULL;
	/* the compositor has told what it did right away; outputs it turned
	 * on still have to tell their modes, or it adjusted the layout: what
	 * it shows a moment later is the answer then
	 */
	if (settled(o))
		finish(o, PVA_S_OK);
	else
		timer_set(o, SETTLE_MS);
}

/* The session's outputs changed: from the manager or a wl_output. */
static void outputs_changed(struct wlo *o, bool manager)
{
	switch (o->phase) {
	case IDLE:
		report(o);
		break;
	case APPLYING:
		break;
	case SETTLING:
		if (settled(o))
			finish(o, PVA_S_OK);
		break;
	case RETRYING:
		if (manager)
			send_config(o);
		break;
	}
}

static const struct wl_callback_listener sync_listener = {
	.done = sync_done,
};

static void cfg_succeeded(void *data, struct zwlr_output_configuration_v1 *c)
{
	struct wlo *o = data;
	struct head *h;

	(void)c;
	wl_list_for_each(h, &o->heads, link) {
		if (h->map < 0 || !o->want.head[h->map].on)
			continue;
		h->placed = true;
		h->px = (int32_t)o->want.head[h->map].x;
		h->py = (int32_t)o->want.head[h->map].y;
	}
	cfg_destroy(o);
	o->phase = SETTLING;
	o->sync = wl_display_sync(o->b->display);
	if (!o->sync) {
		finish(o, PVA_S_OK);
		return;
	}
	wl_callback_add_listener(o->sync, &sync_listener, o);
	timer_set(o, APPLY_TIMEOUT_MS);
}

static void cfg_failed(void *data, struct zwlr_output_configuration_v1 *c)
{
	struct wlo *o = data;

	(void)c;
	if (o->reverting) {
		log_warn("display: the compositor refused to go back, too");
		finish(o, PVA_S_EIO);
		return;
	}
	/*
	 * The compositor should have undone what it did, but sway 1.7
	 * applies head by head and keeps what worked: a layout half shown.
	 * Put back what was there before.
	 */
	log_warn("display: the compositor refused layout %u: going back",
		 o->generation);
	cfg_destroy(o);
	o->reverting = true;
	o->want = o->before;
	send_config(o);
}

static void cfg_cancelled(void *data, struct zwlr_output_configuration_v1 *c)
{
	struct wlo *o = data;

	(void)c;
	cfg_destroy(o);
	if (o->retried || o->reverting) {
		log_warn("display: layout %u cancelled: the outputs keep changing",
			 o->generation);
		finish(o, PVA_S_EIO);
		return;
	}
	/* the outputs changed meanwhile: once more, with the new state */
	o->retried = true;
	if (o->serial != o->cfg_serial) {
		send_config(o);
		return;
	}
	o->phase = RETRYING;
	timer_set(o, APPLY_TIMEOUT_MS);
}

static const struct zwlr_output_configuration_v1_listener cfg_listener = {
	.succeeded = cfg_succeeded,
	.failed = cfg_failed,
	.cancelled = cfg_cancelled,
};

static void timer_fire(struct loop *loop, int fd, uint32_t events,
		       void *data)
{
	struct wlo *o = data;

	(void)loop;
	(void)fd;
	(void)events;
	timer_set(o, 0);
	if (o->phase == IDLE)
		return;
	/* settled: what the session shows now is the answer */
	if (o->phase == SETTLING && !o->sync) {
		finish(o, PVA_S_OK);
		return;
	}
	log_warn("display: the compositor did not answer layout %u",
		 o->generation);
	finish(o, PVA_S_EIO);
}

/* ---- modes ---- */

static void mode_size(void *data, struct zwlr_output_mode_v1 *p, int32_t w,
		      int32_t h)
{
	struct mode *m = data;

	(void)p;
	m->width = w;
	m->height = h;
}

static void mode_refresh(void *data, struct zwlr_output_mode_v1 *p,
			 int32_t refresh)
{
	struct mode *m = data;

	(void)p;
	m->refresh = refresh;
}

static void mode_preferred(void *data, struct zwlr_output_mode_v1 *p)
{
	struct mode *m = data;

	(void)p;
	m->preferred = true;
}

static void mode_free(struct mode *m)
{
	if (m->head->cur == m)
		m->head->cur = NULL;
	wl_list_remove(&m->link);
	zwlr_output_mode_v1_destroy(m->proxy);
	free(m);
}

static void mode_finished(void *data, struct zwlr_output_mode_v1 *p)
{
	(void)p;
	mode_free(data);
}

static const struct zwlr_output_mode_v1_listener mode_listener = {
	.size = mode_size,
	.refresh = mode_refresh,
	.preferred = mode_preferred,
	.finished = mode_finished,
};

/* ---- heads ---- */

static void head_name(void *data, struct zwlr_output_head_v1 *p,
		      const char *name)
{
	struct head *h = data;

	(void)p;
	snprintf(h->name, sizeof(h->name), "%s", name ? name : "");
}

static void head_string(void *data, struct zwlr_output_head_v1 *p,
			const char *s)
{
	(void)data;
	(void)p;
	(void)s;
}

static void head_physical_size(void *data, struct zwlr_output_head_v1 *p,
			       int32_t w, int32_t h)
{
	(void)data;
	(void)p;
	(void)w;
	(void)h;
}

static void head_mode(void *data, struct zwlr_output_head_v1 *p,
		      struct zwlr_output_mode_v1 *mp)
{
	struct head *h = data;
	struct mode *m;

	(void)p;
	if (!mp)
		return;
	m = calloc(1, sizeof(*m));
	if (!m) {
		log_err("out of memory: an output mode is not known");
		zwlr_output_mode_v1_destroy(mp);
		return;
	}
	m->head = h;
	m->proxy = mp;
	zwlr_output_mode_v1_add_listener(mp, &mode_listener, m);
	wl_list_insert(h->modes.prev, &m->link);
}

static void head_enabled(void *data, struct zwlr_output_head_v1 *p,
			 int32_t enabled)
{
	struct head *h = data;

	(void)p;
	h->enabled = enabled != 0;
}

static void head_current_mode(void *data, struct zwlr_output_head_v1 *p,
			      struct zwlr_output_mode_v1 *mp)
{
	struct head *h = data;
	struct mode *m = NULL;

	(void)p;
	if (mp && zwlr_output_mode_v1_get_user_data(mp) &&
	    wl_proxy_get_listener((struct wl_proxy *)mp) ==
	    (const void *)&mode_listener)
		m = zwlr_output_mode_v1_get_user_data(mp);
	/* a mode of another head is the compositor's mistake: unknown */
	h->cur = m && m->head == h ? m : NULL;
}

static void head_position(void *data, struct zwlr_output_head_v1 *p,
			  int32_t x, int32_t y)
{
	struct head *h = data;

	(void)p;
	h->x = x;
	h->y = y;
}

static void head_int(void *data, struct zwlr_output_head_v1 *p, int32_t v)
{
	(void)data;
	(void)p;
	(void)v;
}

static void head_free(struct head *h)
{
	struct mode *m, *tmp;

	wl_list_for_each_safe(m, tmp, &h->modes, link)
		mode_free(m);
	if (h->cfg_head)
		zwlr_output_configuration_head_v1_destroy(h->cfg_head);
	wl_list_remove(&h->link);
	zwlr_output_head_v1_destroy(h->proxy);
	free(h);
}

static void head_finished(void *data, struct zwlr_output_head_v1 *p)
{
	(void)p;
	head_free(data);
}

static const struct zwlr_output_head_v1_listener head_listener = {
	.name = head_name,
	.description = head_string,
	.physical_size = head_physical_size,
	.mode = head_mode,
	.enabled = head_enabled,
	.current_mode = head_current_mode,
	.position = head_position,
	.transform = head_int,
	.scale = head_int,
	.finished = head_finished,
	.make = head_string,
	.model = head_string,
	.serial_number = head_string,
};

/* ---- wl_output ---- */

static void out_geometry(void *data, struct wl_output *p, int32_t x,
			 int32_t y, int32_t pw, int32_t ph, int32_t subpixel,
			 const char *make, const char *model, int32_t transform)
{
	(void)data, (void)p, (void)x, (void)y, (void)pw, (void)ph;
	(void)subpixel, (void)make, (void)model, (void)transform;
}

static void out_mode(void *data, struct wl_output *p, uint32_t flags,
		     int32_t w, int32_t h, int32_t refresh)
{
	struct wlout *out = data;

	(void)refresh;
	if (!(flags & WL_OUTPUT_MODE_CURRENT))
		return;
	out->next_width = w;
	out->next_height = h;
	/* before version 2 there is no done: each event stands alone */
	if (wl_output_get_version(p) < WL_OUTPUT_DONE_SINCE_VERSION) {
		out->width = w;
		out->height = h;
	}
}

static void out_done(void *data, struct wl_output *p)
{
	struct wlout *out = data;

	(void)p;
	out->width = out->next_width;
	out->height = out->next_height;
	outputs_changed(out->o, false);
}

static void out_scale(void *data, struct wl_output *p, int32_t factor)
{
	(void)data, (void)p, (void)factor;
}

static void out_name(void *data, struct wl_output *p, const char *name)
{
	struct wlout *out = data;

	(void)p;
	snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
}

static void out_description(void *data, struct wl_output *p, const char *d)
{
	(void)data, (void)p, (void)d;
}

static const struct wl_output_listener out_listener = {
	.geometry = out_geometry,
	.mode = out_mode,
	.done = out_done,
	.scale = out_scale,
	.name = out_name,
	.description = out_description,
};

static void wlout_free(struct wlout *out)
{
	if (wl_output_get_version(out->proxy) >=
	    WL_OUTPUT_RELEASE_SINCE_VERSION)
		wl_output_release(out->proxy);
	else
		wl_output_destroy(out->proxy);
	wl_list_remove(&out->link);
	free(out);
}

void wlo_output_add(struct wlo *o, uint32_t name, uint32_t version)
{
	uint32_t max = (uint32_t)wl_output_interface.version;
	struct wlout *out;

	/* without a name (version 4) it cannot be told which head it is */
	if (version < WL_OUTPUT_NAME_SINCE_VERSION)
		return;
	out = calloc(1, sizeof(*out));
	if (out)
		out->proxy = wl_registry_bind(o->b->registry, name,
					      &wl_output_interface,
					      version < max ? version : max);
	if (!out || !out->proxy) {
		log_err("out of memory: an output is not known");
		free(out);
		return;
	}
	out->o = o;
	out->global = name;
	wl_output_add_listener(out->proxy, &out_listener, out);
	wl_list_insert(o->outputs.prev, &out->link);
}

void wlo_output_remove(struct wlo *o, uint32_t name)
{
	struct wlout *out;

	wl_list_for_each(out, &o->outputs, link) {
		if (out->global == name) {
			wlout_free(out);
			outputs_changed(o, false);
			return;
		}
	}
}

/* ---- the manager ---- */

static void mgr_head(void *data, struct zwlr_output_manager_v1 *mgr,
		     struct zwlr_output_head_v1 *p)
{
	struct wlo *o = data;
	struct head *h;

	(void)mgr;
	if (!p)
		return;
	h = calloc(1, sizeof(*h));
	if (!h) {
		log_err("out of memory: an output is not known");
		zwlr_output_head_v1_destroy(p);
		return;
	}
	h->proxy = p;
	h->map = -1;
	wl_list_init(&h->modes);
	zwlr_output_head_v1_add_listener(p, &head_listener, h);
	wl_list_insert(o->heads.prev, &h->link);
}

static void mgr_done(void *data, struct zwlr_output_manager_v1 *mgr,
		     uint32_t serial)
{
	struct wlo *o = data;

	(void)mgr;
	o->serial = serial;
	outputs_changed(o, true);
}

static void heads_free(struct wlo *o)
{
	struct head *h, *tmp;

	wl_list_for_each_safe(h, tmp, &o->heads, link)
		head_free(h);
}

static void mgr_finished(void *data, struct zwlr_output_manager_v1 *mgr)
{
	struct wlo *o = data;

	(void)mgr;
	log_warn("display: the compositor ended output management: layouts are not applied from now on");
	o->have_next = false;
	if (o->phase != IDLE)
		finish(o, PVA_S_EIO);
	heads_free(o);
	zwlr_output_manager_v1_destroy(o->mgr);
	o->mgr = NULL;
}

static const struct zwlr_output_manager_v1_listener mgr_listener = {
	.head = mgr_head,
	.done = mgr_done,
	.finished = mgr_finished,
};

struct wlo *wlo_new(struct backend *b, uint32_t name, uint32_t version)
{
	uint32_t max = (uint32_t)zwlr_output_manager_v1_interface.version;
	struct wlo *o = calloc(1, sizeof(*o));

	if (!o) {
		log_err("out of memory");
		return NULL;
	}
	o->b = b;
	wl_list_init(&o->heads);
	wl_list_init(&o->outputs);
	if (version > max)
		version = max;
	o->mgr = wl_registry_bind(b->registry, name,
				  &zwlr_output_manager_v1_interface, version);
	if (!o->mgr) {
		log_err("out of memory");
		free(o);
		return NULL;
	}
	zwlr_output_manager_v1_add_listener(o->mgr, &mgr_listener, o);
	log_info("display: through wlr-output-management version %u",
		 version);
	return o;
}

void wlo_ready(struct wlo *o)
{
	o->ready = true;
	current(o, &o->reported);
}

void wlo_free(struct wlo *o)
{
	struct wlout *out, *tmp;

	if (!o)
		return;
	cfg_destroy(o);
	if (o->sync)
		wl_callback_destroy(o->sync);
	loop_remove(o->timer);
	loop_remove(o->report_timer);
	heads_free(o);
	wl_list_for_each_safe(out, tmp, &o->outputs, link)
		wlout_free(out);
	if (o->mgr) {
		zwlr_output_manager_v1_stop(o->mgr);
		zwlr_output_manager_v1_destroy(o->mgr);
	}
	free(o);
}
