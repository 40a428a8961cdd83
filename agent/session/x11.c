// SPDX-License-Identifier: MIT
/*
 * pva-agent's X11 backend: the connection to the X server, its place in
 * the agent's event loop, error handling, and the backend_ops that hand
 * the work to the clipboard (x11_clip.c) and RandR (x11_randr.c).
 */
#include "x11_int.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xatom.h>

#include "log.h"
#include "loop.h"

/*
 * libX11 1.7 and later let a program survive the loss of its connection
 * (an "exit handler" called instead of exit()); older ones do not have
 * the function. Weak, so one binary runs on both.
 */
extern void XSetIOErrorExitHandler(Display *dpy,
				   void (*fn)(Display *, void *), void *data)
	__attribute__((weak));

struct backend {
	struct x11 x;
};

/*
 * Xlib's error handler is per process, not per connection: this is the
 * only state it needs (one connection per process). A trap collects the
 * errors of a few requests for the code that made them.
 */
static struct {
	bool on;
	unsigned long first;	/* serial of the first trapped request */
	int code;
} trap;
static struct log_ratelimit x_error_rl = LOG_RATELIMIT_INIT;

static int on_x_error(Display *dpy, XErrorEvent *e)
{
	char text[128];

	if (trap.on && e->serial >= trap.first) {
		if (!trap.code)
			trap.code = e->error_code;
		return 0;
	}
	XGetErrorText(dpy, e->error_code, text, sizeof(text));
	/* a requestor or owner window that vanished meanwhile is normal */
	if (e->error_code == BadWindow) {
		log_debug("X error: %s (request %u.%u, resource 0x%lx)", text,
			  e->request_code, e->minor_code, e->resourceid);
		return 0;
	}
	if (log_ratelimit_ok(&x_error_rl))
		log_warn("X error: %s (request %u.%u, resource 0x%lx)", text,
			 e->request_code, e->minor_code, e->resourceid);
	return 0;
}

void x11_trap_begin(struct x11 *x)
{
	trap.on = true;
	trap.first = NextRequest(x->dpy);
	trap.code = 0;
}

int x11_trap_end(struct x11 *x)
{
	if (!x->lost)
		XSync(x->dpy, False);
	trap.on = false;
	return x->lost ? BadImplementation : trap.code;
}

/* With an exit handler, the IO error handler only has to return. */
static int on_io_error(Display *dpy)
{
	(void)dpy;
	if (XSetIOErrorExitHandler)
		return 0;
	/* old libX11 exits after this: do it ourselves, with the status
	 * that tells the supervisor the session is over
	 */
	log_info("the display server went away: exiting");
	_exit(0);
}

static void on_io_exit(Display *dpy, void *data)
{
	struct x11 *x = data;

	(void)dpy;
	if (x->lost)
		return;
	x->lost = true;
	loop_remove(x->src);
	x->src = NULL;
	agent_backend_lost(x->a, "the X connection broke");
}

uint64_t x11_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Selection ownership wants a real server timestamp, not CurrentTime
 * (ICCCM 2.1): appending nothing to a property of our own window makes
 * the server send a PropertyNotify that carries one.
 */
void x11_want_time(struct x11 *x)
{
	static const unsigned char none[1];

	if (x->lost)
		return;
	XChangeProperty(x->dpy, x->win, x->atom[X11_PVA_TIME], XA_INTEGER, 8,
			PropModeAppend, none, 0);
}

static void dispatch(struct x11 *x, XEvent *ev)
{
	/* any client can send any event to our window: only SelectionNotify
	 * comes from other clients by design (ICCCM 2.2); a forged clear,
	 * request or timestamp is not the server's word
	 */
	if (ev->xany.send_event && ev->type != SelectionNotify)
		return;
	if (ev->type == PropertyNotify && ev->xproperty.window == x->win &&
	    ev->xproperty.atom == x->atom[X11_PVA_TIME]) {
		if (x->clip && ev->xproperty.state == PropertyNewValue)
			x11_clip_time(x->clip, ev->xproperty.time);
		return;
	}
	if (x->clip && x11_clip_event(x->clip, ev))
		return;
	if (x->randr)
		x11_randr_event(x->randr, ev);
}

