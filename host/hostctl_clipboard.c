// SPDX-License-Identifier: MIT
/*
 * pva-hostctl clipboard set/get/watch/status and guest. Contents go to
 * and from pva-host in a memfd passed with the request, so they can be
 * as large as pva-host's --clipboard-max.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hostctl.h"

static const char clip_usage[] =
	"pva-hostctl: usage: clipboard set [--type MIME] [--primary] [--file FILE | --clear] |\n"
	"             clipboard get [--type MIME] [--primary] [--timeout SECONDS] [--output FILE] |\n"
	"             clipboard watch | clipboard status\n";

struct clip_args {
	const char *sub, *type, *file, *output;
	bool primary, clear;
	long timeout_ms;
};

static int parse_args(int argc, char **argv, struct clip_args *c)
{
	memset(c, 0, sizeof(*c));
	c->sub = argc > 1 ? argv[1] : "";
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--primary")) {
			c->primary = true;
		} else if (!strcmp(o, "--clear")) {
			c->clear = true;
		} else if (!strcmp(o, "--type") && v) {
			c->type = v;
			i++;
		} else if (!strcmp(o, "--file") && v) {
			c->file = v;
			i++;
		} else if (!strcmp(o, "--output") && v) {
			c->output = v;
			i++;
		} else if (!strcmp(o, "--timeout") && v) {
			char *end;
			double s = strtod(v, &end);

			if (*end || s < 0.01 || s > 3600) {
				fprintf(stderr, "pva-hostctl: clipboard get: --timeout takes 0.01-3600 seconds, not '%s'\n",
					v);
				return -1;
			}
			c->timeout_ms = (long)(s * 1000);
			i++;
		} else {
			fputs(clip_usage, stderr);
			return -1;
		}
	}
	if (!strcmp(c->sub, "set") && !c->output && !c->timeout_ms &&
	    !(c->clear && (c->file || c->type)))
		return 0;
	if (!strcmp(c->sub, "get") && !c->file && !c->clear)
		return 0;
	if ((!strcmp(c->sub, "watch") || !strcmp(c->sub, "status")) &&
	    argc == 2)
		return 0;
	fputs(clip_usage, stderr);
	return -1;
}

static int copy_fd(int from, int to)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			return 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(to, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			off += w;
		}
	}
}

static struct json_object *request(const char *cmd, const struct clip_args *c)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (c->primary)
		json_object_object_add(req, "selection",
				       json_object_new_string("primary"));
	if (c->type)
		json_object_object_add(req, "type",
				       json_object_new_string(c->type));
	return req;
}

static void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
}

static int finish(struct json_object *ans, int code, bool json,
		  const char *done_msg)
{
	bool ok;

	if (!ans)
		return code;
	ok = json_object_get_boolean(jobj(ans, "ok"));
	if (json)
		print_json(ans);
	else if (ok && done_msg)
		fprintf(stderr, "%s\n", done_msg);
	if (!ok)
		fprintf(stderr, "pva-hostctl: %s\n", jstr(ans, "error"));
	json_object_put(ans);
	return ok ? EXIT_OK : EXIT_FAILED;
}

static int clip_set(const char *ctl, const struct clip_args *c, bool json)
{
	struct json_object *req = request("clipboard-set", c), *ans;
	int mfd = -1, in = STDIN_FILENO, code;

	if (c->clear) {
		json_object_object_add(req, "clear", json_object_new_boolean(1));
	} else {
		mfd = memfd_create("pva-clipboard", MFD_CLOEXEC);
		if (c->file) {
			in = open(c->file, O_RDONLY | O_CLOEXEC);
			if (in < 0) {
				fprintf(stderr, "pva-hostctl: clipboard set: %s: %s\n",
					c->file, strerror(errno));
				json_object_put(req);
				if (mfd >= 0)
					close(mfd);
				return EXIT_USAGE;
			}
		}
		if (mfd < 0 || copy_fd(in, mfd) < 0) {
			fprintf(stderr, "pva-hostctl: clipboard set: cannot read the content: %s\n",
				strerror(errno));
			json_object_put(req);
			return EXIT_FAILED;
		}
		if (in != STDIN_FILENO)
			close(in);
	}
	ans = hostctl_call(ctl, req, mfd, &code);
	json_object_put(req);
	if (mfd >= 0)
		close(mfd);
	if (ans && !json_object_get_boolean(jobj(ans, "guest_agent")) &&
	    json_object_get_boolean(jobj(ans, "ok")) && !json)
		fprintf(stderr, "pva-hostctl: note: no guest agent is connected; the guest gets it when one is\n");
	return finish(ans, code, json, NULL);
}

static int clip_get(const char *ctl, const struct clip_args *c, bool json)
{
	struct json_object *req = request("clipboard-get", c), *ans;
	int mfd = memfd_create("pva-clipboard", MFD_CLOEXEC), out, code, rc;

	if (mfd < 0) {
		fprintf(stderr, "pva-hostctl: memfd_create: %s\n", strerror(errno));
		json_object_put(req);
		return EXIT_FAILED;
	}
	if (c->timeout_ms)
		json_object_object_add(req, "timeout_ms",
				       json_object_new_int64(c->timeout_ms));
	ans = hostctl_call(ctl, req, mfd, &code);
	json_object_put(req);
	if (!ans || !json_object_get_boolean(jobj(ans, "ok"))) {
		close(mfd);
		return finish(ans, code, json, NULL);
	}
	out = STDOUT_FILENO;
	if (c->output) {
		out = open(c->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			   0644);
		if (out < 0) {
			fprintf(stderr, "pva-hostctl: clipboard get: %s: %s\n",
				c->output, strerror(errno));
			close(mfd);
			json_object_put(ans);
			return EXIT_FAILED;
		}
	}
	rc = EXIT_OK;
	if (lseek(mfd, 0, SEEK_SET) < 0 || copy_fd(mfd, out) < 0) {
		fprintf(stderr, "pva-hostctl: clipboard get: cannot write the content: %s\n",
			strerror(errno));
		rc = EXIT_FAILED;
	}
	if (json)
		fprintf(stderr, "%s\n", json_object_to_json_string_ext(ans,
			JSON_C_TO_STRING_PLAIN));
	if (out != STDOUT_FILENO)
		close(out);
	close(mfd);
	json_object_put(ans);
	return rc;
}

static void print_event(struct json_object *ev)
{
	const char *kind = jstr(ev, "event");

	if (!strcmp(kind, "agent")) {
		printf("agent %s\n", json_object_get_boolean(jobj(ev, "connected")) ?
		       "connected" : "not connected");
	} else if (!strcmp(kind, "owner")) {
		struct json_object *types = jobj(ev, "types");
		size_t n = types ? json_object_array_length(types) : 0;

		printf("%s: %s", jstr(ev, "selection"), jstr(ev, "owner"));
		for (size_t i = 0; i < n; i++)
			printf("%s%s", i ? ", " : " (",
			       json_object_get_string(json_object_array_get_idx(types, i)));
		printf("%s\n", n ? ")" : "");
	}
	fflush(stdout);
}

static int clip_watch(const char *ctl, const struct clip_args *c, bool json)
{
	struct json_object *req = request("clipboard-watch", c);
	struct json_tokener *tok = json_tokener_new();
	char buf[65536];
	int fd = hostctl_connect(ctl, req, -1);

	json_object_put(req);
	if (fd < 0) {
		json_tokener_free(tok);
		return EXIT_NO_DAEMON;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (off < (size_t)n) {
			struct json_object *ev;
			char *nl = memchr(buf + off, '\n', (size_t)n - off);
			size_t len = nl ? (size_t)(nl - buf - off) + 1 :
					  (size_t)n - off;

			ev = json_tokener_parse_ex(tok, buf + off, (int)len);
			off += len;
			if (!ev)
				continue;
			if (!json_object_get_boolean(jobj(ev, "ok")) &&
			    jobj(ev, "error")) {
				fprintf(stderr, "pva-hostctl: %s\n",
					jstr(ev, "error"));
				json_object_put(ev);
				close(fd);
				json_tokener_free(tok);
				return EXIT_FAILED;
			}
			if (json) {
				printf("%s\n", json_object_to_json_string_ext(ev,
					JSON_C_TO_STRING_PLAIN));
				fflush(stdout);
			} else {
				print_event(ev);
			}
			json_object_put(ev);
		}
	}
	close(fd);
	json_tokener_free(tok);
	fprintf(stderr, "pva-hostctl: pva-host closed the watch\n");
	return EXIT_NO_DAEMON;
}

static void print_status(struct json_object *ans)
{
	struct json_object *c = jobj(ans, "clipboard");
	struct json_object *sels = jobj(c, "selections");
	size_t n = sels ? json_object_array_length(sels) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(sels, i);

		s = json_object_get(s);
		json_object_object_add(s, "event", json_object_new_string("owner"));
		print_event(s);
		json_object_put(s);
	}
	printf("host grabs %lld, guest grabs %lld (%lld crossed), sent %lld bytes in %lld transfers, received %lld bytes in %lld, failed %lld; limit %lld bytes\n",
	       (long long)jint(c, "host_grabs"), (long long)jint(c, "guest_grabs"),
	       (long long)jint(c, "crossed"), (long long)jint(c, "sent_bytes"),
	       (long long)jint(c, "sent_transfers"),
	       (long long)jint(c, "received_bytes"), (long long)jint(c, "fetches"),
	       (long long)jint(c, "failed"), (long long)jint(c, "max"));
}

int run_clipboard(const char *ctl, int argc, char **argv, bool json)
{
	struct clip_args c;
	struct json_object *req, *ans;
	int code;

	if (parse_args(argc, argv, &c) < 0)
		return EXIT_USAGE;
	if (!strcmp(c.sub, "set"))
		return clip_set(ctl, &c, json);
	if (!strcmp(c.sub, "get"))
		return clip_get(ctl, &c, json);
	if (!strcmp(c.sub, "watch"))
		return clip_watch(ctl, &c, json);
	req = request("clipboard-status", &c);
	ans = hostctl_call(ctl, req, -1, &code);
	json_object_put(req);
	if (ans && !json && json_object_get_boolean(jobj(ans, "ok")))
		print_status(ans);
	return finish(ans, code, json, NULL);
}

void print_guest(struct json_object *ans)
{
	struct json_object *info = jobj(ans, "info");
	struct json_object *disp = jobj(ans, "display");

	if (!json_object_get_boolean(jobj(ans, "agent"))) {
		printf("no guest agent connected (pva-service not running in the guest?)\n");
		if (!info || !json_object_object_length(info))
			return;
		printf("last known:\n");
	} else {
		printf("guest agent: version %lld over %s, features 0x%llx\n",
		       (long long)jint(ans, "version"),
		       !strcmp(jstr(ans, "transport"), "direct") ?
		       "the direct socket" : "the pva device",
		       (unsigned long long)jint(ans, "features"));
	}
	json_object_object_foreach(info, key, val)
		printf("  %-22s %s\n", key, json_object_get_string(val));
	if (disp && jobj(disp, "heads")) {
		struct json_object *heads = jobj(disp, "heads");

		printf("  %-22s layout %lld, status %lld:", "session display",
		       (long long)jint(disp, "generation"),
		       (long long)jint(disp, "status"));
		for (size_t i = 0; i < json_object_array_length(heads); i++) {
			struct json_object *h = json_object_array_get_idx(heads, i);

			if (json_object_get_boolean(jobj(h, "enabled")))
				printf(" %lld:%lldx%lld+%lld+%lld", (long long)i,
				       (long long)jint(h, "width"),
				       (long long)jint(h, "height"),
				       (long long)jint(h, "x"),
				       (long long)jint(h, "y"));
		}
		printf("\n");
	}
}
