// SPDX-License-Identifier: MIT
#include "device.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define PAGE		4096u
#define ROUND_UP(x, a)	(((x) + (a) - 1) / (a) * (a))

struct device {
	const struct host_config *cfg;
	struct loop *loop;
	uint8_t *shm;
	uint64_t shm_size;
	struct pva_header *hdr;
	unsigned int nvec;			/* vectors we serve */
	int host_ev[PVA_MAX_VECTORS];		/* guest -> us (not owned) */
	struct loop_source *ev_src[PVA_MAX_VECTORS];
	int guest_ev[PVA_MAX_VECTORS];		/* us -> guest (owned) */
	bool guest_connected;
	unsigned int peer_id;

	struct service *svcs[PVA_MAX_SERVICES];
	unsigned int nr_svcs;
	uint32_t table_off;

	uint32_t generation;
	/* what we offer: from the command line, or a test switch */
	unsigned int major_min, major_max, host_minor;
	uint64_t host_features;
	/* negotiation state, from the guest's last request */
	bool negotiated;			/* acked OK, rings live */
	uint32_t last_req_seq;
	uint32_t guest_status;
	uint32_t guest_error;
	uint16_t major, minor, guest_nvec, active_nvec;
	uint64_t features;
	uint64_t pending_notify;		/* vectors to interrupt */

	uint64_t resets, protocol_errors, ring_failures;
	uint64_t tick_rescues;			/* rings found busy by the tick */
	uint64_t doorbells[PVA_MAX_VECTORS], interrupts[PVA_MAX_VECTORS];
	unsigned int worker_restarts;
	time_t started;
	struct timespec last_reset;
	bool reset_pending;			/* guest reported a bad ring */
	struct loop_source *tick;
	struct log_ratelimit rl;
	uint8_t rx_buf[PVA_MSG_MAX];
};

static void device_scan_vector(struct device *dev, unsigned int vector);

static void tick_event(struct loop *loop, int fd, uint32_t events,
		       void *data);
static void doorbell_event(struct loop *loop, int fd, uint32_t events,
			   void *data);

/* ---- creation ---- */

struct device *device_new(const struct host_config *cfg, struct loop *loop,
			  int shm_fd, const int *host_ev, unsigned int nvec)
{
	struct device *dev = calloc(1, sizeof(*dev));
	void *p;

	if (!dev)
		return NULL;
	p = mmap(NULL, cfg->shm_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 shm_fd, 0);
	if (p == MAP_FAILED) {
		log_err("cannot map the shared memory: %m");
		free(dev);
		return NULL;
	}
	dev->cfg = cfg;
	dev->loop = loop;
	dev->shm = p;
	dev->shm_size = cfg->shm_size;
	dev->hdr = p;
	dev->nvec = nvec;
	memcpy(dev->host_ev, host_ev, sizeof(int) * nvec);
	for (unsigned int v = 0; v < PVA_MAX_VECTORS; v++)
		dev->guest_ev[v] = -1;
	dev->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	dev->started = time(NULL);
	dev->major_min = cfg->major_min;
	dev->major_max = cfg->major_max;
	dev->host_minor = cfg->minor;
	dev->host_features = cfg->features;
	return dev;
}

void device_free(struct device *dev)
{
	if (!dev)
		return;
	for (unsigned int i = 0; i < dev->nr_svcs; i++) {
		struct service *svc = dev->svcs[i];

		if (svc->ops->destroy)
			svc->ops->destroy(svc);
		free(svc);
	}
	for (unsigned int v = 0; v < PVA_MAX_VECTORS; v++) {
		loop_remove(dev->ev_src[v]);
		if (dev->guest_ev[v] >= 0)
			close(dev->guest_ev[v]);
	}
	loop_remove(dev->tick);
	munmap(dev->shm, dev->shm_size);
	free(dev);
}

int device_add_service(struct device *dev, const struct service_ops *ops)
{
	struct service *svc;

	if (dev->nr_svcs == PVA_MAX_SERVICES || strlen(ops->name) >=
	    PVA_SVC_NAME_LEN || !pva_ring_size_valid(ops->g2h_size) ||
	    !pva_ring_size_valid(ops->h2g_size))
		return -EINVAL;
	svc = calloc(1, sizeof(*svc));
	if (!svc)
		return -ENOMEM;
	svc->ops = ops;
	svc->dev = dev;
	svc->cfg = dev->cfg;
	svc->id = (uint16_t)dev->nr_svcs;
	dev->svcs[dev->nr_svcs++] = svc;
	if (ops->init && ops->init(svc) < 0) {
		dev->nr_svcs--;
		free(svc);
		return -EINVAL;
	}
	return 0;
}

