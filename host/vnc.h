/* SPDX-License-Identifier: MIT */
/*
 * A live view of one guest head over VNC (libvncserver), run from the
 * worker's event loop. View only: no keyboard or mouse goes to the guest.
 * A viewer that resizes its window asks for another size (ExtendedDesktop
 * Size); the display service turns that into a new layout for the guest.
 */
#ifndef PVA_HOST_VNC_H
#define PVA_HOST_VNC_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct vnc;

typedef void (*vnc_resize_fn)(void *data, unsigned int width,
			      unsigned int height);

/* Listen on @addr ("PORT" on 127.0.0.1, or "HOST:PORT"). NULL on error,
 * with a message in @err.
 */
struct vnc *vnc_new(struct loop *loop, const char *addr, vnc_resize_fn resize,
		    void *data, char *err, size_t errlen);
void vnc_free(struct vnc *v);
/* Show @px (@width x @height XRGB8888, tightly packed, owned by the
 * caller until the next call), or a black screen for NULL.
 */
void vnc_set_picture(struct vnc *v, uint32_t *px, unsigned int width,
		     unsigned int height);
/* These pixels of the picture changed. */
void vnc_damage(struct vnc *v, unsigned int x, unsigned int y,
		unsigned int width, unsigned int height);
unsigned int vnc_viewers(const struct vnc *v);
const char *vnc_address(const struct vnc *v);

#endif
