// SPDX-License-Identifier: GPL-2.0
/*
 * pva_core: PCI driver for the pva device (QEMU ivshmem-doorbell served by
 * pva-host). Module glue, PCI probe/remove, BARs and interrupts.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "pva_core.h"

static bool force_poll;
module_param(force_poll, bool, 0444);
MODULE_PARM_DESC(force_poll, "Do not use interrupts; poll the rings (test switch)");

static DEFINE_IDA(pva_ida);

void pva_doorbell(struct pva_dev *dev, u16 vector)
{
	writel(((u32)PVA_HOST_PEER << 16) | vector,
	       dev->regs + PVA_REG_DOORBELL);
}

static void pva_dev_release(struct kref *ref)
{
	struct pva_dev *dev = container_of(ref, struct pva_dev, ref);

	kfree(dev);
	pva_obj_gone();
}

void pva_dev_put(struct pva_dev *dev)
{
	kref_put(&dev->ref, pva_dev_release);
}

/* ---- interrupts ---- */

static irqreturn_t pva_irq(int irq, void *data)
{
	struct pva_vec *vec = data;
	struct pva_dev *dev = vec->dev;
	struct pva_table *table;
	unsigned int i;

	if (vec->index == PVA_CONFIG_VECTOR)
		pva_dev_check_config(dev);
	rcu_read_lock();
	table = rcu_dereference(dev->table);
	for (i = 0; table && i < table->nr; i++)
		if (table->svc[i]->vector == vec->index)
			pva_svc_kick(table->svc[i]);
	rcu_read_unlock();
	return IRQ_HANDLED;
}

static int pva_setup_irqs(struct pva_dev *dev)
{
	struct pci_dev *pdev = dev->pdev;
	int want, got, i, err;

	want = pci_msix_vec_count(pdev);
	if (force_poll || want <= 0) {
		dev_warn(&pdev->dev, "%s: polling the rings instead of using interrupts\n",
			 force_poll ? "force_poll set" : "no MSI-X");
		dev->nvec = 0;
		return 0;
	}
	want = min(want, PVA_MAX_VECTORS);
	got = pci_alloc_irq_vectors(pdev, 1, want, PCI_IRQ_MSIX);
	if (got < 0) {
		/* ivshmem-doorbell raises no INTx: poll instead. */
		dev_warn(&pdev->dev, "cannot enable MSI-X (%d): polling the rings\n",
			 got);
		dev->nvec = 0;
		return 0;
	}
	for (i = 0; i < got; i++) {
		dev->vecs[i].dev = dev;
		dev->vecs[i].index = i;
		err = request_irq(pci_irq_vector(pdev, i), pva_irq, 0,
				  dev->misc_name, &dev->vecs[i]);
		if (err)
			goto err_free;
	}
	dev->nvec = got;
	return 0;

err_free:
	while (--i >= 0)
		free_irq(pci_irq_vector(pdev, i), &dev->vecs[i]);
	pci_free_irq_vectors(pdev);
	return err;
}

static void pva_free_irqs(struct pva_dev *dev)
{
	unsigned int i;

	if (!dev->nvec)
		return;
	for (i = 0; i < dev->nvec; i++)
		free_irq(pci_irq_vector(dev->pdev, i), &dev->vecs[i]);
	pci_free_irq_vectors(dev->pdev);
	dev->nvec = 0;
}

/* ---- probe / remove ---- */

/*
 * Is this ivshmem device served by pva-host? A zero magic may be a host
 * that is still starting, so give it a moment; anything else is final.
 */
static int pva_check_magic(struct pva_dev *dev)
{
	int tries = 20;
	u32 magic;

	do {
		magic = le32_to_cpu(READ_ONCE(dev->hdr->host.magic));
		if (magic)
			break;
		msleep(100);
	} while (--tries);
	if (magic != PVA_MAGIC) {
		dev_err(&dev->pdev->dev, "not a pva device (magic 0x%08x, expected 0x%08x)\n",
			magic, PVA_MAGIC);
		return -ENODEV;
	}
	return 0;
}

