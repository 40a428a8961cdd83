/* SPDX-License-Identifier: MIT */
/*
 * pva-agent, the desktop session's agent: its core (agent.c) talks to
 * pva-service over the local socket (PROTOCOL.md 6.8.6); a backend (x11.c
 * or wayland.c) talks to the session's display server. This header is the
 * contract between the two.
 *
 * Everything runs on one thread and one event loop (common/loop.h): the
 * backend registers its display connection's descriptor there itself.
 *
 * Clipboard, seen from the backend:
 *  - the session's selection got a new owner that is not the backend
 *    itself: agent_local_grab() with its MIME types (none: it is empty);
 *  - the host owns a selection now: ops->host_grab(); the backend takes
 *    the selection and serves it, getting the content with
 *    agent_fetch_host() when a client pastes;
 *  - the host wants the session's content: ops->read_content(); the
 *    backend reads it from the owner and answers with agent_content().
 * Contents are whole buffers (malloc'd; whoever receives one frees it),
 * at most agent_clip_max() bytes. Plain text is "text/plain;charset=utf-8"
 * towards the core, whatever the display server calls it.
 */
#ifndef PVA_AGENT_AGENT_H
#define PVA_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_msg.h"

#define PVA_AGENT_VERSION_STRING	"0.1.0"
#define MIME_TEXT	"text/plain;charset=utf-8"

struct agent;
struct backend;
struct loop;

struct agent_options {
	const char *kind;	/* "x11", "wayland" or NULL: from the session */
	const char *socket;	/* pva-service's socket */
	bool clipboard;		/* sync the clipboard (CLIPBOARD) */
	bool primary;		/* also PRIMARY */
	bool display;		/* apply the host's layout */
	uint64_t clip_max;	/* our own bound on contents */
};

/* A display layout, host order: head n is output Virtual-(n+1), or the
 * n-th output of the session.
 */
struct layout_head {
	bool on;
	uint32_t width, height, x, y;
};

struct layout {
	uint32_t generation;
	unsigned int nr_heads;
	struct layout_head head[PVA_DISPLAY_MAX_HEADS];
};

struct backend_ops {
	const char *kind;
	/* Connect to the session's display server and register with @loop;
	 * NULL (after logging why) when it cannot.
	 */
	struct backend *(*open)(struct agent *a, struct loop *loop,
				const struct agent_options *opt);
	void (*close)(struct backend *b);
	/* The host owns @sel now with these types; none: make it empty. */
	void (*host_grab)(struct backend *b, unsigned int sel,
			  const struct clip_types *types);
	/* This session is no longer the one the host sees: give up the
	 * selections held for the host.
	 */
	void (*release)(struct backend *b);
	/* The host asks for the session's content of @sel as @type: answer
	 * with agent_content(a, id, ...), at once or later.
	 */
	void (*read_content)(struct backend *b, unsigned int sel,
			     const char *type, uint32_t id);
	/* The host gave up request @id: no agent_content() for it. */
	void (*cancel_read)(struct backend *b, uint32_t id);
	/* Show @l; answer with agent_layout_done(), at once or later. */
	void (*apply_layout)(struct backend *b, const struct layout *l);
};

extern const struct backend_ops x11_backend_ops;
extern const struct backend_ops wayland_backend_ops;

/* ---- for backends ---- */

/* The session's selection @sel has a new owner (not the backend): its
 * types; NULL or none: the selection is empty.
 */
void agent_local_grab(struct agent *a, unsigned int sel,
		      const struct clip_types *types);

/* @done gets the host's content of @sel as @type: status PVA_S_OK and
 * the data (malloc'd, the callee frees it), or an error and NULL.
 */
typedef void (*agent_fetch_done)(void *ctx, uint32_t status, uint8_t *data,
				 size_t len);
/* Start a fetch; returns its handle (never 0). @done may be called before
 * this returns (content in the cache, or no host grab).
 */
uint32_t agent_fetch_host(struct agent *a, unsigned int sel,
			  const char *type, agent_fetch_done done, void *ctx);
/* Forget a fetch: @done is not called for it. */
void agent_fetch_cancel(struct agent *a, uint32_t handle);

/* The answer to read_content @id: PVA_S_OK and the content (ownership
 * taken, also on error), or an error status (PROTOCOL.md 6.8.3) and NULL.
 */
void agent_content(struct agent *a, uint32_t id, uint32_t status,
		   uint8_t *data, size_t len);

/* The answer to apply_layout, or (generation 0) a change the session
 * made by itself. @now: what the session shows.
 */
void agent_layout_done(struct agent *a, uint32_t generation,
		       uint32_t status, const struct layout *now);

uint64_t agent_clip_max(const struct agent *a);
/* Is PRIMARY synced too? */
bool agent_sync_primary(const struct agent *a);
/* The display server went away: the agent exits. */
void agent_backend_lost(struct agent *a, const char *why);

/* ---- main.c ---- */

/* Run until the display server goes away (0) or a fatal error (1). */
int agent_run(const struct agent_options *opt);

#endif