static void drain(struct x11 *x)
{
	XEvent ev;

	while (!x->lost && XPending(x->dpy)) {
		XNextEvent(x->dpy, &ev);
		dispatch(x, &ev);
	}
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static uint64_t tick(struct x11 *x)
{
	uint64_t now = x11_now_ms(), next = 0;

	if (x->clip)
		next = earliest(next, x11_clip_tick(x->clip, now));
	if (x->randr && !x->lost)
		next = earliest(next, x11_randr_tick(x->randr, now));
	return next;
}

/*
 * Before the loop sleeps: handle what Xlib read into its queue already
 * (a round trip reads the events before its reply), expire timeouts and
 * send what was queued. The descriptor alone does not tell about either.
 */
static int prepare(struct loop *loop, void *data)
{
	struct x11 *x = data;
	uint64_t next = 0, now;
	int round;

	(void)loop;
	for (round = 0; round < 8 && !x->lost; round++) {
		drain(x);
		next = tick(x);
		if (x->lost || !XEventsQueued(x->dpy, QueuedAlready))
			break;
	}
	if (x->lost)
		return -1;
	XFlush(x->dpy);
	if (round == 8)
		return 0;	/* more events: come back at once */
	if (!next)
		return -1;
	now = x11_now_ms();
	if (next <= now)
		return 0;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

static void on_readable(struct loop *loop, int fd, uint32_t events,
			void *data)
{
	(void)loop;
	(void)fd;
	(void)events;
	drain(data);
}

static bool intern_atoms(struct x11 *x)
{
	static char *const names[X11_NR_ATOMS] = {
		[X11_CLIPBOARD] = "CLIPBOARD",
		[X11_TARGETS] = "TARGETS",
		[X11_TIMESTAMP] = "TIMESTAMP",
		[X11_MULTIPLE] = "MULTIPLE",
		[X11_INCR] = "INCR",
		[X11_UTF8_STRING] = "UTF8_STRING",
		[X11_TEXT] = "TEXT",
		[X11_COMPOUND_TEXT] = "COMPOUND_TEXT",
		[X11_MIME_TEXT] = MIME_TEXT,
		[X11_TEXT_PLAIN] = "text/plain",
		[X11_PVA_TIME] = "_PVA_AGENT_TIME",
	};

	return XInternAtoms(x->dpy, (char **)names, X11_NR_ATOMS, False,
			    x->atom) != 0;
}

static bool make_window(struct x11 *x)
{
	XSetWindowAttributes wa = {
		.event_mask = PropertyChangeMask,
		.override_redirect = True,
	};

	/* never mapped: it only owns selections and receives properties */
	x->win = XCreateWindow(x->dpy, x->root, -1, -1, 1, 1, 0, 0, InputOnly,
			       CopyFromParent, CWEventMask | CWOverrideRedirect,
			       &wa);
	if (!x->win)
		return false;
	XStoreName(x->dpy, x->win, "pva-agent");
	return true;
}

static void close_be(struct backend *b)
{
	struct x11 *x = &b->x;

	if (x->clip)
		x11_clip_close(x->clip);
	if (x->randr)
		x11_randr_close(x->randr);
	if (x->src)
		loop_remove(x->src);
	if (x->dpy) {
		loop_set_prepare(x->loop, NULL, NULL);
		if (!x->lost && x->win)
			XDestroyWindow(x->dpy, x->win);
		/* frees the structure; sends nothing on a broken one */
		XCloseDisplay(x->dpy);
	}
	free(b);
}

static struct backend *open_be(struct agent *a, struct loop *loop,
			       const struct agent_options *opt)
{
	struct backend *b = calloc(1, sizeof(*b));
	struct x11 *x;

	if (!b) {
		log_err("out of memory");
		return NULL;
	}
	x = &b->x;
	x->a = a;
	x->loop = loop;
	x->dpy = XOpenDisplay(NULL);
	if (!x->dpy) {
		log_err("cannot open the X display '%s'", XDisplayName(NULL));
		free(b);
		return NULL;
	}
	XSetErrorHandler(on_x_error);
	XSetIOErrorHandler(on_io_error);
	if (XSetIOErrorExitHandler)
		XSetIOErrorExitHandler(x->dpy, on_io_exit, x);
	x->root = DefaultRootWindow(x->dpy);
	if (!intern_atoms(x) || !make_window(x)) {
		log_err("X11: cannot set up the agent's window");
		goto fail;
	}
	if (opt->clipboard || opt->primary) {
		x->clip = x11_clip_open(x, opt);
		if (!x->clip)
			log_warn("X11: no clipboard sync in this session");
	}
	if (opt->display)
		x->randr = x11_randr_open(x);
	x->src = loop_add_fd(loop, ConnectionNumber(x->dpy), EPOLLIN,
			     on_readable, x);
	if (!x->src)
		goto fail;
	loop_set_prepare(loop, prepare, x);
	log_info("X11: connected to display %s", DisplayString(x->dpy));
	return b;
fail:
	close_be(b);
	return NULL;
}

static void host_grab(struct backend *b, unsigned int sel,
		      const struct clip_types *types)
{
	if (b->x.clip)
		x11_clip_host_grab(b->x.clip, sel, types);
}

static void release(struct backend *b)
{
	if (b->x.clip)
		x11_clip_release(b->x.clip);
}

static void read_content(struct backend *b, unsigned int sel,
			 const char *type, uint32_t id)
{
	if (b->x.clip)
		x11_clip_read(b->x.clip, sel, type, id);
	else
		agent_content(b->x.a, id, PVA_S_ESTALE, NULL, 0);
}

static void cancel_read(struct backend *b, uint32_t id)
{
	if (b->x.clip)
		x11_clip_cancel(b->x.clip, id);
}

static void apply_layout(struct backend *b, const struct layout *l)
{
	if (b->x.randr)
		x11_randr_apply(b->x.randr, l);
	else
		agent_layout_done(b->x.a, l->generation, PVA_S_ENOTSUP, NULL);
}

const struct backend_ops x11_backend_ops = {
	.kind = "x11",
	.open = open_be,
	.close = close_be,
	.host_grab = host_grab,
	.release = release,
	.read_content = read_content,
	.cancel_read = cancel_read,
	.apply_layout = apply_layout,
};
