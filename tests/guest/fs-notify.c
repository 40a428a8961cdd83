// SPDX-License-Identifier: MIT
/*
 * fs-notify: inotify events on a directory.
 *
 *   fs-notify watch DIR TIMEOUT_MS KIND:NAME...
 *   fs-notify selftest DIR
 *
 * watch: watches DIR, prints "ready" once it is watching (so that a test
 * harness can then change DIR, e.g. from the host side of a shared folder),
 * prints "event KIND NAME" for each event as it comes, and exits 0 as soon
 * as every expected event has come (in any order), 1 if the time runs out
 * first, listing the missing ones.
 *
 * selftest: makes changes in a directory below DIR itself and checks that
 * each gives its events; this works on any local filesystem.
 *
 * Exit status: 0 all seen, 1 an event missing or a call failed, 2 usage
 * error or DIR cannot be watched.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fs-tap.h"

#define PROG "fs-notify"
#define WATCH_MASK (IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | \
		    IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
#define MAX_WANT 256

static const char usage_text[] =
"Usage: fs-notify watch DIR TIMEOUT_MS KIND:NAME...\n"
"       fs-notify selftest DIR\n"
"inotify events on a directory.\n"
"\n"
"  watch     watch DIR, print \"ready\" once watching, then \"event KIND NAME\"\n"
"            for each event; exit 0 as soon as every KIND:NAME was seen (in\n"
"            any order), 1 after TIMEOUT_MS milliseconds, listing the\n"
"            missing ones\n"
"  selftest  make changes in a new directory below DIR and check that each\n"
"            gives its events\n"
"\n"
"KIND is create, modify, close_write, delete, moved_from, moved_to, attrib,\n"
"delete_self, move_self or ignored; NAME is the entry's name in DIR, empty\n"
"for delete_self, move_self and ignored (\"delete_self:\" or \"delete_self\").\n"
"An event expected twice must come twice.\n"
"Exit status: 0 all seen, 1 an event missing or a call failed, 2 usage\n"
"error or DIR cannot be watched.\n";

static const struct kind {
	const char *name;
	uint32_t mask;
} kinds[] = {
	{ "create", IN_CREATE },
	{ "modify", IN_MODIFY },
	{ "close_write", IN_CLOSE_WRITE },
	{ "delete", IN_DELETE },
	{ "moved_from", IN_MOVED_FROM },
	{ "moved_to", IN_MOVED_TO },
	{ "attrib", IN_ATTRIB },
	{ "delete_self", IN_DELETE_SELF },
	{ "move_self", IN_MOVE_SELF },
	{ "ignored", IN_IGNORED },
	{ "overflow", IN_Q_OVERFLOW },
	{ "unmount", IN_UNMOUNT },
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

struct want {
	uint32_t mask;
	char name[NAME_MAX + 1];
	bool seen;
	uint32_t cookie, evmask; /* of the event that matched */
};

static bool print_plain; /* watch: "event ..." lines; selftest: "# event ..." */

static bool parse_want(const char *arg, struct want *w)
{
	const char *colon = strchr(arg, ':');
	size_t klen = colon ? (size_t)(colon - arg) : strlen(arg);

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < N_KINDS; i++)
		if (strlen(kinds[i].name) == klen && !strncmp(arg, kinds[i].name, klen)) {
			w->mask = kinds[i].mask;
			break;
		}
	if (!w->mask)
		return false;
	if (colon) {
		if (strlen(colon + 1) > NAME_MAX || strchr(colon + 1, '/'))
			return false;
		strcpy(w->name, colon + 1);
	}
	return true;
}

static void want_str(const struct want *w, char *buf, size_t size)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (kinds[i].mask == w->mask) {
			snprintf(buf, size, "%s%s%s", kinds[i].name, w->name[0] ? ":" : "",
				 w->name);
			return;
		}
	snprintf(buf, size, "%#x:%s", w->mask, w->name);
}

static int now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* match one event against the wanted ones; print it */
static void got_event(const struct inotify_event *ev, struct want *w, int n)
{
	const char *name = ev->len ? ev->name : "";

	for (size_t k = 0; k < N_KINDS; k++) {
		if (!(ev->mask & kinds[k].mask))
			continue;
		if (print_plain)
			printf("event %s%s%s\n", kinds[k].name, *name ? " " : "", name);
		else
			printf("# event %s%s%s%s\n", kinds[k].name, *name ? " " : "", name,
			       ev->mask & IN_ISDIR ? " (directory)" : "");
		for (int i = 0; i < n; i++)
			if (!w[i].seen && w[i].mask == kinds[k].mask && !strcmp(w[i].name, name)) {
				w[i].seen = true;
				w[i].cookie = ev->cookie;
				w[i].evmask = ev->mask;
				break;
			}
	}
	fflush(stdout);
}

/*
 * Read events from IFD until every one of W[0..N) was seen or TIMEOUT_MS
 * passed; returns how many are still missing, or -1 on an error.
 */
