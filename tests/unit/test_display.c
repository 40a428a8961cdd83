// SPDX-License-Identifier: MIT
/*
 * The display service's host side (host/display.c) against a fake guest
 * and a fake pva-hostctl, rule by rule from protocol/PROTOCOL.md 6.7:
 * HELLO and the layout it answers with (and adopts, on a host that has not
 * set one), SCANOUT's checks against the data region, DAMAGE's checks and
 * clipping, the pixels that reach the host's copy (seen through
 * display-screenshot: its PNG, "fnv" and "nonblack"), and the pva-hostctl
 * commands display-heads, -resize, -disable and -screenshot with the
 * CONFIG events they send.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* the display wants at least 16 MiB of data region */
#define FG_SHM_SIZE	(32u << 20)
#include "fake_guest.h"
#include "fake_ctl.h"
#include "log.h"

#define DSP		3	/* the service's index */
#define XRGB		PVA_DISPLAY_FMT_XRGB8888
#define ON		PVA_DISPLAY_HEAD_ENABLED
#define MAX_EVENTS	16

struct t {
	struct fake_guest g;
	struct fake_ctl fc;
	uint8_t *data;			/* the data region, as the guest maps it */
	uint64_t data_size, head_mem;
	uint32_t req_id;
	char dir[64], shot[96];
	struct pva_display_config events[MAX_EVENTS];	/* CONFIGs received */
	int nevents;
};

/* A head of HELLO, DISPLAY_CONFIG or what we expect in one. */
struct head {
	uint32_t flags, width, height, x;
};

static uint8_t msg[PVA_MSG_MAX], out[PVA_MSG_MAX];
static uint32_t out_len;

/* Where the guest finds the service (its table entry). */
static void find_region(struct t *t)
{
	const struct pva_service_desc *d = (const struct pva_service_desc *)
		(t->g.shm + pva_le32(fg_hdr(&t->g)->host.svc_table_off));

	assert_string_equal(d[DSP].name, "display");
	assert_int_equal(pva_le16(d[DSP].type), PVA_SVC_DISPLAY);
	t->data = t->g.shm + pva_le64(d[DSP].data_off);
	t->data_size = pva_le64(d[DSP].data_size);
	t->head_mem = t->data_size / PVA_DISPLAY_MAX_HEADS / 4096 * 4096;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	log_init("test", LOG_CRIT);
	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/pva-display-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->shot, sizeof(t->shot), "%s/shot.png", t->dir);
	if (fg_init_with(&t->g, &display_service_ops) ||
	    fc_init(&t->fc, t->g.loop, t->g.dev) || fg_negotiate(&t->g))
		return -1;
	find_region(t);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[128];

	fc_fini(&t->fc);
	fg_fini(&t->g);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	if (system(cmd))
		return -1;
	free(t);
	return 0;
}

/* ---- the guest's side ---- */

/* Read what the host sent: CONFIG events are kept; the one answer to
 * @req_id (0: none expected) gives its status, or -1 if there was none.
 */
static int64_t receive(struct t *t, uint32_t req_id, uint16_t type)
{
	static uint8_t buf[PVA_MSG_MAX];
	struct pva_msg_hdr h;
	int64_t st = -1;
	int n;

	while ((n = fg_recv(&t->g, DSP, &h, buf, sizeof(buf))) >= 0) {
		if (!(pva_le16(h.flags) & PVA_MSG_F_RESPONSE)) {
			assert_int_equal(pva_le16(h.flags), 0);
			assert_int_equal(pva_le16(h.type), PVA_DISPLAY_CONFIG);
			assert_int_equal(n, sizeof(struct pva_display_config));
			assert_true(t->nevents < MAX_EVENTS);
			memcpy(&t->events[t->nevents++], buf, (size_t)n);
			continue;
		}
		assert_int_equal(st, -1);	/* answered exactly once */
		assert_int_not_equal(req_id, 0);
		assert_int_equal(pva_le32(h.req_id), req_id);
		assert_int_equal(pva_le16(h.type), type);
		memcpy(out, buf, (size_t)n);
		out_len = (uint32_t)n;
		st = pva_le32(h.status);
	}
	assert_int_equal(n, -1);	/* empty, not corrupt */
	return st;
}

/* Send request @type with @len bytes of msg[]; the answer's status. */
static int64_t request(struct t *t, uint16_t type, uint32_t len)
{
	out_len = 0;
	assert_int_equal(fg_send(&t->g, DSP, type, PVA_MSG_F_REQUEST,
				 ++t->req_id, msg, len), 0);
	return receive(t, t->req_id, type);
}

static int64_t hello_len(struct t *t, const struct head *heads,
			 uint32_t len)
{
	struct pva_display_hello h = { .nr_heads = pva_cpu32(4) };

	for (int i = 0; heads && i < PVA_DISPLAY_MAX_HEADS; i++) {
		h.heads[i].flags = pva_cpu32(heads[i].flags);
		h.heads[i].width = pva_cpu32(heads[i].width);
		h.heads[i].height = pva_cpu32(heads[i].height);
	}
	memset(msg, 0, sizeof(h) + 8);
	memcpy(msg, &h, sizeof(h));
	return request(t, PVA_DISPLAY_HELLO, len);
}

/* HELLO with what @heads scan out now (NULL: nothing); the answer in out. */
static int64_t hello(struct t *t, const struct head *heads)
{
	int64_t st = hello_len(t, heads, sizeof(struct pva_display_hello));

	if (st == PVA_S_OK)
		assert_int_equal(out_len, sizeof(struct pva_display_config));
	return st;
}

