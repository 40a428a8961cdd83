// SPDX-License-Identifier: MIT
#include "ctl.h"

#include <errno.h>
#include <stdint.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device.h"
#include "log.h"
#include "loop.h"

struct ctl_server {
	struct loop *loop;
	int listen_fd;
	struct loop_source *src;
	struct device *dev;
	void (*restart)(void *);
	void *restart_data;
	struct ctl_client *clients;
};

struct ctl_client {
	struct ctl_server *srv;
	int fd;
	struct loop_source *src;
	char *buf;
	size_t len;
	bool answered;		/* request dispatched */
	bool streaming;		/* ctl_send() was used: events until EOF */
	int passed_fd;		/* sent with the request (SCM_RIGHTS), or -1 */
	ctl_cancel_fn cancel;
	void *cancel_data;
	struct ctl_client *next;
};

static void client_free(struct ctl_client *c)
{
	struct ctl_client **pp = &c->srv->clients;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	loop_remove(c->src);
	close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	free(c->buf);
	free(c);
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* a slow reader: wait for it, briefly (poll: the
			 * descriptor may be above FD_SETSIZE, sf holds many)
			 */
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			if (poll(&p, 1, 5000) <= 0)
				return;
			continue;
		}
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

void ctl_reply(struct ctl_client *c, struct json_object *obj)
{
	const char *s;

	if (!json_object_object_get_ex(obj, "ok", NULL))
		json_object_object_add(obj, "ok", json_object_new_boolean(1));
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	send_all(c->fd, s, strlen(s));
	send_all(c->fd, "\n", 1);
	json_object_put(obj);
	client_free(c);
}

void ctl_send(struct ctl_client *c, struct json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj,
						       JSON_C_TO_STRING_PLAIN);

	c->streaming = true;
	send_all(c->fd, s, strlen(s));
	send_all(c->fd, "\n", 1);
	json_object_put(obj);
}

int ctl_take_fd(struct ctl_client *c)
{
	int fd = c->passed_fd;

	c->passed_fd = -1;
	return fd;
}

void ctl_reply_error(struct ctl_client *c, const char *fmt, ...)
{
	struct json_object *obj = json_object_new_object();
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_object_add(obj, "ok", json_object_new_boolean(0));
	json_object_object_add(obj, "error", json_object_new_string(buf));
	ctl_reply(c, obj);
}

void ctl_set_cancel(struct ctl_client *c, ctl_cancel_fn fn, void *data)
{
	c->cancel = fn;
	c->cancel_data = data;
}

static const struct {
	const char *name;
	enum device_corruption what;
} corruptions[] = {
	{ "magic", CORRUPT_MAGIC },
	{ "major", CORRUPT_MAJOR },
	{ "table", CORRUPT_TABLE },
	{ "ring-index", CORRUPT_RING_INDEX },
	{ "msg-len", CORRUPT_MSG_LEN },
	{ "restore", CORRUPT_NONE },
};

static int get_u64(struct json_object *o, const char *key, uint64_t max,
		   uint64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	*out = (uint64_t)json_object_get_uint64(v);
	return *out > max ? -1 : 0;
}

static void cmd_debug_proto(struct ctl_client *c, struct json_object *p)
{
	uint64_t min, max, minor, features;

	if (get_u64(p, "major_min", 0xffff, &min) ||
	    get_u64(p, "major_max", 0xffff, &max) ||
	    get_u64(p, "minor", 0xffff, &minor) ||
	    get_u64(p, "features", UINT64_MAX, &features) || !min || min > max) {
		ctl_reply_error(c, "debug: proto needs major_min (>= 1) <= major_max, minor, features");
		return;
	}
	device_set_protocol(c->srv->dev, (unsigned int)min, (unsigned int)max,
			    (unsigned int)minor, features);
	ctl_reply(c, json_object_new_object());
}

/* Test switch: send the guest an event of our making (malformed on
 * purpose), to test how its drivers cope.
 */
static void cmd_debug_send(struct ctl_client *c, struct json_object *p)
{
	uint8_t payload[4096];
	struct json_object *v;
	const char *name = "", *hex = "";
	struct service *svc;
	uint64_t type;
	size_t len, i;
	int err;

	if (json_object_object_get_ex(p, "service", &v))
		name = json_object_get_string(v);
	if (json_object_object_get_ex(p, "payload", &v))
		hex = json_object_get_string(v);
	len = strlen(hex) / 2;
	if (get_u64(p, "type", 0xffff, &type) || strlen(hex) % 2 ||
	    len > sizeof(payload)) {
		ctl_reply_error(c, "debug: send needs a service, a type (0-65535) and a payload of at most 4096 bytes in hex");
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1) {
			ctl_reply_error(c, "debug: send: the payload is not hex");
			return;
		}
		payload[i] = (uint8_t)b;
	}
	svc = device_find_service(c->srv->dev, name);
	if (!svc) {
		ctl_reply_error(c, "debug: send: no service '%s'", name);
		return;
	}
	err = service_send(svc, (uint16_t)type, 0, 0, 0, payload, (uint32_t)len);
	if (err == -ENOTCONN)
		ctl_reply_error(c, "debug: no negotiated guest");
	else if (err)
		ctl_reply_error(c, "debug: send failed: %s", strerror(-err));
	else
		ctl_reply(c, json_object_new_object());
}

