// SPDX-License-Identifier: MIT
/*
 * The test build (pvatest.sys, -DPVA_WINE_TEST), for wine, which has no
 * PCI bus, PnP manager or interrupts: DriverEntry creates the device
 * itself, its "shared memory" is pool memory, and a thread of the driver
 * plays pva-host on the other side of it:
 *
 *   - it lays out the header and a service table (control, a channel
 *     named "echo", and a balloon service that is not a channel) exactly
 *     as PROTOCOL.md sections 2 and 3 say, and answers negotiation
 *     requests;
 *   - "echo" answers every message the way the host's echo service does
 *     (PROTOCOL.md 6.3): the same message back, a response if it was a
 *     request;
 *   - the guest's doorbell writes wake it; it "interrupts" the guest by
 *     running the driver's DPC (pva_signal_vector()).
 *
 * So everything above the BARs is the real driver: negotiation, the table
 * checks, the rings with event indexes, the DPC, the IRP queues, resets.
 * IOCTL_PVA_TEST_HOST lets tests restart this host, pause its consumption
 * (full rings), and make it hostile: corrupt ring indexes and records,
 * invalid headers and service tables (pva_win.h, PVA_WIN_TEST_*).
 */
#include "pva_drv.h"

#define FAKE_SHM_SIZE		0x40000u	/* 256 KiB, a power of two */
#define FAKE_TABLE_OFF		0x1000u
#define FAKE_NR_VECTORS		2
#define FAKE_FEATURES		(PVA_F_EVENT_IDX | PVA_F_GUEST_INFO)
#define FAKE_POLL_MS		5		/* also look without a doorbell */

static const struct fake_layout {
	const char *name;
	__u16 type;
	__u32 g2h_off, g2h_size, h2g_off, h2g_size;
} fake_layout[] = {
	{ "control", PVA_SVC_CONTROL, 0x2000, 4096, 0x4000, 4096 },
	{ "echo", PVA_SVC_CHANNEL, 0x8000, 16384, 0x10000, 16384 },
	{ "balloon", PVA_SVC_BALLOON, 0x18000, 4096, 0x1a000, 4096 },
};
#define FAKE_NSVC	(sizeof(fake_layout) / sizeof(fake_layout[0]))
#define FAKE_ECHO	1

struct pva_fake_host {
	struct pva_dev *dev;
	UCHAR *shm;
	struct pva_header *hdr;
	UCHAR *buf;			/* one payload */
	HANDLE thread;
	KEVENT event;			/* doorbell */
	volatile LONG stop, paused, reset_req;
	volatile LONG corrupt_req;	/* PVA_WIN_CORRUPT_*, done by the thread */
	volatile LONG bad_layout;	/* PVA_WIN_BAD_*, for the next reset */
	volatile LONG slow_ms;		/* delay negotiation answers */
	__u32 generation, last_req_seq;
	unsigned int nvec;
	BOOLEAN answered;		/* the current request was answered */
	struct pva_ring g2h[FAKE_NSVC];	/* the host consumes these */
	struct pva_ring h2g[FAKE_NSVC];	/* and produces into these */
	volatile LONG negotiations, guest_info;
	volatile LONG64 echoed;
};

static struct pva_dev *pva_test_dev;

void pva_fake_doorbell(struct pva_fake_host *fake, __u16 vector)
{
	UNREFERENCED_PARAMETER(vector);	/* any doorbell: look at everything */
	if (fake)
		KeSetEvent(&fake->event, IO_NO_INCREMENT, FALSE);
}

static void fake_signal(struct pva_fake_host *fake, unsigned int svc_id)
{
	pva_signal_vector(fake->dev, pva_service_vector((__u16)svc_id,
							 (__u16)fake->nvec));
}

