// SPDX-License-Identifier: MIT
/*
 * Fuzz the display service (host/display.c) with a hostile guest and a
 * busy pva-hostctl. The input is a program of HELLO, SCANOUT and DAMAGE
 * requests (built from the input so that valid scanouts, rectangles
 * partly or fully outside them, offsets at the end of the data region and
 * huge strides are common), raw messages of any type and length, bursts
 * the host has to hold back, pixels the guest draws into the region,
 * renegotiations, host restarts, and the control commands display-resize,
 * -disable, -heads and -screenshot (into a temporary directory).
 *
 * ASan and UBSan catch any bad access. Besides, every answer is checked
 * against a model of PROTOCOL.md 6.7 kept here: each status, the layout in
 * HELLO's answer and in every CONFIG event, the counters and scanouts of
 * display-heads, and each screenshot's picture (its FNV-1a hash against a
 * copy of the pixels the model took from the region). A difference aborts.
 */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FG_SHM_SIZE	(32u << 20)	/* the display's minimum and some */
#include "../unit/fake_guest.h"
#include "../unit/fake_ctl.h"
#include "log.h"

#define DSP		3
#define HEADS		PVA_DISPLAY_MAX_HEADS
#define XRGB		PVA_DISPLAY_FMT_XRGB8888
#define ON		PVA_DISPLAY_HEAD_ENABLED
#define MAX_LEN		1200	/* payload of a message we make */
#define MAX_QUEUE	160	/* requests sent and not answered yet */
#define BUDGET		(48u << 20)	/* pixels copied per input */
#define SHOT_MAX	(256u << 10)	/* pixels of a screenshot */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

/* What PROTOCOL.md 6.7 says the host's state is. */
struct mhead {
	bool enabled;			/* the layout */
	uint32_t width, height, x;
	bool on;			/* the scanout */
	uint32_t sw, sh, stride;
	uint64_t off;
	uint32_t *fb;			/* what the host must show */
	uint64_t scanouts, damages, rects, bad_rects, pixels;
};

static struct {
	struct mhead h[HEADS];
	uint32_t gen;
	bool layout_set, hello;
	int events;			/* CONFIG events due */
} m;

struct sent {
	uint32_t req_id, len;
	uint16_t type;
	uint8_t payload[MAX_LEN];
};

static struct fake_guest g;
static struct fake_ctl fc;
static uint8_t *region;
static uint64_t region_size, head_mem;
static struct sent queue[MAX_QUEUE];
static unsigned int qhead, qtail;
static uint32_t req_id;
static uint64_t work;			/* pixels copied in this input */
static char dir[64], shot[96];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_display: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static uint32_t take(struct input *in, unsigned int bytes)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint32_t)*in->p++ << (8 * i);
	return v;
}

static uint64_t take64(struct input *in)
{
	uint64_t lo = take(in, 4);

	return lo | (uint64_t)take(in, 4) << 32;
}

/* ---- the model ---- */

static bool size_fits(uint64_t w, uint64_t h)
{
	return w >= PVA_DISPLAY_MIN_DIM && w <= PVA_DISPLAY_MAX_DIM &&
	       h >= PVA_DISPLAY_MIN_DIM && h <= PVA_DISPLAY_MAX_DIM &&
	       w * 4 * h <= head_mem;
}

static void place_heads(void)
{
	uint32_t x = 0;

	for (int i = 0; i < HEADS; i++) {
		m.h[i].x = m.h[i].enabled ? x : 0;
		if (m.h[i].enabled)
			x += m.h[i].width;
	}
}

static void model_off(struct mhead *h)
{
	free(h->fb);
	h->fb = NULL;
	h->on = false;
	h->sw = h->sh = h->stride = 0;
	h->off = 0;
}

/* A host that just started: head 0 at pva-host's size, nothing shown. */
static void model_reset(void)
{
	for (int i = 0; i < HEADS; i++)
		model_off(&m.h[i]);
	memset(&m, 0, sizeof(m));
	m.h[0].enabled = true;
	m.h[0].width = g.cfg.display_width;
	m.h[0].height = g.cfg.display_height;
	m.gen = 1;
}

static struct pva_display_config model_config(void)
{
	struct pva_display_config c = {
		.generation = pva_cpu32(m.gen),
		.nr_heads = pva_cpu32(HEADS),
		.max_width = pva_cpu32(PVA_DISPLAY_MAX_DIM),
		.max_height = pva_cpu32(PVA_DISPLAY_MAX_DIM),
	};

