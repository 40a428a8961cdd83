/* SPDX-License-Identifier: MIT */
/*
 * A pva-hostctl for host tests and fuzzers: the real control server
 * (host/ctl.c) on the fake guest's event loop, listening on an abstract
 * UNIX socket, and a client that sends one request and runs the loop until
 * the answer is there. Include after fake_guest.h.
 */
#ifndef PVA_TEST_FAKE_CTL_H
#define PVA_TEST_FAKE_CTL_H

#include <json-c/json.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"
#include "loop.h"

struct fake_ctl {
	struct loop *loop;
	struct ctl_server *srv;
	int lfd;
	struct sockaddr_un addr;
	socklen_t addrlen;
};

static inline void fc_no_restart(void *data)
{
	(void)data;
}

/* A control server for @dev on @loop; 0 or -1. */
static inline int fc_init(struct fake_ctl *fc, struct loop *loop,
			  struct device *dev)
{
	static unsigned int seq;
	int n;

	memset(fc, 0, sizeof(*fc));
	fc->loop = loop;
	fc->addr.sun_family = AF_UNIX;
	/* abstract: nothing to clean up on the file system */
	n = snprintf(fc->addr.sun_path + 1, sizeof(fc->addr.sun_path) - 1,
		     "pva-test-ctl-%d-%u", (int)getpid(), seq++);
	fc->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				  (size_t)n);
	fc->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fc->lfd < 0 ||
	    bind(fc->lfd, (struct sockaddr *)&fc->addr, fc->addrlen) < 0 ||
	    listen(fc->lfd, 16) < 0)
		return -1;
	fc->srv = ctl_server_new(loop, fc->lfd, dev, fc_no_restart, NULL);
	return fc->srv ? 0 : -1;
}

static inline void fc_fini(struct fake_ctl *fc)
{
	ctl_server_free(fc->srv);
	fc->srv = NULL;
	if (fc->lfd >= 0)
		close(fc->lfd);
	fc->lfd = -1;
}

static inline void fc_quit(struct loop *loop, int fd, uint32_t events,
			   void *data)
{
	(void)fd;
	(void)events;
	loop_quit(loop, *(const int *)data);
}

/* Send @req (taken) and return the answer (json_object_put() it), or NULL
 * if none came within 5 seconds.
 */
static inline struct json_object *fc_call(struct fake_ctl *fc,
					  struct json_object *req)
{
	static const int answered = 0, timed_out = 1;
	const char *s = json_object_to_json_string_ext(req,
						       JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s), got = 0;
	struct loop_source *src, *timer;
	struct json_object *ans = NULL;
	char *line = malloc(len + 2), buf[1 << 16];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	if (!line || fd < 0 ||
	    connect(fd, (struct sockaddr *)&fc->addr, fc->addrlen) < 0)
		goto out;
	memcpy(line, s, len);
	line[len] = '\n';
	if (write(fd, line, len + 1) != (ssize_t)(len + 1))
		goto out;
	src = loop_add_fd(fc->loop, fd, EPOLLIN | EPOLLRDHUP, fc_quit,
			  (void *)&answered);
	timer = loop_add_timer(fc->loop, 5000, fc_quit, (void *)&timed_out);
	n = loop_run(fc->loop);
	loop_remove(src);
	loop_remove(timer);
	if (n)
		goto out;
	/* the server closes its end after the answer */
	while (got < sizeof(buf) - 1 &&
	       (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	ans = json_tokener_parse(buf);
out:
	json_object_put(req);
	free(line);
	if (fd >= 0)
		close(fd);
	return ans;
}

/* fc_call() of a request written with printf()'s @fmt. */
static inline struct json_object *fc_callf(struct fake_ctl *fc,
					   const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline struct json_object *fc_callf(struct fake_ctl *fc,
					   const char *fmt, ...)
{
	struct json_object *req;
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	req = json_tokener_parse(buf);
	return req ? fc_call(fc, req) : NULL;
}

/* Was the answer "ok": true? */
static inline bool fc_ok(struct json_object *ans)
{
	struct json_object *v;

	return ans && json_object_object_get_ex(ans, "ok", &v) &&
	       json_object_get_boolean(v);
}

/* The answer's "error", or "". */
static inline const char *fc_error(struct json_object *ans)
{
	struct json_object *v;

	return ans && json_object_object_get_ex(ans, "error", &v) ?
	       json_object_get_string(v) : "";
}

#endif