/* ---- layout and header ---- */

static int device_layout(struct device *dev)
{
	struct service *rest = NULL;
	uint64_t off;

	dev->table_off = PVA_HEADER_SIZE;
	off = dev->table_off + ROUND_UP(dev->nr_svcs *
					sizeof(struct pva_service_desc), PAGE);
	for (unsigned int i = 0; i < dev->nr_svcs; i++) {
		struct service *svc = dev->svcs[i];
		const struct service_ops *ops = svc->ops;

		svc->g2h_off = off;
		off += ROUND_UP(PVA_RING_CTRL_SIZE + ops->g2h_size, PAGE);
		svc->h2g_off = off;
		off += ROUND_UP(PVA_RING_CTRL_SIZE + ops->h2g_size, PAGE);
		if (ops->data_size == SERVICE_DATA_REST) {
			rest = svc;
			continue;
		}
		svc->data_size = ops->data_size;
		svc->data_off = ops->data_size ? off : 0;
		off += ROUND_UP(ops->data_size, PAGE);
	}
	if (rest) {
		/* last, so it can take what is left */
		rest->data_off = off;
		rest->data_size = off < dev->shm_size ? dev->shm_size - off : 0;
		off += rest->ops->data_min;
	}
	if (off > dev->shm_size) {
		log_err("the services need %" PRIu64 " KiB of shared memory, only %" PRIu64 " KiB configured (--shm-size)%s",
			off >> 10, dev->shm_size >> 10,
			rest ? "; or turn the display off (--no-display)" : "");
		return -ENOSPC;
	}
	for (unsigned int i = 0; i < dev->nr_svcs; i++) {
		struct service *svc = dev->svcs[i];

		pva_ring_attach(&svc->rx, dev->shm + svc->g2h_off,
				svc->ops->g2h_size, 0);
		pva_ring_attach(&svc->tx, dev->shm + svc->h2g_off,
				svc->ops->h2g_size, 0);
		svc->data = svc->data_off ? dev->shm + svc->data_off : NULL;
	}
	return 0;
}

static void write_service_table(struct device *dev)
{
	struct pva_service_desc *table =
		(struct pva_service_desc *)(dev->shm + dev->table_off);

	for (unsigned int i = 0; i < dev->nr_svcs; i++) {
		struct service *svc = dev->svcs[i];
		const struct service_ops *ops = svc->ops;
		struct pva_service_desc *d = &table[i];

		memset(d, 0, sizeof(*d));
		strncpy(d->name, ops->name, sizeof(d->name) - 1);
		d->type = pva_cpu16(ops->type);
		d->id = pva_cpu16(svc->id);
		d->version = pva_cpu16(ops->version);
		d->features = pva_cpu64(ops->features);
		d->g2h_off = pva_cpu64(svc->g2h_off);
		d->h2g_off = pva_cpu64(svc->h2g_off);
		d->g2h_size = pva_cpu32(ops->g2h_size);
		d->h2g_size = pva_cpu32(ops->h2g_size);
		d->data_off = pva_cpu64(svc->data_off);
		d->data_size = pva_cpu64(svc->data_size);
	}
}

/*
 * Drop every service's per-guest state. The rings are left alone: a guest
 * may still be using them until it sees the new generation; they are
 * emptied when it asks to negotiate (reset_rings()).
 */
static void reset_services(struct device *dev)
{
	dev->negotiated = false;
	for (unsigned int i = 0; i < dev->nr_svcs; i++) {
		struct service *svc = dev->svcs[i];

		if (svc->ops->reset)
			svc->ops->reset(svc);
	}
}

static void reset_rings(struct device *dev)
{
	for (unsigned int i = 0; i < dev->nr_svcs; i++) {
		pva_ring_reset_shared(&dev->svcs[i]->rx);
		pva_ring_reset_shared(&dev->svcs[i]->tx);
	}
}

