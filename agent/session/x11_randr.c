// SPDX-License-Identifier: MIT
/*
 * The host's display layout on X11, with RandR 1.3 (PROTOCOL.md 6.8.4):
 * head n is the output Virtual-(n+1) (pva_drm's connectors under Xorg's
 * modesetting driver) or, without such outputs, the n-th connected one.
 * Modes the outputs lack are created (CVT reduced blanking, 60 Hz).
 * Changes the session makes by itself are reported too, a few per second
 * at most.
 */
#include "x11_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <X11/extensions/Xrandr.h>

#include "log.h"

#define SETTLE_MS	200	/* after a change of the session's own */
#define REPORT_GAP_MS	333	/* between two reports of such changes */

struct x11_randr {
	struct x11 *x;
	int event_base;
	unsigned int host_heads;	/* of the host's last layout */
	struct layout shown;		/* what we reported last */
	bool dirty;			/* the session changed something */
	uint64_t due, last_report;
};

/* The screen's outputs and CRTCs at one moment. */
struct snap {
	XRRScreenResources *res;
	XRROutputInfo **out;
	XRRCrtcInfo **crtc;
	bool virt;			/* it has Virtual-N outputs */
};

/* What one head of the host's layout becomes. */
struct head_plan {
	RROutput output;		/* None: no output for it */
	int out;			/* its index in the snapshot */
	bool on, skip;			/* skip: could not be prepared */
	RRMode mode;
	int crtc;			/* index of the CRTC to use, or -1 */
	bool keep;			/* its CRTC shows it already */
};

/* ---- snapshots ---- */

static void snap_free(struct snap *s)
{
	for (int i = 0; s->res && i < s->res->noutput; i++)
		if (s->out[i])
			XRRFreeOutputInfo(s->out[i]);
	for (int i = 0; s->res && i < s->res->ncrtc; i++)
		if (s->crtc[i])
			XRRFreeCrtcInfo(s->crtc[i]);
	free(s->out);
	free(s->crtc);
	if (s->res)
		XRRFreeScreenResources(s->res);
	memset(s, 0, sizeof(*s));
}

static bool snap_take(struct x11_randr *r, struct snap *s)
{
	Display *dpy = r->x->dpy;

	memset(s, 0, sizeof(*s));
	if (r->x->lost)
		return false;
	/* "Current": no probing of the outputs, which can take seconds */
	s->res = XRRGetScreenResourcesCurrent(dpy, r->x->root);
	if (!s->res)
		return false;
	s->out = calloc((size_t)s->res->noutput + 1, sizeof(*s->out));
	s->crtc = calloc((size_t)s->res->ncrtc + 1, sizeof(*s->crtc));
	if (!s->out || !s->crtc) {
		snap_free(s);
		return false;
	}
	for (int i = 0; i < s->res->noutput; i++) {
		s->out[i] = XRRGetOutputInfo(dpy, s->res, s->res->outputs[i]);
		if (s->out[i] && !strncmp(s->out[i]->name, "Virtual-", 8))
			s->virt = true;
	}
	for (int i = 0; i < s->res->ncrtc; i++)
		s->crtc[i] = XRRGetCrtcInfo(dpy, s->res, s->res->crtcs[i]);
	return true;
}

static int output_index(const struct snap *s, RROutput id)
{
	for (int i = 0; i < s->res->noutput; i++)
		if (s->res->outputs[i] == id && s->out[i])
			return i;
	return -1;
}

static int crtc_index(const struct snap *s, RRCrtc id)
{
	for (int i = 0; i < s->res->ncrtc; i++)
		if (s->res->crtcs[i] == id && s->crtc[i])
			return i;
	return -1;
}

