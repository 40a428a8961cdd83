// SPDX-License-Identifier: GPL-2.0
/*
 * pva_selftest: a test driver for pva_core's API for feature drivers
 * (include/pva.h). It binds to the "selftest" service that
 * `pva-host --test-service selftest` offers and, on request through sysfs,
 * makes calls, asks for events and counts up/down notifications, so the VM
 * tests can check that API across device resets. Not for production use.
 *
 * sysfs, in the auxiliary device's directory:
 *   stats    "ups U downs D events E bad_events B"
 *   echo     write N: N checked echo calls
 *   kick     write N: ask for N events and wait for them, in order
 *   unknown  write 1: a call the host does not know must fail EOPNOTSUPP
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/auxiliary_bus.h>
#include <linux/device.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "pva.h"
#include "pva_compat.h"

#define SELFTEST_TIMEOUT	(10 * HZ)
#define SELFTEST_PAYLOAD	200

struct pva_selftest {
	struct pva_client *client;
	struct mutex lock;		/* one sysfs-triggered run at a time */
	atomic_t ups, downs, events, bad_events;
	atomic_t next_seq;		/* next event sequence expected */
	wait_queue_head_t wq;
};

static int pva_selftest_rx(struct pva_client *c, const struct pva_msg_hdr *hdr,
			   const void *payload, u32 len)
{
	struct pva_selftest *st = pva_client_priv(c);
	__le32 seq;

	if (le16_to_cpu(hdr->type) != PVA_SELFTEST_EVENT || len != sizeof(seq)) {
		atomic_inc(&st->bad_events);
		return 0;
	}
	memcpy(&seq, payload, sizeof(seq));
	if (le32_to_cpu(seq) != (u32)atomic_read(&st->next_seq))
		atomic_inc(&st->bad_events);
	atomic_inc(&st->next_seq);
	atomic_inc(&st->events);
	wake_up_all(&st->wq);
	return 0;
}

static void pva_selftest_up(struct pva_client *c)
{
	struct pva_selftest *st = pva_client_priv(c);

	atomic_inc(&st->ups);
}

static void pva_selftest_down(struct pva_client *c)
{
	struct pva_selftest *st = pva_client_priv(c);

	atomic_inc(&st->downs);
}

static const struct pva_client_ops pva_selftest_ops = {
	.rx = pva_selftest_rx,
	.up = pva_selftest_up,
	.down = pva_selftest_down,
};

static struct pva_selftest *to_st(struct device *d)
{
	return dev_get_drvdata(d);
}

static ssize_t stats_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	struct pva_selftest *st = to_st(d);

	return sysfs_emit(buf, "ups %d downs %d events %d bad_events %d\n",
			  atomic_read(&st->ups), atomic_read(&st->downs),
			  atomic_read(&st->events),
			  atomic_read(&st->bad_events));
}
static DEVICE_ATTR_RO(stats);

static int pva_selftest_echo(struct pva_selftest *st, unsigned int n)
{
	u8 *req, *resp;
	unsigned int i, k;
	u32 got;
	int err = 0;

	req = kmalloc(SELFTEST_PAYLOAD, GFP_KERNEL);
	resp = kmalloc(SELFTEST_PAYLOAD, GFP_KERNEL);
	if (!req || !resp) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && !err; i++) {
		for (k = 0; k < SELFTEST_PAYLOAD; k++)
			req[k] = (u8)(i + k);
		err = pva_call(st->client, PVA_SELFTEST_ECHO, req,
			       SELFTEST_PAYLOAD, resp, SELFTEST_PAYLOAD, &got,
			       SELFTEST_TIMEOUT);
		if (!err && (got != SELFTEST_PAYLOAD ||
			     memcmp(req, resp, SELFTEST_PAYLOAD)))
			err = -EBADMSG;
	}
	if (err)
		dev_err(pva_client_dev(st->client), "selftest echo %u of %u: %d\n",
			i, n, err);
out:
	kfree(req);
	kfree(resp);
	return err;
}

static ssize_t echo_store(struct device *d, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct pva_selftest *st = to_st(d);
	unsigned int n;
	int err;

	err = kstrtouint(buf, 0, &n);
	if (err)
		return err;
	mutex_lock(&st->lock);
	err = pva_selftest_echo(st, n);
	mutex_unlock(&st->lock);
	return err ? err : count;
}
static DEVICE_ATTR_WO(echo);

static ssize_t kick_store(struct device *d, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct pva_selftest *st = to_st(d);
	unsigned int n;
	__le32 req;
	int err, target;

	err = kstrtouint(buf, 0, &n);
	if (err)
		return err;
	mutex_lock(&st->lock);
	atomic_set(&st->next_seq, 0);
	target = atomic_read(&st->events) + n;
	req = cpu_to_le32(n);
	err = pva_call(st->client, PVA_SELFTEST_KICK, &req, sizeof(req), NULL,
		       0, NULL, SELFTEST_TIMEOUT);
	if (!err && !wait_event_timeout(st->wq, atomic_read(&st->events) >= target,
					SELFTEST_TIMEOUT))
		err = -ETIMEDOUT;
	mutex_unlock(&st->lock);
	return err ? err : count;
}
static DEVICE_ATTR_WO(kick);

static ssize_t unknown_store(struct device *d, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct pva_selftest *st = to_st(d);
	int err;

	err = pva_call(st->client, 0x7777, NULL, 0, NULL, 0, NULL,
		       SELFTEST_TIMEOUT);
	return err == -EOPNOTSUPP ? count : -EPROTO;
}
static DEVICE_ATTR_WO(unknown);

static struct attribute *pva_selftest_attrs[] = {
	&dev_attr_stats.attr,
	&dev_attr_echo.attr,
	&dev_attr_kick.attr,
	&dev_attr_unknown.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pva_selftest);

static int pva_selftest_probe(struct auxiliary_device *adev,
			      const struct auxiliary_device_id *id)
{
	struct pva_selftest *st;

	st = devm_kzalloc(&adev->dev, sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->client = pva_client_from_adev(adev);
	mutex_init(&st->lock);
	init_waitqueue_head(&st->wq);
	dev_set_drvdata(&adev->dev, st);
	pva_client_enable(st->client, &pva_selftest_ops, st);
	dev_info(&adev->dev, "selftest bound\n");
	return 0;
}

static void pva_selftest_remove(struct auxiliary_device *adev)
{
	struct pva_selftest *st = dev_get_drvdata(&adev->dev);

	pva_client_disable(st->client);
}

static const struct auxiliary_device_id pva_selftest_ids[] = {
	{ .name = "pva_core.selftest" },
	{ }
};
MODULE_DEVICE_TABLE(auxiliary, pva_selftest_ids);

static struct auxiliary_driver pva_selftest_driver = {
	.probe = pva_selftest_probe,
	.remove = pva_selftest_remove,
	.id_table = pva_selftest_ids,
	.driver.dev_groups = pva_selftest_groups,
};
module_auxiliary_driver(pva_selftest_driver);

MODULE_DESCRIPTION("pva paravirtual add-ons: test driver for the pva_core API");
MODULE_AUTHOR("The pva authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(PVA_DRIVER_VERSION);
PVA_IMPORT_NS();
