// SPDX-License-Identifier: GPL-2.0
/*
 * pva_drm's KMS side: four heads, each a primary plane, a CRTC, a virtual
 * encoder and a connector. Framebuffers are GEM shmem objects in guest
 * memory; on every plane update the damaged rectangles are copied into the
 * head's part of the service's data region, and the host is told which
 * ones changed. The host answers once it has taken them, so a page flip
 * completes only when the host has the frame.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <drm/drm_atomic.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_damage_helper.h>
#include <drm/drm_drv.h>
#include <drm/drm_edid.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_framebuffer.h>
#include <drm/drm_gem_atomic_helper.h>
#include <drm/drm_gem_framebuffer_helper.h>
#include <drm/drm_modes.h>
#include <drm/drm_print.h>
#include <drm/drm_probe_helper.h>
#include <drm/drm_simple_kms_helper.h>
#include <linux/iosys-map.h>

#include "pva_drm.h"
#define PVA_DRM_COMPAT
#include "pva_compat.h"

static const u32 pva_drm_formats[] = { DRM_FORMAT_XRGB8888 };

static struct pva_drm_head *plane_head(struct drm_plane *plane)
{
	return container_of(plane, struct pva_drm_head, plane);
}

static struct pva_drm_head *crtc_head(struct drm_crtc *crtc)
{
	return container_of(crtc, struct pva_drm_head, crtc);
}

static struct pva_drm_head *connector_head(struct drm_connector *connector)
{
	return container_of(connector, struct pva_drm_head, connector);
}

/* Does a @w x @h mode fit the head's part of the data region? */
static enum drm_mode_status pva_drm_mode_fits(struct pva_drm *pdrm,
					      const struct drm_display_mode *m)
{
	u64 bytes = (u64)m->hdisplay * 4 * m->vdisplay;

	if (m->hdisplay < PVA_DISPLAY_MIN_DIM ||
	    m->vdisplay < PVA_DISPLAY_MIN_DIM)
		return MODE_BAD;
	if (m->hdisplay > PVA_DISPLAY_MAX_DIM ||
	    m->vdisplay > PVA_DISPLAY_MAX_DIM)
		return MODE_BAD;
	return bytes <= READ_ONCE(pdrm->head_bytes) ? MODE_OK : MODE_MEM;
}

/* ---- messages to the host (io_lock held) ---- */

static int pva_drm_send_scanout(struct pva_drm *pdrm,
				struct pva_drm_head *head, u32 w, u32 h)
{
	struct pva_display_scanout so = {
		.head = cpu_to_le32(head->index),
	};
	struct kvec iov = { .iov_base = &so, .iov_len = sizeof(so) };
	int ret;

	head->scanout_sent = false;
	head->width = w;
	head->height = h;
	if (!READ_ONCE(pdrm->up))
		return -ENOTCONN;
	if (w) {
		so.flags = cpu_to_le32(PVA_DISPLAY_HEAD_ENABLED);
		so.width = cpu_to_le32(w);
		so.height = cpu_to_le32(h);
		so.stride = cpu_to_le32(w * 4);
		so.format = cpu_to_le32(PVA_DISPLAY_FMT_XRGB8888);
		so.offset = cpu_to_le64(head->index * pdrm->head_bytes);
	}
	/* uninterruptible: the commit of a dying process must get through */
	ret = pva_callv_uninterruptible(pdrm->client, PVA_DISPLAY_SCANOUT,
					&iov, 1, NULL, 0, NULL,
					PVA_DRM_TIMEOUT);
	if (ret)
		drm_warn_once(&pdrm->drm, "head %u: the host refused the scanout: %d\n",
			      head->index, ret);
	else
		head->scanout_sent = true;
	return ret;
}

struct pva_drm_damage {
	struct pva_display_damage hdr;
	struct pva_display_rect rects[PVA_DISPLAY_MAX_RECTS];
	unsigned int nr;
	struct drm_rect all;		/* bounding box, for overflow */
};

static void pva_drm_damage_add(struct pva_drm_damage *d,
			       const struct drm_rect *r)
{
	struct pva_display_rect *out;

	if (!d->nr) {
		d->all = *r;
	} else {
		d->all.x1 = min(d->all.x1, r->x1);
		d->all.y1 = min(d->all.y1, r->y1);
		d->all.x2 = max(d->all.x2, r->x2);
		d->all.y2 = max(d->all.y2, r->y2);
	}
	if (d->nr == PVA_DISPLAY_MAX_RECTS) {
		/* too many: send the bounding box instead */
		r = &d->all;
		d->nr = 0;
	}
	out = &d->rects[d->nr++];
	out->x = cpu_to_le32(r->x1);
	out->y = cpu_to_le32(r->y1);
	out->width = cpu_to_le32(drm_rect_width(r));
	out->height = cpu_to_le32(drm_rect_height(r));
}

