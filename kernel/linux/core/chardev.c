// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/pva: userspace channels (include/uapi/pva.h). A file binds to a
 * channel service by name and then reads and writes whole messages, copied
 * straight between its buffers and the shared rings.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pva_core.h"

static struct pva_svc *pva_find_channel(struct pva_dev *dev, const char *name)
{
	struct pva_table *table;
	unsigned int i;

	table = rcu_dereference_protected(dev->table,
					  lockdep_is_held(&dev->lock));
	for (i = 0; table && i < table->nr; i++)
		if (table->svc[i]->type == PVA_SVC_CHANNEL &&
		    !strncmp(table->svc[i]->name, name, PVA_SVC_NAME_LEN))
			return table->svc[i];
	return NULL;
}

/* Drop the file's service (after a reset, or on close). */
static void pva_chan_detach(struct pva_channel *chan)
{
	struct pva_dev *dev = chan->dev;
	struct pva_svc *svc;

	spin_lock(&dev->svc_lock);
	svc = chan->svc;
	chan->svc = NULL;
	if (svc && svc->chan == chan)
		svc->chan = NULL;
	spin_unlock(&dev->svc_lock);
	if (svc)
		kref_put(&svc->ref, pva_svc_release);
}

/* The service is being torn down: it no longer belongs to the file. */
void pva_channel_svc_gone(struct pva_svc *svc)
{
	spin_lock(&svc->dev->svc_lock);
	svc->chan = NULL;
	spin_unlock(&svc->dev->svc_lock);
}

/* Attach to the channel @name of the running generation. */
static int pva_chan_attach(struct pva_channel *chan, const char *name,
			   bool nonblock)
{
	struct pva_dev *dev = chan->dev;
	struct pva_svc *svc;
	long left;
	int ret = 0;

	if (!nonblock) {
		left = wait_event_interruptible_timeout(dev->state_wq,
				READ_ONCE(dev->state) == PVA_STATE_RUNNING ||
				READ_ONCE(dev->removing), PVA_BIND_TIMEOUT);
		if (left < 0)
			return -ERESTARTSYS;
	}
	mutex_lock(&dev->lock);
	if (dev->removing) {
		ret = -ENODEV;
		goto out;
	}
	if (dev->state != PVA_STATE_RUNNING) {
		ret = nonblock ? -EAGAIN : -ENOTCONN;
		goto out;
	}
	svc = pva_find_channel(dev, name);
	if (!svc) {
		ret = -ENOENT;
		goto out;
	}
	spin_lock(&dev->svc_lock);
	if (svc->chan) {
		ret = -EBUSY;
	} else {
		svc->chan = chan;
		chan->svc = svc;
		kref_get(&svc->ref);
	}
	spin_unlock(&dev->svc_lock);
out:
	mutex_unlock(&dev->lock);
	return ret;
}

/*
 * The file's live service, with a reference. A service killed by a reset
 * is reported once as -ECONNRESET; the next call attaches to the channel
 * of the same name again.
 */
static struct pva_svc *pva_chan_svc(struct pva_channel *chan, bool nonblock)
{
	struct pva_dev *dev = chan->dev;
	struct pva_svc *svc;
	int ret;

	spin_lock(&dev->svc_lock);
	svc = chan->svc;
	if (svc)
		kref_get(&svc->ref);
	spin_unlock(&dev->svc_lock);
	if (svc && !READ_ONCE(svc->dead))
		return svc;
	if (svc) {
		kref_put(&svc->ref, pva_svc_release);
		pva_chan_detach(chan);
		return ERR_PTR(-ECONNRESET);
	}
	mutex_lock(&chan->lock);
	if (!chan->name[0])
		ret = -EDESTADDRREQ;
	else
		ret = chan->svc ? 0 : pva_chan_attach(chan, chan->name, nonblock);
	mutex_unlock(&chan->lock);
	if (ret)
		return ERR_PTR(ret);
	return pva_chan_svc(chan, nonblock);
}

static void pva_chan_put(struct pva_channel *chan, struct pva_svc *svc,
			 ssize_t ret)
{
	if (ret == -ECONNRESET)
		pva_chan_detach(chan);
	kref_put(&svc->ref, pva_svc_release);
}

