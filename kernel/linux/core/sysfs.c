// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs attributes of the pva PCI device: negotiated version and features,
 * generation, state, and the services of the running generation.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/sysfs.h>

#include "pva_core.h"

static struct pva_dev *to_pva(struct device *d)
{
	return pci_get_drvdata(to_pci_dev(d));
}

static const char *const pva_state_names[] = {
	[PVA_STATE_PROBED] = "probed",
	[PVA_STATE_NEGOTIATING] = "negotiating",
	[PVA_STATE_RUNNING] = "running",
	[PVA_STATE_FAILED] = "failed",
};

static ssize_t state_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	u32 state = READ_ONCE(to_pva(d)->state);

	return sysfs_emit(buf, "%s\n", state < ARRAY_SIZE(pva_state_names) ?
			  pva_state_names[state] : "unknown");
}
static DEVICE_ATTR_RO(state);

static ssize_t protocol_version_show(struct device *d,
				     struct device_attribute *attr, char *buf)
{
	struct pva_dev *dev = to_pva(d);
	ssize_t n;

	mutex_lock(&dev->lock);
	n = sysfs_emit(buf, "%u.%u\n", dev->major, dev->minor);
	mutex_unlock(&dev->lock);
	return n;
}
static DEVICE_ATTR_RO(protocol_version);

static ssize_t features_show(struct device *d, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "0x%llx\n", READ_ONCE(to_pva(d)->features));
}
static DEVICE_ATTR_RO(features);

static ssize_t generation_show(struct device *d, struct device_attribute *attr,
			       char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_pva(d)->generation));
}
static DEVICE_ATTR_RO(generation);

static ssize_t resets_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(to_pva(d)->resets));
}
static DEVICE_ATTR_RO(resets);

static ssize_t driver_version_show(struct device *d,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", PVA_DRIVER_VERSION);
}
static DEVICE_ATTR_RO(driver_version);

/* One line per service: id name type vector tx-msgs rx-msgs tx-full */
static ssize_t services_show(struct device *d, struct device_attribute *attr,
			     char *buf)
{
	struct pva_dev *dev = to_pva(d);
	struct pva_table *table;
	ssize_t n = 0;
	unsigned int i;

	mutex_lock(&dev->lock);
	table = rcu_dereference_protected(dev->table,
					  lockdep_is_held(&dev->lock));
	for (i = 0; table && i < table->nr; i++) {
		struct pva_svc *svc = table->svc[i];

		n += sysfs_emit_at(buf, n, "%u %s %u %u %llu %llu %llu\n",
				   svc->id, svc->name, svc->type, svc->vector,
				   svc->stats.tx_msgs, svc->stats.rx_msgs,
				   svc->stats.tx_full);
	}
	mutex_unlock(&dev->lock);
	return n;
}
static DEVICE_ATTR_RO(services);

static struct attribute *pva_dev_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_protocol_version.attr,
	&dev_attr_features.attr,
	&dev_attr_generation.attr,
	&dev_attr_resets.attr,
	&dev_attr_driver_version.attr,
	&dev_attr_services.attr,
	NULL,
};

static const struct attribute_group pva_dev_group = {
	.attrs = pva_dev_attrs,
};

const struct attribute_group *pva_dev_groups[] = {
	&pva_dev_group,
	NULL,
};