	for (int i = 0; i < HEADS; i++) {
		if (!m.h[i].enabled)
			continue;
		c.heads[i].flags = pva_cpu32(ON);
		c.heads[i].width = pva_cpu32(m.h[i].width);
		c.heads[i].height = pva_cpu32(m.h[i].height);
		c.heads[i].x = pva_cpu32(m.h[i].x);
	}
	return c;
}

static void check_config(const char *what, const uint8_t *p, int len)
{
	struct pva_display_config c = model_config();

	if (len != (int)sizeof(c) || memcmp(p, &c, sizeof(c)))
		die("%s: the layout differs from the model's (generation %u)",
		    what, m.gen);
}

/* Copy a rectangle (inside the scanout) from the region, as the host. */
static void model_copy(struct mhead *h, uint64_t x, uint64_t y, uint64_t w,
		       uint64_t rows)
{
	for (uint64_t r = y; r < y + rows; r++)
		memcpy(h->fb + r * h->sw + x,
		       region + h->off + r * h->stride + x * 4, w * 4);
	h->pixels += w * rows;
}

static bool scanout_valid(const struct pva_display_scanout *so)
{
	uint64_t w = pva_le32(so->width), ht = pva_le32(so->height);
	uint64_t stride = pva_le32(so->stride), off = pva_le64(so->offset);

	return pva_le32(so->format) == XRGB &&
	       w >= PVA_DISPLAY_MIN_DIM && w <= PVA_DISPLAY_MAX_DIM &&
	       ht >= PVA_DISPLAY_MIN_DIM && ht <= PVA_DISPLAY_MAX_DIM &&
	       stride >= w * 4 && stride % 4 == 0 && off <= region_size &&
	       stride * ht <= region_size - off;
}

static void expect(const struct sent *s, uint32_t got, uint32_t want)
{
	if (got != want)
		die("request %u (type %u, %u bytes): status %u, the model says %u",
		    s->req_id, s->type, s->len, got, want);
}

static void model_hello(const struct sent *s, uint32_t st, const uint8_t *p,
			int n)
{
	struct pva_display_hello hello;
	bool adopt = false;

	if (s->len != sizeof(hello)) {
		expect(s, st, PVA_S_EINVAL);
		return;
	}
	expect(s, st, PVA_S_OK);
	memcpy(&hello, s->payload, sizeof(hello));
	for (int i = 0; i < HEADS; i++)
		model_off(&m.h[i]);
	m.hello = true;
	/* a host that has not set a layout takes the guest's */
	for (int i = 0; i < HEADS && !m.layout_set; i++)
		adopt |= (pva_le32(hello.heads[i].flags) & ON) &&
			 size_fits(pva_le32(hello.heads[i].width),
				   pva_le32(hello.heads[i].height));
	if (adopt) {
		for (int i = 0; i < HEADS; i++) {
			const struct pva_display_head *gh = &hello.heads[i];

			m.h[i].enabled = (pva_le32(gh->flags) & ON) &&
					 size_fits(pva_le32(gh->width),
						   pva_le32(gh->height));
			if (m.h[i].enabled) {
				m.h[i].width = pva_le32(gh->width);
				m.h[i].height = pva_le32(gh->height);
			}
		}
		place_heads();
		m.gen++;
	}
	/* the answer is the layout; a CONFIG due is superseded */
	m.events = 0;
	check_config("HELLO's answer", p, n);
}

static void model_scanout(const struct sent *s, uint32_t st)
{
	struct pva_display_scanout so;
	struct mhead *h;
	uint32_t head;

	memcpy(&so, s->payload, sizeof(so));
	head = pva_le32(so.head);
	if (s->len != sizeof(so) || head >= HEADS) {
		expect(s, st, PVA_S_EINVAL);
		return;
	}
	h = &m.h[head];
	model_off(h);
	h->scanouts++;
	if (!(pva_le32(so.flags) & ON)) {
		expect(s, st, PVA_S_OK);
		return;
	}
	if (!scanout_valid(&so)) {
		expect(s, st, PVA_S_EINVAL);
		return;
	}
	/*
	 * PROTOCOL.md 6.7 puts no limit on the stride but the region;
	 * host/display.c refuses more than 64 KiB of padding per line. Both
	 * answers are taken, the model follows the host's.
	 */
	if (st == PVA_S_EINVAL &&
	    pva_le32(so.stride) > pva_le32(so.width) * 4 + 65536)
		return;
	expect(s, st, PVA_S_OK);
	h->on = true;
	h->sw = pva_le32(so.width);
	h->sh = pva_le32(so.height);
	h->stride = pva_le32(so.stride);
	h->off = pva_le64(so.offset);
	h->fb = malloc((size_t)h->sw * h->sh * 4);
	if (!h->fb)
		die("out of memory");
	model_copy(h, 0, 0, h->sw, h->sh);
}

