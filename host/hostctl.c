// SPDX-License-Identifier: MIT
/* pva-hostctl: drive a running pva-host. See pva-hostctl(1). */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "hostctl.h"
#include "size.h"

static bool opt_json;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: pva-hostctl [OPTION]... COMMAND [ARG]...\n"
"Drive a running pva-host.\n"
"\n"
"Commands:\n"
"  status                   host, guest and per-service state and counters\n"
"  ping [-c N] [-s BYTES] [-w WINDOW] [-t MS]\n"
"                           round trips host -> guest driver -> host:\n"
"                           -c/--count N pings (1-10000000, default 1) of\n"
"                           -s/--size BYTES (0 to the control ring's maximum,\n"
"                           32744 by default; 64), -w/--window WINDOW in\n"
"                           flight (1-256, default 1), failing after\n"
"                           -t/--timeout MS without an answer (10-3600000,\n"
"                           default 5000)\n"
"  restart                  restart pva-host's worker (the guest keeps running)\n"
"  reset                    reset the device: the guest renegotiates\n"
"  balloon set SIZE         take SIZE (512M, 1G, 0 to give all back) of the\n"
"                           guest's memory into the balloon\n"
"  balloon status           target, actual, host memory freed, statistics\n"
"  balloon stats [--interval SECONDS]\n"
"                           fresh guest memory statistics; --interval sets\n"
"                           how often the guest sends them (0: off)\n"
"  share add NAME PATH [--ro]\n"
"                           share the host directory PATH with the guest as\n"
"                           NAME (read-only with --ro); kept across worker\n"
"                           restarts until pva-host stops\n"
"  share remove NAME        stop sharing NAME; the guest's mounts of it fail\n"
"                           with ESTALE from then on\n"
"  share list               the shares, their paths and guest mounts\n"
"  display heads            each head: the size the host asks for, what the\n"
"                           guest shows, update counters\n"
"  display resize WIDTH HEIGHT [--head N]\n"
"                           ask the guest for WIDTHxHEIGHT on head N (0-3,\n"
"                           default 0), turning it on; heads are placed\n"
"                           left to right\n"
"  display disable --head N turn head N off (not the last one on)\n"
"  display screenshot [--head N] FILE\n"
"                           write what head N shows to FILE (PNG)\n"
"  clipboard set [--type MIME] [--primary] [--file FILE]\n"
"                           the host's clipboard (PRIMARY with --primary)\n"
"                           gets FILE or standard input, as MIME (default\n"
"                           text/plain;charset=utf-8); the guest pastes it\n"
"  clipboard set --clear    the clipboard becomes empty, in the guest too\n"
"  clipboard get [--type MIME] [--primary] [--timeout SECONDS] [--output FILE]\n"
"                           the clipboard's content (the guest's, when it\n"
"                           copied last) to standard output or FILE: as\n"
"                           MIME, or text, or its first type; waits for the\n"
"                           guest up to SECONDS (default 10)\n"
"  clipboard watch          a line per change: who owns the clipboard now,\n"
"                           with its types; until interrupted\n"
"  clipboard status         owners, types, transfer counters\n"
"  guest                    what the guest's agent reports: OS, kernel,\n"
"                           architecture, host name, network interfaces,\n"
"                           users and sessions, uptime, pva versions and\n"
"                           features, the active session and its display\n"
"  time sync                the guest checks its clock against the host's\n"
"                           now: steps it when far off, slews it when close\n"
"  time status              the guest's offset at its last check, and what\n"
"                           it did\n"
"  shutdown [--timeout S]   a clean shutdown of the guest (its init); waits\n"
"                           until it is gone (default 120 s)\n"
"  reboot [--timeout S]     a clean reboot of the guest, the same way\n"
"  fsfreeze freeze [--timeout S]\n"
"                           freeze the guest's writable filesystems (after\n"
"                           its freeze hooks) for a consistent snapshot; the\n"
"                           guest thaws them by itself after S s (default 60)\n"
"  fsfreeze thaw | status   thaw them / say whether they are frozen\n"
"  debug corrupt WHAT       test switch: write malformed shared memory;\n"
"                           WHAT: magic, major, table, ring-index, msg-len,\n"
"                           restore, or 'random SEED' (one random write)\n"
"  debug send SERVICE TYPE HEX\n"
"                           test switch: send the guest an event of TYPE\n"
"                           with the payload HEX ('-' for none) on SERVICE\n"
"  debug resume             test switch: tell the guest the host resumed from\n"
"                           sleep (it syncs its clock at once)\n"
"  debug proto MIN MAX MINOR FEATURES\n"
"                           test switch: offer majors MIN-MAX, MINOR and\n"
"                           FEATURES (a mask), then reset the device\n"
"\n"
"Options:\n"
"  -d, --run-dir DIR        pva-host's run directory (default " PVA_DEFAULT_RUN_DIR ")\n"
"  -c, --ctl PATH           pva-host's control socket (default DIR/ctl.sock)\n"
"  -j, --json               print the daemon's JSON answer\n"
"  -h, --help               show this help\n"
"  -V, --version            show the version\n"
"\n"
"The environment variable PVA_HOST_DIR replaces the default run directory.\n"
"\n"
"Exit status: 0 success, 1 the operation failed, 2 usage error,\n"
"3 pva-host not reachable.\n");
}

