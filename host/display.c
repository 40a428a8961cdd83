// SPDX-License-Identifier: MIT
/*
 * The display service, host side (protocol/PROTOCOL.md 6.7). pva-hostctl
 * sets the layout (which heads are on, their sizes); the guest's pva_drm
 * makes those the preferred modes, scans out of our data region and names
 * what changed. We keep a copy of each head's picture, taken from the
 * region when the guest says it changed, so screenshots (and a viewer)
 * never see half a frame. Everything the guest sends is checked against
 * the region before we read a pixel.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "config.h"
#include "ctl.h"
#include "device.h"
#include "display.h"
#include "log.h"
#include "png_write.h"
#include "vnc.h"

#define MAX_HEADS	PVA_DISPLAY_MAX_HEADS
#define SLOT_ALIGN	4096u

struct display_head {
	unsigned int index;
	struct display *d;

	/* what the host wants */
	bool enabled;
	uint32_t width, height, x, y;

	/* what the guest scans out, checked against the region */
	bool on;
	uint32_t so_width, so_height, so_stride;
	uint64_t so_offset;
	uint32_t *fb;			/* our copy, so_width x so_height */

	uint64_t scanouts, damages, rects, pixels, bad_rects;
};

struct display {
	struct display_head heads[MAX_HEADS];
	uint32_t config_gen;
	bool layout_set;		/* by pva-hostctl since we started */
	bool config_dirty;		/* CONFIG to send */
	bool hello;			/* the guest driver is up */
	uint32_t guest_heads;
	struct vnc *vnc;		/* live view of head 0, or NULL */
	struct log_ratelimit rl;
};

/* Heads side by side, left to right, in head order. */
static void display_place_heads(struct display *d)
{
	uint32_t x = 0;

	for (unsigned int i = 0; i < MAX_HEADS; i++) {
		struct display_head *h = &d->heads[i];

		h->x = h->enabled ? x : 0;
		h->y = 0;
		if (h->enabled)
			x += h->width;
	}
}

static struct pva_display_config display_config(const struct display *d)
{
	struct pva_display_config c = {
		.generation = pva_cpu32(d->config_gen),
		.nr_heads = pva_cpu32(MAX_HEADS),
		.max_width = pva_cpu32(PVA_DISPLAY_MAX_DIM),
		.max_height = pva_cpu32(PVA_DISPLAY_MAX_DIM),
	};

	for (unsigned int i = 0; i < MAX_HEADS; i++) {
		const struct display_head *h = &d->heads[i];

		if (!h->enabled)
			continue;
		c.heads[i].flags = pva_cpu32(PVA_DISPLAY_HEAD_ENABLED);
		c.heads[i].width = pva_cpu32(h->width);
		c.heads[i].height = pva_cpu32(h->height);
		c.heads[i].x = pva_cpu32(h->x);
		c.heads[i].y = pva_cpu32(h->y);
	}
	return c;
}

/* Can a head of @w x @h pixels scan out of its part of the region? */
/* Bytes a head may scan out: its quarter of the region (PROTOCOL.md 6.7). */
static uint64_t head_memory(const struct service *svc)
{
	return svc->data_size / MAX_HEADS / SLOT_ALIGN * SLOT_ALIGN;
}

static bool display_size_ok(const struct service *svc, uint64_t w, uint64_t h)
{
	return w >= PVA_DISPLAY_MIN_DIM && w <= PVA_DISPLAY_MAX_DIM &&
	       h >= PVA_DISPLAY_MIN_DIM && h <= PVA_DISPLAY_MAX_DIM &&
	       w * 4 * h <= head_memory(svc);
}

static void head_off(struct display_head *h)
{
	if (h->index == 0 && h->d->vnc)
		vnc_set_picture(h->d->vnc, NULL, 0, 0);	/* before the free */
	h->on = false;
	free(h->fb);
	h->fb = NULL;
	h->so_width = h->so_height = h->so_stride = 0;
	h->so_offset = 0;
}

