/* SPDX-License-Identifier: MIT */
/*
 * A host service: the host end of one entry of the service table (its two
 * rings and optional data region) plus the code that speaks its protocol.
 * Each service is a `struct service_ops` in its own file; the device owns
 * the rings and calls the ops.
 */
#ifndef PVA_HOST_SERVICE_H
#define PVA_HOST_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "pva_ring.h"

struct device;
struct service;
struct json_object;
struct ctl_client;
struct host_config;

/* ops->data_size: the data region is what the other services leave of
 * the shared memory (at least ops->data_min). One service at most.
 */
#define SERVICE_DATA_REST	UINT64_MAX

/* rx() result: leave the message in the ring and call again later. */
#define SERVICE_RETRY	1

struct ctl_command {
	const char *name;
	/* Reply now or later with ctl_reply*(); return 0, or -1 on error
	 * after replying.
	 */
	int (*handler)(struct service *svc, struct ctl_client *client,
		       struct json_object *req);
};

struct service_ops {
	const char *name;		/* table name, [a-z0-9_-]{1,15} */
	uint16_t type;			/* PVA_SVC_* */
	uint16_t version;
	uint64_t features;
	uint32_t g2h_size, h2g_size;	/* ring data bytes, powers of two */
	uint64_t data_size;		/* data region, 0 for none, or
					 * SERVICE_DATA_REST
					 */
	uint64_t data_min;		/* for SERVICE_DATA_REST */

	int (*init)(struct service *svc);
	void (*destroy)(struct service *svc);
	/* Device reset: forget all per-guest state. */
	void (*reset)(struct service *svc);
	/* One message from the guest; @payload is a private copy. */
	int (*rx)(struct service *svc, const struct pva_msg_hdr *hdr,
		  const uint8_t *payload, uint32_t len);
	/* The host->guest ring may have room again: send what is pending. */
	void (*pump)(struct service *svc);
	/* Every DEVICE_TICK_MS: timeouts. */
	void (*tick)(struct service *svc);
	/* Add service-specific fields to its status object. */
	void (*status)(struct service *svc, struct json_object *obj);
	const struct ctl_command *commands;	/* NULL-terminated */
};

struct service_stats {
	uint64_t rx_msgs, rx_bytes;	/* guest -> host */
	uint64_t tx_msgs, tx_bytes;	/* host -> guest */
	uint64_t tx_full;		/* sends that found the ring full */
	uint64_t bad_msgs;		/* rejected messages */
};

struct service {
	const struct service_ops *ops;
	struct device *dev;
	const struct host_config *cfg;	/* pva-host's settings */
	uint16_t id;
	uint16_t vector;		/* valid while negotiated */
	uint64_t g2h_off, h2g_off, data_off, data_size;
	struct pva_ring rx;		/* guest -> host: we consume */
	struct pva_ring tx;		/* host -> guest: we produce */
	void *data;			/* data region, or NULL */
	struct service_stats stats;
	uint32_t tick_cons;		/* rx.local at the last tick */
	bool rx_blocked;		/* rx waits for room to answer */
	void *priv;
};

/*
 * Send one message to the guest. Returns 0; -EAGAIN when the ring is full
 * (the guest will ring when there is room and ops->pump runs); -ENOTCONN
 * without a negotiated guest; -EMSGSIZE; -EPROTO if the guest corrupted
 * the ring (the device is being reset).
 */
int service_send(struct service *svc, uint16_t type, uint16_t flags,
		 uint32_t req_id, uint32_t status, const void *payload,
		 uint32_t len);
/* Answer request @req. */
int service_reply(struct service *svc, const struct pva_msg_hdr *req,
		  uint32_t status, const void *payload, uint32_t len);
/* Is there room for a @len-byte message now? Arms the space doorbell if not. */
bool service_can_send(struct service *svc, uint32_t len);

/* The services pva-host offers. */
extern const struct service_ops control_service_ops;
extern const struct service_ops echo_service_ops;
extern const struct service_ops balloon_service_ops;
extern const struct service_ops sf_service_ops;
extern const struct service_ops display_service_ops;
extern const struct service_ops agent_service_ops;
/* Test services: "selftest", or placeholders "balloon", "sf", "display". */
const struct service_ops *testsvc_find(const char *type);

#endif
