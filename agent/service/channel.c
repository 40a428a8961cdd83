// SPDX-License-Identifier: MIT
/*
 * pva-service's connection to the host: the "agent" channel through
 * /dev/pva (one message per read and write, protocol/PROTOCOL.md 6.2),
 * or, for tests and guests without the device, a stream socket to
 * pva-host's --agent-socket with the same messages, each a pva_msg_hdr
 * and its payload. It sends HELLO after every (re)connection and device
 * reset, waits for the device to appear (libudev, and a timer where no
 * udev runs), and queues what the host cannot take yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <uapi/pva.h>

#include "loop.h"
#include "service.h"

#define RETRY_MS	2000
#define HELLO_ID	1
#define HDR_SIZE	sizeof(struct pva_msg_hdr)
#define QUEUE_HIGH	(4u << 20)	/* stop reading agents above this */

struct channel {
	struct svc *svc;
	const struct svc_options *opt;
	bool direct;
	int fd;
	struct loop_source *src, *timer, *udev_src;
	struct udev *udev;
	struct udev_monitor *mon;
	bool up;		/* HELLO answered */
	uint64_t features, host_clip_max;
	uint32_t max_payload;
	struct pktq out;
	uint8_t *rx;		/* one message */
	size_t rx_len;
	bool throttled;
	int last_err;		/* the last open/bind error logged */
};

static void ch_close(struct channel *ch, const char *why);
static void ch_try_open(struct channel *ch);
static void device_reset(struct channel *ch);

static void want(struct channel *ch)
{
	uint32_t ev = ch->throttled ? 0 : EPOLLIN;

	if (ch->out.head)
		ev |= EPOLLOUT;
	if (ch->src)
		loop_mod_fd(ch->src, ev);
}

