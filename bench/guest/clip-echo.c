// SPDX-License-Identifier: MIT
/*
 * clip-echo: the guest's X11 client of the desktop-agent benchmark
 * (bench/run-agent.sh, bench/agent-bench.sh). It stands for a user's
 * application that pastes what the host copied and copies it straight
 * back:
 *
 *  - XFixes tells it when CLIPBOARD gets a new owner (pva-agent's window,
 *    as the host's proxy); it converts the selection to UTF8_STRING
 *    (following INCR for large contents, ICCCM 2.7.2), then takes
 *    CLIPBOARD itself, offering exactly the bytes it read;
 *  - it serves its content to whoever asks (pva-agent, when the host
 *    pastes): TARGETS, TIMESTAMP, UTF8_STRING, with INCR above --chunk
 *    bytes;
 *  - it reports RandR's RRScreenChangeNotify (the session's screen got a
 *    new size), for the resize latency.
 *
 * With --paste it only reads CLIPBOARD once (from whoever owns it, e.g. a
 * running clip-echo) and prints how long that took: the cost of the X11
 * part alone, between two clients of the same X server, for scale.
 *
 * Every step is a mark in the guest kernel's log ("agentbench: ..."), on
 * the file descriptor given with --kmsg-fd (the suite opens /dev/kmsg for
 * it, so clip-echo itself runs unprivileged like a session's client), or
 * on standard output without it: the log's clock is the one the resize
 * marks of the suite use.
 *
 * It must fail loudly: anything unexpected (a refused conversion, a wrong
 * type, a stalled transfer, an X error) is an "ERROR" line on standard
 * error and makes the exit status 1; the suite checks both.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>

/* pva-agent writes at most 256 KiB per property (x11_clip.c's
 * INCR_CHUNK_MAX); the same here, so both directions move the same
 * chunks
 */
#define DEFAULT_CHUNK	(256 * 1024)
#define STALL_MS	10000	/* a transfer's silence before it is an error */
#define MAX_SENDS	8

struct content {
	unsigned int refs;
	size_t len;
	unsigned char data[];
};

/* our content on its way to a requestor, INCR */
struct send {
	bool used;
	Window requestor;
	Atom property;
	struct content *c;
	size_t off;
	bool done;		/* the empty end chunk is written */
	uint64_t deadline;
};

static Display *dpy;
static Window win, root;
static Atom a_clipboard, a_targets, a_timestamp, a_incr, a_utf8, a_prop;
static int fixes_event, randr_event;
static int kmsg_fd = -1;
static size_t chunk = DEFAULT_CHUNK;
static size_t max_size = 64u << 20;
static unsigned int errors;
static volatile sig_atomic_t stop;
static bool paste_mode;		/* --paste: read once, print, exit */
static bool paste_done;
static struct timespec paste_t0;

/* the read in progress */
static enum { IDLE, WAIT_NOTIFY, WAIT_INCR } rstate;
static unsigned char *rbuf;
static size_t rlen, rcap;
static uint64_t rdeadline;
static unsigned long reads;	/* owner changes followed */

static struct content *mine;	/* what we own CLIPBOARD with, or NULL */
static Time own_time;
static Time last_time;		/* the newest server time seen */
static struct send sends[MAX_SENDS];

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void mark(const char *fmt, ...)
{
	char line[256];
	int n;
	va_list ap;

	/* <7>: debug level, so the console (loglevel=4) is not involved */
	n = snprintf(line, sizeof(line), "%sagentbench: ",
		     kmsg_fd >= 0 ? "<7>" : "");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (kmsg_fd >= 0) {
		/* one write is one log record */
		if (write(kmsg_fd, line, (size_t)n) != n)
			fprintf(stderr, "clip-echo: ERROR: writing to the kernel log: %s\n",
				strerror(errno));
	} else {
		fwrite(line, 1, (size_t)n, stdout);
		fflush(stdout);
	}
}

