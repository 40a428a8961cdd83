// SPDX-License-Identifier: GPL-2.0
/*
 * The guest end of a service's rings: producing into guest->host,
 * consuming host->guest, request/response matching, and the send API for
 * kernel users.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "pva_core.h"

void pva_svc_release(struct kref *ref)
{
	struct pva_svc *svc = container_of(ref, struct pva_svc, ref);

	pva_dev_put(svc->dev);
	kvfree(svc->rx_buf);
	kfree(svc);
	pva_obj_gone();
}

/* Interrupt or poll: the host produced, or consumed, on this service. */
void pva_svc_kick(struct pva_svc *svc)
{
	wake_up_all(&svc->wq);
	wake_up_all(&svc->dev->poll_wq);
	if (READ_ONCE(svc->client))
		queue_work(svc->dev->wq, &svc->rx_work);
}

/*
 * Stop all use of the rings: wake sleepers, wait for whoever is inside the
 * rings, fail pending calls. The service memory stays until the last
 * reference goes.
 */
void pva_svc_kill(struct pva_svc *svc)
{
	struct pva_call_slot *slot, *tmp;

	WRITE_ONCE(svc->dead, true);
	wake_up_all(&svc->wq);
	/* rx_lock before tx_lock: the rx work sends while consuming */
	mutex_lock(&svc->rx_lock);
	mutex_lock(&svc->tx_lock);
	mutex_unlock(&svc->tx_lock);
	mutex_unlock(&svc->rx_lock);
	cancel_work_sync(&svc->rx_work);

	spin_lock(&svc->calls_lock);
	list_for_each_entry_safe(slot, tmp, &svc->calls, node) {
		list_del_init(&slot->node);
		slot->status = -ECONNRESET;
		slot->done = true;
	}
	spin_unlock(&svc->calls_lock);
	wake_up_all(&svc->wq);
	wake_up_all(&svc->dev->poll_wq);
	pva_channel_svc_gone(svc);
}

/* ---- producing ---- */

#define PVA_UNINTR_SPACE_TIMEOUT	(5 * HZ)

/* Wait for room for @rec bytes (or a dead service): 0 or -errno. */
static int pva_svc_wait_space(struct pva_svc *svc, u32 rec,
			      enum pva_wait wait)
{
	if (wait == PVA_WAIT_UNINTR)
		return wait_event_timeout(svc->wq, READ_ONCE(svc->dead) ||
					  pva_ring_prod_space(&svc->tx, rec) !=
					  PVA_RING_AGAIN,
					  PVA_UNINTR_SPACE_TIMEOUT) ?
		       0 : -ETIMEDOUT;
	return wait_event_interruptible(svc->wq, READ_ONCE(svc->dead) ||
					pva_ring_prod_space(&svc->tx, rec) !=
					PVA_RING_AGAIN);
}

/*
 * Take the producer side and wait (unless PVA_NOWAIT) until a record of
 * @rec bytes fits. On success tx_lock is held: copy, then
 * pva_svc_tx_commit().
 */
int pva_svc_tx_begin(struct pva_svc *svc, u32 rec, enum pva_wait wait)
{
	int ret;

	if (wait == PVA_WAIT_UNINTR)
		mutex_lock(&svc->tx_lock);
	else if (mutex_lock_interruptible(&svc->tx_lock))
		return -ERESTARTSYS;
	for (;;) {
		if (READ_ONCE(svc->dead)) {
			ret = -ECONNRESET;
			break;
		}
		ret = pva_ring_prod_space(&svc->tx, rec);
		if (ret == PVA_RING_AGAIN) {
			svc->stats.tx_full++;
			ret = pva_ring_prod_arm(&svc->tx, rec);
		}
		if (ret == PVA_RING_OK)
			return 0;
		if (ret == PVA_RING_CORRUPT) {
			pva_ring_error(svc, "corrupt guest->host ring index");
			ret = -EIO;
			break;
		}
		if (wait == PVA_NOWAIT) {
			ret = -EAGAIN;
			break;
		}
		ret = pva_svc_wait_space(svc, rec, wait);
		if (ret)
			break;
	}
	mutex_unlock(&svc->tx_lock);
	return ret;
}

/* Publish @msgs records of @bytes (@payload bytes of payload) at once. */
void pva_svc_tx_commit_batch(struct pva_svc *svc, u32 bytes, u32 msgs,
			     u32 payload)
{
	if (pva_ring_prod_commit(&svc->tx, bytes))
		pva_doorbell(svc->dev, svc->vector);
	svc->stats.tx_msgs += msgs;
	svc->stats.tx_bytes += payload;
	mutex_unlock(&svc->tx_lock);
}

