// SPDX-License-Identifier: GPL-2.0
/*
 * pva_drm: KMS display on pva_core's "display" service (protocol/PROTOCOL.md
 * 6.7). This file binds to the auxiliary device, registers the DRM device
 * and talks to the host: the layout it wants (each head's preferred mode,
 * with a hotplug event) and, after every reconnect, HELLO and the scanouts
 * again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <drm/drm_atomic_helper.h>
#include <drm/drm_drv.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_print.h>
#include <drm/drm_probe_helper.h>
#include <linux/auxiliary_bus.h>
#include <linux/module.h>

#include "pva_drm.h"
#define PVA_DRM_COMPAT
#include "pva_compat.h"

/* Take the host's layout; true if anything changed. */
static bool pva_drm_apply_config(struct pva_drm *pdrm,
				 const struct pva_display_config *cfg)
{
	u32 nr = min_t(u32, le32_to_cpu(cfg->nr_heads), PVA_DRM_HEADS);
	bool changed = false;
	unsigned int i;

	spin_lock(&pdrm->cfg_lock);
	pdrm->config_gen = le32_to_cpu(cfg->generation);
	for (i = 0; i < PVA_DRM_HEADS; i++) {
		const struct pva_display_head *h = &cfg->heads[i];
		struct pva_drm_head *head = &pdrm->heads[i];
		u32 w = le32_to_cpu(h->width), ht = le32_to_cpu(h->height);
		bool on = i < nr &&
			  (le32_to_cpu(h->flags) & PVA_DISPLAY_HEAD_ENABLED) &&
			  w >= PVA_DISPLAY_MIN_DIM && w <= PVA_DISPLAY_MAX_DIM &&
			  ht >= PVA_DISPLAY_MIN_DIM && ht <= PVA_DISPLAY_MAX_DIM;

		if (!on)
			w = ht = 0;
		changed |= on != head->host_on || w != head->host_width ||
			   ht != head->host_height;
		head->host_on = on;
		head->host_width = w;
		head->host_height = ht;
		head->host_x = on ? min_t(u32, le32_to_cpu(h->x), 65535) : 0;
		head->host_y = on ? min_t(u32, le32_to_cpu(h->y), 65535) : 0;
	}
	spin_unlock(&pdrm->cfg_lock);
	return changed;
}

static void pva_drm_hotplug_work(struct work_struct *work)
{
	struct pva_drm *pdrm = container_of(work, struct pva_drm,
					    hotplug_work);
	int idx;

	if (!READ_ONCE(pdrm->registered) || !drm_dev_enter(&pdrm->drm, &idx))
		return;
	pva_drm_update_connectors(pdrm);
	drm_kms_helper_hotplug_event(&pdrm->drm);
	drm_dev_exit(idx);
}

/* (Re)connected: where the region is, HELLO, the scanouts again. */
static void pva_drm_up_work(struct work_struct *work)
{
	struct pva_drm *pdrm = container_of(work, struct pva_drm, up_work);
	struct pva_display_hello *hello;
	struct pva_display_config cfg;
	struct pva_service_info info;
	unsigned int i;
	u32 len = 0;
	int ret;

	hello = kzalloc(sizeof(*hello), GFP_KERNEL);
	if (!hello)
		return;
	if (pva_client_info(pdrm->client, &info))
		goto out;
	mutex_lock(&pdrm->io_lock);
	pdrm->data = info.data;
	pdrm->head_bytes = info.data ? info.data_size / PVA_DRM_HEADS /
					       4096 * 4096 : 0;
	for (i = 0; i < PVA_DRM_HEADS; i++) {
		struct pva_drm_head *head = &pdrm->heads[i];

		head->scanout_sent = false;
		if (!head->width)
			continue;
		hello->heads[i].flags = cpu_to_le32(PVA_DISPLAY_HEAD_ENABLED);
		hello->heads[i].width = cpu_to_le32(head->width);
		hello->heads[i].height = cpu_to_le32(head->height);
	}
	mutex_unlock(&pdrm->io_lock);
	hello->nr_heads = cpu_to_le32(PVA_DRM_HEADS);

	ret = pva_call(pdrm->client, PVA_DISPLAY_HELLO, hello, sizeof(*hello),
		       &cfg, sizeof(cfg), &len, PVA_DRM_TIMEOUT);
	if (ret == -ECONNRESET || ret == -ENOTCONN)
		goto out;	/* reset again meanwhile: up() comes again */
	if (ret || len != sizeof(cfg)) {
		drm_err(&pdrm->drm, "the host did not answer HELLO: %d\n",
			ret ? ret : -EPROTO);
		goto out;
	}
	pva_drm_apply_config(pdrm, &cfg);
	mutex_lock(&pdrm->io_lock);
	pdrm->up = true;
	mutex_unlock(&pdrm->io_lock);
	pva_drm_resend(pdrm);
	drm_dbg_driver(&pdrm->drm, "connected, %llu KiB per head\n",
		       pdrm->head_bytes >> 10);
	/* the preferred modes may have changed, or the region size */
	queue_work(pdrm->wq, &pdrm->hotplug_work);
out:
	kfree(hello);
}