static int pva_drm_send_damage(struct pva_drm *pdrm, struct pva_drm_head *head,
			       struct pva_drm_damage *d)
{
	struct kvec iov[2];

	if (!READ_ONCE(pdrm->up) || !head->scanout_sent || !d->nr)
		return 0;
	d->hdr.head = cpu_to_le32(head->index);
	d->hdr.nr_rects = cpu_to_le32(d->nr);
	iov[0].iov_base = &d->hdr;
	iov[0].iov_len = sizeof(d->hdr);
	iov[1].iov_base = d->rects;
	iov[1].iov_len = d->nr * sizeof(d->rects[0]);
	return pva_callv_uninterruptible(pdrm->client, PVA_DISPLAY_DAMAGE, iov,
					 2, NULL, 0, NULL, PVA_DRM_TIMEOUT);
}

/* ---- plane ---- */

static int pva_drm_plane_atomic_check(struct drm_plane *plane,
				      struct pva_drm_atomic_state *state)
{
	struct drm_plane_state *new = drm_atomic_get_new_plane_state(state,
								      plane);
	struct drm_crtc_state *crtc_state = NULL;

	if (new->crtc)
		crtc_state = drm_atomic_get_new_crtc_state(state, new->crtc);
	/* the plane covers the whole CRTC, unscaled */
	return drm_atomic_helper_check_plane_state(new, crtc_state,
						   DRM_PLANE_NO_SCALING,
						   DRM_PLANE_NO_SCALING,
						   false, false);
}

/* Copy @clip (framebuffer coordinates) to the scanout at @dst_x, @dst_y. */
static void pva_drm_copy(u8 *dst, u32 dst_pitch, const struct iosys_map *src,
			 const struct drm_framebuffer *fb,
			 const struct drm_rect *clip, int dst_x, int dst_y)
{
	size_t len = drm_rect_width(clip) * 4;
	size_t off = clip->y1 * fb->pitches[0] + clip->x1 * 4;
	int y;

	dst += dst_y * dst_pitch + dst_x * 4;
	for (y = clip->y1; y < clip->y2; y++) {
		if (src->is_iomem)
			memcpy_fromio(dst, src->vaddr_iomem + off, len);
		else
			memcpy(dst, src->vaddr + off, len);
		off += fb->pitches[0];
		dst += dst_pitch;
	}
}

static void pva_drm_plane_atomic_update(struct drm_plane *plane,
					struct pva_drm_atomic_state *state)
{
	struct pva_drm *pdrm = to_pva_drm(plane->dev);
	struct pva_drm_head *head = plane_head(plane);
	struct drm_plane_state *old = drm_atomic_get_old_plane_state(state,
								      plane);
	struct drm_plane_state *new = drm_atomic_get_new_plane_state(state,
								      plane);
	struct drm_shadow_plane_state *shadow = to_drm_shadow_plane_state(new);
	struct drm_framebuffer *fb = new->fb;
	struct drm_crtc_state *crtc_state = NULL;
	struct drm_atomic_helper_damage_iter iter;
	struct pva_drm_damage *damage;
	struct drm_rect clip;
	int sx, sy, idx, ret;
	u32 w, h;
	u8 *dst;

	if (new->crtc)
		crtc_state = drm_atomic_get_new_crtc_state(state, new->crtc);
	/* an inactive CRTC (DPMS off) shows nothing: atomic_disable said so */
	if (!fb || !new->visible || !crtc_state || !crtc_state->active ||
	    !drm_dev_enter(plane->dev, &idx))
		return;
	damage = kzalloc(sizeof(*damage), GFP_KERNEL);
	if (!damage)
		goto exit;
	if (drm_gem_fb_begin_cpu_access(fb, DMA_FROM_DEVICE))
		goto free;
	w = drm_rect_width(&new->dst);
	h = drm_rect_height(&new->dst);
	sx = new->src.x1 >> 16;
	sy = new->src.y1 >> 16;

