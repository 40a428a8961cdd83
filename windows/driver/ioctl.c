// SPDX-License-Identifier: MIT
/*
 * The user-mode interface (windows/include/pva_win.h), the counterpart of
 * Linux's /dev/pva (kernel/linux/core/chardev.c): open/cleanup/close,
 * IOCTL_PVA_BIND and IOCTL_PVA_INFO, one message per ReadFile/WriteFile.
 * Pending reads and writes wait in per-handle cancel-safe queues;
 * ring.c completes them from the DPC as the host produces and consumes.
 */
#include "pva_drv.h"

static struct pva_dev *pva_devobj_dev(PDEVICE_OBJECT devobj)
{
	return devobj->DeviceExtension;
}

static struct pva_file *pva_irp_file(PIRP irp)
{
	PFILE_OBJECT fo = IoGetCurrentIrpStackLocation(irp)->FileObject;

	return fo ? fo->FsContext : NULL;
}

/* ---- the cancel-safe queues ---- */

/*
 * The I/O manager cancels a queued IRP. Every IRP on a queue has this
 * routine set; the queue lock orders us after a concurrent
 * pva_queue_insert(), so the IRP is on the list by the time we look.
 */
static VOID NTAPI pva_cancel_irp(PDEVICE_OBJECT devobj, PIRP irp)
{
	struct pva_queue *q = irp->Tail.Overlay.DriverContext[0];
	KIRQL irql;

	UNREFERENCED_PARAMETER(devobj);
	IoReleaseCancelSpinLock(irp->CancelIrql);
	KeAcquireSpinLock(&q->lock, &irql);
	RemoveEntryList(&irp->Tail.Overlay.ListEntry);
	q->count--;
	KeReleaseSpinLock(&q->lock, irql);
	pva_complete(q->dev, irp, STATUS_CANCELLED, 0);
}

void pva_queue_init(struct pva_queue *q, struct pva_dev *dev)
{
	KeInitializeSpinLock(&q->lock);
	InitializeListHead(&q->list);
	q->count = 0;
	q->dev = dev;
}

/*
 * Queue @irp (it is marked pending). FALSE if it was cancelled before it
 * could be queued: the caller completes it with STATUS_CANCELLED.
 */
static BOOLEAN pva_queue_insert(struct pva_queue *q, PIRP irp)
{
	KIRQL irql;

	irp->Tail.Overlay.DriverContext[0] = q;
	KeAcquireSpinLock(&q->lock, &irql);
	IoSetCancelRoutine(irp, pva_cancel_irp);
	/* cancelled meanwhile, and the cancel routine will not run: not queued */
	if (irp->Cancel && IoSetCancelRoutine(irp, NULL)) {
		KeReleaseSpinLock(&q->lock, irql);
		return FALSE;
	}
	/* (cancelled, but the routine runs: it waits for the lock, finds it) */
	IoMarkIrpPending(irp);
	InsertTailList(&q->list, &irp->Tail.Overlay.ListEntry);
	q->count++;
	KeReleaseSpinLock(&q->lock, irql);
	return TRUE;
}

/* Does the oldest write fit the ring? (@pk: see struct pva_tx_peek) */
static BOOLEAN pva_write_fits(PIRP irp, struct pva_tx_peek *pk)
{
	ULONG count = IoGetCurrentIrpStackLocation(irp)->Parameters.Write.Length;

	pk->any = TRUE;
	pk->rec = pva_msg_record_size(count - (ULONG)sizeof(struct pva_msg_hdr));
	pk->result = pva_ring_prod_space(pk->ring, pk->rec);
	return pk->result == PVA_RING_OK;
}

/*
 * Take the oldest IRP off @q, NULL if none. With @pk (writes), only if it
 * fits the ring: a later write never overtakes an earlier one. IRPs being
 * cancelled are skipped: their cancel routine takes them off.
 */
PIRP pva_queue_next(struct pva_queue *q, struct pva_tx_peek *pk)
{
	PLIST_ENTRY e;
	PIRP irp = NULL;
	KIRQL irql;

	KeAcquireSpinLock(&q->lock, &irql);
	for (e = q->list.Flink; e != &q->list; e = e->Flink) {
		PIRP cand = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);

		if (!cand->CancelRoutine)
			continue;	/* being cancelled */
		if (pk && !pva_write_fits(cand, pk))
			break;
		if (!IoSetCancelRoutine(cand, NULL))
			continue;	/* lost the race with the cancel */
		RemoveEntryList(e);
		q->count--;
		irp = cand;
		break;
	}
	KeReleaseSpinLock(&q->lock, irql);
	return irp;
}