/* A hostile host: get one thing in the header or table wrong. */
static void fake_break_layout(struct pva_fake_host *fake, __u32 how)
{
	struct pva_host_area *h = &fake->hdr->host;
	struct pva_service_desc *d =
		(struct pva_service_desc *)(fake->shm + FAKE_TABLE_OFF);

	switch (how) {
	case PVA_WIN_BAD_RING_OUTSIDE:
		d[1].h2g_off = pva_cpu64(FAKE_SHM_SIZE - 0x100);
		break;
	case PVA_WIN_BAD_NAME:
		d[1].name[0] = 'E';
		break;
	case PVA_WIN_BAD_DUP_NAME:
		RtlCopyMemory(d[2].name, "echo", 5);
		break;
	case PVA_WIN_BAD_ID:
		d[1].id = pva_cpu16(5);
		break;
	case PVA_WIN_BAD_RING_ALIGN:
		d[1].g2h_off = pva_cpu64(pva_le64(d[1].g2h_off) + 8);
		break;
	case PVA_WIN_BAD_RING_SIZE:
		d[1].g2h_size = pva_cpu32(12288);
		break;
	case PVA_WIN_BAD_NO_CONTROL:
		d[0].type = pva_cpu16(PVA_SVC_CHANNEL);
		break;
	case PVA_WIN_BAD_NO_SERVICES:
		h->nr_services = 0;
		break;
	case PVA_WIN_BAD_TABLE_OFF:
		h->svc_table_off = pva_cpu32(PVA_GUEST_AREA_OFF);
		break;
	case PVA_WIN_BAD_FLAGS:
		d[1].flags = pva_cpu16(1);
		break;
	case PVA_WIN_BAD_RING_IN_TABLE:
		d[2].g2h_off = pva_cpu64(FAKE_TABLE_OFF);
		break;
	case PVA_WIN_BAD_SHM_SIZE:
		h->shm_size = pva_cpu64((__u64)FAKE_SHM_SIZE * 2);
		break;
	case PVA_WIN_BAD_VERSION:
		h->major_min = pva_cpu16(PVA_VERSION_MAJOR + 1);
		h->major_max = pva_cpu16(PVA_VERSION_MAJOR + 1);
		break;
	case PVA_WIN_BAD_DATA_ALIGN:
		d[1].data_off = pva_cpu64(0x1c080);
		d[1].data_size = pva_cpu64(0x1000);
		break;
	case PVA_WIN_BAD_NAME_NUL:
		RtlFillMemory(d[1].name, sizeof(d[1].name), 'e');
		break;
	}
}

/* A hostile host: break the echo rings while the guest uses them. */
static void fake_corrupt(struct pva_fake_host *fake, __u32 how)
{
	struct pva_ring *in = &fake->g2h[FAKE_ECHO], *out = &fake->h2g[FAKE_ECHO];
	struct pva_msg_hdr hdr;

	RtlZeroMemory(&hdr, sizeof(hdr));
	hdr.service = pva_cpu16(FAKE_ECHO);
	switch (how) {
	case PVA_WIN_CORRUPT_H2G_PROD:
		pva_store_release(&out->ctrl->prod,
				  pva_cpu32(out->local + out->size + 8));
		break;
	case PVA_WIN_CORRUPT_H2G_HDR:
		hdr.reserved0 = pva_cpu16(1);
		pva_ring_copy_in(out, out->local, &hdr, sizeof(hdr));
		pva_ring_prod_commit(out, sizeof(hdr));
		break;
	case PVA_WIN_CORRUPT_H2G_LEN:
		hdr.len = pva_cpu32(100);	/* but only 8 bytes published */
		pva_ring_copy_in(out, out->local, &hdr, sizeof(hdr));
		pva_ring_prod_commit(out, sizeof(hdr) + 8);
		break;
	case PVA_WIN_CORRUPT_G2H_CONS:
		pva_store_release(&in->ctrl->cons, pva_cpu32(in->local + 64));
		break;
	}
	fake_signal(fake, FAKE_ECHO);
}

