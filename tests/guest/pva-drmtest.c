// SPDX-License-Identifier: MIT
/*
 * pva-drmtest: drive a KMS device (pva_drm) from a test script in a bare
 * guest (busybox, no udev, no X) and print what happened as key=value lines.
 *
 *   pva-drmtest list                       every connector, probed
 *   pva-drmtest wait-preferred CONN WxH    until CONN is connected and its
 *                                          preferred mode is WxH
 *   pva-drmtest wait-status CONN STATUS    until CONN is connected or
 *                                          disconnected
 *   pva-drmtest wait-hotplug               until a drm HOTPLUG=1 uevent
 *   pva-drmtest uevents --out FILE         one line in FILE per such uevent
 *   pva-drmtest pattern                    set a mode, draw frames, page-flip
 *                                          (or --dirty: front buffer and
 *                                          DIRTYFB), print the final frame's
 *                                          FNV-1a and the frame rate
 *   pva-drmtest fnv --mode WxH --frame F   the FNV-1a pattern would print,
 *                                          without a device
 *   pva-drmtest off                        turn a connector's CRTC off
 *
 * The pattern, for frame F of seed S (all arithmetic mod 2^32):
 *
 *   mix(v)   = v ^= v >> 16; v *= 0x7feb352d; v ^= v >> 15;
 *              v *= 0x846ca68b; v ^= v >> 16
 *   k        = mix(mix(F ^ 0x9e3779b9) ^ S)
 *   px(x, y) = (mix(k ^ 2x) ^ mix(k ^ (2y + 1))) & 0x00ffffff
 *
 * It is separable (one XOR per pixel from a column and a row table), so
 * drawing costs about what a memset does and the frame rate measures the
 * driver, even in an emulated guest. The FNV-1a is 64-bit over the pixels
 * in memory order (row by row, 4 bytes per pixel, little-endian, byte 3
 * taken as 0).
 *
 * Exit status: 0 success, 1 failure (timeout, wrong value, no event, a
 * call failed), 2 usage, 3 the device went away (ENODEV), 77 skip (no
 * card, or a card with no connectors).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#define PROG "pva-drmtest"

#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define EXIT_GONE	3
#define EXIT_SKIP	77

#define DEFAULT_CARD	"/dev/dri/card0"
#define DEFAULT_TIMEOUT	20.0	/* seconds, for the wait commands */
#define DEFAULT_FRAMES	60
#define POLL_MS		100	/* connector polling, and --hold checks */
#define FLIP_TIMEOUT_MS	5000	/* a page-flip event must come by then */
#define MAX_DIM		16384
#define MAX_CLIPS	256	/* DRM_MODE_FB_DIRTY_MAX_CLIPS */

static const char usage_text[] =
"Usage: pva-drmtest list\n"
"       pva-drmtest wait-preferred CONNECTOR WxH [--timeout SEC]\n"
"       pva-drmtest wait-status CONNECTOR connected|disconnected [--timeout SEC]\n"
"       pva-drmtest wait-hotplug [--timeout SEC]\n"
"       pva-drmtest uevents [--count N] [--timeout SEC] [--out FILE]\n"
"       pva-drmtest pattern [--connector NAME] [--mode WxH] [--frames N]\n"
"                           [--seed S] [--dirty [--clips K]] [--blank SEC]\n"
"                           [--hold SEC]\n"
"       pva-drmtest fnv --mode WxH [--frame F] [--seed S]\n"
"       pva-drmtest off [--connector NAME] [--hold SEC]\n"
"Drive a KMS device (default " DEFAULT_CARD ") and print key=value lines.\n"
"\n"
"  list            every connector, probed: connector= id= status= modes=\n"
"                  preferred= current= suggested_x= suggested_y=\n"
"                  hotplug_mode_update= (-1: no such property)\n"
"  wait-preferred  poll every 100 ms until CONNECTOR is connected with\n"
"                  preferred mode WxH; prints elapsed_ms=\n"
"  wait-status     poll until CONNECTOR has that status; prints elapsed_ms=\n"
"  wait-hotplug    wait for a uevent SUBSYSTEM=drm HOTPLUG=1;\n"
"                  prints hotplug=1 elapsed_ms=\n"
"  uevents         print ready once listening, then write a line to FILE\n"
"                  (default stdout) for each drm HOTPLUG uevent, until N of\n"
"                  them (0: no limit) or the timeout\n"
"  pattern         set the mode (default: the connector's preferred; the\n"
"                  connector: the first connected) on dumb buffer 0, draw\n"
"                  frames 1..N-1 into the back buffer and page-flip, waiting\n"
"                  5 s at most for each event (--dirty: draw into buffer 0\n"
"                  and DIRTYFB with K horizontal stripes); prints width=\n"
"                  height= frames= fnv= flips= and fps=; --blank turns the\n"
"                  connector off (DPMS) for SEC seconds and on again,\n"
"                  printing blanked=1 and unblanked=1; --hold keeps the\n"
"                  mode set SEC seconds longer\n"
"  fnv             print the fnv= pattern prints for frame F (default 0)\n"
"  off             turn off the CRTC driving CONNECTOR; prints off=1\n"
"\n"
"--card PATH (before or after the command) names the device for list,\n"
"wait-preferred, wait-status, pattern and off.\n"
"CONNECTOR is a name (Virtual-1) or an id. --timeout defaults to 20 s,\n"
"--frames to 60, --seed to 0. Pixel (x, y) of frame F, seed S, mod 2^32:\n"
"  mix(v) = v ^= v >> 16; v *= 0x7feb352d; v ^= v >> 15;\n"
"           v *= 0x846ca68b; v ^= v >> 16\n"
"  k = mix(mix(F ^ 0x9e3779b9) ^ S)\n"
"  px = (mix(k ^ 2x) ^ mix(k ^ (2y + 1))) & 0xffffff\n"
"fnv is FNV-1a 64 over the pixels row by row, 4 bytes little-endian each.\n"
"Exit status: 0 success, 1 failure, 2 usage error, 3 device gone (ENODEV),\n"
"77 no card or no connectors (skip).\n";

/* ---- small helpers ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long ms_since(double t0)
{
	return (long)((now() - t0) * 1000 + 0.5);
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * "pva-drmtest: " MESSAGE SUFFIX "\n" on stderr in one write(2), so
 * the messages of programs running side by side do not interleave.
 */
