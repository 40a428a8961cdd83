/* SPDX-License-Identifier: MIT */
/* A small epoll event loop: file descriptors and periodic timers. */
#ifndef PVA_HOST_LOOP_H
#define PVA_HOST_LOOP_H

#include <stdint.h>

struct loop;
struct loop_source;

typedef void (*loop_cb)(struct loop *loop, int fd, uint32_t events,
			void *data);

struct loop *loop_new(void);
void loop_free(struct loop *loop);

/* Watch @fd for EPOLL* @events. The loop does not own @fd. */
struct loop_source *loop_add_fd(struct loop *loop, int fd, uint32_t events,
				loop_cb cb, void *data);
int loop_mod_fd(struct loop_source *src, uint32_t events);
/* Safe to call from inside any callback, also for @src's own. */
void loop_remove(struct loop_source *src);

/* Call @cb every @interval_ms (the fd argument is the timerfd). */
struct loop_source *loop_add_timer(struct loop *loop, unsigned interval_ms,
				   loop_cb cb, void *data);

/*
 * Called before the loop waits, also after callbacks that queued work
 * without a descriptor becoming ready (a display connection's buffered
 * requests and events: XFlush/XPending, wl_display_flush/dispatch_pending).
 * Returns the longest wait in ms (-1: no limit). One per loop.
 */
typedef int (*loop_prepare_fn)(struct loop *loop, void *data);
void loop_set_prepare(struct loop *loop, loop_prepare_fn fn, void *data);

int loop_run(struct loop *loop);	/* until loop_quit(); 0 or -errno */
void loop_quit(struct loop *loop, int status);

#endif
