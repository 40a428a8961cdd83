/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pva_core private definitions.
 *
 * Lifetimes: a struct pva_dev lives from probe to remove. A struct pva_svc
 * lives for one negotiated generation: reset tears all of them down and
 * negotiation builds new ones. Users that outlive a generation (auxiliary
 * devices via struct pva_client, /dev/pva files via struct pva_channel)
 * find their service again by name.
 *
 * Locking:
 *  - pva_dev.lock (mutex) serialises state changes: negotiation, teardown,
 *    binding. Never taken from a service's rx work or an interrupt.
 *  - pva_dev.table is RCU-protected for the interrupt handler.
 *  - pva_dev.svc_lock (spinlock) protects pva_client.svc and
 *    pva_channel.svc pointer changes; users take a reference on the
 *    service under it.
 *  - pva_svc.tx_lock / rx_lock (mutexes) make the guest the single producer
 *    and single consumer of its rings; teardown takes both before it marks
 *    the service dead, so no ring access follows.
 */
#ifndef PVA_CORE_H
#define PVA_CORE_H

#include <linux/auxiliary_bus.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "pva.h"
#include "pva_compat.h"
#include "pva_ring.h"
#include "uapi/pva.h"

/* ivshmem BAR0 registers */
#define PVA_REG_IVPOSITION	8
#define PVA_REG_DOORBELL	12

#define PVA_NEGOTIATE_TIMEOUT	(5 * HZ)
#define PVA_HEARTBEAT		HZ	/* generation check */
#define PVA_POLL_INTERVAL	1	/* jiffies, in polling mode */
#define PVA_BIND_TIMEOUT	(10 * HZ)

struct pva_dev;

/* A pending pva_call(). */
struct pva_call_slot {
	struct list_head node;
	u32 req_id;
	u16 type;
	bool done;
	int status;			/* -errno */
	void *resp;
	u32 resp_max, resp_len;
};

struct pva_svc_stats {
	u64 tx_msgs, tx_bytes, rx_msgs, rx_bytes;
	u64 tx_full;			/* sends that found the ring full */
};

/* One service of the current generation. */
struct pva_svc {
	struct pva_dev *dev;
	struct kref ref;
	char name[PVA_SVC_NAME_LEN];
	u16 type, id, version, vector;
	u64 features;
	struct pva_ring tx;		/* guest -> host: we produce */
	struct pva_ring rx;		/* host -> guest: we consume */
	void *data;
	u64 data_size;
	phys_addr_t data_phys;

	struct mutex tx_lock;
	struct mutex rx_lock;
	wait_queue_head_t wq;		/* rx data, tx space, death */
	bool dead;			/* torn down: no ring access */

	struct pva_client *client;	/* kernel user, or NULL */
	struct pva_channel *chan;	/* /dev/pva user, or NULL */
	struct work_struct rx_work;	/* drains rx for a kernel user */
	void *rx_buf;			/* its copy of one payload */

	spinlock_t calls_lock;
	struct list_head calls;		/* struct pva_call_slot */
	u32 next_req_id;
	struct pva_svc_stats stats;
};

/* The current generation's services, for the interrupt handler. */
struct pva_table {
	struct rcu_head rcu;
	unsigned int nr;
	struct pva_svc *svc[];
};

/* A kernel user of a service: control, or an auxiliary device. */
struct pva_client {
	struct pva_dev *dev;
	char name[PVA_SVC_NAME_LEN];
	u16 type;
	const struct pva_client_ops *ops;	/* NULL while disabled */
	void *priv;
	struct pva_svc *svc;		/* under dev->svc_lock; NULL if down */
	bool is_up;			/* ops->up() called, no down() since */
	struct mutex cb_lock;		/* orders enable/disable/up/down */
	/* auxiliary device users only */
	struct auxiliary_device adev;
	bool adev_added;
	struct list_head node;		/* dev->clients */
};

/* A /dev/pva file. */
struct pva_channel {
	struct pva_dev *dev;
	struct mutex lock;		/* bind */
	char name[PVA_NAME_LEN];	/* bound name, "" if unbound */
	struct pva_svc *svc;		/* under dev->svc_lock */
	bool batch;			/* PVA_BIND_F_BATCH */
};

struct pva_vec {
	struct pva_dev *dev;
	unsigned int index;
};

struct pva_dev {
	struct pci_dev *pdev;
	struct kref ref;		/* probe + open files */
	void __iomem *regs;		/* BAR0 */
	u8 *shm;			/* BAR2, write-back mapping */
	u64 shm_size;
	phys_addr_t shm_phys;
	struct pva_header *hdr;
	int instance;

	unsigned int nvec;		/* MSI-X vectors set up, 0: polling */
	struct pva_vec vecs[PVA_MAX_VECTORS];
	unsigned int active_nvec;	/* after negotiation */