static void vmsg(const char *fmt, va_list ap, const char *suffix)
{
	char buf[1024] = PROG ": ";
	size_t n = strlen(buf);

	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	n = strlen(buf);
	snprintf(buf + n, sizeof(buf) - n, "%s\n", suffix);
	n = strlen(buf);
	if (n == sizeof(buf) - 1)
		buf[n - 1] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}

static void __attribute__((format(printf, 1, 2)))
msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, "");
	va_end(ap);
}

static int __attribute__((format(printf, 1, 2)))
usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, "\nTry 'pva-drmtest --help'.");
	va_end(ap);
	return EXIT_USAGE;
}

/* A message and the exit status for errno: 3 when the device went away. */
static int __attribute__((format(printf, 2, 3)))
fail_errno(int err, const char *fmt, ...)
{
	char suffix[160];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s%s", strerror(err),
		 err == ENODEV ? " (the device is gone)" : "");
	va_start(ap, fmt);
	vmsg(fmt, ap, suffix);
	va_end(ap);
	return err == ENODEV ? EXIT_GONE : EXIT_FAIL;
}

static int __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, "");
	va_end(ap);
	return EXIT_FAIL;
}

/* ---- the pattern and its hash ---- */

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

static uint32_t mix(uint32_t v)
{
	v ^= v >> 16;
	v *= 0x7feb352dU;
	v ^= v >> 15;
	v *= 0x846ca68bU;
	v ^= v >> 16;
	return v;
}

/*
 * The pattern is px(x, y) = col[x] ^ row[y]: fill the two tables for
 * frame f (top bytes already 0).
 */
static void pattern_tables(uint32_t f, uint32_t seed, uint32_t w, uint32_t h,
			   uint32_t *col, uint32_t *row)
{
	uint32_t k = mix(mix(f ^ 0x9e3779b9U) ^ seed);

	for (uint32_t x = 0; x < w; x++)
		col[x] = mix(k ^ (2 * x)) & 0x00ffffffU;
	for (uint32_t y = 0; y < h; y++)
		row[y] = mix(k ^ (2 * y + 1)) & 0x00ffffffU;
}

static uint64_t fnv_pixel(uint64_t hash, uint32_t px)
{
	hash = (hash ^ (px & 0xff)) * FNV_PRIME;
	hash = (hash ^ ((px >> 8) & 0xff)) * FNV_PRIME;
	hash = (hash ^ ((px >> 16) & 0xff)) * FNV_PRIME;
	return hash * FNV_PRIME;	/* byte 3 is 0: XOR with 0 */
}

static void draw(void *map, uint32_t pitch, uint32_t w, uint32_t h,
		 const uint32_t *col, const uint32_t *row)
{
	for (uint32_t y = 0; y < h; y++) {
		uint32_t *p = (uint32_t *)((char *)map + (size_t)y * pitch);
		uint32_t r = row[y];

		for (uint32_t x = 0; x < w; x++)
			p[x] = col[x] ^ r;
	}
}

/*
 * FNV-1a of the frame in the buffer, as it is in memory (bytes 0..2 of
 * each pixel, byte 3 as 0), checking it against the tables on the way.
 * Returns false (and where) at the first pixel that differs.
 */
static bool hash_buffer(const void *map, uint32_t pitch, uint32_t w,
			uint32_t h, const uint32_t *col, const uint32_t *row,
			uint64_t *hash, uint32_t *bad_x, uint32_t *bad_y,
			uint32_t *bad_px)
{
	uint64_t fnv = FNV_OFFSET;

	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *p = (const uint8_t *)map + (size_t)y * pitch;

		for (uint32_t x = 0; x < w; x++, p += 4) {
			uint32_t px = p[0] | (uint32_t)p[1] << 8 |
				      (uint32_t)p[2] << 16;

			if (px != (col[x] ^ row[y])) {
				*bad_x = x;
				*bad_y = y;
				*bad_px = px | (uint32_t)p[3] << 24;
				return false;
			}
			fnv = fnv_pixel(fnv, px);
		}
	}
	*hash = fnv;
	return true;
}

/* ---- options ---- */

enum {
	O_CARD = 1 << 0,
	O_CONNECTOR = 1 << 1,
	O_MODE = 1 << 2,
	O_FRAMES = 1 << 3,
	O_SEED = 1 << 4,
	O_HOLD = 1 << 5,
	O_DIRTY = 1 << 6,
	O_CLIPS = 1 << 7,
	O_TIMEOUT = 1 << 8,
	O_COUNT = 1 << 9,
	O_OUT = 1 << 10,
	O_FRAME = 1 << 11,
	O_BLANK = 1 << 12,
};

static const struct optdef {
	const char *name;
	unsigned bit;
	bool arg;
} optdefs[] = {
	{ "card", O_CARD, true },
	{ "connector", O_CONNECTOR, true },
	{ "mode", O_MODE, true },
	{ "frames", O_FRAMES, true },
	{ "seed", O_SEED, true },
	{ "hold", O_HOLD, true },
	{ "dirty", O_DIRTY, false },
	{ "clips", O_CLIPS, true },
	{ "timeout", O_TIMEOUT, true },
	{ "count", O_COUNT, true },
	{ "out", O_OUT, true },
	{ "frame", O_FRAME, true },
	{ "blank", O_BLANK, true },
};

struct opts {
	unsigned given;		/* O_* bits seen */
	const char *card;
	const char *connector;	/* NULL: the command's default */
	uint32_t w, h;		/* --mode */
	uint32_t frames;
	uint32_t seed;
	double hold;		/* seconds */
	double blank;		/* seconds of DPMS off after the last frame */
	uint32_t clips;
	double timeout;		/* seconds */
	uint32_t count;
	const char *out;
	uint32_t frame;
	char *pos[2];		/* positional arguments */
	int npos;
};

static bool parse_u32(const char *s, uint32_t *v)
{
	unsigned long long n;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || *end || n > UINT32_MAX)
		return false;
	*v = (uint32_t)n;
	return true;
}

static bool parse_secs(const char *s, double *v)
{
	char *end;
	double d;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return false;
	d = strtod(s, &end);
	if (*end || !(d >= 0 && d <= 1e6))	/* also NaN */
		return false;
	*v = d;
	return true;
}

