/* SPDX-License-Identifier: MIT */
/* pva-hostctl: reading the daemon's JSON answers, and the commands that
 * live in their own files.
 */
#ifndef PVA_HOSTCTL_H
#define PVA_HOSTCTL_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* the daemon refused or the operation failed */
	EXIT_USAGE = 2,
	EXIT_NO_DAEMON = 3,	/* pva-host is not running / not reachable */
};

/* Send @req with @pass_fd (-1: none) to pva-host at @path: the parsed
 * answer, or NULL after a message (*exit_code says why).
 */
struct json_object *hostctl_call(const char *path, struct json_object *req,
				 int pass_fd, int *exit_code);
/* Connect and send; the socket to read answers from, or -1. */
int hostctl_connect(const char *path, struct json_object *req, int pass_fd);

/* A field of @o, or "" / 0 / NULL if @o or the field is missing. */
const char *jstr(struct json_object *o, const char *key);
int64_t jint(struct json_object *o, const char *key);
double jdbl(struct json_object *o, const char *key);
struct json_object *jobj(struct json_object *o, const char *key);

/* display ...: the request, or NULL after a usage message. */
struct json_object *build_display(int argc, char **argv);
void print_display(const char *subcmd, struct json_object *ans);

/* clipboard ...: the whole command; its exit code. */
int run_clipboard(const char *ctl, int argc, char **argv, bool json);
void print_guest(struct json_object *ans);

/* time, shutdown, reboot, fsfreeze: the request, or NULL after usage. */
struct json_object *build_control(const char *cmd, int argc, char **argv);
void print_control(const char *cmd, const char *sub, struct json_object *ans);

#endif