static int connect_ctl(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "pva-hostctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "pva-hostctl: cannot reach pva-host at %s: %s\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The request as one line, with @pass_fd (if >= 0) along with it. */
static int send_request(int fd, struct json_object *req, int pass_fd)
{
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s);
	char *line = malloc(n + 1);
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctrl;
	struct iovec iov = { .iov_base = line, .iov_len = n + 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t w;

	if (!line)
		return -1;
	memcpy(line, s, n);
	line[n] = '\n';
	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = sizeof(ctrl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	/* one sendmsg: a request fits the socket buffer (<= 64 KiB) */
	w = sendmsg(fd, &mh, MSG_NOSIGNAL);
	free(line);
	return w == (ssize_t)(n + 1) ? 0 : -1;
}

int hostctl_connect(const char *path, struct json_object *req, int pass_fd)
{
	int fd = connect_ctl(path);

	if (fd < 0)
		return -1;
	if (send_request(fd, req, pass_fd) < 0) {
		fprintf(stderr, "pva-hostctl: cannot send to pva-host: %s\n",
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Send @req (and @pass_fd), return the parsed answer (NULL after printing
 * an error).
 */
struct json_object *hostctl_call(const char *path, struct json_object *req,
				 int pass_fd, int *exit_code)
{
	size_t cap = 65536, len = 0;
	struct json_object *ans;
	char *buf;
	int fd;

	*exit_code = EXIT_NO_DAEMON;
	fd = hostctl_connect(path, req, pass_fd);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	for (;;) {
		ssize_t n;

		if (!buf)
			break;
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf)
		return NULL;
	buf[len] = 0;
	ans = len ? json_tokener_parse(buf) : NULL;
	free(buf);
	if (!ans) {
		fprintf(stderr, "pva-hostctl: no valid answer from pva-host (did it stop?)\n");
		return NULL;
	}
	*exit_code = EXIT_OK;
	return ans;
}

const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_get_string(v);
}

int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

double jdbl(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_double(v);
}

struct json_object *jobj(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* The shared-folder counters, when pva-host offers the service. */
static void print_sf(struct json_object *svcs)
{
	size_t n = svcs ? json_object_array_length(svcs) : 0;
	struct json_object *f = NULL;

	for (size_t i = 0; i < n && !f; i++)
		f = jobj(json_object_array_get_idx(svcs, i), "sf");
	if (!f)
		return;
	printf("sf: %lld shares, %lld mounts, %lld nodes, %lld handles, %lld lock owners, %lld watches\n",
	       (long long)jint(f, "shares"), (long long)jint(f, "mounts"),
	       (long long)jint(f, "nodes"), (long long)jint(f, "handles"),
	       (long long)jint(f, "lock_owners"), (long long)jint(f, "watches"));
	printf("  malformed %lld, EROFS %lld, EMFILE %lld, stale %lld, notifications %lld sent, %lld own dropped, %lld overflows\n",
	       (long long)jint(f, "malformed"), (long long)jint(f, "erofs"),
	       (long long)jint(f, "emfile"), (long long)jint(f, "stale"),
	       (long long)jint(f, "notify_sent"), (long long)jint(f, "notify_own"),
	       (long long)jint(f, "notify_overflows"));
}

static void print_status(struct json_object *a)
{
	struct json_object *h = jobj(a, "host"), *g = jobj(a, "guest");
	struct json_object *svcs = jobj(a, "services"), *info = NULL;
	size_t n = svcs ? json_object_array_length(svcs) : 0;

	printf("pva-host %s, protocol %s, features %s, generation %lld\n",
	       jstr(h, "version"), jstr(h, "protocol"), jstr(h, "features"),
	       (long long)jint(h, "generation"));
	printf("  worker pid %lld, up %lld s, %lld restarts; %lld KiB shared memory, %lld vectors\n",
	       (long long)jint(h, "worker_pid"), (long long)jint(h, "worker_uptime_s"),
	       (long long)jint(h, "worker_restarts"),
	       (long long)(jint(h, "shm_size") >> 10), (long long)jint(h, "vectors"));
	printf("  resets %lld, guest protocol errors %lld, guest ring failures %lld, doorbells %lld, interrupts %lld\n",
	       (long long)jint(h, "resets"), (long long)jint(h, "protocol_errors"),
	       (long long)jint(h, "guest_ring_failures"),
	       (long long)jint(a, "doorbells"), (long long)jint(a, "interrupts"));
	printf("guest: %s", jstr(g, "status"));
	if (*jstr(g, "error"))
		printf(" (%s)", jstr(g, "error"));
	if (json_object_get_boolean(jobj(g, "negotiated")))
		printf(", protocol %s, features %s, %lld vectors",
		       jstr(g, "protocol"), jstr(g, "features"),
		       (long long)jint(g, "vectors"));
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		info = jobj(json_object_array_get_idx(svcs, i), "guest_info");
		if (info)
			break;
	}
	if (info)
		printf("  %s %s %s, pva driver %s, %lld CPUs, %lld MiB\n",
		       jstr(info, "os"), jstr(info, "kernel"), jstr(info, "arch"),
		       jstr(info, "driver"), (long long)jint(info, "cpus"),
		       (long long)(jint(info, "mem_total") >> 20));
	printf("services:\n  %-10s %-8s %3s %10s %12s %10s %12s %7s %5s\n",
	       "NAME", "TYPE", "VEC", "G2H MSGS", "G2H BYTES", "H2G MSGS",
	       "H2G BYTES", "FULL", "BAD");
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(svcs, i);

		printf("  %-10s %-8s %3lld %10lld %12lld %10lld %12lld %7lld %5lld\n",
		       jstr(s, "name"), jstr(s, "type"),
		       (long long)jint(s, "vector"), (long long)jint(s, "rx_msgs"),
		       (long long)jint(s, "rx_bytes"), (long long)jint(s, "tx_msgs"),
		       (long long)jint(s, "tx_bytes"), (long long)jint(s, "tx_full"),
		       (long long)jint(s, "bad_msgs"));
	}
	print_sf(svcs);
}

static void print_ping(struct json_object *a)
{
	printf("%lld pings of %lld bytes (window %lld): %lld answered, %lld lost, %lld bad, %lld out of order, %.2f s\n",
	       (long long)jint(a, "sent"), (long long)jint(a, "size"),
	       (long long)jint(a, "window"), (long long)jint(a, "received"),
	       (long long)jint(a, "lost"), (long long)jint(a, "bad"),
	       (long long)jint(a, "reordered"), jdbl(a, "elapsed_s"));
	if (jint(a, "received"))
		printf("round trip us: min %.1f, median %.1f, avg %.1f, p99 %.1f, max %.1f\n",
		       jdbl(a, "rtt_min_us"), jdbl(a, "rtt_median_us"),
		       jdbl(a, "rtt_avg_us"), jdbl(a, "rtt_p99_us"),
		       jdbl(a, "rtt_max_us"));
}

static int parse_num(const char *what, const char *s, long long min,
		     long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "pva-hostctl: %s: '%s' is not a number between %lld and %lld\n",
			what, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static struct json_object *build_ping(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "window", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ 0 },
	};
	struct json_object *req = json_object_new_object();
	long long v;
	int c;

	json_object_object_add(req, "cmd", json_object_new_string("ping"));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:s:w:t:", opts, NULL)) != -1) {
		const char *key;
		long long max, min = 1;

		switch (c) {
		case 'c':
			key = "count";
			max = 10000000;
			break;
		case 's':
			key = "size";
			max = 65536;
			break;
		case 'w':
			key = "window";
			max = 256;
			break;
		case 't':
			key = "timeout_ms";
			max = 3600000;
			min = 10;
			break;
		default:
			goto bad;
		}
		if (parse_num(key, optarg, c == 's' ? 0 : min, max, &v) < 0)
			goto bad;
		json_object_object_add(req, key, json_object_new_int64(v));
	}
	if (optind != argc) {
		fprintf(stderr, "pva-hostctl: ping: unexpected argument '%s'\n",
			argv[optind]);
		goto bad;
	}
	return req;
bad:
	json_object_put(req);
	return NULL;
}

static void print_mib(const char *label, int64_t bytes)
{
	printf("%s%.1f MiB", label, (double)bytes / (1 << 20));
}

static void print_balloon_stats(struct json_object *s)
{
	static const char *const mem[] = {
		"total", "free", "available", "cached", "swap_in", "swap_out",
	};
	static const char *const count[] = {
		"major_faults", "minor_faults", "oom_kills", "hugetlb_allocs",
		"hugetlb_failures",
	};

	if (!jint(s, "updates")) {
		printf("guest statistics: none yet\n");
		return;
	}
	printf("guest statistics (%.1f s old, %lld updates):\n",
	       jdbl(s, "age_ms") / 1000, (long long)jint(s, "updates"));
	for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++)
		if (jobj(s, mem[i])) {
			printf("  %-16s ", mem[i]);
			print_mib("", jint(s, mem[i]));
			printf("\n");
		}
	for (size_t i = 0; i < sizeof(count) / sizeof(count[0]); i++)
		if (jobj(s, count[i]))
			printf("  %-16s %lld\n", count[i], (long long)jint(s, count[i]));
}