static int64_t scanout_len(struct t *t, uint32_t head, uint32_t flags,
			   uint32_t w, uint32_t h, uint32_t stride,
			   uint32_t format, uint64_t offset, uint32_t len)
{
	struct pva_display_scanout so = {
		.head = pva_cpu32(head), .flags = pva_cpu32(flags),
		.width = pva_cpu32(w), .height = pva_cpu32(h),
		.stride = pva_cpu32(stride), .format = pva_cpu32(format),
		.offset = pva_cpu64(offset),
	};

	memset(msg, 0, sizeof(so) + 8);
	memcpy(msg, &so, sizeof(so));
	return request(t, PVA_DISPLAY_SCANOUT, len);
}

static int64_t scanout(struct t *t, uint32_t head, uint32_t w, uint32_t h,
		       uint32_t stride, uint32_t format, uint64_t offset)
{
	return scanout_len(t, head, ON, w, h, stride, format, offset,
			   sizeof(struct pva_display_scanout));
}

static struct pva_display_rect rect(uint32_t x, uint32_t y, uint32_t w,
				    uint32_t h)
{
	return (struct pva_display_rect){ pva_cpu32(x), pva_cpu32(y),
					  pva_cpu32(w), pva_cpu32(h) };
}

/* DAMAGE saying @nr rectangles, with @sent of them from @r, and @extra
 * more bytes.
 */
static int64_t damage_raw(struct t *t, uint32_t head, uint32_t nr,
			  const struct pva_display_rect *r, uint32_t sent,
			  uint32_t extra)
{
	struct pva_display_damage dm = {
		.head = pva_cpu32(head), .nr_rects = pva_cpu32(nr),
	};
	uint32_t len = (uint32_t)(sizeof(dm) + sent * sizeof(*r));

	memcpy(msg, &dm, sizeof(dm));
	if (sent)
		memcpy(msg + sizeof(dm), r, sent * sizeof(*r));
	memset(msg + len, 0, extra);
	return request(t, PVA_DISPLAY_DAMAGE, len + extra);
}

static int64_t damage(struct t *t, uint32_t head, uint32_t nr,
		      const struct pva_display_rect *r)
{
	return damage_raw(t, head, nr, r, nr, 0);
}

/* DAMAGE of one rectangle. */
static int64_t damage1(struct t *t, uint32_t head, uint32_t x, uint32_t y,
		       uint32_t w, uint32_t h)
{
	struct pva_display_rect r = rect(x, y, w, h);

	return damage(t, head, 1, &r);
}

/* The layout in @c is @want (head by head; off heads all zeros). */
static void check_config(const struct pva_display_config *c, uint32_t gen,
			 const struct head *want)
{
	assert_int_equal(pva_le32(c->generation), gen);
	assert_int_equal(pva_le32(c->nr_heads), PVA_DISPLAY_MAX_HEADS);
	assert_int_equal(pva_le32(c->max_width), PVA_DISPLAY_MAX_DIM);
	assert_int_equal(pva_le32(c->max_height), PVA_DISPLAY_MAX_DIM);
	for (int i = 0; i < PVA_DISPLAY_MAX_HEADS; i++) {
		const struct pva_display_head *h = &c->heads[i];
		bool on = want[i].flags & ON;

		assert_int_equal(pva_le32(h->flags), on ? ON : 0);
		assert_int_equal(pva_le32(h->width), on ? want[i].width : 0);
		assert_int_equal(pva_le32(h->height), on ? want[i].height : 0);
		assert_int_equal(pva_le32(h->x), on ? want[i].x : 0);
		assert_int_equal(pva_le32(h->y), 0);
	}
}

static const struct pva_display_config *answer_config(void)
{
	assert_int_equal(out_len, sizeof(struct pva_display_config));
	return (const struct pva_display_config *)out;
}

/* ---- the host's side ---- */

/* A number from the service's status: "bad_msgs", "display.generation",
 * "display.heads.1.scanout.on" (booleans are 0 or 1).
 */
static int64_t status(struct t *t, const char *path)
{
	struct json_object *o = json_object_new_object(), *v, *s;
	char p[128], *tok, *save = NULL;
	int64_t n;

	device_status(t->g.dev, o);
	assert_true(json_object_object_get_ex(o, "services", &s));
	v = json_object_array_get_idx(s, DSP);
	snprintf(p, sizeof(p), "%s", path);
	for (tok = strtok_r(p, ".", &save); tok && v;
	     tok = strtok_r(NULL, ".", &save)) {
		if (tok[0] >= '0' && tok[0] <= '9')
			v = json_object_array_get_idx(v, (size_t)atoi(tok));
		else if (!json_object_object_get_ex(v, tok, &v))
			v = NULL;
	}
	if (!v)
		fail_msg("no %s in the status", path);
	n = json_object_get_int64(v);
	json_object_put(o);
	return n;
}

static int64_t head_stat(struct t *t, unsigned int head, const char *key)
{
	char p[96];

	snprintf(p, sizeof(p), "display.heads.%u.%s", head, key);
	return status(t, p);
}