	mutex_lock(&pdrm->io_lock);
	if ((u64)w * 4 * h > pdrm->head_bytes || !pdrm->data)
		goto unlock;	/* the region shrank under us: wait for a modeset */
	dst = (u8 *)pdrm->data + head->index * pdrm->head_bytes;
	if (!head->scanout_sent || head->width != w || head->height != h) {
		/* a new mode: the whole picture */
		pva_drm_send_scanout(pdrm, head, w, h);
		clip = new->src;
		drm_rect_fp_to_int(&clip, &clip);
		pva_drm_copy(dst, w * 4, &shadow->data[0], fb, &clip, 0, 0);
		clip = DRM_RECT_INIT(0, 0, w, h);
		pva_drm_damage_add(damage, &clip);
	} else {
		drm_atomic_helper_damage_iter_init(&iter, old, new);
		drm_atomic_for_each_plane_damage(&iter, &clip) {
			pva_drm_copy(dst, w * 4, &shadow->data[0], fb, &clip,
				     clip.x1 - sx, clip.y1 - sy);
			drm_rect_translate(&clip, -sx, -sy);
			pva_drm_damage_add(damage, &clip);
		}
	}
	ret = pva_drm_send_damage(pdrm, head, damage);
	if (ret && ret != -ENOTCONN && ret != -ECONNRESET)
		dev_warn_ratelimited(pdrm->drm.dev, "head %u: damage not sent: %d\n",
				     head->index, ret);
unlock:
	mutex_unlock(&pdrm->io_lock);
	drm_gem_fb_end_cpu_access(fb, DMA_FROM_DEVICE);
free:
	kfree(damage);
exit:
	drm_dev_exit(idx);
}

static void pva_drm_head_off(struct pva_drm *pdrm, struct pva_drm_head *head)
{
	mutex_lock(&pdrm->io_lock);
	if (head->width)
		pva_drm_send_scanout(pdrm, head, 0, 0);
	mutex_unlock(&pdrm->io_lock);
}

static void pva_drm_plane_atomic_disable(struct drm_plane *plane,
					 struct pva_drm_atomic_state *state)
{
	int idx;

	if (!drm_dev_enter(plane->dev, &idx))
		return;
	pva_drm_head_off(to_pva_drm(plane->dev), plane_head(plane));
	drm_dev_exit(idx);
}

static const struct drm_plane_helper_funcs pva_drm_plane_helper_funcs = {
	DRM_GEM_SHADOW_PLANE_HELPER_FUNCS,
	.atomic_check = pva_drm_plane_atomic_check,
	.atomic_update = pva_drm_plane_atomic_update,
	.atomic_disable = pva_drm_plane_atomic_disable,
};

static const struct drm_plane_funcs pva_drm_plane_funcs = {
	.update_plane = drm_atomic_helper_update_plane,
	.disable_plane = drm_atomic_helper_disable_plane,
	.destroy = drm_plane_cleanup,
	DRM_GEM_SHADOW_PLANE_FUNCS,
};

/* ---- CRTC ---- */

static enum drm_mode_status
pva_drm_crtc_mode_valid(struct drm_crtc *crtc,
			const struct drm_display_mode *mode)
{
	return pva_drm_mode_fits(to_pva_drm(crtc->dev), mode);
}

static int pva_drm_crtc_atomic_check(struct drm_crtc *crtc,
				     struct pva_drm_atomic_state *state)
{
	struct drm_crtc_state *cs = drm_atomic_get_new_crtc_state(state, crtc);

	/* an enabled head needs its primary plane */
	if (cs->enable && !(cs->plane_mask & drm_plane_mask(crtc->primary)))
		return -EINVAL;
	return 0;
}

static void pva_drm_crtc_atomic_disable(struct drm_crtc *crtc,
					struct pva_drm_atomic_state *state)
{
	int idx;

	/* off or blanked (DPMS): the host shows nothing on this head */
	if (!drm_dev_enter(crtc->dev, &idx))
		return;
	pva_drm_head_off(to_pva_drm(crtc->dev), crtc_head(crtc));
	drm_dev_exit(idx);
}

static const struct drm_crtc_helper_funcs pva_drm_crtc_helper_funcs = {
	.mode_valid = pva_drm_crtc_mode_valid,
	.atomic_check = pva_drm_crtc_atomic_check,
	.atomic_disable = pva_drm_crtc_atomic_disable,
};

static const struct drm_crtc_funcs pva_drm_crtc_funcs = {
	.reset = drm_atomic_helper_crtc_reset,
	.destroy = drm_crtc_cleanup,
	.set_config = drm_atomic_helper_set_config,
	.page_flip = drm_atomic_helper_page_flip,
	.atomic_duplicate_state = drm_atomic_helper_crtc_duplicate_state,
	.atomic_destroy_state = drm_atomic_helper_crtc_destroy_state,
};