static int pva_drm_rx(struct pva_client *c, const struct pva_msg_hdr *hdr,
		      const void *payload, u32 len)
{
	struct pva_drm *pdrm = pva_client_priv(c);
	u16 type = le16_to_cpu(hdr->type);
	u16 flags = le16_to_cpu(hdr->flags);

	if (flags & PVA_MSG_F_REQUEST) {
		/* the host asks nothing of us */
		return pva_reply(c, hdr, PVA_S_ENOTSUP, NULL, 0);
	}
	if (type != PVA_DISPLAY_CONFIG || flags)
		return 0;	/* unknown events are dropped */
	if (len != sizeof(struct pva_display_config)) {
		dev_warn_ratelimited(pdrm->drm.dev, "malformed CONFIG from the host (%u bytes)\n",
				     len);
		return 0;
	}
	if (pva_drm_apply_config(pdrm, payload))
		queue_work(pdrm->wq, &pdrm->hotplug_work);
	return 0;
}

static void pva_drm_up(struct pva_client *c)
{
	struct pva_drm *pdrm = pva_client_priv(c);

	queue_work(pdrm->wq, &pdrm->up_work);
}

static void pva_drm_down(struct pva_client *c)
{
	struct pva_drm *pdrm = pva_client_priv(c);

	/* calls in flight fail with -ECONNRESET; no lock: one may hold it */
	WRITE_ONCE(pdrm->up, false);
}

static const struct pva_client_ops pva_drm_client_ops = {
	.rx = pva_drm_rx,
	.up = pva_drm_up,
	.down = pva_drm_down,
};

DEFINE_DRM_GEM_FOPS(pva_drm_fops);

static const struct drm_driver pva_drm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_MODESET | DRIVER_ATOMIC,
	.fops = &pva_drm_fops,
	DRM_GEM_SHMEM_DRIVER_OPS,
	PVA_DRM_FBDEV_DRIVER_OPS
	.name = "pva_drm",
	.desc = "pva paravirtual display",
	PVA_DRM_DRIVER_DATE
	.major = 1,
	.minor = 0,
};

static int pva_drm_probe(struct auxiliary_device *adev,
			 const struct auxiliary_device_id *id)
{
	struct pva_client *c = pva_client_from_adev(adev);
	struct pva_drm *pdrm;
	int ret;

	pdrm = devm_drm_dev_alloc(&adev->dev, &pva_drm_driver, struct pva_drm,
				  drm);
	if (IS_ERR(pdrm))
		return PTR_ERR(pdrm);
	pdrm->client = c;
	spin_lock_init(&pdrm->cfg_lock);
	mutex_init(&pdrm->io_lock);
	INIT_WORK(&pdrm->up_work, pva_drm_up_work);
	INIT_WORK(&pdrm->hotplug_work, pva_drm_hotplug_work);
	/*
	 * Our own reclaim-safe queue: pva_core probes us from its reset work
	 * (a WQ_MEM_RECLAIM queue), and we wait for up_work below.
	 */
	pdrm->wq = alloc_ordered_workqueue("pva_drm", WQ_MEM_RECLAIM);
	if (!pdrm->wq)
		return -ENOMEM;
	dev_set_drvdata(&adev->dev, pdrm);

	ret = pva_drm_kms_init(pdrm);
	if (ret)
		goto err;
	pva_client_enable(c, &pva_drm_client_ops, pdrm);
	/* the host's layout first, so the first probe sees the heads */
	flush_work(&pdrm->up_work);

	ret = drm_dev_register(&pdrm->drm, 0);
	if (ret)
		goto err_disable;
	WRITE_ONCE(pdrm->registered, true);
	pva_drm_fbdev_setup(&pdrm->drm);
	drm_info(&pdrm->drm, "pva display: %u heads, %llu KiB of scanout memory each\n",
		 PVA_DRM_HEADS, pdrm->head_bytes >> 10);
	return 0;

err_disable:
	pva_client_disable(c);
	cancel_work_sync(&pdrm->up_work);
	cancel_work_sync(&pdrm->hotplug_work);
err:
	destroy_workqueue(pdrm->wq);
	mutex_destroy(&pdrm->io_lock);
	return ret;
}

static void pva_drm_remove(struct auxiliary_device *adev)
{
	struct pva_drm *pdrm = dev_get_drvdata(&adev->dev);

	/* open files keep the drm_device; they get -ENODEV from now on */
	drm_dev_unplug(&pdrm->drm);
	drm_atomic_helper_shutdown(&pdrm->drm);
	pva_drm_heads_off(pdrm);
	pva_client_disable(pdrm->client);
	cancel_work_sync(&pdrm->up_work);
	cancel_work_sync(&pdrm->hotplug_work);
	destroy_workqueue(pdrm->wq);
}

static void pva_drm_shutdown(struct auxiliary_device *adev)
{
	struct pva_drm *pdrm = dev_get_drvdata(&adev->dev);

	drm_atomic_helper_shutdown(&pdrm->drm);
}

static const struct auxiliary_device_id pva_drm_ids[] = {
	{ .name = "pva_core.display" },
	{ }
};
MODULE_DEVICE_TABLE(auxiliary, pva_drm_ids);

static struct auxiliary_driver pva_drm_aux_driver = {
	.probe = pva_drm_probe,
	.remove = pva_drm_remove,
	.shutdown = pva_drm_shutdown,
	.id_table = pva_drm_ids,
};
module_auxiliary_driver(pva_drm_aux_driver);

MODULE_DESCRIPTION("pva paravirtual add-ons: KMS display");
MODULE_AUTHOR("The pva authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(PVA_DRIVER_VERSION);
PVA_IMPORT_NS();
