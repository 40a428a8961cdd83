// SPDX-License-Identifier: MIT
/*
 * pva.sys private definitions: the WDM driver for the pva device (QEMU's
 * ivshmem-doorbell served by pva-host). The Linux driver in
 * kernel/linux/core/ is the model; protocol/PROTOCOL.md is the contract.
 *
 * Objects:
 *  struct pva_dev   one per device (the FDO's extension): mapped BARs,
 *                   interrupts, negotiation state and the current
 *                   generation's services.
 *  struct pva_svc   one service of the current generation. A reset (new
 *                   generation, corrupt ring, stop) kills all of them and
 *                   negotiation builds new ones. Reference-counted: handles
 *                   and DPCs hold references across a reset.
 *  struct pva_file  one open handle (FILE_OBJECT->FsContext): the bound
 *                   channel name and the cancel-safe queues of its
 *                   pending reads and writes.
 *
 * Locking, outermost first (all spin locks):
 *  dev->lock     the service table, dev->state and the binding between
 *                handles and services (svc->file, file->svc, file->name).
 *  svc->lock     the rings of one service and its dead/broken flags: the
 *                guest is the single producer and single consumer of its
 *                rings because every ring access holds it. svc->file
 *                changes under dev->lock and svc->lock, so holding either
 *                is enough to read it.
 *  queue->lock   one queue of pending IRPs (struct pva_queue): a handle's
 *                reads or writes, or the device's parked I/O.
 * IRPs are completed after all locks are dropped.
 *
 * Contexts: negotiation, teardown, the guest information and the I/O
 * parked during negotiation run in the device's worker thread
 * (PASSIVE_LEVEL, they wait); the rings are served from the interrupt
 * DPC, the heartbeat/poll timer DPC and the read/write dispatch routines,
 * under svc->lock.
 */
#ifndef PVA_DRV_H
#define PVA_DRV_H

#include <stdarg.h>
#include <ntifs.h>		/* ntddk.h, and the Se/Io calls of a bind's access check */

#include "pva_ring.h"
#include "pva_win.h"

#ifndef PVA_DRIVER_VERSION
#define PVA_DRIVER_VERSION	"0.0.0"
#endif

#define PVA_POOL_TAG		0x70617650u	/* "Pvap" in pool dumps */

/* ivshmem BAR0 registers (QEMU docs/specs/ivshmem-spec.rst) */
#define PVA_REG_INTR_STATUS	4	/* INTx only: read-to-clear */
#define PVA_REG_IVPOSITION	8
#define PVA_REG_DOORBELL	12
#define PVA_BAR0_MIN		16

#define PVA_NEGOTIATE_TIMEOUT_MS 5000	/* PROTOCOL.md 3, step 4 */
#define PVA_HEARTBEAT_MS	1000	/* generation check with interrupts */
#define PVA_POLL_MS		5	/* polling mode: rings and header */
#define PVA_WAIT_SLICE_MS	10	/* negotiation re-checks at least this often */
#define PVA_MAGIC_WAIT_MS	2000	/* a zero magic may be a host starting */
#define PVA_MAX_INSTANCES	32

/* dev->work: what the worker thread has to do */
#define PVA_WORK_RESET		0x1	/* (re)negotiate */
#define PVA_WORK_FAIL		0x2	/* a ring went bad: stop, report */

/* 100 ns units: relative timeouts (negative) for KeWaitForSingleObject
 * & co., and durations in KeQueryInterruptTime() units.
 */
#define PVA_MS(ms)		((LONGLONG)(ms) * -10000)
#define PVA_TICKS(ms)		((ULONGLONG)(ms) * 10000)

struct pva_dev;
struct pva_file;

struct pva_svc {
	struct pva_dev *dev;
	volatile LONG ref;
	char name[PVA_SVC_NAME_LEN];
	__u16 type, id, version, vector;
	__u64 features;
	struct pva_ring tx;		/* guest -> host: we produce */
	struct pva_ring rx;		/* host -> guest: we consume */

	KSPIN_LOCK lock;
	BOOLEAN dead;			/* torn down: no ring access */
	BOOLEAN broken;			/* corrupt ring seen: hands off until
					 * the worker tears it down
					 */
	struct pva_file *file;		/* bound handle (channels) */
	__u64 tx_msgs, rx_msgs, tx_full;
};

/*
 * One cancel-safe queue of pending IRPs of a handle (reads, or writes).
 * Every IRP on the list has pva_cancel_irp() as its cancel routine and
 * the queue in Tail.Overlay.DriverContext[0]; whoever takes an IRP off
 * the list clears the cancel routine first, and leaves it to the cancel
 * routine when that lost the race. (Hand-made rather than IO_CSQ: wine
 * does not implement IoCsqInsertIrp & co., and the test build must run
 * the same code as the real driver.)
 */