/* Take the IRPs of handle @file off @q (the device's parked I/O) to @done. */
static void pva_queue_take_file(struct pva_queue *q, struct pva_file *file,
				PLIST_ENTRY done)
{
	PLIST_ENTRY e, next;
	KIRQL irql;

	KeAcquireSpinLock(&q->lock, &irql);
	for (e = q->list.Flink; e != &q->list; e = next) {
		PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);

		next = e->Flink;
		if (IoGetCurrentIrpStackLocation(irp)->FileObject->FsContext != file ||
		    !IoSetCancelRoutine(irp, NULL))
			continue;	/* another handle's, or being cancelled */
		RemoveEntryList(e);
		q->count--;
		InsertTailList(done, e);
	}
	KeReleaseSpinLock(&q->lock, irql);
}

/* Move every pending IRP of @q to @done; returns how many. */
static unsigned int pva_queue_drain(struct pva_queue *q, PLIST_ENTRY done)
{
	unsigned int n = 0;
	PIRP irp;

	while ((irp = pva_queue_next(q, NULL))) {
		InsertTailList(done, &irp->Tail.Overlay.ListEntry);
		n++;
	}
	return n;
}

/*
 * Teardown (device.c): @svc dies under svc->lock. The handle's pending
 * I/O fails with STATUS_CONNECTION_RESET; if there was none, its next
 * read or write reports the reset instead, once.
 */
void pva_svc_drain_file(struct pva_svc *svc, struct pva_file *file,
			PLIST_ENTRY done)
{
	unsigned int n;

	UNREFERENCED_PARAMETER(svc);
	n = pva_queue_drain(&file->reads, done);
	n += pva_queue_drain(&file->writes, done);
	InterlockedExchange(&file->reset_pending, n == 0);
}

/* ---- binding ---- */

/* Bind @file to the channel @name of the running generation; dev->lock held. */
static NTSTATUS pva_attach_locked(struct pva_dev *dev, struct pva_file *file,
				  const char *name)
{
	struct pva_svc *svc = NULL;
	NTSTATUS status;
	unsigned int i;
	KIRQL irql;

	if (dev->gone)
		return STATUS_DEVICE_REMOVED;
	if (dev->state != PVA_WIN_STATE_RUNNING)
		return STATUS_DEVICE_NOT_CONNECTED;
	for (i = 0; i < dev->nr_svc; i++) {
		if (dev->svc[i]->type == PVA_SVC_CHANNEL &&
		    !strncmp(dev->svc[i]->name, name, PVA_SVC_NAME_LEN)) {
			svc = dev->svc[i];
			break;
		}
	}
	if (!svc)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	KeAcquireSpinLock(&svc->lock, &irql);
	if (svc->file) {
		status = STATUS_SHARING_VIOLATION;	/* bound by another handle */
	} else {
		svc->file = file;
		status = STATUS_SUCCESS;
	}
	KeReleaseSpinLock(&svc->lock, irql);
	if (NT_SUCCESS(status)) {
		pva_svc_get(svc);	/* file->svc's reference */
		file->svc = svc;
	}
	return status;
}

/*
 * The handle's live service, with a reference for the caller. A service
 * killed by a reset is reported once as STATUS_CONNECTION_RESET (unless
 * the I/O pending at the reset reported it); after that the handle binds
 * to the channel of the same name in the new generation. While the device
 * negotiates, @irp (if any) is parked on dev->parked instead: then
 * STATUS_PENDING, and pva_unpark() carries on with it.
 */
