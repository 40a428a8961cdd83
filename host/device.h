/* SPDX-License-Identifier: MIT */
/*
 * The host side of the pva device: the shared memory header, the service
 * table, negotiation and resets (protocol/PROTOCOL.md sections 2 and 3),
 * doorbells in and interrupts out.
 */
#ifndef PVA_HOST_DEVICE_H
#define PVA_HOST_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "service.h"

#define DEVICE_TICK_MS	100

struct loop;
struct json_object;

enum device_corruption {
	CORRUPT_NONE,
	CORRUPT_MAGIC,		/* bad magic, new generation */
	CORRUPT_MAJOR,		/* only an unknown major version offered */
	CORRUPT_TABLE,		/* a ring outside the shared memory */
	CORRUPT_RING_INDEX,	/* control ring: prod beyond cons + size */
	CORRUPT_MSG_LEN,	/* control ring: message longer than allowed */
};

struct device *device_new(const struct host_config *cfg, struct loop *loop,
			  int shm_fd, const int *host_ev, unsigned int nvec);
void device_free(struct device *dev);
int device_add_service(struct device *dev, const struct service_ops *ops);
/* Lay out the shared memory and open negotiation (new generation). */
int device_start(struct device *dev);

void device_guest_up(struct device *dev, const int *guest_ev,
		     unsigned int nvec, unsigned int peer_id);
void device_guest_down(struct device *dev);

/* Host-initiated reset: new generation, the guest renegotiates. */
void device_reset(struct device *dev, const char *why);
/* The guest broke the protocol: log (rate-limited) and reset. */
void device_protocol_error(struct device *dev, struct service *svc,
			   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Test switch: offer other versions and features (then reset). */
void device_set_protocol(struct device *dev, unsigned int major_min,
			 unsigned int major_max, unsigned int minor,
			 uint64_t features);
/* Test switch: write malformed shared memory. */
int device_corrupt(struct device *dev, enum device_corruption what);
/* Test switch: one random corruption of host-written memory (@seed). */
void device_corrupt_random(struct device *dev, uint32_t seed);

/* The guest rang @vector (called by the event loop; tests call it too). */
void device_doorbell(struct device *dev, unsigned int vector);
/* Periodic work, every DEVICE_TICK_MS. */
void device_tick(struct device *dev);

bool device_negotiated(const struct device *dev);
/* Interrupt the guest on @vector when the current event is done. */
void device_notify(struct device *dev, uint16_t vector);
/* Send the interrupts device_notify() collected. The worker's loop calls
 * it before it waits, so messages that a control command, a timer or the
 * VNC view sent are signalled at once, not at the next doorbell.
 */
void device_flush(struct device *dev);
struct service *device_find_service(struct device *dev, const char *name);
struct loop *device_loop(struct device *dev);
struct service *device_service(struct device *dev, unsigned int i);
unsigned int device_nr_services(const struct device *dev);
void device_status(struct device *dev, struct json_object *obj);
void device_set_worker_info(struct device *dev, unsigned int restarts);

#endif