static int pva_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct pva_dev *dev;
	u64 len;
	int err;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	pva_obj_new();
	kref_init(&dev->ref);
	dev->pdev = pdev;
	mutex_init(&dev->lock);
	mutex_init(&dev->aux_lock);
	spin_lock_init(&dev->svc_lock);
	INIT_LIST_HEAD(&dev->clients);
	init_waitqueue_head(&dev->cfg_wq);
	init_waitqueue_head(&dev->state_wq);
	init_waitqueue_head(&dev->poll_wq);
	pci_set_drvdata(pdev, dev);

	err = ida_alloc(&pva_ida, GFP_KERNEL);
	if (err < 0)
		goto err_free;
	dev->instance = err;
	if (dev->instance)
		snprintf(dev->misc_name, sizeof(dev->misc_name), "pva%d",
			 dev->instance);
	else
		strscpy(dev->misc_name, "pva", sizeof(dev->misc_name));

	err = pci_enable_device(pdev);
	if (err)
		goto err_ida;
	err = pci_request_regions(pdev, KBUILD_MODNAME);
	if (err)
		goto err_disable;

	len = pci_resource_len(pdev, 2);
	if (len < PVA_HEADER_SIZE * 2 || !is_power_of_2(len) ||
	    pci_resource_len(pdev, 0) < PVA_REG_DOORBELL + 4) {
		dev_err(&pdev->dev, "unexpected BARs (shared memory %llu bytes)\n",
			len);
		err = -ENODEV;
		goto err_regions;
	}
	dev->regs = pci_iomap(pdev, 0, 0);
	if (!dev->regs) {
		err = -ENOMEM;
		goto err_regions;
	}
	/* The shared memory is RAM on both sides: map it cacheable. */
	dev->shm_phys = pci_resource_start(pdev, 2);
	dev->shm_size = len;
	dev->shm = memremap(dev->shm_phys, len, MEMREMAP_WB);
	if (!dev->shm) {
		err = -ENOMEM;
		goto err_iounmap;
	}
	dev->hdr = (struct pva_header *)dev->shm;

	err = pva_check_magic(dev);
	if (err)
		goto err_memunmap;

	pci_set_master(pdev);	/* MSI-X messages are bus-master writes */
	err = pva_setup_irqs(dev);
	if (err)
		goto err_memunmap;

	dev->wq = alloc_workqueue("pva%d", WQ_HIGHPRI | WQ_MEM_RECLAIM, 0,
				  dev->instance);
	if (!dev->wq) {
		err = -ENOMEM;
		goto err_irqs;
	}
	err = pva_chardev_register(dev);
	if (err)
		goto err_wq;
	err = pva_dev_start(dev);
	if (err)
		goto err_chardev;

	dev_info(&pdev->dev, "pva device: %llu KiB shared memory, %s, guest peer %u\n",
		 len >> 10, dev->nvec ? "MSI-X" : "polling",
		 readl(dev->regs + PVA_REG_IVPOSITION));
	return 0;

err_chardev:
	pva_chardev_unregister(dev);
err_wq:
	destroy_workqueue(dev->wq);
err_irqs:
	pva_free_irqs(dev);
	pci_clear_master(pdev);
err_memunmap:
	memunmap(dev->shm);
err_iounmap:
	pci_iounmap(pdev, dev->regs);
err_regions:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
err_ida:
	ida_free(&pva_ida, dev->instance);
err_free:
	pci_set_drvdata(pdev, NULL);
	pva_dev_put(dev);
	return err;
}

static void pva_remove(struct pci_dev *pdev)
{
	struct pva_dev *dev = pci_get_drvdata(pdev);

	pva_dev_stop(dev);
	pva_chardev_unregister(dev);
	pva_free_irqs(dev);
	destroy_workqueue(dev->wq);
	pci_clear_master(pdev);
	memunmap(dev->shm);
	dev->shm = NULL;
	pci_iounmap(pdev, dev->regs);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	ida_free(&pva_ida, dev->instance);
	dev_info(&pdev->dev, "pva device removed\n");
	pva_dev_put(dev);
}

/* Reboot or power-off: tell the host we are gone so it drops our state. */
static void pva_shutdown(struct pci_dev *pdev)
{
	struct pva_dev *dev = pci_get_drvdata(pdev);

	pva_shm_store(&dev->hdr->guest.status, PVA_GUEST_RESET);
	pva_doorbell(dev, PVA_CONFIG_VECTOR);
}

static const struct pci_device_id pva_pci_ids[] = {
	/* ivshmem-doorbell; pva_check_magic() tells ours from others */
	{ PCI_DEVICE(0x1af4, 0x1110) },
	{ }
};
MODULE_DEVICE_TABLE(pci, pva_pci_ids);

static struct pci_driver pva_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = pva_pci_ids,
	.probe = pva_probe,
	.remove = pva_remove,
	.shutdown = pva_shutdown,
	.dev_groups = pva_dev_groups,
};

atomic_t pva_live_objects = ATOMIC_INIT(0);

static int __init pva_init(void)
{
	return pci_register_driver(&pva_pci_driver);
}
module_init(pva_init);

static void __exit pva_exit(void)
{
	pci_unregister_driver(&pva_pci_driver);
	/* Every device is removed and every file closed by now. */
	WARN(atomic_read(&pva_live_objects), "pva_core: %d objects leaked\n",
	     atomic_read(&pva_live_objects));
}
module_exit(pva_exit);

MODULE_DESCRIPTION("pva paravirtual add-ons: core transport driver");
MODULE_AUTHOR("The pva authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(PVA_DRIVER_VERSION);
