/* SPDX-License-Identifier: MIT */
/*
 * The X11 backend's insides: the connection (x11.c), shared by the
 * clipboard (x11_clip.c) and the display layout (x11_randr.c).
 *
 * One thread, one Xlib connection, registered with the agent's loop. The
 * connection may die under any request: then x->lost is set (by the IO
 * error handlers) and nothing may send requests any more, because Xlib
 * would spin or crash on a dead connection.
 */
#ifndef PVA_AGENT_X11_INT_H
#define PVA_AGENT_X11_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <X11/Xlib.h>

#include "agent.h"

/* The atoms every part uses, interned together in one round trip. */
enum x11_atom {
	X11_CLIPBOARD,
	X11_TARGETS,
	X11_TIMESTAMP,
	X11_MULTIPLE,
	X11_INCR,
	X11_UTF8_STRING,
	X11_TEXT,
	X11_COMPOUND_TEXT,
	X11_MIME_TEXT,		/* "text/plain;charset=utf-8" */
	X11_TEXT_PLAIN,		/* "text/plain" */
	X11_PVA_TIME,		/* our property for server timestamps */
	X11_NR_ATOMS
};

struct x11_clip;
struct x11_randr;

struct x11 {
	struct agent *a;
	struct loop *loop;
	Display *dpy;
	Window root;
	Window win;		/* ours: owns selections for the host,
				 * receives properties
				 */
	bool lost;		/* the connection is dead */
	Atom atom[X11_NR_ATOMS];
	struct loop_source *src;
	struct x11_clip *clip;	/* NULL: no selection is synced */
	struct x11_randr *randr;	/* NULL: no layouts */
};

/* ---- x11.c ---- */

/* Milliseconds on a monotonic clock, for timeouts. */
uint64_t x11_now_ms(void);
/* Ask the server for its current time: x11_clip_time() gets it. */
void x11_want_time(struct x11 *x);
/* Errors of the requests between begin and end (which syncs) are
 * collected instead of logged: end returns the first error code, or 0.
 */
void x11_trap_begin(struct x11 *x);
int x11_trap_end(struct x11 *x);

/* ---- x11_clip.c ---- */

struct x11_clip *x11_clip_open(struct x11 *x,
			       const struct agent_options *opt);
void x11_clip_close(struct x11_clip *c);
/* An event for the clipboard? Handles it and returns true. */
bool x11_clip_event(struct x11_clip *c, XEvent *ev);
/* The server time x11_want_time() asked for. */
void x11_clip_time(struct x11_clip *c, Time t);
/* Expire timeouts; returns the next deadline (x11_now_ms), or 0. */
uint64_t x11_clip_tick(struct x11_clip *c, uint64_t now);
void x11_clip_host_grab(struct x11_clip *c, unsigned int sel,
			const struct clip_types *types);
void x11_clip_release(struct x11_clip *c);
void x11_clip_read(struct x11_clip *c, unsigned int sel, const char *type,
		   uint32_t id);
void x11_clip_cancel(struct x11_clip *c, uint32_t id);

/* ---- x11_randr.c ---- */

/* NULL (logged) when the server has no RandR 1.3. */
struct x11_randr *x11_randr_open(struct x11 *x);
void x11_randr_close(struct x11_randr *r);
bool x11_randr_event(struct x11_randr *r, XEvent *ev);
uint64_t x11_randr_tick(struct x11_randr *r, uint64_t now);
void x11_randr_apply(struct x11_randr *r, const struct layout *l);

#endif