static void print_balloon(struct json_object *a)
{
	struct json_object *h = jobj(a, "host");

	print_mib("balloon: target ", jint(a, "target"));
	print_mib(", actual ", jint(a, "actual"));
	printf("%s%s%s\n", json_object_get_boolean(jobj(a, "guest_driver")) ?
	       "" : " (no guest driver)",
	       json_object_get_boolean(jobj(a, "stalled")) ?
	       ", stalled: the guest has no more memory to give" : "",
	       json_object_get_boolean(jobj(a, "oom_limited")) ?
	       ", limited: the guest took memory back when it ran short" : "");
	if (jint(a, "oom_deflated")) {
		print_mib("  taken back under memory pressure: ", jint(a, "oom_deflated"));
		printf("\n");
	}
	if (*jstr(a, "ram_file")) {
		printf("host: guest RAM %s, ", jstr(a, "ram_file"));
		print_mib("", jint(h, "ram_size"));
		print_mib(", in use ", jint(h, "ram_allocated"));
		print_mib("; freed by the balloon ", jint(h, "discarded"));
		printf("\n");
	} else {
		printf("host: no --guest-ram, memory is counted but not returned\n");
	}
	print_mib("  inflated ", jint(h, "inflated"));
	print_mib(", deflated ", jint(h, "deflated"));
	print_mib(", reported free ", jint(h, "reported"));
	print_mib(", refused ", jint(h, "refused"));
	printf("\n");
	print_balloon_stats(jobj(a, "stats"));
}