static bool parse_wxh(const char *s, uint32_t *w, uint32_t *h)
{
	char buf[32], *x;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	x = strchr(buf, 'x');
	if (!x)
		return false;
	*x = '\0';
	return parse_u32(buf, w) && parse_u32(x + 1, h) &&
	       *w >= 1 && *w <= MAX_DIM && *h >= 1 && *h <= MAX_DIM;
}

static int set_opt(struct opts *o, const struct optdef *d, const char *v)
{
	switch (d->bit) {
	case O_CARD:
		o->card = v;
		break;
	case O_CONNECTOR:
		o->connector = v;
		break;
	case O_MODE:
		if (!parse_wxh(v, &o->w, &o->h))
			return usage("--mode: '%s' is not WxH (1 to %d each)",
				     v, MAX_DIM);
		break;
	case O_FRAMES:
		if (!parse_u32(v, &o->frames) || !o->frames)
			return usage("--frames: '%s' is not a number of 1 or more", v);
		break;
	case O_SEED:
		if (!parse_u32(v, &o->seed))
			return usage("--seed: '%s' is not a number of 0 to 4294967295", v);
		break;
	case O_HOLD:
		if (!parse_secs(v, &o->hold))
			return usage("--hold: '%s' is not a number of seconds", v);
		break;
	case O_BLANK:
		if (!parse_secs(v, &o->blank))
			return usage("--blank: '%s' is not a number of seconds", v);
		break;
	case O_CLIPS:
		if (!parse_u32(v, &o->clips) || !o->clips || o->clips > MAX_CLIPS)
			return usage("--clips: '%s' is not a number of 1 to %d",
				     v, MAX_CLIPS);
		break;
	case O_TIMEOUT:
		if (!parse_secs(v, &o->timeout))
			return usage("--timeout: '%s' is not a number of seconds", v);
		break;
	case O_COUNT:
		if (!parse_u32(v, &o->count))
			return usage("--count: '%s' is not a number", v);
		break;
	case O_OUT:
		o->out = v;
		break;
	case O_FRAME:
		if (!parse_u32(v, &o->frame))
			return usage("--frame: '%s' is not a number", v);
		break;
	}
	o->given |= d->bit;
	return 0;
}

/*
 * Options (--name VALUE or --name=VALUE) and positional arguments, in any
 * order; only those in allowed. Returns 0, or the exit status.
 */
static int parse_args(struct opts *o, const char *cmd, unsigned allowed,
		      int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		const struct optdef *d = NULL;
		size_t len;

		if (strncmp(a, "--", 2) || !a[2]) {
			if (o->npos == 2)
				return usage("%s: too many arguments ('%s')", cmd, a);
			o->pos[o->npos++] = argv[i];
			continue;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		for (size_t j = 0; j < sizeof(optdefs) / sizeof(optdefs[0]); j++)
			if (strlen(optdefs[j].name) == len &&
			    !strncmp(optdefs[j].name, a, len))
				d = &optdefs[j];
		if (!d || !(allowed & d->bit))
			return usage("%s: unknown option '%s'", cmd, argv[i]);
		if (d->arg) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return usage("%s: --%s needs a value", cmd, d->name);
		} else if (eq) {
			return usage("%s: --%s takes no value", cmd, d->name);
		}
		if (set_opt(o, d, val))
			return EXIT_USAGE;
	}
	return 0;
}

/* ---- the device ---- */

#define NOT_MASTER " (not DRM master: does another program hold the card?)"

/* Set by open_card() for the SIGBUS handler. */
static int card_fd = -1;

/*
 * Open the card and read its resources. Returns 0, or the exit status:
 * 77 when there is no card or no connector.
 */
static int open_card(const char *path, int *fdp, drmModeRes **resp)
{
	drmModeRes *res;
	int fd, err;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT || err == ENXIO || err == ENODEV) {
			msg("%s: %s: skipped", path, strerror(err));
			return EXIT_SKIP;
		}
		return fail_errno(err, "%s", path);
	}
	res = drmModeGetResources(fd);
	if (!res) {
		err = errno;
		close(fd);
		if (err == ENODEV)
			return fail_errno(err, "%s: GETRESOURCES", path);
		msg("%s: not a KMS device (%s): skipped", path,
		    strerror(err));
		return EXIT_SKIP;
	}
	if (!res->count_connectors) {
		msg("%s has no connectors: skipped", path);
		drmModeFreeResources(res);
		close(fd);
		return EXIT_SKIP;
	}
	/*
	 * The first opener is master already; else try. Only the master
	 * makes the kernel re-probe a connector and may set modes.
	 */
	if (!drmIsMaster(fd) && drmSetMaster(fd))
		msg("warning: not DRM master of %s (another program holds "
		    "it): connectors are not re-probed and modes cannot be set",
		    path);
	card_fd = fd;
	*fdp = fd;
	*resp = res;
	return 0;
}

static void connector_name(const drmModeConnector *c, char *buf, size_t n)
{
	const char *type = drmModeGetConnectorTypeName(c->connector_type);

	if (type)
		snprintf(buf, n, "%s-%u", type, c->connector_type_id);
	else
		snprintf(buf, n, "Unknown%u-%u", c->connector_type,
			 c->connector_type_id);
}

static bool connector_matches(const drmModeConnector *c, const char *want)
{
	char name[64];
	uint32_t id;

	if (parse_u32(want, &id))
		return c->connector_id == id;
	connector_name(c, name, sizeof(name));
	return !strcmp(name, want);
}

/*
 * The connector called (or numbered) want, or with want NULL the first
 * connected one (probed). Errors are printed; *rc is set to the status.
 */
static drmModeConnector *find_connector(int fd, const drmModeRes *res,
					const char *want, int *rc)
{
	int err = 0;

	for (int i = 0; i < res->count_connectors; i++) {
		drmModeConnector *c;

		if (want) {
			c = drmModeGetConnectorCurrent(fd, res->connectors[i]);
			if (c && connector_matches(c, want)) {
				drmModeFreeConnector(c);
				c = drmModeGetConnector(fd, res->connectors[i]);
				if (c)
					return c;
			}
		} else {
			c = drmModeGetConnector(fd, res->connectors[i]);
			if (c && c->connection == DRM_MODE_CONNECTED)
				return c;
		}
		if (!c)
			err = errno;
		drmModeFreeConnector(c);
		if (err == ENODEV)
			break;
	}
	if (err)
		*rc = fail_errno(err, "GETCONNECTOR");
	else if (want)
		*rc = fail("no connector '%s' (see pva-drmtest list)", want);
	else
		*rc = fail("no connector is connected");
	return NULL;
}