/* The output of head @head: Virtual-(head+1), or the head-th connected. */
static int head_output(const struct snap *s, unsigned int head)
{
	char name[32];
	unsigned int n = 0;

	snprintf(name, sizeof(name), "Virtual-%u", head + 1);
	for (int i = 0; i < s->res->noutput; i++) {
		const XRROutputInfo *o = s->out[i];

		if (!o)
			continue;
		if (s->virt ? !strcmp(o->name, name) :
		    o->connection == RR_Connected && n++ == head)
			return i;
	}
	return -1;
}

/* How many heads the session could show. */
static unsigned int nr_mappable(const struct snap *s)
{
	unsigned int n = 0;

	for (unsigned int h = 0; h < PVA_DISPLAY_MAX_HEADS; h++)
		if (head_output(s, h) >= 0)
			n = h + 1;
	return n;
}

/* What the session shows, as @nr heads (at least) of the host's. */
static void read_layout(const struct snap *s, unsigned int nr,
			struct layout *now)
{
	unsigned int mappable = nr_mappable(s);

	memset(now->head, 0, sizeof(now->head));
	now->nr_heads = nr > mappable ? nr : mappable;
	if (now->nr_heads > PVA_DISPLAY_MAX_HEADS)
		now->nr_heads = PVA_DISPLAY_MAX_HEADS;
	for (unsigned int h = 0; h < now->nr_heads; h++) {
		int i = head_output(s, h), c;
		const XRRCrtcInfo *ci;

		if (i < 0 || !s->out[i]->crtc)
			continue;
		c = crtc_index(s, s->out[i]->crtc);
		ci = c >= 0 ? s->crtc[c] : NULL;
		/* the protocol's bounds: anything else is not reported on */
		if (!ci || ci->mode == None || ci->x < 0 || ci->y < 0 ||
		    ci->x > 65535 || ci->y > 65535 ||
		    ci->width < PVA_DISPLAY_MIN_DIM ||
		    ci->width > PVA_DISPLAY_MAX_DIM ||
		    ci->height < PVA_DISPLAY_MIN_DIM ||
		    ci->height > PVA_DISPLAY_MAX_DIM)
			continue;
		now->head[h].on = true;
		now->head[h].width = ci->width;
		now->head[h].height = ci->height;
		now->head[h].x = (uint32_t)ci->x;
		now->head[h].y = (uint32_t)ci->y;
	}
}

static bool same_layout(const struct layout *a, const struct layout *b)
{
	if (a->nr_heads != b->nr_heads)
		return false;
	for (unsigned int h = 0; h < a->nr_heads; h++) {
		const struct layout_head *p = &a->head[h], *q = &b->head[h];

		if (p->on != q->on || (p->on &&
		    (p->width != q->width || p->height != q->height ||
		     p->x != q->x || p->y != q->y)))
			return false;
	}
	return true;
}

/* ---- modes ---- */

static const XRRModeInfo *mode_info(const XRRScreenResources *res,
				    RRMode id)
{
	for (int i = 0; i < res->nmode; i++)
		if (res->modes[i].id == id)
			return &res->modes[i];
	return NULL;
}

static unsigned long millihertz(const XRRModeInfo *m)
{
	unsigned long long dots = (unsigned long long)m->hTotal * m->vTotal;

	return dots ? (unsigned long)(m->dotClock * 1000ull / dots) : 0;
}

/* The output's W×H mode: a preferred one, else the nearest 60 Hz. */
static RRMode output_mode(const struct snap *s, const XRROutputInfo *o,
			  uint32_t w, uint32_t h)
{
	RRMode best = None;
	unsigned long best_off = 0;

	for (int k = 0; k < o->nmode; k++) {
		const XRRModeInfo *m = mode_info(s->res, o->modes[k]);
		unsigned long hz, off;

		if (!m || m->width != w || m->height != h)
			continue;
		if (k < o->npreferred)
			return m->id;
		hz = millihertz(m);
		off = hz > 60000 ? hz - 60000 : 60000 - hz;
		if (best == None || off < best_off) {
			best = m->id;
			best_off = off;
		}
	}
	return best;
}

