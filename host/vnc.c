// SPDX-License-Identifier: MIT
/*
 * VNC view of a guest head, with libvncserver, polled from the worker's
 * event loop (no threads: the service and the viewer share one loop). We
 * keep our own copy of the picture in libvncserver's default pixel format
 * (red in the low byte), so the screenshots' copy is never touched and a
 * resize never leaves libvncserver with a freed buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"
#include "vnc.h"

#define VNC_POLL_MS	15
#define BLACK_W		640
#define BLACK_H		480

struct vnc {
	rfbScreenInfoPtr screen;
	struct loop_source *timer;
	uint32_t *fb;			/* what viewers see */
	unsigned int width, height;
	const uint32_t *src;		/* the head's picture, or NULL */
	vnc_resize_fn resize;
	void *data;
	char address[64];
};

static void vnc_log(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	buf[strcspn(buf, "\n")] = 0;
	log_debug("vnc: %s", buf);
}

static void vnc_poll(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct vnc *v = data;

	(void)loop;
	(void)fd;
	(void)events;
	rfbProcessEvents(v->screen, 0);
}

/* A viewer resized its window: ExtendedDesktopSize's SetDesktopSize. */
static int vnc_set_desktop_size(int width, int height, int nscreens,
				struct rfbExtDesktopScreen *screens,
				rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	(void)nscreens;
	(void)screens;
	if (width <= 0 || height <= 0)
		return rfbExtDesktopSize_InvalidScreenLayout;
	log_info("vnc: a viewer asks for %dx%d", width, height);
	v->resize(v->data, (unsigned int)width, (unsigned int)height);
	/* the guest follows; its new scanout resizes the view */
	return rfbExtDesktopSize_Success;
}

static void view_only_key(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
	(void)down;
	(void)sym;
	(void)cl;
}

static void view_only_ptr(int buttons, int x, int y, rfbClientPtr cl)
{
	(void)buttons;
	(void)x;
	(void)y;
	(void)cl;
}

/* "5900" or "HOST:5900" */
static int parse_addr(const char *addr, in_addr_t *ip, int *port)
{
	const char *colon = strrchr(addr, ':');
	char host[64] = "127.0.0.1", *end;
	long p;

	if (colon) {
		if ((size_t)(colon - addr) >= sizeof(host) || colon == addr)
			return -1;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = 0;
		addr = colon + 1;
	}
	p = strtol(addr, &end, 10);
	if (!*addr || *end || p < 1 || p > 65535)
		return -1;
	if (inet_pton(AF_INET, host, ip) != 1)
		return -1;
	*port = (int)p;
	return 0;
}

struct vnc *vnc_new(struct loop *loop, const char *addr, vnc_resize_fn resize,
		    void *data, char *err, size_t errlen)
{
	struct vnc *v = calloc(1, sizeof(*v));
	int argc = 1, port;
	char *argv[] = { "pva-host", NULL };
	in_addr_t ip;

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (parse_addr(addr, &ip, &port) < 0) {
		snprintf(err, errlen, "'%s' is not PORT or IPV4:PORT", addr);
		goto fail;
	}
	rfbLog = vnc_log;
	rfbErr = vnc_log;
	v->resize = resize;
	v->data = data;
	v->width = BLACK_W;
	v->height = BLACK_H;
	v->fb = calloc((size_t)BLACK_W * BLACK_H, 4);
	v->screen = rfbGetScreen(&argc, argv, BLACK_W, BLACK_H, 8, 3, 4);
	if (!v->fb || !v->screen) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	v->screen->frameBuffer = (char *)v->fb;
	v->screen->desktopName = "pva guest";
	v->screen->alwaysShared = TRUE;
	v->screen->port = port;
	v->screen->ipv6port = 0;
	v->screen->listenInterface = ip;
	v->screen->httpDir = NULL;
	v->screen->cursor = NULL;	/* never drawn into the picture */
	v->screen->kbdAddEvent = view_only_key;
	v->screen->ptrAddEvent = view_only_ptr;
	v->screen->setDesktopSizeHook = vnc_set_desktop_size;
	v->screen->screenData = v;
	rfbInitServer(v->screen);
	if (v->screen->listenSock < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr,
			 strerror(errno));
		goto fail;
	}
	v->timer = loop_add_timer(loop, VNC_POLL_MS, vnc_poll, v);
	if (!v->timer) {
		snprintf(err, errlen, "no timer");
		goto fail;
	}
	snprintf(v->address, sizeof(v->address), "%s", addr);
	return v;
fail:
	vnc_free(v);
	return NULL;
}

void vnc_free(struct vnc *v)
{
	if (!v)
		return;
	if (v->timer)
		loop_remove(v->timer);
	if (v->screen) {
		rfbShutdownServer(v->screen, TRUE);
		rfbScreenCleanup(v->screen);
	}
	free(v->fb);
	free(v);
}

static void convert(struct vnc *v, unsigned int x, unsigned int y,
		    unsigned int w, unsigned int h)
{
	for (unsigned int r = y; r < y + h; r++) {
		const uint32_t *s = v->src + (size_t)r * v->width + x;
		uint32_t *d = v->fb + (size_t)r * v->width + x;

		for (unsigned int i = 0; i < w; i++) {
			uint32_t p = s[i];

			/* xRGB to xBGR */
			d[i] = (p & 0xff00) | ((p >> 16) & 0xff) |
			       ((p & 0xff) << 16);
		}
	}
}

void vnc_set_picture(struct vnc *v, uint32_t *px, unsigned int width,
		     unsigned int height)
{
	uint32_t *old = NULL;

	if (!px) {
		width = v->width;	/* black, same size */
		height = v->height;
	}
	if (width != v->width || height != v->height) {
		uint32_t *fb = calloc((size_t)width * height, 4);

		if (!fb) {
			log_warn("vnc: no memory for a %ux%u view", width,
				 height);
			px = NULL;
		} else {
			old = v->fb;
			v->fb = fb;
			v->width = width;
			v->height = height;
			rfbNewFramebuffer(v->screen, (char *)fb, (int)width,
					  (int)height, 8, 3, 4);
		}
	}
	v->src = px;
	if (px)
		convert(v, 0, 0, v->width, v->height);
	else
		memset(v->fb, 0, (size_t)v->width * v->height * 4);
	rfbMarkRectAsModified(v->screen, 0, 0, (int)v->width, (int)v->height);
	free(old);
}

void vnc_damage(struct vnc *v, unsigned int x, unsigned int y,
		unsigned int width, unsigned int height)
{
	if (!v->src || x + width > v->width || y + height > v->height)
		return;
	convert(v, x, y, width, height);
	rfbMarkRectAsModified(v->screen, (int)x, (int)y, (int)(x + width),
			      (int)(y + height));
}

unsigned int vnc_viewers(const struct vnc *v)
{
	rfbClientIteratorPtr it = rfbGetClientIterator(v->screen);
	unsigned int n = 0;

	while (rfbClientIteratorNext(it))
		n++;
	rfbReleaseClientIterator(it);
	return n;
}

const char *vnc_address(const struct vnc *v)
{
	return v->address;
}