static const char *status_name(drmModeConnection s)
{
	switch (s) {
	case DRM_MODE_CONNECTED:
		return "connected";
	case DRM_MODE_DISCONNECTED:
		return "disconnected";
	default:
		return "unknown";
	}
}

/* Set a connector's DPMS property: 0 on, 3 off. */
static int set_dpms(int fd, uint32_t conn, uint64_t value)
{
	drmModeObjectProperties *props;
	int ret = -1;

	props = drmModeObjectGetProperties(fd, conn, DRM_MODE_OBJECT_CONNECTOR);
	if (!props)
		return -1;
	for (uint32_t i = 0; i < props->count_props; i++) {
		drmModePropertyRes *p = drmModeGetProperty(fd, props->props[i]);

		if (p && !strcmp(p->name, "DPMS"))
			ret = drmModeConnectorSetProperty(fd, conn, p->prop_id,
							  value);
		drmModeFreeProperty(p);
	}
	drmModeFreeObjectProperties(props);
	return ret;
}

/* The value of an object's property, or -1 when it has none of that name. */
static int64_t prop_value(int fd, uint32_t obj, uint32_t type, const char *name)
{
	drmModeObjectProperties *props = drmModeObjectGetProperties(fd, obj, type);
	int64_t v = -1;

	if (!props)
		return -1;
	for (uint32_t i = 0; i < props->count_props && v < 0; i++) {
		drmModePropertyRes *p = drmModeGetProperty(fd, props->props[i]);

		if (p && !strcmp(p->name, name))
			v = (int64_t)props->prop_values[i];
		drmModeFreeProperty(p);
	}
	drmModeFreeObjectProperties(props);
	return v;
}

static const drmModeModeInfo *preferred_mode(const drmModeConnector *c)
{
	for (int i = 0; i < c->count_modes; i++)
		if (c->modes[i].type & DRM_MODE_TYPE_PREFERRED)
			return &c->modes[i];
	return NULL;
}

/* The CRTC driving the connector now, or 0. */
static uint32_t current_crtc(int fd, const drmModeConnector *c)
{
	drmModeEncoder *enc;
	uint32_t crtc;

	if (!c->encoder_id)
		return 0;
	enc = drmModeGetEncoder(fd, c->encoder_id);
	if (!enc)
		return 0;
	crtc = enc->crtc_id;
	drmModeFreeEncoder(enc);
	return crtc;
}

/* "WxH" of the mode on the connector's CRTC, or "off". */
static void current_mode(int fd, const drmModeConnector *c, char *buf, size_t n)
{
	uint32_t id = current_crtc(fd, c);
	drmModeCrtc *crtc = id ? drmModeGetCrtc(fd, id) : NULL;

	if (crtc && crtc->mode_valid)
		snprintf(buf, n, "%ux%u", crtc->mode.hdisplay, crtc->mode.vdisplay);
	else
		snprintf(buf, n, "off");
	drmModeFreeCrtc(crtc);
}

static int cmd_list(struct opts *o)
{
	drmModeRes *res;
	int fd, rc;

	rc = open_card(o->card, &fd, &res);
	if (rc)
		return rc;
	for (int i = 0; i < res->count_connectors; i++) {
		drmModeConnector *c = drmModeGetConnector(fd, res->connectors[i]);
		const drmModeModeInfo *pref;
		char name[64], cur[32];

		if (!c) {
			rc = fail_errno(errno, "connector %u: GETCONNECTOR",
					res->connectors[i]);
			break;
		}
		connector_name(c, name, sizeof(name));
		pref = preferred_mode(c);
		current_mode(fd, c, cur, sizeof(cur));
		printf("connector=%s id=%u status=%s modes=%d ", name,
		       c->connector_id, status_name(c->connection), c->count_modes);
		if (pref)
			printf("preferred=%ux%u", pref->hdisplay, pref->vdisplay);
		else
			printf("preferred=none");
		printf(" current=%s suggested_x=%" PRId64 " suggested_y=%" PRId64
		       " hotplug_mode_update=%" PRId64 "\n", cur,
		       prop_value(fd, c->connector_id, DRM_MODE_OBJECT_CONNECTOR,
				  "suggested X"),
		       prop_value(fd, c->connector_id, DRM_MODE_OBJECT_CONNECTOR,
				  "suggested Y"),
		       prop_value(fd, c->connector_id, DRM_MODE_OBJECT_CONNECTOR,
				  "hotplug_mode_update"));
		drmModeFreeConnector(c);
	}
	drmModeFreeResources(res);
	close(fd);
	return rc;
}

/* ---- wait-preferred, wait-status ---- */

/*
 * Poll the connector every 100 ms until it is connected with preferred
 * mode want_w x want_h (want_w != 0), or has status want_status.
 */
static int wait_connector(struct opts *o, const char *name, uint32_t want_w,
			  uint32_t want_h, drmModeConnection want_status)
{
	double t0 = now();
	char last[128] = "not found";
	uint32_t id = 0;
	drmModeRes *res;
	int fd, rc;

	rc = open_card(o->card, &fd, &res);
	if (rc)
		return rc;
	for (;;) {
		drmModeConnector *c = NULL;
		bool done = false;

		if (!id) {
			c = find_connector(fd, res, name, &rc);
			if (!c) {
				drmModeFreeResources(res);
				close(fd);
				return rc;
			}
			id = c->connector_id;
		} else {
			c = drmModeGetConnector(fd, id);
			if (!c) {
				rc = fail_errno(errno, "%s: GETCONNECTOR", name);
				break;
			}
		}
		if (want_w) {
			const drmModeModeInfo *p = preferred_mode(c);

			done = c->connection == DRM_MODE_CONNECTED && p &&
			       p->hdisplay == want_w && p->vdisplay == want_h;
			if (p)
				snprintf(last, sizeof(last),
					 "status=%s preferred=%ux%u modes=%d",
					 status_name(c->connection), p->hdisplay,
					 p->vdisplay, c->count_modes);
			else
				snprintf(last, sizeof(last),
					 "status=%s preferred=none modes=%d",
					 status_name(c->connection), c->count_modes);
		} else {
			done = c->connection == want_status;
			snprintf(last, sizeof(last), "status=%s",
				 status_name(c->connection));
		}
		drmModeFreeConnector(c);
		if (done) {
			printf("elapsed_ms=%ld\n", ms_since(t0));
			break;
		}
		if (now() - t0 >= o->timeout) {
			if (want_w)
				rc = fail("%s: not connected with preferred mode "
					  "%ux%u after %g s; last: %s", name,
					  want_w, want_h, o->timeout, last);
			else
				rc = fail("%s: not %s after %g s; last: %s", name,
					  status_name(want_status), o->timeout, last);
			break;
		}
		sleep_s(POLL_MS / 1000.0);
	}
	drmModeFreeResources(res);
	close(fd);
	return rc;
}

