// SPDX-License-Identifier: MIT
/*
 * The local socket the session agents (pva-agent) connect to
 * (protocol/PROTOCOL.md 6.8.6): SOCK_SEQPACKET, one message per packet.
 * An agent is a user's process, so everything it sends is checked like
 * the host's input, and its registration against its credentials: the
 * session it names must be its user's (root may name any) and contain
 * the agent's own process.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "loop.h"
#include "service.h"

#define MAX_AGENTS	32
#define AGENT_QUEUE_HIGH	(8u << 20)	/* stop reading the host */

void pktq_init(struct pktq *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->bytes = 0;
}

void pktq_clear(struct pktq *q)
{
	while (q->head) {
		struct pkt *p = q->head;

		q->head = p->next;
		free(p);
	}
	pktq_init(q);
}

bool pktq_add(struct pktq *q, uint16_t type, uint16_t flags,
	      uint32_t req_id, uint32_t status, const void *payload,
	      uint32_t len)
{
	struct pkt *p = malloc(sizeof(*p) + sizeof(struct pva_msg_hdr) + len);
	struct pva_msg_hdr h = {
		.len = pva_cpu32(len), .type = pva_cpu16(type),
		.flags = pva_cpu16(flags), .req_id = pva_cpu32(req_id),
		.status = pva_cpu32(status),
	};

	if (!p)
		return false;
	p->next = NULL;
	p->len = sizeof(h) + len;
	memcpy(p->data, &h, sizeof(h));
	if (len)
		memcpy(p->data + sizeof(h), payload, len);
	*q->tail = p;
	q->tail = &p->next;
	q->bytes += p->len;
	return true;
}

static bool queues_high(struct svc *s)
{
	for (struct agent_conn *c = s->agents; c; c = c->next)
		if (c->out.bytes > AGENT_QUEUE_HIGH)
			return true;
	return false;
}

static void conn_want(struct agent_conn *c)
{
	uint32_t ev = c->svc->throttled ? 0 : EPOLLIN;

	if (c->out.head)
		ev |= EPOLLOUT;
	loop_mod_fd(c->src, ev);
}

static void conn_flush(struct agent_conn *c)
{
	while (c->out.head) {
		struct pkt *p = c->out.head;
		ssize_t w = send(c->fd, p->data, p->len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0) {
			/* the reader is gone: its hang-up closes it from the
			 * loop, where no caller still holds it
			 */
			pktq_clear(&c->out);
			break;
		}
		c->out.head = p->next;
		if (!c->out.head)
			c->out.tail = &c->out.head;
		c->out.bytes -= p->len;
		free(p);
	}
	conn_want(c);
	channel_throttle(c->svc->ch, queues_high(c->svc));
}

void agent_conn_send(struct agent_conn *c, uint16_t type, uint32_t status,
		     const void *payload, uint32_t len)
{
	if (!pktq_add(&c->out, type, 0, 0, status, payload, len)) {
		log_err("out of memory: a message to an agent is lost");
		return;
	}
	conn_flush(c);
}

void agent_conn_close(struct agent_conn *c, const char *why)
{
	struct svc *s = c->svc;
	struct agent_conn **pp = &s->agents;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = c->next;
	if (c->registered)
		log_info("agent of session %s (%s, pid %d) left: %s",
			 c->session, c->user, (int)c->pid, why);
	router_agent_gone(c);
	loop_remove(c->src);
	close(c->fd);
	pktq_clear(&c->out);
	free(c);
	channel_throttle(s->ch, queues_high(s));
	router_update_active(s);
	info_send(s);
}

static void refuse(struct agent_conn *c, uint32_t status, const char *why)
{
	log_warn("agent pid %d (uid %u) refused: %s", (int)c->pid,
		 (unsigned)c->uid, why);
	/* the answer (a packet fits the empty socket buffer), then close */
	pktq_add(&c->out, PVA_AGENT_LOCAL_WELCOME, 0, 0, status, NULL, 0);
	conn_flush(c);
	agent_conn_close(c, why);
}

static bool field_ok(const char *f, size_t size)
{
	size_t n = strnlen(f, size);

	if (n == size)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)f[i] < 0x20 || (unsigned char)f[i] == 0x7f)
			return false;
	return true;
}