static int pva_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct pva_dev *dev = container_of(misc, struct pva_dev, misc);
	struct pva_channel *chan;

	chan = kzalloc(sizeof(*chan), GFP_KERNEL);
	if (!chan)
		return -ENOMEM;
	pva_obj_new();
	chan->dev = dev;
	mutex_init(&chan->lock);
	kref_get(&dev->ref);	/* misc_open holds misc_mtx: dev is alive */
	file->private_data = chan;
	return stream_open(inode, file);
}

static int pva_release(struct inode *inode, struct file *file)
{
	struct pva_channel *chan = file->private_data;

	pva_chan_detach(chan);
	pva_dev_put(chan->dev);
	kfree(chan);
	pva_obj_gone();
	return 0;
}

/* Copy @len ring bytes at @pos to userspace; nonzero on a fault. */
static int pva_ring_to_user(const struct pva_ring *r, u32 pos,
			    char __user *buf, u32 len)
{
	u32 first = pva_ring_first_seg(r, pos, len);

	if (copy_to_user(buf, r->data + (pos & (r->size - 1)), first))
		return -EFAULT;
	return copy_to_user(buf + first, r->data, len - first) ? -EFAULT : 0;
}

/* Copy @len bytes from userspace into the ring at @pos; nonzero on a fault. */
static int pva_ring_from_user(struct pva_ring *r, u32 pos,
			      const char __user *buf, u32 len)
{
	u32 first = pva_ring_first_seg(r, pos, len);

	if (copy_from_user(r->data + (pos & (r->size - 1)), buf, first))
		return -EFAULT;
	return copy_from_user(r->data, buf + first, len - first) ? -EFAULT : 0;
}

/* A header userspace may send: known flags, reserved fields zero. */
static bool pva_user_hdr_ok(const struct pva_msg_hdr *hdr)
{
	u16 flags = le16_to_cpu(hdr->flags);

	return !hdr->reserved0 && !hdr->reserved1 &&
	       !(flags & ~PVA_MSG_F_KNOWN) && flags != PVA_MSG_F_KNOWN;
}

/*
 * Batch mode: every whole record that fits in @count, in the ring's own
 * format (header, payload, padding to 8 bytes), in one copy. rx_lock is
 * held and *@hdr is the first record, already checked.
 */
static ssize_t pva_read_batch(struct pva_svc *svc, struct pva_msg_hdr *hdr,
			      char __user *buf, size_t count)
{
	struct pva_ring *r = &svc->rx;
	u32 total = 0, msgs = 0, payload = 0;

	for (;;) {
		u32 len = le32_to_cpu(hdr->len);
		u32 rec = pva_msg_record_size(len);

		if (total + rec > count)
			break;
		total += rec;
		msgs++;
		payload += len;
		/* a bad record ends the batch; the next read reports it */
		if (pva_ring_cons_peek_at(r, total, hdr) != PVA_RING_OK ||
		    !pva_msg_hdr_valid(hdr, svc->id))
			break;
	}
	if (!msgs) {
		pva_svc_rx_abort(svc);
		return -EMSGSIZE;
	}
	if (pva_ring_to_user(r, r->local, buf, total)) {
		pva_svc_rx_abort(svc);
		return -EFAULT;
	}
	pva_svc_rx_commit_batch(svc, total, msgs, payload);
	return total;
}

static ssize_t pva_read(struct file *file, char __user *buf, size_t count,
			loff_t *ppos)
{
	struct pva_channel *chan = file->private_data;
	bool nonblock = file->f_flags & O_NONBLOCK;
	struct pva_msg_hdr hdr;
	struct pva_svc *svc;
	ssize_t ret;
	u32 len;

	svc = pva_chan_svc(chan, nonblock);
	if (IS_ERR(svc))
		return PTR_ERR(svc);
	ret = pva_svc_rx_begin(svc, &hdr, !nonblock);
	if (ret)
		goto out;
	if (chan->batch) {
		ret = pva_read_batch(svc, &hdr, buf, count);
		goto out;
	}
	len = le32_to_cpu(hdr.len);
	if (count < sizeof(hdr) + len) {
		ret = -EMSGSIZE;
		goto abort;
	}
	if (copy_to_user(buf, &hdr, sizeof(hdr)) ||
	    pva_ring_to_user(&svc->rx, svc->rx.local + sizeof(hdr),
			     buf + sizeof(hdr), len)) {
		ret = -EFAULT;
		goto abort;
	}
	pva_svc_rx_commit(svc, &hdr);
	ret = sizeof(hdr) + len;
	goto out;
abort:
	pva_svc_rx_abort(svc);	/* the message stays queued */
out:
	pva_chan_put(chan, svc, ret);
	return ret;
}

