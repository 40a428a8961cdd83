/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pva_core's interface for the service drivers (pva_balloon, pva_sf,
 * pva_drm): pva_core creates one auxiliary device per service the host
 * offers ("pva_core.balloon", "pva_core.sf", "pva_core.display"); a driver
 * binds to it, enables it with its callbacks and sends messages.
 *
 * The auxiliary device outlives device resets (host restart, renegotiation):
 * ops->down() says the rings are gone (in-flight calls fail with
 * -ECONNRESET), ops->up() that they are back and the service must
 * resynchronise its state with the host.
 */
#ifndef PVA_H
#define PVA_H

#include <linux/auxiliary_bus.h>
#include <linux/types.h>
#include <linux/uio.h>

#include "pva_protocol.h"

/* The release of pva_core and every feature driver (VERSION) */
#define PVA_DRIVER_VERSION	"0.1.0"

struct pva_client;

struct pva_client_ops {
	/*
	 * An event or request from the host, in process context (a work
	 * item). It must not sleep waiting for ring space: send with
	 * pva_send() (which does not wait) and return -EAGAIN to see the
	 * same message again once the ring has room.
	 */
	int (*rx)(struct pva_client *c, const struct pva_msg_hdr *hdr,
		  const void *payload, u32 len);
	void (*up)(struct pva_client *c);	/* rings usable (again) */
	void (*down)(struct pva_client *c);	/* rings gone */
};

struct pva_service_info {
	u16 type, id, version;
	u64 features;			/* service features the host offers */
	u32 max_payload;
	void *data;			/* data region, or NULL */
	u64 data_size;
	phys_addr_t data_phys;
};

/* The client behind an auxiliary device that pva_core created. */
struct pva_client *pva_client_from_adev(struct auxiliary_device *adev);
void pva_client_enable(struct pva_client *c, const struct pva_client_ops *ops,
		       void *priv);
void pva_client_disable(struct pva_client *c);
void *pva_client_priv(struct pva_client *c);
struct device *pva_client_dev(struct pva_client *c);	/* for dev_* logs */
/* -ENOTCONN while the device is down. */
int pva_client_info(struct pva_client *c, struct pva_service_info *info);

/* Send without waiting: -EAGAIN if the ring is full, -ENOTCONN if down. */
int pva_send(struct pva_client *c, u16 type, u16 flags, u32 req_id,
	     u32 status, const void *payload, u32 len);
int pva_reply(struct pva_client *c, const struct pva_msg_hdr *req,
	      u32 status, const void *payload, u32 len);
/*
 * Send a request and wait for its response, sleeping for ring space if
 * needed. Copies at most @resp_max payload bytes to @resp and their count
 * to @resp_len. Returns 0 or the response's status as -errno, -ETIMEDOUT,
 * -ECONNRESET (device reset meanwhile), -ENOTCONN, -EINTR.
 */
int pva_call(struct pva_client *c, u16 type, const void *req, u32 req_len,
	     void *resp, u32 resp_max, u32 *resp_len, unsigned long timeout);
/* pva_call() with the request gathered from @niov pieces. */
int pva_callv(struct pva_client *c, u16 type, const struct kvec *iov,
	      unsigned int niov, void *resp, u32 resp_max, u32 *resp_len,
	      unsigned long timeout);

/*
 * pva_callv() that signals do not cut short, for paths that must reach
 * the host even in a dying process (a DRM commit when the last file of a
 * killed compositor closes). Waits at most @timeout for the answer and a
 * few seconds for ring space.
 */
int pva_callv_uninterruptible(struct pva_client *c, u16 type,
			      const struct kvec *iov, unsigned int niov,
			      void *resp, u32 resp_max, u32 *resp_len,
			      unsigned long timeout);

/* PVA_S_* to -errno. */
int pva_status_to_errno(u32 status);

#endif /* PVA_H */