/* A pva-hostctl request that must fail with @what in its message. */
static void ctl_fails(struct t *t, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ctl_fails(struct t *t, const char *what, const char *fmt, ...)
{
	struct json_object *ans;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ans = fc_callf(&t->fc, "%s", buf);
	assert_non_null(ans);
	if (fc_ok(ans) || !strstr(fc_error(ans), what))
		fail_msg("%s: got %s, want an error with '%s'", buf,
			 json_object_to_json_string(ans), what);
	json_object_put(ans);
}

/* A pva-hostctl request that must succeed; its answer (put it). */
static struct json_object *ctl_ok(struct t *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static struct json_object *ctl_ok(struct t *t, const char *fmt, ...)
{
	struct json_object *ans;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ans = fc_callf(&t->fc, "%s", buf);
	if (!fc_ok(ans))
		fail_msg("%s: %s", buf, ans ? json_object_to_json_string(ans) :
			 "no answer");
	return ans;
}

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no '%s' in %s", key, json_object_to_json_string(o));
	return json_object_get_int64(v);
}

static void resize(struct t *t, unsigned int head, unsigned int w,
		   unsigned int h, uint32_t want_gen)
{
	struct json_object *ans = ctl_ok(t,
		"{\"cmd\":\"display-resize\",\"head\":%u,\"width\":%u,\"height\":%u}",
		head, w, h);

	assert_int_equal(jint(ans, "head"), head);
	assert_int_equal(jint(ans, "width"), w);
	assert_int_equal(jint(ans, "height"), h);
	assert_int_equal(jint(ans, "generation"), want_gen);
	json_object_put(ans);
}

static void disable(struct t *t, unsigned int head, uint32_t want_gen)
{
	struct json_object *ans = ctl_ok(t,
		"{\"cmd\":\"display-disable\",\"head\":%u}", head);

	assert_int_equal(jint(ans, "head"), head);
	assert_int_equal(jint(ans, "generation"), want_gen);
	json_object_put(ans);
}

/* The CONFIG events since the last call: exactly @n. */
static void expect_events(struct t *t, int n)
{
	receive(t, 0, 0);
	assert_int_equal(t->nevents, n);
	t->nevents = 0;
}

/* ---- pixels ---- */

/* What pva-drmtest and display-screenshot compute: FNV-1a 64 over the
 * pixels' bytes, little-endian, byte 3 as 0.
 */
static uint64_t fnv(const uint32_t *px, size_t n, uint64_t *nonblack)
{
	uint64_t h = 0xcbf29ce484222325ull;

	*nonblack = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t p = px[i] & 0xffffff;

		*nonblack += p != 0;
		for (int b = 0; b < 4; b++) {
			h ^= (p >> (8 * b)) & 0xff;
			h *= 0x100000001b3ull;
		}
	}
	return h;
}

/* A picture that tells pictures @seed apart; byte 3 is set (unused). */
static uint32_t pattern(uint32_t seed, uint32_t x, uint32_t y)
{
	return 0xff000000u | ((x * 7 + seed * 31) & 0xff) << 16 |
	       ((y * 13 + seed * 17) & 0xff) << 8 | ((x ^ y) + seed + 1) % 255;
}

/* The guest draws @seed into a scanout in the region, padding included. */
static void draw(struct t *t, uint64_t off, uint32_t w, uint32_t h,
		 uint32_t stride, uint32_t seed)
{
	for (uint32_t y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)(t->data + off + (uint64_t)y * stride);

		for (uint32_t x = 0; x < stride / 4; x++)
			row[x] = x < w ? pattern(seed, x, y) : 0x00abcdefu;
	}
}

struct shot {
	uint32_t width, height;
	uint64_t fnv, nonblack;
};

/* display-screenshot of @head into t->shot. */
static struct shot screenshot(struct t *t, unsigned int head)
{
	struct json_object *ans = ctl_ok(t,
		"{\"cmd\":\"display-screenshot\",\"head\":%u,\"path\":\"%s\"}",
		head, t->shot);
	struct json_object *v;
	struct shot s = { 0 };

	assert_int_equal(jint(ans, "head"), head);
	s.width = (uint32_t)jint(ans, "width");
	s.height = (uint32_t)jint(ans, "height");
	s.nonblack = (uint64_t)jint(ans, "nonblack");
	assert_true(json_object_object_get_ex(ans, "fnv", &v));
	assert_int_equal(strlen(json_object_get_string(v)), 16);
	s.fnv = strtoull(json_object_get_string(v), NULL, 16);
	assert_true(json_object_object_get_ex(ans, "path", &v));
	assert_string_equal(json_object_get_string(v), t->shot);
	json_object_put(ans);
	return s;
}

/* The host's picture of @head is @px (@w x @h): its hash and, with
 * @png, the PNG file pixel by pixel.
 */
static void check_picture(struct t *t, unsigned int head, const uint32_t *px,
			  uint32_t w, uint32_t h, bool png)
{
	struct shot s = screenshot(t, head);
	uint64_t nonblack, want = fnv(px, (size_t)w * h, &nonblack);
	png_image img = { .version = PNG_IMAGE_VERSION };
	uint8_t *rgb;

	assert_int_equal(s.width, w);
	assert_int_equal(s.height, h);
	assert_int_equal(s.nonblack, nonblack);
	if (s.fnv != want)
		fail_msg("head %u: picture %016" PRIx64 ", want %016" PRIx64,
			 head, s.fnv, want);
	if (!png)
		return;
	assert_true(png_image_begin_read_from_file(&img, t->shot));
	assert_int_equal(img.width, w);
	assert_int_equal(img.height, h);
	img.format = PNG_FORMAT_RGB;
	rgb = malloc(PNG_IMAGE_SIZE(img));
	assert_non_null(rgb);
	assert_true(png_image_finish_read(&img, NULL, rgb, 0, NULL));
	for (size_t i = 0; i < (size_t)w * h; i++) {
		if (rgb[i * 3] != ((px[i] >> 16) & 0xff) ||
		    rgb[i * 3 + 1] != ((px[i] >> 8) & 0xff) ||
		    rgb[i * 3 + 2] != (px[i] & 0xff))
			fail_msg("PNG pixel %zu,%zu is %02x%02x%02x, want %06x",
				 i % w, i / w, rgb[i * 3], rgb[i * 3 + 1],
				 rgb[i * 3 + 2], px[i] & 0xffffff);
	}
	free(rgb);
}

/* Copy rectangle (@x, @y, @w, @h) of picture @seed into @px (@pw wide). */
static void expect_rect(uint32_t *px, uint32_t pw, uint32_t seed, uint32_t x,
			uint32_t y, uint32_t w, uint32_t h)
{
	for (uint32_t j = y; j < y + h; j++)
		for (uint32_t i = x; i < x + w; i++)
			px[(size_t)j * pw + i] = pattern(seed, i, j);
}

/* ---- HELLO and the layout ---- */

/* HELLO is answered with the host's layout: head 0 at 1024x768 by
 * default, the others off; a HELLO of the wrong size is EINVAL.
 */
