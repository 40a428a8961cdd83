// SPDX-License-Identifier: MIT
#include "keeper.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "pva_protocol.h"
#include "log.h"
#include "loop.h"

#define GUEST_PEER_ID	1

struct keeper {
	struct host_config *cfg;
	struct loop *loop;
	int shm_fd;
	int qemu_listen, ctl_listen;
	int host_ev[PVA_MAX_VECTORS];
	int guest_ev[PVA_MAX_VECTORS];
	int qemu_conn;			/* -1: no guest */
	struct loop_source *qemu_src;
	pid_t worker;
	int worker_sock;		/* keeper's end of the socketpair */
	struct loop_source *worker_src;
	unsigned int restarts;
	struct timespec last_start;
	bool stopping;
	struct loop_source *restart_timer;
};

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		log_err("cannot listen on %s: %m", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int mkdir_for(const char *path)
{
	char *dir = strdup(path), *slash;

	if (!dir)
		return -1;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			log_err("cannot create %s: %m", dir);
			free(dir);
			return -1;
		}
	}
	free(dir);
	return 0;
}

/* ---- the ivshmem-doorbell server handshake ---- */

static int ivshmem_send(int sock, int64_t value, int fd)
{
	int64_t le = (int64_t)htole64((uint64_t)value);

	return fdpass_send(sock, &le, sizeof(le), &fd, fd >= 0 ? 1 : 0);
}

static int ivshmem_handshake(struct keeper *k, int sock)
{
	unsigned int v;
	int err;

	/* protocol version, the client's id, the shared memory */
	err = ivshmem_send(sock, 0, -1);
	if (!err)
		err = ivshmem_send(sock, GUEST_PEER_ID, -1);
	if (!err)
		err = ivshmem_send(sock, -1, k->shm_fd);
	/* every peer's eventfds in vector order: us (peer 0), then it */
	for (v = 0; !err && v < k->cfg->vectors; v++)
		err = ivshmem_send(sock, PVA_HOST_PEER, k->host_ev[v]);
	for (v = 0; !err && v < k->cfg->vectors; v++)
		err = ivshmem_send(sock, GUEST_PEER_ID, k->guest_ev[v]);
	return err;
}

/* ---- worker ---- */

static int send_guest_up(struct keeper *k)
{
	struct keeper_msg m = {
		.type = KMSG_GUEST_UP, .nvec = k->cfg->vectors,
		.peer_id = GUEST_PEER_ID,
	};

	if (k->worker_sock < 0)
		return 0;
	return fdpass_send(k->worker_sock, &m, sizeof(m), k->guest_ev,
			   (int)k->cfg->vectors);
}

static void send_simple(struct keeper *k, uint32_t type)
{
	struct keeper_msg m = { .type = type };

	if (k->worker_sock >= 0)
		fdpass_send(k->worker_sock, &m, sizeof(m), NULL, 0);
}

static void worker_sock_event(struct loop *loop, int fd, uint32_t events,
			      void *data);

static int start_worker(struct keeper *k)
{
	int sv[2], fds[2 + PVA_MAX_VECTORS];
	struct keeper_msg m = {
		.type = KMSG_INIT, .nvec = k->cfg->vectors,
		.restarts = k->restarts,
	};
	char fdarg[16];
	int argc = 0;
	char **argv;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	while (k->cfg->argv[argc])
		argc++;
	argv = calloc((size_t)argc + 3, sizeof(*argv));
	if (!argv)
		goto err;
	memcpy(argv, k->cfg->argv, sizeof(*argv) * (size_t)argc);
	snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
	argv[argc] = "--worker-fd";
	argv[argc + 1] = fdarg;

	pid = fork();
	if (pid < 0) {
		free(argv);
		goto err;
	}
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		fcntl(sv[1], F_SETFD, 0);	/* keep across exec */
		execv(k->cfg->exe, argv);
		fprintf(stderr, "pva-host: exec %s: %m\n", k->cfg->exe);
		_exit(127);
	}
	free(argv);
	close(sv[1]);
	k->worker = pid;
	k->worker_sock = sv[0];
	clock_gettime(CLOCK_MONOTONIC, &k->last_start);

	fds[0] = k->shm_fd;
	fds[1] = k->ctl_listen;
	memcpy(fds + 2, k->host_ev, sizeof(int) * k->cfg->vectors);
	if (fdpass_send(k->worker_sock, &m, sizeof(m), fds,
			2 + (int)k->cfg->vectors) < 0 ||
	    (k->qemu_conn >= 0 && send_guest_up(k) < 0))
		log_warn("cannot pass descriptors to the worker: %m");
	k->worker_src = loop_add_fd(k->loop, k->worker_sock, EPOLLIN,
				    worker_sock_event, k);
	log_info("worker %d started (restart %u)", (int)pid, k->restarts);
	k->restarts++;
	return 0;