static int cmd_wait_preferred(struct opts *o)
{
	uint32_t w, h;

	if (o->npos != 2)
		return usage("usage: pva-drmtest wait-preferred CONNECTOR WxH "
			     "[--timeout SEC]");
	if (!parse_wxh(o->pos[1], &w, &h))
		return usage("wait-preferred: '%s' is not WxH", o->pos[1]);
	return wait_connector(o, o->pos[0], w, h, DRM_MODE_CONNECTED);
}

static int cmd_wait_status(struct opts *o)
{
	drmModeConnection s;

	if (o->npos != 2)
		return usage("usage: pva-drmtest wait-status CONNECTOR "
			     "connected|disconnected [--timeout SEC]");
	if (!strcmp(o->pos[1], "connected"))
		s = DRM_MODE_CONNECTED;
	else if (!strcmp(o->pos[1], "disconnected"))
		s = DRM_MODE_DISCONNECTED;
	else
		return usage("wait-status: '%s' is not connected or disconnected",
			     o->pos[1]);
	return wait_connector(o, o->pos[0], 0, 0, s);
}

/* ---- uevents ---- */

static int uevent_open(int *sockp)
{
	struct sockaddr_nl addr = {
		.nl_family = AF_NETLINK,
		.nl_groups = 1,		/* the kernel's uevents */
	};
	int bufsize = 1 << 20;
	int s;

	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (s < 0)
		return fail_errno(errno, "socket(NETLINK_KOBJECT_UEVENT)");
	/* a larger buffer, so a burst of uevents is not lost; best effort */
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;

		close(s);
		return fail_errno(err, "bind(NETLINK_KOBJECT_UEVENT)");
	}
	*sockp = s;
	return 0;
}

struct uevent {
	char buf[8192];
	const char *devname, *seqnum, *connector, *property;
};

static const char *uevent_get(const char *buf, size_t len, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		if (!strncmp(buf + i, key, klen) && buf[i + klen] == '=')
			return buf + i + klen + 1;
	return NULL;
}

/*
 * Wait until deadline for a kernel uevent SUBSYSTEM=drm HOTPLUG=1.
 * Returns 1 with *ev filled, 0 on timeout, or -1 with errno.
 * *others counts the other uevents seen.
 */
static int uevent_next_hotplug(int s, double deadline, struct uevent *ev,
			       unsigned *others)
{
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { ev->buf, sizeof(ev->buf) - 1 };
		struct msghdr mh = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		struct pollfd p = { .fd = s, .events = POLLIN };
		double left = deadline - now();
		const char *sub, *hp;
		ssize_t n;
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (!r)
			return 0;
		n = recvmsg(s, &mh, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ENOBUFS) {
				msg("warning: uevents lost (receive buffer "
				    "overrun)");
				continue;
			}
			return -1;
		}
		ev->buf[n] = '\0';
		if (from.nl_pid != 0)	/* not from the kernel */
			continue;
		sub = uevent_get(ev->buf, (size_t)n, "SUBSYSTEM");
		hp = uevent_get(ev->buf, (size_t)n, "HOTPLUG");
		if (!sub || strcmp(sub, "drm") || !hp || strcmp(hp, "1")) {
			(*others)++;
			continue;
		}
		ev->devname = uevent_get(ev->buf, (size_t)n, "DEVNAME");
		ev->seqnum = uevent_get(ev->buf, (size_t)n, "SEQNUM");
		ev->connector = uevent_get(ev->buf, (size_t)n, "CONNECTOR");
		ev->property = uevent_get(ev->buf, (size_t)n, "PROPERTY");
		return 1;
	}
}

static int cmd_wait_hotplug(struct opts *o)
{
	static struct uevent ev;
	unsigned others = 0;
	double t0;
	int s, r;

	if (o->npos)
		return usage("wait-hotplug takes no arguments");
	r = uevent_open(&s);
	if (r)
		return r;
	t0 = now();
	r = uevent_next_hotplug(s, t0 + o->timeout, &ev, &others);
	close(s);
	if (r < 0)
		return fail_errno(errno, "uevent socket");
	if (!r)
		return fail("no drm HOTPLUG=1 uevent in %g s (%u other uevents)",
			    o->timeout, others);
	printf("hotplug=1 elapsed_ms=%ld\n", ms_since(t0));
	return 0;
}

static int cmd_uevents(struct opts *o)
{
	static struct uevent ev;
	unsigned others = 0, seen = 0;
	double t0, deadline;
	int s, r, out = STDOUT_FILENO;

	if (o->npos)
		return usage("uevents takes no arguments");
	if (o->out && strcmp(o->out, "-")) {
		out = open(o->out, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
			   O_CLOEXEC, 0644);
		if (out < 0)
			return fail_errno(errno, "%s", o->out);
	}
	r = uevent_open(&s);
	if (r)
		return r;
	t0 = now();
	deadline = t0 + o->timeout;
	printf("ready\n");
	fflush(stdout);
	while (!o->count || seen < o->count) {
		r = uevent_next_hotplug(s, deadline, &ev, &others);
		if (r <= 0)
			break;
		seen++;
		/* one write(2) per line: the file is up to date at once */
		dprintf(out, "hotplug=1 index=%u elapsed_ms=%ld devname=%s "
			"seqnum=%s connector=%s property=%s\n", seen,
			ms_since(t0), ev.devname ? ev.devname : "-",
			ev.seqnum ? ev.seqnum : "-",
			ev.connector ? ev.connector : "-",
			ev.property ? ev.property : "-");
	}
	close(s);
	if (r < 0)
		return fail_errno(errno, "uevent socket");
	printf("count=%u others=%u\n", seen, others);
	if (out != STDOUT_FILENO && close(out) < 0)
		return fail_errno(errno, "%s", o->out);
	if (o->count && seen < o->count)
		return fail("%u of %u drm HOTPLUG=1 uevents in %g s", seen,
			    o->count, o->timeout);
	return 0;
}