static void test_hello(void **state)
{
	struct t *t = *state;
	const struct head want[4] = { { ON, 1024, 768, 0 } };
	static const uint32_t bad_lens[] = { 0, 8, 143, 145, 152 };

	assert_int_equal(status(t, "display.guest_driver"), 0);
	assert_int_equal(status(t, "display.generation"), 1);
	assert_int_equal(status(t, "display.memory"), t->data_size);
	assert_int_equal(status(t, "display.head_memory"), t->head_mem);
	assert_true(t->head_mem * 4 <= t->data_size);
	assert_true(t->data_size >= 16 << 20);

	for (size_t i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++)
		assert_int_equal(hello_len(t, NULL, bad_lens[i]), PVA_S_EINVAL);
	assert_int_equal(status(t, "bad_msgs"), 5);
	assert_int_equal(status(t, "display.guest_driver"), 0);

	assert_int_equal(hello(t, NULL), PVA_S_OK);
	check_config(answer_config(), 1, want);
	assert_int_equal(status(t, "display.guest_driver"), 1);
	assert_int_equal(head_stat(t, 0, "enabled"), 1);
	assert_int_equal(head_stat(t, 0, "width"), 1024);
	assert_int_equal(head_stat(t, 0, "height"), 768);
	for (unsigned int i = 1; i < 4; i++)
		assert_int_equal(head_stat(t, i, "enabled"), 0);
	/* the answer is the config: no CONFIG event besides it */
	expect_events(t, 0);

	/* sent after every negotiation: the same layout again */
	assert_int_equal(fg_negotiate(&t->g), 0);
	assert_int_equal(status(t, "display.guest_driver"), 0);
	assert_int_equal(hello(t, NULL), PVA_S_OK);
	check_config(answer_config(), 1, want);
}

/* A host that has not set a layout since it started (a restarted
 * pva-host) takes the heads the guest scans out as its layout, so it does
 * not resize the guest; heads that are off or too large stay off.
 */
static void test_hello_adopts(void **state)
{
	struct t *t = *state;
	const struct head guest[4] = {
		{ ON, 1280, 800, 0 }, { ON, 800, 600, 0 },
		{ 0, 1920, 1080, 0 }, { ON, 8192, 8192, 0 },
	};
	const struct head want[4] = {
		{ ON, 1280, 800, 0 }, { ON, 800, 600, 1280 },
	};
	const struct head none[4] = { { 0, 1280, 800, 0 } };
	const struct head dflt[4] = { { ON, 1024, 768, 0 } };
	uint32_t gen;

	/* nothing on in the guest (first boot): the host's layout stays */
	assert_int_equal(hello(t, none), PVA_S_OK);
	check_config(answer_config(), 1, dflt);

	assert_int_equal(hello(t, guest), PVA_S_OK);
	gen = pva_le32(answer_config()->generation);
	assert_true(gen > 1);
	check_config(answer_config(), gen, want);
	assert_int_equal(head_stat(t, 0, "width"), 1280);
	assert_int_equal(head_stat(t, 1, "x"), 1280);
	assert_int_equal(head_stat(t, 2, "enabled"), 0);
	assert_int_equal(head_stat(t, 3, "enabled"), 0);
	assert_int_equal(status(t, "display.generation"), gen);
	expect_events(t, 0);
}

/* Once pva-hostctl set a layout, HELLO no longer changes it. */
static void test_hello_after_resize(void **state)
{
	struct t *t = *state;
	const struct head guest[4] = { { ON, 1280, 800, 0 }, { ON, 800, 600, 0 } };
	const struct head want[4] = { { ON, 640, 480, 0 } };

	/* no guest driver yet: the new layout waits for HELLO */
	resize(t, 0, 640, 480, 2);
	expect_events(t, 0);
	assert_int_equal(hello(t, guest), PVA_S_OK);
	check_config(answer_config(), 2, want);
	assert_int_equal(head_stat(t, 1, "enabled"), 0);
	/* and after the guest's next negotiation */
	assert_int_equal(fg_negotiate(&t->g), 0);
	assert_int_equal(hello(t, guest), PVA_S_OK);
	check_config(answer_config(), 2, want);
}

/* A restarted pva-host (a new worker on the same memory) forgot the
 * layout pva-hostctl set: it adopts the guest's, and shows the pictures
 * already in the region as soon as the guest names its scanouts.
 */
static void test_restart_adopts(void **state)
{
	struct t *t = *state;
	const struct head guest[4] = { { ON, 800, 600, 0 }, { ON, 640, 480, 0 } };
	const struct head want[4] = { { ON, 800, 600, 0 }, { ON, 640, 480, 800 } };
	const struct head set[4] = { { ON, 1024, 768, 0 }, { ON, 640, 480, 1024 } };
	uint32_t *px = malloc(640 * 480 * 4);

	assert_non_null(px);
	assert_int_equal(hello(t, NULL), PVA_S_OK);
	resize(t, 1, 640, 480, 2);
	expect_events(t, 1);
	check_config(&t->events[0], 2, set);
	assert_int_equal(scanout(t, 1, 640, 480, 2560, XRGB, t->head_mem),
			 PVA_S_OK);
	draw(t, t->head_mem, 640, 480, 2560, 5);
	assert_int_equal(damage1(t, 1, 0, 0, 640, 480), PVA_S_OK);

	fc_fini(&t->fc);
	assert_int_equal(fg_restart_host(&t->g), 0);
	assert_int_equal(fc_init(&t->fc, t->g.loop, t->g.dev), 0);
	find_region(t);
	assert_int_equal(status(t, "display.generation"), 1);
	assert_int_equal(head_stat(t, 0, "width"), 1024);
	assert_int_equal(head_stat(t, 1, "enabled"), 0);
	assert_int_equal(fg_negotiate(&t->g), 0);
	assert_int_equal(hello(t, guest), PVA_S_OK);
	check_config(answer_config(), 2, want);
	assert_int_equal(head_stat(t, 1, "x"), 800);
	/* the guest resends its scanouts; the picture is there at once */
	assert_int_equal(scanout(t, 1, 640, 480, 2560, XRGB, t->head_mem),
			 PVA_S_OK);
	expect_rect(px, 640, 5, 0, 0, 640, 480);
	check_picture(t, 1, px, 640, 480, false);
	free(px);
}