struct pva_queue {
	KSPIN_LOCK lock;
	LIST_ENTRY list;		/* IRPs, via Tail.Overlay.ListEntry */
	volatile LONG count;		/* IRPs on the list */
	struct pva_dev *dev;
};

/*
 * pva_queue_next() context for a write queue: the oldest write is taken
 * only if its record fits the ring (messages keep their order).
 */
struct pva_tx_peek {
	struct pva_ring *ring;
	BOOLEAN any;			/* a write is waiting */
	__u32 rec;			/* its record size */
	int result;			/* PVA_RING_* for it */
};

struct pva_file {
	struct pva_dev *dev;
	char name[PVA_SVC_NAME_LEN];	/* bound channel, "" if unbound */
	struct pva_svc *svc;		/* with a reference; may be dead until
					 * the reset was reported
					 */
	volatile LONG reset_pending;	/* report STATUS_CONNECTION_RESET once */
	BOOLEAN closed;			/* cleanup ran: take no new I/O */
	struct pva_queue reads, writes;
};

struct pva_dev {
	PDEVICE_OBJECT self;		/* our FDO (or legacy device) */
	PDEVICE_OBJECT lower;		/* next device down the PnP stack */
	PDEVICE_OBJECT pdo;
	IO_REMOVE_LOCK remove_lock;
	int instance;
	WCHAR nt_name_buf[32], dos_name_buf[32];
	UNICODE_STRING nt_name, dos_name;
	BOOLEAN link_created;
	UNICODE_STRING ifname;		/* device interface, if registered */
	BOOLEAN shutdown_registered;

	/* hardware */
	volatile UCHAR *regs;		/* BAR0 */
	SIZE_T regs_len;
	UCHAR *shm;			/* BAR2 */
	__u64 shm_size;
	PHYSICAL_ADDRESS shm_phys;
	struct pva_header *hdr;
	BOOLEAN started;		/* pva_dev_start() ran */
	volatile LONG gone;		/* surprise removal: hardware is gone */

	/* interrupts */
	PVOID intr_ctx;			/* IoConnectInterruptEx connection */
	ULONG intr_version;		/* CONNECT_MESSAGE_BASED/LINE_BASED, 0 */
	unsigned int nvec;		/* vectors set up; 0: polling */
	BOOLEAN force_poll;		/* registry Parameters\ForcePoll */
	volatile LONG64 pending_vectors;	/* ISR -> DPC */
	KDPC dpc;
	KTIMER timer;			/* heartbeat, or the polling clock */
	KDPC timer_dpc;

	/* state, under lock */
	KSPIN_LOCK lock;
	volatile __u32 state;		/* PVA_WIN_STATE_* */
	volatile __u32 generation;	/* negotiated with, or failed on */
	__u16 major, minor;
	__u64 features;
	volatile __u32 fail_reason;	/* PVA_GERR_* when FAILED */
	volatile LONGLONG failed_at;	/* KeQueryInterruptTime() */
	unsigned int active_nvec;	/* after negotiation */
	struct pva_svc *svc[PVA_MAX_SERVICES];
	unsigned int nr_svc;
	volatile LONG ring_error;	/* FAIL (or RESET) already queued */
	__u64 resets;
	struct pva_queue parked;	/* reads and writes of bound handles,
					 * waiting while the device negotiates
					 */

	/* the worker thread */
	HANDLE worker;
	KEVENT work_event;		/* synchronization: dev->work changed */
	volatile LONG work;		/* PVA_WORK_* */
	KEVENT cfg_event;		/* synchronization: vector 0 signalled */
	volatile LONG stopping;

#ifdef PVA_WINE_TEST
	struct pva_fake_host *fake;	/* the built-in loopback host */
#endif
};

/* ntifs.h has it; ntddk.h does not */
NTSYSAPI NTSTATUS NTAPI ZwWaitForSingleObject(HANDLE handle, BOOLEAN alertable,
					      PLARGE_INTEGER timeout);

/* Loads and stores of header fields the other side reads or writes. */
static inline __u32 pva_shm_load(const __le32 *p)
{
	/* acquire: what the host wrote before its release is visible */
	return pva_le32(pva_load_acquire(p));
}

static inline void pva_shm_store(__le32 *p, __u32 v)
{
	/* release: what we wrote before is visible to the host first */
	pva_store_release(p, pva_cpu32(v));
}

void pva_log(ULONG level, const char *fmt, ...)
	__attribute__((format(ms_printf, 2, 3)));