static void model_damage(const struct sent *s, uint32_t st)
{
	struct pva_display_damage dm;
	struct mhead *h;
	uint32_t head, nr;

	if (s->len < sizeof(dm)) {
		expect(s, st, PVA_S_EINVAL);
		return;
	}
	memcpy(&dm, s->payload, sizeof(dm));
	head = pva_le32(dm.head);
	nr = pva_le32(dm.nr_rects);
	if (head >= HEADS || nr < 1 || nr > PVA_DISPLAY_MAX_RECTS ||
	    s->len != sizeof(dm) + nr * sizeof(struct pva_display_rect)) {
		expect(s, st, PVA_S_EINVAL);
		return;
	}
	h = &m.h[head];
	if (!h->on) {
		expect(s, st, PVA_S_ENOENT);
		return;
	}
	expect(s, st, PVA_S_OK);
	h->damages++;
	for (uint32_t i = 0; i < nr; i++) {
		struct pva_display_rect r;
		uint64_t x, y, x2, y2;

		memcpy(&r, s->payload + sizeof(dm) + i * sizeof(r), sizeof(r));
		x = pva_le32(r.x);
		y = pva_le32(r.y);
		x2 = x + pva_le32(r.width);
		y2 = y + pva_le32(r.height);
		x2 = x2 < h->sw ? x2 : h->sw;
		y2 = y2 < h->sh ? y2 : h->sh;
		if (x >= x2 || y >= y2) {
			h->bad_rects++;
			continue;
		}
		h->rects++;
		model_copy(h, x, y, x2 - x, y2 - y);
	}
}

/* The host answered the oldest request: check and follow it. */
static void model_answer(const struct pva_msg_hdr *hdr, const uint8_t *p,
			 int n)
{
	const struct sent *s;
	uint32_t st = pva_le32(hdr->status);

	if (qhead == qtail)
		die("an answer (req_id %u) to no request", pva_le32(hdr->req_id));
	s = &queue[qhead++];
	if (pva_le32(hdr->req_id) != s->req_id || pva_le16(hdr->type) != s->type)
		die("answer req_id %u type %u, oldest request %u type %u",
		    pva_le32(hdr->req_id), pva_le16(hdr->type), s->req_id,
		    s->type);
	if (n && !(s->type == PVA_DISPLAY_HELLO && st == PVA_S_OK))
		die("answer of %d bytes to type %u", n, s->type);
	switch (s->type) {
	case PVA_DISPLAY_HELLO:
		model_hello(s, st, p, n);
		break;
	case PVA_DISPLAY_SCANOUT:
		model_scanout(s, st);
		break;
	case PVA_DISPLAY_DAMAGE:
		model_damage(s, st);
		break;
	default:
		expect(s, st, PVA_S_ENOTSUP);
	}
}

/* Read all the host sent; every request must be answered by then. */
static void drain(void)
{
	static uint8_t buf[PVA_MSG_MAX];
	struct pva_msg_hdr hdr;
	int n;

	while ((n = fg_recv(&g, DSP, &hdr, buf, sizeof(buf))) >= 0) {
		uint16_t flags = pva_le16(hdr.flags);

		if (flags == PVA_MSG_F_RESPONSE) {
			model_answer(&hdr, buf, n);
			continue;
		}
		if (flags || pva_le16(hdr.type) != PVA_DISPLAY_CONFIG ||
		    hdr.req_id)
			die("unexpected message type %u flags %u from the host",
			    pva_le16(hdr.type), flags);
		if (m.events-- <= 0)
			die("a CONFIG event nobody asked for");
		check_config("CONFIG event", buf, n);
	}
	if (n != -1)
		die("the host->guest ring is corrupt (%d)", n);
	if (qhead != qtail)
		die("%u requests not answered", qtail - qhead);
	if (m.events)
		die("a new layout was not sent to the guest");
	qhead = qtail = 0;
}

/* ---- the guest ---- */

/* The most pixels @p (a DAMAGE) makes the host copy, if head @head is
 * at most @w x @h.
 */