	struct mutex lock;
	u32 state;			/* PVA_STATE_* */
	bool removing;
	u32 generation;			/* the one we negotiated / failed on */
	u16 major, minor;
	u64 features;
	u32 fail_reason;		/* PVA_GERR_* when FAILED */
	unsigned long failed_at;	/* jiffies */

	struct pva_table __rcu *table;
	spinlock_t svc_lock;
	struct list_head clients;	/* struct pva_client with adev */
	struct mutex aux_lock;		/* adds/removes auxiliary devices */
	struct pva_client control;

	struct workqueue_struct *wq;
	struct work_struct reset_work;
	struct work_struct fail_work;
	struct delayed_work heartbeat;
	atomic_t ring_error;		/* fail_work queued */
	wait_queue_head_t cfg_wq;	/* vector 0: negotiation answers */
	wait_queue_head_t state_wq;	/* state changes */
	/*
	 * /dev/pva files poll here, not on their service's wq: a service is
	 * replaced at every reset, and epoll registers a file's wait queues
	 * only once, when the file is added.
	 */
	wait_queue_head_t poll_wq;

	struct miscdevice misc;
	char misc_name[16];
	u64 resets;
};

/*
 * Header fields shared with the host. Acquire on load: what the host wrote
 * before its release of this field is visible after it. Release on store:
 * what we wrote before is visible to the host once it sees the new value.
 */
static inline u32 pva_shm_load(const __le32 *p)
{
	/* acquire; pairs with the host's pva_store_release() */
	return le32_to_cpu(virt_load_acquire(p));
}

static inline void pva_shm_store(__le32 *p, u32 v)
{
	/* release; pairs with the host's pva_load_acquire() */
	virt_store_release(p, cpu_to_le32(v));
}

/*
 * Objects pva_core allocates (devices, services, tables, clients, files)
 * and has not freed yet; must be 0 when the module goes, or they leaked.
 */
extern atomic_t pva_live_objects;

static inline void pva_obj_new(void)
{
	atomic_inc(&pva_live_objects);
}

static inline void pva_obj_gone(void)
{
	atomic_dec(&pva_live_objects);
}

/* pci.c */
void pva_doorbell(struct pva_dev *dev, u16 vector);
void pva_dev_put(struct pva_dev *dev);

/* device.c */
int pva_dev_start(struct pva_dev *dev);
void pva_dev_stop(struct pva_dev *dev);
void pva_dev_check_config(struct pva_dev *dev);
void pva_ring_error(struct pva_svc *svc, const char *what);
bool pva_header_valid(struct pva_dev *dev);

/* queue.c */
void pva_svc_kick(struct pva_svc *svc);
void pva_svc_release(struct kref *ref);
void pva_svc_kill(struct pva_svc *svc);
/* How a sender waits for ring space (chardev passes a bool: 0 or 1). */
enum pva_wait {
	PVA_NOWAIT = 0,
	PVA_WAIT = 1,		/* interruptible */
	PVA_WAIT_UNINTR = 2,	/* not cut short by signals, bounded */
};

int pva_svc_tx_begin(struct pva_svc *svc, u32 rec, enum pva_wait wait);
void pva_svc_tx_commit(struct pva_svc *svc, u32 rec, u32 len);
void pva_svc_tx_commit_batch(struct pva_svc *svc, u32 bytes, u32 msgs,
			     u32 payload);
int pva_svc_rx_begin(struct pva_svc *svc, struct pva_msg_hdr *hdr, bool wait);
void pva_svc_rx_commit(struct pva_svc *svc, const struct pva_msg_hdr *hdr);
void pva_svc_rx_commit_batch(struct pva_svc *svc, u32 bytes, u32 msgs,
			     u32 payload);
void pva_svc_rx_abort(struct pva_svc *svc);
int pva_svc_send(struct pva_svc *svc, const struct pva_msg_hdr *hdr,
		 const void *payload, enum pva_wait wait);
void pva_svc_rx_work(struct work_struct *work);
struct pva_svc *pva_client_get_svc(struct pva_client *c);

/* bus.c */
void pva_clients_up(struct pva_dev *dev);
void pva_clients_down(struct pva_dev *dev);
void pva_aux_sync(struct pva_dev *dev);
void pva_aux_remove_all(struct pva_dev *dev);

/* control.c */
extern const struct pva_client_ops pva_control_ops;

/* chardev.c */
int pva_chardev_register(struct pva_dev *dev);
void pva_chardev_unregister(struct pva_dev *dev);
void pva_channel_svc_gone(struct pva_svc *svc);

/* sysfs.c */
extern const struct attribute_group *pva_dev_groups[];

#endif /* PVA_CORE_H */