static int wait_events(int ifd, struct want *w, int n, int timeout_ms)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = ifd, .events = POLLIN };
		int missing = 0, left, r;
		ssize_t len;

		for (int i = 0; i < n; i++)
			missing += !w[i].seen;
		left = deadline - now_ms();
		if (!missing || left <= 0)
			return missing;
		r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (!r)
			continue;
		len = read(ifd, buf, sizeof(buf));
		if (len < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (len <= 0)
			return -1;
		for (ssize_t off = 0; off < len;) {
			const struct inotify_event *ev = (const struct inotify_event *)(buf + off);

			got_event(ev, w, n);
			off += (ssize_t)(sizeof(*ev) + ev->len);
		}
	}
}

/* ---- watch ---- */

static int watch(const char *dir, int timeout_ms, int n, char **args)
{
	static struct want w[MAX_WANT];
	int ifd, missing;

	for (int i = 0; i < n; i++)
		if (!parse_want(args[i], &w[i])) {
			fprintf(stderr, PROG ": not KIND:NAME with a known KIND: %s\n"
				"Try 'fs-notify --help'.\n", args[i]);
			return 2;
		}
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd < 0 || inotify_add_watch(ifd, dir, WATCH_MASK) < 0) {
		fprintf(stderr, PROG ": cannot watch %s: %s\n", dir, strerror(errno));
		return 2;
	}
	print_plain = true;
	printf("ready\n");
	fflush(stdout);
	missing = wait_events(ifd, w, n, timeout_ms);
	tap.group = "watch";
	if (missing < 0)
		tap_result(false, "read the events", "%s", strerror(errno));
	for (int i = 0; i < n; i++) {
		char s[NAME_MAX + 32];

		want_str(&w[i], s, sizeof(s));
		tap_result(w[i].seen, s, "not seen within %d ms", timeout_ms);
	}
	close(ifd);
	return tap_summary(PROG);
}

/* ---- selftest ---- */

static int ifd = -1;

/* expect the events in ARGS (NULL-terminated KIND:NAME) within 3 s */
static bool expect(const char *desc, struct want *out, ...)
{
	struct want w[16];
	const char *a;
	va_list ap;
	int n = 0, missing;
	char miss[512] = "";

	va_start(ap, out);
	while ((a = va_arg(ap, const char *)) && n < 16)
		if (!parse_want(a, &w[n++])) {
			va_end(ap);
			fprintf(stderr, PROG ": bad event %s\n", a);
			exit(2);
		}
	va_end(ap);
	missing = wait_events(ifd, w, n, 3000);
	for (int i = 0; i < n; i++)
		if (!w[i].seen) {
			size_t len = strlen(miss);

			want_str(&w[i], miss + len, sizeof(miss) - len);
			len = strlen(miss);
			snprintf(miss + len, sizeof(miss) - len, " ");
		}
	if (out)
		memcpy(out, w, (size_t)n * sizeof(w[0]));
	if (missing < 0)
		return tap_result(false, desc, "reading events: %s", strerror(errno));
	return tap_result(!missing, desc, "missing after 3 s: %s", miss);
}

static bool call(int r, const char *what)
{
	int e = errno;

	if (r >= 0)
		return true;
	tap_result(false, what, "failed with %s", tap_errname(e));
	return false;
}