/* PROTOCOL.md 3, host side: (re)start; the guest sees a new generation. */
static void fake_reset(struct pva_fake_host *fake)
{
	struct pva_host_area *h = &fake->hdr->host;
	struct pva_service_desc *d;
	unsigned int i;

	pva_store_release(&h->host_status, pva_cpu32(PVA_HOST_RESETTING));
	h->magic = pva_cpu32(PVA_MAGIC);
	h->major_min = pva_cpu16(PVA_VERSION_MAJOR);
	h->major_max = pva_cpu16(PVA_VERSION_MAJOR);
	h->minor = pva_cpu16(PVA_VERSION_MINOR);
	h->nr_vectors = pva_cpu16(FAKE_NR_VECTORS);
	h->header_size = pva_cpu32(PVA_HEADER_SIZE);
	h->shm_size = pva_cpu64(FAKE_SHM_SIZE);
	h->host_features = pva_cpu64(FAKE_FEATURES);
	h->svc_table_off = pva_cpu32(FAKE_TABLE_OFF);
	h->nr_services = pva_cpu32(FAKE_NSVC);
	d = (struct pva_service_desc *)(fake->shm + FAKE_TABLE_OFF);
	for (i = 0; i < FAKE_NSVC; i++) {
		const struct fake_layout *l = &fake_layout[i];

		RtlZeroMemory(&d[i], sizeof(d[i]));
		RtlCopyMemory(d[i].name, l->name, strlen(l->name));
		d[i].type = pva_cpu16(l->type);
		d[i].id = pva_cpu16((__u16)i);
		d[i].version = pva_cpu16(1);
		d[i].g2h_off = pva_cpu64(l->g2h_off);
		d[i].g2h_size = pva_cpu32(l->g2h_size);
		d[i].h2g_off = pva_cpu64(l->h2g_off);
		d[i].h2g_size = pva_cpu32(l->h2g_size);
		pva_ring_attach(&fake->g2h[i], fake->shm + l->g2h_off,
				l->g2h_size, 0);
		pva_ring_attach(&fake->h2g[i], fake->shm + l->h2g_off,
				l->h2g_size, 0);
		pva_ring_reset_shared(&fake->g2h[i]);
		pva_ring_reset_shared(&fake->h2g[i]);
	}
	fake_break_layout(fake, (__u32)fake->bad_layout);
	fake->answered = FALSE;
	fake->generation++;
	pva_store_release(&h->generation, pva_cpu32(fake->generation));
	pva_store_release(&h->host_status, pva_cpu32(PVA_HOST_READY));
	pva_signal_vector(fake->dev, PVA_CONFIG_VECTOR);
}

/* A changed req_seq is a device reset and a negotiation request. */
static void fake_negotiate(struct pva_fake_host *fake)
{
	struct pva_host_area *h = &fake->hdr->host;
	struct pva_guest_area *g = &fake->hdr->guest;
	__u32 req = pva_le32(pva_load_acquire(&g->req_seq));
	__u16 gmin, gmax, nvec;
	__u64 features;
	__u32 status = PVA_NEG_OK;
	unsigned int i;
	int ei;

	if (req == fake->last_req_seq)
		return;
	fake->last_req_seq = req;
	fake->answered = FALSE;
	if (fake->slow_ms) {
		/* a busy host: the guest's I/O waits meanwhile */
		LARGE_INTEGER delay;

		delay.QuadPart = PVA_MS(fake->slow_ms);
		KeDelayExecutionThread(KernelMode, FALSE, &delay);
	}
	if (pva_le32(pva_load_once(&g->generation)) != fake->generation)
		return;		/* the guest will see the new generation */
	gmin = pva_le16(pva_load_once(&g->major_min));
	gmax = pva_le16(pva_load_once(&g->major_max));
	nvec = pva_le16(pva_load_once(&g->nr_vectors));
	features = pva_le64(pva_load_once(&g->features)) & FAKE_FEATURES;
	if (!nvec || gmin > gmax)
		status = PVA_NEG_INVALID;
	else if (gmin > PVA_VERSION_MAJOR || gmax < PVA_VERSION_MAJOR)
		status = PVA_NEG_VERSION;
	ei = !!(features & PVA_F_EVENT_IDX);
	for (i = 0; i < FAKE_NSVC; i++) {
		pva_ring_reset_shared(&fake->g2h[i]);
		pva_ring_reset_shared(&fake->h2g[i]);
		fake->g2h[i].event_idx = ei;
		fake->h2g[i].event_idx = ei;
	}
	fake->nvec = nvec < FAKE_NR_VECTORS ? nvec : FAKE_NR_VECTORS;
	h->ack_status = pva_cpu32(status);
	h->ack_major = pva_cpu16(PVA_VERSION_MAJOR);
	h->ack_minor = pva_cpu16(PVA_VERSION_MINOR);
	h->ack_features = pva_cpu64(features);
	pva_store_release(&h->ack_seq, pva_cpu32(req));
	fake->answered = status == PVA_NEG_OK;
	InterlockedIncrement(&fake->negotiations);
	pva_signal_vector(fake->dev, PVA_CONFIG_VECTOR);
}

/*
 * Serve guest->host ring @i. Returns FALSE when the guest broke the
 * protocol (the host then resets the device, like pva-host).
 */