static NTSTATUS pva_file_svc(struct pva_file *file, struct pva_svc **out,
			     PIRP irp)
{
	struct pva_dev *dev = file->dev;
	struct pva_svc *svc, *dead = NULL;
	NTSTATUS status;
	KIRQL irql;

	KeAcquireSpinLock(&dev->lock, &irql);
	if (file->closed) {
		status = STATUS_CANCELLED;
		goto out;
	}
	svc = file->svc;
	if (svc && !svc->dead) {
		pva_svc_get(svc);
		*out = svc;
		status = STATUS_SUCCESS;
		goto out;
	}
	if (svc) {
		dead = svc;
		file->svc = NULL;
		if (InterlockedExchange(&file->reset_pending, 0)) {
			status = STATUS_CONNECTION_RESET;
			goto out;
		}
	}
	if (!file->name[0]) {
		status = STATUS_INVALID_DEVICE_STATE;	/* not bound */
		goto out;
	}
	if (irp && dev->state == PVA_WIN_STATE_NEGOTIATING && !dev->gone) {
		/* like a blocking read on Linux: wait for the device */
		status = pva_queue_insert(&dev->parked, irp) ? STATUS_PENDING :
			 STATUS_CANCELLED;
		goto out;
	}
	status = pva_attach_locked(dev, file, file->name);
	if (NT_SUCCESS(status)) {
		pva_svc_get(file->svc);
		*out = file->svc;
	}
out:
	KeReleaseSpinLock(&dev->lock, irql);
	if (dead)
		pva_svc_put(dead);
	return status;
}

/* Unbind and fail the pending I/O: cleanup, close. Idempotent. */
static void pva_file_shutdown(struct pva_file *file)
{
	struct pva_dev *dev = file->dev;
	struct pva_svc *svc;
	LIST_ENTRY done;
	KIRQL irql, sirql;

	InitializeListHead(&done);
	KeAcquireSpinLock(&dev->lock, &irql);
	file->closed = TRUE;
	svc = file->svc;
	file->svc = NULL;
	if (svc) {
		KeAcquireSpinLock(&svc->lock, &sirql);
		if (svc->file == file)
			svc->file = NULL;
		KeReleaseSpinLock(&svc->lock, sirql);
	}
	KeReleaseSpinLock(&dev->lock, irql);
	/* no DPC sees the handle any more: its queues are ours */
	pva_queue_drain(&file->reads, &done);
	pva_queue_drain(&file->writes, &done);
	pva_queue_take_file(&dev->parked, file, &done);
	pva_complete_list(dev, &done, STATUS_CANCELLED);
	if (svc)
		pva_svc_put(svc);
}

/* ---- open, cleanup, close ---- */

NTSTATUS pva_dispatch_create(PDEVICE_OBJECT devobj, PIRP irp)
{
	struct pva_dev *dev = pva_devobj_dev(devobj);
	PFILE_OBJECT fo = IoGetCurrentIrpStackLocation(irp)->FileObject;
	struct pva_file *file;
	NTSTATUS status;

	status = IoAcquireRemoveLock(&dev->remove_lock, irp);
	if (!NT_SUCCESS(status)) {
		irp->IoStatus.Status = status;
		irp->IoStatus.Information = 0;
		IoCompleteRequest(irp, IO_NO_INCREMENT);
		return status;
	}
	if (dev->gone) {
		status = STATUS_DEVICE_REMOVED;
	} else if (!fo) {
		status = STATUS_INVALID_PARAMETER;
	} else if (fo->FileName.Length) {
		status = STATUS_OBJECT_PATH_NOT_FOUND;	/* \\.\PvaDevice\x */
	} else {
		file = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*file),
					     PVA_POOL_TAG);
		if (!file) {
			status = STATUS_INSUFFICIENT_RESOURCES;
		} else {
			RtlZeroMemory(file, sizeof(*file));
			file->dev = dev;
			pva_queue_init(&file->reads, dev);
			pva_queue_init(&file->writes, dev);
			fo->FsContext = file;
			status = STATUS_SUCCESS;
		}
	}
	pva_complete(dev, irp, status, 0);
	return status;
}

/*
 * The last handle to the file object was closed. (Wine sends no
 * IRP_MJ_CLEANUP: close does the same work again.) No remove lock: these
 * must work on a removed device whose handles are still open.
 */
NTSTATUS pva_dispatch_cleanup(PDEVICE_OBJECT devobj, PIRP irp)
{
	struct pva_file *file = pva_irp_file(irp);

	UNREFERENCED_PARAMETER(devobj);
	if (file)
		pva_file_shutdown(file);
	irp->IoStatus.Status = STATUS_SUCCESS;
	irp->IoStatus.Information = 0;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	return STATUS_SUCCESS;
}

