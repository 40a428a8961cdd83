// SPDX-License-Identifier: MIT
/*
 * The host end of the desktop agent's channel (protocol/PROTOCOL.md 6.8):
 * HELLO, guest information, the display layout to the session and what
 * it shows back, and the two transports the guest's agent service can
 * use: the ring of the "agent" channel, or a direct socket
 * (--agent-socket) for an agent without the pva device. The clipboard is
 * in clipboard.c.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_int.h"
#include "config.h"
#include "ctl.h"
#include "device.h"
#include "display.h"
#include "loop.h"

#define DIRECT_TX_MAX	(4u << 20)	/* bytes queued on the direct socket */
#define HDR_SIZE	sizeof(struct pva_msg_hdr)

static void now(struct timespec *t)
{
	clock_gettime(CLOCK_REALTIME, t);
}

void agent_bad(struct agent *a, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	a->bad_msgs++;
	a->svc->stats.bad_msgs++;
	if (!log_ratelimit_ok(&a->rl))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warn("agent: %s", buf);
}

bool agent_connected(const struct agent *a)
{
	return a->hello;
}

/* ---- the direct socket ---- */

static void direct_close(struct agent *a, const char *why);
static void guest_gone(struct agent *a);

static void direct_want_write(struct agent *a, bool on)
{
	if (a->direct.src)
		loop_mod_fd(a->direct.src, EPOLLIN | (on ? EPOLLOUT : 0));
}

static int direct_flush(struct agent *a)
{
	struct direct *d = &a->direct;

	while (d->tx_len) {
		ssize_t w = send(d->fd, d->tx, d->tx_len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			direct_want_write(a, true);
			return 0;
		}
		if (w <= 0) {
			direct_close(a, strerror(errno));
			return -1;
		}
		memmove(d->tx, d->tx + w, d->tx_len - (size_t)w);
		d->tx_len -= (size_t)w;
	}
	direct_want_write(a, false);
	return 0;
}

static int direct_write(struct agent *a, uint16_t type, uint16_t flags,
			uint32_t req_id, uint32_t status, const void *payload,
			uint32_t len)
{
	struct direct *d = &a->direct;
	struct pva_msg_hdr h = {
		.len = pva_cpu32(len), .type = pva_cpu16(type),
		.flags = pva_cpu16(flags), .req_id = pva_cpu32(req_id),
		.status = pva_cpu32(status),
	};
	size_t need = d->tx_len + HDR_SIZE + len;

	if (d->fd < 0)
		return -ENOTCONN;
	if (need > d->tx_cap) {
		size_t cap = d->tx_cap ? d->tx_cap : 65536;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(d->tx, cap);
		if (!nb)
			return -ENOMEM;
		d->tx = nb;
		d->tx_cap = cap;
	}
	memcpy(d->tx + d->tx_len, &h, HDR_SIZE);
	if (len)
		memcpy(d->tx + d->tx_len + HDR_SIZE, payload, len);
	d->tx_len = need;
	return direct_flush(a) < 0 ? -ENOTCONN : 0;
}

static void agent_rx_msg(struct agent *a, bool direct,
			 const struct pva_msg_hdr *hdr, const uint8_t *p,
			 uint32_t len);

static void direct_event(struct loop *loop, int fd, uint32_t events,
			 void *data)
{
	struct agent *a = data;
	struct direct *d = &a->direct;

	(void)loop;
	if ((events & EPOLLOUT) && direct_flush(a) < 0)
		return;
	if (events & EPOLLOUT)
		clip_pump(a);
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int i = 0; i < 64 && d->fd >= 0; i++) {
		size_t want;
		ssize_t n;
		struct pva_msg_hdr h;

		want = d->rx_len < HDR_SIZE ? HDR_SIZE - d->rx_len : 0;
		if (!want) {
			memcpy(&h, d->rx, HDR_SIZE);
			want = HDR_SIZE + pva_le32(h.len) - d->rx_len;
		}
		n = recv(fd, d->rx + d->rx_len, want, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			direct_close(a, n ? strerror(errno) : "closed by the guest agent");
			return;
		}
		d->rx_len += (size_t)n;
		if (d->rx_len < HDR_SIZE)
			continue;
		memcpy(&h, d->rx, HDR_SIZE);
		if (pva_le32(h.len) > PVA_MSG_MAX ||
		    (pva_le16(h.flags) & ~PVA_MSG_F_KNOWN) ||
		    h.reserved0 || h.reserved1) {
			agent_bad(a, "direct socket: malformed message header");
			direct_close(a, "malformed message header");
			return;
		}
		if (d->rx_len < HDR_SIZE + pva_le32(h.len))
			continue;
		d->rx_len = 0;
		agent_rx_msg(a, true, &h, d->rx + HDR_SIZE, pva_le32(h.len));
	}
}

