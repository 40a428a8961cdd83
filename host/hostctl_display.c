// SPDX-License-Identifier: MIT
/* pva-hostctl display: heads, resize, disable, screenshot. */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostctl.h"

static const char display_usage[] =
	"pva-hostctl: usage: display heads | display resize WIDTH HEIGHT [--head N] |\n"
	"             display disable --head N | display screenshot [--head N] FILE\n";

/* A decimal number of 1-9 digits, else -1. */
static long number(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9' || strlen(s) > 9)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end ? -1 : v;
}

/* FILE made absolute: pva-host writes it, from its own directory. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX], *out;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	out = malloc(strlen(cwd) + strlen(path) + 2);
	if (out)
		sprintf(out, "%s/%s", cwd, path);
	return out;
}

struct json_object *build_display(int argc, char **argv)
{
	struct json_object *req = json_object_new_object();
	const char *pos[3] = { NULL };
	const char *sub = argc > 1 ? argv[1] : "";
	long head = -1;
	int npos = 0;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--head") && i + 1 < argc) {
			head = number(argv[++i]);
			if (head < 0) {
				fprintf(stderr, "pva-hostctl: display: --head takes a head number (0-3), not '%s'\n",
					argv[i]);
				goto bad;
			}
		} else if (npos < 3 && argv[i][0] != '-') {
			pos[npos++] = argv[i];
		} else {
			goto usage;
		}
	}
	if (head >= 0)
		json_object_object_add(req, "head", json_object_new_int64(head));
	if (!strcmp(sub, "heads") && npos == 0 && head < 0) {
		json_object_object_add(req, "cmd", json_object_new_string("display-heads"));
		return req;
	}
	if (!strcmp(sub, "resize") && npos == 2) {
		long w = number(pos[0]), h = number(pos[1]);

		if (w < 0 || h < 0) {
			fprintf(stderr, "pva-hostctl: display resize: '%s' '%s' is not WIDTH HEIGHT in pixels\n",
				pos[0], pos[1]);
			goto bad;
		}
		json_object_object_add(req, "cmd", json_object_new_string("display-resize"));
		json_object_object_add(req, "width", json_object_new_int64(w));
		json_object_object_add(req, "height", json_object_new_int64(h));
		return req;
	}
	if (!strcmp(sub, "disable") && npos == 0 && head >= 0) {
		json_object_object_add(req, "cmd", json_object_new_string("display-disable"));
		return req;
	}
	if (!strcmp(sub, "screenshot") && npos == 1) {
		char *path = absolute(pos[0]);

		if (!path) {
			perror("pva-hostctl: display screenshot");
			goto bad;
		}
		json_object_object_add(req, "cmd", json_object_new_string("display-screenshot"));
		json_object_object_add(req, "path", json_object_new_string(path));
		free(path);
		return req;
	}
usage:
	fputs(display_usage, stderr);
bad:
	json_object_put(req);
	return NULL;
}

static void print_heads(struct json_object *ans)
{
	struct json_object *heads = jobj(ans, "heads");
	size_t n = heads ? json_object_array_length(heads) : 0;

	printf("guest driver: %s; generation %lld; %lld KiB per head\n",
	       json_object_get_boolean(jobj(ans, "guest_driver")) ? "up" : "none",
	       (long long)jint(ans, "generation"),
	       (long long)jint(ans, "head_memory") >> 10);
	for (size_t i = 0; i < n; i++) {
		struct json_object *h = json_object_array_get_idx(heads, i);
		struct json_object *so = jobj(h, "scanout");

		printf("head %lld: ", (long long)jint(h, "head"));
		if (json_object_get_boolean(jobj(h, "enabled")))
			printf("asked %lldx%lld at +%lld+%lld", (long long)jint(h, "width"),
			       (long long)jint(h, "height"), (long long)jint(h, "x"),
			       (long long)jint(h, "y"));
		else
			printf("off");
		if (json_object_get_boolean(jobj(so, "on")))
			printf("; shows %lldx%lld, %lld updates\n",
			       (long long)jint(so, "width"),
			       (long long)jint(so, "height"),
			       (long long)jint(so, "damages"));
		else
			printf("; shows nothing\n");
	}
}

void print_display(const char *sub, struct json_object *ans)
{
	if (!strcmp(sub, "heads"))
		print_heads(ans);
	else if (!strcmp(sub, "resize"))
		printf("head %lld: asked the guest for %lldx%lld%s\n",
		       (long long)jint(ans, "head"), (long long)jint(ans, "width"),
		       (long long)jint(ans, "height"),
		       json_object_get_boolean(jobj(ans, "guest_driver")) ? "" :
		       " (applies when the guest driver comes)");
	else if (!strcmp(sub, "disable"))
		printf("head %lld turned off\n", (long long)jint(ans, "head"));
	else if (!strcmp(sub, "screenshot"))
		printf("%s: head %lld, %lldx%lld\n", jstr(ans, "path"),
		       (long long)jint(ans, "head"), (long long)jint(ans, "width"),
		       (long long)jint(ans, "height"));
}