static uint64_t damage_cost(const uint8_t *p, uint32_t len, uint64_t w,
			    uint64_t h)
{
	struct pva_display_damage dm;
	uint64_t cost = 0;
	uint32_t nr;

	if (len < sizeof(dm))
		return 0;
	memcpy(&dm, p, sizeof(dm));
	nr = pva_le32(dm.nr_rects);
	if (nr > PVA_DISPLAY_MAX_RECTS ||
	    len != sizeof(dm) + nr * sizeof(struct pva_display_rect))
		return 0;
	for (uint32_t i = 0; i < nr; i++) {
		struct pva_display_rect r;
		uint64_t x, y, x2, y2;

		memcpy(&r, p + sizeof(dm) + i * sizeof(r), sizeof(r));
		x = pva_le32(r.x);
		y = pva_le32(r.y);
		x2 = x + pva_le32(r.width);
		y2 = y + pva_le32(r.height);
		x2 = x2 < w ? x2 : w;
		y2 = y2 < h ? y2 : h;
		if (x < x2 && y < y2)
			cost += (x2 - x) * (y2 - y);
	}
	return cost;
}

/* In a burst, the largest scanout each head may have by now. */
static uint64_t burst_w[HEADS], burst_h[HEADS];

/* Pixels the host (and the model) copy for this message, at most. */
static uint64_t cost(uint16_t type, const uint8_t *p, uint32_t len)
{
	if (type == PVA_DISPLAY_SCANOUT && len == 32) {
		const struct pva_display_scanout *so = (const void *)p;
		uint32_t head = pva_le32(so->head);

		if (!scanout_valid(so) || head >= HEADS)
			return 0;
		if (pva_le32(so->width) > burst_w[head])
			burst_w[head] = pva_le32(so->width);
		if (pva_le32(so->height) > burst_h[head])
			burst_h[head] = pva_le32(so->height);
		return (uint64_t)pva_le32(so->width) * pva_le32(so->height);
	}
	if (type == PVA_DISPLAY_DAMAGE && len >= 8) {
		uint32_t head = pva_le32(((const struct pva_display_damage *)
					  (const void *)p)->head);
		uint64_t w, h;

		if (head >= HEADS)
			return 0;
		w = m.h[head].sw > burst_w[head] ? m.h[head].sw : burst_w[head];
		h = m.h[head].sh > burst_h[head] ? m.h[head].sh : burst_h[head];
		return damage_cost(p, len, w, h);
	}
	return 0;
}

/* Send one message unless it is over the budget; 0 if sent. */
static int send_msg(uint16_t type, uint16_t flags, const uint8_t *p,
		    uint32_t len)
{
	uint64_t c = flags == PVA_MSG_F_REQUEST ? cost(type, p, len) : 0;
	struct sent *s;

	if (work + c > BUDGET || qtail == MAX_QUEUE)
		return -1;
	if (fg_send(&g, DSP, type, flags, flags == PVA_MSG_F_REQUEST ?
		    req_id + 1 : 0, p, len))
		return -1;
	work += c;
	if (flags != PVA_MSG_F_REQUEST)
		return 0;
	s = &queue[qtail++];
	s->req_id = ++req_id;
	s->type = type;
	s->len = len;
	memcpy(s->payload, p, len);
	return 0;
}

static uint32_t pick_head(struct input *in)
{
	uint32_t v = take(in, 1);

	if (v < 224)
		return v % HEADS;
	return v < 240 ? HEADS : v < 248 ? v : 0xffffffffu;
}

static uint32_t pick_dim(struct input *in)
{
	static const uint32_t odd[] = { 0, 1, 63, 64, 65, 4096, 8191, 8192,
					8193, 0x40000000, 0xffffffff };
	uint32_t v = take(in, 1);

	if (v < 200)
		return 64 + (v * 7 + take(in, 1)) % 700;
	return odd[v % (sizeof(odd) / sizeof(odd[0]))];
}

/* Where in the region a head's pixels start. */
static uint64_t pick_offset(struct input *in, uint32_t head, uint64_t bytes)
{
	uint32_t v = take(in, 1);

	switch (v % 8) {
	case 0:
	case 1:
	case 2:
		return (head % HEADS) * head_mem + 4 * (uint64_t)take(in, 2);
	case 3:		/* the last bytes of the region */
		return region_size - bytes;
	case 4:		/* just beyond */
		return region_size - bytes + 4 * (1 + v / 8 % 16);
	case 5:
		return region_size - (uint64_t)take(in, 3);
	case 6:
		return (uint64_t)0 - 4 * (1 + (uint64_t)take(in, 2));
	default:
		return take64(in);
	}
}