/* ---- SCANOUT ---- */

/* Head 0 scans out a valid 640x480 picture. */
static void head0_on(struct t *t)
{
	assert_int_equal(scanout(t, 0, 640, 480, 2560, XRGB, 0), PVA_S_OK);
	assert_int_equal(head_stat(t, 0, "scanout.on"), 1);
}

/* The SCANOUT is refused, and head 0 (on before it) is off after it. */
static void refused(struct t *t, int64_t st, const char *what)
{
	if (st != PVA_S_EINVAL)
		fail_msg("SCANOUT with %s: status %" PRId64 ", want EINVAL",
			 what, st);
	if (head_stat(t, 0, "scanout.on") || head_stat(t, 0, "scanout.width"))
		fail_msg("SCANOUT with %s: head 0 still on", what);
	assert_int_equal(damage1(t, 0, 0, 0, 64, 64), PVA_S_ENOENT);
	head0_on(t);
}

static void test_scanout_checks(void **state)
{
	struct t *t = *state;
	uint64_t end = t->data_size;
	int64_t bad;

	assert_int_equal(hello(t, NULL), PVA_S_OK);
	head0_on(t);
	assert_int_equal(head_stat(t, 0, "scanout.width"), 640);
	assert_int_equal(head_stat(t, 0, "scanout.height"), 480);
	assert_int_equal(head_stat(t, 0, "scanout.stride"), 2560);
	assert_int_equal(head_stat(t, 0, "scanout.offset"), 0);

	refused(t, scanout(t, 0, 640, 480, 2560, 0x34325241 /* AR24 */, 0),
		"format AR24");
	refused(t, scanout(t, 0, 640, 480, 2560, 0, 0), "format 0");
	refused(t, scanout(t, 0, 63, 480, 2560, XRGB, 0), "width 63");
	refused(t, scanout(t, 0, 640, 63, 2560, XRGB, 0), "height 63");
	refused(t, scanout(t, 0, 0, 0, 0, XRGB, 0), "0x0");
	refused(t, scanout(t, 0, 8193, 64, 8193 * 4, XRGB, 0), "width 8193");
	refused(t, scanout(t, 0, 64, 8193, 256, XRGB, 0), "height 8193");
	refused(t, scanout(t, 0, 640, 480, 2556, XRGB, 0), "stride < width*4");
	refused(t, scanout(t, 0, 640, 480, 0, XRGB, 0), "stride 0");
	refused(t, scanout(t, 0, 640, 480, 2562, XRGB, 0), "stride 2562");
	refused(t, scanout(t, 0, 640, 480, 2563, XRGB, 0), "stride 2563");
	refused(t, scanout(t, 0, 640, 480, 2560, XRGB, end - 2560 * 480 + 4),
		"4 bytes beyond the region");
	refused(t, scanout(t, 0, 640, 480, 2560, XRGB, end), "offset = size");
	refused(t, scanout(t, 0, 640, 480, 2560, XRGB, end + 4096),
		"offset beyond the region");
	refused(t, scanout(t, 0, 640, 480, 2560, XRGB, UINT64_MAX - 4095),
		"offset wrapping");
	refused(t, scanout(t, 0, 64, 64, 0xfffffffc, XRGB, 0), "stride 4G");
	refused(t, scanout(t, 0, 8192, 8192, 8192 * 4, XRGB, 0),
		"8192x8192 (more than the region)");
	/* malformed (no head to speak of), and heads 4 and up, which do
	 * not exist: refused, no head changes
	 */
	assert_int_equal(scanout_len(t, 0, ON, 640, 480, 2560, XRGB, 0, 31),
			 PVA_S_EINVAL);
	assert_int_equal(scanout_len(t, 0, ON, 640, 480, 2560, XRGB, 0, 33),
			 PVA_S_EINVAL);
	assert_int_equal(scanout_len(t, 0, ON, 640, 480, 2560, XRGB, 0, 0),
			 PVA_S_EINVAL);
	assert_int_equal(scanout(t, 4, 640, 480, 2560, XRGB, 0), PVA_S_EINVAL);
	assert_int_equal(scanout(t, 0xffffffff, 640, 480, 2560, XRGB, 0),
			 PVA_S_EINVAL);
	assert_int_equal(head_stat(t, 0, "scanout.on"), 1);

	/* what is allowed: the last byte of the region, any offset, any
	 * head's area, padded lines, the largest and smallest sizes
	 */
	assert_int_equal(scanout(t, 1, 64, 64, 256, XRGB, end - 256 * 64),
			 PVA_S_OK);
	assert_int_equal(scanout(t, 2, 100, 64, 400, XRGB, 4), PVA_S_OK);
	assert_int_equal(scanout(t, 3, 640, 480, 2560 + 64, XRGB,
				 3 * t->head_mem), PVA_S_OK);
	assert_int_equal(scanout(t, 1, 8192, 64, 8192 * 4, XRGB, 0), PVA_S_OK);
	assert_int_equal(scanout(t, 2, 64, 8192, 256, XRGB, 0), PVA_S_OK);
	assert_int_equal(scanout(t, 3, 1024, 768, 4096, XRGB, t->head_mem),
			 PVA_S_OK);
	assert_int_equal(head_stat(t, 3, "scanout.stride"), 4096);
	assert_int_equal(head_stat(t, 3, "scanout.offset"), t->head_mem);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(head_stat(t, i, "scanout.on"), 1);

	/* off: answered, the head shows nothing */
	assert_int_equal(scanout_len(t, 3, 0, 0, 0, 0, 0, 0,
				     sizeof(struct pva_display_scanout)),
			 PVA_S_OK);
	assert_int_equal(head_stat(t, 3, "scanout.on"), 0);
	assert_int_equal(damage1(t, 3, 0, 0, 64, 64), PVA_S_ENOENT);
	bad = status(t, "bad_msgs");
	assert_true(bad >= 20);
}