static BOOLEAN fake_serve(struct pva_fake_host *fake, unsigned int i)
{
	struct pva_ring *in = &fake->g2h[i], *out = &fake->h2g[i];
	BOOLEAN signal_in = FALSE, signal_out = FALSE;
	struct pva_msg_hdr hdr;
	int r;

	for (;;) {
		__u32 len, rec;
		__u16 flags;

		if (i == FAKE_ECHO && fake->paused)
			break;
		r = pva_ring_cons_peek(in, &hdr);
		if (r == PVA_RING_AGAIN) {
			if (pva_ring_cons_arm(in) == PVA_RING_OK)
				continue;
			break;
		}
		if (r != PVA_RING_OK || !pva_msg_hdr_valid(&hdr, (__u16)i))
			return FALSE;
		len = pva_le32(hdr.len);
		flags = pva_le16(hdr.flags);
		if (i == 0 && pva_le16(hdr.type) == PVA_CTRL_GUEST_INFO &&
		    len == sizeof(struct pva_guest_info))
			InterlockedIncrement(&fake->guest_info);
		if (i == FAKE_ECHO && !(flags & PVA_MSG_F_RESPONSE)) {
			BOOLEAN echo = pva_le16(hdr.type) == PVA_ECHO_ECHO;
			__u32 olen = echo ? len : 0;

			if (!echo && !(flags & PVA_MSG_F_REQUEST))
				goto consumed;	/* unknown event: dropped */
			rec = pva_msg_record_size(olen);
			r = pva_ring_prod_space(out, rec);
			if (r == PVA_RING_AGAIN)
				r = pva_ring_prod_arm(out, rec);
			if (r == PVA_RING_CORRUPT)
				return FALSE;
			if (r == PVA_RING_AGAIN)
				break;	/* the guest signals when it read */
			if (olen)
				pva_ring_cons_read(in, 0, fake->buf, olen);
			hdr.len = pva_cpu32(olen);
			if (flags & PVA_MSG_F_REQUEST) {
				hdr.flags = pva_cpu16(PVA_MSG_F_RESPONSE);
				hdr.status = pva_cpu32(echo ? PVA_S_OK :
						       PVA_S_ENOTSUP);
			}
			pva_ring_copy_in(out, out->local, &hdr, sizeof(hdr));
			pva_ring_copy_in(out, out->local + sizeof(hdr),
					 fake->buf, olen);
			if (pva_ring_prod_commit(out, rec))
				signal_out = TRUE;
			InterlockedIncrement64(&fake->echoed);
		}
consumed:
		if (pva_ring_cons_commit(in, pva_msg_record_size(len)))
			signal_in = TRUE;
	}
	if (signal_in || signal_out)
		fake_signal(fake, i);
	return TRUE;
}

static VOID NTAPI fake_thread(PVOID ctx)
{
	struct pva_fake_host *fake = ctx;
	LARGE_INTEGER slice;
	unsigned int i;
	__u32 how;

	slice.QuadPart = PVA_MS(FAKE_POLL_MS);
	while (!fake->stop) {
		KeWaitForSingleObject(&fake->event, Executive, KernelMode,
				      FALSE, &slice);
		if (fake->stop)
			break;
		if (InterlockedExchange(&fake->reset_req, 0))
			fake_reset(fake);
		fake_negotiate(fake);
		if (!fake->answered || pva_le32(pva_load_acquire(
			&fake->hdr->guest.status)) != PVA_GUEST_RUNNING)
			continue;
		how = (__u32)InterlockedExchange(&fake->corrupt_req, 0);
		if (how) {
			fake_corrupt(fake, how);
			continue;	/* the guest must fail: serve nothing */
		}
		for (i = 0; i < FAKE_NSVC; i++) {
			if (!fake_serve(fake, i)) {
				pva_log(DPFLTR_ERROR_LEVEL, "pvatest host: service %u broke the protocol: resetting\n",
					i);
				fake_reset(fake);
				break;
			}
		}
	}
	PsTerminateSystemThread(STATUS_SUCCESS);
}

