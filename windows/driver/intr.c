// SPDX-License-Identifier: MIT
/*
 * Signals between host and guest (PROTOCOL.md section 1): the doorbell
 * register, MSI-X interrupts (one per vector) with a line-interrupt
 * fallback, the DPC that serves what the interrupts announced, and the
 * heartbeat timer, which is the polling clock when there are no usable
 * interrupts (ivshmem-doorbell raises no INTx) and otherwise re-checks the
 * header and rings once a second so a lost interrupt delays, never stalls.
 */
#include "pva_drv.h"

void pva_doorbell(struct pva_dev *dev, __u16 vector)
{
#ifdef PVA_WINE_TEST
	pva_fake_doorbell(dev->fake, vector);
#else
	if (dev->gone || !dev->regs)
		return;
	/* the ring and header stores are visible before the host looks */
	pva_full_barrier();
	WRITE_REGISTER_ULONG((PULONG)(dev->regs + PVA_REG_DOORBELL),
			     ((ULONG)PVA_HOST_PEER << 16) | vector);
#endif
}

/*
 * The interrupt DPC: serve the vectors the ISRs (or, in the test build,
 * the built-in host) announced since the last run.
 */
VOID NTAPI pva_dpc(PKDPC dpc, PVOID ctx, PVOID arg1, PVOID arg2)
{
	struct pva_dev *dev = ctx;
	__u64 mask;

	UNREFERENCED_PARAMETER(dpc);
	UNREFERENCED_PARAMETER(arg1);
	UNREFERENCED_PARAMETER(arg2);
	mask = (__u64)InterlockedExchange64(&dev->pending_vectors, 0);
	if (!mask)
		return;
	if (mask & (1ull << PVA_CONFIG_VECTOR))
		pva_check_config(dev);
	pva_process_vectors(dev, mask);
}

/* Polling mode: no interrupts, or a line interrupt that may never fire. */
static BOOLEAN pva_polling(const struct pva_dev *dev)
{
	return !dev->nvec || dev->intr_version == CONNECT_LINE_BASED;
}

static VOID NTAPI pva_timer_fn(PKDPC dpc, PVOID ctx, PVOID arg1, PVOID arg2)
{
	struct pva_dev *dev = ctx;

	UNREFERENCED_PARAMETER(dpc);
	UNREFERENCED_PARAMETER(arg1);
	UNREFERENCED_PARAMETER(arg2);
	if (dev->stopping)
		return;
	pva_check_config(dev);
	pva_process_vectors(dev, ~0ull);
}

void pva_timer_start(struct pva_dev *dev)
{
	LONG period = pva_polling(dev) ? PVA_POLL_MS : PVA_HEARTBEAT_MS;
	LARGE_INTEGER due;

	KeInitializeTimerEx(&dev->timer, NotificationTimer);
	KeInitializeDpc(&dev->timer_dpc, pva_timer_fn, dev);
	due.QuadPart = PVA_MS(period);
	KeSetTimerEx(&dev->timer, due, period, &dev->timer_dpc);
}

void pva_timer_stop(struct pva_dev *dev)
{
	KeCancelTimer(&dev->timer);
	/* a timer DPC that already started finishes first */
	KeFlushQueuedDpcs();
}

#ifdef PVA_WINE_TEST

/*
 * The built-in host signals vector @vector. Wine's KeInsertQueueDpc does
 * not run the DPC, so the DPC routine is called here directly; the host
 * thread that calls this holds no driver lock.
 */
void pva_signal_vector(struct pva_dev *dev, unsigned int vector)
{
	if (!dev->nvec || vector >= 64)
		return;		/* polling mode: the timer looks */
	InterlockedOr64(&dev->pending_vectors, (LONG64)(1ull << vector));
	pva_dpc(&dev->dpc, dev, NULL, NULL);
}

/* Simulated MSI-X: two vectors (config + services), or ForcePoll. */
NTSTATUS pva_intr_connect(struct pva_dev *dev)
{
	dev->nvec = dev->force_poll ? 0 : 2;
	dev->intr_version = dev->nvec ? CONNECT_MESSAGE_BASED : 0;
	return STATUS_SUCCESS;
}

void pva_intr_disconnect(struct pva_dev *dev)
{
	dev->nvec = 0;
	dev->intr_version = 0;
}