/* ---- DAMAGE ---- */

static void test_damage_checks(void **state)
{
	static struct pva_display_rect r[PVA_DISPLAY_MAX_RECTS + 1];
	struct t *t = *state;
	static const uint16_t unknown[] = { 0, PVA_DISPLAY_CONFIG, 5, 0xffff };

	for (int i = 0; i <= PVA_DISPLAY_MAX_RECTS; i++)
		r[i] = rect((uint32_t)i, 0, 1, 1);
	assert_int_equal(hello(t, NULL), PVA_S_OK);
	/* no SCANOUT yet: off */
	assert_int_equal(damage1(t, 0, 0, 0, 64, 64), PVA_S_ENOENT);
	head0_on(t);
	assert_int_equal(damage(t, 0, 1, r), PVA_S_OK);
	assert_int_equal(damage(t, 0, PVA_DISPLAY_MAX_RECTS, r), PVA_S_OK);
	assert_int_equal(head_stat(t, 0, "scanout.damages"), 2);
	assert_int_equal(head_stat(t, 0, "scanout.rects"), 65);

	assert_int_equal(damage(t, 0, 0, r), PVA_S_EINVAL);
	assert_int_equal(damage(t, 0, PVA_DISPLAY_MAX_RECTS + 1, r),
			 PVA_S_EINVAL);
	assert_int_equal(damage_raw(t, 0, 2, r, 1, 0), PVA_S_EINVAL);
	assert_int_equal(damage_raw(t, 0, 1, r, 2, 0), PVA_S_EINVAL);
	assert_int_equal(damage_raw(t, 0, 1, r, 1, 1), PVA_S_EINVAL);
	assert_int_equal(damage_raw(t, 0, 1, r, 1, 8), PVA_S_EINVAL);
	assert_int_equal(damage_raw(t, 0, 0x10000001, r, 1, 0), PVA_S_EINVAL);
	assert_int_equal(damage_raw(t, 4, 1, r, 1, 0), PVA_S_EINVAL);
	assert_int_equal(damage_raw(t, 0xffffffff, 1, r, 1, 0), PVA_S_EINVAL);
	memset(msg, 0, 8);
	assert_int_equal(request(t, PVA_DISPLAY_DAMAGE, 0), PVA_S_EINVAL);
	assert_int_equal(request(t, PVA_DISPLAY_DAMAGE, 4), PVA_S_EINVAL);
	assert_int_equal(request(t, PVA_DISPLAY_DAMAGE, 7), PVA_S_EINVAL);
	/* refused DAMAGEs copy nothing and leave the head on */
	assert_int_equal(head_stat(t, 0, "scanout.damages"), 2);
	assert_int_equal(head_stat(t, 0, "scanout.on"), 1);
	/* a head that is off: ENOENT, even for a well-formed DAMAGE */
	assert_int_equal(damage(t, 1, 1, r), PVA_S_ENOENT);

	/* unknown requests; events and answers from the guest are dropped */
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		memset(msg, 0, 32);
		assert_int_equal(request(t, unknown[i], 32), PVA_S_ENOTSUP);
	}
	assert_int_equal(fg_send(&t->g, DSP, PVA_DISPLAY_DAMAGE, 0, 0, msg, 24),
			 0);
	assert_int_equal(receive(t, 0, 0), -1);
	assert_int_equal(fg_send(&t->g, DSP, PVA_DISPLAY_CONFIG,
				 PVA_MSG_F_RESPONSE, 77, msg, 0), 0);
	assert_int_equal(receive(t, 0, 0), -1);
	assert_int_equal(head_stat(t, 0, "scanout.on"), 1);

	/* HELLO and a new negotiation forget the scanouts */
	assert_int_equal(hello(t, NULL), PVA_S_OK);
	assert_int_equal(damage(t, 0, 1, r), PVA_S_ENOENT);
	head0_on(t);
	assert_int_equal(fg_negotiate(&t->g), 0);
	assert_int_equal(head_stat(t, 0, "scanout.on"), 0);
	assert_int_equal(damage(t, 0, 1, r), PVA_S_ENOENT);
}

/* DAMAGE copies exactly the named pixels, clipped to the scanout, from
 * the region into the host's picture; nothing else of the region.
 */
