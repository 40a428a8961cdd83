// SPDX-License-Identifier: MIT
/* pva-hostctl time, shutdown, reboot, fsfreeze: guest control. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostctl.h"

static const char control_usage[] =
	"pva-hostctl: usage: time sync | time status | shutdown [--timeout SECONDS] |\n"
	"             reboot [--timeout SECONDS] | fsfreeze freeze [--timeout SECONDS] |\n"
	"             fsfreeze thaw | fsfreeze status\n";

/* --timeout SECONDS (1-3600) at argv[i], or -1 after a message. */
static long timeout_arg(int argc, char **argv, int i)
{
	char *end;
	long v;

	if (i + 1 >= argc || strcmp(argv[i], "--timeout"))
		return -1;
	v = strtol(argv[i + 1], &end, 10);
	if (*end || v < 1 || v > 3600) {
		fprintf(stderr, "pva-hostctl: --timeout takes 1-3600 seconds, not '%s'\n",
			argv[i + 1]);
		return -1;
	}
	return v;
}

static struct json_object *req_new(const char *cmd)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "cmd", json_object_new_string(cmd));
	return r;
}

struct json_object *build_control(const char *cmd, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct json_object *r;
	long t = 0;

	if (!strcmp(cmd, "time") && argc == 2 &&
	    (!strcmp(sub, "sync") || !strcmp(sub, "status")))
		return req_new(!strcmp(sub, "sync") ? "time-sync" : "time-status");
	if (!strcmp(cmd, "shutdown") || !strcmp(cmd, "reboot")) {
		if (argc == 3 || argc > 3) {
			t = timeout_arg(argc, argv, 1);
			if (t < 0 || argc != 3)
				goto usage;
		} else if (argc != 1) {
			goto usage;
		}
		r = req_new("power");
		json_object_object_add(r, "action", json_object_new_string(cmd));
		if (t)
			json_object_object_add(r, "timeout_ms",
					       json_object_new_int64(t * 1000));
		return r;
	}
	if (!strcmp(cmd, "fsfreeze") && (!strcmp(sub, "freeze") ||
					 !strcmp(sub, "thaw") ||
					 !strcmp(sub, "status"))) {
		if (argc == 4 && !strcmp(sub, "freeze")) {
			t = timeout_arg(argc, argv, 2);
			if (t < 0)
				goto usage;
		} else if (argc != 2) {
			goto usage;
		}
		r = req_new("fsfreeze");
		json_object_object_add(r, "op", json_object_new_string(sub));
		if (t)
			json_object_object_add(r, "timeout_s",
					       json_object_new_int64(t));
		return r;
	}
usage:
	fputs(control_usage, stderr);
	return NULL;
}

static void print_time(struct json_object *a)
{
	if (!json_object_get_boolean(jobj(a, "synced"))) {
		printf("the guest has not reported its clock yet\n");
		return;
	}
	bool ntp = json_object_get_boolean(jobj(a, "ntp"));
	const char *act = jstr(a, "action");

	/* "yielded" without NTP: the guest's time sync is off */
	if (!strcmp(act, "yielded to NTP") && !ntp)
		act = "left alone: the guest does not correct its clock";
	printf("guest clock: %+.6f s from the host's before the %s sync (%s); round trip %.3f ms; threshold %.3f s; NTP %s; %.1f s ago\n",
	       (double)jint(a, "offset_ns") / 1e9, jstr(a, "reason"),
	       act, (double)jint(a, "rtt_ns") / 1e6,
	       (double)jint(a, "threshold_ns") / 1e9,
	       ntp ? "runs" : "does not run",
	       (double)jint(a, "age_ms") / 1e3);
}

void print_control(const char *cmd, const char *sub, struct json_object *a)
{
	if (!strcmp(cmd, "time")) {
		print_time(a);
	} else if (!strcmp(cmd, "fsfreeze")) {
		long long n = (long long)jint(a, "frozen");

		if (n)
			printf("%lld filesystems frozen (thawed by the guest in %lld s unless thawed before): %s\n",
			       n, (long long)jint(a, "timeout_s"), jstr(a, "text"));
		else
			printf("no filesystem frozen%s%s\n",
			       *jstr(a, "text") ? ": " : "", jstr(a, "text"));
	} else {
		printf("the guest %s in %.1f s%s\n",
		       !strcmp(cmd, "reboot") ? "went down to reboot" :
		       "shut down", (double)jint(a, "elapsed_ms") / 1e3,
		       json_object_get_boolean(jobj(a, "reported")) ? "" :
		       " (it did not say it was going down)");
	}
	(void)sub;
}