/* Copy one rectangle (already inside the scanout) from the region. */
static void head_copy(struct service *svc, struct display_head *h,
		      uint32_t x, uint32_t y, uint32_t w, uint32_t rows)
{
	const uint8_t *src = (const uint8_t *)svc->data + h->so_offset +
			     (uint64_t)y * h->so_stride + (uint64_t)x * 4;
	uint32_t *dst = h->fb + (uint64_t)y * h->so_width + x;

	for (uint32_t r = 0; r < rows; r++) {
		memcpy(dst, src, (size_t)w * 4);
		src += h->so_stride;
		dst += h->so_width;
	}
	h->pixels += (uint64_t)w * rows;
	if (h->index == 0 && h->d->vnc)
		vnc_damage(h->d->vnc, x, y, w, rows);
}

/* ---- messages from the guest ---- */

static void bad_msg(struct service *svc, const char *what, uint32_t len)
{
	struct display *d = svc->priv;

	svc->stats.bad_msgs++;
	if (log_ratelimit_ok(&d->rl))
		log_warn("display: malformed %s (%u bytes) from the guest", what,
			 len);
}

static int display_hello(struct service *svc, const struct pva_msg_hdr *hdr,
			 const uint8_t *payload, uint32_t len)
{
	struct display *d = svc->priv;
	struct pva_display_hello hello;
	struct pva_display_config cfg;
	bool adopt = false;

	if (len != sizeof(hello)) {
		bad_msg(svc, "HELLO", len);
		service_reply(svc, hdr, PVA_S_EINVAL, NULL, 0);
		return 0;
	}
	memcpy(&hello, payload, sizeof(hello));
	/* the guest resends its scanouts after this */
	for (unsigned int i = 0; i < MAX_HEADS; i++)
		head_off(&d->heads[i]);
	d->hello = true;
	d->guest_heads = pva_le32(hello.nr_heads);
	/* A restarted host keeps the guest's layout rather than resizing it. */
	for (unsigned int i = 0; i < MAX_HEADS && !d->layout_set; i++) {
		const struct pva_display_head *g = &hello.heads[i];

		if ((pva_le32(g->flags) & PVA_DISPLAY_HEAD_ENABLED) &&
		    display_size_ok(svc, pva_le32(g->width),
				    pva_le32(g->height)))
			adopt = true;
	}
	if (adopt) {
		for (unsigned int i = 0; i < MAX_HEADS; i++) {
			const struct pva_display_head *g = &hello.heads[i];
			struct display_head *h = &d->heads[i];

			h->enabled = (pva_le32(g->flags) &
				      PVA_DISPLAY_HEAD_ENABLED) &&
				     display_size_ok(svc, pva_le32(g->width),
						     pva_le32(g->height));
			if (h->enabled) {
				h->width = pva_le32(g->width);
				h->height = pva_le32(g->height);
			}
		}
		display_place_heads(d);
		d->config_gen++;
	}
	d->config_dirty = false;
	cfg = display_config(d);
	service_reply(svc, hdr, PVA_S_OK, &cfg, sizeof(cfg));
	log_info("display: guest driver up, %u heads%s", d->guest_heads,
		 adopt ? ", its layout kept" : "");
	return 0;
}