static void test_damage_copies(void **state)
{
	enum { W = 100, H = 70, STRIDE = W * 4 + 64 };
	struct t *t = *state;
	uint64_t off = t->head_mem + 128;	/* head 1's area, not aligned */
	uint32_t *px = calloc(W * H, 4);
	struct pva_display_rect rs[8];
	uint64_t pixels = W * H, bad = 0;

	assert_non_null(px);
	assert_int_equal(hello(t, NULL), PVA_S_OK);
	/* what the region holds when the head is set is the first picture */
	draw(t, off, W, H, STRIDE, 1);
	assert_int_equal(scanout(t, 1, W, H, STRIDE, XRGB, off), PVA_S_OK);
	expect_rect(px, W, 1, 0, 0, W, H);
	check_picture(t, 1, px, W, H, true);

	/* the guest draws the next one: the host keeps the old until told */
	draw(t, off, W, H, STRIDE, 2);
	check_picture(t, 1, px, W, H, false);

	assert_int_equal(damage1(t, 1, 10, 20, 5, 7), PVA_S_OK);
	expect_rect(px, W, 2, 10, 20, 5, 7);
	pixels += 5 * 7;
	check_picture(t, 1, px, W, H, false);

	/* partly outside: only the inside; fully outside, empty or
	 * wrapping: skipped and counted
	 */
	rs[0] = rect(90, 60, 1000, 1000);
	rs[1] = rect(W, 0, 5, 5);
	rs[2] = rect(0, H, 5, 5);
	rs[3] = rect(5, 5, 0, 3);
	rs[4] = rect(5, 5, 3, 0);
	rs[5] = rect(0xffffffff, 0, 0xffffffff, 1);
	rs[6] = rect(3, 0xfffffff0, 1, 0x20);
	rs[7] = rect(0, 0, 1, 1);
	assert_int_equal(damage(t, 1, 8, rs), PVA_S_OK);
	expect_rect(px, W, 2, 90, 60, 10, 10);
	expect_rect(px, W, 2, 0, 0, 1, 1);
	pixels += 10 * 10 + 1;
	bad += 6;
	check_picture(t, 1, px, W, H, true);
	assert_int_equal(head_stat(t, 1, "scanout.rects"), 3);
	assert_int_equal(head_stat(t, 1, "scanout.bad_rects"), bad);
	assert_int_equal(head_stat(t, 1, "scanout.pixels"), pixels);
	assert_int_equal(head_stat(t, 1, "scanout.damages"), 2);

	/* black pixels are pixels too */
	for (uint32_t y = 30; y < 40; y++)
		memset(t->data + off + (uint64_t)y * STRIDE + 40 * 4, 0, 20 * 4);
	assert_int_equal(damage1(t, 1, 40, 30, 20, 10), PVA_S_OK);
	for (uint32_t y = 30; y < 40; y++)
		memset(px + y * W + 40, 0, 20 * 4);
	check_picture(t, 1, px, W, H, false);

	/* a rectangle to "infinity" from (1, 1) is the rest of the screen */
	draw(t, off, W, H, STRIDE, 3);
	assert_int_equal(damage1(t, 1, 1, 1, 0xffffffff, 0xffffffff), PVA_S_OK);
	expect_rect(px, W, 3, 1, 1, W - 1, H - 1);
	check_picture(t, 1, px, W, H, true);

	/* heads are independent: head 0 shows its own picture */
	draw(t, 0, 64, 64, 256, 4);
	assert_int_equal(scanout(t, 0, 64, 64, 256, XRGB, 0), PVA_S_OK);
	check_picture(t, 1, px, W, H, false);
	expect_rect(px, 64, 4, 0, 0, 64, 64);
	check_picture(t, 0, px, 64, 64, false);
	free(px);
}

/* ---- pva-hostctl ---- */

static void test_heads(void **state)
{
	struct t *t = *state;
	struct json_object *ans = ctl_ok(t, "{\"cmd\":\"display-heads\"}");
	struct json_object *heads, *h, *so;

	assert_int_equal(jint(ans, "generation"), 1);
	assert_int_equal(jint(ans, "memory"), t->data_size);
	assert_int_equal(jint(ans, "head_memory"), t->head_mem);
	assert_true(json_object_object_get_ex(ans, "heads", &heads));
	assert_int_equal(json_object_array_length(heads), 4);
	for (int i = 0; i < 4; i++) {
		h = json_object_array_get_idx(heads, (size_t)i);
		assert_int_equal(jint(h, "head"), i);
		assert_int_equal(jint(h, "enabled"), i == 0);
		assert_int_equal(jint(h, "width"), i ? 0 : 1024);
		assert_int_equal(jint(h, "height"), i ? 0 : 768);
		assert_true(json_object_object_get_ex(h, "scanout", &so));
		assert_int_equal(jint(so, "on"), 0);
	}
	json_object_put(ans);
}

/* display-resize: sizes 64-8192 that fit a head's memory, heads 0-3; the
 * new layout goes to the guest as a CONFIG event with a new generation,
 * heads left to right in head order.
 */
static void test_resize(void **state)
{
	struct t *t = *state;
	uint32_t hmax = (uint32_t)(t->head_mem / (8192 * 4));
	struct head want[4] = { { ON, 1024, 768, 0 } };
	static const char *const sizes[] = {
		"\"width\":0,\"height\":600", "\"width\":800,\"height\":0",
		"\"width\":63,\"height\":600", "\"width\":800,\"height\":63",
		"\"width\":8193,\"height\":600", "\"width\":800,\"height\":8193",
		"\"width\":800", "\"height\":600",
		"\"width\":\"800\",\"height\":600", "\"width\":800,\"height\":6e2",
		"\"width\":-800,\"height\":600",
		"\"width\":4294968096,\"height\":600",
	};

	assert_int_equal(hello(t, NULL), PVA_S_OK);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		ctl_fails(t, "64-8192", "{\"cmd\":\"display-resize\",%s}",
			  sizes[i]);
	ctl_fails(t, "no such head",
		  "{\"cmd\":\"display-resize\",\"head\":4,\"width\":800,\"height\":600}");
	ctl_fails(t, "no such head",
		  "{\"cmd\":\"display-resize\",\"head\":-1,\"width\":800,\"height\":600}");
	ctl_fails(t, "no such head",
		  "{\"cmd\":\"display-resize\",\"head\":\"1\",\"width\":800,\"height\":600}");
	/* the largest that fits a head's memory, and one line more */
	assert_true(hmax >= 64 && hmax < 8192);
	ctl_fails(t, "a head has",
		  "{\"cmd\":\"display-resize\",\"width\":8192,\"height\":%u}",
		  hmax + 1);
	ctl_fails(t, "a head has",
		  "{\"cmd\":\"display-resize\",\"head\":3,\"width\":8192,\"height\":8192}");
	assert_int_equal(status(t, "display.generation"), 1);
	expect_events(t, 0);

	resize(t, 3, 8192, hmax, 2);
	want[3] = (struct head){ ON, 8192, hmax, 1024 };
	expect_events(t, 1);
	check_config(&t->events[0], 2, want);

	resize(t, 2, 800, 600, 3);
	want[2] = (struct head){ ON, 800, 600, 1024 };
	want[3].x = 1824;
	expect_events(t, 1);
	check_config(&t->events[0], 3, want);

	resize(t, 1, 640, 480, 4);
	want[1] = (struct head){ ON, 640, 480, 1024 };
	want[2].x = 1664;
	want[3].x = 2464;
	expect_events(t, 1);
	check_config(&t->events[0], 4, want);

	resize(t, 0, 1280, 800, 5);
	want[0].width = 1280;
	want[0].height = 800;
	want[1].x = 1280;
	want[2].x = 1920;
	want[3].x = 2720;
	expect_events(t, 1);
	check_config(&t->events[0], 5, want);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(head_stat(t, i, "x"), want[i].x);
		assert_int_equal(head_stat(t, i, "width"), want[i].width);
	}

	disable(t, 1, 6);
	want[1].flags = 0;
	want[2].x = 1280;
	want[3].x = 2080;
	expect_events(t, 1);
	check_config(&t->events[0], 6, want);
	assert_int_equal(head_stat(t, 1, "enabled"), 0);
	assert_int_equal(head_stat(t, 1, "width"), 0);

	/* the next HELLO gets the layout as it is now */
	assert_int_equal(fg_negotiate(&t->g), 0);
	resize(t, 0, 1024, 768, 7);
	want[0].width = 1024;
	want[0].height = 768;
	want[2].x = 1024;
	want[3].x = 1824;
	expect_events(t, 0);	/* no guest driver: nobody to tell */
	assert_int_equal(hello(t, NULL), PVA_S_OK);
	check_config(answer_config(), 7, want);
	expect_events(t, 0);
}