err:
	close(sv[0]);
	close(sv[1]);
	return -1;
}

static void restart_timer_fired(struct loop *loop, int fd, uint32_t events,
				void *data)
{
	struct keeper *k = data;

	(void)loop;
	(void)fd;
	(void)events;
	loop_remove(k->restart_timer);
	k->restart_timer = NULL;
	if (!k->stopping && k->worker <= 0 && start_worker(k) < 0) {
		log_err("cannot start a worker: %m");
		loop_quit(k->loop, 1);
	}
}

static void worker_exited(struct keeper *k, int status)
{
	struct timespec now;
	unsigned int delay_ms = 0;
	long lived;

	loop_remove(k->worker_src);
	k->worker_src = NULL;
	close(k->worker_sock);
	k->worker_sock = -1;
	k->worker = 0;
	if (k->stopping) {
		loop_quit(k->loop, 0);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_CONFIG) {
		log_err("the worker cannot run with these settings; stopping");
		loop_quit(k->loop, 1);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_RESTART) {
		log_info("worker asked to be restarted");
	} else {
		if (WIFSIGNALED(status))
			log_warn("worker killed by signal %d",
				 WTERMSIG(status));
		else
			log_warn("worker exited with status %d",
				 WEXITSTATUS(status));
		if (!k->cfg->restart_worker) {
			loop_quit(k->loop, 1);
			return;
		}
		/* A worker that keeps dying is restarted at most every 2 s. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		lived = now.tv_sec - k->last_start.tv_sec;
		if (lived < 2)
			delay_ms = 2000;
	}
	k->restart_timer = loop_add_timer(k->loop, delay_ms ? delay_ms : 1,
					  restart_timer_fired, k);
}

static void worker_sock_event(struct loop *loop, int fd, uint32_t events,
			      void *data)
{
	struct keeper *k = data;
	struct keeper_msg m;
	int nfds = 0;
	ssize_t n;

	(void)loop;
	(void)events;
	/* The worker sends nothing; this is its end closing. */
	n = fdpass_recv(fd, &m, sizeof(m), NULL, &nfds);
	if (n <= 0) {
		/* The worker is gone; SIGCHLD does the rest. */
		loop_remove(k->worker_src);
		k->worker_src = NULL;
	}
}

/* ---- QEMU ---- */

static void guest_gone(struct keeper *k)
{
	loop_remove(k->qemu_src);
	k->qemu_src = NULL;
	close(k->qemu_conn);
	k->qemu_conn = -1;
	for (unsigned int v = 0; v < k->cfg->vectors; v++) {
		close(k->guest_ev[v]);
		k->guest_ev[v] = -1;
	}
	send_simple(k, KMSG_GUEST_DOWN);
	log_info("QEMU disconnected");
}

static void qemu_conn_event(struct loop *loop, int fd, uint32_t events,
			    void *data)
{
	struct keeper *k = data;
	char buf[64];
	ssize_t n;

	(void)loop;
	/* QEMU never sends anything; readable means it went away. */
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN) ||
	    (events & (EPOLLHUP | EPOLLERR)))
		guest_gone(k);
}

