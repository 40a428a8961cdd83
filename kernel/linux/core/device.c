// SPDX-License-Identifier: GPL-2.0
/*
 * The device header: negotiation, the service table, resets and failure
 * (protocol/PROTOCOL.md sections 2 and 3, guest side).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "pva_core.h"

/* Test switches for version-skew tests; the defaults are the real thing. */
static ushort proto_major_max = PVA_VERSION_MAJOR;
module_param(proto_major_max, ushort, 0644);
MODULE_PARM_DESC(proto_major_max, "Highest protocol major version offered (test switch)");
static ushort proto_minor = PVA_VERSION_MINOR;
module_param(proto_minor, ushort, 0644);
MODULE_PARM_DESC(proto_minor, "Protocol minor version offered (test switch)");
static ulong features = PVA_F_KNOWN;
module_param(features, ulong, 0644);
MODULE_PARM_DESC(features, "Transport feature bits offered (test switch)");

static const char *const pva_gerr_names[] = {
	[PVA_GERR_NONE] = "none",
	[PVA_GERR_VERSION] = "no common protocol version",
	[PVA_GERR_LAYOUT] = "invalid shared memory layout",
	[PVA_GERR_RING] = "corrupt ring",
	[PVA_GERR_TIMEOUT] = "host did not answer",
};

static void pva_set_state(struct pva_dev *dev, u32 state)
{
	WRITE_ONCE(dev->state, state);
	wake_up_all(&dev->state_wq);
}

/* Tell the host we gave up, and why; wait for a new generation. */
static void pva_dev_fail(struct pva_dev *dev, u32 reason)
{
	struct pva_guest_area *g = &dev->hdr->guest;

	g->error = cpu_to_le32(reason);
	pva_shm_store(&g->status, PVA_GUEST_FAILED);
	pva_doorbell(dev, PVA_CONFIG_VECTOR);
	dev->fail_reason = reason;
	dev->failed_at = jiffies;
	pva_set_state(dev, PVA_STATE_FAILED);
}

bool pva_header_valid(struct pva_dev *dev)
{
	struct pva_host_area *h = &dev->hdr->host;

	if (le32_to_cpu(READ_ONCE(h->magic)) != PVA_MAGIC) {
		dev_err(&dev->pdev->dev, "bad magic 0x%08x in the shared memory\n",
			le32_to_cpu(READ_ONCE(h->magic)));
		return false;
	}
	if (le32_to_cpu(READ_ONCE(h->header_size)) != PVA_HEADER_SIZE ||
	    le64_to_cpu(READ_ONCE(h->shm_size)) != dev->shm_size) {
		dev_err(&dev->pdev->dev, "header size %u / shared memory size %llu do not match the device\n",
			le32_to_cpu(READ_ONCE(h->header_size)),
			le64_to_cpu(READ_ONCE(h->shm_size)));
		return false;
	}
	return true;
}

/* ---- the service table ---- */

static bool pva_name_valid(const char *name)
{
	size_t i, n = strnlen(name, PVA_SVC_NAME_LEN);

	if (!n || n == PVA_SVC_NAME_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!isdigit(name[i]) && !islower(name[i]) &&
		    name[i] != '-' && name[i] != '_')
			return false;
	return true;
}

/* Is [off, off + len) inside the shared memory, after the table? */
static bool pva_region_ok(struct pva_dev *dev, u64 off, u64 len, u64 min_off)
{
	return off >= min_off && off <= dev->shm_size &&
	       len <= dev->shm_size - off;
}

static int pva_ring_desc_ok(struct pva_dev *dev, u64 off, u32 size, u64 min_off)
{
	return pva_ring_size_valid(size) && IS_ALIGNED(off, PVA_CACHELINE) &&
	       pva_region_ok(dev, off, (u64)PVA_RING_CTRL_SIZE + size, min_off);
}