/* display-disable: not the last head on; heads 0-3. */
static void test_disable(void **state)
{
	struct t *t = *state;
	const struct head want[4] = { [2] = { ON, 800, 600, 0 } };

	assert_int_equal(hello(t, NULL), PVA_S_OK);
	ctl_fails(t, "last one on", "{\"cmd\":\"display-disable\",\"head\":0}");
	ctl_fails(t, "no such head", "{\"cmd\":\"display-disable\",\"head\":9}");
	ctl_fails(t, "no such head", "{\"cmd\":\"display-disable\",\"head\":4}");
	assert_int_equal(status(t, "display.generation"), 1);
	expect_events(t, 0);

	resize(t, 2, 800, 600, 2);
	expect_events(t, 1);
	disable(t, 0, 3);
	expect_events(t, 1);
	check_config(&t->events[0], 3, want);
	ctl_fails(t, "last one on", "{\"cmd\":\"display-disable\",\"head\":2}");
	assert_int_equal(head_stat(t, 2, "enabled"), 1);
	assert_int_equal(head_stat(t, 2, "x"), 0);
	expect_events(t, 0);
}

/* display-screenshot refuses what it cannot do, with a reason. */
static void test_screenshot_errors(void **state)
{
	struct t *t = *state;
	struct stat st;

	ctl_fails(t, "no guest driver",
		  "{\"cmd\":\"display-screenshot\",\"path\":\"%s\"}", t->shot);
	assert_int_equal(hello(t, NULL), PVA_S_OK);
	ctl_fails(t, "has not set a mode",
		  "{\"cmd\":\"display-screenshot\",\"path\":\"%s\"}", t->shot);
	head0_on(t);
	ctl_fails(t, "absolute path",
		  "{\"cmd\":\"display-screenshot\",\"path\":\"shot.png\"}");
	ctl_fails(t, "absolute path", "{\"cmd\":\"display-screenshot\"}");
	ctl_fails(t, "absolute path",
		  "{\"cmd\":\"display-screenshot\",\"path\":7}");
	ctl_fails(t, "no such head",
		  "{\"cmd\":\"display-screenshot\",\"head\":4,\"path\":\"%s\"}",
		  t->shot);
	ctl_fails(t, "shows nothing",
		  "{\"cmd\":\"display-screenshot\",\"head\":1,\"path\":\"%s\"}",
		  t->shot);
	ctl_fails(t, "/missing/shot.png",
		  "{\"cmd\":\"display-screenshot\",\"path\":\"%s/missing/shot.png\"}",
		  t->dir);
	assert_int_equal(stat(t->shot, &st), -1);
	/* and works */
	assert_int_equal(screenshot(t, 0).width, 640);
	assert_int_equal(stat(t->shot, &st), 0);
	assert_true(st.st_size > 0);
}

/* A guest that does not read its answers: the host stops taking requests
 * when it could not answer them, and goes on when there is room, every
 * request answered once and in order.
 */
static void test_backpressure(void **state)
{
	static uint8_t buf[PVA_MSG_MAX];
	struct t *t = *state;
	struct pva_display_hello h = { .nr_heads = pva_cpu32(1) };
	struct pva_msg_hdr r;
	uint32_t sent = 0, got = 0;
	int n;

	while (sent < 300 &&
	       fg_send(&t->g, DSP, PVA_DISPLAY_HELLO, PVA_MSG_F_REQUEST,
		       sent + 1, &h, sizeof(h)) == 0)
		sent++;
	assert_true(sent > 16384 / 168);	/* more than the answers fit */
	assert_true(status(t, "rx_msgs") < sent);
	while ((n = fg_recv(&t->g, DSP, &r, buf, sizeof(buf))) >= 0) {
		assert_int_equal(pva_le32(r.req_id), ++got);
		assert_int_equal(pva_le32(r.status), PVA_S_OK);
		assert_int_equal(n, sizeof(struct pva_display_config));
	}
	assert_int_equal(n, -1);
	assert_int_equal(got, sent);
	assert_int_equal(status(t, "rx_msgs"), sent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_adopts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_after_resize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_adopts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scanout_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_screenshot_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