#define pva_err(dev, fmt, ...) \
	pva_log(DPFLTR_ERROR_LEVEL, "pva%d: " fmt "\n", (dev)->instance, ##__VA_ARGS__)
#define pva_warn(dev, fmt, ...) \
	pva_log(DPFLTR_WARNING_LEVEL, "pva%d: " fmt "\n", (dev)->instance, ##__VA_ARGS__)
#define pva_info(dev, fmt, ...) \
	pva_log(DPFLTR_INFO_LEVEL, "pva%d: " fmt "\n", (dev)->instance, ##__VA_ARGS__)

/* driver.c */
extern PDRIVER_OBJECT pva_driver;
NTSTATUS pva_create_device(PDRIVER_OBJECT drv, struct pva_dev **out);
void pva_delete_device(struct pva_dev *dev);
void pva_complete(struct pva_dev *dev, PIRP irp, NTSTATUS status,
		  ULONG_PTR info);
void pva_complete_list(struct pva_dev *dev, PLIST_ENTRY list,
		       NTSTATUS status);
BOOLEAN pva_read_force_poll(PUNICODE_STRING registry_path);
extern BOOLEAN pva_param_force_poll;

/* pnp.c (not in the test build) */
NTSTATUS pva_add_device(PDRIVER_OBJECT drv, PDEVICE_OBJECT pdo);
NTSTATUS pva_dispatch_pnp(PDEVICE_OBJECT devobj, PIRP irp);
NTSTATUS pva_dispatch_power(PDEVICE_OBJECT devobj, PIRP irp);
NTSTATUS pva_dispatch_system_control(PDEVICE_OBJECT devobj, PIRP irp);
NTSTATUS pva_dispatch_shutdown(PDEVICE_OBJECT devobj, PIRP irp);

/* intr.c */
void pva_doorbell(struct pva_dev *dev, __u16 vector);
NTSTATUS pva_intr_connect(struct pva_dev *dev);
void pva_intr_disconnect(struct pva_dev *dev);
void pva_timer_start(struct pva_dev *dev);
void pva_timer_stop(struct pva_dev *dev);
KDEFERRED_ROUTINE pva_dpc;

/* device.c */
NTSTATUS pva_dev_start(struct pva_dev *dev);
void pva_dev_stop(struct pva_dev *dev);
void pva_check_config(struct pva_dev *dev);
void pva_ring_error(struct pva_svc *svc, const char *what);
void pva_queue_work(struct pva_dev *dev, LONG what);
BOOLEAN pva_check_magic(struct pva_dev *dev);

/* ring.c */
void pva_svc_get(struct pva_svc *svc);
void pva_svc_put(struct pva_svc *svc);
void pva_svc_process(struct pva_svc *svc, PLIST_ENTRY done);
void pva_process_vectors(struct pva_dev *dev, __u64 mask);
int pva_svc_send_locked(struct pva_svc *svc, __u16 type, __u16 flags,
			__u32 req_id, __u32 status, const void *payload,
			__u32 len);
void pva_svc_rx_locked(struct pva_svc *svc, struct pva_file *file,
		       PLIST_ENTRY done);
void pva_svc_tx_locked(struct pva_svc *svc, struct pva_file *file,
		       PLIST_ENTRY done);

/* ioctl.c */
NTSTATUS pva_dispatch_create(PDEVICE_OBJECT devobj, PIRP irp);
NTSTATUS pva_dispatch_cleanup(PDEVICE_OBJECT devobj, PIRP irp);
NTSTATUS pva_dispatch_close(PDEVICE_OBJECT devobj, PIRP irp);
NTSTATUS pva_dispatch_read(PDEVICE_OBJECT devobj, PIRP irp);
NTSTATUS pva_dispatch_write(PDEVICE_OBJECT devobj, PIRP irp);
NTSTATUS pva_dispatch_ioctl(PDEVICE_OBJECT devobj, PIRP irp);
void pva_svc_drain_file(struct pva_svc *svc, struct pva_file *file,
			PLIST_ENTRY done);
PIRP pva_queue_next(struct pva_queue *q, struct pva_tx_peek *pk);
void pva_queue_init(struct pva_queue *q, struct pva_dev *dev);
void pva_unpark(struct pva_dev *dev);

#ifdef PVA_WINE_TEST
/* wine_test.c */
struct pva_fake_host;
NTSTATUS pva_test_create(PDRIVER_OBJECT drv);
void pva_test_destroy(PDRIVER_OBJECT drv);
void pva_fake_doorbell(struct pva_fake_host *fake, __u16 vector);
void pva_signal_vector(struct pva_dev *dev, unsigned int vector);	/* intr.c */
NTSTATUS pva_fake_ioctl(struct pva_dev *dev, struct pva_win_test_host *cmd);
#endif

#endif /* PVA_DRV_H */