static void cmd_debug(struct ctl_client *c, struct json_object *req)
{
	struct json_object *what;
	const char *name;

	if (json_object_object_get_ex(req, "send", &what)) {
		cmd_debug_send(c, what);
		return;
	}
	if (json_object_object_get_ex(req, "proto", &what)) {
		cmd_debug_proto(c, what);
		return;
	}
	if (json_object_object_get_ex(req, "corrupt_random", &what)) {
		if (!json_object_is_type(what, json_type_int)) {
			ctl_reply_error(c, "debug: corrupt_random needs a seed");
			return;
		}
		device_corrupt_random(c->srv->dev,
				      (uint32_t)json_object_get_int64(what));
		ctl_reply(c, json_object_new_object());
		return;
	}
	if (!json_object_object_get_ex(req, "corrupt", &what) ||
	    !json_object_is_type(what, json_type_string)) {
		ctl_reply_error(c, "debug: 'corrupt' must name what to corrupt");
		return;
	}
	name = json_object_get_string(what);
	for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		if (strcmp(corruptions[i].name, name))
			continue;
		int err = device_corrupt(c->srv->dev, corruptions[i].what);

		if (err == -ENOTCONN)
			ctl_reply_error(c, "debug: no negotiated guest to corrupt");
		else if (err)
			ctl_reply_error(c, "debug: the ring is full, try again");
		else
			ctl_reply(c, json_object_new_object());
		return;
	}
	ctl_reply_error(c, "debug: unknown corruption '%s' (magic, major, table, ring-index, msg-len, restore)",
			name);
}

static void dispatch(struct ctl_client *c, struct json_object *req)
{
	struct ctl_server *srv = c->srv;
	struct json_object *cmdo;
	const char *cmd;

	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &cmdo) ||
	    !json_object_is_type(cmdo, json_type_string)) {
		ctl_reply_error(c, "request must be a JSON object with a \"cmd\" string");
		return;
	}
	cmd = json_object_get_string(cmdo);
	if (!strcmp(cmd, "status")) {
		struct json_object *obj = json_object_new_object();

		device_status(srv->dev, obj);
		ctl_reply(c, obj);
		return;
	}
	if (!strcmp(cmd, "restart")) {
		ctl_reply(c, json_object_new_object());
		srv->restart(srv->restart_data);
		return;
	}
	if (!strcmp(cmd, "reset")) {
		device_reset(srv->dev, "requested by pva-hostctl");
		ctl_reply(c, json_object_new_object());
		return;
	}
	if (!strcmp(cmd, "debug")) {
		cmd_debug(c, req);
		return;
	}
	for (unsigned int i = 0; i < device_nr_services(srv->dev); i++) {
		struct service *svc = device_service(srv->dev, i);
		const struct ctl_command *cc = svc->ops->commands;

		for (; cc && cc->name; cc++) {
			if (!strcmp(cc->name, cmd)) {
				cc->handler(svc, c, req);
				return;
			}
		}
	}
	ctl_reply_error(c, "unknown command '%s'", cmd);
}

/* Read more of the request, and a descriptor sent with it (at most one:
 * more, or one after the first, are closed).
 */
static ssize_t recv_request(struct ctl_client *c, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctrl;
	struct iovec iov = {
		.iov_base = c->buf + c->len,
		.iov_len = CTL_MAX_REQUEST - c->len,
	};
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl.buf, .msg_controllen = sizeof(ctrl.buf),
	};
	struct cmsghdr *cm;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	for (cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t nfd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int pfd;

			memcpy(&pfd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
			if (c->passed_fd < 0)
				c->passed_fd = pfd;
			else
				close(pfd);
		}
	}
	return n;
}

static void client_event(struct loop *loop, int fd, uint32_t events,
			 void *data)
{
	struct ctl_client *c = data;
	struct json_object *req;
	char *nl;
	ssize_t n;

	(void)loop;
	if (c->answered) {
		/* waiting for a deferred answer: only EOF matters */
		char tmp[64];

		n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN) ||
		    (events & (EPOLLHUP | EPOLLERR))) {
			if (c->cancel)
				c->cancel(c, c->cancel_data);
			client_free(c);
		}
		return;
	}
	n = recv_request(c, fd);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->len += (size_t)n;
	nl = memchr(c->buf, '\n', c->len);
	if (!nl) {
		if (c->len == CTL_MAX_REQUEST)
			ctl_reply_error(c, "request longer than %d bytes",
					CTL_MAX_REQUEST);
		return;
	}
	*nl = 0;
	req = json_tokener_parse(c->buf);
	c->answered = true;
	if (!req) {
		ctl_reply_error(c, "request is not valid JSON");
		return;
	}
	dispatch(c, req);
	json_object_put(req);
}

static void listen_event(struct loop *loop, int fd, uint32_t events,
			 void *data)
{
	struct ctl_server *srv = data;
	struct ctl_client *c;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (c)
		c->buf = malloc(CTL_MAX_REQUEST + 1);
	if (!c || !c->buf) {
		if (c)
			free(c);
		close(cfd);
		return;
	}
	c->srv = srv;
	c->fd = cfd;
	c->passed_fd = -1;
	c->src = loop_add_fd(loop, cfd, EPOLLIN | EPOLLRDHUP, client_event, c);
	c->next = srv->clients;
	srv->clients = c;
}

struct ctl_server *ctl_server_new(struct loop *loop, int listen_fd,
				  struct device *dev,
				  void (*restart)(void *), void *restart_data)
{
	struct ctl_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->loop = loop;
	srv->listen_fd = listen_fd;
	srv->dev = dev;
	srv->restart = restart;
	srv->restart_data = restart_data;
	srv->src = loop_add_fd(loop, listen_fd, EPOLLIN, listen_event, srv);
	if (!srv->src) {
		free(srv);
		return NULL;
	}
	return srv;
}

void ctl_server_free(struct ctl_server *srv)
{
	if (!srv)
		return;
	while (srv->clients) {
		struct ctl_client *c = srv->clients;

		if (c->answered && c->cancel)
			c->cancel(c, c->cancel_data);
		client_free(c);
	}
	loop_remove(srv->src);
	free(srv);
}