static void error(const char *fmt, ...)
{
	va_list ap;

	errors++;
	fputs("clip-echo: ERROR: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	mark("clip-echo error %u", errors);
}

static int on_x_error(Display *d, XErrorEvent *e)
{
	char text[128];

	XGetErrorText(d, e->error_code, text, sizeof(text));
	error("X error: %s (request %u.%u, resource 0x%lx)", text,
	      e->request_code, e->minor_code, e->resourceid);
	return 0;
}

static struct content *content_new(const unsigned char *p, size_t len)
{
	struct content *c = malloc(sizeof(*c) + len + 1);

	if (!c) {
		error("out of memory for %zu bytes", len);
		return NULL;
	}
	c->refs = 1;
	c->len = len;
	if (len)
		memcpy(c->data, p, len);
	return c;
}

static void content_put(struct content *c)
{
	if (c && !--c->refs)
		free(c);
}

static void note_time(Time t)
{
	if (t != CurrentTime)
		last_time = t;
}

/* ---- reading the host's content (the new owner's) ---- */

static void read_reset(void)
{
	rstate = IDLE;
	rlen = 0;
	XDeleteProperty(dpy, win, a_prop);
}

static int read_append(const unsigned char *p, size_t n)
{
	if (rlen + n > max_size) {
		error("the content is larger than %zu bytes", max_size);
		return -1;
	}
	if (rlen + n > rcap) {
		size_t cap = rcap ? rcap : 65536;
		unsigned char *b;

		while (cap < rlen + n)
			cap *= 2;
		b = realloc(rbuf, cap);
		if (!b) {
			error("out of memory for %zu bytes", cap);
			return -1;
		}
		rbuf = b;
		rcap = cap;
	}
	memcpy(rbuf + rlen, p, n);
	rlen += n;
	return 0;
}

/* Our property, whole (deleted when @del); -1 on failure. */
static int prop_take(bool del, Atom *type, int *format, unsigned char **out,
		     size_t *bytes)
{
	unsigned long n, after;
	unsigned char *p = NULL;

	/* long_length in 32-bit units: everything at once */
	if (XGetWindowProperty(dpy, win, a_prop, 0, 0x1fffffff, del,
			       AnyPropertyType, type, format, &n, &after,
			       &p) != Success) {
		error("cannot read the selection's property");
		return -1;
	}
	if (after) {
		XFree(p);
		error("the property was not read whole (%lu bytes left)", after);
		return -1;
	}
	*out = p;
	*bytes = *type == None ? 0 : n * (size_t)(*format / 8);
	return 0;
}

static double since_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void take_ownership(void)
{
	struct content *c;

	if (paste_mode) {
		printf("bytes=%zu ms=%.3f\n", rlen, since_ms(&paste_t0));
		paste_done = true;
		return;
	}
	c = content_new(rbuf, rlen);
	if (!c)
		return;
	content_put(mine);
	mine = c;
	mark("clip got %zu", rlen);
	/* the newest server time we saw: the property's last change */
	own_time = last_time;
	XSetSelectionOwner(dpy, a_clipboard, win, own_time);
	if (XGetSelectionOwner(dpy, a_clipboard) != win) {
		error("could not take CLIPBOARD");
		content_put(mine);
		mine = NULL;
		return;
	}
	mark("clip grab %zu", c->len);
}

static void on_owner(const XFixesSelectionNotifyEvent *e)
{
	note_time(e->timestamp);
	if (e->selection != a_clipboard ||
	    e->subtype != XFixesSetSelectionOwnerNotify)
		return;
	if (e->owner == win || e->owner == None)
		return;	/* our own copy, or emptied: nothing to echo */
	if (rstate != IDLE) {
		error("a new owner came while reading the last one's content");
		read_reset();
	}
	reads++;
	mark("clip owner %lu", reads);
	rstate = WAIT_NOTIFY;
	rlen = 0;
	rdeadline = now_ms() + STALL_MS;
	XConvertSelection(dpy, a_clipboard, a_utf8, a_prop, win, e->timestamp);
}

static void on_notify(const XSelectionEvent *e)
{
	unsigned char *p;
	size_t n;
	Atom type;
	int format;

	note_time(e->time);
	if (rstate != WAIT_NOTIFY || e->selection != a_clipboard)
		return;
	if (e->property == None) {
		error("the owner refused to convert CLIPBOARD to UTF8_STRING");
		rstate = IDLE;
		return;
	}
	if (prop_take(true, &type, &format, &p, &n) < 0) {
		read_reset();
		return;
	}
	if (type == a_incr) {
		/* deleting it (done above) asks for the first chunk */
		XFree(p);
		rstate = WAIT_INCR;
		rdeadline = now_ms() + STALL_MS;
		return;
	}
	if (type != a_utf8 || format != 8) {
		error("the content came as type %lu format %d, not UTF8_STRING", type,
		      format);
		XFree(p);
		rstate = IDLE;
		return;
	}
	if (read_append(p, n) == 0)
		take_ownership();
	XFree(p);
	rstate = IDLE;
}

/* a property event on our window: the next INCR chunk, maybe */
static void on_own_property(const XPropertyEvent *e)
{
	unsigned char *p;
	size_t n;
	Atom type;
	int format;

	if (e->atom != a_prop || e->state != PropertyNewValue ||
	    rstate != WAIT_INCR)
		return;
	if (prop_take(true, &type, &format, &p, &n) < 0) {
		read_reset();
		return;
	}
	rdeadline = now_ms() + STALL_MS;
	if (n && (type != a_utf8 || format != 8)) {
		error("an INCR chunk came as type %lu format %d", type, format);
		XFree(p);
		read_reset();
		return;
	}
	if (!n) {		/* the empty chunk: the end */
		XFree(p);
		rstate = IDLE;
		take_ownership();
		return;
	}
	if (read_append(p, n) < 0)
		read_reset();
	XFree(p);
}

/* ---- serving our content ---- */

static void notify(const XSelectionRequestEvent *r, Atom property)
{
	XEvent ev = { .xselection = {
		.type = SelectionNotify,
		.display = dpy,
		.requestor = r->requestor,
		.selection = r->selection,
		.target = r->target,
		.property = property,
		.time = r->time,
	} };

	XSendEvent(dpy, r->requestor, False, NoEventMask, &ev);
}

static struct send *send_of(Window w)
{
	for (int i = 0; i < MAX_SENDS; i++)
		if (sends[i].used && sends[i].requestor == w)
			return &sends[i];
	return NULL;
}

static void send_end(struct send *s)
{
	/* another send to the same window keeps its event mask */
	s->used = false;
	if (!send_of(s->requestor))
		XSelectInput(dpy, s->requestor, NoEventMask);
	content_put(s->c);
	s->c = NULL;
}

static void serve_content(const XSelectionRequestEvent *r, Atom property)
{
	struct send *s = NULL;

	if (mine->len <= chunk) {
		XChangeProperty(dpy, r->requestor, property, a_utf8, 8,
				PropModeReplace, mine->data, (int)mine->len);
		notify(r, property);
		mark("clip served %zu", mine->len);
		return;
	}
	for (int i = 0; i < MAX_SENDS && !s; i++)
		if (!sends[i].used)
			s = &sends[i];
	if (!s) {
		error("more than %d INCR transfers at once", MAX_SENDS);
		notify(r, None);
		return;
	}
	*s = (struct send){
		.used = true, .requestor = r->requestor, .property = property,
		.c = mine, .deadline = now_ms() + STALL_MS,
	};
	mine->refs++;
	/* the requestor's deletes of the property pace the chunks */
	XSelectInput(dpy, r->requestor, PropertyChangeMask);
	{
		long size = (long)mine->len;

		XChangeProperty(dpy, r->requestor, property, a_incr, 32,
				PropModeReplace, (unsigned char *)&size, 1);
	}
	notify(r, property);
}

static void on_request(const XSelectionRequestEvent *r)
{
	Atom property = r->property != None ? r->property : r->target;

	note_time(r->time);
	if (r->selection != a_clipboard || !mine || r->owner != win) {
		notify(r, None);
		return;
	}
	if (r->target == a_targets) {
		Atom t[] = { a_targets, a_timestamp, a_utf8 };

		XChangeProperty(dpy, r->requestor, property, XA_ATOM, 32,
				PropModeReplace, (unsigned char *)t, 3);
		notify(r, property);
	} else if (r->target == a_timestamp) {
		long t = (long)own_time;

		XChangeProperty(dpy, r->requestor, property, XA_INTEGER, 32,
				PropModeReplace, (unsigned char *)&t, 1);
		notify(r, property);
	} else if (r->target == a_utf8) {
		serve_content(r, property);
	} else {
		notify(r, None);	/* we offer nothing else */
	}
}

/* a property event on a requestor's window: it took the last chunk */
static void on_requestor_property(const XPropertyEvent *e)
{
	struct send *s = send_of(e->window);
	size_t n;

	if (!s || e->atom != s->property || e->state != PropertyDelete)
		return;
	if (s->done) {
		mark("clip served %zu", s->c->len);
		send_end(s);
		return;
	}
	n = s->c->len - s->off < chunk ? s->c->len - s->off : chunk;
	XChangeProperty(dpy, s->requestor, s->property, a_utf8, 8,
			PropModeReplace, s->c->data + s->off, (int)n);
	s->off += n;
	s->done = n == 0;	/* the empty chunk went: wait for its delete */
	s->deadline = now_ms() + STALL_MS;
}

static void on_selection_clear(const XSelectionClearEvent *e)
{
	note_time(e->time);
	if (e->selection != a_clipboard)
		return;
	/* sends in progress keep their content */
	content_put(mine);
	mine = NULL;
}

/* ---- the loop ---- */

static void handle(XEvent *ev)
{
	if (ev->type == fixes_event + XFixesSelectionNotify) {
		on_owner((XFixesSelectionNotifyEvent *)ev);
		return;
	}
	if (ev->type == randr_event + RRScreenChangeNotify) {
		XRRScreenChangeNotifyEvent *e = (XRRScreenChangeNotifyEvent *)ev;

		XRRUpdateConfiguration(ev);
		mark("screen %dx%d", e->width, e->height);
		return;
	}
	switch (ev->type) {
	case SelectionNotify:
		on_notify(&ev->xselection);
		break;
	case SelectionRequest:
		on_request(&ev->xselectionrequest);
		break;
	case SelectionClear:
		on_selection_clear(&ev->xselectionclear);
		break;
	case PropertyNotify:
		note_time(ev->xproperty.time);
		if (ev->xproperty.window == win)
			on_own_property(&ev->xproperty);
		else
			on_requestor_property(&ev->xproperty);
		break;
	default:
		break;
	}
}

static void check_stalls(void)
{
	uint64_t now = now_ms();

	if (rstate != IDLE && now > rdeadline) {
		error("reading the clipboard stalled (%zu bytes so far)", rlen);
		read_reset();
	}
	for (int i = 0; i < MAX_SENDS; i++) {
		if (sends[i].used && now > sends[i].deadline) {
			error("the requestor 0x%lx stopped taking INCR chunks at %zu of %zu bytes",
			      sends[i].requestor, sends[i].off, sends[i].c->len);
			send_end(&sends[i]);
		}
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char usage[] =
"Usage: clip-echo [--kmsg-fd FD] [--chunk BYTES] [--max-size BYTES] [--paste]\n"
"Echo the X11 CLIPBOARD: read every new owner's UTF8_STRING content and\n"
"take CLIPBOARD back with the same bytes; report RandR screen changes.\n"
"Marks go to the kernel log through FD (opened /dev/kmsg), else stdout.\n"
"Prints 'clip-echo: ready' on stdout once it listens. Exit status 1 if\n"
"anything went wrong (see the ERROR lines on stderr).\n"
"--paste: read CLIPBOARD once, print 'bytes=N ms=T' (T from the request\n"
"to the last byte), exit.\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kmsg-fd", required_argument, NULL, 'k' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "paste", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	int o, err_base, major, minor, w, h;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'k':
			kmsg_fd = atoi(optarg);
			break;
		case 'c':
			chunk = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			max_size = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			paste_mode = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc || chunk < 1024 || chunk > (16u << 20)) {
		fputs(usage, stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	dpy = XOpenDisplay(NULL);
	if (!dpy) {
		fprintf(stderr, "clip-echo: ERROR: cannot open the display\n");
		return 1;
	}
	XSetErrorHandler(on_x_error);
	/* a property of @chunk bytes must fit one request */
	if ((size_t)XExtendedMaxRequestSize(dpy) * 4 < chunk + 64 &&
	    (size_t)XMaxRequestSize(dpy) * 4 < chunk + 64) {
		fprintf(stderr, "clip-echo: ERROR: the X server takes no %zu-byte requests\n",
			chunk);
		return 1;
	}
	/* both extensions refuse requests before the version is agreed */
	major = 5;
	minor = 0;
	if (!XFixesQueryExtension(dpy, &fixes_event, &err_base) ||
	    !XFixesQueryVersion(dpy, &major, &minor) || major < 1) {
		fprintf(stderr, "clip-echo: ERROR: the X server lacks XFixes\n");
		return 1;
	}
	if (!XRRQueryExtension(dpy, &randr_event, &err_base) ||
	    !XRRQueryVersion(dpy, &major, &minor)) {
		fprintf(stderr, "clip-echo: ERROR: the X server lacks RandR\n");
		return 1;
	}
	root = DefaultRootWindow(dpy);
	a_clipboard = XInternAtom(dpy, "CLIPBOARD", False);
	a_targets = XInternAtom(dpy, "TARGETS", False);
	a_timestamp = XInternAtom(dpy, "TIMESTAMP", False);
	a_incr = XInternAtom(dpy, "INCR", False);
	a_utf8 = XInternAtom(dpy, "UTF8_STRING", False);
	a_prop = XInternAtom(dpy, "CLIP_ECHO", False);
	{
		XSetWindowAttributes wa = { .event_mask = PropertyChangeMask };

		/* never mapped: it owns the selection and receives data */
		win = XCreateWindow(dpy, root, -1, -1, 1, 1, 0, 0, InputOnly,
				    CopyFromParent, CWEventMask, &wa);
	}
	XStoreName(dpy, win, "clip-echo");
	if (paste_mode) {
		XSync(dpy, False);
		clock_gettime(CLOCK_MONOTONIC, &paste_t0);
		rstate = WAIT_NOTIFY;
		rdeadline = now_ms() + STALL_MS;
		XConvertSelection(dpy, a_clipboard, a_utf8, a_prop, win, CurrentTime);
	} else {
		XFixesSelectSelectionInput(dpy, root, a_clipboard,
					   XFixesSetSelectionOwnerNotifyMask);
		XRRSelectInput(dpy, root, RRScreenChangeNotifyMask);
		w = DisplayWidth(dpy, DefaultScreen(dpy));
		h = DisplayHeight(dpy, DefaultScreen(dpy));
		XSync(dpy, False);
		mark("clip-echo ready %dx%d", w, h);
		printf("clip-echo: ready, screen %dx%d\n", w, h);
		fflush(stdout);
	}

	while (!stop && !paste_done && !(paste_mode && errors)) {
		struct pollfd pfd = { .fd = ConnectionNumber(dpy), .events = POLLIN };

		while (XPending(dpy)) {
			XEvent ev;

			XNextEvent(dpy, &ev);
			handle(&ev);
		}
		XFlush(dpy);
		if (poll(&pfd, 1, 500) < 0 && errno != EINTR) {
			fprintf(stderr, "clip-echo: ERROR: poll: %s\n", strerror(errno));
			errors++;
			break;
		}
		if (pfd.revents & (POLLHUP | POLLERR)) {
			fprintf(stderr, "clip-echo: ERROR: the X server went away\n");
			errors++;
			break;
		}
		check_stalls();
	}
	for (int i = 0; i < MAX_SENDS; i++)
		if (sends[i].used)
			send_end(&sends[i]);
	content_put(mine);
	free(rbuf);
	XCloseDisplay(dpy);
	if (!paste_mode)
		fprintf(stderr, "clip-echo: %lu owner changes echoed, %u errors\n",
			reads, errors);
	return errors || (paste_mode && !paste_done) ? 1 : 0;
}
