// SPDX-License-Identifier: MIT
/*
 * pva-agent's Wayland backend: the connection to the compositor, its
 * globals and its place in the agent's event loop. The clipboard
 * (data-control) is in wayland_clip.c, the display layout
 * (wlr-output-management) in wayland_output.c.
 */
#include "wayland_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "log.h"
#include "loop.h"
#include "wlr-output-management-unstable-v1-client-protocol.h"

#define MAX_SEATS	8
#define MAX_OUTPUTS	16
/* wl_seat's name event came with version 2; nothing newer is needed */
#define SEAT_VERSION	2

struct seat_global {
	uint32_t name, version;
	struct wl_seat *seat;		/* bound only to learn its name */
	char seat_name[64];
};

/* The globals of interest, collected by the first roundtrip. */
struct wlb_globals {
	struct seat_global seat[MAX_SEATS];
	unsigned int nr_seats;
	int dc_rank;			/* of the best data-control one */
	char dc_interface[64];
	uint32_t dc_name, dc_version;
	uint32_t om_name, om_version;	/* wlr-output-management */
	struct {
		uint32_t name, version;
	} output[MAX_OUTPUTS];		/* wl_output */
	unsigned int nr_outputs;
};

uint64_t wlb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the connection in the loop ---- */

/*
 * The compositor is gone, or it cut us off (@err: errno of the failed
 * call, when the display has no error of its own): tell the core, once.
 */
static void lost(struct backend *b, int err)
{
	const struct wl_interface *iface = NULL;
	const char *why;
	uint32_t id = 0, code;

	if (b->lost)
		return;
	b->lost = true;
	if (wl_display_get_error(b->display))
		err = wl_display_get_error(b->display);
	if (err == EPROTO) {
		code = wl_display_get_protocol_error(b->display, &iface, &id);
		/* a protocol error is a bug on one side: say where */
		log_err("wayland: protocol error %u on %s@%u", code,
			iface ? iface->name : "?", id);
		why = "the compositor reported a protocol error";
	} else if (err == EPIPE || err == ECONNRESET || !err) {
		why = "the compositor closed the connection";
	} else {
		why = strerror(err);
	}
	loop_remove(b->src);
	b->src = NULL;
	agent_backend_lost(b->a, why);
}

static void flush(struct backend *b)
{
	bool full;

	if (wl_display_flush(b->display) >= 0) {
		full = false;
	} else if (errno == EAGAIN) {
		full = true;
	} else {
		lost(b, errno);
		return;
	}
	/* a full socket: the rest goes when it can take more */
	if (full != b->want_out && b->src) {
		b->want_out = full;
		loop_mod_fd(b->src, EPOLLIN | (full ? EPOLLOUT : 0));
	}
}

/* Before the loop sleeps: handle what is queued, send what we wrote. */
static int prepare(struct loop *loop, void *data)
{
	struct backend *b = data;

	(void)loop;
	if (b->lost)
		return -1;
	if (wl_display_dispatch_pending(b->display) < 0) {
		lost(b, errno);
		return -1;
	}
	flush(b);
	return -1;
}