void pva_svc_tx_commit(struct pva_svc *svc, u32 rec, u32 len)
{
	pva_svc_tx_commit_batch(svc, rec, 1, len);
}

/* Send a message whose payload is gathered from @iov (@niov pieces). */
static int pva_svc_sendv(struct pva_svc *svc, const struct pva_msg_hdr *hdr,
			 const struct kvec *iov, unsigned int niov,
			 enum pva_wait wait)
{
	u32 len = le32_to_cpu(hdr->len);
	u32 rec = pva_msg_record_size(len), pos;
	unsigned int i;
	int ret;

	if (len > svc->tx.max_payload)
		return -EMSGSIZE;
	ret = pva_svc_tx_begin(svc, rec, wait);
	if (ret)
		return ret;
	pva_ring_copy_in(&svc->tx, svc->tx.local, hdr, sizeof(*hdr));
	pos = svc->tx.local + sizeof(*hdr);
	for (i = 0; i < niov; i++) {
		pva_ring_copy_in(&svc->tx, pos, iov[i].iov_base, iov[i].iov_len);
		pos += iov[i].iov_len;
	}
	pva_svc_tx_commit(svc, rec, len);
	return 0;
}

int pva_svc_send(struct pva_svc *svc, const struct pva_msg_hdr *hdr,
		 const void *payload, enum pva_wait wait)
{
	struct kvec iov = {
		.iov_base = (void *)payload, .iov_len = le32_to_cpu(hdr->len),
	};

	return pva_svc_sendv(svc, hdr, &iov, 1, wait);
}

/* ---- consuming ---- */

/*
 * Take the consumer side and wait (if @wait) for a message; on success
 * rx_lock is held and *@hdr is the validated header: read the payload,
 * then pva_svc_rx_commit() or pva_svc_rx_abort().
 */
int pva_svc_rx_begin(struct pva_svc *svc, struct pva_msg_hdr *hdr, bool wait)
{
	int ret;

	if (mutex_lock_interruptible(&svc->rx_lock))
		return -ERESTARTSYS;
	for (;;) {
		if (READ_ONCE(svc->dead)) {
			ret = -ECONNRESET;
			break;
		}
		ret = pva_ring_cons_peek(&svc->rx, hdr);
		if (ret == PVA_RING_AGAIN && pva_ring_cons_arm(&svc->rx) ==
		    PVA_RING_OK)
			continue;
		if (ret == PVA_RING_OK) {
			if (pva_msg_hdr_valid(hdr, svc->id))
				return 0;
			pva_ring_error(svc, "malformed message header from the host");
			ret = -EIO;
			break;
		}
		if (ret == PVA_RING_CORRUPT) {
			pva_ring_error(svc, "corrupt host->guest ring (bad index or message length)");
			ret = -EIO;
			break;
		}
		if (!wait) {
			ret = -EAGAIN;
			break;
		}
		ret = wait_event_interruptible(svc->wq, READ_ONCE(svc->dead) ||
					       pva_ring_cons_pending(&svc->rx));
		if (ret)
			break;
	}
	mutex_unlock(&svc->rx_lock);
	return ret;
}

/* Release @msgs records of @bytes (@payload bytes of payload) at once. */
void pva_svc_rx_commit_batch(struct pva_svc *svc, u32 bytes, u32 msgs,
			     u32 payload)
{
	if (pva_ring_cons_commit(&svc->rx, bytes))
		pva_doorbell(svc->dev, svc->vector);
	svc->stats.rx_msgs += msgs;
	svc->stats.rx_bytes += payload;
	mutex_unlock(&svc->rx_lock);
}

void pva_svc_rx_commit(struct pva_svc *svc, const struct pva_msg_hdr *hdr)
{
	u32 len = le32_to_cpu(hdr->len);

	pva_svc_rx_commit_batch(svc, pva_msg_record_size(len), 1, len);
}

void pva_svc_rx_abort(struct pva_svc *svc)
{
	mutex_unlock(&svc->rx_lock);
}

/*
 * A response for a pending pva_call(): copy its payload straight from the
 * ring into the caller's buffer (rx_lock is held) and wake the caller.
 */
static void pva_svc_complete(struct pva_svc *svc, const struct pva_msg_hdr *hdr,
			     u32 len)
{
	u32 id = le32_to_cpu(hdr->req_id);
	struct pva_call_slot *slot;

	spin_lock(&svc->calls_lock);
	list_for_each_entry(slot, &svc->calls, node) {
		if (slot->req_id != id || slot->type != le16_to_cpu(hdr->type))
			continue;
		slot->resp_len = min(len, slot->resp_max);
		if (slot->resp_len)
			pva_ring_cons_read(&svc->rx, 0, slot->resp,
					   slot->resp_len);
		slot->status = pva_status_to_errno(le32_to_cpu(hdr->status));
		slot->done = true;
		list_del_init(&slot->node);
		spin_unlock(&svc->calls_lock);
		wake_up_all(&svc->wq);
		return;
	}
	spin_unlock(&svc->calls_lock);
	dev_warn_ratelimited(&svc->dev->pdev->dev, "service %s: response to unknown request %u dropped\n",
			     svc->name, id);
}