#else /* !PVA_WINE_TEST */

/* MSI-X: one message per vector; it is ours, never shared. */
static BOOLEAN NTAPI pva_msg_isr(PKINTERRUPT intr, PVOID ctx, ULONG msg)
{
	struct pva_dev *dev = ctx;

	UNREFERENCED_PARAMETER(intr);
	if (msg < 64)
		InterlockedOr64(&dev->pending_vectors, (LONG64)(1ull << msg));
	KeInsertQueueDpc(&dev->dpc, NULL, NULL);
	return TRUE;
}

/*
 * Line interrupt (a device with INTx; ivshmem-doorbell has none): maybe
 * shared, so claim it only if our status register says so. With one
 * vector every service is on vector 0.
 */
static BOOLEAN NTAPI pva_line_isr(PKINTERRUPT intr, PVOID ctx)
{
	struct pva_dev *dev = ctx;
	ULONG status;

	UNREFERENCED_PARAMETER(intr);
	if (dev->gone)
		return FALSE;
	status = READ_REGISTER_ULONG((PULONG)(dev->regs + PVA_REG_INTR_STATUS));
	if (!status || status == 0xffffffff)
		return FALSE;
	InterlockedOr64(&dev->pending_vectors, 1);
	KeInsertQueueDpc(&dev->dpc, NULL, NULL);
	return TRUE;
}

/*
 * Connect the device's message interrupts (the INF asks for up to 64
 * MSI-X messages); IoConnectInterruptEx falls back to the line interrupt
 * when the system gave none. Without either, poll.
 */
NTSTATUS pva_intr_connect(struct pva_dev *dev)
{
	IO_CONNECT_INTERRUPT_PARAMETERS p;
	PIO_INTERRUPT_MESSAGE_INFO info;
	NTSTATUS status;

	dev->nvec = 0;
	dev->intr_version = 0;
	dev->intr_ctx = NULL;
	if (dev->force_poll) {
		pva_warn(dev, "ForcePoll set: polling the rings instead of using interrupts");
		return STATUS_SUCCESS;
	}
	RtlZeroMemory(&p, sizeof(p));
	p.Version = CONNECT_MESSAGE_BASED;
	p.MessageBased.PhysicalDeviceObject = dev->pdo;
	p.MessageBased.ConnectionContext.Generic = &dev->intr_ctx;
	p.MessageBased.MessageServiceRoutine = pva_msg_isr;
	p.MessageBased.ServiceContext = dev;
	p.MessageBased.SpinLock = NULL;
	p.MessageBased.SynchronizeIrql = 0;
	p.MessageBased.FloatingSave = FALSE;
	p.MessageBased.FallBackServiceRoutine = pva_line_isr;
	status = IoConnectInterruptEx(&p);
	if (!NT_SUCCESS(status)) {
		/* ivshmem-doorbell raises no INTx: poll instead */
		pva_warn(dev, "cannot connect interrupts (0x%08lx): polling the rings",
			 status);
		dev->intr_ctx = NULL;
		return STATUS_SUCCESS;
	}
	dev->intr_version = p.Version;
	if (p.Version == CONNECT_LINE_BASED) {
		dev->nvec = 1;
		pva_warn(dev, "no MSI-X: line interrupt, and polling the rings as well");
		return STATUS_SUCCESS;
	}
	info = dev->intr_ctx;
	dev->nvec = info->MessageCount < PVA_MAX_VECTORS ?
		    info->MessageCount : PVA_MAX_VECTORS;
	if (!dev->nvec) {
		pva_intr_disconnect(dev);
		pva_warn(dev, "no MSI-X messages: polling the rings");
	}
	return STATUS_SUCCESS;
}

void pva_intr_disconnect(struct pva_dev *dev)
{
	IO_DISCONNECT_INTERRUPT_PARAMETERS d;

	if (dev->intr_version && dev->intr_ctx) {
		RtlZeroMemory(&d, sizeof(d));
		d.Version = dev->intr_version;
		d.ConnectionContext.Generic = dev->intr_ctx;
		IoDisconnectInterruptEx(&d);
	}
	dev->intr_ctx = NULL;
	dev->intr_version = 0;
	dev->nvec = 0;
	/* an ISR's DPC that is queued or running finishes first */
	KeFlushQueuedDpcs();
}

#endif /* PVA_WINE_TEST */