NTSTATUS pva_dispatch_close(PDEVICE_OBJECT devobj, PIRP irp)
{
	PFILE_OBJECT fo = IoGetCurrentIrpStackLocation(irp)->FileObject;
	struct pva_file *file = fo ? fo->FsContext : NULL;

	UNREFERENCED_PARAMETER(devobj);
	if (file) {
		pva_file_shutdown(file);
		fo->FsContext = NULL;
		ExFreePoolWithTag(file, PVA_POOL_TAG);
	}
	irp->IoStatus.Status = STATUS_SUCCESS;
	irp->IoStatus.Information = 0;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	return STATUS_SUCCESS;
}

/* ---- read and write ---- */

/* A header user mode may send: known flags, reserved fields zero. */
static BOOLEAN pva_user_hdr_ok(const struct pva_msg_hdr *hdr)
{
	__u16 flags = pva_le16(hdr->flags);

	return !hdr->reserved0 && !hdr->reserved1 &&
	       !(flags & ~PVA_MSG_F_KNOWN) && flags != PVA_MSG_F_KNOWN;
}

/*
 * Queue @irp on the handle's reads or writes and serve the ring at once;
 * whatever cannot be done now completes later from the DPC.
 */
static NTSTATUS pva_queue_io(struct pva_file *file, struct pva_svc *svc,
			     PIRP irp, BOOLEAN is_write)
{
	struct pva_dev *dev = file->dev;
	NTSTATUS status = STATUS_PENDING;
	LIST_ENTRY done;
	KIRQL irql;

	InitializeListHead(&done);
	KeAcquireSpinLock(&svc->lock, &irql);
	if (svc->dead) {
		/* reset since pva_file_svc(): this IRP reports it */
		InterlockedExchange(&file->reset_pending, 0);
		status = STATUS_CONNECTION_RESET;
	} else if (svc->file != file) {
		status = STATUS_CANCELLED;	/* closing */
	} else if (!pva_queue_insert(is_write ? &file->writes : &file->reads,
				     irp)) {
		status = STATUS_CANCELLED;
	} else if (svc->broken) {
		/* waits for the teardown, which fails it */
	} else if (is_write) {
		pva_svc_tx_locked(svc, file, &done);
	} else {
		pva_svc_rx_locked(svc, file, &done);
	}
	KeReleaseSpinLock(&svc->lock, irql);
	pva_complete_list(dev, &done, STATUS_SUCCESS);
	if (status != STATUS_PENDING)
		pva_complete(dev, irp, status, 0);
	/* a queued IRP was marked pending by pva_queue_insert() */
	return status;
}

/*
 * Carry on with a checked read or write of @file: queue it on the bound
 * channel, park it while the device negotiates, or fail it.
 */
static NTSTATUS pva_start_io(struct pva_file *file, PIRP irp, BOOLEAN is_write)
{
	struct pva_dev *dev = file->dev;
	struct pva_svc *svc;
	NTSTATUS status;

	status = pva_file_svc(file, &svc, irp);
	if (status == STATUS_PENDING)
		return status;		/* parked */
	if (!NT_SUCCESS(status)) {
		pva_complete(dev, irp, status, 0);
		return status;
	}
	if (is_write && IoGetCurrentIrpStackLocation(irp)->Parameters.Write.Length -
	    sizeof(struct pva_msg_hdr) > svc->tx.max_payload) {
		pva_svc_put(svc);
		pva_complete(dev, irp, STATUS_INVALID_BUFFER_SIZE, 0);
		return STATUS_INVALID_BUFFER_SIZE;
	}
	status = pva_queue_io(file, svc, irp, is_write);
	pva_svc_put(svc);
	return status;
}

/*
 * The device left NEGOTIATING (worker thread, or stop): the parked I/O
 * goes on, which queues it on the new generation's channels or fails it.
 */
void pva_unpark(struct pva_dev *dev)
{
	LIST_ENTRY list;
	PIRP irp;

	InitializeListHead(&list);
	pva_queue_drain(&dev->parked, &list);
	while (!IsListEmpty(&list)) {
		PLIST_ENTRY e = RemoveHeadList(&list);
		PIO_STACK_LOCATION stack;

		irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
		stack = IoGetCurrentIrpStackLocation(irp);
		pva_start_io(stack->FileObject->FsContext, irp,
			     stack->MajorFunction == IRP_MJ_WRITE);
	}
}