/* Deliver host messages to the service's kernel user. */
void pva_svc_rx_work(struct work_struct *work)
{
	struct pva_svc *svc = container_of(work, struct pva_svc, rx_work);
	struct pva_client *c = READ_ONCE(svc->client);
	struct pva_msg_hdr hdr;
	int budget = 64, ret;
	void *buf = svc->rx_buf;
	u32 len;

	if (!c || !buf)
		return;
	while (budget-- > 0) {
		if (pva_svc_rx_begin(svc, &hdr, false))
			break;
		len = le32_to_cpu(hdr.len);
		if (le16_to_cpu(hdr.flags) & PVA_MSG_F_RESPONSE) {
			pva_svc_complete(svc, &hdr, len);
		} else {
			pva_ring_cons_read(&svc->rx, 0, buf, len);
			mutex_lock(&c->cb_lock);
			ret = c->ops ? c->ops->rx(c, &hdr, buf, len) : -EAGAIN;
			mutex_unlock(&c->cb_lock);
			if (ret == -EAGAIN) {
				/* waits for tx space or a driver; a kick
				 * brings us back
				 */
				pva_svc_rx_abort(svc);
				break;
			}
		}
		pva_svc_rx_commit(svc, &hdr);
	}
	if (budget < 0)
		queue_work(svc->dev->wq, &svc->rx_work);
}

/* ---- the API for kernel users (pva.h) ---- */

struct pva_svc *pva_client_get_svc(struct pva_client *c)
{
	struct pva_svc *svc;

	spin_lock(&c->dev->svc_lock);
	svc = c->svc;
	if (svc)
		kref_get(&svc->ref);
	spin_unlock(&c->dev->svc_lock);
	return svc;
}

int pva_status_to_errno(u32 status)
{
	static const int map[] = {
		[PVA_S_OK] = 0, [PVA_S_EINVAL] = EINVAL,
		[PVA_S_ENOTSUP] = EOPNOTSUPP, [PVA_S_ENOENT] = ENOENT,
		[PVA_S_EBUSY] = EBUSY, [PVA_S_ENOMEM] = ENOMEM,
		[PVA_S_EIO] = EIO, [PVA_S_E2BIG] = E2BIG,
		[PVA_S_EAGAIN] = EAGAIN, [PVA_S_EPERM] = EPERM,
		[PVA_S_EEXIST] = EEXIST, [PVA_S_ENOSPC] = ENOSPC,
		[PVA_S_EROFS] = EROFS, [PVA_S_ENOTDIR] = ENOTDIR,
		[PVA_S_EISDIR] = EISDIR, [PVA_S_ENOTEMPTY] = ENOTEMPTY,
		[PVA_S_ENAMETOOLONG] = ENAMETOOLONG, [PVA_S_ELOOP] = ELOOP,
		[PVA_S_EXDEV] = EXDEV, [PVA_S_ESTALE] = ESTALE,
		[PVA_S_EBADF] = EBADF, [PVA_S_ERANGE] = ERANGE,
		[PVA_S_ENODATA] = ENODATA, [PVA_S_EACCES] = EACCES,
		[PVA_S_EMLINK] = EMLINK, [PVA_S_EFBIG] = EFBIG,
		[PVA_S_ETXTBSY] = ETXTBSY, [PVA_S_EOVERFLOW] = EOVERFLOW,
		[PVA_S_EDQUOT] = EDQUOT, [PVA_S_EDEADLK] = EDEADLK,
		[PVA_S_ENOLCK] = ENOLCK, [PVA_S_ENXIO] = ENXIO,
		[PVA_S_EMFILE] = EMFILE, [PVA_S_EINTR] = EINTR,
		[PVA_S_ENOTTY] = ENOTTY,
	};

	return status < ARRAY_SIZE(map) ? -map[status] : -EIO;
}
PVA_EXPORT_SYMBOL(pva_status_to_errno);

static void pva_fill_hdr(struct pva_msg_hdr *hdr, struct pva_svc *svc,
			 u16 type, u16 flags, u32 req_id, u32 status, u32 len)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->len = cpu_to_le32(len);
	hdr->type = cpu_to_le16(type);
	hdr->flags = cpu_to_le16(flags);
	hdr->service = cpu_to_le16(svc->id);
	hdr->req_id = cpu_to_le32(req_id);
	hdr->status = cpu_to_le32(status);
}