static int display_scanout(struct service *svc, const struct pva_msg_hdr *hdr,
			   const uint8_t *payload, uint32_t len)
{
	struct display *d = svc->priv;
	struct pva_display_scanout so;
	struct display_head *h;
	uint64_t w, ht, stride, off;
	uint32_t head;

	if (len != sizeof(so))
		goto bad;
	memcpy(&so, payload, sizeof(so));
	head = pva_le32(so.head);
	if (head >= MAX_HEADS)
		goto bad;
	h = &d->heads[head];
	head_off(h);
	h->scanouts++;
	if (!(pva_le32(so.flags) & PVA_DISPLAY_HEAD_ENABLED)) {
		service_reply(svc, hdr, PVA_S_OK, NULL, 0);
		return 0;
	}
	w = pva_le32(so.width);
	ht = pva_le32(so.height);
	stride = pva_le32(so.stride);
	off = pva_le64(so.offset);
	if (pva_le32(so.format) != PVA_DISPLAY_FMT_XRGB8888 ||
	    w < PVA_DISPLAY_MIN_DIM || w > PVA_DISPLAY_MAX_DIM ||
	    ht < PVA_DISPLAY_MIN_DIM || ht > PVA_DISPLAY_MAX_DIM ||
	    stride < w * 4 || stride % 4 || stride > w * 4 + 65536 ||
	    off > svc->data_size || stride * ht > svc->data_size - off)
		goto bad;
	h->fb = calloc(w * ht, 4);
	if (!h->fb) {
		service_reply(svc, hdr, PVA_S_ENOMEM, NULL, 0);
		return 0;
	}
	h->on = true;
	h->so_width = (uint32_t)w;
	h->so_height = (uint32_t)ht;
	h->so_stride = (uint32_t)stride;
	h->so_offset = off;
	if (head == 0 && d->vnc)
		vnc_set_picture(d->vnc, h->fb, h->so_width, h->so_height);
	/* what is there already counts: a restarted host has no DAMAGE yet */
	head_copy(svc, h, 0, 0, h->so_width, h->so_height);
	log_debug("display: head %u scans out %ux%u", head, h->so_width,
		  h->so_height);
	service_reply(svc, hdr, PVA_S_OK, NULL, 0);
	return 0;
bad:
	bad_msg(svc, "SCANOUT", len);
	service_reply(svc, hdr, PVA_S_EINVAL, NULL, 0);
	return 0;
}

static int display_damage(struct service *svc, const struct pva_msg_hdr *hdr,
			  const uint8_t *payload, uint32_t len)
{
	struct display *d = svc->priv;
	struct pva_display_damage dm;
	struct display_head *h;
	uint32_t head, nr;

	if (len < sizeof(dm))
		goto bad;
	memcpy(&dm, payload, sizeof(dm));
	head = pva_le32(dm.head);
	nr = pva_le32(dm.nr_rects);
	if (head >= MAX_HEADS || nr < 1 || nr > PVA_DISPLAY_MAX_RECTS ||
	    len != sizeof(dm) + nr * sizeof(struct pva_display_rect))
		goto bad;
	h = &d->heads[head];
	if (!h->on) {
		service_reply(svc, hdr, PVA_S_ENOENT, NULL, 0);
		return 0;
	}
	h->damages++;
	for (uint32_t i = 0; i < nr; i++) {
		struct pva_display_rect r;
		uint64_t x, y, x2, y2;

		memcpy(&r, payload + sizeof(dm) + i * sizeof(r), sizeof(r));
		x = pva_le32(r.x);
		y = pva_le32(r.y);
		/* clip to the scanout, in 64 bits so nothing wraps */
		x2 = x + pva_le32(r.width);
		y2 = y + pva_le32(r.height);
		if (x2 > h->so_width)
			x2 = h->so_width;
		if (y2 > h->so_height)
			y2 = h->so_height;
		if (x >= x2 || y >= y2) {
			h->bad_rects++;
			continue;
		}
		h->rects++;
		head_copy(svc, h, (uint32_t)x, (uint32_t)y, (uint32_t)(x2 - x),
			  (uint32_t)(y2 - y));
	}
	service_reply(svc, hdr, PVA_S_OK, NULL, 0);
	return 0;
bad:
	bad_msg(svc, "DAMAGE", len);
	service_reply(svc, hdr, PVA_S_EINVAL, NULL, 0);
	return 0;
}

static int display_rx(struct service *svc, const struct pva_msg_hdr *hdr,
		      const uint8_t *payload, uint32_t len)
{
	uint16_t type = pva_le16(hdr->type);
	uint16_t flags = pva_le16(hdr->flags);

	if (!(flags & PVA_MSG_F_REQUEST)) {
		/* no events or answers are defined from the guest */
		if (flags & PVA_MSG_F_RESPONSE)
			bad_msg(svc, "response", len);
		return 0;
	}
	/* every request is answered: make sure it can be, first */
	if (!service_can_send(svc, sizeof(struct pva_display_config)))
		return SERVICE_RETRY;
	switch (type) {
	case PVA_DISPLAY_HELLO:
		return display_hello(svc, hdr, payload, len);
	case PVA_DISPLAY_SCANOUT:
		return display_scanout(svc, hdr, payload, len);
	case PVA_DISPLAY_DAMAGE:
		return display_damage(svc, hdr, payload, len);
	default:
		service_reply(svc, hdr, PVA_S_ENOTSUP, NULL, 0);
		return 0;
	}
}