static void display_event(struct loop *loop, int fd, uint32_t events,
			  void *data)
{
	struct backend *b = data;

	(void)loop;
	(void)fd;
	if (events & EPOLLOUT)
		flush(b);
	if (b->lost || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	/* the one-reader protocol of libwayland, without blocking: the
	 * descriptor is readable, so read_events() does not wait
	 */
	while (wl_display_prepare_read(b->display) != 0) {
		if (wl_display_dispatch_pending(b->display) < 0) {
			lost(b, errno);
			return;
		}
	}
	if (wl_display_read_events(b->display) < 0 ||
	    wl_display_dispatch_pending(b->display) < 0)
		lost(b, errno);
}

/* ---- globals ---- */

static void seat_caps(void *data, struct wl_seat *seat, uint32_t caps)
{
	(void)data;
	(void)seat;
	(void)caps;
}

static void seat_name(void *data, struct wl_seat *seat, const char *name)
{
	struct seat_global *g = data;

	(void)seat;
	if (g && name)
		snprintf(g->seat_name, sizeof(g->seat_name), "%s", name);
}

static const struct wl_seat_listener seat_listener = {
	.capabilities = seat_caps,
	.name = seat_name,
};

static void global_add(void *data, struct wl_registry *reg, uint32_t name,
		       const char *interface, uint32_t version)
{
	struct backend *b = data;
	struct wlb_globals *g = b->globals;
	int rank;

	(void)reg;
	if (!interface)
		return;
	if (!strcmp(interface, wl_output_interface.name)) {
		/* outputs come and go: they back up the output manager */
		if (b->out) {
			wlo_output_add(b->out, name, version);
		} else if (g && g->nr_outputs < MAX_OUTPUTS) {
			g->output[g->nr_outputs].name = name;
			g->output[g->nr_outputs++].version = version;
		}
		return;
	}
	if (!g) {
		/* a seat or output manager appearing later is not used */
		log_debug("wayland: new global %s (not used)", interface);
		return;
	}
	rank = wlc_rank(interface);
	if (!strcmp(interface, wl_seat_interface.name)) {
		if (g->nr_seats < MAX_SEATS) {
			g->seat[g->nr_seats].name = name;
			g->seat[g->nr_seats++].version = version;
		}
	} else if (rank > g->dc_rank) {
		g->dc_rank = rank;
		snprintf(g->dc_interface, sizeof(g->dc_interface), "%s",
			 interface);
		g->dc_name = name;
		g->dc_version = version;
	} else if (!strcmp(interface, zwlr_output_manager_v1_interface.name)) {
		g->om_name = name;
		g->om_version = version;
	}
}

static void global_remove(void *data, struct wl_registry *reg,
			  uint32_t name)
{
	struct backend *b = data;

	(void)reg;
	if (b->out)
		wlo_output_remove(b->out, name);
	if (b->seat && name == b->seat_name) {
		log_warn("wayland: the seat went away: no clipboard from now on");
		if (b->clip)
			wlc_seat_gone(b->clip);
	}
}

static const struct wl_registry_listener registry_listener = {
	.global = global_add,
	.global_remove = global_remove,
};

static struct wl_seat *bind_seat(struct backend *b, struct seat_global *g)
{
	uint32_t v = g->version < SEAT_VERSION ? g->version : SEAT_VERSION;

	g->seat = wl_registry_bind(b->registry, g->name, &wl_seat_interface,
				   v);
	if (g->seat)
		wl_seat_add_listener(g->seat, &seat_listener, g);
	return g->seat;
}

/*
 * The seat whose selections we sync: the one PVA_AGENT_SEAT names (its
 * name needs a roundtrip, so all are bound for it), else the first.
 */
static bool choose_seat(struct backend *b, struct wlb_globals *g)
{
	const char *want = getenv("PVA_AGENT_SEAT");
	struct seat_global *pick = NULL;

	if (!g->nr_seats)
		return true;
	if (want && *want && g->nr_seats > 1) {
		for (unsigned int i = 0; i < g->nr_seats; i++)
			bind_seat(b, &g->seat[i]);
		if (wl_display_roundtrip(b->display) < 0)
			return false;
		for (unsigned int i = 0; i < g->nr_seats && !pick; i++)
			if (!strcmp(g->seat[i].seat_name, want))
				pick = &g->seat[i];
		if (!pick)
			log_warn("wayland: no seat named '%s': using the first",
				 want);
	}
	if (!pick)
		pick = &g->seat[0];
	if (!pick->seat && !bind_seat(b, pick)) {
		log_err("out of memory");
		return false;
	}
	b->seat = pick->seat;
	b->seat_name = pick->name;
	for (unsigned int i = 0; i < g->nr_seats; i++) {
		if (g->seat[i].seat && &g->seat[i] != pick)
			wl_seat_destroy(g->seat[i].seat);
		g->seat[i].seat = NULL;
	}
	/* the listener's data is gone after open() */
	wl_proxy_set_user_data((struct wl_proxy *)b->seat, NULL);
	return true;
}

/* ---- the ops ---- */

static void be_close(struct backend *b)
{
	if (!b)
		return;
	loop_set_prepare(b->loop, NULL, NULL);
	loop_remove(b->src);
	wlc_free(b->clip);
	wlo_free(b->out);
	if (b->seat)
		wl_seat_destroy(b->seat);
	if (b->registry)
		wl_registry_destroy(b->registry);
	if (!b->lost)
		wl_display_flush(b->display);
	wl_display_disconnect(b->display);
	free(b);
}

/* Say what this compositor lets us do; false: nothing at all. */
static bool explain(struct backend *b, const struct wlb_globals *g,
		    const struct agent_options *opt)
{
	const char *desk = getenv("XDG_CURRENT_DESKTOP");

	if (opt->clipboard && !g->dc_rank)
		log_warn("wayland: the compositor%s%s offers no data-control protocol (ext-data-control-v1 or wlr-data-control-unstable-v1; GNOME's mutter has none): no clipboard through Wayland",
			 desk ? " of " : "", desk ? desk : "");
	else if (opt->clipboard && !b->seat)
		log_warn("wayland: the compositor has no seat: no clipboard");
	if (opt->display && !g->om_name)
		log_info("wayland: the compositor offers no wlr-output-management: the resolution follows pva_drm's preferred mode only");
	if ((opt->clipboard && !b->clip) && (!opt->display || !b->out)) {
		log_warn("wayland: neither the clipboard nor the display can be synced on this compositor");
		return false;
	}
	if (opt->clipboard && !b->clip)
		log_info("wayland: working without the clipboard");
	return true;
}

static struct backend *be_open(struct agent *a, struct loop *loop,
			       const struct agent_options *opt)
{
	struct wlb_globals g = { 0 };
	struct backend *b = calloc(1, sizeof(*b));

	if (!b) {
		log_err("out of memory");
		return NULL;
	}
	b->a = a;
	b->loop = loop;
	b->display = wl_display_connect(NULL);
	if (!b->display) {
		log_err("wayland: cannot connect to the compositor (WAYLAND_DISPLAY=%s): %s",
			getenv("WAYLAND_DISPLAY") ? getenv("WAYLAND_DISPLAY") :
			"unset", strerror(errno));
		free(b);
		return NULL;
	}
	b->globals = &g;
	b->registry = wl_display_get_registry(b->display);
	if (!b->registry)
		goto fail;
	wl_registry_add_listener(b->registry, &registry_listener, b);
	if (wl_display_roundtrip(b->display) < 0 || !choose_seat(b, &g))
		goto fail;
	if (opt->clipboard && g.dc_rank && b->seat)
		b->clip = wlc_new(b, g.dc_interface, g.dc_name, g.dc_version);
	if (opt->display && g.om_name)
		b->out = wlo_new(b, g.om_name, g.om_version);
	for (unsigned int i = 0; b->out && i < g.nr_outputs; i++)
		wlo_output_add(b->out, g.output[i].name, g.output[i].version);
	b->globals = NULL;
	/* the first selections and the heads */
	if (wl_display_roundtrip(b->display) < 0)
		goto fail;
	if (b->out)
		wlo_ready(b->out);
	if (!explain(b, &g, opt))
		goto out;
	b->src = loop_add_fd(loop, wl_display_get_fd(b->display), EPOLLIN,
			     display_event, b);
	if (!b->src)
		goto out;
	loop_set_prepare(loop, prepare, b);
	log_info("wayland: connected to %s", getenv("WAYLAND_DISPLAY") ?
		 getenv("WAYLAND_DISPLAY") : "wayland-0");
	return b;
fail:
	log_err("wayland: the compositor failed us while starting: %s",
		strerror(wl_display_get_error(b->display) ?
			 wl_display_get_error(b->display) : EIO));
out:
	b->globals = NULL;
	be_close(b);
	return NULL;
}

static void be_host_grab(struct backend *b, unsigned int sel,
			 const struct clip_types *types)
{
	if (b->clip)
		wlc_host_grab(b->clip, sel, types);
}

static void be_release(struct backend *b)
{
	if (b->clip)
		wlc_release(b->clip);
}

static void be_read_content(struct backend *b, unsigned int sel,
			    const char *type, uint32_t id)
{
	if (b->clip)
		wlc_read(b->clip, sel, type, id);
	else
		agent_content(b->a, id, PVA_S_ESTALE, NULL, 0);
}

static void be_cancel_read(struct backend *b, uint32_t id)
{
	if (b->clip)
		wlc_cancel_read(b->clip, id);
}

static void be_apply_layout(struct backend *b, const struct layout *l)
{
	if (b->out)
		wlo_apply(b->out, l);
	else
		agent_layout_done(b->a, l->generation, PVA_S_ENOTSUP, NULL);
}

const struct backend_ops wayland_backend_ops = {
	.kind = "wayland",
	.open = be_open,
	.close = be_close,
	.host_grab = be_host_grab,
	.release = be_release,
	.read_content = be_read_content,
	.cancel_read = be_cancel_read,
	.apply_layout = be_apply_layout,
};