/* A W×H mode the screen has (ours, named WxH, first), not on the output. */
static RRMode screen_mode(const struct snap *s, uint32_t w, uint32_t h)
{
	char name[32];
	RRMode any = None;

	snprintf(name, sizeof(name), "%ux%u", w, h);
	for (int i = 0; i < s->res->nmode; i++) {
		const XRRModeInfo *m = &s->res->modes[i];

		if (m->width != w || m->height != h)
			continue;
		if (!strcmp(m->name, name))
			return m->id;
		if (any == None)
			any = m->id;
	}
	return any;
}

/* CVT's vertical sync width tells the aspect ratio to monitors. */
static unsigned int cvt_vsync(uint32_t w, uint32_t h)
{
	if (w * 3 == h * 4)
		return 4;
	if (w * 9 == h * 16)
		return 5;
	if (w * 10 == h * 16)
		return 6;
	if (w * 4 == h * 5 || w * 9 == h * 15)
		return 7;
	return 10;
}

/* VESA CVT 1.1 with reduced blanking, 60 Hz: what `cvt -r` prints. */
static void cvt_rb(XRRModeInfo *m, uint32_t w, uint32_t h)
{
	const double min_vblank_us = 460.0, frame_us = 1e6 / 60;
	unsigned int vsync = cvt_vsync(w, h);
	double line_us = (frame_us - min_vblank_us) / h;
	unsigned int vblank = (unsigned int)(min_vblank_us / line_us) + 1;

	if (vblank < 3 + vsync + 6)	/* front porch, sync, back porch */
		vblank = 3 + vsync + 6;
	m->width = w;
	m->hSyncStart = w + 48;
	m->hSyncEnd = w + 80;
	m->hTotal = w + 160;
	m->height = h;
	m->vSyncStart = h + 3;
	m->vSyncEnd = h + 3 + vsync;
	m->vTotal = h + vblank;
	/* in steps of 0.25 MHz */
	m->dotClock = (unsigned long)(60.0 * m->hTotal * m->vTotal / 250000) *
		      250000;
	m->modeFlags = RR_HSyncPositive | RR_VSyncNegative;
}

static RRMode create_mode(struct x11_randr *r, uint32_t w, uint32_t h)
{
	XRRModeInfo m = { 0 };
	char name[32];
	RRMode id;
	int err;

	snprintf(name, sizeof(name), "%ux%u", w, h);
	cvt_rb(&m, w, h);
	m.name = name;
	m.nameLength = (unsigned int)strlen(name);
	x11_trap_begin(r->x);
	id = XRRCreateMode(r->x->dpy, r->x->root, &m);
	err = x11_trap_end(r->x);
	if (err || id == None) {
		log_warn("display: cannot create the mode %s (X error %d)",
			 name, err);
		return None;
	}
	log_info("display: created the mode %s", name);
	return id;
}

/*
 * Give head @hp's output a W×H mode; returns true when it had to add one
 * (the snapshot is stale then).
 */
static bool ensure_mode(struct x11_randr *r, const struct snap *s,
			struct head_plan *hp, const struct layout_head *lh)
{
	const XRROutputInfo *o = s->out[hp->out];
	bool created = false;
	int err;

	hp->mode = output_mode(s, o, lh->width, lh->height);
	if (hp->mode != None)
		return false;
	hp->mode = screen_mode(s, lh->width, lh->height);
	if (hp->mode == None) {
		hp->mode = create_mode(r, lh->width, lh->height);
		created = true;
	}
	if (hp->mode == None) {
		hp->skip = true;
		return false;
	}
	x11_trap_begin(r->x);
	XRRAddOutputMode(r->x->dpy, hp->output, hp->mode);
	err = x11_trap_end(r->x);
	if (err) {
		log_warn("display: %s does not take a %ux%u mode (X error %d)",
			 o->name, lh->width, lh->height, err);
		if (created)	/* leave no unusable modes behind */
			XRRDestroyMode(r->x->dpy, hp->mode);
		hp->skip = true;
		return false;
	}
	return true;
}