static uint32_t build_hello(struct input *in, uint8_t *p)
{
	struct pva_display_hello h = {
		.features = pva_cpu64(take(in, 1) < 250 ? 0 : take64(in)),
		.nr_heads = pva_cpu32(take(in, 1) % 6),
	};
	uint32_t sel = take(in, 1);

	for (int i = 0; i < HEADS; i++) {
		uint32_t f = take(in, 1);

		h.heads[i].flags = pva_cpu32(f < 128 ? ON : f < 240 ? 0 : f);
		h.heads[i].width = pva_cpu32(pick_dim(in));
		h.heads[i].height = pva_cpu32(pick_dim(in));
	}
	memcpy(p, &h, sizeof(h));
	if (sel < 240)
		return sizeof(h);
	memset(p + sizeof(h), (int)sel, 16);
	return (uint32_t)sizeof(h) - 8 + sel % 17;
}

static uint32_t build_scanout(struct input *in, uint8_t *p)
{
	struct pva_display_scanout so;
	uint32_t head = pick_head(in), w = pick_dim(in), h = pick_dim(in);
	uint32_t v = take(in, 1), f = take(in, 1), l = take(in, 1);
	uint64_t stride;

	switch (v % 8) {
	case 0:
	case 1:
	case 2:
		stride = (uint64_t)w * 4;
		break;
	case 3:		/* padded */
		stride = (uint64_t)w * 4 + 4 * (uint64_t)take(in, 1);
		break;
	case 4:		/* one pixel short, or not a multiple of 4 */
		stride = (uint64_t)w * 4 - (v & 8 ? 4 : 2);
		break;
	case 5:		/* huge: beyond the host's 64 KiB of padding */
		stride = (uint64_t)w * 4 + 65536 + 4 * (uint64_t)take(in, 1);
		break;
	case 6:
		stride = 0xfffffffcu - 4 * (uint64_t)take(in, 1);
		break;
	default:
		stride = take(in, 4);
	}
	so = (struct pva_display_scanout){
		.head = pva_cpu32(head),
		.flags = pva_cpu32(f < 224 ? ON : f < 240 ? 0 : f),
		.width = pva_cpu32(w),
		.height = pva_cpu32(h),
		.stride = pva_cpu32((uint32_t)stride),
		.format = pva_cpu32(v < 240 ? XRGB : take(in, 4)),
		.offset = pva_cpu64(pick_offset(in, head,
					(uint64_t)(uint32_t)stride * h)),
	};
	memcpy(p, &so, sizeof(so));
	if (l < 248)
		return sizeof(so);
	return (uint32_t)sizeof(so) - 4 + l % 9;
}

static uint32_t build_damage(struct input *in, uint8_t *p)
{
	uint32_t head = pick_head(in), v = take(in, 1), nr, sent, len;
	uint32_t sw = m.h[head % HEADS].on ? m.h[head % HEADS].sw : 640;
	uint32_t sh = m.h[head % HEADS].on ? m.h[head % HEADS].sh : 480;
	struct pva_display_damage dm;

	if (v < 224)
		nr = 1 + v % 8;
	else if (v < 240)
		nr = v & 1 ? PVA_DISPLAY_MAX_RECTS : 0;
	else
		nr = v & 1 ? PVA_DISPLAY_MAX_RECTS + 1 : take(in, 4);
	sent = nr <= PVA_DISPLAY_MAX_RECTS + 1 ? nr : take(in, 1) % 4;
	if (take(in, 1) >= 248)		/* says more or fewer than it has */
		sent = sent ? sent - 1 : 1;
	dm.head = pva_cpu32(head);
	dm.nr_rects = pva_cpu32(nr);
	memcpy(p, &dm, sizeof(dm));
	for (uint32_t i = 0; i < sent; i++) {
		uint32_t x, y, w, h, mode = take(in, 1);

		switch (mode % 8) {
		case 0:
		case 1:		/* inside */
			x = take(in, 2) % sw;
			y = take(in, 2) % sh;
			w = 1 + take(in, 2) % (sw - x);
			h = 1 + take(in, 2) % (sh - y);
			break;
		case 2:		/* across the right or bottom edge */
			x = sw - 1 - take(in, 1) % 16;
			y = take(in, 2) % sh;
			w = mode & 8 ? 0xffffffffu : 32 + take(in, 1);
			h = mode & 16 ? 0xffffffffu : 1 + take(in, 2) % sh;
			break;
		case 3:		/* outside */
			x = mode & 8 ? sw + take(in, 1) : take(in, 2) % sw;
			y = mode & 8 ? take(in, 2) % sh : sh + take(in, 1);
			w = 1 + take(in, 1);
			h = 1 + take(in, 1);
			break;
		case 4:		/* empty */
			x = take(in, 1);
			y = take(in, 1);
			w = mode & 8 ? 0 : 5;
			h = mode & 8 ? 5 : 0;
			break;
		case 5:		/* wrapping in 32 bits */
			x = 0xffffff00u + take(in, 1);
			y = mode & 8 ? 0xfffffff0u : 0;
			w = 0x200;
			h = mode & 16 ? 0xffffffffu : 0x20;
			break;
		case 6:		/* everything */
			x = y = 0;
			w = mode & 8 ? sw : 0xffffffffu;
			h = mode & 8 ? sh : 0xffffffffu;
			break;
		default:
			x = take(in, 4);
			y = take(in, 4);
			w = take(in, 4);
			h = take(in, 4);
		}
		struct pva_display_rect r = {
			pva_cpu32(x), pva_cpu32(y), pva_cpu32(w), pva_cpu32(h)
		};
		memcpy(p + sizeof(dm) + i * sizeof(r), &r, sizeof(r));
	}
	len = (uint32_t)(sizeof(dm) + sent * sizeof(struct pva_display_rect));
	if (take(in, 1) >= 250)		/* a stray byte or a few */
		len += 1 + take(in, 1) % 8;
	return len < MAX_LEN ? len : MAX_LEN;
}