/* PROTOCOL.md section 3, host steps 1-4. */
static void device_rebuild(struct device *dev, enum device_corruption what)
{
	struct pva_host_area *h = &dev->hdr->host;

	pva_store_release(&h->host_status, pva_cpu32(PVA_HOST_RESETTING));
	reset_services(dev);
	dev->last_req_seq = pva_le32(dev->hdr->guest.req_seq);
	h->magic = pva_cpu32(PVA_MAGIC);
	h->major_min = pva_cpu16(dev->major_min);
	h->major_max = pva_cpu16(dev->major_max);
	h->minor = pva_cpu16(dev->host_minor);
	h->nr_vectors = pva_cpu16(dev->nvec);
	h->header_size = pva_cpu32(PVA_HEADER_SIZE);
	h->shm_size = pva_cpu64(dev->shm_size);
	h->host_features = pva_cpu64(dev->host_features);
	h->svc_table_off = pva_cpu32(dev->table_off);
	h->nr_services = pva_cpu32(dev->nr_svcs);
	write_service_table(dev);

	switch (what) {
	case CORRUPT_MAGIC:
		h->magic = pva_cpu32(0xdeadbeef);
		break;
	case CORRUPT_MAJOR:
		h->major_min = h->major_max = pva_cpu16(99);
		break;
	case CORRUPT_TABLE: {
		struct pva_service_desc *d = (struct pva_service_desc *)
			(dev->shm + dev->table_off) + dev->nr_svcs - 1;

		d->h2g_off = pva_cpu64(dev->shm_size - PAGE);
		break;
	}
	default:
		break;
	}
	dev->generation++;
	h->generation = pva_cpu32(dev->generation);
	pva_store_release(&h->host_status, pva_cpu32(PVA_HOST_READY));
	dev->resets++;
	dev->reset_pending = false;	/* this reset is the recovery */
	clock_gettime(CLOCK_MONOTONIC, &dev->last_reset);
	device_notify(dev, PVA_CONFIG_VECTOR);
}

int device_start(struct device *dev)
{
	struct pva_host_area *h = &dev->hdr->host;
	int err;

	err = device_layout(dev);
	if (err)
		return err;
	/* A previous worker's header: continue its generation count. */
	if (pva_le32(h->magic) == PVA_MAGIC)
		dev->generation = pva_le32(h->generation);
	for (unsigned int v = 0; v < dev->nvec; v++) {
		dev->ev_src[v] = loop_add_fd(dev->loop, dev->host_ev[v],
					     EPOLLIN, doorbell_event, dev);
		if (!dev->ev_src[v])
			return -ENOMEM;
	}
	dev->tick = loop_add_timer(dev->loop, DEVICE_TICK_MS, tick_event, dev);
	device_rebuild(dev, CORRUPT_NONE);
	log_info("device ready: generation %u, %u services", dev->generation,
		 dev->nr_svcs);
	return 0;
}

void device_reset(struct device *dev, const char *why)
{
	log_info("resetting the device: %s", why);
	device_rebuild(dev, CORRUPT_NONE);
	device_flush(dev);
}

void device_protocol_error(struct device *dev, struct service *svc,
			   const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dev->protocol_errors++;
	if (log_ratelimit_ok(&dev->rl))
		log_warn("guest protocol error on service %s: %s; resetting the device",
			 svc ? svc->ops->name : "-", buf);
	device_rebuild(dev, CORRUPT_NONE);
}

/* ---- doorbells and interrupts ---- */

void device_notify(struct device *dev, uint16_t vector)
{
	dev->pending_notify |= 1ull << vector;
}

void device_flush(struct device *dev)
{
	static const uint64_t one = 1;

	while (dev->pending_notify) {
		unsigned int v = (unsigned int)__builtin_ctzll(dev->pending_notify);

		dev->pending_notify &= dev->pending_notify - 1;
		if (!dev->guest_connected || v >= dev->nvec ||
		    dev->guest_ev[v] < 0)
			continue;
		if (write(dev->guest_ev[v], &one, sizeof(one)) < 0 &&
		    errno != EAGAIN)
			log_warn("cannot interrupt the guest: %m");
		dev->interrupts[v]++;
	}
}

/* ---- negotiation (PROTOCOL.md section 3, host side) ---- */

static const char *guest_status_name(uint32_t s)
{
	static const char *const names[] = {
		"reset", "negotiating", "running", "failed",
	};

	return s < 4 ? names[s] : "invalid";
}

static const char *guest_error_name(uint32_t e)
{
	static const char *const names[] = {
		"none", "no common version", "invalid layout",
		"corrupt ring", "host timeout",
	};

	return e < 5 ? names[e] : "unknown";
}