static int selftest(const char *dir)
{
	char top[PATH_MAX], wd[PATH_MAX + 8], wd2[PATH_MAX + 8], out[PATH_MAX + 8];
	char p[PATH_MAX + 64], q[PATH_MAX + 64];
	struct want w[4];
	int fd;

	snprintf(top, sizeof(top), "%s/fs-notify.%d", dir, (int)getpid());
	snprintf(wd, sizeof(wd), "%s/w", top);
	snprintf(wd2, sizeof(wd2), "%s/w2", top);
	snprintf(out, sizeof(out), "%s/out", top);
	if (mkdir(top, 0755) || mkdir(wd, 0755) || mkdir(out, 0755)) {
		fprintf(stderr, PROG ": cannot make %s: %s\n", wd, strerror(errno));
		return 2;
	}
	tap_note("fs-notify selftest in %s", top);
	tap.group = "notify";
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (!call(ifd, "inotify_init1") ||
	    !call(inotify_add_watch(ifd, wd, WATCH_MASK), "inotify_add_watch"))
		goto out;
#define P(name) (snprintf(p, sizeof(p), "%s/%s", wd, name), p)
	fd = open(P("foo"), O_WRONLY | O_CREAT, 0644);
	if (call(fd, "create foo")) {
		expect("create gives create:foo", NULL, "create:foo", NULL);
		if (call((int)write(fd, "hello", 5), "write foo"))
			expect("write gives modify:foo", NULL, "modify:foo", NULL);
		close(fd);
		expect("close after writing gives close_write:foo", NULL, "close_write:foo",
		       NULL);
	}
	if (call(chmod(P("foo"), 0600), "chmod foo"))
		expect("chmod gives attrib:foo", NULL, "attrib:foo", NULL);
	if (call(utimensat(AT_FDCWD, P("foo"), NULL, 0), "utimensat foo"))
		expect("utimensat gives attrib:foo", NULL, "attrib:foo", NULL);
	if (call(truncate(P("foo"), 2), "truncate foo"))
		expect("truncate gives modify:foo", NULL, "modify:foo", NULL);
	if (setxattr(P("foo"), "user.fs-notify", "1", 1, 0) == 0)
		expect("setxattr gives attrib:foo", NULL, "attrib:foo", NULL);
	else
		tap_skip("setxattr gives attrib:foo", "setxattr: %s", strerror(errno));
	snprintf(q, sizeof(q), "%s/bar", wd);
	if (call(rename(P("foo"), q), "rename foo bar") &&
	    expect("rename gives moved_from:foo and moved_to:bar", w, "moved_from:foo",
		   "moved_to:bar", NULL))
		tap_result(w[0].cookie && w[0].cookie == w[1].cookie,
			   "moved_from and moved_to have the same cookie", "cookies %u and %u",
			   w[0].cookie, w[1].cookie);
	if (call(mkdir(P("sub"), 0755), "mkdir sub") &&
	    expect("mkdir gives create:sub", w, "create:sub", NULL))
		tap_result(w[0].evmask & IN_ISDIR, "a directory's create has IN_ISDIR",
			   "mask %#x", w[0].evmask);
	if (call(rmdir(P("sub")), "rmdir sub") &&
	    expect("rmdir gives delete:sub", w, "delete:sub", NULL))
		tap_result(w[0].evmask & IN_ISDIR, "a directory's delete has IN_ISDIR",
			   "mask %#x", w[0].evmask);
	if (call(symlink("bar", P("sl")), "symlink sl"))
		expect("symlink gives create:sl", NULL, "create:sl", NULL);
	if (call(link(q, P("hl")), "link bar hl"))
		expect("link gives create:hl", NULL, "create:hl", NULL);
	snprintf(q, sizeof(q), "%s/x", out);
	fd = open(q, O_WRONLY | O_CREAT, 0644);
	if (call(fd, "create a file outside")) {
		close(fd);
		if (call(rename(q, P("in")), "rename a file in"))
			expect("a file moved in gives moved_to:in", NULL, "moved_to:in", NULL);
	}
	snprintf(q, sizeof(q), "%s/bar", out);
	if (call(rename(P("bar"), q), "rename a file out"))
		expect("a file moved out gives moved_from:bar", NULL, "moved_from:bar", NULL);
	if (call(unlink(P("hl")), "unlink hl") && call(unlink(P("sl")), "unlink sl"))
		expect("unlink gives delete:hl and delete:sl", NULL, "delete:hl", "delete:sl",
		       NULL);
	fd = open(P("in"), O_RDONLY);
	if (call(fd, "open in read-only")) {
		close(fd);
		parse_want("close_write:in", &w[0]);
		parse_want("modify:in", &w[1]);
		tap_result(wait_events(ifd, w, 2, 300) == 2,
			   "a read-only open and close gives no close_write or modify", "%s%s",
			   w[0].seen ? "close_write " : "", w[1].seen ? "modify" : "");
	}
	if (call(rename(wd, wd2), "rename the watched directory"))
		expect("moving the watched directory gives move_self", NULL, "move_self",
		       NULL);
	snprintf(q, sizeof(q), "%s/in", wd2);
	if (call(unlink(q), "unlink in") && call(rmdir(wd2), "rmdir the watched directory"))
		expect("removing the watched directory gives delete:in, delete_self, ignored",
		       NULL, "delete:in", "delete_self", "ignored", NULL);
#undef P
out:
	if (ifd >= 0)
		close(ifd);
	snprintf(q, sizeof(q), "%s/bar", out);
	unlink(q);
	rmdir(out);
	snprintf(q, sizeof(q), "%s/in", wd2);
	unlink(q);
	snprintf(q, sizeof(q), "%s/in", wd);
	unlink(q);
	rmdir(wd2);
	rmdir(wd);
	tap.group = "";
	if (rmdir(top))
		tap_result(false, "remove the test directory", "%s", strerror(errno));
	return tap_summary(PROG);
}

static int usage(const char *msg)
{
	fprintf(stderr, PROG ": %s\nTry 'fs-notify --help'.\n", msg);
	return 2;
}

int main(int argc, char **argv)
{
	char *end;
	long t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2)
		return usage("no command given");
	if (!strcmp(argv[1], "selftest")) {
		if (argc != 3)
			return usage("usage: fs-notify selftest DIR");
		return selftest(argv[2]);
	}
	if (strcmp(argv[1], "watch"))
		return usage("unknown command");
	if (argc < 5)
		return usage("usage: fs-notify watch DIR TIMEOUT_MS KIND:NAME...");
	errno = 0;
	t = strtol(argv[3], &end, 0);
	if (errno || *end || end == argv[3] || t < 1 || t > 24L * 3600 * 1000)
		return usage("TIMEOUT_MS is not a number of 1 to 86400000");
	if (argc - 4 > MAX_WANT)
		return usage("too many events (256 at most)");
	return watch(argv[2], (int)t, argc - 4, argv + 4);
}