static void direct_close(struct agent *a, const char *why)
{
	struct direct *d = &a->direct;

	if (d->fd < 0)
		return;
	log_info("agent: the direct connection ended: %s", why);
	loop_remove(d->src);
	d->src = NULL;
	close(d->fd);
	d->fd = -1;
	d->rx_len = d->tx_len = 0;
	if (a->direct_active) {
		a->direct_active = false;
		a->hello = false;
		guest_gone(a);
	}
}

static void direct_accept(struct loop *loop, int fd, uint32_t events,
			  void *data)
{
	struct agent *a = data;
	struct direct *d = &a->direct;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)events;
	if (cfd < 0)
		return;
	if (d->fd >= 0) {
		log_warn("agent: a second direct connection refused (one at a time)");
		close(cfd);
		return;
	}
	d->fd = cfd;
	d->rx_len = 0;
	d->src = loop_add_fd(loop, cfd, EPOLLIN, direct_event, a);
	if (!d->src) {
		close(cfd);
		d->fd = -1;
		return;
	}
	log_info("agent: a guest agent connected on the direct socket");
}

/* ADDR: tcp:HOST:PORT, or a UNIX socket path (unix:PATH too). */
static int direct_listen(struct agent *a, const char *addr)
{
	struct direct *d = &a->direct;
	int fd = -1, one = 1;

	d->fd = -1;
	d->rx = malloc(HDR_SIZE + PVA_MSG_MAX);
	if (!d->rx)
		return -1;
	if (!strncmp(addr, "tcp:", 4)) {
		char host[256];
		const char *colon = strrchr(addr + 4, ':');
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;

		if (!colon || (size_t)(colon - addr - 4) >= sizeof(host)) {
			log_err("agent: --agent-socket %s: want tcp:HOST:PORT",
				addr);
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr - 4),
			 addr + 4);
		if (getaddrinfo(host, colon + 1, &hints, &ai)) {
			log_err("agent: --agent-socket %s: cannot resolve", addr);
			return -1;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
			    SOCK_NONBLOCK, 0);
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
		if (fd >= 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
		freeaddrinfo(ai);
	} else {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		const char *path = strncmp(addr, "unix:", 5) ? addr : addr + 5;

		if (strlen(path) >= sizeof(sa.sun_path)) {
			log_err("agent: --agent-socket: path too long");
			return -1;
		}
		strcpy(sa.sun_path, path);
		unlink(path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    0);
		if (fd >= 0 && bind(fd, (struct sockaddr *)&sa,
				    sizeof(sa)) < 0) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			d->path = strdup(path);
	}
	if (fd < 0 || listen(fd, 2) < 0) {
		log_err("agent: cannot listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	d->listen_fd = fd;
	d->listen_src = loop_add_fd(device_loop(a->svc->dev), fd, EPOLLIN,
				    direct_accept, a);
	log_info("agent: direct socket on %s", addr);
	return d->listen_src ? 0 : -1;
}

static void direct_free(struct agent *a)
{
	struct direct *d = &a->direct;

	if (d->fd >= 0) {
		loop_remove(d->src);
		close(d->fd);
	}
	if (d->listen_src) {
		loop_remove(d->listen_src);
		close(d->listen_fd);
	}
	if (d->path) {
		unlink(d->path);
		free(d->path);
	}
	free(d->rx);
	free(d->tx);
}

/* ---- sending on the current transport ---- */

uint32_t agent_max_payload(struct agent *a)
{
	return a->direct_active ? PVA_MSG_MAX : a->svc->tx.max_payload;
}

bool agent_can_send(struct agent *a, uint32_t len)
{
	if (!a->hello)
		return false;
	if (a->direct_active)
		return a->direct.tx_len + len < DIRECT_TX_MAX;
	return !a->txq && service_can_send(a->svc, len);
}

/* Send what waits for room in the ring, in order. */
static void txq_flush(struct agent *a)
{
	while (a->txq) {
		struct txq_msg *m = a->txq;

		if (service_send(a->svc, m->type, m->flags, m->req_id,
				 m->status, m->payload, m->len) == -EAGAIN)
			return;
		a->txq = m->next;
		if (!a->txq)
			a->txq_tail = &a->txq;
		a->txq_len--;
		free(m);
	}
}

static void txq_clear(struct agent *a)
{
	while (a->txq) {
		struct txq_msg *m = a->txq;

		a->txq = m->next;
		free(m);
	}
	a->txq_tail = &a->txq;
	a->txq_len = 0;
}

static int send_full(struct agent *a, uint16_t type, uint16_t flags,
		     uint32_t req_id, uint32_t status, const void *payload,
		     uint32_t len)
{
	struct txq_msg *m;
	int ret;

	if (!a->hello)
		return -ENOTCONN;
	if (a->direct_active)
		return direct_write(a, type, flags, req_id, status, payload,
				    len);
	if (!a->txq) {
		ret = service_send(a->svc, type, flags, req_id, status, payload,
				   len);
		if (ret != -EAGAIN)
			return ret;
	}
	if (a->txq_len >= AGENT_TXQ_MAX) {
		a->txq_dropped++;
		if (log_ratelimit_ok(&a->rl))
			log_warn("agent: the guest does not read its channel: a message (type %u) dropped",
				 type);
		return -EAGAIN;
	}
	m = malloc(sizeof(*m) + len);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->type = type;
	m->flags = flags;
	m->req_id = req_id;
	m->status = status;
	m->len = len;
	if (len)
		memcpy(m->payload, payload, len);
	*a->txq_tail = m;
	a->txq_tail = &m->next;
	a->txq_len++;
	return 0;
}

int agent_send(struct agent *a, uint16_t type, const void *payload,
	       uint32_t len)
{
	return send_full(a, type, 0, 0, 0, payload, len);
}

int agent_request(struct agent *a, uint16_t type, const void *payload,
		  uint32_t len, struct agent_req *r)
{
	if (!++a->next_req_id)
		++a->next_req_id;
	r->req_id = a->next_req_id;
	r->type = type;
	return send_full(a, type, PVA_MSG_F_REQUEST, r->req_id, 0, payload,
			 len);
}

void agent_reply(struct agent *a, const struct pva_msg_hdr *hdr,
		 uint32_t status, const void *payload, uint32_t len)
{
	send_full(a, pva_le16(hdr->type), PVA_MSG_F_RESPONSE,
		  pva_le32(hdr->req_id), status, payload, len);
}

void agent_req_fail(struct agent *a, struct agent_req *r, const char *why)
{
	(void)a;
	r->req_id = 0;
	if (!r->client)
		return;
	ctl_set_cancel(r->client, NULL, NULL);
	ctl_reply_error(r->client, "%s", why);
	r->client = NULL;
}

/* The guest is gone (device reset, disconnect, a new HELLO): requests
 * to it are over.
 */
static void guest_gone(struct agent *a)
{
	guestctl_guest_gone(a);
	agent_req_fail(a, &a->freeze, "the guest's agent went away");
	clip_reset(a);
}

/* ---- the display layout ---- */

static void send_layout(struct agent *a)
{
	struct pva_display_config cfg;

	if (!a->hello || !(a->features & PVA_AGENT_F_DISPLAY) ||
	    !display_current_layout(a->svc->dev, &cfg))
		return;
	if (agent_send(a, PVA_AGENT_DISPLAY_LAYOUT, &cfg, sizeof(cfg)) == 0)
		a->layout_sent = pva_le32(cfg.generation);
}

void agent_layout_changed(struct device *dev)
{
	struct service *svc = device_find_service(dev, "agent");

	if (svc && svc->priv)
		send_layout(svc->priv);
}

static struct json_object *head_json(const struct pva_display_head *h)
{
	struct json_object *o = json_object_new_object();
	bool on = pva_le32(h->flags) & PVA_DISPLAY_HEAD_ENABLED;

	json_object_object_add(o, "enabled", json_object_new_boolean(on));
	json_object_object_add(o, "width",
			       json_object_new_int64(on ? pva_le32(h->width) : 0));
	json_object_object_add(o, "height",
			       json_object_new_int64(on ? pva_le32(h->height) : 0));
	json_object_object_add(o, "x", json_object_new_int64(pva_le32(h->x)));
	json_object_object_add(o, "y", json_object_new_int64(pva_le32(h->y)));
	return o;
}

struct json_object *agent_session_display(struct device *dev)
{
	struct service *svc = device_find_service(dev, "agent");
	struct agent *a = svc ? svc->priv : NULL;
	struct json_object *o, *heads;

	if (!a)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "agent", json_object_new_boolean(a->hello));
	json_object_object_add(o, "layout_sent",
			       json_object_new_int64(a->layout_sent));
	if (!a->state_valid)
		return o;
	json_object_object_add(o, "generation",
			       json_object_new_int64(pva_le32(a->state.generation)));
	json_object_object_add(o, "status",
			       json_object_new_int64(pva_le32(a->state.status)));
	json_object_object_add(o, "time",
			       json_object_new_double(a->state_time.tv_sec +
						      a->state_time.tv_nsec / 1e9));
	heads = json_object_new_array();
	for (unsigned int i = 0; i < pva_le32(a->state.nr_heads); i++)
		json_object_array_add(heads, head_json(&a->state.heads[i]));
	json_object_object_add(o, "heads", heads);
	return o;
}

/* ---- messages from the guest ---- */

static void info_clear(struct agent *a)
{
	for (unsigned int i = 0; i < a->nr_info; i++) {
		free(a->info[i].key);
		free(a->info[i].value);
	}
	a->nr_info = 0;
}

static void info_add(void *ctx, const char *key, const char *value)
{
	struct agent *a = ctx;

	for (unsigned int i = 0; i < a->nr_info; i++) {
		if (strcmp(a->info[i].key, key))
			continue;
		free(a->info[i].value);
		a->info[i].value = strdup(value);
		return;
	}
	if (a->nr_info == AGENT_INFO_MAX_ENTRIES) {
		a->info_bad++;
		return;
	}
	a->info[a->nr_info].key = strdup(key);
	a->info[a->nr_info].value = strdup(value);
	if (a->info[a->nr_info].key && a->info[a->nr_info].value) {
		a->nr_info++;
	} else {
		free(a->info[a->nr_info].key);
		free(a->info[a->nr_info].value);
	}
}

static void rx_info(struct agent *a, const uint8_t *p, uint32_t len)
{
	const char *why;
	int bad;

	info_clear(a);
	bad = agent_info_parse(p, len, info_add, a, &why);
	if (bad < 0) {
		agent_bad(a, "malformed INFO: %s", why);
		return;
	}
	if (bad) {
		a->info_bad += (uint64_t)bad;
		agent_bad(a, "INFO: %d entries break the rules, dropped", bad);
	}
	a->info_updates++;
	now(&a->info_time);
}

static void rx_state(struct agent *a, const uint8_t *p, uint32_t len)
{
	struct pva_agent_display_state s;
	const char *why;

	if (display_state_parse(p, len, &s, &why)) {
		agent_bad(a, "malformed DISPLAY_STATE: %s", why);
		return;
	}
	a->state = s;
	a->state_valid = true;
	now(&a->state_time);
	log_info("agent: the session shows layout %u (status %u)",
		 pva_le32(s.generation), pva_le32(s.status));
}

/* HELLO on either transport: it becomes the current one. */
static void rx_hello(struct agent *a, bool direct,
		     const struct pva_msg_hdr *hdr, const uint8_t *p,
		     uint32_t len)
{
	struct pva_agent_hello h, ans = { 0 };
	const char *why;
	uint32_t status = PVA_S_OK;

	if (agent_hello_parse(p, len, &h, &why)) {
		agent_bad(a, "malformed HELLO: %s", why);
		status = PVA_S_EINVAL;
	}
	if (!status) {
		if (a->hello)
			guest_gone(a);
		a->direct_active = direct;
		a->hello = true;
		a->version = h.version < PVA_AGENT_VERSION ? h.version :
							     PVA_AGENT_VERSION;
		a->features = h.features & PVA_AGENT_F_KNOWN;
		a->guest_clip_max = h.clip_max ? h.clip_max :
					PVA_CLIP_DEFAULT_MAX;
		now(&a->hello_time);
		txq_clear(a);
		ans.version = pva_cpu32(PVA_AGENT_VERSION);
		ans.features = pva_cpu64(a->features);
		ans.clip_max = pva_cpu64(a->clip_max);
		log_info("agent: guest agent version %u, features 0x%llx (%s)",
			 h.version, (unsigned long long)a->features,
			 direct ? "direct socket" : "pva device");
	}
	if (direct)
		direct_write(a, PVA_AGENT_HELLO, PVA_MSG_F_RESPONSE,
			     pva_le32(hdr->req_id), status,
			     status ? NULL : &ans, status ? 0 : sizeof(ans));
	else
		service_reply(a->svc, hdr, status, status ? NULL : &ans,
			      status ? 0 : sizeof(ans));
	if (status)
		return;
	clip_after_hello(a);
	send_layout(a);
	guestctl_after_hello(a);
}

static void agent_rx_msg(struct agent *a, bool direct,
			 const struct pva_msg_hdr *hdr, const uint8_t *p,
			 uint32_t len)
{
	uint16_t type = pva_le16(hdr->type), flags = pva_le16(hdr->flags);

	if (type == PVA_AGENT_HELLO && flags == PVA_MSG_F_REQUEST) {
		rx_hello(a, direct, hdr, p, len);
		return;
	}
	if (a->hello && direct == a->direct_active &&
	    (a->features & PVA_AGENT_F_CONTROL) &&
	    type == PVA_AGENT_TIME_QUERY && flags == PVA_MSG_F_REQUEST) {
		guestctl_rx(a, hdr, p, len);
		return;
	}
	if (flags == PVA_MSG_F_RESPONSE && a->hello &&
	    direct == a->direct_active) {
		struct agent_req *r = NULL;
		uint32_t id = pva_le32(hdr->req_id);

		if (id && id == a->power.req_id && type == a->power.type)
			r = &a->power;
		else if (id && id == a->freeze.req_id &&
			 type == a->freeze.type)
			r = &a->freeze;
		if (r) {
			guestctl_answer(a, r, pva_le32(hdr->status), p, len);
			return;
		}
	}
	if (flags & PVA_MSG_F_REQUEST) {
		/* only HELLO is a request */
		if (direct)
			direct_write(a, type, PVA_MSG_F_RESPONSE,
				     pva_le32(hdr->req_id), PVA_S_ENOTSUP,
				     NULL, 0);
		else
			service_reply(a->svc, hdr, PVA_S_ENOTSUP, NULL, 0);
		return;
	}
	if (flags) {
		agent_bad(a, "unexpected response of type %u", type);
		return;
	}
	if (!a->hello || direct != a->direct_active) {
		agent_bad(a, "message of type %u before HELLO%s", type,
			  a->hello ? " on this transport" : "");
		return;
	}
	switch (type) {
	case PVA_AGENT_INFO:
		if (a->features & PVA_AGENT_F_INFO)
			rx_info(a, p, len);
		break;
	case PVA_AGENT_DISPLAY_STATE:
		if (a->features & PVA_AGENT_F_DISPLAY)
			rx_state(a, p, len);
		break;
	case PVA_AGENT_TIME_STATUS:
	case PVA_AGENT_GUEST_STATE:
		if (a->features & PVA_AGENT_F_CONTROL)
			guestctl_rx(a, hdr, p, len);
		else
			agent_bad(a, "guest control message without the feature");
		break;
	case PVA_AGENT_CLIP_GRAB:
	case PVA_AGENT_CLIP_REQUEST:
	case PVA_AGENT_CLIP_DATA:
	case PVA_AGENT_CLIP_CANCEL:
		if (a->features & PVA_AGENT_F_CLIPBOARD)
			clip_rx(a, type, p, len);
		else
			agent_bad(a, "clipboard message without the feature");
		break;
	default:
		agent_bad(a, "unknown message type %u", type);
		break;
	}
}

/* ---- the service ---- */

static int agent_rx(struct service *svc, const struct pva_msg_hdr *hdr,
		    const uint8_t *payload, uint32_t len)
{
	struct agent *a = svc->priv;

	/* room for an answer (HELLO, ENOTSUP) before taking a request */
	if ((pva_le16(hdr->flags) & PVA_MSG_F_REQUEST) &&
	    !service_can_send(svc, sizeof(struct pva_agent_hello)))
		return SERVICE_RETRY;
	agent_rx_msg(a, false, hdr, payload, len);
	return 0;
}

static void agent_pump(struct service *svc)
{
	struct agent *a = svc->priv;

	if (a->direct_active)
		return;
	txq_flush(a);
	clip_pump(a);
}

static void agent_reset(struct service *svc)
{
	struct agent *a = svc->priv;

	txq_clear(a);
	if (a->direct_active)
		return;		/* the direct connection is not affected */
	if (a->hello)
		log_info("agent: the guest's agent service is gone (device reset)");
	a->hello = false;
	guest_gone(a);
}

static void agent_tick(struct service *svc)
{
	clip_tick(svc->priv);
	guestctl_tick(svc->priv);
}

static int agent_init(struct service *svc)
{
	struct agent *a = calloc(1, sizeof(*a));

	if (!a)
		return -1;
	a->svc = svc;
	a->clip_max = svc->cfg->clip_max ? svc->cfg->clip_max :
					   PVA_CLIP_DEFAULT_MAX;
	a->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	a->txq_tail = &a->txq;
	a->direct.fd = -1;
	svc->priv = a;
	clip_init(a);
	if (svc->cfg->agent_socket &&
	    direct_listen(a, svc->cfg->agent_socket) < 0)
		return -1;
	return 0;
}

static void agent_destroy(struct service *svc)
{
	struct agent *a = svc->priv;

	if (!a)
		return;
	clip_free(a);
	direct_free(a);
	txq_clear(a);
	info_clear(a);
	free(a);
	svc->priv = NULL;
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static struct json_object *guest_json(struct agent *a)
{
	struct json_object *o = json_object_new_object(), *info, *disp;

	json_object_object_add(o, "agent", json_object_new_boolean(a->hello));
	json_object_object_add(o, "transport", json_object_new_string(
		!a->hello ? "none" : a->direct_active ? "direct" : "device"));
	add_u64(o, "version", a->hello ? a->version : 0);
	add_u64(o, "features", a->hello ? a->features : 0);
	add_u64(o, "info_updates", a->info_updates);
	add_u64(o, "info_bad", a->info_bad);
	if (a->info_updates)
		json_object_object_add(o, "info_time", json_object_new_double(
			a->info_time.tv_sec + a->info_time.tv_nsec / 1e9));
	info = json_object_new_object();
	for (unsigned int i = 0; i < a->nr_info; i++)
		json_object_object_add(info, a->info[i].key,
				       json_object_new_string(a->info[i].value));
	json_object_object_add(o, "info", info);
	disp = agent_session_display(a->svc->dev);
	if (disp)
		json_object_object_add(o, "display", disp);
	return o;
}

static void agent_status(struct service *svc, struct json_object *obj)
{
	struct agent *a = svc->priv;
	struct json_object *o = guest_json(a);

	add_u64(o, "bad_msgs", a->bad_msgs);
	add_u64(o, "queued", a->txq_len);
	add_u64(o, "dropped", a->txq_dropped);
	json_object_object_add(o, "direct_connected",
			       json_object_new_boolean(a->direct.fd >= 0));
	clip_status(a, o);
	guestctl_status(a, o);
	json_object_object_add(obj, "agent", o);
}

static int cmd_guest(struct service *svc, struct ctl_client *client,
		     struct json_object *req)
{
	(void)req;
	ctl_reply(client, guest_json(svc->priv));
	return 0;
}

/* the clipboard's and guest control's commands, in their own files */
static int cmd_clip(struct service *svc, struct ctl_client *client,
		    struct json_object *req);

static const struct ctl_command agent_commands[] = {
	{ "guest", cmd_guest },
	{ "clipboard-set", cmd_clip },
	{ "clipboard-get", cmd_clip },
	{ "clipboard-watch", cmd_clip },
	{ "clipboard-status", cmd_clip },
	{ "time-sync", cmd_clip },
	{ "time-status", cmd_clip },
	{ "power", cmd_clip },
	{ "fsfreeze", cmd_clip },
	{ NULL, NULL },
};

static int cmd_clip(struct service *svc, struct ctl_client *client,
		    struct json_object *req)
{
	struct json_object *c;
	const char *name;

	json_object_object_get_ex(req, "cmd", &c);
	name = json_object_get_string(c);
	for (const struct ctl_command *cc = clip_commands; cc->name; cc++)
		if (!strcmp(cc->name, name))
			return cc->handler(svc, client, req);
	for (const struct ctl_command *cc = guestctl_commands; cc->name; cc++)
		if (!strcmp(cc->name, name))
			return cc->handler(svc, client, req);
	ctl_reply_error(client, "unknown command '%s'", name);
	return -1;
}

const struct service_ops agent_service_ops = {
	.name = PVA_AGENT_CHANNEL,
	.type = PVA_SVC_CHANNEL,
	.version = PVA_AGENT_VERSION,
	.features = PVA_AGENT_F_KNOWN,
	.g2h_size = 1 << 20,
	.h2g_size = 1 << 20,
	.init = agent_init,
	.destroy = agent_destroy,
	.reset = agent_reset,
	.rx = agent_rx,
	.pump = agent_pump,
	.tick = agent_tick,
	.status = agent_status,
	.commands = agent_commands,
};