static void negotiate(struct device *dev, uint32_t req_seq)
{
	struct pva_guest_area g;
	struct pva_host_area *h = &dev->hdr->host;
	uint32_t status = PVA_NEG_OK;
	unsigned int gmin, gmax, gminor, major = 0, minor = 0;

	/* One private copy of the guest's request: no double fetches. */
	memcpy(&g, &dev->hdr->guest, offsetof(struct pva_guest_area, reserved));
	reset_services(dev);
	if (pva_le32(g.generation) != dev->generation) {
		log_debug("negotiation request for generation %u, current %u: ignored",
			  pva_le32(g.generation), dev->generation);
		return;
	}
	/* The guest stopped using the rings before it asked. */
	reset_rings(dev);
	gmin = pva_le16(g.major_min);
	gmax = pva_le16(g.major_max);
	gminor = pva_le16(g.minor);
	dev->guest_nvec = pva_le16(g.nr_vectors);
	if (!dev->guest_nvec || gmin > gmax || !gmin) {
		status = PVA_NEG_INVALID;
	} else {
		major = gmax < dev->major_max ? gmax : dev->major_max;
		if (major < gmin || major < dev->major_min)
			status = PVA_NEG_VERSION;
	}
	if (status == PVA_NEG_OK) {
		/* A side's minor is for its highest major; for a lower
		 * major we only know of version major.0 here.
		 */
		unsigned int hm = major == dev->major_max ? dev->host_minor : 0;
		unsigned int gm = major == gmax ? gminor : 0;

		minor = hm < gm ? hm : gm;
		dev->major = (uint16_t)major;
		dev->minor = (uint16_t)minor;
		dev->features = pva_le64(g.features) & dev->host_features;
		dev->active_nvec = dev->guest_nvec < dev->nvec ?
				   dev->guest_nvec : (uint16_t)dev->nvec;
		for (unsigned int i = 0; i < dev->nr_svcs; i++) {
			struct service *svc = dev->svcs[i];
			int ei = !!(dev->features & PVA_F_EVENT_IDX);

			svc->vector = pva_service_vector(svc->id,
							 dev->active_nvec);
			svc->rx.event_idx = ei;
			svc->tx.event_idx = ei;
		}
		dev->negotiated = true;
		log_info("guest negotiated protocol %u.%u, features 0x%" PRIx64 ", %u vectors",
			 major, minor, dev->features, dev->active_nvec);
	} else {
		log_warn("guest negotiation failed: %s (guest speaks %u-%u.%u, host %u-%u.%u)",
			 status == PVA_NEG_VERSION ? "no common major version" :
			 "malformed request", gmin, gmax, gminor,
			 dev->major_min, dev->major_max, dev->host_minor);
	}
	h->ack_status = pva_cpu32(status);
	h->ack_major = pva_cpu16(major);
	h->ack_minor = pva_cpu16(minor);
	h->ack_features = pva_cpu64(status == PVA_NEG_OK ? dev->features : 0);
	pva_store_release(&h->ack_seq, pva_cpu32(req_seq));
	device_notify(dev, PVA_CONFIG_VECTOR);
}

static void check_guest(struct device *dev)
{
	struct pva_guest_area *g = &dev->hdr->guest;
	uint32_t req = pva_le32(pva_load_acquire(&g->req_seq));
	uint32_t status = pva_le32(pva_load_once(&g->status));

	if (req != dev->last_req_seq) {
		dev->last_req_seq = req;
		negotiate(dev, req);
		/* the status that came with this request */
		status = pva_le32(pva_load_once(&g->status));
	}
	if (status == dev->guest_status)
		return;
	dev->guest_status = status;
	dev->guest_error = pva_le32(pva_load_once(&g->error));
	if (status == PVA_GUEST_FAILED) {
		log_warn("guest driver failed: %s",
			 guest_error_name(dev->guest_error));
		if (dev->guest_error == PVA_GERR_RING)
			dev->ring_failures++;
		/* A broken ring is recovered with a reset; version and
		 * layout failures would only fail again.
		 */
		if (dev->guest_error == PVA_GERR_RING ||
		    dev->guest_error == PVA_GERR_TIMEOUT)
			dev->reset_pending = true;
	} else {
		log_info("guest driver status: %s", guest_status_name(status));
	}
	if (status == PVA_GUEST_RESET || status == PVA_GUEST_FAILED)
		reset_services(dev);
}

bool device_negotiated(const struct device *dev)
{
	return dev->negotiated && dev->guest_connected;
}

/* ---- rings ---- */