static void print_balloon_set(struct json_object *a)
{
	print_mib("balloon target set to ", jint(a, "target"));
	printf("%s\n", json_object_get_boolean(jobj(a, "guest_driver")) ?
	       "" : " (applies when the guest driver comes)");
}

static struct json_object *build_balloon(int argc, char **argv)
{
	struct json_object *req = json_object_new_object();
	uint64_t size;

	if (argc == 3 && !strcmp(argv[1], "set")) {
		if (parse_size(argv[2], &size) < 0) {
			fprintf(stderr, "pva-hostctl: balloon set: '%s' is not a size (like 512M or 1G)\n",
				argv[2]);
			goto bad;
		}
		json_object_object_add(req, "cmd", json_object_new_string("balloon-set"));
		json_object_object_add(req, "size", json_object_new_int64((int64_t)size));
		return req;
	}
	if (argc == 2 && !strcmp(argv[1], "status")) {
		json_object_object_add(req, "cmd", json_object_new_string("balloon-status"));
		return req;
	}
	if ((argc == 2 || argc == 4) && !strcmp(argv[1], "stats")) {
		json_object_object_add(req, "cmd", json_object_new_string("balloon-stats"));
		if (argc == 4) {
			char *end;
			double s;

			errno = 0;
			s = strtod(argv[3], &end);
			if (strcmp(argv[2], "--interval") || errno ||
			    end == argv[3] || *end || s < 0 || s > 3600 ||
			    (s > 0 && s < 0.1)) {
				fprintf(stderr, "pva-hostctl: balloon stats: --interval takes 0 (off) or 0.1-3600 seconds\n");
				goto bad;
			}
			json_object_object_add(req, "interval_ms",
					       json_object_new_int64((int64_t)(s * 1000)));
		}
		return req;
	}
	fprintf(stderr, "pva-hostctl: usage: balloon set SIZE | balloon status | balloon stats [--interval SECONDS]\n");
bad:
	json_object_put(req);
	return NULL;
}

