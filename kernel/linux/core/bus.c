// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel users of services: pva_core's own control client and one
 * auxiliary device per balloon, shared-folder, display or selftest service,
 * which pva_balloon, pva_sf, pva_drm and pva_selftest bind to. Clients outlive generations:
 * after every negotiation they are attached to the service of the same
 * name again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>

#include "pva_core.h"

static const char *pva_aux_name(u16 type)
{
	switch (type) {
	case PVA_SVC_BALLOON:
		return "balloon";
	case PVA_SVC_SF:
		return "sf";
	case PVA_SVC_DISPLAY:
		return "display";
	case PVA_SVC_SELFTEST:
		return "selftest";
	}
	return NULL;
}

static struct pva_table *pva_table_locked(struct pva_dev *dev)
{
	/* the table changes only with aux_lock and dev->lock held */
	return rcu_dereference_check(dev->table, lockdep_is_held(&dev->aux_lock) ||
				     lockdep_is_held(&dev->lock));
}

static struct pva_svc *pva_find_svc(struct pva_table *table, const char *name,
				    u16 type)
{
	unsigned int i;

	for (i = 0; table && i < table->nr; i++)
		if (table->svc[i]->type == type &&
		    !strncmp(table->svc[i]->name, name, PVA_SVC_NAME_LEN))
			return table->svc[i];
	return NULL;
}

static void pva_client_attach(struct pva_client *c, struct pva_svc *svc)
{
	struct pva_dev *dev = c->dev;

	kref_get(&svc->ref);
	spin_lock(&dev->svc_lock);
	c->svc = svc;
	WRITE_ONCE(svc->client, c);
	spin_unlock(&dev->svc_lock);
}

static void pva_client_up(struct pva_client *c)
{
	struct pva_svc *svc;

	mutex_lock(&c->cb_lock);
	if (c->ops && !c->is_up && c->svc) {
		c->is_up = true;
		if (c->ops->up)
			c->ops->up(c);
	}
	mutex_unlock(&c->cb_lock);
	svc = pva_client_get_svc(c);
	if (svc) {
		/* messages that arrived before we were ready */
		pva_svc_kick(svc);
		kref_put(&svc->ref, pva_svc_release);
	}
}

static void pva_client_down(struct pva_client *c)
{
	struct pva_dev *dev = c->dev;
	struct pva_svc *svc;

	mutex_lock(&c->cb_lock);
	if (c->ops && c->is_up && c->ops->down)
		c->ops->down(c);
	c->is_up = false;
	mutex_unlock(&c->cb_lock);

	spin_lock(&dev->svc_lock);
	svc = c->svc;
	c->svc = NULL;
	if (svc)
		WRITE_ONCE(svc->client, NULL);
	spin_unlock(&dev->svc_lock);
	if (svc)
		kref_put(&svc->ref, pva_svc_release);
}

/* After negotiation (dev->lock and aux_lock held). */
void pva_clients_up(struct pva_dev *dev)
{
	struct pva_table *table = pva_table_locked(dev);
	struct pva_client *c;
	struct pva_svc *svc;

	svc = pva_find_svc(table, dev->control.name, dev->control.type);
	if (svc) {
		pva_client_attach(&dev->control, svc);
		pva_client_up(&dev->control);
	}
	list_for_each_entry(c, &dev->clients, node) {
		svc = pva_find_svc(table, c->name, c->type);
		if (!svc)
			continue;	/* removed by pva_aux_sync() */
		pva_client_attach(c, svc);
		pva_client_up(c);
	}
}

/* The services are dead (dev->lock and aux_lock held). */
void pva_clients_down(struct pva_dev *dev)
{
	struct pva_client *c;

	pva_client_down(&dev->control);
	list_for_each_entry(c, &dev->clients, node)
		pva_client_down(c);
}

/* ---- auxiliary devices ---- */

static void pva_aux_release(struct device *d)
{
	struct auxiliary_device *adev = to_auxiliary_dev(d);

	kfree(container_of(adev, struct pva_client, adev));
	pva_obj_gone();
}

static void pva_aux_destroy(struct pva_client *c)
{
	list_del(&c->node);
	pva_client_down(c);
	auxiliary_device_delete(&c->adev);
	auxiliary_device_uninit(&c->adev);	/* frees c */
}

