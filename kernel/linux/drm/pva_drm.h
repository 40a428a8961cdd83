/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pva_drm: the KMS driver of pva's display service (protocol/PROTOCOL.md
 * 6.7). drv.c talks to the host (layout, reconnects, hotplug); kms.c is the
 * atomic KMS side (heads, modes, scanout copies and damage).
 */
#ifndef PVA_DRM_H
#define PVA_DRM_H

#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_device.h>
#include <drm/drm_encoder.h>
#include <drm/drm_plane.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "pva.h"

#define PVA_DRM_HEADS	PVA_DISPLAY_MAX_HEADS
#define PVA_DRM_TIMEOUT	(2 * HZ)	/* for the host's answers */

/* One head: a primary plane, a CRTC, a virtual encoder and a connector. */
struct pva_drm_head {
	unsigned int index;
	struct drm_plane plane;
	struct drm_crtc crtc;
	struct drm_encoder encoder;
	struct drm_connector connector;

	/* what the host wants, under pva_drm.cfg_lock */
	bool host_on;
	u32 host_width, host_height, host_x, host_y;

	/* what the host was told we scan out, under pva_drm.io_lock */
	bool scanout_sent;
	u32 width, height;
};

struct pva_drm {
	struct drm_device drm;
	struct pva_client *client;
	struct pva_drm_head heads[PVA_DRM_HEADS];

	spinlock_t cfg_lock;		/* the host's layout (rx path) */
	u32 config_gen;

	/* Scanout memory and messages to the host. */
	struct mutex io_lock;
	void *data;			/* the service's data region */
	u64 head_bytes;			/* each head's share of it */
	bool up;			/* rings usable (READ_ONCE outside) */

	bool registered;		/* hotplug events may go out */
	struct workqueue_struct *wq;	/* up_work and hotplug_work */
	struct work_struct up_work;	/* HELLO and resend, after up() */
	struct work_struct hotplug_work;
};

static inline struct pva_drm *to_pva_drm(struct drm_device *drm)
{
	return container_of(drm, struct pva_drm, drm);
}

/* kms.c */
int pva_drm_kms_init(struct pva_drm *pdrm);
void pva_drm_update_connectors(struct pva_drm *pdrm);
void pva_drm_resend(struct pva_drm *pdrm);
void pva_drm_heads_off(struct pva_drm *pdrm);

#endif /* PVA_DRM_H */