/* Write queued messages; -1 when the connection broke. */
static int flush(struct channel *ch)
{
	while (ch->out.head) {
		struct pkt *p = ch->out.head;
		ssize_t w;

		if (ch->direct)
			w = send(ch->fd, p->data, p->len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			w = write(ch->fd, p->data, p->len);
		if (w < 0 && errno == EINTR)
			continue;
		/* ENOTCONN: the device is renegotiating; poll says when
		 * it is back
		 */
		if (w < 0 && (errno == EAGAIN ||
			      (errno == ENOTCONN && !ch->direct)))
			break;
		if (w < 0 && errno == ECONNRESET && !ch->direct) {
			/* the device reset: what was queued is void */
			device_reset(ch);
			return 0;
		}
		if (w < 0) {
			ch_close(ch, strerror(errno));
			return -1;
		}
		if (ch->direct && (size_t)w < p->len) {
			/* a stream: keep the rest for later */
			memmove(p->data, p->data + w, p->len - (size_t)w);
			p->len -= (size_t)w;
			ch->out.bytes -= (size_t)w;
			break;
		}
		ch->out.head = p->next;
		if (!ch->out.head)
			ch->out.tail = &ch->out.head;
		ch->out.bytes -= p->len;
		free(p);
	}
	want(ch);
	agents_throttle(ch->svc, ch->out.bytes > QUEUE_HIGH);
	return 0;
}

static void send_hello(struct channel *ch);

/* The host restarted or reset the device: start over with HELLO. */
static void device_reset(struct channel *ch)
{
	log_info("the pva device was reset: saying HELLO again");
	ch->up = false;
	router_host_down(ch->svc);
	send_hello(ch);
}

static void send_hello(struct channel *ch)
{
	struct pva_agent_hello h = {
		.version = pva_cpu32(PVA_AGENT_VERSION),
		.features = pva_cpu64(PVA_AGENT_F_KNOWN),
		.clip_max = pva_cpu64(ch->opt->clip_max),
	};

	pktq_clear(&ch->out);
	pktq_add(&ch->out, PVA_AGENT_HELLO, PVA_MSG_F_REQUEST, HELLO_ID, 0,
		 &h, sizeof(h));
	flush(ch);
}

bool channel_send(struct channel *ch, uint16_t type, const void *payload,
		  uint32_t len)
{
	if (!ch || !ch->up)
		return false;
	if (len > ch->max_payload) {
		log_warn("a %u-byte message is too large for the channel", len);
		return false;
	}
	if (!pktq_add(&ch->out, type, 0, 0, 0, payload, len)) {
		log_err("out of memory: a message to the host is lost");
		return false;
	}
	return flush(ch) == 0;
}

static void rx_hello_answer(struct channel *ch, const struct pva_msg_hdr *h,
			    const uint8_t *p, uint32_t len)
{
	struct pva_agent_hello a;
	const char *why;

	if (pva_le32(h->status) != PVA_S_OK) {
		log_err("the host refused HELLO (status %u)",
			pva_le32(h->status));
		return;
	}
	if (agent_hello_parse(p, len, &a, &why)) {
		log_err("the host's HELLO answer is malformed: %s", why);
		return;
	}
	ch->features = a.features & PVA_AGENT_F_KNOWN;
	ch->host_clip_max = a.clip_max;
	ch->up = true;
	log_info("connected to the host (agent protocol %u, features 0x%llx)",
		 a.version, (unsigned long long)ch->features);
	router_host_up(ch->svc);
}

static void dispatch(struct channel *ch, const uint8_t *msg, size_t n)
{
	struct pva_msg_hdr h;
	uint32_t len;
	uint16_t flags;

	if (n < HDR_SIZE)
		return;
	memcpy(&h, msg, HDR_SIZE);
	len = pva_le32(h.len);
	flags = pva_le16(h.flags);
	if (len != n - HDR_SIZE || h.reserved0 || h.reserved1 ||
	    (flags & ~PVA_MSG_F_KNOWN)) {
		log_warn("the host sent a malformed message header");
		return;
	}
	if (flags & PVA_MSG_F_RESPONSE) {
		if (pva_le16(h.type) == PVA_AGENT_HELLO &&
		    pva_le32(h.req_id) == HELLO_ID)
			rx_hello_answer(ch, &h, msg + HDR_SIZE, len);
		else if (ch->up)
			control_answer(ch->svc, &h, msg + HDR_SIZE, len);
		return;
	}
	if (flags & PVA_MSG_F_REQUEST) {
		if (ch->up)
			control_request(ch->svc, &h, msg + HDR_SIZE, len);
		else
			channel_reply(ch, &h, PVA_S_EAGAIN, NULL, 0);
		return;
	}
	if (!ch->up) {
		log_debug("host message of type %u before HELLO's answer",
			  pva_le16(h.type));
		return;
	}
	router_from_host(ch->svc, pva_le16(h.type), msg + HDR_SIZE, len);
}

/* One message from the stream: 1 if there was one, 0 if more is needed,
 * -1 when the connection ended.
 */
static int read_direct(struct channel *ch)
{
	struct pva_msg_hdr h;
	size_t need;
	ssize_t n;

	need = ch->rx_len < HDR_SIZE ? HDR_SIZE - ch->rx_len : 0;
	if (!need) {
		memcpy(&h, ch->rx, HDR_SIZE);
		need = HDR_SIZE + pva_le32(h.len) - ch->rx_len;
	}
	n = recv(ch->fd, ch->rx + ch->rx_len, need, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		ch_close(ch, n ? strerror(errno) : "pva-host closed the socket");
		return -1;
	}
	ch->rx_len += (size_t)n;
	if (ch->rx_len < HDR_SIZE)
		return 1;
	memcpy(&h, ch->rx, HDR_SIZE);
	if (pva_le32(h.len) > PVA_MSG_MAX) {
		ch_close(ch, "the host sent a message that is too long");
		return -1;
	}
	if (ch->rx_len < HDR_SIZE + pva_le32(h.len))
		return 1;
	ch->rx_len = 0;
	dispatch(ch, ch->rx, HDR_SIZE + pva_le32(h.len));
	return 1;
}

static void ch_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct channel *ch = data;

	(void)loop;
	if (!ch->direct && (events & EPOLLERR) && !(events & EPOLLHUP)) {
		/* /dev/pva reports a device reset once, and poll() (epoll
		 * here) is where it is reported first: start over
		 */
		device_reset(ch);
		return;
	}
	if ((events & EPOLLOUT) && flush(ch) < 0)
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int i = 0; i < 64 && ch->fd >= 0 && !ch->throttled; i++) {
		ssize_t n;

		if (ch->direct) {
			if (read_direct(ch) <= 0)
				return;
			continue;
		}
		n = read(fd, ch->rx, PACKET_MAX);
		if (n < 0 && (errno == EAGAIN || errno == EINTR ||
			      errno == ENOTCONN))
			return;
		if (n < 0 && errno == ECONNRESET) {
			device_reset(ch);
			continue;
		}
		if (n <= 0) {
			ch_close(ch, n ? strerror(errno) : "end of file");
			return;
		}
		dispatch(ch, ch->rx, (size_t)n);
	}
}