/*
 * Batch mode: several records in the ring's format, published together
 * with at most one doorbell. The headers are read twice (sizes to reserve
 * room, then checked and copied); a buffer that changes in between is
 * refused, and nothing is published unless all of it was copied.
 */
static ssize_t pva_write_batch(struct pva_svc *svc, const char __user *buf,
			       size_t count, bool nonblock)
{
	u32 off, need = 0, done = 0, msgs = 0, payload = 0, len, rec;
	struct pva_ring *r = &svc->tx;
	struct pva_msg_hdr hdr;
	int ret;

	if (count > r->size / 2)
		return -EMSGSIZE;
	for (off = 0; off < count; off += rec) {
		if (count - off < sizeof(hdr))
			return -EINVAL;
		if (copy_from_user(&hdr, buf + off, sizeof(hdr)))
			return -EFAULT;
		len = le32_to_cpu(hdr.len);
		if (len > r->max_payload)
			return -EMSGSIZE;
		rec = pva_msg_record_size(len);
		/* the last record's padding may be left out */
		if (sizeof(hdr) + len > count - off ||
		    (rec > count - off && sizeof(hdr) + len != count - off))
			return -EINVAL;
		need += rec;
		if (need > r->size / 2)
			return -EMSGSIZE;
	}
	ret = pva_svc_tx_begin(svc, need, nonblock ? PVA_NOWAIT : PVA_WAIT);
	if (ret)
		return ret;
	for (off = 0; off < count; off += rec) {
		ret = -EINVAL;
		if (count - off < sizeof(hdr))
			goto fail;
		ret = -EFAULT;
		if (copy_from_user(&hdr, buf + off, sizeof(hdr)))
			goto fail;
		len = le32_to_cpu(hdr.len);
		rec = pva_msg_record_size(len);
		ret = -EINVAL;
		if (!pva_user_hdr_ok(&hdr) || len > r->max_payload ||
		    sizeof(hdr) + len > count - off || done + rec > need)
			goto fail;
		hdr.service = cpu_to_le16(svc->id);
		ret = -EFAULT;
		if (pva_ring_from_user(r, r->local + done + sizeof(hdr),
				       buf + off + sizeof(hdr), len))
			goto fail;
		pva_ring_copy_in(r, r->local + done, &hdr, sizeof(hdr));
		done += rec;
		msgs++;
		payload += len;
	}
	ret = -EINVAL;
	if (done != need)
		goto fail;
	pva_svc_tx_commit_batch(svc, done, msgs, payload);
	return count;
fail:
	/* nothing published: the partial copy is overwritten later */
	mutex_unlock(&svc->tx_lock);
	return ret;
}

static ssize_t pva_write(struct file *file, const char __user *buf,
			 size_t count, loff_t *ppos)
{
	struct pva_channel *chan = file->private_data;
	bool nonblock = file->f_flags & O_NONBLOCK;
	struct pva_msg_hdr hdr;
	struct pva_svc *svc;
	ssize_t ret;
	u32 len, rec;

	if (count < sizeof(hdr))
		return -EINVAL;
	if (!chan->batch) {
		if (count - sizeof(hdr) > PVA_MSG_MAX)
			return -EMSGSIZE;
		if (copy_from_user(&hdr, buf, sizeof(hdr)))
			return -EFAULT;
		len = count - sizeof(hdr);
		if (le32_to_cpu(hdr.len) != len || !pva_user_hdr_ok(&hdr))
			return -EINVAL;
	}
	svc = pva_chan_svc(chan, nonblock);
	if (IS_ERR(svc))
		return PTR_ERR(svc);
	if (chan->batch) {
		ret = pva_write_batch(svc, buf, count, nonblock);
		goto out;
	}
	if (len > svc->tx.max_payload) {
		ret = -EMSGSIZE;
		goto out;
	}
	hdr.service = cpu_to_le16(svc->id);
	rec = pva_msg_record_size(len);
	ret = pva_svc_tx_begin(svc, rec, nonblock ? PVA_NOWAIT : PVA_WAIT);
	if (ret)
		goto out;
	if (pva_ring_from_user(&svc->tx, svc->tx.local + sizeof(hdr),
			       buf + sizeof(hdr), len)) {
		/* nothing published: the partial copy is overwritten later */
		mutex_unlock(&svc->tx_lock);
		ret = -EFAULT;
		goto out;
	}
	pva_ring_copy_in(&svc->tx, svc->tx.local, &hdr, sizeof(hdr));
	pva_svc_tx_commit(svc, rec, len);
	ret = count;
out:
	pva_chan_put(chan, svc, ret);
	return ret;
}