NTSTATUS pva_fake_ioctl(struct pva_dev *dev, struct pva_win_test_host *cmd)
{
	struct pva_fake_host *fake = dev->fake;

	switch (cmd->cmd) {
	case PVA_WIN_TEST_STATS:
		break;
	case PVA_WIN_TEST_RESET:
		InterlockedExchange(&fake->reset_req, 1);
		break;
	case PVA_WIN_TEST_PAUSE:
		InterlockedExchange(&fake->paused, cmd->arg != 0);
		break;
	case PVA_WIN_TEST_CORRUPT:
		if (cmd->arg < PVA_WIN_CORRUPT_H2G_PROD ||
		    cmd->arg > PVA_WIN_CORRUPT_H2G_LEN)
			return STATUS_INVALID_PARAMETER;
		InterlockedExchange(&fake->corrupt_req, (LONG)cmd->arg);
		break;
	case PVA_WIN_TEST_SLOW:
		if (cmd->arg > 4000)	/* the guest gives up after 5 s */
			return STATUS_INVALID_PARAMETER;
		InterlockedExchange(&fake->slow_ms, (LONG)cmd->arg);
		break;
	case PVA_WIN_TEST_BAD_LAYOUT:
		if (cmd->arg > PVA_WIN_BAD_MAX)
			return STATUS_INVALID_PARAMETER;
		InterlockedExchange(&fake->bad_layout, (LONG)cmd->arg);
		break;
	default:
		return STATUS_INVALID_PARAMETER;
	}
	KeSetEvent(&fake->event, IO_NO_INCREMENT, FALSE);
	cmd->generation = fake->generation;
	cmd->negotiations = (__u32)fake->negotiations;
	cmd->guest_info = (__u32)fake->guest_info;
	cmd->paused = (__u32)fake->paused;
	cmd->echoed = (__u64)fake->echoed;
	cmd->guest_status = pva_le32(pva_load_acquire(&fake->hdr->guest.status));
	cmd->guest_error = pva_le32(pva_load_once(&fake->hdr->guest.error));
	return STATUS_SUCCESS;
}

static void fake_free(struct pva_fake_host *fake)
{
	if (fake->thread) {
		InterlockedExchange(&fake->stop, 1);
		KeSetEvent(&fake->event, IO_NO_INCREMENT, FALSE);
		ZwWaitForSingleObject(fake->thread, FALSE, NULL);
		ZwClose(fake->thread);
	}
	if (fake->buf)
		ExFreePoolWithTag(fake->buf, PVA_POOL_TAG);
	if (fake->shm)
		ExFreePoolWithTag(fake->shm, PVA_POOL_TAG);
	ExFreePoolWithTag(fake, PVA_POOL_TAG);
}

NTSTATUS pva_test_create(PDRIVER_OBJECT drv)
{
	struct pva_fake_host *fake;
	OBJECT_ATTRIBUTES oa;
	struct pva_dev *dev;
	NTSTATUS status;

	status = pva_create_device(drv, &dev);
	if (!NT_SUCCESS(status))
		return status;
	fake = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*fake), PVA_POOL_TAG);
	if (!fake) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto err_dev;
	}
	RtlZeroMemory(fake, sizeof(*fake));
	fake->dev = dev;
	KeInitializeEvent(&fake->event, SynchronizationEvent, FALSE);
	fake->shm = ExAllocatePoolWithTag(NonPagedPoolNx, FAKE_SHM_SIZE,
					  PVA_POOL_TAG);
	fake->buf = ExAllocatePoolWithTag(NonPagedPoolNx, PVA_MSG_MAX,
					  PVA_POOL_TAG);
	if (!fake->shm || !fake->buf) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto err_fake;
	}
	RtlZeroMemory(fake->shm, FAKE_SHM_SIZE);
	fake->hdr = (struct pva_header *)fake->shm;
	dev->fake = fake;
	dev->shm = fake->shm;
	dev->shm_size = FAKE_SHM_SIZE;
	dev->hdr = fake->hdr;
	/* start as pva-host does; nobody listens for the signal yet */
	fake_reset(fake);
	InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
	status = PsCreateSystemThread(&fake->thread, THREAD_ALL_ACCESS, &oa,
				      NULL, NULL, fake_thread, fake);
	if (!NT_SUCCESS(status)) {
		fake->thread = NULL;
		goto err_fake;
	}
	if (!pva_check_magic(dev)) {
		status = STATUS_DEVICE_CONFIGURATION_ERROR;
		goto err_fake;
	}
	pva_intr_connect(dev);
	status = pva_dev_start(dev);
	if (!NT_SUCCESS(status))
		goto err_intr;
	dev->self->Flags &= ~DO_DEVICE_INITIALIZING;
	pva_test_dev = dev;
	pva_info(dev, "test device with the built-in loopback host (%s)",
		 dev->nvec ? "2 simulated vectors" : "polling");
	return STATUS_SUCCESS;

err_intr:
	pva_intr_disconnect(dev);
err_fake:
	dev->fake = NULL;
	fake_free(fake);
err_dev:
	pva_delete_device(dev);
	return status;
}

void pva_test_destroy(PDRIVER_OBJECT drv)
{
	struct pva_dev *dev = pva_test_dev;

	UNREFERENCED_PARAMETER(drv);
	if (!dev)
		return;
	pva_dev_stop(dev);
	pva_intr_disconnect(dev);
	fake_free(dev->fake);
	dev->fake = NULL;
	pva_delete_device(dev);
	pva_test_dev = NULL;
}