/* ---- pattern ---- */

struct dumb {
	uint32_t handle, pitch, fb;
	uint64_t size;
	void *map;
};

static volatile sig_atomic_t flip_done;

static void on_flip(int fd, unsigned int seq, unsigned int sec,
		    unsigned int usec, void *data)
{
	(void)fd;
	(void)seq;
	(void)sec;
	(void)usec;
	(void)data;
	flip_done = 1;
}

/*
 * A mapped dumb buffer vanishing under us (the driver unbound) may raise
 * SIGBUS: say so and exit 3 if the device is gone, 1 if it is not.
 * Only async-signal-safe calls.
 */
static void on_sigbus(int sig)
{
	static const char gone[] =
		PROG ": SIGBUS in a mapped dumb buffer: the device is gone\n";
	static const char other[] =
		PROG ": SIGBUS in a mapped dumb buffer\n";
	struct drm_mode_card_res r = { 0 };
	bool is_gone;

	(void)sig;
	is_gone = card_fd >= 0 &&
		  ioctl(card_fd, DRM_IOCTL_MODE_GETRESOURCES, &r) < 0 &&
		  errno == ENODEV;
	if (is_gone) {
		if (write(STDERR_FILENO, gone, sizeof(gone) - 1) < 0)
			_exit(EXIT_GONE);
		_exit(EXIT_GONE);
	}
	if (write(STDERR_FILENO, other, sizeof(other) - 1) < 0)
		_exit(EXIT_FAIL);
	_exit(EXIT_FAIL);
}

static int dumb_create(int fd, uint32_t w, uint32_t h, struct dumb *d)
{
	uint32_t handles[4] = { 0 }, pitches[4] = { 0 }, offsets[4] = { 0 };
	uint64_t off;

	if (drmModeCreateDumbBuffer(fd, w, h, 32, 0, &d->handle, &d->pitch,
				    &d->size))
		return fail_errno(errno, "CREATE_DUMB %ux%u", w, h);
	if (d->pitch < w * 4 || d->size < (uint64_t)d->pitch * h)
		return fail("CREATE_DUMB %ux%u gave pitch %u, size %" PRIu64,
			    w, h, d->pitch, d->size);
	handles[0] = d->handle;
	pitches[0] = d->pitch;
	if (drmModeAddFB2(fd, w, h, DRM_FORMAT_XRGB8888, handles, pitches,
			  offsets, &d->fb, 0))
		return fail_errno(errno, "ADDFB2 %ux%u XRGB8888", w, h);
	if (drmModeMapDumbBuffer(fd, d->handle, &off))
		return fail_errno(errno, "MAP_DUMB");
	d->map = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      (off_t)off);
	if (d->map == MAP_FAILED) {
		d->map = NULL;
		return fail_errno(errno, "mmap of a dumb buffer");
	}
	return 0;
}

/* Undo dumb_create; errors (e.g. ENODEV) are not reported. */
static void dumb_destroy(int fd, struct dumb *d)
{
	if (d->map)
		munmap(d->map, d->size);
	if (d->fb)
		drmModeRmFB(fd, d->fb);
	if (d->handle)
		drmModeDestroyDumbBuffer(fd, d->handle);
	memset(d, 0, sizeof(*d));
}

/* A CRTC for the connector: the one driving it, else a free compatible one. */
static uint32_t pick_crtc(int fd, const drmModeRes *res,
			  const drmModeConnector *conn)
{
	uint32_t crtc = current_crtc(fd, conn);
	uint64_t used = 0;

	if (crtc)
		return crtc;
	for (int i = 0; i < res->count_connectors; i++) {
		drmModeConnector *c;
		uint32_t id;

		if (res->connectors[i] == conn->connector_id)
			continue;
		c = drmModeGetConnectorCurrent(fd, res->connectors[i]);
		if (!c)
			continue;
		id = current_crtc(fd, c);
		drmModeFreeConnector(c);
		for (int j = 0; j < res->count_crtcs && j < 64; j++)
			if (id && res->crtcs[j] == id)
				used |= 1ULL << j;
	}
	for (int e = 0; e < conn->count_encoders; e++) {
		drmModeEncoder *enc = drmModeGetEncoder(fd, conn->encoders[e]);

		if (!enc)
			continue;
		for (int j = 0; j < res->count_crtcs && j < 32 && !crtc; j++)
			if ((enc->possible_crtcs & (1U << j)) &&
			    !(used & (1ULL << j)))
				crtc = res->crtcs[j];
		drmModeFreeEncoder(enc);
		if (crtc)
			return crtc;
	}
	return 0;
}

/* The connector's mode of w x h (w 0: its preferred, else its first). */
static const drmModeModeInfo *pick_mode(const drmModeConnector *c, uint32_t w,
					uint32_t h)
{
	const drmModeModeInfo *m = NULL;

	if (!w) {
		m = preferred_mode(c);
		return m ? m : (c->count_modes ? &c->modes[0] : NULL);
	}
	for (int i = 0; i < c->count_modes; i++) {
		if (c->modes[i].hdisplay != w || c->modes[i].vdisplay != h)
			continue;
		if (!m || (c->modes[i].type & DRM_MODE_TYPE_PREFERRED))
			m = &c->modes[i];
	}
	return m;
}