static struct json_object *build_share(int argc, char **argv)
{
	struct json_object *req = json_object_new_object();
	bool ro = false;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		json_object_object_add(req, "cmd", json_object_new_string("sf-share-list"));
		return req;
	}
	if (argc == 3 && !strcmp(argv[1], "remove")) {
		json_object_object_add(req, "cmd", json_object_new_string("sf-share-remove"));
		json_object_object_add(req, "name", json_object_new_string(argv[2]));
		return req;
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "add")) {
		char *path;

		for (int i = 4; i < argc; i++) {
			if (strcmp(argv[i], "--ro"))
				goto usage;
			ro = true;
		}
		/* pva-host has its own working directory */
		path = realpath(argv[3], NULL);
		if (!path) {
			fprintf(stderr, "pva-hostctl: share add: %s: %s\n",
				argv[3], strerror(errno));
			goto bad;
		}
		json_object_object_add(req, "cmd", json_object_new_string("sf-share-add"));
		json_object_object_add(req, "name", json_object_new_string(argv[2]));
		json_object_object_add(req, "path", json_object_new_string(path));
		json_object_object_add(req, "ro", json_object_new_boolean(ro));
		free(path);
		return req;
	}
usage:
	fprintf(stderr, "pva-hostctl: usage: share add NAME PATH [--ro] | share remove NAME | share list\n");
bad:
	json_object_put(req);
	return NULL;
}