static struct pva_svc *pva_svc_create(struct pva_dev *dev,
				      const struct pva_service_desc *d,
				      unsigned int index, u64 min_off)
{
	u64 g2h_off = le64_to_cpu(d->g2h_off), h2g_off = le64_to_cpu(d->h2g_off);
	u64 data_off = le64_to_cpu(d->data_off);
	u64 data_size = le64_to_cpu(d->data_size);
	u32 g2h_size = le32_to_cpu(d->g2h_size);
	u32 h2g_size = le32_to_cpu(d->h2g_size);
	int ei = !!(dev->features & PVA_F_EVENT_IDX);
	struct pva_svc *svc;

	if (!pva_name_valid(d->name) || le16_to_cpu(d->id) != index ||
	    d->flags || !pva_ring_desc_ok(dev, g2h_off, g2h_size, min_off) ||
	    !pva_ring_desc_ok(dev, h2g_off, h2g_size, min_off) ||
	    (data_size && (!IS_ALIGNED(data_off, PAGE_SIZE) ||
			   !pva_region_ok(dev, data_off, data_size, min_off)))) {
		dev_err(&dev->pdev->dev, "service table entry %u is invalid\n",
			index);
		return ERR_PTR(-EINVAL);
	}
	svc = kzalloc(sizeof(*svc), GFP_KERNEL);
	if (!svc)
		return ERR_PTR(-ENOMEM);
	pva_obj_new();
	kref_init(&svc->ref);
	kref_get(&dev->ref);
	svc->dev = dev;
	memcpy(svc->name, d->name, PVA_SVC_NAME_LEN);
	svc->type = le16_to_cpu(d->type);
	svc->id = index;
	svc->version = le16_to_cpu(d->version);
	svc->features = le64_to_cpu(d->features);
	svc->vector = pva_service_vector(index, dev->active_nvec);
	pva_ring_attach(&svc->tx, dev->shm + g2h_off, g2h_size, ei);
	pva_ring_attach(&svc->rx, dev->shm + h2g_off, h2g_size, ei);
	if (data_size) {
		svc->data = dev->shm + data_off;
		svc->data_size = data_size;
		svc->data_phys = dev->shm_phys + data_off;
	}
	mutex_init(&svc->tx_lock);
	mutex_init(&svc->rx_lock);
	init_waitqueue_head(&svc->wq);
	spin_lock_init(&svc->calls_lock);
	INIT_LIST_HEAD(&svc->calls);
	INIT_WORK(&svc->rx_work, pva_svc_rx_work);
	if (svc->type != PVA_SVC_CHANNEL) {
		/* kernel users get each payload copied out of the ring */
		svc->rx_buf = kvmalloc(svc->rx.max_payload, GFP_KERNEL);
		if (!svc->rx_buf) {
			kref_put(&svc->ref, pva_svc_release);
			return ERR_PTR(-ENOMEM);
		}
	}
	return svc;
}