static int open_direct(struct channel *ch)
{
	const char *addr = ch->opt->host_socket;
	int fd;

	if (!strncmp(addr, "tcp:", 4)) {
		const char *colon = strrchr(addr + 4, ':');
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
		char host[256];

		if (!colon || (size_t)(colon - addr - 4) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr - 4),
			 addr + 4);
		if (getaddrinfo(host, colon + 1, &hints, &ai))
			return -EHOSTUNREACH;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(fd);
			fd = -errno;
		}
		freeaddrinfo(ai);
	} else {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(addr) >= sizeof(sa.sun_path))
			return -ENAMETOOLONG;
		strcpy(sa.sun_path, addr);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa,
				       sizeof(sa)) < 0) {
			close(fd);
			fd = -errno;
		}
	}
	if (fd >= 0)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static int open_device(struct channel *ch)
{
	struct pva_bind b = { .name = PVA_AGENT_CHANNEL };
	struct pva_info info;
	int fd = open(ch->opt->device, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, PVA_IOC_BIND, &b) < 0 ||
	    ioctl(fd, PVA_IOC_INFO, &info) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	ch->max_payload = info.max_payload;
	return fd;
}

static void ch_try_open(struct channel *ch)
{
	int fd;

	if (ch->fd >= 0)
		return;
	fd = ch->direct ? open_direct(ch) : open_device(ch);
	if (fd < 0) {
		if (fd != ch->last_err) {
			ch->last_err = fd;
			if (fd == -ENOENT && !ch->direct && !access(ch->opt->device, F_OK))
				log_warn("the host offers no agent channel (pva-host --no-agent?); trying again");
			else
				log_info("waiting for %s: %s",
					 ch->direct ? ch->opt->host_socket :
					 ch->opt->device, strerror(-fd));
		}
		return;
	}
	ch->last_err = 0;
	ch->fd = fd;
	if (ch->direct)
		ch->max_payload = PVA_MSG_MAX;
	ch->rx_len = 0;
	ch->src = loop_add_fd(ch->svc->loop, fd, EPOLLIN, ch_event, ch);
	if (!ch->src) {
		close(fd);
		ch->fd = -1;
		return;
	}
	log_info("opened %s", ch->direct ? ch->opt->host_socket :
		 ch->opt->device);
	send_hello(ch);
}

static void ch_close(struct channel *ch, const char *why)
{
	if (ch->fd < 0)
		return;
	log_warn("lost the host: %s", why);
	loop_remove(ch->src);
	ch->src = NULL;
	close(ch->fd);
	ch->fd = -1;
	ch->up = false;
	pktq_clear(&ch->out);
	agents_throttle(ch->svc, false);
	router_host_down(ch->svc);
}

static void retry_tick(struct loop *loop, int fd, uint32_t events,
		       void *data)
{
	struct channel *ch = data;
	uint64_t n;

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	ch_try_open(ch);
}