/* One message of the guest's, made from the input; 0 if sent. */
static int guest_message(struct input *in)
{
	static uint8_t p[MAX_LEN];
	uint32_t v = take(in, 1), len;
	uint16_t type, flags = PVA_MSG_F_REQUEST;

	memset(p, 0, sizeof(p));
	switch (v % 8) {
	case 0:
		type = PVA_DISPLAY_HELLO;
		len = build_hello(in, p);
		break;
	case 1:
	case 2:
	case 3:
		type = PVA_DISPLAY_SCANOUT;
		len = build_scanout(in, p);
		break;
	case 4:
	case 5:
	case 6:
		type = PVA_DISPLAY_DAMAGE;
		len = build_damage(in, p);
		break;
	default:	/* anything: any type, length and bytes */
		type = (uint16_t)(take(in, 1) % 7);
		flags = (uint16_t)(take(in, 1) % 3);
		len = take(in, 2) % MAX_LEN;
		for (uint32_t i = 0; i < len; i++)
			p[i] = (uint8_t)take(in, 1);
	}
	return send_msg(type, flags, p, len);
}

/* The guest draws into the region. */
static void scribble(struct input *in)
{
	uint32_t v = take(in, 1), len = (take(in, 2) % 8192) & ~3u;
	uint32_t px = take(in, 4), step = take(in, 1);
	uint64_t off = v % 5 < 4 ? (v % 5) * head_mem : region_size - 8192;

	off += 4 * (uint64_t)take(in, 3);
	if (off > region_size - len)
		off = region_size - len;
	for (uint32_t i = 0; i < len; i += 4, px += step)
		memcpy(region + off + i, &px, 4);
}

/* ---- pva-hostctl ---- */

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		die("no '%s' in %s", key, json_object_to_json_string(o));
	return json_object_get_int64(v);
}

/* A "head" field from the input: absent (head 0), valid or not. */
static int64_t add_head(struct input *in, struct json_object *req)
{
	uint32_t v = take(in, 1);

	if (v < 16)
		return 0;
	if (v < 24) {
		json_object_object_add(req, "head", json_object_new_string("1"));
		return -1;
	}
	json_object_object_add(req, "head", json_object_new_int64(
		v < 224 ? v % HEADS : v < 240 ? HEADS : (int64_t)v - 256));
	return v < 224 ? (int64_t)(v % HEADS) : -1;
}

/* A width or height: its value, or -1 if not a fitting integer. */
static int64_t add_dim(struct input *in, struct json_object *req,
		       const char *key)
{
	uint32_t v = take(in, 1);
	int64_t d;

	if (v < 8)
		return -1;
	if (v < 16) {
		json_object_object_add(req, key, json_object_new_string("800"));
		return -1;
	}
	if (v < 24) {
		json_object_object_add(req, key, json_object_new_double(800));
		return -1;
	}
	d = v < 200 ? 64 + take(in, 2) % 2000 :
	    v < 240 ? (int64_t)pick_dim(in) : (int64_t)take(in, 4) - (1 << 20);
	json_object_object_add(req, key, json_object_new_int64(d));
	return d >= PVA_DISPLAY_MIN_DIM && d <= PVA_DISPLAY_MAX_DIM ? d : -1;
}

static struct json_object *call(struct json_object *req)
{
	struct json_object *ans = fc_call(&fc, req);