static int pva_aux_create(struct pva_dev *dev, struct pva_svc *svc)
{
	struct pva_client *c;
	int err;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	pva_obj_new();
	c->dev = dev;
	memcpy(c->name, svc->name, PVA_SVC_NAME_LEN);
	c->type = svc->type;
	mutex_init(&c->cb_lock);
	c->adev.name = pva_aux_name(svc->type);
	c->adev.id = dev->instance * PVA_MAX_SERVICES + svc->id;
	c->adev.dev.parent = &dev->pdev->dev;
	c->adev.dev.release = pva_aux_release;
	err = auxiliary_device_init(&c->adev);
	if (err) {
		kfree(c);
		pva_obj_gone();
		return err;
	}
	/* attached first, so the driver's probe finds the service up */
	pva_client_attach(c, svc);
	list_add_tail(&c->node, &dev->clients);
	err = auxiliary_device_add(&c->adev);
	if (err) {
		list_del(&c->node);
		pva_client_down(c);
		auxiliary_device_uninit(&c->adev);
		return err;
	}
	return 0;
}

/*
 * Make the auxiliary devices match the services of the running generation
 * (aux_lock held, dev->lock not: the drivers' probe and remove call us).
 * While the device is down the existing ones stay, detached.
 */
void pva_aux_sync(struct pva_dev *dev)
{
	struct pva_table *table = pva_table_locked(dev);
	struct pva_client *c, *tmp;
	unsigned int i;
	int err;

	if (READ_ONCE(dev->state) != PVA_STATE_RUNNING || !table)
		return;
	list_for_each_entry_safe(c, tmp, &dev->clients, node) {
		if (!pva_find_svc(table, c->name, c->type)) {
			dev_info(&dev->pdev->dev, "service %s is gone\n",
				 c->name);
			pva_aux_destroy(c);
		}
	}
	for (i = 0; i < table->nr; i++) {
		struct pva_svc *svc = table->svc[i];
		bool found = false;

		if (!pva_aux_name(svc->type))
			continue;
		list_for_each_entry(c, &dev->clients, node)
			found |= !strncmp(c->name, svc->name, PVA_SVC_NAME_LEN) &&
				 c->type == svc->type;
		if (found)
			continue;
		err = pva_aux_create(dev, svc);
		if (err)
			dev_err(&dev->pdev->dev, "cannot create a device for service %s: %d\n",
				svc->name, err);
	}
}

void pva_aux_remove_all(struct pva_dev *dev)
{
	struct pva_client *c, *tmp;

	mutex_lock(&dev->aux_lock);
	list_for_each_entry_safe(c, tmp, &dev->clients, node)
		pva_aux_destroy(c);
	mutex_unlock(&dev->aux_lock);
}

/* ---- API for the service drivers (pva.h) ---- */

struct pva_client *pva_client_from_adev(struct auxiliary_device *adev)
{
	return container_of(adev, struct pva_client, adev);
}
PVA_EXPORT_SYMBOL(pva_client_from_adev);

void pva_client_enable(struct pva_client *c, const struct pva_client_ops *ops,
		       void *priv)
{
	mutex_lock(&c->cb_lock);
	c->priv = priv;
	c->ops = ops;
	mutex_unlock(&c->cb_lock);
	pva_client_up(c);
}
PVA_EXPORT_SYMBOL(pva_client_enable);

void pva_client_disable(struct pva_client *c)
{
	/* after this no callback runs or will run */
	mutex_lock(&c->cb_lock);
	c->ops = NULL;
	c->is_up = false;
	mutex_unlock(&c->cb_lock);
}
PVA_EXPORT_SYMBOL(pva_client_disable);

void *pva_client_priv(struct pva_client *c)
{
	return c->priv;
}
PVA_EXPORT_SYMBOL(pva_client_priv);

struct device *pva_client_dev(struct pva_client *c)
{
	return &c->dev->pdev->dev;
}
PVA_EXPORT_SYMBOL(pva_client_dev);

int pva_client_info(struct pva_client *c, struct pva_service_info *info)
{
	struct pva_svc *svc = pva_client_get_svc(c);

	if (!svc)
		return -ENOTCONN;
	info->type = svc->type;
	info->id = svc->id;
	info->version = svc->version;
	info->features = svc->features;
	info->max_payload = svc->tx.max_payload;
	info->data = svc->data;
	info->data_size = svc->data_size;
	info->data_phys = svc->data_phys;
	kref_put(&svc->ref, pva_svc_release);
	return 0;
}
PVA_EXPORT_SYMBOL(pva_client_info);