/* ---- applying a layout ---- */

/* Can the screen be as large as the layout's heads? */
static bool layout_fits(struct x11_randr *r, const struct layout *l)
{
	int min_w, min_h, max_w, max_h;
	uint32_t w = 0, h = 0;

	if (!XRRGetScreenSizeRange(r->x->dpy, r->x->root, &min_w, &min_h,
				   &max_w, &max_h))
		return false;
	for (unsigned int i = 0; i < l->nr_heads; i++) {
		const struct layout_head *lh = &l->head[i];

		if (!lh->on)
			continue;
		if (lh->x + lh->width > w)
			w = lh->x + lh->width;
		if (lh->y + lh->height > h)
			h = lh->y + lh->height;
	}
	if (w <= (uint32_t)max_w && h <= (uint32_t)max_h)
		return true;
	log_warn("display: %ux%u is larger than the screen can be (%dx%d)",
		 w, h, max_w, max_h);
	return false;
}

/* Map the heads to outputs and give them modes: a status. */
static uint32_t prepare_heads(struct x11_randr *r, struct snap *s,
			      const struct layout *l, struct head_plan *hp)
{
	uint32_t status = PVA_S_OK;
	bool stale = false;

	for (unsigned int h = 0; h < l->nr_heads; h++) {
		hp[h].out = head_output(s, h);
		hp[h].output = hp[h].out >= 0 ? s->res->outputs[hp[h].out] :
						None;
		hp[h].on = l->head[h].on;
		hp[h].crtc = -1;
		if (hp[h].on && hp[h].out < 0) {
			log_warn("display: the session has no output for head %u",
				 h);
			status = PVA_S_ENOENT;
		}
		if (hp[h].on && hp[h].out >= 0)
			stale |= ensure_mode(r, s, &hp[h], &l->head[h]);
		if (hp[h].skip)
			status = PVA_S_EIO;
	}
	if (stale) {
		/* new output modes change the configuration's timestamp */
		snap_free(s);
		if (!snap_take(r, s))
			return PVA_S_EIO;
	}
	for (unsigned int h = 0; h < l->nr_heads; h++)
		if (hp[h].output != None)
			hp[h].out = output_index(s, hp[h].output);
	return status;
}

/* The head of the layout that drives output index @out, or -1. */
static int head_of(const struct head_plan *hp, unsigned int nr, int out)
{
	for (unsigned int h = 0; h < nr; h++)
		if (hp[h].out >= 0 && hp[h].out == out && !hp[h].skip)
			return (int)h;
	return -1;
}

/* Does CRTC @c show only heads of the layout (that we may change)? */
static bool crtc_is_ours(const struct snap *s, const struct head_plan *hp,
			 unsigned int nr, int c)
{
	const XRRCrtcInfo *ci = s->crtc[c];

	for (int k = 0; k < ci->noutput; k++)
		if (head_of(hp, nr, output_index(s, ci->outputs[k])) < 0)
			return false;
	return ci->noutput > 0;
}

/* Does CRTC @c show head @h as the layout wants it already? */
static bool crtc_shows(const struct snap *s, int c, const struct head_plan *hp,
		       const struct layout_head *lh)
{
	const XRRCrtcInfo *ci = s->crtc[c];

	return ci->mode == hp->mode && ci->noutput == 1 &&
	       ci->outputs[0] == hp->output && ci->rotation == RR_Rotate_0 &&
	       ci->x == (int)lh->x && ci->y == (int)lh->y;
}