/* ---- connector ---- */

/* A CVT mode of exactly @w x @h (CVT rounds the width to 8 pixels). */
static struct drm_display_mode *pva_drm_exact_mode(struct drm_device *drm,
						   u32 w, u32 h)
{
	struct drm_display_mode *m = drm_cvt_mode(drm, w, h, 60, false, false,
						  false);
	int dx;

	if (!m)
		return NULL;
	dx = w - m->hdisplay;
	m->hdisplay = w;
	m->hsync_start += dx;
	m->hsync_end += dx;
	m->htotal += dx;
	m->vdisplay = h;
	m->vsync_start = max_t(int, m->vsync_start, h);
	m->vsync_end = max_t(int, m->vsync_end, m->vsync_start + 1);
	m->vtotal = max_t(int, m->vtotal, m->vsync_end);
	drm_mode_set_name(m);
	return m;
}

static int pva_drm_get_modes(struct drm_connector *connector)
{
	struct pva_drm *pdrm = to_pva_drm(connector->dev);
	struct pva_drm_head *head = connector_head(connector);
	struct drm_display_mode *mode;
	u32 w, h;
	int count;

	spin_lock(&pdrm->cfg_lock);
	w = head->host_width;
	h = head->host_height;
	spin_unlock(&pdrm->cfg_lock);
	/* the usual sizes, so a user can pick another one */
	count = drm_add_modes_noedid(connector, PVA_DISPLAY_MAX_DIM,
				     PVA_DISPLAY_MAX_DIM);
	if (!w)
		return count;
	mode = pva_drm_exact_mode(connector->dev, w, h);
	if (!mode)
		return count;
	mode->type |= DRM_MODE_TYPE_PREFERRED;
	drm_mode_probed_add(connector, mode);
	return count + 1;
}

static enum drm_mode_status
pva_drm_connector_mode_valid(struct drm_connector *connector,
			     PVA_DRM_MODE_CONST struct drm_display_mode *mode)
{
	return pva_drm_mode_fits(to_pva_drm(connector->dev), mode);
}

static enum drm_connector_status
pva_drm_detect(struct drm_connector *connector, bool force)
{
	struct pva_drm *pdrm = to_pva_drm(connector->dev);
	bool on;

	spin_lock(&pdrm->cfg_lock);
	on = connector_head(connector)->host_on;
	spin_unlock(&pdrm->cfg_lock);
	return on ? connector_status_connected : connector_status_disconnected;
}

static const struct drm_connector_helper_funcs pva_drm_connector_helper_funcs = {
	.get_modes = pva_drm_get_modes,
	.mode_valid = pva_drm_connector_mode_valid,
};

static const struct drm_connector_funcs pva_drm_connector_funcs = {
	.detect = pva_drm_detect,
	.fill_modes = drm_helper_probe_single_connector_modes,
	.destroy = drm_connector_cleanup,
	.reset = drm_atomic_helper_connector_reset,
	.atomic_duplicate_state = drm_atomic_helper_connector_duplicate_state,
	.atomic_destroy_state = drm_atomic_helper_connector_destroy_state,
};

/* The host's layout changed: positions for compositors that use them. */
void pva_drm_update_connectors(struct pva_drm *pdrm)
{
	struct drm_mode_config *mc = &pdrm->drm.mode_config;
	unsigned int i;

	for (i = 0; i < PVA_DRM_HEADS; i++) {
		struct pva_drm_head *head = &pdrm->heads[i];
		u32 x, y;

		spin_lock(&pdrm->cfg_lock);
		x = head->host_x;
		y = head->host_y;
		spin_unlock(&pdrm->cfg_lock);
		drm_object_property_set_value(&head->connector.base,
					      mc->suggested_x_property, x);
		drm_object_property_set_value(&head->connector.base,
					      mc->suggested_y_property, y);
	}
}

/*
 * After a reconnect the host knows no scanout: tell it again. The pixels
 * are still in the region (it outlives a pva-host worker restart); the
 * next update refreshes them anyway.
 */
void pva_drm_resend(struct pva_drm *pdrm)
{
	struct pva_drm_damage *damage;
	unsigned int i;

	damage = kzalloc(sizeof(*damage), GFP_KERNEL);
	if (!damage)
		return;
	mutex_lock(&pdrm->io_lock);
	for (i = 0; i < PVA_DRM_HEADS; i++) {
		struct pva_drm_head *head = &pdrm->heads[i];
		struct drm_rect all;

		if (!head->width || (u64)head->width * 4 * head->height >
		    pdrm->head_bytes)
			continue;
		if (pva_drm_send_scanout(pdrm, head, head->width, head->height))
			continue;
		all = DRM_RECT_INIT(0, 0, head->width, head->height);
		damage->nr = 0;
		pva_drm_damage_add(damage, &all);
		pva_drm_send_damage(pdrm, head, damage);
	}
	mutex_unlock(&pdrm->io_lock);
	kfree(damage);
}

