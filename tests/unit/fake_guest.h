/* SPDX-License-Identifier: MIT */
/*
 * A fake guest for host tests and fuzzers: a pva-host device (host/device.c)
 * on a private shared memory, driven through the same header fields and
 * rings a real guest driver uses, with no QEMU and no VM.
 */
#ifndef PVA_TEST_FAKE_GUEST_H
#define PVA_TEST_FAKE_GUEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "device.h"
#include "loop.h"
#include "pva_ring.h"

#define FG_NVEC		4
#ifndef FG_SHM_SIZE
#define FG_SHM_SIZE	(4u << 20)	/* a test may define a larger one */
#endif
#define FG_RAM_SIZE	(8u << 20)	/* the guest's "RAM" file */
#define FG_NSVC		3		/* control, echo, balloon */
#define FG_MAX_SVC	4		/* and one more (fg_init_with) */

struct fake_guest {
	struct host_config cfg;
	struct loop *loop;
	struct device *dev;
	uint8_t *shm;
	int shm_fd;
	int host_ev[FG_NVEC];
	int ram_fd;
	/* the guest's ends of service 0 (control), 1 (echo), 2 (balloon),
	 * and 3 if fg_init_with() added one
	 */
	struct pva_ring tx[FG_MAX_SVC], rx[FG_MAX_SVC];
	int nsvc;
	const struct service_ops *extra;	/* service 3, or NULL */
};

static inline struct pva_header *fg_hdr(struct fake_guest *g)
{
	return (struct pva_header *)g->shm;
}

/* A pva-host device with control, echo, balloon and @extra (if not NULL,
 * service 3), and a connected "QEMU".
 */
