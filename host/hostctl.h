/* SPDX-License-Identifier: MIT */
/* pva-hostctl: reading the daemon's JSON answers, and the commands that
 * live in their own files.
 */
#ifndef PVA_HOSTCTL_H
#define PVA_HOSTCTL_H

#include <stdint.h>

struct json_object;

/* A field of @o, or "" / 0 / NULL if @o or the field is missing. */
const char *jstr(struct json_object *o, const char *key);
int64_t jint(struct json_object *o, const char *key);
double jdbl(struct json_object *o, const char *key);
struct json_object *jobj(struct json_object *o, const char *key);

/* display ...: the request, or NULL after a usage message. */
struct json_object *build_display(int argc, char **argv);
void print_display(const char *subcmd, struct json_object *ans);

#endif