static void display_pump(struct service *svc)
{
	struct display *d = svc->priv;
	struct pva_display_config cfg;

	if (!d->hello || !d->config_dirty)
		return;
	cfg = display_config(d);
	if (service_send(svc, PVA_DISPLAY_CONFIG, 0, 0, 0, &cfg,
			 sizeof(cfg)) == 0)
		d->config_dirty = false;
}

static void display_reset(struct service *svc)
{
	struct display *d = svc->priv;

	d->hello = false;
	d->config_dirty = false;
	for (unsigned int i = 0; i < MAX_HEADS; i++)
		head_off(&d->heads[i]);
}

/* ---- status and pva-hostctl ---- */

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static struct json_object *heads_json(const struct display *d)
{
	struct json_object *arr = json_object_new_array();

	for (unsigned int i = 0; i < MAX_HEADS; i++) {
		const struct display_head *h = &d->heads[i];
		struct json_object *o = json_object_new_object();
		struct json_object *so = json_object_new_object();

		add_u64(o, "head", i);
		json_object_object_add(o, "enabled",
				       json_object_new_boolean(h->enabled));
		add_u64(o, "width", h->enabled ? h->width : 0);
		add_u64(o, "height", h->enabled ? h->height : 0);
		add_u64(o, "x", h->x);
		add_u64(o, "y", h->y);
		json_object_object_add(so, "on", json_object_new_boolean(h->on));
		add_u64(so, "width", h->so_width);
		add_u64(so, "height", h->so_height);
		add_u64(so, "stride", h->so_stride);
		add_u64(so, "offset", h->so_offset);
		add_u64(so, "scanouts", h->scanouts);
		add_u64(so, "damages", h->damages);
		add_u64(so, "rects", h->rects);
		add_u64(so, "pixels", h->pixels);
		add_u64(so, "bad_rects", h->bad_rects);
		json_object_object_add(o, "scanout", so);
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *display_json(const struct service *svc)
{
	const struct display *d = svc->priv;
	struct json_object *o = json_object_new_object(), *v_session;

	json_object_object_add(o, "guest_driver",
			       json_object_new_boolean(d->hello));
	add_u64(o, "generation", d->config_gen);
	add_u64(o, "memory", svc->data_size);
	add_u64(o, "head_memory", head_memory(svc));
	json_object_object_add(o, "heads", heads_json(d));
	if (d->vnc) {
		struct json_object *v = json_object_new_object();

		json_object_object_add(v, "address", json_object_new_string(
			vnc_address(d->vnc)));
		add_u64(v, "viewers", vnc_viewers(d->vnc));
		json_object_object_add(o, "vnc", v);
	}
	v_session = agent_session_display(svc->dev);
	if (v_session)
		json_object_object_add(o, "session", v_session);
	return o;
}

static void display_status(struct service *svc, struct json_object *obj)
{
	json_object_object_add(obj, "display", display_json(svc));
}

/* An integer field of @req in [lo, hi], or @def if absent (def >= 0). */
static int get_uint(struct json_object *req, const char *key, int64_t lo,
		    int64_t hi, int64_t def, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, key, &v)) {
		*out = def;
		return def < 0 ? -1 : 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return *out < lo || *out > hi ? -1 : 0;
}

static int get_head(struct ctl_client *client, struct json_object *req,
		    int64_t *head)
{
	if (get_uint(req, "head", 0, MAX_HEADS - 1, 0, head) < 0) {
		ctl_reply_error(client, "display: no such head (heads are 0-%d)",
				MAX_HEADS - 1);
		return -1;
	}
	return 0;
}

static void display_new_layout(struct service *svc)
{
	struct display *d = svc->priv;

	display_place_heads(d);
	d->layout_set = true;
	d->config_gen++;
	d->config_dirty = true;
	display_pump(svc);
	/* the desktop session follows too (X11, wlroots: through the agent) */
	agent_layout_changed(svc->dev);
}

bool display_current_layout(struct device *dev,
			    struct pva_display_config *out)
{
	struct service *svc = device_find_service(dev, "display");
	const struct display *d = svc && svc->ops == &display_service_ops ?
				  svc->priv : NULL;

	if (!d || !d->layout_set)
		return false;
	*out = display_config(d);
	return true;
}

static int cmd_heads(struct service *svc, struct ctl_client *client,
		     struct json_object *req)
{
	(void)req;
	ctl_reply(client, display_json(svc));
	return 0;
}

static int cmd_resize(struct service *svc, struct ctl_client *client,
		      struct json_object *req)
{
	struct display *d = svc->priv;
	int64_t head, w, h;
	struct json_object *o;

	if (get_head(client, req, &head) < 0)
		return -1;
	if (get_uint(req, "width", PVA_DISPLAY_MIN_DIM, PVA_DISPLAY_MAX_DIM,
		     -1, &w) < 0 ||
	    get_uint(req, "height", PVA_DISPLAY_MIN_DIM, PVA_DISPLAY_MAX_DIM,
		     -1, &h) < 0) {
		ctl_reply_error(client, "display: width and height must be %d-%d pixels",
				PVA_DISPLAY_MIN_DIM, PVA_DISPLAY_MAX_DIM);
		return -1;
	}
	if (!display_size_ok(svc, (uint64_t)w, (uint64_t)h)) {
		ctl_reply_error(client, "display: %" PRId64 "x%" PRId64 " needs %" PRIu64 " KiB, a head has %" PRIu64 " KiB (pva-host --shm-size)",
				w, h, (uint64_t)(w * h * 4) >> 10,
				head_memory(svc) >> 10);
		return -1;
	}
	d->heads[head].enabled = true;
	d->heads[head].width = (uint32_t)w;
	d->heads[head].height = (uint32_t)h;
	display_new_layout(svc);
	o = json_object_new_object();
	add_u64(o, "head", (uint64_t)head);
	add_u64(o, "width", (uint64_t)w);
	add_u64(o, "height", (uint64_t)h);
	add_u64(o, "generation", d->config_gen);
	json_object_object_add(o, "guest_driver",
			       json_object_new_boolean(d->hello));
	ctl_reply(client, o);
	return 0;
}

static int cmd_disable(struct service *svc, struct ctl_client *client,
		       struct json_object *req)
{
	struct display *d = svc->priv;
	unsigned int on = 0;
	int64_t head;
	struct json_object *o;

	if (get_head(client, req, &head) < 0)
		return -1;
	for (unsigned int i = 0; i < MAX_HEADS; i++)
		on += d->heads[i].enabled && i != head;
	if (!on) {
		ctl_reply_error(client, "display: head %" PRId64 " is the last one on",
				head);
		return -1;
	}
	d->heads[head].enabled = false;
	display_new_layout(svc);
	o = json_object_new_object();
	add_u64(o, "head", (uint64_t)head);
	add_u64(o, "generation", d->config_gen);
	ctl_reply(client, o);
	return 0;
}

/* FNV-1a 64 of the picture, pixels as little-endian bytes, byte 3 as 0:
 * what pva-drmtest prints for the frame it drew.
 */
static uint64_t picture_fnv(const struct display_head *h, uint64_t *nonblack)
{
	uint64_t fnv = 0xcbf29ce484222325ull;
	uint64_t n = (uint64_t)h->so_width * h->so_height;

	*nonblack = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t p = h->fb[i] & 0xffffff;

		*nonblack += p != 0;
		for (int b = 0; b < 4; b++) {
			fnv ^= (p >> (8 * b)) & 0xff;
			fnv *= 0x100000001b3ull;
		}
	}
	return fnv;
}