/* A device appeared (module loaded, PCI device bound): try it now. */
static void udev_event(struct loop *loop, int fd, uint32_t events,
		       void *data)
{
	struct channel *ch = data;
	struct udev_device *d = udev_monitor_receive_device(ch->mon);

	(void)loop;
	(void)fd;
	(void)events;
	if (!d)
		return;
	if (!strcmp(udev_device_get_action(d) ? udev_device_get_action(d) : "",
		    "add"))
		ch_try_open(ch);
	udev_device_unref(d);
}

static void watch_udev(struct channel *ch)
{
	ch->udev = udev_new();
	if (ch->udev)
		ch->mon = udev_monitor_new_from_netlink(ch->udev, "udev");
	if (!ch->mon || udev_monitor_filter_add_match_subsystem_devtype(
				ch->mon, "misc", NULL) < 0 ||
	    udev_monitor_enable_receiving(ch->mon) < 0) {
		log_debug("no udev monitor: looking for the device every %d ms",
			  RETRY_MS);
		return;
	}
	ch->udev_src = loop_add_fd(ch->svc->loop, udev_monitor_get_fd(ch->mon),
				   EPOLLIN, udev_event, ch);
}

struct channel *channel_open(struct svc *s, const struct svc_options *opt)
{
	struct channel *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->svc = s;
	ch->opt = opt;
	ch->direct = opt->host_socket != NULL;
	ch->fd = -1;
	pktq_init(&ch->out);
	ch->rx = malloc(PACKET_MAX);
	ch->timer = loop_add_timer(s->loop, RETRY_MS, retry_tick, ch);
	if (!ch->rx || !ch->timer) {
		channel_close(ch);
		return NULL;
	}
	if (!ch->direct)
		watch_udev(ch);
	s->ch = ch;
	ch_try_open(ch);
	return ch;
}

void channel_close(struct channel *ch)
{
	if (!ch)
		return;
	if (ch->fd >= 0) {
		loop_remove(ch->src);
		close(ch->fd);
	}
	if (ch->timer)
		loop_remove(ch->timer);
	if (ch->udev_src)
		loop_remove(ch->udev_src);
	if (ch->mon)
		udev_monitor_unref(ch->mon);
	if (ch->udev)
		udev_unref(ch->udev);
	pktq_clear(&ch->out);
	free(ch->rx);
	free(ch);
}

bool channel_request(struct channel *ch, uint16_t type, uint32_t req_id,
		     const void *payload, uint32_t len)
{
	if (!ch || !ch->up)
		return false;
	if (!pktq_add(&ch->out, type, PVA_MSG_F_REQUEST, req_id, 0, payload,
		      len))
		return false;
	return flush(ch) == 0;
}

void channel_reply(struct channel *ch, const struct pva_msg_hdr *req,
		   uint32_t status, const void *payload, uint32_t len)
{
	if (!ch || ch->fd < 0)
		return;
	pktq_add(&ch->out, pva_le16(req->type), PVA_MSG_F_RESPONSE,
		 pva_le32(req->req_id), status, payload, len);
	flush(ch);
}

bool channel_up(const struct channel *ch)
{
	return ch && ch->up;
}

uint64_t channel_features(const struct channel *ch)
{
	return ch && ch->up ? ch->features : 0;
}

uint64_t channel_host_clip_max(const struct channel *ch)
{
	return ch && ch->up && ch->host_clip_max ? ch->host_clip_max :
						   PVA_CLIP_DEFAULT_MAX;
}

uint32_t channel_max_payload(const struct channel *ch)
{
	return ch && ch->max_payload ? ch->max_payload : PVA_MSG_MAX;
}

size_t channel_queued(const struct channel *ch)
{
	return ch ? ch->out.bytes : 0;
}

void channel_throttle(struct channel *ch, bool stop)
{
	if (!ch || ch->throttled == stop)
		return;
	ch->throttled = stop;
	want(ch);
}