/* Wait (5 s at most) for the page-flip event. Returns 0 or the status. */
static int wait_flip(int fd, uint32_t frame)
{
	drmEventContext evctx = {
		.version = 2,
		.page_flip_handler = on_flip,
	};
	double deadline = now() + FLIP_TIMEOUT_MS / 1000.0;

	while (!flip_done) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = deadline - now();
		int r;

		if (left <= 0)
			return fail("frame %u: no page-flip event in %d s", frame,
				    FLIP_TIMEOUT_MS / 1000);
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail_errno(errno, "poll on the card");
		if (r && drmHandleEvent(fd, &evctx))
			return fail_errno(errno ? errno : EIO,
					  "frame %u: reading the event", frame);
	}
	return 0;
}

/*
 * Keep the device open for sec seconds, checking every 100 ms that it is
 * still there. Returns 0, or 3 when it went away.
 */
static int hold_device(int fd, uint32_t crtc, double sec)
{
	double deadline = now() + sec;

	printf("hold=%g\n", sec);
	fflush(stdout);
	while (now() < deadline) {
		drmModeCrtc *c;
		double left = deadline - now();

		sleep_s(left < POLL_MS / 1000.0 ? left : POLL_MS / 1000.0);
		c = drmModeGetCrtc(fd, crtc);
		if (!c) {
			int err = errno;

			if (err == ENODEV) {
				msg("the device went away during --hold "
				    "(GETCRTC: %s)", strerror(err));
				return EXIT_GONE;
			}
			return fail_errno(err, "GETCRTC %u during --hold", crtc);
		}
		drmModeFreeCrtc(c);
	}
	return 0;
}

static int run_pattern(struct opts *o, int fd, const drmModeRes *res,
		       struct dumb *buf, uint32_t *col, uint32_t *row,
		       size_t ncol, size_t nrow)
{
	const drmModeModeInfo *mode;
	drmModeConnector *conn;
	char name[64];
	uint32_t w, h, crtc, flips = 0, bad_x, bad_y, bad_px, last;
	uint64_t hash;
	double t0, t;
	int rc = 0, nbuf = (o->given & O_DIRTY) ? 1 : 2;

	conn = find_connector(fd, res, o->connector, &rc);
	if (!conn)
		return rc;
	connector_name(conn, name, sizeof(name));
	if (conn->connection != DRM_MODE_CONNECTED)
		msg("warning: %s is %s", name, status_name(conn->connection));
	mode = pick_mode(conn, (o->given & O_MODE) ? o->w : 0, o->h);
	if (!mode) {
		if (o->given & O_MODE)
			rc = fail("%s offers no %ux%u mode (%d modes; see "
				  "pva-drmtest list)", name, o->w, o->h,
				  conn->count_modes);
		else
			rc = fail("%s has no modes", name);
		goto out;
	}
	w = mode->hdisplay;
	h = mode->vdisplay;
	if (w > ncol || h > nrow) {
		rc = fail("%s: mode %ux%u is larger than %d", name, w, h, MAX_DIM);
		goto out;
	}
	crtc = pick_crtc(fd, res, conn);
	if (!crtc) {
		rc = fail("%s: no free CRTC for its encoders", name);
		goto out;
	}
	for (int i = 0; i < nbuf; i++) {
		rc = dumb_create(fd, w, h, &buf[i]);
		if (rc)
			goto out;
	}
	printf("connector=%s crtc=%u mode=%ux%u\n", name, crtc, w, h);

	/* frame 0 into buffer 0, then the legacy mode set */
	pattern_tables(0, o->seed, w, h, col, row);
	draw(buf[0].map, buf[0].pitch, w, h, col, row);
	if (drmModeSetCrtc(fd, crtc, buf[0].fb, 0, 0, &conn->connector_id, 1,
			   (drmModeModeInfo *)mode)) {
		int err = errno;

		rc = fail_errno(err, "%s: SETCRTC %ux%u on CRTC %u%s", name, w, h,
				crtc, err == EACCES ? NOT_MASTER : "");
		goto out;
	}

	t0 = now();
	for (uint32_t f = 1; f < o->frames; f++) {
		struct dumb *b = &buf[(o->given & O_DIRTY) ? 0 : f % 2];

		pattern_tables(f, o->seed, w, h, col, row);
		draw(b->map, b->pitch, w, h, col, row);
		if (o->given & O_DIRTY) {
			drmModeClip clips[MAX_CLIPS];
			uint32_t k = o->clips < h ? o->clips : h;

			for (uint32_t i = 0; i < k; i++) {
				clips[i].x1 = 0;
				clips[i].x2 = (uint16_t)w;
				clips[i].y1 = (uint16_t)((uint64_t)h * i / k);
				clips[i].y2 = (uint16_t)((uint64_t)h * (i + 1) / k);
			}
			if (drmModeDirtyFB(fd, b->fb, clips, k)) {
				rc = fail_errno(errno, "frame %u: DIRTYFB with "
						"%u clips", f, k);
				goto out;
			}
			continue;
		}
		flip_done = 0;
		if (drmModePageFlip(fd, crtc, b->fb, DRM_MODE_PAGE_FLIP_EVENT,
				    NULL)) {
			rc = fail_errno(errno, "frame %u: PAGE_FLIP", f);
			goto out;
		}
		rc = wait_flip(fd, f);
		if (rc)
			goto out;
		flips++;
	}
	t = now() - t0;

	last = o->frames - 1;
	if (!hash_buffer(buf[(o->given & O_DIRTY) ? 0 : last % 2].map,
			 buf[(o->given & O_DIRTY) ? 0 : last % 2].pitch, w, h,
			 col, row, &hash, &bad_x, &bad_y, &bad_px)) {
		rc = fail("frame %u: the buffer reads back 0x%08x at (%u, %u), "
			  "0x%08x was written", last, bad_px, bad_x, bad_y,
			  col[bad_x] ^ row[bad_y]);
		goto out;
	}
	printf("width=%u height=%u frames=%u fnv=%016" PRIx64 " flips=%u\n",
	       w, h, o->frames, hash, flips);
	printf("fps=%.2f\n", o->frames > 1 && t > 0 ? (o->frames - 1) / t : 0.0);
	fflush(stdout);
	if (o->given & O_BLANK) {
		if (set_dpms(fd, conn->connector_id, DRM_MODE_DPMS_OFF)) {
			rc = fail_errno(errno, "DPMS off");
			goto out;
		}
		printf("blanked=1\n");
		fflush(stdout);
		usleep((useconds_t)(o->blank * 1e6));
		if (set_dpms(fd, conn->connector_id, DRM_MODE_DPMS_ON)) {
			rc = fail_errno(errno, "DPMS on");
			goto out;
		}
		printf("unblanked=1\n");
		fflush(stdout);
	}
	if (o->hold > 0)
		rc = hold_device(fd, crtc, o->hold);
out:
	drmModeFreeConnector(conn);
	return rc;
}