/* The screen size for the layout, counting CRTCs we do not touch. */
static void bounding_box(const struct snap *s, const struct layout *l,
			 const struct head_plan *hp, int *w, int *h)
{
	*w = *h = 0;
	for (unsigned int i = 0; i < l->nr_heads; i++) {
		if (!hp[i].on || hp[i].out < 0 || hp[i].skip)
			continue;
		if ((int)(l->head[i].x + l->head[i].width) > *w)
			*w = (int)(l->head[i].x + l->head[i].width);
		if ((int)(l->head[i].y + l->head[i].height) > *h)
			*h = (int)(l->head[i].y + l->head[i].height);
	}
	for (int c = 0; c < s->res->ncrtc; c++) {
		const XRRCrtcInfo *ci = s->crtc[c];

		if (!ci || ci->mode == None ||
		    crtc_is_ours(s, hp, l->nr_heads, c))
			continue;
		if (ci->x + (int)ci->width > *w)
			*w = ci->x + (int)ci->width;
		if (ci->y + (int)ci->height > *h)
			*h = ci->y + (int)ci->height;
	}
}

static bool crtc_off(struct x11_randr *r, const struct snap *s, int c)
{
	return XRRSetCrtcConfig(r->x->dpy, s->res, s->res->crtcs[c],
				CurrentTime, 0, 0, None, RR_Rotate_0, NULL,
				0) == RRSetConfigSuccess;
}

/*
 * Free the CRTCs of heads that change or go off (a CRTC that clones one
 * of them with an output we do not manage keeps that output); mark the
 * CRTCs still in use in @busy.
 */
static bool free_crtcs(struct x11_randr *r, const struct snap *s,
		       const struct layout *l, struct head_plan *hp,
		       bool *busy)
{
	bool ok = true;

	for (int c = 0; c < s->res->ncrtc; c++) {
		const XRRCrtcInfo *ci = s->crtc[c];
		RROutput rest[16];
		int n = 0;

		if (!ci || ci->mode == None || ci->noutput > 16) {
			/* unreadable or too odd to change: leave it alone */
			busy[c] = !ci || ci->mode != None;
			continue;
		}
		busy[c] = true;
		for (unsigned int h = 0; h < l->nr_heads; h++) {
			if (hp[h].on && !hp[h].skip &&
			    crtc_shows(s, c, &hp[h], &l->head[h])) {
				hp[h].keep = true;
				hp[h].crtc = c;
			}
		}
		for (int k = 0; k < ci->noutput; k++) {
			int h = head_of(hp, l->nr_heads,
					output_index(s, ci->outputs[k]));

			if (h < 0 || hp[h].keep)
				rest[n++] = ci->outputs[k];
		}
		if (n == ci->noutput)
			continue;	/* nothing of ours changes here */
		if (!n) {
			ok &= crtc_off(r, s, c);
			busy[c] = false;
			continue;
		}
		ok &= XRRSetCrtcConfig(r->x->dpy, s->res, s->res->crtcs[c],
				       CurrentTime, ci->x, ci->y, ci->mode,
				       ci->rotation, rest, n) ==
		      RRSetConfigSuccess;
	}
	return ok;
}

/* A CRTC for head @hp's output: its own if free, else any free one. */
static int pick_crtc(const struct snap *s, const struct head_plan *hp,
		     const bool *busy)
{
	const XRROutputInfo *o = s->out[hp->out];
	int c = o->crtc ? crtc_index(s, o->crtc) : -1;

	if (c >= 0 && !busy[c])
		return c;
	for (int k = 0; k < o->ncrtc; k++) {
		c = crtc_index(s, o->crtcs[k]);
		if (c >= 0 && !busy[c])
			return c;
	}
	return -1;
}