NTSTATUS pva_dispatch_read(PDEVICE_OBJECT devobj, PIRP irp)
{
	struct pva_dev *dev = pva_devobj_dev(devobj);
	struct pva_file *file = pva_irp_file(irp);
	NTSTATUS status;

	status = IoAcquireRemoveLock(&dev->remove_lock, irp);
	if (!NT_SUCCESS(status)) {
		irp->IoStatus.Status = status;
		irp->IoStatus.Information = 0;
		IoCompleteRequest(irp, IO_NO_INCREMENT);
		return status;
	}
	if (!file) {
		pva_complete(dev, irp, STATUS_INVALID_DEVICE_REQUEST, 0);
		return STATUS_INVALID_DEVICE_REQUEST;
	}
	return pva_start_io(file, irp, FALSE);
}

NTSTATUS pva_dispatch_write(PDEVICE_OBJECT devobj, PIRP irp)
{
	struct pva_dev *dev = pva_devobj_dev(devobj);
	struct pva_file *file = pva_irp_file(irp);
	ULONG count = IoGetCurrentIrpStackLocation(irp)->Parameters.Write.Length;
	const UCHAR *buf = irp->AssociatedIrp.SystemBuffer;
	struct pva_msg_hdr hdr;
	NTSTATUS status;
	ULONG len;

	status = IoAcquireRemoveLock(&dev->remove_lock, irp);
	if (!NT_SUCCESS(status)) {
		irp->IoStatus.Status = status;
		irp->IoStatus.Information = 0;
		IoCompleteRequest(irp, IO_NO_INCREMENT);
		return status;
	}
	/*
	 * The same rules as Linux's pva_write(), checked once: the system
	 * buffer cannot change while the IRP waits.
	 */
	if (!file) {
		status = STATUS_INVALID_DEVICE_REQUEST;
		goto fail;
	}
	if (count < sizeof(hdr) || !buf) {
		status = STATUS_INVALID_PARAMETER;
		goto fail;
	}
	len = count - (ULONG)sizeof(hdr);
	if (len > PVA_MSG_MAX) {
		status = STATUS_INVALID_BUFFER_SIZE;
		goto fail;
	}
	RtlCopyMemory(&hdr, buf, sizeof(hdr));
	if (pva_le32(hdr.len) != len || !pva_user_hdr_ok(&hdr)) {
		status = STATUS_INVALID_PARAMETER;
		goto fail;
	}
	return pva_start_io(file, irp, TRUE);
fail:
	pva_complete(dev, irp, status, 0);
	return status;
}

/* ---- IOCTLs ---- */

/*
 * Who may bind @name: the device's ACL lets SYSTEM, Administrators and
 * interactive users open it (pva.inf); administrators (and LocalSystem)
 * bind any channel, a user only the desktop agent's, and only from the
 * session on the console, so the agent of another logged-on user (fast
 * user switching, remote desktop) cannot read the host's clipboard.
 */
static NTSTATUS pva_may_bind(PIRP irp, const char *name)
{
	SECURITY_SUBJECT_CONTEXT ctx;
	BOOLEAN admin;
	ULONG session;

	if (irp->RequestorMode == KernelMode)
		return STATUS_SUCCESS;
#ifdef PVA_WINE_TEST
	/* wine's ntoskrnl has no caller token or session to check */
	(void)name;
	(void)admin;
	(void)session;
	return STATUS_SUCCESS;
#endif
	SeCaptureSubjectContext(&ctx);
	SeLockSubjectContext(&ctx);
	admin = SeTokenIsAdmin(SeQuerySubjectContextToken(&ctx));
	SeUnlockSubjectContext(&ctx);
	SeReleaseSubjectContext(&ctx);
	if (admin)
		return STATUS_SUCCESS;
	if (strcmp(name, "agent"))
		return STATUS_ACCESS_DENIED;
	if (!NT_SUCCESS(IoGetRequestorSessionId(irp, &session)) ||
	    session != SharedUserData->ActiveConsoleId)
		return STATUS_ACCESS_DENIED;
	return STATUS_SUCCESS;
}