static void print_shares(struct json_object *a)
{
	struct json_object *l = jobj(a, "shares");
	size_t n = l ? json_object_array_length(l) : 0;

	if (!n) {
		printf("no shares\n");
		return;
	}
	printf("%-16s %-3s %6s  %s\n", "NAME", "RO", "MOUNTS", "PATH");
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(l, i);

		printf("%-16s %-3s %6lld  %s\n", jstr(s, "name"),
		       json_object_get_boolean(jobj(s, "ro")) ? "ro" : "rw",
		       (long long)jint(s, "mounts"), jstr(s, "path"));
	}
}

static struct json_object *build_debug(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "resume")) {
		/* as if the host had slept: the guest syncs its clock now */
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "cmd", json_object_new_string("time-sync"));
		json_object_object_add(r, "reason", json_object_new_string("resume"));
		return r;
	}
	static const char *const keys[] = {
		"major_min", "major_max", "minor", "features",
	};
	struct json_object *req = json_object_new_object(), *p;
	long long v;

	json_object_object_add(req, "cmd", json_object_new_string("debug"));
	if (argc == 4 && !strcmp(argv[1], "corrupt") &&
	    !strcmp(argv[2], "random")) {
		char *end;
		unsigned long seed = strtoul(argv[3], &end, 0);

		if (end == argv[3] || *end) {
			fprintf(stderr, "pva-hostctl: debug corrupt random: bad seed '%s'\n",
				argv[3]);
			json_object_put(req);
			return NULL;
		}
		json_object_object_add(req, "corrupt_random",
				       json_object_new_int64((int64_t)(uint32_t)seed));
		return req;
	}
	if (argc == 5 && !strcmp(argv[1], "send")) {
		char *end;
		unsigned long type = strtoul(argv[3], &end, 0);

		if (end == argv[3] || *end || type > 0xffff) {
			fprintf(stderr, "pva-hostctl: debug send: bad type '%s'\n",
				argv[3]);
			json_object_put(req);
			return NULL;
		}
		p = json_object_new_object();
		json_object_object_add(p, "service", json_object_new_string(argv[2]));
		json_object_object_add(p, "type", json_object_new_int64((int64_t)type));
		json_object_object_add(p, "payload",
				       json_object_new_string(strcmp(argv[4], "-") ? argv[4] : ""));
		json_object_object_add(req, "send", p);
		return req;
	}
	if (argc == 3 && !strcmp(argv[1], "corrupt")) {
		json_object_object_add(req, "corrupt",
				       json_object_new_string(argv[2]));
		return req;
	}
	if (argc == 6 && !strcmp(argv[1], "proto")) {
		p = json_object_new_object();
		json_object_object_add(req, "proto", p);
		for (int i = 0; i < 4; i++) {
			char *end;

			errno = 0;
			v = (long long)strtoull(argv[2 + i], &end, 0);
			if (errno || end == argv[2 + i] || *end || argv[2 + i][0] == '-') {
				fprintf(stderr, "pva-hostctl: debug proto: bad %s '%s'\n",
					keys[i], argv[2 + i]);
				json_object_put(req);
				return NULL;
			}
			json_object_object_add(p, keys[i],
					       json_object_new_uint64((uint64_t)v));
		}
		return req;
	}
	fprintf(stderr, "pva-hostctl: usage: debug corrupt WHAT | debug corrupt random SEED | debug proto MIN MAX MINOR FEATURES\n");
	json_object_put(req);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run-dir", required_argument, NULL, 'd' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *run_dir = getenv("PVA_HOST_DIR");
	char *ctl = NULL, pathbuf[4096];
	struct json_object *req = NULL, *ans;
	const char *cmd;
	int c, code;
	bool ok;

	if (!run_dir)
		run_dir = PVA_DEFAULT_RUN_DIR;
	while ((c = getopt_long(argc, argv, "+d:c:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			run_dir = optarg;
			break;
		case 'c':
			ctl = optarg;
			break;
		case 'j':
			opt_json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("pva-hostctl %s\n", PVA_HOST_VERSION);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'pva-hostctl --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!ctl) {
		snprintf(pathbuf, sizeof(pathbuf), "%s/ctl.sock", run_dir);
		ctl = pathbuf;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "ping")) {
		req = build_ping(argc, argv);
	} else if (!strcmp(cmd, "status") || !strcmp(cmd, "restart") ||
		   !strcmp(cmd, "reset")) {
		if (argc != 1) {
			fprintf(stderr, "pva-hostctl: %s takes no arguments\n", cmd);
			return EXIT_USAGE;
		}
		req = json_object_new_object();
		json_object_object_add(req, "cmd", json_object_new_string(cmd));
	} else if (!strcmp(cmd, "debug")) {
		req = build_debug(argc, argv);
	} else if (!strcmp(cmd, "balloon")) {
		req = build_balloon(argc, argv);
	} else if (!strcmp(cmd, "share")) {
		req = build_share(argc, argv);
	} else if (!strcmp(cmd, "display")) {
		req = build_display(argc, argv);
	} else if (!strcmp(cmd, "clipboard")) {
		return run_clipboard(ctl, argc, argv, opt_json);
	} else if (!strcmp(cmd, "time") || !strcmp(cmd, "shutdown") ||
		   !strcmp(cmd, "reboot") || !strcmp(cmd, "fsfreeze")) {
		req = build_control(cmd, argc, argv);
	} else if (!strcmp(cmd, "guest")) {
		if (argc != 1) {
			fprintf(stderr, "pva-hostctl: guest takes no arguments\n");
			return EXIT_USAGE;
		}
		req = json_object_new_object();
		json_object_object_add(req, "cmd", json_object_new_string("guest"));
	} else {
		fprintf(stderr, "pva-hostctl: unknown command '%s'\nTry 'pva-hostctl --help'.\n",
			cmd);
		return EXIT_USAGE;
	}
	if (!req)
		return EXIT_USAGE;
	ans = hostctl_call(ctl, req, -1, &code);
	json_object_put(req);
	if (!ans)
		return code;
	ok = json_object_get_boolean(jobj(ans, "ok"));
	if (opt_json)
		printf("%s\n", json_object_to_json_string_ext(ans,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	else if (!strcmp(cmd, "status"))
		print_status(ans);
	else if (!strcmp(cmd, "ping") && jobj(ans, "sent"))
		print_ping(ans);	/* also a partial result on failure */
	else if (ok && !strcmp(cmd, "restart"))
		printf("pva-host's worker is restarting; the guest renegotiates\n");
	else if (ok && !strcmp(cmd, "reset"))
		printf("device reset; the guest renegotiates\n");
	else if (ok && !strcmp(cmd, "debug"))
		printf("done\n");
	else if (ok && !strcmp(cmd, "balloon") && !strcmp(argv[1], "status"))
		print_balloon(ans);
	else if (ok && !strcmp(cmd, "balloon") && !strcmp(argv[1], "stats"))
		print_balloon_stats(ans);
	else if (ok && !strcmp(cmd, "balloon"))
		print_balloon_set(ans);
	else if (ok && !strcmp(cmd, "share") && !strcmp(argv[1], "list"))
		print_shares(ans);
	else if (ok && !strcmp(cmd, "share") && !strcmp(argv[1], "add"))
		printf("share %s added\n", argv[2]);
	else if (ok && !strcmp(cmd, "share"))
		printf("share %s removed (%lld guest mounts revoked)\n", argv[2],
		       (long long)jint(ans, "revoked_mounts"));
	else if (ok && !strcmp(cmd, "display"))
		print_display(argv[1], ans);
	else if (ok && !strcmp(cmd, "guest"))
		print_guest(ans);
	else if (ok && (!strcmp(cmd, "time") || !strcmp(cmd, "shutdown") ||
			!strcmp(cmd, "reboot") || !strcmp(cmd, "fsfreeze")))
		print_control(cmd, argc > 1 ? argv[1] : "", ans);
	if (!ok)
		fprintf(stderr, "pva-hostctl: %s\n", jstr(ans, "error"));
	json_object_put(ans);
	return ok ? EXIT_OK : EXIT_FAILED;
}