static void qemu_listen_event(struct loop *loop, int fd, uint32_t events,
			      void *data)
{
	struct keeper *k = data;
	unsigned int v;
	int c;

	(void)events;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	if (k->qemu_conn >= 0) {
		log_warn("refusing a second QEMU connection: one guest per pva-host");
		close(c);
		return;
	}
	for (v = 0; v < k->cfg->vectors; v++) {
		k->guest_ev[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (k->guest_ev[v] < 0)
			goto fail;
	}
	if (ivshmem_handshake(k, c) < 0) {
		log_warn("ivshmem handshake with QEMU failed: %m");
		goto fail;
	}
	k->qemu_conn = c;
	k->qemu_src = loop_add_fd(loop, c, EPOLLIN | EPOLLRDHUP,
				  qemu_conn_event, k);
	log_info("QEMU connected (guest peer %d, %u vectors)", GUEST_PEER_ID,
		 k->cfg->vectors);
	if (send_guest_up(k) < 0)
		log_warn("cannot pass the guest's eventfds to the worker");
	return;
fail:
	for (v = 0; v < k->cfg->vectors; v++) {
		if (k->guest_ev[v] >= 0)
			close(k->guest_ev[v]);
		k->guest_ev[v] = -1;
	}
	close(c);
}

/* ---- signals ---- */

static void signal_event(struct loop *loop, int fd, uint32_t events,
			 void *data)
{
	struct keeper *k = data;
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	switch (si.ssi_signo) {
	case SIGTERM:
	case SIGINT:
		log_info("stopping");
		k->stopping = true;
		if (k->worker > 0)
			kill(k->worker, SIGTERM);
		else
			loop_quit(loop, 0);
		break;
	case SIGHUP:
		if (k->worker > 0) {
			log_info("SIGHUP: restarting the worker");
			/* it exits 0, and is restarted (see SIGCHLD) */
			kill(k->worker, SIGTERM);
		}
		break;
	case SIGCHLD:
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == k->worker) {
				if (!k->stopping && WIFEXITED(status) &&
				    WEXITSTATUS(status) == 0)
					status = WORKER_EXIT_RESTART << 8;
				worker_exited(k, status);
			}
		}
		break;
	}
}

static int make_shm(uint64_t size)
{
	int fd = memfd_create("pva-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int keeper_main(struct host_config *cfg)
{
	struct keeper k = {
		.cfg = cfg, .qemu_conn = -1, .worker_sock = -1,
		.shm_fd = -1, .qemu_listen = -1, .ctl_listen = -1,
	};
	sigset_t mask;
	int sfd = -1, ret = 1;
	unsigned int v;

	for (v = 0; v < PVA_MAX_VECTORS; v++)
		k.host_ev[v] = k.guest_ev[v] = -1;
	cfg->exe = realpath("/proc/self/exe", NULL);
	if (!cfg->exe) {
		log_err("cannot find my own executable: %m");
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	k.loop = loop_new();
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	k.shm_fd = make_shm(cfg->shm_size);
	if (!k.loop || sfd < 0 || k.shm_fd < 0) {
		log_err("set-up failed: %m");
		goto out;
	}
	for (v = 0; v < cfg->vectors; v++) {
		k.host_ev[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (k.host_ev[v] < 0) {
			log_err("eventfd: %m");
			goto out;
		}
	}
	if (mkdir_for(cfg->socket_path) < 0 || mkdir_for(cfg->ctl_path) < 0)
		goto out;
	k.qemu_listen = listen_unix(cfg->socket_path);
	k.ctl_listen = listen_unix(cfg->ctl_path);
	if (k.qemu_listen < 0 || k.ctl_listen < 0)
		goto out;
	chmod(cfg->ctl_path, 0600);
	loop_add_fd(k.loop, sfd, EPOLLIN, signal_event, &k);
	loop_add_fd(k.loop, k.qemu_listen, EPOLLIN, qemu_listen_event, &k);
	if (start_worker(&k) < 0) {
		log_err("cannot start the worker: %m");
		goto out;
	}
	log_info("pva-host %s: QEMU socket %s, control socket %s, %llu KiB shared memory, %u vectors",
		 PVA_HOST_VERSION, cfg->socket_path, cfg->ctl_path,
		 (unsigned long long)(cfg->shm_size >> 10), cfg->vectors);
	ret = loop_run(k.loop);
	if (k.worker > 0) {
		kill(k.worker, SIGTERM);
		waitpid(k.worker, NULL, 0);
	}
	unlink(cfg->socket_path);
	unlink(cfg->ctl_path);
	unlink(cfg->sf_state);	/* runtime shares end with pva-host */
out:
	for (v = 0; v < PVA_MAX_VECTORS; v++) {
		if (k.host_ev[v] >= 0)
			close(k.host_ev[v]);
		if (k.guest_ev[v] >= 0)
			close(k.guest_ev[v]);
	}
	if (k.qemu_conn >= 0)
		close(k.qemu_conn);
	if (k.qemu_listen >= 0)
		close(k.qemu_listen);
	if (k.ctl_listen >= 0)
		close(k.ctl_listen);
	if (k.shm_fd >= 0)
		close(k.shm_fd);
	if (sfd >= 0)
		close(sfd);
	loop_free(k.loop);
	return ret < 0 ? 1 : ret;
}
