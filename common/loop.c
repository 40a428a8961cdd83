// SPDX-License-Identifier: MIT
#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"

struct loop_source {
	struct loop *loop;
	int fd;
	bool owns_fd;		/* timers: close the timerfd on removal */
	bool dead;
	loop_cb cb;
	void *data;
	loop_cb timer_cb;	/* timers: the user's callback */
	struct loop_source *next, **pprev;	/* live sources */
	struct loop_source *next_dead;
};

struct loop {
	int epfd;
	bool quit;
	int status;
	loop_prepare_fn prepare;	/* before every wait */
	void *prepare_data;
	struct loop_source *live;	/* freed by loop_free() */
	struct loop_source *dead;	/* freed after the current batch */
};

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

static void loop_reap(struct loop *loop)
{
	while (loop->dead) {
		struct loop_source *src = loop->dead;

		loop->dead = src->next_dead;
		free(src);
	}
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	while (loop->live)
		loop_remove(loop->live);
	loop_reap(loop);
	close(loop->epfd);
	free(loop);
}

struct loop_source *loop_add_fd(struct loop *loop, int fd, uint32_t events,
				loop_cb cb, void *data)
{
	struct loop_source *src = calloc(1, sizeof(*src));
	struct epoll_event ev = { .events = events };

	if (!src)
		return NULL;
	src->loop = loop;
	src->fd = fd;
	src->cb = cb;
	src->data = data;
	ev.data.ptr = src;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_err("epoll_ctl add fd %d: %m", fd);
		free(src);
		return NULL;
	}
	src->next = loop->live;
	if (loop->live)
		loop->live->pprev = &src->next;
	src->pprev = &loop->live;
	loop->live = src;
	return src;
}

int loop_mod_fd(struct loop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	if (epoll_ctl(src->loop->epfd, EPOLL_CTL_MOD, src->fd, &ev) < 0)
		return -errno;
	return 0;
}

void loop_remove(struct loop_source *src)
{
	if (!src || src->dead)
		return;
	epoll_ctl(src->loop->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	if (src->owns_fd)
		close(src->fd);
	src->dead = true;
	*src->pprev = src->next;
	if (src->next)
		src->next->pprev = src->pprev;
	src->next_dead = src->loop->dead;
	src->loop->dead = src;
}

static void loop_timer_fired(struct loop *loop, int fd, uint32_t events,
			     void *data)
{
	struct loop_source *src = data;
	uint64_t ticks;

	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn("timerfd read: %m");
	src->timer_cb(loop, fd, EPOLLIN, src->data);
}

struct loop_source *loop_add_timer(struct loop *loop, unsigned interval_ms,
				   loop_cb cb, void *data)
{
	struct itimerspec its = {
		.it_interval = { interval_ms / 1000,
				 (long)(interval_ms % 1000) * 1000000 },
	};
	struct loop_source *src;
	int fd;

	its.it_value = its.it_interval;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		close(fd);
		return NULL;
	}
	src = loop_add_fd(loop, fd, EPOLLIN, loop_timer_fired, NULL);
	if (!src) {
		close(fd);
		return NULL;
	}
	src->owns_fd = true;
	src->timer_cb = cb;
	src->data = data;
	return src;
}

int loop_run(struct loop *loop)
{
	struct epoll_event evs[32];

	loop->quit = false;
	while (!loop->quit) {
		int timeout = loop->prepare ?
			      loop->prepare(loop, loop->prepare_data) : -1;
		int n;

		if (loop->quit)
			break;
		n = epoll_wait(loop->epfd, evs, 32, timeout);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !loop->quit; i++) {
			struct loop_source *src = evs[i].data.ptr;

			if (!src->dead)
				src->cb(loop, src->fd, evs[i].events,
					src->timer_cb ? src : src->data);
		}
		loop_reap(loop);
	}
	return loop->status;
}

void loop_set_prepare(struct loop *loop, loop_prepare_fn fn, void *data)
{
	loop->prepare = fn;
	loop->prepare_data = data;
}

void loop_quit(struct loop *loop, int status)
{
	loop->quit = true;
	loop->status = status;
}
