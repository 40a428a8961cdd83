/* SPDX-License-Identifier: MIT */
/*
 * The Wayland backend's parts (private to wayland*.c): the connection
 * (wayland.c), the clipboard through data-control (wayland_clip.c) and the
 * display layout through wlr-output-management (wayland_output.c).
 */
#ifndef PVA_AGENT_WAYLAND_INT_H
#define PVA_AGENT_WAYLAND_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <wayland-client.h>

#include "agent.h"

struct wlc;
struct wlo;

struct backend {
	struct agent *a;
	struct loop *loop;
	struct wl_display *display;
	struct wl_registry *registry;
	struct loop_source *src;	/* the display's fd */
	bool want_out;			/* EPOLLOUT: the socket is full */
	bool lost;
	struct wl_seat *seat;
	uint32_t seat_name;		/* its registry name */
	struct wlc *clip;		/* NULL: no clipboard */
	struct wlo *out;		/* NULL: no output management */
	struct wlb_globals *globals;	/* what open() found; only there */
};

/* Milliseconds on the monotonic clock. */
uint64_t wlb_now_ms(void);

/* ---- wayland_clip.c ---- */

/* How much data-control protocol @interface is worth: 0 none, higher is
 * better (ext over wlr).
 */
int wlc_rank(const char *interface);
/* Bind data-control global @name (@interface, @version) and get the data
 * device of b->seat; NULL (logged) when that fails.
 */
struct wlc *wlc_new(struct backend *b, const char *interface, uint32_t name,
		    uint32_t version);
void wlc_free(struct wlc *c);
/* The seat went away: the clipboard stops. */
void wlc_seat_gone(struct wlc *c);
void wlc_host_grab(struct wlc *c, unsigned int sel,
		   const struct clip_types *types);
void wlc_release(struct wlc *c);
void wlc_read(struct wlc *c, unsigned int sel, const char *type,
	      uint32_t id);
void wlc_cancel_read(struct wlc *c, uint32_t id);

/* ---- wayland_output.c ---- */

struct wlo *wlo_new(struct backend *b, uint32_t name, uint32_t version);
/* After the roundtrip that brought the heads: what the session shows now
 * is no news to report.
 */
void wlo_ready(struct wlo *o);
void wlo_free(struct wlo *o);
/* wl_output global @name came or went. */
void wlo_output_add(struct wlo *o, uint32_t name, uint32_t version);
void wlo_output_remove(struct wlo *o, uint32_t name);
void wlo_apply(struct wlo *o, const struct layout *l);

#endif