	if (!ans)
		die("no answer from the control socket");
	return ans;
}

static void answer_is(struct json_object *ans, bool ok, const char *what)
{
	if (fc_ok(ans) != ok)
		die("%s: %s, the model says %s", what,
		    json_object_to_json_string(ans), ok ? "ok" : "an error");
}

static void ctl_resize(struct input *in)
{
	struct json_object *req = json_object_new_object(), *ans;
	int64_t head = add_head(in, req), w = add_dim(in, req, "width");
	int64_t h = add_dim(in, req, "height");
	bool ok = head >= 0 && w > 0 && h > 0 && size_fits((uint64_t)w,
							    (uint64_t)h);

	json_object_object_add(req, "cmd",
			       json_object_new_string("display-resize"));
	ans = call(req);
	answer_is(ans, ok, "display-resize");
	if (ok) {
		m.h[head].enabled = true;
		m.h[head].width = (uint32_t)w;
		m.h[head].height = (uint32_t)h;
		place_heads();
		m.layout_set = true;
		m.gen++;
		m.events = m.hello;
		if (jint(ans, "generation") != m.gen)
			die("display-resize: generation %" PRId64 ", want %u",
			    jint(ans, "generation"), m.gen);
	}
	json_object_put(ans);
}

static void ctl_disable(struct input *in)
{
	struct json_object *req = json_object_new_object(), *ans;
	int64_t head = add_head(in, req);
	bool ok = false;

	for (int i = 0; i < HEADS && head >= 0; i++)
		ok |= i != head && m.h[i].enabled;
	json_object_object_add(req, "cmd",
			       json_object_new_string("display-disable"));
	ans = call(req);
	answer_is(ans, ok, "display-disable");
	if (ok) {
		m.h[head].enabled = false;
		place_heads();
		m.layout_set = true;
		m.gen++;
		m.events = m.hello;
		if (jint(ans, "generation") != m.gen)
			die("display-disable: wrong generation");
	}
	json_object_put(ans);
}

static uint64_t fnv(const uint32_t *px, uint64_t n, uint64_t *nonblack)
{
	uint64_t h = 0xcbf29ce484222325ull;

	*nonblack = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t p = px[i] & 0xffffff;

		*nonblack += p != 0;
		for (int b = 0; b < 4; b++) {
			h ^= (p >> (8 * b)) & 0xff;
			h *= 0x100000001b3ull;
		}
	}
	return h;
}

static void ctl_screenshot(struct input *in)
{
	struct json_object *req = json_object_new_object(), *ans, *v;
	int64_t head = add_head(in, req);
	const struct mhead *h = head >= 0 ? &m.h[head] : NULL;
	uint64_t n = h && h->on ? (uint64_t)h->sw * h->sh : 0, want, nonblack;
	char hex[17];

	if (n > SHOT_MAX || work + 4 * n > BUDGET) {
		json_object_put(req);
		return;
	}
	work += 4 * n;
	json_object_object_add(req, "cmd",
			       json_object_new_string("display-screenshot"));
	json_object_object_add(req, "path", json_object_new_string(shot));
	ans = call(req);
	answer_is(ans, n != 0, "display-screenshot");
	if (n) {
		want = fnv(h->fb, n, &nonblack);
		snprintf(hex, sizeof(hex), "%016" PRIx64, want);
		if (!json_object_object_get_ex(ans, "fnv", &v) ||
		    strcmp(json_object_get_string(v), hex) ||
		    jint(ans, "nonblack") != (int64_t)nonblack ||
		    jint(ans, "width") != h->sw || jint(ans, "height") != h->sh)
			die("screenshot of head %" PRId64 ": %s, the model has %ux%u, fnv %s, %" PRIu64 " not black",
			    head, json_object_to_json_string(ans), h->sw, h->sh,
			    hex, nonblack);
	}
	json_object_put(ans);
}