static int pva_read_table(struct pva_dev *dev)
{
	struct pva_host_area *h = &dev->hdr->host;
	u32 off = le32_to_cpu(READ_ONCE(h->svc_table_off));
	u32 n = le32_to_cpu(READ_ONCE(h->nr_services));
	const struct pva_service_desc *descs;
	struct pva_service_desc d;
	struct pva_table *table;
	u64 end;
	u32 i;
	int err;

	end = (u64)off + (u64)n * sizeof(d);
	if (!n || n > PVA_MAX_SERVICES || off < PVA_HEADER_SIZE ||
	    end > dev->shm_size) {
		dev_err(&dev->pdev->dev, "invalid service table (%u entries at 0x%x)\n",
			n, off);
		return -EINVAL;
	}
	table = kzalloc(struct_size(table, svc, n), GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	pva_obj_new();
	descs = (const struct pva_service_desc *)(dev->shm + off);
	for (i = 0; i < n; i++) {
		struct pva_svc *svc;

		u32 k;

		memcpy(&d, &descs[i], sizeof(d));	/* one fetch */
		svc = pva_svc_create(dev, &d, i, end);
		if (IS_ERR(svc)) {
			err = PTR_ERR(svc);
			goto err_free;
		}
		table->svc[table->nr++] = svc;
		for (k = 0; k < i; k++) {
			if (!strcmp(table->svc[k]->name, svc->name)) {
				dev_err(&dev->pdev->dev, "service name %s used twice\n",
					svc->name);
				err = -EINVAL;
				goto err_free;
			}
		}
	}
	if (table->svc[0]->type != PVA_SVC_CONTROL) {
		dev_err(&dev->pdev->dev, "service 0 is not the control service\n");
		err = -EINVAL;
		goto err_free;
	}
	rcu_assign_pointer(dev->table, table);
	return 0;

err_free:
	for (i = 0; i < table->nr; i++)
		kref_put(&table->svc[i]->ref, pva_svc_release);
	kfree(table);
	pva_obj_gone();
	return err;
}

/*
 * Tear down the current generation's services: unpublish them, stop all
 * ring access, then tell their users. Called with aux_lock and dev->lock.
 */
static void pva_teardown(struct pva_dev *dev)
{
	struct pva_table *table;
	unsigned int i;

	table = rcu_dereference_protected(dev->table,
					  lockdep_is_held(&dev->lock));
	if (!table)
		return;
	RCU_INIT_POINTER(dev->table, NULL);
	synchronize_rcu();		/* interrupt handlers are done */
	for (i = 0; i < table->nr; i++)
		pva_svc_kill(table->svc[i]);
	pva_clients_down(dev);
	for (i = 0; i < table->nr; i++)
		kref_put(&table->svc[i]->ref, pva_svc_release);
	kfree(table);
	pva_obj_gone();
}

/* ---- negotiation ---- */

/*
 * One negotiation round. Returns 0, a PVA_GERR_* reason (> 0) to give up
 * with, -EAGAIN if the host restarted meanwhile, -ENODEV when removing.
 */
static int pva_negotiate(struct pva_dev *dev)
{
	struct pva_host_area *h = &dev->hdr->host;
	struct pva_guest_area *g = &dev->hdr->guest;
	u16 hmin, hmax, mine = max_t(u16, proto_major_max, PVA_VERSION_MAJOR);
	u32 gen, seq, status;
	long left;

	/* Failures are final for this generation: remember which it was. */
	gen = pva_shm_load(&h->generation);
	WRITE_ONCE(dev->generation, gen);
	if (!pva_header_valid(dev))
		return PVA_GERR_LAYOUT;
	if (!wait_event_timeout(dev->cfg_wq,
				pva_shm_load(&h->host_status) ==
				PVA_HOST_READY || READ_ONCE(dev->removing),
				PVA_NEGOTIATE_TIMEOUT))
		return PVA_GERR_TIMEOUT;
	if (READ_ONCE(dev->removing))
		return -ENODEV;
	if (pva_shm_load(&h->generation) != gen)
		return -EAGAIN;
	hmin = le16_to_cpu(READ_ONCE(h->major_min));
	hmax = le16_to_cpu(READ_ONCE(h->major_max));
	if (hmin > mine || hmax < PVA_VERSION_MAJOR) {
		dev_err(&dev->pdev->dev, "host speaks protocol %u-%u, this driver %u-%u\n",
			hmin, hmax, PVA_VERSION_MAJOR, mine);
		return PVA_GERR_VERSION;
	}

	g->status = cpu_to_le32(PVA_GUEST_NEGOTIATING);
	g->major_min = cpu_to_le16(PVA_VERSION_MAJOR);
	g->major_max = cpu_to_le16(mine);
	g->minor = cpu_to_le16(proto_minor);
	g->nr_vectors = cpu_to_le16(max(dev->nvec, 1u));
	g->generation = cpu_to_le32(gen);
	g->error = 0;
	g->features = cpu_to_le64(features);
	seq = le32_to_cpu(READ_ONCE(g->req_seq)) + 1;
	pva_shm_store(&g->req_seq, seq);
	pva_doorbell(dev, PVA_CONFIG_VECTOR);

	left = wait_event_timeout(dev->cfg_wq,
				  pva_shm_load(&h->ack_seq) == seq ||
				  le32_to_cpu(READ_ONCE(h->generation)) != gen ||
				  READ_ONCE(dev->removing),
				  PVA_NEGOTIATE_TIMEOUT);
	if (READ_ONCE(dev->removing))
		return -ENODEV;
	if (pva_shm_load(&h->generation) != gen)
		return -EAGAIN;
	if (!left) {
		dev_err(&dev->pdev->dev, "the host did not answer the negotiation request\n");
		return PVA_GERR_TIMEOUT;
	}
	status = le32_to_cpu(READ_ONCE(h->ack_status));
	if (status != PVA_NEG_OK) {
		dev_err(&dev->pdev->dev, "negotiation refused (%s): guest speaks %u-%u.%u, host %u-%u\n",
			status == PVA_NEG_VERSION ? "no common version" :
			"request invalid", PVA_VERSION_MAJOR, mine,
			proto_minor, hmin, hmax);
		return PVA_GERR_VERSION;
	}
	dev->major = le16_to_cpu(READ_ONCE(h->ack_major));
	dev->minor = le16_to_cpu(READ_ONCE(h->ack_minor));
	/* Never use what we did not ask for, nor what we do not know. */
	dev->features = le64_to_cpu(READ_ONCE(h->ack_features)) & features &
			PVA_F_KNOWN;
	if (dev->major != PVA_VERSION_MAJOR) {
		dev_err(&dev->pdev->dev, "host chose protocol %u.%u, which this driver does not speak\n",
			dev->major, dev->minor);
		return PVA_GERR_VERSION;
	}
	dev->active_nvec = min_t(unsigned int, max(dev->nvec, 1u),
				 le16_to_cpu(READ_ONCE(h->nr_vectors)));
	if (!dev->active_nvec)
		dev->active_nvec = 1;
	return 0;
}

/* Negotiate and build the new generation. Called with dev->lock held. */
static void pva_bring_up(struct pva_dev *dev)
{
	struct pva_guest_area *g = &dev->hdr->guest;
	int tries = 5, ret;

	pva_teardown(dev);
	if (dev->removing)
		return;
	pva_set_state(dev, PVA_STATE_NEGOTIATING);
	do {
		ret = pva_negotiate(dev);
		if (!ret && pva_read_table(dev))
			ret = PVA_GERR_LAYOUT;
		/* the table is valid only for the generation we negotiated */
		if (!ret && pva_shm_load(&dev->hdr->host.generation) !=
		    dev->generation) {
			pva_teardown(dev);
			ret = -EAGAIN;
		}
	} while (ret == -EAGAIN && --tries);
	if (ret == -ENODEV)
		return;
	if (ret) {
		if (ret < 0)
			ret = PVA_GERR_TIMEOUT;	/* the host keeps restarting */
		dev_err(&dev->pdev->dev, "device not usable: %s; waiting for the host to reset it\n",
			pva_gerr_names[ret]);
		pva_dev_fail(dev, ret);
		return;
	}
	pva_shm_store(&g->status, PVA_GUEST_RUNNING);
	pva_doorbell(dev, PVA_CONFIG_VECTOR);
	dev->resets++;
	atomic_set(&dev->ring_error, 0);
	pva_set_state(dev, PVA_STATE_RUNNING);
	dev_info(&dev->pdev->dev, "protocol %u.%u, features 0x%llx, %u vectors, generation %u, %u services\n",
		 dev->major, dev->minor, dev->features, dev->active_nvec,
		 dev->generation,
		 rcu_dereference_protected(dev->table,
					   lockdep_is_held(&dev->lock))->nr);
	pva_clients_up(dev);
}

static void pva_reset_work(struct work_struct *work)
{
	struct pva_dev *dev = container_of(work, struct pva_dev, reset_work);

	mutex_lock(&dev->aux_lock);
	mutex_lock(&dev->lock);
	pva_bring_up(dev);
	mutex_unlock(&dev->lock);
	/* Add and remove auxiliary devices outside dev->lock: their
	 * drivers' probe and remove call back into us.
	 */
	pva_aux_sync(dev);
	mutex_unlock(&dev->aux_lock);
}

/* A ring went bad: stop using every ring until the host resets. */
static void pva_fail_work(struct work_struct *work)
{
	struct pva_dev *dev = container_of(work, struct pva_dev, fail_work);

	mutex_lock(&dev->aux_lock);
	mutex_lock(&dev->lock);
	if (dev->state == PVA_STATE_RUNNING) {
		pva_teardown(dev);
		pva_dev_fail(dev, PVA_GERR_RING);
	}
	mutex_unlock(&dev->lock);
	mutex_unlock(&dev->aux_lock);
}

void pva_ring_error(struct pva_svc *svc, const char *what)
{
	struct pva_dev *dev = svc->dev;

	if (atomic_xchg(&dev->ring_error, 1))
		return;
	/* A restarted host rewrites the rings before we notice: not an error. */
	if (pva_shm_load(&dev->hdr->host.generation) !=
	    READ_ONCE(dev->generation)) {
		dev_info(&dev->pdev->dev, "host restarted; renegotiating\n");
		queue_work(dev->wq, &dev->reset_work);
		return;
	}
	dev_err(&dev->pdev->dev, "service %s: %s; stopping until the host resets the device\n",
		svc->name, what);
	queue_work(dev->wq, &dev->fail_work);
}

/*
 * Interrupt on vector 0, or heartbeat: wake negotiation waiters, and
 * renegotiate when the host side changed. Runs in any context.
 */
void pva_dev_check_config(struct pva_dev *dev)
{
	struct pva_host_area *h = &dev->hdr->host;
	u32 state = READ_ONCE(dev->state);
	u32 gen;

	wake_up_all(&dev->cfg_wq);
	if (READ_ONCE(dev->removing) || state == PVA_STATE_NEGOTIATING)
		return;
	gen = pva_shm_load(&h->generation);
	if (gen != READ_ONCE(dev->generation) ||
	    (state == PVA_STATE_FAILED &&
	     READ_ONCE(dev->fail_reason) == PVA_GERR_TIMEOUT &&
	     time_after(jiffies, READ_ONCE(dev->failed_at) + PVA_NEGOTIATE_TIMEOUT)))
		queue_work(dev->wq, &dev->reset_work);
}

static void pva_heartbeat(struct work_struct *work)
{
	struct pva_dev *dev = container_of(to_delayed_work(work),
					   struct pva_dev, heartbeat);
	struct pva_table *table;
	unsigned int i;

	pva_dev_check_config(dev);
	/*
	 * Polling mode: look at every ring each jiffy. With interrupts, look
	 * once a second anyway, so a lost interrupt delays, never stalls.
	 */
	rcu_read_lock();
	table = rcu_dereference(dev->table);
	for (i = 0; table && i < table->nr; i++)
		pva_svc_kick(table->svc[i]);
	rcu_read_unlock();
	if (!READ_ONCE(dev->removing))
		queue_delayed_work(dev->wq, &dev->heartbeat,
				   dev->nvec ? PVA_HEARTBEAT : PVA_POLL_INTERVAL);
}

int pva_dev_start(struct pva_dev *dev)
{
	dev->control.dev = dev;
	strscpy(dev->control.name, "control", sizeof(dev->control.name));
	dev->control.type = PVA_SVC_CONTROL;
	dev->control.ops = &pva_control_ops;
	mutex_init(&dev->control.cb_lock);
	INIT_WORK(&dev->reset_work, pva_reset_work);
	INIT_WORK(&dev->fail_work, pva_fail_work);
	INIT_DELAYED_WORK(&dev->heartbeat, pva_heartbeat);
	dev->state = PVA_STATE_PROBED;
	queue_work(dev->wq, &dev->reset_work);
	queue_delayed_work(dev->wq, &dev->heartbeat, PVA_HEARTBEAT);
	return 0;
}

void pva_dev_stop(struct pva_dev *dev)
{
	struct pva_guest_area *g = &dev->hdr->guest;

	WRITE_ONCE(dev->removing, true);
	wake_up_all(&dev->cfg_wq);
	cancel_delayed_work_sync(&dev->heartbeat);
	cancel_work_sync(&dev->reset_work);
	cancel_work_sync(&dev->fail_work);
	pva_aux_remove_all(dev);
	mutex_lock(&dev->aux_lock);
	mutex_lock(&dev->lock);
	pva_teardown(dev);
	pva_set_state(dev, PVA_STATE_PROBED);
	mutex_unlock(&dev->lock);
	mutex_unlock(&dev->aux_lock);
	/* Tell the host we are gone: it drops our state. */
	pva_shm_store(&g->status, PVA_GUEST_RESET);
	pva_doorbell(dev, PVA_CONFIG_VECTOR);
}