static void rx_register(struct agent_conn *c, const uint8_t *p, uint32_t len)
{
	struct svc *s = c->svc;
	struct pva_agent_register r;
	struct session_info si;
	char pid_session[64] = "";
	struct passwd *pw;

	if (len != sizeof(r)) {
		refuse(c, PVA_S_EINVAL, "REGISTER of the wrong size");
		return;
	}
	memcpy(&r, p, sizeof(r));
	if (!pva_le32(r.version) || !field_ok(r.session, sizeof(r.session)) ||
	    !field_ok(r.kind, sizeof(r.kind)) ||
	    !field_ok(r.display, sizeof(r.display)) ||
	    !field_ok(r.desktop, sizeof(r.desktop))) {
		refuse(c, PVA_S_EINVAL, "malformed REGISTER");
		return;
	}
	if (s->sessions) {
		/* logind decides: the session must be the user's, and contain
		 * the agent's process where that is one of a session (an
		 * agent started by the user's systemd, as GNOME and KDE start
		 * autostart programs, runs outside the session's scope)
		 */
		bool in_session = sessions_of_pid(s->sessions, c->pid,
						  pid_session,
						  sizeof(pid_session));
		const char *want = r.session[0] ? r.session : pid_session;

		if (in_session && r.session[0] && strcmp(r.session, pid_session)) {
			refuse(c, PVA_S_EPERM, "it names a session its process is not in");
			return;
		}
		if (!want[0] && !sessions_user_graphical(s->sessions, c->uid,
							  pid_session,
							  sizeof(pid_session))) {
			refuse(c, PVA_S_EPERM, "it names no session and its user has no graphical one");
			return;
		}
		if (!want[0])
			want = pid_session;
		if (!sessions_get(s->sessions, want, &si)) {
			refuse(c, PVA_S_EPERM, "logind does not know its session");
			return;
		}
		if (c->uid && si.uid != c->uid) {
			refuse(c, PVA_S_EPERM, "the session belongs to another user");
			return;
		}
		snprintf(c->session, sizeof(c->session), "%s", si.id);
		snprintf(c->user, sizeof(c->user), "%s", si.user);
	} else {
		snprintf(c->session, sizeof(c->session), "%s",
			 r.session[0] ? r.session : "-");
		pw = getpwuid(c->uid);
		snprintf(c->user, sizeof(c->user), "%s",
			 pw ? pw->pw_name : "?");
	}
	for (struct agent_conn *o = s->agents; o; o = o->next) {
		if (o != c && o->registered && s->sessions &&
		    !strcmp(o->session, c->session)) {
			/* a new agent of the same session replaces the old
			 * one (it restarted; the old one is stuck or dying)
			 */
			agent_conn_close(o, "replaced by a new agent of its session");
			break;
		}
	}
	c->registered = true;
	c->caps = pva_le32(r.caps);
	c->seq = ++s->next_seq;
	snprintf(c->kind, sizeof(c->kind), "%s", r.kind);
	snprintf(c->display, sizeof(c->display), "%s", r.display);
	snprintf(c->desktop, sizeof(c->desktop), "%s", r.desktop);
	log_info("agent of session %s registered: %s, %s on %s (pid %d)",
		 c->session, c->user, c->kind, c->display, (int)c->pid);
	{
		struct pva_agent_welcome w = {
			.version = pva_cpu32(PVA_AGENT_VERSION),
			.clip_max = pva_cpu64(s->opt.clip_max <
					      channel_host_clip_max(s->ch) ?
					      s->opt.clip_max :
					      channel_host_clip_max(s->ch)),
		};

		agent_conn_send(c, PVA_AGENT_LOCAL_WELCOME, 0, &w, sizeof(w));
	}
	router_update_active(s);
	info_send(s);
}

static void dispatch(struct agent_conn *c, const uint8_t *pkt, size_t n)
{
	struct pva_msg_hdr h;
	uint32_t len;

	if (n < sizeof(h)) {
		agent_conn_close(c, "a packet shorter than a header");
		return;
	}
	memcpy(&h, pkt, sizeof(h));
	len = pva_le32(h.len);
	if (len != n - sizeof(h) || h.flags || h.service || h.reserved0 ||
	    h.req_id || h.status || h.reserved1) {
		agent_conn_close(c, "a malformed message header");
		return;
	}
	if (!c->registered) {
		if (pva_le16(h.type) != PVA_AGENT_LOCAL_REGISTER)
			refuse(c, PVA_S_EINVAL, "it did not REGISTER first");
		else
			rx_register(c, pkt + sizeof(h), len);
		return;
	}
	router_from_agent(c, pva_le16(h.type), pkt + sizeof(h), len);
}

static void conn_event(struct loop *loop, int fd, uint32_t events,
		       void *data)
{
	struct agent_conn *c = data;
	static uint8_t pkt[PACKET_MAX + 1];

	(void)loop;
	if (events & EPOLLOUT) {
		struct svc *s = c->svc;
		bool alive = false;

		conn_flush(c);
		for (struct agent_conn *o = s->agents; o; o = o->next)
			alive |= o == c;
		if (!alive)
			return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int i = 0; i < 32; i++) {
		struct svc *s = c->svc;
		bool alive = false;
		ssize_t n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			agent_conn_close(c, n ? strerror(errno) : "closed");
			return;
		}
		if ((size_t)n > PACKET_MAX) {
			agent_conn_close(c, "a packet longer than allowed");
			return;
		}
		dispatch(c, pkt, (size_t)n);
		/* the packet may have closed the connection */
		for (struct agent_conn *o = s->agents; o; o = o->next)
			alive |= o == c;
		if (!alive || s->throttled)
			return;
	}
}

static void accept_event(struct loop *loop, int fd, uint32_t events,
			 void *data)
{
	struct svc *s = data;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct agent_conn *c;
	unsigned int n = 0;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	for (c = s->agents; c; c = c->next)
		n++;
	if (n >= MAX_AGENTS ||
	    getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		log_warn("an agent connection refused (%s)",
			 n >= MAX_AGENTS ? "too many agents" : strerror(errno));
		close(cfd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return;
	}
	c->svc = s;
	c->fd = cfd;
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	pktq_init(&c->out);
	c->src = loop_add_fd(loop, cfd, s->throttled ? 0 : EPOLLIN,
			     conn_event, c);
	if (!c->src) {
		close(cfd);
		free(c);
		return;
	}
	c->next = s->agents;
	s->agents = c;
}

int agents_listen(struct svc *s, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("agent socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			log_err("cannot make %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, 16) < 0) {
		log_err("cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	s->listen_fd = fd;
	s->listen_src = loop_add_fd(s->loop, fd, EPOLLIN, accept_event, s);
	return s->listen_src ? 0 : -1;
}

void agents_close_all(struct svc *s)
{
	while (s->agents)
		agent_conn_close(s->agents, "pva-service is stopping");
	if (s->listen_src) {
		loop_remove(s->listen_src);
		close(s->listen_fd);
		s->listen_src = NULL;
		unlink(s->opt.agent_socket);
	}
}

void agents_throttle(struct svc *s, bool stop)
{
	if (s->throttled == stop)
		return;
	s->throttled = stop;
	for (struct agent_conn *c = s->agents; c; c = c->next)
		conn_want(c);
}