static inline int fg_init_with(struct fake_guest *g,
			       const struct service_ops *extra)
{
	int guest_ev[FG_NVEC];

	memset(g, 0, sizeof(*g));
	g->cfg.shm_size = FG_SHM_SIZE;
	g->cfg.vectors = FG_NVEC;
	g->cfg.major_min = g->cfg.major_max = PVA_VERSION_MAJOR;
	g->cfg.minor = PVA_VERSION_MINOR;
	g->cfg.features = PVA_F_KNOWN;
	g->cfg.log_level = 0;	/* quiet */
	g->cfg.display_width = 1024;	/* pva-host's defaults */
	g->cfg.display_height = 768;
	g->cfg.clip_max = 1u << 20;	/* the agent service: 1 MiB */
	g->ram_fd = memfd_create("fake-guest-ram", MFD_CLOEXEC);
	if (g->ram_fd < 0 || ftruncate(g->ram_fd, FG_RAM_SIZE) < 0)
		return -1;
	g->cfg.guest_ram = malloc(64);
	if (!g->cfg.guest_ram)
		return -1;
	snprintf(g->cfg.guest_ram, 64, "/proc/self/fd/%d", g->ram_fd);
	g->cfg.ram_layout = "flat";
	g->shm_fd = memfd_create("fake-guest", MFD_CLOEXEC);
	if (g->shm_fd < 0 || ftruncate(g->shm_fd, FG_SHM_SIZE) < 0)
		return -1;
	g->shm = mmap(NULL, FG_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->shm_fd, 0);
	if (g->shm == MAP_FAILED)
		return -1;
	for (int v = 0; v < FG_NVEC; v++) {
		g->host_ev[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		guest_ev[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	g->loop = loop_new();
	g->dev = device_new(&g->cfg, g->loop, g->shm_fd, g->host_ev, FG_NVEC);
	if (!g->dev || device_add_service(g->dev, &control_service_ops) ||
	    device_add_service(g->dev, &echo_service_ops) ||
	    device_add_service(g->dev, &balloon_service_ops) ||
	    (extra && device_add_service(g->dev, extra)) ||
	    device_start(g->dev))
		return -1;
	g->nsvc = extra ? FG_MAX_SVC : FG_NSVC;
	g->extra = extra;
	device_guest_up(g->dev, guest_ev, FG_NVEC, 1);
	return 0;
}

static inline int fg_init(struct fake_guest *g)
{
	return fg_init_with(g, NULL);
}

/* pva-host's worker dies and a new one starts on the same shared memory:
 * the services start afresh, the guest has to negotiate again.
 */
static inline int fg_restart_host(struct fake_guest *g)
{
	int guest_ev[FG_NVEC];

	device_free(g->dev);
	g->dev = device_new(&g->cfg, g->loop, g->shm_fd, g->host_ev, FG_NVEC);
	if (!g->dev || device_add_service(g->dev, &control_service_ops) ||
	    device_add_service(g->dev, &echo_service_ops) ||
	    device_add_service(g->dev, &balloon_service_ops) ||
	    (g->extra && device_add_service(g->dev, g->extra)) ||
	    device_start(g->dev))
		return -1;
	for (int v = 0; v < FG_NVEC; v++)
		guest_ev[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	device_guest_up(g->dev, guest_ev, FG_NVEC, 1);
	return 0;
}

static inline void fg_fini(struct fake_guest *g)
{
	device_free(g->dev);
	loop_free(g->loop);
	for (int v = 0; v < FG_NVEC; v++)
		close(g->host_ev[v]);
	munmap(g->shm, FG_SHM_SIZE);
	close(g->shm_fd);
	close(g->ram_fd);
	free(g->cfg.guest_ram);
}

/* Ask to negotiate as a guest speaking majors 1..@major_max. */
static inline void fg_request(struct fake_guest *g, uint16_t major_min,
			      uint16_t major_max, uint16_t minor,
			      uint64_t features, uint16_t nvec)
{
	struct pva_guest_area *ga = &fg_hdr(g)->guest;

	ga->status = pva_cpu32(PVA_GUEST_NEGOTIATING);
	ga->major_min = pva_cpu16(major_min);
	ga->major_max = pva_cpu16(major_max);
	ga->minor = pva_cpu16(minor);
	ga->nr_vectors = pva_cpu16(nvec);
	ga->features = pva_cpu64(features);
	ga->generation = fg_hdr(g)->host.generation;
	pva_store_release(&ga->req_seq, pva_cpu32(pva_le32(ga->req_seq) + 1));
	device_doorbell(g->dev, PVA_CONFIG_VECTOR);
}

static inline int fg_acked(struct fake_guest *g)
{
	return fg_hdr(g)->host.ack_seq == fg_hdr(g)->guest.req_seq;
}

/* Negotiate like pva_core does, and attach the guest ends of the rings. */
static inline int fg_negotiate(struct fake_guest *g)
{
	const struct pva_service_desc *d;
	int ei;

	fg_request(g, 1, 1, 0, PVA_F_KNOWN, FG_NVEC);
	if (!fg_acked(g) || fg_hdr(g)->host.ack_status != PVA_NEG_OK)
		return -1;
	ei = !!(pva_le64(fg_hdr(g)->host.ack_features) & PVA_F_EVENT_IDX);
	d = (const struct pva_service_desc *)
		(g->shm + pva_le32(fg_hdr(g)->host.svc_table_off));
	for (int i = 0; i < g->nsvc; i++) {
		pva_ring_attach(&g->tx[i], g->shm + pva_le64(d[i].g2h_off),
				pva_le32(d[i].g2h_size), ei);
		pva_ring_attach(&g->rx[i], g->shm + pva_le64(d[i].h2g_off),
				pva_le32(d[i].h2g_size), ei);
	}
	fg_hdr(g)->guest.status = pva_cpu32(PVA_GUEST_RUNNING);
	return 0;
}

/* Produce one message on service @svc's guest->host ring and ring. */
static inline int fg_send(struct fake_guest *g, int svc, uint16_t type,
			  uint16_t flags, uint32_t req_id, const void *payload,
			  uint32_t len)
{
	struct pva_msg_hdr h = {
		.len = pva_cpu32(len), .type = pva_cpu16(type),
		.flags = pva_cpu16(flags), .service = pva_cpu16(svc),
		.req_id = pva_cpu32(req_id),
	};
	struct pva_ring *r = &g->tx[svc];
	uint32_t rec = pva_msg_record_size(len);

	if (pva_ring_prod_space(r, rec) != PVA_RING_OK)
		return -1;
	pva_ring_copy_in(r, r->local, &h, sizeof(h));
	pva_ring_copy_in(r, r->local + sizeof(h), payload, len);
	pva_ring_prod_commit(r, rec);
	device_doorbell(g->dev, pva_service_vector(svc, FG_NVEC));
	return 0;
}

/* Consume one message from service @svc's host->guest ring. */
static inline int fg_recv(struct fake_guest *g, int svc,
			  struct pva_msg_hdr *h, void *payload, uint32_t cap)
{
	struct pva_ring *r = &g->rx[svc];
	uint32_t len;
	int ret = pva_ring_cons_peek(r, h);

	if (ret != PVA_RING_OK)
		return ret == PVA_RING_AGAIN ? -1 : -2;
	len = pva_le32(h->len);
	if (len > cap)
		return -3;
	pva_ring_cons_read(r, 0, payload, len);
	pva_ring_cons_commit(r, pva_msg_record_size(len));
	device_doorbell(g->dev, pva_service_vector(svc, FG_NVEC));
	return (int)len;
}

#endif