static int cmd_pattern(struct opts *o)
{
	struct dumb buf[2] = { 0 };
	struct sigaction sa = { .sa_handler = on_sigbus };
	uint32_t *col, *row;
	drmModeRes *res;
	int fd, rc;

	if (o->npos)
		return usage("pattern takes no arguments, only options");
	if ((o->given & O_CLIPS) && !(o->given & O_DIRTY))
		return usage("pattern: --clips goes with --dirty");
	col = malloc(MAX_DIM * sizeof(*col));
	row = malloc(MAX_DIM * sizeof(*row));
	if (!col || !row) {
		rc = fail("out of memory");
		goto out;
	}
	rc = open_card(o->card, &fd, &res);
	if (rc)
		goto out;
	sigaction(SIGBUS, &sa, NULL);
	rc = run_pattern(o, fd, res, buf, col, row, MAX_DIM, MAX_DIM);
	/* after ENODEV, these fail too: they must fail cleanly */
	dumb_destroy(fd, &buf[0]);
	dumb_destroy(fd, &buf[1]);
	drmModeFreeResources(res);
	card_fd = -1;
	close(fd);
out:
	free(col);
	free(row);
	return rc;
}

static int cmd_fnv(struct opts *o)
{
	uint64_t hash = FNV_OFFSET;
	uint32_t *col, *row;

	if (o->npos)
		return usage("fnv takes no arguments, only options");
	if (!(o->given & O_MODE))
		return usage("usage: pva-drmtest fnv --mode WxH [--frame F] "
			     "[--seed S]");
	col = malloc(o->w * sizeof(*col));
	row = malloc(o->h * sizeof(*row));
	if (!col || !row) {
		free(col);
		free(row);
		return fail("out of memory");
	}
	pattern_tables(o->frame, o->seed, o->w, o->h, col, row);
	for (uint32_t y = 0; y < o->h; y++)
		for (uint32_t x = 0; x < o->w; x++)
			hash = fnv_pixel(hash, col[x] ^ row[y]);
	printf("fnv=%016" PRIx64 "\n", hash);
	free(col);
	free(row);
	return 0;
}

/* ---- off ---- */

static int cmd_off(struct opts *o)
{
	drmModeConnector *conn = NULL;
	drmModeRes *res;
	char name[64];
	uint32_t crtc;
	int fd, rc;

	if (o->npos)
		return usage("off takes no arguments, only options");
	rc = open_card(o->card, &fd, &res);
	if (rc)
		return rc;
	if (o->connector) {
		conn = find_connector(fd, res, o->connector, &rc);
	} else {
		/* the first connector with a CRTC, else the first connected */
		for (int i = 0; i < res->count_connectors && !conn; i++) {
			conn = drmModeGetConnector(fd, res->connectors[i]);
			if (conn && !current_crtc(fd, conn)) {
				drmModeFreeConnector(conn);
				conn = NULL;
			}
		}
		if (!conn)
			conn = find_connector(fd, res, NULL, &rc);
	}
	if (!conn)
		goto out;
	connector_name(conn, name, sizeof(name));
	crtc = current_crtc(fd, conn);
	if (crtc && drmModeSetCrtc(fd, crtc, 0, 0, 0, NULL, 0, NULL)) {
		int err = errno;

		rc = fail_errno(err, "%s: SETCRTC off on CRTC %u%s", name, crtc,
				err == EACCES ? NOT_MASTER : "");
		goto out;
	}
	printf("off=1 connector=%s crtc=%u\n", name, crtc);
	fflush(stdout);
	if (crtc && o->hold > 0)
		rc = hold_device(fd, crtc, o->hold);
out:
	drmModeFreeConnector(conn);
	drmModeFreeResources(res);
	close(fd);
	return rc;
}

/* ---- main ---- */

static const struct cmd {
	const char *name;
	unsigned opts;
	int (*run)(struct opts *o);
} cmds[] = {
	{ "list", O_CARD, cmd_list },
	{ "wait-preferred", O_CARD | O_TIMEOUT, cmd_wait_preferred },
	{ "wait-status", O_CARD | O_TIMEOUT, cmd_wait_status },
	{ "wait-hotplug", O_TIMEOUT, cmd_wait_hotplug },
	{ "uevents", O_COUNT | O_TIMEOUT | O_OUT, cmd_uevents },
	{ "pattern", O_CARD | O_CONNECTOR | O_MODE | O_FRAMES | O_SEED |
		     O_HOLD | O_DIRTY | O_CLIPS | O_BLANK, cmd_pattern },
	{ "fnv", O_MODE | O_FRAME | O_SEED, cmd_fnv },
	{ "off", O_CARD | O_CONNECTOR | O_HOLD, cmd_off },
};

int main(int argc, char **argv)
{
	struct opts o = {
		.card = DEFAULT_CARD,
		.frames = DEFAULT_FRAMES,
		.clips = 1,
		.timeout = DEFAULT_TIMEOUT,
	};
	const struct cmd *cmd = NULL;
	int i = 1, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int j = 1; j < argc; j++)
		if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		}
	/* --card may also come before the command */
	while (i < argc && !strncmp(argv[i], "--card", 6)) {
		if (argv[i][6] == '=') {
			o.card = argv[i] + 7;
		} else if (!argv[i][6] && i + 1 < argc) {
			o.card = argv[++i];
		} else {
			return usage("unknown option '%s'", argv[i]);
		}
		i++;
	}
	if (i >= argc)
		return usage("no command given");
	for (size_t j = 0; j < sizeof(cmds) / sizeof(cmds[0]); j++)
		if (!strcmp(argv[i], cmds[j].name))
			cmd = &cmds[j];
	if (!cmd)
		return usage("unknown command '%s'", argv[i]);
	rc = parse_args(&o, cmd->name, cmd->opts, argc - i - 1, argv + i + 1);
	if (rc)
		return rc;
	return cmd->run(&o);
}