static int cmd_screenshot(struct service *svc, struct ctl_client *client,
			  struct json_object *req)
{
	struct display *d = svc->priv;
	struct json_object *v, *o;
	const struct display_head *h;
	const char *path;
	uint64_t fnv, nonblack;
	char err[256], hex[17];
	int64_t head;

	if (get_head(client, req, &head) < 0)
		return -1;
	if (!json_object_object_get_ex(req, "path", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (path = json_object_get_string(v))[0] != '/') {
		ctl_reply_error(client, "display: screenshot needs an absolute path");
		return -1;
	}
	h = &d->heads[head];
	if (!h->on) {
		ctl_reply_error(client, "display: head %" PRId64 " shows nothing (%s)",
				head, d->hello ? "the guest has not set a mode on it" :
				"no guest driver");
		return -1;
	}
	if (png_write_xrgb(path, h->fb, h->so_width, h->so_height, err,
			   sizeof(err)) < 0) {
		ctl_reply_error(client, "display: %s: %s", path, err);
		return -1;
	}
	fnv = picture_fnv(h, &nonblack);
	snprintf(hex, sizeof(hex), "%016" PRIx64, fnv);
	o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(path));
	add_u64(o, "head", (uint64_t)head);
	add_u64(o, "width", h->so_width);
	add_u64(o, "height", h->so_height);
	add_u64(o, "nonblack", nonblack);
	json_object_object_add(o, "fnv", json_object_new_string(hex));
	ctl_reply(client, o);
	return 0;
}