static void drain_service(struct device *dev, struct service *svc)
{
	int budget = 256;	/* then let other services run */

	while (dev->negotiated && budget-- > 0) {
		struct pva_msg_hdr hdr;
		uint32_t len, rec;
		int ret;

		ret = pva_ring_cons_peek(&svc->rx, &hdr);
		if (ret == PVA_RING_AGAIN) {
			if (pva_ring_cons_arm(&svc->rx) == PVA_RING_AGAIN)
				break;
			continue;
		}
		if (ret == PVA_RING_CORRUPT) {
			device_protocol_error(dev, svc,
					      "corrupt guest->host ring (prod %u, cons %u)",
					      pva_le32(svc->rx.ctrl->prod),
					      svc->rx.local);
			return;
		}
		if (!pva_msg_hdr_valid(&hdr, svc->id)) {
			device_protocol_error(dev, svc,
					      "invalid message header (service %u, flags 0x%x)",
					      pva_le16(hdr.service),
					      pva_le16(hdr.flags));
			return;
		}
		len = pva_le32(hdr.len);
		rec = pva_msg_record_size(len);
		pva_ring_cons_read(&svc->rx, 0, dev->rx_buf, len);
		ret = svc->ops->rx(svc, &hdr, dev->rx_buf, len);
		if (!dev->negotiated)
			return;		/* the handler reset the device */
		svc->rx_blocked = ret == SERVICE_RETRY;
		if (ret == SERVICE_RETRY)
			break;		/* waits for h2g space */
		svc->stats.rx_msgs++;
		svc->stats.rx_bytes += len;
		if (pva_ring_cons_commit(&svc->rx, rec))
			device_notify(dev, svc->vector);
	}
	if (budget < 0) {
		/* More to do: ring our own doorbell so the loop comes back
		 * after it has served everything else.
		 */
		static const uint64_t one = 1;

		if (write(dev->host_ev[svc->vector], &one, sizeof(one)) < 0)
			log_warn("cannot reschedule service %s: %m",
				 svc->ops->name);
	}
}

static void device_scan_vector(struct device *dev, unsigned int vector)
{
	for (unsigned int i = 0; i < dev->nr_svcs && dev->negotiated; i++) {
		struct service *svc = dev->svcs[i];

		if (svc->vector != vector)
			continue;
		drain_service(dev, svc);
		if (dev->negotiated && svc->ops->pump)
			svc->ops->pump(svc);
	}
}

void device_doorbell(struct device *dev, unsigned int vector)
{
	if (vector >= dev->nvec)
		return;
	dev->doorbells[vector]++;
	if (!dev->guest_connected)
		return;
	if (vector == PVA_CONFIG_VECTOR)
		check_guest(dev);
	if (dev->negotiated)
		device_scan_vector(dev, vector);
	device_flush(dev);
}

static void doorbell_event(struct loop *loop, int fd, uint32_t events,
			   void *data)
{
	struct device *dev = data;
	unsigned int v;
	uint64_t cnt;

	(void)loop;
	(void)events;
	for (v = 0; v < dev->nvec && dev->host_ev[v] != fd; v++)
		;
	if (read(fd, &cnt, sizeof(cnt)) == sizeof(cnt))
		device_doorbell(dev, v);
}

void device_tick(struct device *dev)
{
	if (!dev->guest_connected)
		return;
	check_guest(dev);
	if (dev->reset_pending) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		/* at most one recovery reset per second */
		if (now.tv_sec - dev->last_reset.tv_sec >= 1) {
			dev->reset_pending = false;
			device_rebuild(dev, CORRUPT_NONE);
			log_info("reset the device to recover the guest");
		}
	}
	for (unsigned int i = 0; i < dev->nr_svcs && dev->negotiated; i++) {
		struct service *svc = dev->svcs[i];

		/*
		 * A safety net, not the mechanism: a doorbell lost to a
		 * missing barrier (seen with single-threaded TCG) would
		 * otherwise stall the ring for good. Counted, so tests can
		 * tell that it is not needed.
		 */
		if (pva_ring_cons_pending(&svc->rx)) {
			/* stuck: unread since the last tick (and not
			 * because the service waits for room to answer)
			 */
			if (svc->rx.local == svc->tick_cons) {
				if (!svc->rx_blocked)
					dev->tick_rescues++;
				drain_service(dev, svc);
			}
			svc->tick_cons = svc->rx.local;
		}
		if (dev->negotiated && svc->ops->pump)
			svc->ops->pump(svc);
	}
	for (unsigned int i = 0; i < dev->nr_svcs; i++)
		if (dev->svcs[i]->ops->tick)
			dev->svcs[i]->ops->tick(dev->svcs[i]);
	device_flush(dev);
}

static void tick_event(struct loop *loop, int fd, uint32_t events,
		       void *data)
{
	(void)loop;
	(void)fd;
	(void)events;
	device_tick(data);
}