static bool set_heads(struct x11_randr *r, const struct snap *s,
		      const struct layout *l, struct head_plan *hp,
		      bool *busy)
{
	bool ok = true;

	for (unsigned int h = 0; h < l->nr_heads; h++) {
		struct head_plan *p = &hp[h];

		if (!p->on || p->out < 0 || p->skip || p->keep)
			continue;
		p->crtc = pick_crtc(s, p, busy);
		if (p->crtc < 0) {
			log_warn("display: no free CRTC for %s",
				 s->out[p->out]->name);
			ok = false;
			continue;
		}
		busy[p->crtc] = true;
		if (XRRSetCrtcConfig(r->x->dpy, s->res, s->res->crtcs[p->crtc],
				     CurrentTime, (int)l->head[h].x,
				     (int)l->head[h].y, p->mode, RR_Rotate_0,
				     &p->output, 1) != RRSetConfigSuccess) {
			log_warn("display: %s refused %ux%u+%u+%u",
				 s->out[p->out]->name, l->head[h].width,
				 l->head[h].height, l->head[h].x,
				 l->head[h].y);
			ok = false;
		}
	}
	return ok;
}

/* The root window's size is the screen's, and never stale (Xlib's
 * DisplayWidth() is until the RandR events are processed).
 */
static void screen_size(struct x11_randr *r, int *w, int *h)
{
	unsigned int rw = 0, rh = 0, border, depth;
	Window root;
	int x, y;

	XGetGeometry(r->x->dpy, r->x->root, &root, &x, &y, &rw, &rh, &border,
		     &depth);
	*w = (int)rw;
	*h = (int)rh;
}

static void set_screen_size(struct x11_randr *r, int w, int h, bool *ok)
{
	Display *dpy = r->x->dpy;
	int cur_w, cur_h;

	screen_size(r, &cur_w, &cur_h);
	if (w == cur_w && h == cur_h)
		return;
	x11_trap_begin(r->x);
	/* millimetres at 96 dpi */
	XRRSetScreenSize(dpy, r->x->root, w, h, (w * 254 + 480) / 960,
			 (h * 254 + 480) / 960);
	if (x11_trap_end(r->x)) {
		log_warn("display: the screen cannot be %dx%d", w, h);
		*ok = false;
	}
}

/* Disable, resize, enable: that order works growing and shrinking. */
static uint32_t execute(struct x11_randr *r, const struct snap *s,
			const struct layout *l, struct head_plan *hp)
{
	Display *dpy = r->x->dpy;
	int w, h, min_w, min_h, max_w, max_h;
	bool ok = true, *busy;

	bounding_box(s, l, hp, &w, &h);
	if (!XRRGetScreenSizeRange(dpy, r->x->root, &min_w, &min_h, &max_w,
				   &max_h))
		return PVA_S_EIO;
	if (w > max_w || h > max_h) {
		log_warn("display: %dx%d is larger than the screen can be (%dx%d)",
			 w, h, max_w, max_h);
		return PVA_S_ERANGE;
	}
	if (!w || !h)		/* every head off: keep the screen's size */
		screen_size(r, &w, &h);
	w = w < min_w ? min_w : w;
	h = h < min_h ? min_h : h;
	busy = calloc((size_t)s->res->ncrtc + 1, sizeof(*busy));
	if (!busy)
		return PVA_S_ENOMEM;
	/* no client sees the steps in between */
	XGrabServer(dpy);
	ok &= free_crtcs(r, s, l, hp, busy);
	set_screen_size(r, w, h, &ok);
	ok &= set_heads(r, s, l, hp, busy);
	XUngrabServer(dpy);
	XFlush(dpy);
	free(busy);
	return ok ? PVA_S_OK : PVA_S_EIO;
}

/* Does @now show what @l asked for (the heads we could do)? */
static bool shows(const struct layout *now, const struct layout *l,
		  const struct head_plan *hp)
{
	for (unsigned int h = 0; h < l->nr_heads; h++) {
		const struct layout_head *want = &l->head[h];
		const struct layout_head *got = &now->head[h];

		if (hp[h].out < 0 || hp[h].skip)
			continue;
		if (want->on != got->on || (want->on &&
		    (want->width != got->width || want->height != got->height ||
		     want->x != got->x || want->y != got->y)))
			return false;
	}
	return true;
}