static const struct ctl_command display_commands[] = {
	{ "display-heads", cmd_heads },
	{ "display-resize", cmd_resize },
	{ "display-disable", cmd_disable },
	{ "display-screenshot", cmd_screenshot },
	{ NULL, NULL },
};

/* A VNC viewer resized its window: head 0 follows, as far as it fits. */
static void display_vnc_resize(void *data, unsigned int w, unsigned int h)
{
	struct service *svc = data;
	struct display *d = svc->priv;
	struct display_head *head = &d->heads[0];

	w = w < PVA_DISPLAY_MIN_DIM ? PVA_DISPLAY_MIN_DIM :
	    w > PVA_DISPLAY_MAX_DIM ? PVA_DISPLAY_MAX_DIM : w;
	h = h < PVA_DISPLAY_MIN_DIM ? PVA_DISPLAY_MIN_DIM :
	    h > PVA_DISPLAY_MAX_DIM ? PVA_DISPLAY_MAX_DIM : h;
	if (!display_size_ok(svc, w, h)) {
		log_warn("vnc: %ux%u does not fit a head's memory, ignored",
			 w, h);
		return;
	}
	if (head->enabled && head->width == w && head->height == h)
		return;
	head->enabled = true;
	head->width = w;
	head->height = h;
	display_new_layout(svc);
}

static int display_init(struct service *svc)
{
	struct display *d = calloc(1, sizeof(*d));
	char err[256];

	if (!d)
		return -1;
	for (unsigned int i = 0; i < MAX_HEADS; i++) {
		d->heads[i].index = i;
		d->heads[i].d = d;
	}
	d->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	d->heads[0].enabled = true;
	d->heads[0].width = svc->cfg->display_width;
	d->heads[0].height = svc->cfg->display_height;
	display_place_heads(d);
	d->config_gen = 1;
	svc->priv = d;
	if (svc->cfg->vnc) {
		/* a view is optional: without it the guest's display works */
		d->vnc = vnc_new(device_loop(svc->dev), svc->cfg->vnc,
				 display_vnc_resize, svc, err, sizeof(err));
		if (d->vnc)
			log_info("display: VNC view of head 0 on %s",
				 svc->cfg->vnc);
		else
			log_err("display: no VNC view: %s", err);
	}
	return 0;
}

static void display_destroy(struct service *svc)
{
	struct display *d = svc->priv;

	for (unsigned int i = 0; i < MAX_HEADS; i++)
		head_off(&d->heads[i]);
	vnc_free(d->vnc);
	free(d);
}

const struct service_ops display_service_ops = {
	.name = "display",
	.type = PVA_SVC_DISPLAY,
	.version = 1,
	.features = 0,
	.g2h_size = 64 << 10,
	.h2g_size = 16 << 10,
	.data_size = SERVICE_DATA_REST,
	.data_min = 16 << 20,	/* 4 heads of 1280x800 */
	.init = display_init,
	.destroy = display_destroy,
	.reset = display_reset,
	.rx = display_rx,
	.pump = display_pump,
	.status = display_status,
	.commands = display_commands,
};