static __poll_t pva_poll(struct file *file, poll_table *wait)
{
	struct pva_channel *chan = file->private_data;
	struct pva_dev *dev = chan->dev;
	struct pva_svc *svc;
	__poll_t mask = 0;

	poll_wait(file, &dev->state_wq, wait);
	poll_wait(file, &dev->poll_wq, wait);
	svc = pva_chan_svc(chan, true);
	if (IS_ERR(svc)) {
		if (PTR_ERR(svc) == -EAGAIN)
			return 0;	/* device down: state_wq wakes us */
		return PTR_ERR(svc) == -ENODEV ? EPOLLHUP | EPOLLERR : EPOLLERR;
	}
	/* Arm the event indexes so the host signals what we wait for. */
	mutex_lock(&svc->rx_lock);
	if (!READ_ONCE(svc->dead) &&
	    (pva_ring_cons_pending(&svc->rx) ||
	     pva_ring_cons_arm(&svc->rx) == PVA_RING_OK))
		mask |= EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&svc->rx_lock);
	mutex_lock(&svc->tx_lock);
	if (!READ_ONCE(svc->dead) &&
	    (pva_ring_prod_space(&svc->tx, svc->tx.size / 2) == PVA_RING_OK ||
	     pva_ring_prod_arm(&svc->tx, svc->tx.size / 2) == PVA_RING_OK))
		mask |= EPOLLOUT | EPOLLWRNORM;
	mutex_unlock(&svc->tx_lock);
	if (READ_ONCE(svc->dead))
		mask |= EPOLLERR;
	kref_put(&svc->ref, pva_svc_release);
	return mask;
}

static long pva_ioctl_bind(struct pva_channel *chan, struct file *file,
			   void __user *arg)
{
	struct pva_bind b;
	long ret;

	if (copy_from_user(&b, arg, sizeof(b)))
		return -EFAULT;
	if ((b.flags & ~PVA_BIND_F_BATCH) || b.reserved ||
	    !memchr(b.name, 0, sizeof(b.name)) ||
	    !b.name[0])
		return -EINVAL;
	mutex_lock(&chan->lock);
	if (chan->name[0])
		ret = -EISCONN;
	else
		ret = pva_chan_attach(chan, b.name,
				      file->f_flags & O_NONBLOCK);
	if (!ret) {
		strscpy(chan->name, b.name, sizeof(chan->name));
		chan->batch = b.flags & PVA_BIND_F_BATCH;
	}
	mutex_unlock(&chan->lock);
	return ret;
}

static long pva_ioctl_info(struct pva_channel *chan, void __user *arg)
{
	struct pva_dev *dev = chan->dev;
	struct pva_info info = { };
	struct pva_svc *svc;

	mutex_lock(&dev->lock);
	info.major = dev->major;
	info.minor = dev->minor;
	info.generation = dev->generation;
	info.features = dev->features;
	info.state = dev->state;
	mutex_unlock(&dev->lock);
	spin_lock(&dev->svc_lock);
	svc = chan->svc;
	if (svc) {
		info.max_payload = svc->tx.max_payload;
		info.tx_size = svc->tx.size;
		info.rx_size = svc->rx.size;
	}
	spin_unlock(&dev->svc_lock);
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long pva_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct pva_channel *chan = file->private_data;

	switch (cmd) {
	case PVA_IOC_BIND:
		return pva_ioctl_bind(chan, file, (void __user *)arg);
	case PVA_IOC_INFO:
		return pva_ioctl_info(chan, (void __user *)arg);
	}
	return -ENOTTY;
}

static const struct file_operations pva_fops = {
	.owner = THIS_MODULE,
	.open = pva_open,
	.release = pva_release,
	.read = pva_read,
	.write = pva_write,
	.poll = pva_poll,
	.unlocked_ioctl = pva_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

int pva_chardev_register(struct pva_dev *dev)
{
	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = dev->misc_name;
	dev->misc.fops = &pva_fops;
	dev->misc.parent = &dev->pdev->dev;
	dev->misc.mode = 0600;
	return misc_register(&dev->misc);
}

void pva_chardev_unregister(struct pva_dev *dev)
{
	misc_deregister(&dev->misc);
}