int pva_send(struct pva_client *c, u16 type, u16 flags, u32 req_id,
	     u32 status, const void *payload, u32 len)
{
	struct pva_svc *svc = pva_client_get_svc(c);
	struct pva_msg_hdr hdr;
	int ret;

	if (!svc)
		return -ENOTCONN;
	if ((flags & ~PVA_MSG_F_KNOWN) || flags == PVA_MSG_F_KNOWN) {
		ret = -EINVAL;
		goto out;
	}
	pva_fill_hdr(&hdr, svc, type, flags, req_id, status, len);
	ret = pva_svc_send(svc, &hdr, payload, PVA_NOWAIT);
out:
	kref_put(&svc->ref, pva_svc_release);
	return ret;
}
PVA_EXPORT_SYMBOL(pva_send);

int pva_reply(struct pva_client *c, const struct pva_msg_hdr *req,
	      u32 status, const void *payload, u32 len)
{
	return pva_send(c, le16_to_cpu(req->type), PVA_MSG_F_RESPONSE,
			le32_to_cpu(req->req_id), status, payload, len);
}
PVA_EXPORT_SYMBOL(pva_reply);

int pva_call(struct pva_client *c, u16 type, const void *req, u32 req_len,
	     void *resp, u32 resp_max, u32 *resp_len, unsigned long timeout)
{
	struct kvec iov = { .iov_base = (void *)req, .iov_len = req_len };

	return pva_callv(c, type, &iov, 1, resp, resp_max, resp_len, timeout);
}
PVA_EXPORT_SYMBOL(pva_call);

static int pva_callv_wait(struct pva_client *c, u16 type,
			  const struct kvec *iov, unsigned int niov, void *resp,
			  u32 resp_max, u32 *resp_len, unsigned long timeout,
			  enum pva_wait wait)
{
	struct pva_svc *svc = pva_client_get_svc(c);
	struct pva_call_slot slot = {
		.type = type, .resp = resp, .resp_max = resp_max,
	};
	struct pva_msg_hdr hdr;
	size_t req_len = 0;
	unsigned int i;
	long left;
	int ret;

	if (!svc)
		return -ENOTCONN;
	for (i = 0; i < niov; i++)
		req_len += iov[i].iov_len;
	if (req_len > svc->tx.max_payload) {
		kref_put(&svc->ref, pva_svc_release);
		return -EMSGSIZE;
	}
	spin_lock(&svc->calls_lock);
	do {
		slot.req_id = ++svc->next_req_id;
	} while (!slot.req_id);
	list_add_tail(&slot.node, &svc->calls);
	spin_unlock(&svc->calls_lock);

	pva_fill_hdr(&hdr, svc, type, PVA_MSG_F_REQUEST, slot.req_id, 0,
		     req_len);
	ret = pva_svc_sendv(svc, &hdr, iov, niov, wait);
	if (!ret) {
		if (wait == PVA_WAIT_UNINTR)
			left = wait_event_timeout(svc->wq, READ_ONCE(slot.done),
						  timeout);
		else
			left = wait_event_interruptible_timeout(svc->wq,
								READ_ONCE(slot.done),
								timeout);
		if (left == 0)
			ret = -ETIMEDOUT;
		else if (left < 0)
			ret = -EINTR;
	}
	spin_lock(&svc->calls_lock);
	if (slot.done) {
		ret = slot.status;
		if (resp_len)
			*resp_len = slot.resp_len;
	} else {
		list_del(&slot.node);
	}
	spin_unlock(&svc->calls_lock);
	kref_put(&svc->ref, pva_svc_release);
	return ret;
}

int pva_callv(struct pva_client *c, u16 type, const struct kvec *iov,
	      unsigned int niov, void *resp, u32 resp_max, u32 *resp_len,
	      unsigned long timeout)
{
	return pva_callv_wait(c, type, iov, niov, resp, resp_max, resp_len,
			      timeout, PVA_WAIT);
}
PVA_EXPORT_SYMBOL(pva_callv);

int pva_callv_uninterruptible(struct pva_client *c, u16 type,
			      const struct kvec *iov, unsigned int niov,
			      void *resp, u32 resp_max, u32 *resp_len,
			      unsigned long timeout)
{
	return pva_callv_wait(c, type, iov, niov, resp, resp_max, resp_len,
			      timeout, PVA_WAIT_UNINTR);
}
PVA_EXPORT_SYMBOL(pva_callv_uninterruptible);
