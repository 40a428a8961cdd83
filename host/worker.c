// SPDX-License-Identifier: MIT
/*
 * The worker: pva-host's process that does the work. It gets its
 * descriptors from the keeper (keeper.h), runs the device and the services,
 * and serves pva-hostctl. It can die or be restarted at any time; the
 * guest sees a new generation and renegotiates.
 */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ctl.h"
#include "device.h"
#include "fdpass.h"
#include "keeper.h"
#include "log.h"
#include "loop.h"
#include "sf.h"

struct worker {
	struct host_config *cfg;
	struct loop *loop;
	struct device *dev;
	struct ctl_server *ctl;
	int keeper_fd;
	bool restart;
};

static void keeper_event(struct loop *loop, int fd, uint32_t events,
			 void *data)
{
	struct worker *w = data;
	int fds[PVA_MAX_VECTORS], nfds = PVA_MAX_VECTORS;
	struct keeper_msg m;
	ssize_t n;

	(void)events;
	n = fdpass_recv(fd, &m, sizeof(m), fds, &nfds);
	if (n == 0 || (n < 0 && n != -EAGAIN && n != -EBADMSG)) {
		log_err("the keeper went away; exiting");
		loop_quit(loop, 1);
		return;
	}
	if (n != (ssize_t)sizeof(m)) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return;
	}
	switch (m.type) {
	case KMSG_GUEST_UP:
		if ((unsigned int)nfds != w->cfg->vectors) {
			log_err("keeper sent %d guest eventfds, expected %u",
				nfds, w->cfg->vectors);
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			return;
		}
		device_guest_up(w->dev, fds, (unsigned int)nfds, m.peer_id);
		return;
	case KMSG_GUEST_DOWN:
		device_guest_down(w->dev);
		break;
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

static void signal_event(struct loop *loop, int fd, uint32_t events,
			 void *data)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)data;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		loop_quit(loop, 0);
}

static void request_restart(void *data)
{
	struct worker *w = data;

	w->restart = true;
	loop_quit(w->loop, 0);
}

static bool test_service(const struct host_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->nr_test_services; i++)
		if (!strcmp(cfg->test_services[i], name))
			return true;
	return false;
}

/* Shared folders: the command line's shares, or a restarted worker's. */
static int add_sf(struct worker *w, bool restarted)
{
	const struct host_config *cfg = w->cfg;
	struct service *svc;
	char err[256];

	/* --test-service sf offers the placeholder instead */
	if (!cfg->sf || test_service(cfg, "sf"))
		return 0;
	if (device_add_service(w->dev, &sf_service_ops) < 0)
		return -1;
	svc = device_find_service(w->dev, "sf");
	for (unsigned int i = 0; i < cfg->nr_shares; i++)
		if (sf_share_add(svc, cfg->shares[i].name, cfg->shares[i].path,
				 cfg->shares[i].ro, err, sizeof(err)) < 0)
			log_warn("sf: share %s not offered: %s",
				 cfg->shares[i].name, err);
	sf_set_state_file(svc, cfg->sf_state, restarted);
	return 0;
}

/* Before the loop waits: the interrupts that messages sent outside a
 * doorbell (control commands, timers, the VNC view) asked for.
 */
static int flush_interrupts(struct loop *loop, void *data)
{
	(void)loop;
	device_flush(data);
	return -1;
}

int worker_main(struct host_config *cfg)
{
	struct worker w = { .cfg = cfg, .keeper_fd = cfg->worker_fd };
	int fds[2 + PVA_MAX_VECTORS], nfds = 2 + PVA_MAX_VECTORS;
	struct keeper_msg m;
	sigset_t mask;
	int sfd, ret = 1;
	ssize_t n;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	n = fdpass_recv(w.keeper_fd, &m, sizeof(m), fds, &nfds);
	if (n != (ssize_t)sizeof(m) || m.type != KMSG_INIT ||
	    m.nvec != cfg->vectors || nfds != 2 + (int)cfg->vectors) {
		log_err("bad start-up message from the keeper");
		return 1;
	}
	w.loop = loop_new();
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!w.loop || sfd < 0)
		return 1;
	w.dev = device_new(cfg, w.loop, fds[0], fds + 2, cfg->vectors);
	close(fds[0]);		/* mapped now */
	fds[0] = -1;
	if (!w.dev)
		goto out;
	if (device_add_service(w.dev, &control_service_ops) < 0 ||
	    (cfg->echo && device_add_service(w.dev, &echo_service_ops) < 0) ||
	    (cfg->balloon &&
	     device_add_service(w.dev, &balloon_service_ops) < 0) ||
	    add_sf(&w, m.restarts > 0) < 0 ||
	    (cfg->display && !test_service(cfg, "display") &&
	     device_add_service(w.dev, &display_service_ops) < 0) ||
	    (cfg->agent && device_add_service(w.dev, &agent_service_ops) < 0)) {
		log_err("cannot set up the services");
		goto out;
	}
	for (unsigned int i = 0; i < cfg->nr_test_services; i++) {
		if (device_add_service(w.dev,
				       testsvc_find(cfg->test_services[i])) < 0) {
			log_err("cannot add test service %s",
				cfg->test_services[i]);
			goto out;
		}
	}
	device_set_worker_info(w.dev, m.restarts);
	if (device_start(w.dev) < 0) {
		ret = WORKER_EXIT_CONFIG;	/* e.g. too little memory */
		goto out;
	}
	w.ctl = ctl_server_new(w.loop, fds[1], w.dev, request_restart, &w);
	if (!w.ctl ||
	    !loop_add_fd(w.loop, w.keeper_fd, EPOLLIN, keeper_event, &w) ||
	    !loop_add_fd(w.loop, sfd, EPOLLIN, signal_event, &w))
		goto out;
	loop_set_prepare(w.loop, flush_interrupts, w.dev);
	ret = loop_run(w.loop);
	if (w.restart) {
		/* The keeper replaces us once we are gone. */
		log_info("restart requested");
		ret = WORKER_EXIT_RESTART;
	}
out:
	ctl_server_free(w.ctl);
	device_free(w.dev);
	loop_free(w.loop);
	close(sfd);
	for (int i = 1; i < nfds; i++)
		close(fds[i]);
	return ret < 0 ? 1 : ret;
}