/* display-heads shows the model's layout, scanouts and counters. */
static void ctl_heads(void)
{
	struct json_object *req = json_object_new_object(), *ans, *heads;

	json_object_object_add(req, "cmd",
			       json_object_new_string("display-heads"));
	ans = call(req);
	answer_is(ans, true, "display-heads");
	if (jint(ans, "generation") != m.gen ||
	    jint(ans, "guest_driver") != m.hello ||
	    jint(ans, "memory") != (int64_t)region_size ||
	    jint(ans, "head_memory") != (int64_t)head_mem ||
	    !json_object_object_get_ex(ans, "heads", &heads) ||
	    json_object_array_length(heads) != HEADS)
		die("display-heads: %s", json_object_to_json_string(ans));
	for (int i = 0; i < HEADS; i++) {
		struct json_object *o = json_object_array_get_idx(heads, (size_t)i);
		struct json_object *so;
		const struct mhead *h = &m.h[i];

		if (!json_object_object_get_ex(o, "scanout", &so) ||
		    jint(o, "head") != i || jint(o, "enabled") != h->enabled ||
		    jint(o, "width") != (h->enabled ? h->width : 0) ||
		    jint(o, "height") != (h->enabled ? h->height : 0) ||
		    jint(o, "x") != h->x || jint(o, "y") != 0 ||
		    jint(so, "on") != h->on || jint(so, "width") != h->sw ||
		    jint(so, "height") != h->sh ||
		    jint(so, "stride") != h->stride ||
		    jint(so, "offset") != (int64_t)h->off ||
		    jint(so, "scanouts") != (int64_t)h->scanouts ||
		    jint(so, "damages") != (int64_t)h->damages ||
		    jint(so, "rects") != (int64_t)h->rects ||
		    jint(so, "bad_rects") != (int64_t)h->bad_rects ||
		    jint(so, "pixels") != (int64_t)h->pixels)
			die("display-heads: head %d is %s, the model has enabled %d %ux%u+%u, on %d %ux%u stride %u offset %" PRIu64 ", %" PRIu64 " scanouts %" PRIu64 " damages %" PRIu64 " rects %" PRIu64 " bad %" PRIu64 " pixels",
			    i, json_object_to_json_string(o), h->enabled,
			    h->width, h->height, h->x, h->on, h->sw, h->sh,
			    h->stride, h->off, h->scanouts, h->damages,
			    h->rects, h->bad_rects, h->pixels);
	}
	json_object_put(ans);
}

/* ---- the program ---- */

static void cleanup(void)
{
	unlink(shot);
	rmdir(dir);
}

static void find_region(void)
{
	const struct pva_service_desc *d = (const struct pva_service_desc *)
		(g.shm + pva_le32(fg_hdr(&g)->host.svc_table_off));

	if (pva_le16(d[DSP].type) != PVA_SVC_DISPLAY)
		abort();
	region = g.shm + pva_le64(d[DSP].data_off);
	region_size = pva_le64(d[DSP].data_size);
	head_mem = region_size / HEADS / 4096 * 4096;
}

/* A freshly started pva-host (its display knows no layout) and guest. */
static void start_host(void)
{
	static bool ready;

	if (!ready) {
		log_init("fuzz", LOG_EMERG);
		snprintf(dir, sizeof(dir), "/tmp/pva-fuzz-display-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(shot, sizeof(shot), "%s/shot.png", dir);
		atexit(cleanup);
		if (fg_init_with(&g, &display_service_ops))
			abort();
		ready = true;
	} else {
		fc_fini(&fc);
		if (fg_restart_host(&g))
			abort();
	}
	if (fc_init(&fc, g.loop, g.dev) || fg_negotiate(&g))
		abort();
	find_region();
	model_reset();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	start_host();
	work = 0;
	while (in.left) {
		switch (take(&in, 1) % 16) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
		case 5:
			guest_message(&in);
			break;
		case 6:
			scribble(&in);
			break;
		case 7: {	/* a burst the host may have to hold back */
			uint32_t n = 1 + take(&in, 1) % (MAX_QUEUE - 8);

			memset(burst_w, 0, sizeof(burst_w));
			memset(burst_h, 0, sizeof(burst_h));
			for (uint32_t i = 0; i < n && in.left; i++)
				if (guest_message(&in))
					break;
			memset(burst_w, 0, sizeof(burst_w));
			memset(burst_h, 0, sizeof(burst_h));
			break;
		}
		case 8:
		case 9:
			ctl_resize(&in);
			break;
		case 10:
			ctl_disable(&in);
			break;
		case 11:
			ctl_screenshot(&in);
			break;
		case 12:
			ctl_heads();
			break;
		case 13:	/* the guest driver reloads */
			if (fg_negotiate(&g))
				die("negotiation failed");
			m.hello = false;
			for (int i = 0; i < HEADS; i++)
				model_off(&m.h[i]);
			break;
		case 14:
			device_tick(g.dev);
			break;
		case 15:	/* pva-host restarts */
			if (take(&in, 1) % 8 == 0)
				start_host();
			break;
		}
		drain();
	}
	ctl_heads();
	for (int i = 0; i < HEADS; i++)
		model_off(&m.h[i]);
	return 0;
}