/* Unbinding: the host shows nothing of ours any more. */
void pva_drm_heads_off(struct pva_drm *pdrm)
{
	unsigned int i;

	for (i = 0; i < PVA_DRM_HEADS; i++)
		pva_drm_head_off(pdrm, &pdrm->heads[i]);
}

/* ---- set-up ---- */

static const struct drm_mode_config_funcs pva_drm_mode_config_funcs = {
	.fb_create = drm_gem_fb_create_with_dirty,
	.atomic_check = drm_atomic_helper_check,
	.atomic_commit = drm_atomic_helper_commit,
};

static int pva_drm_head_init(struct pva_drm *pdrm, struct pva_drm_head *head,
			     struct drm_property *hotplug_mode_update)
{
	struct drm_device *drm = &pdrm->drm;
	struct drm_connector *connector = &head->connector;
	int ret;

	ret = drm_universal_plane_init(drm, &head->plane, BIT(head->index),
				       &pva_drm_plane_funcs, pva_drm_formats,
				       ARRAY_SIZE(pva_drm_formats), NULL,
				       DRM_PLANE_TYPE_PRIMARY, NULL);
	if (ret)
		return ret;
	drm_plane_helper_add(&head->plane, &pva_drm_plane_helper_funcs);
	drm_plane_enable_fb_damage_clips(&head->plane);

	ret = drm_crtc_init_with_planes(drm, &head->crtc, &head->plane, NULL,
					&pva_drm_crtc_funcs, NULL);
	if (ret)
		return ret;
	drm_crtc_helper_add(&head->crtc, &pva_drm_crtc_helper_funcs);

	ret = drm_simple_encoder_init(drm, &head->encoder,
				      DRM_MODE_ENCODER_VIRTUAL);
	if (ret)
		return ret;
	head->encoder.possible_crtcs = drm_crtc_mask(&head->crtc);

	ret = drm_connector_init(drm, connector, &pva_drm_connector_funcs,
				 DRM_MODE_CONNECTOR_VIRTUAL);
	if (ret)
		return ret;
	drm_connector_helper_add(connector, &pva_drm_connector_helper_funcs);
	/* the host tells us about changes: no polling */
	connector->polled = DRM_CONNECTOR_POLL_HPD;
	ret = drm_connector_attach_encoder(connector, &head->encoder);
	if (ret)
		return ret;
	/* what compositors look for on VM displays (qxl, virtio-gpu) */
	drm_object_attach_property(&connector->base, hotplug_mode_update, 1);
	drm_object_attach_property(&connector->base,
				   drm->mode_config.suggested_x_property, 0);
	drm_object_attach_property(&connector->base,
				   drm->mode_config.suggested_y_property, 0);
	return 0;
}

int pva_drm_kms_init(struct pva_drm *pdrm)
{
	struct drm_device *drm = &pdrm->drm;
	struct drm_property *hotplug_mode_update;
	unsigned int i;
	int ret;

	ret = drmm_mode_config_init(drm);
	if (ret)
		return ret;
	drm->mode_config.min_width = PVA_DISPLAY_MIN_DIM;
	drm->mode_config.min_height = PVA_DISPLAY_MIN_DIM;
	drm->mode_config.max_width = PVA_DISPLAY_MAX_DIM;
	drm->mode_config.max_height = PVA_DISPLAY_MAX_DIM;
	drm->mode_config.preferred_depth = 24;
	drm->mode_config.funcs = &pva_drm_mode_config_funcs;

	ret = drm_mode_create_suggested_offset_properties(drm);
	if (ret)
		return ret;
	hotplug_mode_update = drm_property_create_range(drm,
							DRM_MODE_PROP_IMMUTABLE,
							"hotplug_mode_update",
							0, 1);
	if (!hotplug_mode_update)
		return -ENOMEM;
	for (i = 0; i < PVA_DRM_HEADS; i++) {
		pdrm->heads[i].index = i;
		ret = pva_drm_head_init(pdrm, &pdrm->heads[i],
					hotplug_mode_update);
		if (ret)
			return ret;
	}
	drm_mode_config_reset(drm);
	return 0;
}
