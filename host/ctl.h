/* SPDX-License-Identifier: MIT */
/*
 * The control socket: pva-hostctl sends one JSON object per connection,
 * terminated by a newline (with, for some commands, one file descriptor
 * for data, SCM_RIGHTS), and reads one JSON object back; watch commands
 * read one per event until they hang up. Every answer has "ok": true, or
 * "ok": false with "error": "<message>".
 */
#ifndef PVA_HOST_CTL_H
#define PVA_HOST_CTL_H

struct loop;
struct device;
struct ctl_client;
struct json_object;

#define CTL_MAX_REQUEST	65536

struct ctl_server;

typedef void (*ctl_cancel_fn)(struct ctl_client *client, void *data);

/* @restart is called for the "restart" command. */
struct ctl_server *ctl_server_new(struct loop *loop, int listen_fd,
				  struct device *dev,
				  void (*restart)(void *), void *restart_data);
void ctl_server_free(struct ctl_server *srv);

/* Answer and close. @obj gets "ok": true added; ownership is taken. */
void ctl_reply(struct ctl_client *client, struct json_object *obj);
void ctl_reply_error(struct ctl_client *client, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Send one JSON line and keep the connection (events, e.g. a watch); the
 * client's EOF calls the cancel function. Ownership of @obj is taken.
 */
void ctl_send(struct ctl_client *client, struct json_object *obj);
/* The descriptor that came with the request (SCM_RIGHTS), now the
 * caller's, or -1.
 */
int ctl_take_fd(struct ctl_client *client);
/* Called if the client goes away before a deferred answer. */
void ctl_set_cancel(struct ctl_client *client, ctl_cancel_fn fn, void *data);

#endif