static NTSTATUS pva_ioctl_bind(struct pva_file *file, PIRP irp, ULONG in_len)
{
	struct pva_dev *dev = file->dev;
	struct pva_win_bind b;
	NTSTATUS status;
	KIRQL irql;
	int i, nul = 0;

	if (in_len != sizeof(b) || !irp->AssociatedIrp.SystemBuffer)
		return STATUS_INVALID_PARAMETER;
	RtlCopyMemory(&b, irp->AssociatedIrp.SystemBuffer, sizeof(b));
	for (i = 0; i < PVA_WIN_NAME_LEN; i++)
		if (!b.name[i]) {
			nul = 1;
			break;
		}
	if (b.flags & PVA_WIN_BIND_F_BATCH)
		return STATUS_NOT_SUPPORTED;
	if (b.flags || b.reserved || !nul || !b.name[0])
		return STATUS_INVALID_PARAMETER;
	status = pva_may_bind(irp, b.name);
	if (!NT_SUCCESS(status)) {
		pva_log(DPFLTR_WARNING_LEVEL,
			"pva: bind of %s refused: not an administrator, or not the console's session\n",
			b.name);
		return status;
	}
	KeAcquireSpinLock(&dev->lock, &irql);
	if (file->closed)
		status = STATUS_CANCELLED;
	else if (file->name[0])
		status = STATUS_ADDRESS_ALREADY_ASSOCIATED;
	else
		status = pva_attach_locked(dev, file, b.name);
	if (NT_SUCCESS(status))
		RtlCopyMemory(file->name, b.name, sizeof(file->name));
	KeReleaseSpinLock(&dev->lock, irql);
	return status;
}

static NTSTATUS pva_ioctl_info(struct pva_file *file, PIRP irp, ULONG out_len,
			       ULONG_PTR *info_len)
{
	struct pva_dev *dev = file->dev;
	struct pva_win_info info;
	struct pva_svc *svc;
	KIRQL irql;

	if (out_len < sizeof(info) || !irp->AssociatedIrp.SystemBuffer)
		return STATUS_BUFFER_TOO_SMALL;
	RtlZeroMemory(&info, sizeof(info));
	KeAcquireSpinLock(&dev->lock, &irql);
	info.state = dev->state;
	info.generation = dev->generation;
	if (dev->state == PVA_WIN_STATE_RUNNING) {
		info.major = dev->major;
		info.minor = dev->minor;
		info.features = dev->features;
	}
	svc = file->svc;
	if (svc && !svc->dead) {
		info.max_payload = svc->tx.max_payload;
		info.tx_size = svc->tx.size;
		info.rx_size = svc->rx.size;
	}
	KeReleaseSpinLock(&dev->lock, irql);
	RtlCopyMemory(irp->AssociatedIrp.SystemBuffer, &info, sizeof(info));
	*info_len = sizeof(info);
	return STATUS_SUCCESS;
}

NTSTATUS pva_dispatch_ioctl(PDEVICE_OBJECT devobj, PIRP irp)
{
	struct pva_dev *dev = pva_devobj_dev(devobj);
	PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(irp);
	ULONG code = stack->Parameters.DeviceIoControl.IoControlCode;
	ULONG in_len = stack->Parameters.DeviceIoControl.InputBufferLength;
	ULONG out_len = stack->Parameters.DeviceIoControl.OutputBufferLength;
	struct pva_file *file = pva_irp_file(irp);
	ULONG_PTR info_len = 0;
	NTSTATUS status;

	status = IoAcquireRemoveLock(&dev->remove_lock, irp);
	if (!NT_SUCCESS(status)) {
		irp->IoStatus.Status = status;
		irp->IoStatus.Information = 0;
		IoCompleteRequest(irp, IO_NO_INCREMENT);
		return status;
	}
	if (!file) {
		status = STATUS_INVALID_DEVICE_REQUEST;
	} else if (code == IOCTL_PVA_BIND) {
		status = pva_ioctl_bind(file, irp, in_len);
	} else if (code == IOCTL_PVA_INFO) {
		status = pva_ioctl_info(file, irp, out_len, &info_len);
#ifdef PVA_WINE_TEST
	} else if (code == IOCTL_PVA_TEST_HOST) {
		struct pva_win_test_host cmd;

		if (in_len != sizeof(cmd) || out_len < sizeof(cmd) ||
		    !irp->AssociatedIrp.SystemBuffer) {
			status = STATUS_INVALID_PARAMETER;
		} else {
			RtlCopyMemory(&cmd, irp->AssociatedIrp.SystemBuffer,
				      sizeof(cmd));
			status = pva_fake_ioctl(dev, &cmd);
			RtlCopyMemory(irp->AssociatedIrp.SystemBuffer, &cmd,
				      sizeof(cmd));
			info_len = sizeof(cmd);
		}
#endif
	} else {
		status = STATUS_INVALID_DEVICE_REQUEST;
	}
	pva_complete(dev, irp, status, info_len);
	return status;
}