static void report(struct x11_randr *r, uint32_t generation, uint32_t status,
		   const struct layout *now)
{
	r->shown = *now;
	r->last_report = x11_now_ms();
	agent_layout_done(r->x->a, generation, status, now);
}

void x11_randr_apply(struct x11_randr *r, const struct layout *l)
{
	struct head_plan hp[PVA_DISPLAY_MAX_HEADS] = { 0 };
	struct layout now = { 0 };
	uint32_t status, st;
	struct snap s;

	r->host_heads = l->nr_heads;
	if (!snap_take(r, &s)) {
		log_warn("display: cannot read the screen's configuration");
		report(r, l->generation, PVA_S_EIO, &r->shown);
		return;
	}
	if (!layout_fits(r, l)) {
		/* nothing changes: not even modes are made for it */
		status = PVA_S_ERANGE;
		for (unsigned int h = 0; h < l->nr_heads; h++)
			hp[h].skip = true;
	} else {
		status = prepare_heads(r, &s, l, hp);
	}
	if (s.res && status != PVA_S_ERANGE) {
		st = execute(r, &s, l, hp);
		if (status == PVA_S_OK)
			status = st;
	}
	snap_free(&s);
	if (!snap_take(r, &s)) {
		report(r, l->generation, PVA_S_EIO, &r->shown);
		return;
	}
	read_layout(&s, l->nr_heads, &now);
	snap_free(&s);
	if (status == PVA_S_OK && !shows(&now, l, hp)) {
		log_warn("display: the screen does not show layout %u as asked",
			 l->generation);
		status = PVA_S_EIO;
	}
	now.generation = l->generation;
	report(r, l->generation, status, &now);
}

/* ---- changes of the session's own ---- */

bool x11_randr_event(struct x11_randr *r, XEvent *ev)
{
	uint64_t now;

	if (ev->type != r->event_base + RRScreenChangeNotify &&
	    ev->type != r->event_base + RRNotify)
		return false;
	/* keeps Xlib's idea of the screen size current */
	XRRUpdateConfiguration(ev);
	if (!r->dirty) {
		now = x11_now_ms();
		r->dirty = true;
		r->due = now + SETTLE_MS;
		if (r->due < r->last_report + REPORT_GAP_MS)
			r->due = r->last_report + REPORT_GAP_MS;
	}
	return true;
}

uint64_t x11_randr_tick(struct x11_randr *r, uint64_t now)
{
	struct layout cur = { 0 };
	struct snap s;

	if (!r->dirty)
		return 0;
	if (now < r->due)
		return r->due;
	r->dirty = false;
	if (!snap_take(r, &s))
		return 0;
	read_layout(&s, r->host_heads, &cur);
	snap_free(&s);
	/* our own changes were reported when they were made */
	if (same_layout(&cur, &r->shown))
		return 0;
	log_info("display: the session changed its layout");
	report(r, 0, PVA_S_OK, &cur);
	return 0;
}

struct x11_randr *x11_randr_open(struct x11 *x)
{
	struct x11_randr *r;
	int error_base, major = 1, minor = 3;
	struct snap s;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->x = x;
	if (!XRRQueryExtension(x->dpy, &r->event_base, &error_base) ||
	    !XRRQueryVersion(x->dpy, &major, &minor) ||
	    (major == 1 && minor < 3)) {
		log_warn("X11: no RandR 1.3: the host's layout is not applied");
		free(r);
		return NULL;
	}
	XRRSelectInput(x->dpy, x->root, RRScreenChangeNotifyMask |
		       RRCrtcChangeNotifyMask | RROutputChangeNotifyMask);
	if (snap_take(r, &s)) {
		read_layout(&s, 0, &r->shown);
		snap_free(&s);
	}
	return r;
}

void x11_randr_close(struct x11_randr *r)
{
	free(r);
}