void device_guest_up(struct device *dev, const int *guest_ev,
		     unsigned int nvec, unsigned int peer_id)
{
	for (unsigned int v = 0; v < PVA_MAX_VECTORS; v++) {
		if (dev->guest_ev[v] >= 0)
			close(dev->guest_ev[v]);
		dev->guest_ev[v] = v < nvec ? guest_ev[v] : -1;
	}
	dev->guest_connected = true;
	dev->peer_id = peer_id;
	log_info("guest connected (peer %u)", peer_id);
	/* The guest may already be running (we are a restarted worker). */
	device_notify(dev, PVA_CONFIG_VECTOR);
	check_guest(dev);
	device_flush(dev);
}

void device_guest_down(struct device *dev)
{
	for (unsigned int v = 0; v < PVA_MAX_VECTORS; v++) {
		if (dev->guest_ev[v] >= 0)
			close(dev->guest_ev[v]);
		dev->guest_ev[v] = -1;
	}
	dev->guest_connected = false;
	reset_services(dev);
	dev->guest_status = PVA_GUEST_RESET;
	/* The next QEMU run starts from a clean header. */
	memset(&dev->hdr->guest, 0, sizeof(dev->hdr->guest));
	device_rebuild(dev, CORRUPT_NONE);
	dev->pending_notify = 0;
	log_info("guest disconnected");
}

void device_set_protocol(struct device *dev, unsigned int major_min,
			 unsigned int major_max, unsigned int minor,
			 uint64_t features)
{
	dev->major_min = major_min;
	dev->major_max = major_max;
	dev->host_minor = minor;
	dev->host_features = features;
	log_warn("test switch: now offering protocol %u-%u.%u, features 0x%" PRIx64,
		 major_min, major_max, minor, features);
	device_reset(dev, "protocol offer changed");
}

int device_corrupt(struct device *dev, enum device_corruption what)
{
	struct service *ctl = dev->svcs[0];
	struct pva_ring *r = &ctl->tx;

	switch (what) {
	case CORRUPT_MAGIC:
	case CORRUPT_MAJOR:
	case CORRUPT_TABLE:
		device_rebuild(dev, what);
		break;
	case CORRUPT_RING_INDEX:
		if (!dev->negotiated)
			return -ENOTCONN;
		pva_store_release(&r->ctrl->prod,
				  pva_cpu32(r->local + r->size + 64));
		device_notify(dev, ctl->vector);
		break;
	case CORRUPT_MSG_LEN: {
		struct pva_msg_hdr hdr = {
			.len = pva_cpu32(0x7fffff00),
			.type = pva_cpu16(PVA_CTRL_PING),
			.service = pva_cpu16(ctl->id),
		};

		if (!dev->negotiated)
			return -ENOTCONN;
		if (pva_ring_prod_space(r, 64) != PVA_RING_OK)
			return -EAGAIN;
		pva_ring_copy_in(r, r->local, &hdr, sizeof(hdr));
		pva_ring_prod_commit(r, 64);
		device_notify(dev, ctl->vector);
		break;
	}
	default:
		device_reset(dev, "restore requested");
		return 0;
	}
	log_warn("test switch: wrote malformed shared memory (%d)", what);
	device_flush(dev);
	return 0;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Write up to 16 random bytes somewhere in [base, base + len). */
static void scribble(uint8_t *base, uint32_t len, uint32_t *s)
{
	uint32_t off = xorshift(s) % len, n = 1 + xorshift(s) % 16;

	for (uint32_t i = 0; i < n && off + i < len; i++)
		base[off + i] = (uint8_t)xorshift(s);
}

void device_corrupt_random(struct device *dev, uint32_t seed)
{
	uint32_t s = seed ? seed : 0x9e3779b9u;
	struct service *svc = dev->svcs[xorshift(&s) % dev->nr_svcs];
	struct pva_host_area *h = &dev->hdr->host;
	struct pva_ring *r = &svc->tx;
	unsigned int what = xorshift(&s) % 7;

	switch (what) {
	case 0:		/* the host area, then a new generation */
		scribble((uint8_t *)h, sizeof(*h), &s);
		h->generation = pva_cpu32(++dev->generation);
		break;
	case 1:		/* the service table, then a new generation */
		scribble(dev->shm + dev->table_off,
			 dev->nr_svcs * sizeof(struct pva_service_desc), &s);
		h->generation = pva_cpu32(++dev->generation);
		break;
	case 2:		/* a host->guest producer index */
		pva_store_release(&r->ctrl->prod, pva_cpu32(xorshift(&s)));
		break;
	case 3:		/* garbage published as messages */
		scribble(r->data, r->size, &s);
		scribble(r->data, r->size, &s);
		pva_store_release(&r->ctrl->prod, pva_cpu32(r->local +
				  8 * (xorshift(&s) % (r->size / 8 + 2))));
		break;
	case 4: {	/* a record with random header fields */
		struct pva_msg_hdr hdr;
		uint32_t len = xorshift(&s) % 256;

		for (size_t i = 0; i < sizeof(hdr); i += 4) {
			uint32_t v = xorshift(&s);

			memcpy((uint8_t *)&hdr + i, &v, 4);
		}
		hdr.len = pva_cpu32(len);
		if (xorshift(&s) & 1)
			hdr.service = pva_cpu16(svc->id);
		if (pva_ring_prod_space(r, pva_msg_record_size(len)) != PVA_RING_OK)
			break;
		pva_ring_copy_in(r, r->local, &hdr, sizeof(hdr));
		pva_ring_prod_commit(r, pva_msg_record_size(len));
		break;
	}
	case 5:		/* a negotiation answer nobody asked for */
		scribble((uint8_t *)&h->ack_seq, 24, &s);
		break;
	default:	/* the host's consumer index of a guest->host ring */
		pva_store_release(&svc->rx.ctrl->cons, pva_cpu32(xorshift(&s)));
		break;
	}
	device_notify(dev, (uint16_t)(xorshift(&s) % dev->nvec));
	device_flush(dev);
}

/* ---- sending ---- */

int service_send(struct service *svc, uint16_t type, uint16_t flags,
		 uint32_t req_id, uint32_t status, const void *payload,
		 uint32_t len)
{
	struct device *dev = svc->dev;
	struct pva_msg_hdr hdr = {
		.len = pva_cpu32(len), .type = pva_cpu16(type),
		.flags = pva_cpu16(flags), .service = pva_cpu16(svc->id),
		.req_id = pva_cpu32(req_id), .status = pva_cpu32(status),
	};
	uint32_t rec = pva_msg_record_size(len);
	int ret;

	if (!device_negotiated(dev))
		return -ENOTCONN;
	if (len > svc->tx.max_payload)
		return -EMSGSIZE;
	ret = pva_ring_prod_space(&svc->tx, rec);
	if (ret == PVA_RING_AGAIN) {
		svc->stats.tx_full++;
		ret = pva_ring_prod_arm(&svc->tx, rec);
		if (ret == PVA_RING_AGAIN)
			return -EAGAIN;
	}
	if (ret == PVA_RING_CORRUPT) {
		device_protocol_error(dev, svc, "corrupt host->guest ring (cons %u, prod %u)",
				      pva_le32(svc->tx.ctrl->cons),
				      svc->tx.local);
		return -EPROTO;
	}
	pva_ring_copy_in(&svc->tx, svc->tx.local, &hdr, sizeof(hdr));
	if (len)
		pva_ring_copy_in(&svc->tx, svc->tx.local + sizeof(hdr),
				 payload, len);
	if (pva_ring_prod_commit(&svc->tx, rec))
		device_notify(dev, svc->vector);
	svc->stats.tx_msgs++;
	svc->stats.tx_bytes += len;
	return 0;
}

int service_reply(struct service *svc, const struct pva_msg_hdr *req,
		  uint32_t status, const void *payload, uint32_t len)
{
	return service_send(svc, pva_le16(req->type), PVA_MSG_F_RESPONSE,
			    pva_le32(req->req_id), status, payload, len);
}

bool service_can_send(struct service *svc, uint32_t len)
{
	uint32_t rec = pva_msg_record_size(len);
	int ret;

	if (!device_negotiated(svc->dev))
		return false;
	ret = pva_ring_prod_space(&svc->tx, rec);
	if (ret == PVA_RING_AGAIN) {
		svc->stats.tx_full++;
		ret = pva_ring_prod_arm(&svc->tx, rec);
	}
	/* corruption is found and handled by the next service_send() */
	return ret != PVA_RING_AGAIN;
}

/* ---- lookup and status ---- */

struct loop *device_loop(struct device *dev)
{
	return dev->loop;
}

struct service *device_find_service(struct device *dev, const char *name)
{
	for (unsigned int i = 0; i < dev->nr_svcs; i++)
		if (!strcmp(dev->svcs[i]->ops->name, name))
			return dev->svcs[i];
	return NULL;
}

struct service *device_service(struct device *dev, unsigned int i)
{
	return i < dev->nr_svcs ? dev->svcs[i] : NULL;
}

unsigned int device_nr_services(const struct device *dev)
{
	return dev->nr_svcs;
}

void device_set_worker_info(struct device *dev, unsigned int restarts)
{
	dev->worker_restarts = restarts;
}

static const char *svc_type_name(uint16_t type)
{
	switch (type) {
	case PVA_SVC_CONTROL: return "control";
	case PVA_SVC_BALLOON: return "balloon";
	case PVA_SVC_SF: return "shared-folders";
	case PVA_SVC_DISPLAY: return "display";
	case PVA_SVC_CHANNEL: return "channel";
	case PVA_SVC_SELFTEST: return "selftest";
	}
	return "unknown";
}

static struct json_object *ring_json(const struct pva_ring *r, bool we_produce)
{
	struct json_object *o = json_object_new_object();
	uint32_t peer = pva_le32(we_produce ? r->ctrl->cons : r->ctrl->prod);

	json_object_object_add(o, "size", json_object_new_int64(r->size));
	json_object_object_add(o, "prod", json_object_new_int64(
		we_produce ? r->local : peer));
	json_object_object_add(o, "cons", json_object_new_int64(
		we_produce ? peer : r->local));
	return o;
}

static void add_hex(struct json_object *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	json_object_object_add(o, key, json_object_new_string(buf));
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

void device_status(struct device *dev, struct json_object *obj)
{
	struct json_object *host = json_object_new_object();
	struct json_object *guest = json_object_new_object();
	struct json_object *svcs = json_object_new_array();
	char ver[16];
	uint64_t db = 0, irq = 0;

	snprintf(ver, sizeof(ver), "%u-%u.%u", dev->major_min,
		 dev->major_max, dev->host_minor);
	json_object_object_add(host, "version",
			       json_object_new_string(PVA_HOST_VERSION));
	json_object_object_add(host, "protocol", json_object_new_string(ver));
	add_hex(host, "features", dev->host_features);
	add_u64(host, "generation", dev->generation);
	add_u64(host, "shm_size", dev->shm_size);
	add_u64(host, "vectors", dev->nvec);
	add_u64(host, "worker_pid", (uint64_t)getpid());
	add_u64(host, "worker_restarts", dev->worker_restarts);
	add_u64(host, "worker_uptime_s", (uint64_t)(time(NULL) - dev->started));
	add_u64(host, "resets", dev->resets);
	add_u64(host, "protocol_errors", dev->protocol_errors);
	add_u64(host, "guest_ring_failures", dev->ring_failures);
	add_u64(host, "tick_rescues", dev->tick_rescues);
	json_object_object_add(obj, "host", host);

	json_object_object_add(guest, "connected",
			       json_object_new_boolean(dev->guest_connected));
	json_object_object_add(guest, "status", json_object_new_string(
		dev->guest_connected ? guest_status_name(dev->guest_status) :
		"absent"));
	if (dev->guest_status == PVA_GUEST_FAILED)
		json_object_object_add(guest, "error", json_object_new_string(
			guest_error_name(dev->guest_error)));
	json_object_object_add(guest, "negotiated",
			       json_object_new_boolean(device_negotiated(dev)));
	if (device_negotiated(dev)) {
		snprintf(ver, sizeof(ver), "%u.%u", dev->major, dev->minor);
		json_object_object_add(guest, "protocol",
				       json_object_new_string(ver));
		add_hex(guest, "features", dev->features);
		add_u64(guest, "vectors", dev->active_nvec);
	}
	json_object_object_add(obj, "guest", guest);

	for (unsigned int i = 0; i < dev->nr_svcs; i++) {
		struct service *svc = dev->svcs[i];
		struct json_object *s = json_object_new_object();

		json_object_object_add(s, "name",
				       json_object_new_string(svc->ops->name));
		json_object_object_add(s, "type", json_object_new_string(
			svc_type_name(svc->ops->type)));
		add_u64(s, "id", svc->id);
		add_u64(s, "vector", svc->vector);
		json_object_object_add(s, "g2h", ring_json(&svc->rx, false));
		json_object_object_add(s, "h2g", ring_json(&svc->tx, true));
		add_u64(s, "rx_msgs", svc->stats.rx_msgs);
		add_u64(s, "rx_bytes", svc->stats.rx_bytes);
		add_u64(s, "tx_msgs", svc->stats.tx_msgs);
		add_u64(s, "tx_bytes", svc->stats.tx_bytes);
		add_u64(s, "tx_full", svc->stats.tx_full);
		add_u64(s, "bad_msgs", svc->stats.bad_msgs);
		if (svc->ops->status)
			svc->ops->status(svc, s);
		json_object_array_add(svcs, s);
	}
	json_object_object_add(obj, "services", svcs);
	for (unsigned int v = 0; v < dev->nvec; v++) {
		db += dev->doorbells[v];
		irq += dev->interrupts[v];
	}
	add_u64(obj, "doorbells", db);
	add_u64(obj, "interrupts", irq);
}
