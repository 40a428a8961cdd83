// SPDX-License-Identifier: MIT
/*
 * The device header: negotiation, the service table, resets and failure
 * (PROTOCOL.md sections 2 and 3, guest side), run by the device's worker
 * thread. Mirrors kernel/linux/core/device.c: every value the host wrote
 * is checked before use, the table is copied entry by entry before it is
 * checked, and a table is used only for the generation it came with.
 */
#include "pva_drv.h"

/* pva_negotiate() results besides 0 and PVA_GERR_* */
#define PVA_NEG_AGAIN	(-1)	/* the host restarted meanwhile */
#define PVA_NEG_STOP	(-2)	/* the device is stopping */

static const char *const pva_gerr_names[] = {
	[PVA_GERR_NONE] = "none",
	[PVA_GERR_VERSION] = "no common protocol version",
	[PVA_GERR_LAYOUT] = "invalid shared memory layout",
	[PVA_GERR_RING] = "corrupt ring",
	[PVA_GERR_TIMEOUT] = "host did not answer",
};

/*
 * A new state (worker thread or stop). The I/O parked while the device
 * negotiated goes on: to the channels if it runs now, else it fails.
 */
static void pva_set_state(struct pva_dev *dev, __u32 state)
{
	KIRQL irql;

	KeAcquireSpinLock(&dev->lock, &irql);
	dev->state = state;
	KeReleaseSpinLock(&dev->lock, irql);
	if (state != PVA_WIN_STATE_NEGOTIATING)
		pva_unpark(dev);
}

void pva_queue_work(struct pva_dev *dev, LONG what)
{
	InterlockedOr(&dev->work, what);
	KeSetEvent(&dev->work_event, IO_NO_INCREMENT, FALSE);
}

/* Tell the host we gave up, and why; wait for a new generation. */
static void pva_dev_fail(struct pva_dev *dev, __u32 reason)
{
	struct pva_guest_area *g = &dev->hdr->guest;

	g->error = pva_cpu32(reason);
	pva_shm_store(&g->status, PVA_GUEST_FAILED);
	pva_doorbell(dev, PVA_CONFIG_VECTOR);
	dev->fail_reason = reason;
	dev->failed_at = (LONGLONG)KeQueryInterruptTime();
	pva_set_state(dev, PVA_WIN_STATE_FAILED);
}

/*
 * Is this ivshmem device served by pva-host? A zero magic may be a host
 * that is still starting, so give it a moment; anything else is final.
 */
BOOLEAN pva_check_magic(struct pva_dev *dev)
{
	LARGE_INTEGER delay;
	__u32 magic;
	int tries = PVA_MAGIC_WAIT_MS / 100;

	delay.QuadPart = PVA_MS(100);
	for (;;) {
		magic = pva_le32(pva_load_once(&dev->hdr->host.magic));
		if (magic || --tries <= 0)
			break;
		KeDelayExecutionThread(KernelMode, FALSE, &delay);
	}
	if (magic != PVA_MAGIC) {
		pva_err(dev, "not a pva device (magic 0x%08x, expected 0x%08x)",
			magic, PVA_MAGIC);
		return FALSE;
	}
	return TRUE;
}

static BOOLEAN pva_header_valid(struct pva_dev *dev)
{
	struct pva_host_area *h = &dev->hdr->host;
	__u32 magic = pva_le32(pva_load_once(&h->magic));
	__u32 hsize = pva_le32(pva_load_once(&h->header_size));
	__u64 ssize = pva_le64(pva_load_once(&h->shm_size));

	if (magic != PVA_MAGIC) {
		pva_err(dev, "bad magic 0x%08x in the shared memory", magic);
		return FALSE;
	}
	if (hsize != PVA_HEADER_SIZE || ssize != dev->shm_size) {
		pva_err(dev, "header size %u / shared memory size %I64u do not match the device (%I64u)",
			hsize, ssize, dev->shm_size);
		return FALSE;
	}
	return TRUE;
}

/* ---- the service table ---- */

static BOOLEAN pva_name_valid(const char *name)
{
	size_t i, n = strnlen(name, PVA_SVC_NAME_LEN);

	if (!n || n == PVA_SVC_NAME_LEN)
		return FALSE;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
		    c != '-' && c != '_')
			return FALSE;
	}
	return TRUE;
}

/* Is [off, off + len) inside the shared memory, after the table? */
static BOOLEAN pva_region_ok(struct pva_dev *dev, __u64 off, __u64 len,
			     __u64 min_off)
{
	return off >= min_off && off <= dev->shm_size &&
	       len <= dev->shm_size - off;
}

static BOOLEAN pva_ring_desc_ok(struct pva_dev *dev, __u64 off, __u32 size,
				__u64 min_off)
{
	return pva_ring_size_valid(size) && !(off & (PVA_CACHELINE - 1)) &&
	       pva_region_ok(dev, off, (__u64)PVA_RING_CTRL_SIZE + size,
			     min_off);
}

/* Check entry @index (a private copy) and make its service. */
static struct pva_svc *pva_svc_create(struct pva_dev *dev,
				      const struct pva_service_desc *d,
				      unsigned int index, __u64 min_off)
{
	__u64 g2h_off = pva_le64(d->g2h_off), h2g_off = pva_le64(d->h2g_off);
	__u64 data_off = pva_le64(d->data_off);
	__u64 data_size = pva_le64(d->data_size);
	__u32 g2h_size = pva_le32(d->g2h_size), h2g_size = pva_le32(d->h2g_size);
	int ei = !!(dev->features & PVA_F_EVENT_IDX);
	struct pva_svc *svc;

	if (!pva_name_valid(d->name) || pva_le16(d->id) != index || d->flags ||
	    !pva_ring_desc_ok(dev, g2h_off, g2h_size, min_off) ||
	    !pva_ring_desc_ok(dev, h2g_off, h2g_size, min_off) ||
	    (data_size && ((data_off & (PAGE_SIZE - 1)) ||
			   !pva_region_ok(dev, data_off, data_size, min_off)))) {
		pva_err(dev, "service table entry %u is invalid", index);
		return NULL;
	}
	svc = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*svc), PVA_POOL_TAG);
	if (!svc) {
		pva_err(dev, "out of memory for service %u", index);
		return NULL;
	}
	RtlZeroMemory(svc, sizeof(*svc));
	svc->ref = 1;
	svc->dev = dev;
	RtlCopyMemory(svc->name, d->name, PVA_SVC_NAME_LEN);
	svc->type = pva_le16(d->type);
	svc->id = (__u16)index;
	svc->version = pva_le16(d->version);
	svc->features = pva_le64(d->features);
	svc->vector = pva_service_vector((__u16)index, (__u16)dev->active_nvec);
	KeInitializeSpinLock(&svc->lock);
	pva_ring_attach(&svc->tx, dev->shm + g2h_off, g2h_size, ei);
	pva_ring_attach(&svc->rx, dev->shm + h2g_off, h2g_size, ei);
	return svc;
}

/* Read, check and publish the service table of the negotiated generation. */
static BOOLEAN pva_read_table(struct pva_dev *dev)
{
	struct pva_host_area *h = &dev->hdr->host;
	__u32 off = pva_le32(pva_load_once(&h->svc_table_off));
	__u32 n = pva_le32(pva_load_once(&h->nr_services));
	struct pva_svc *svcs[PVA_MAX_SERVICES];
	const struct pva_service_desc *descs;
	struct pva_service_desc d;
	unsigned int i, k;
	__u64 end;
	KIRQL irql;

	end = (__u64)off + (__u64)n * sizeof(d);
	if (!n || n > PVA_MAX_SERVICES || off < PVA_HEADER_SIZE ||
	    end > dev->shm_size) {
		pva_err(dev, "invalid service table (%u entries at 0x%x)", n, off);
		return FALSE;
	}
	descs = (const struct pva_service_desc *)(dev->shm + off);
	for (i = 0; i < n; i++) {
		/* one fetch: the host cannot change what was checked */
		RtlCopyMemory(&d, &descs[i], sizeof(d));
		svcs[i] = pva_svc_create(dev, &d, i, end);
		if (!svcs[i])
			goto fail;
		for (k = 0; k < i; k++) {
			if (!strcmp(svcs[k]->name, svcs[i]->name)) {
				pva_err(dev, "service name %s used twice",
					svcs[i]->name);
				i++;
				goto fail;
			}
		}
	}
	if (svcs[0]->type != PVA_SVC_CONTROL) {
		pva_err(dev, "service 0 is not the control service");
		goto fail;
	}
	KeAcquireSpinLock(&dev->lock, &irql);
	for (i = 0; i < n; i++)
		dev->svc[i] = svcs[i];
	dev->nr_svc = n;
	KeReleaseSpinLock(&dev->lock, irql);
	return TRUE;

fail:
	while (i-- > 0)
		if (svcs[i])
			pva_svc_put(svcs[i]);
	return FALSE;
}

/*
 * Stop using the current generation's services: unpublish them, mark
 * them dead (no ring access after that), and fail the I/O pending on the
 * handles bound to them with STATUS_CONNECTION_RESET. The device enters
 * @state at the same moment, so no handle finds it running without
 * services.
 */
static void pva_teardown(struct pva_dev *dev, __u32 state)
{
	struct pva_svc *old[PVA_MAX_SERVICES];
	LIST_ENTRY done;
	unsigned int i, n;
	KIRQL irql, sirql;

	InitializeListHead(&done);
	KeAcquireSpinLock(&dev->lock, &irql);
	n = dev->nr_svc;
	for (i = 0; i < n; i++) {
		struct pva_svc *svc = dev->svc[i];

		dev->svc[i] = NULL;
		old[i] = svc;
		KeAcquireSpinLock(&svc->lock, &sirql);
		svc->dead = TRUE;
		if (svc->file) {
			pva_svc_drain_file(svc, svc->file, &done);
			svc->file = NULL;
		}
		KeReleaseSpinLock(&svc->lock, sirql);
	}
	dev->nr_svc = 0;
	dev->state = state;
	KeReleaseSpinLock(&dev->lock, irql);
	pva_complete_list(dev, &done, STATUS_CONNECTION_RESET);
	for (i = 0; i < n; i++)
		pva_svc_put(old[i]);
}

/* ---- negotiation ---- */

/* Wait for a vector-0 signal or one slice; FALSE once @deadline passed. */
static BOOLEAN pva_cfg_wait(struct pva_dev *dev, ULONGLONG deadline)
{
	LARGE_INTEGER slice;

	if (dev->stopping || KeQueryInterruptTime() >= deadline)
		return FALSE;
	slice.QuadPart = PVA_MS(PVA_WAIT_SLICE_MS);
	KeWaitForSingleObject(&dev->cfg_event, Executive, KernelMode, FALSE,
			      &slice);
	return TRUE;
}

/*
 * One negotiation round. Returns 0, a PVA_GERR_* reason (> 0) to give up
 * with, PVA_NEG_AGAIN if the host restarted meanwhile, PVA_NEG_STOP.
 */
static int pva_negotiate(struct pva_dev *dev)
{
	struct pva_host_area *h = &dev->hdr->host;
	struct pva_guest_area *g = &dev->hdr->guest;
	__u16 hmin, hmax, mine = PVA_VERSION_MAJOR;
	__u32 gen, seq, status;
	ULONGLONG deadline;
	__u64 want = PVA_F_KNOWN;

	/* Failures are final for this generation: remember which it was. */
	gen = pva_shm_load(&h->generation);
	dev->generation = gen;
	if (!pva_header_valid(dev))
		return PVA_GERR_LAYOUT;
	deadline = KeQueryInterruptTime() + PVA_TICKS(PVA_NEGOTIATE_TIMEOUT_MS);
	while (pva_shm_load(&h->host_status) != PVA_HOST_READY)
		if (!pva_cfg_wait(dev, deadline))
			return dev->stopping ? PVA_NEG_STOP : PVA_GERR_TIMEOUT;
	if (pva_shm_load(&h->generation) != gen)
		return PVA_NEG_AGAIN;
	hmin = pva_le16(pva_load_once(&h->major_min));
	hmax = pva_le16(pva_load_once(&h->major_max));
	if (hmin > mine || hmax < PVA_VERSION_MAJOR) {
		pva_err(dev, "host speaks protocol %u-%u, this driver %u-%u",
			hmin, hmax, PVA_VERSION_MAJOR, mine);
		return PVA_GERR_VERSION;
	}

	g->status = pva_cpu32(PVA_GUEST_NEGOTIATING);
	g->major_min = pva_cpu16(PVA_VERSION_MAJOR);
	g->major_max = pva_cpu16(mine);
	g->minor = pva_cpu16(PVA_VERSION_MINOR);
	g->nr_vectors = pva_cpu16((__u16)(dev->nvec ? dev->nvec : 1));
	g->generation = pva_cpu32(gen);
	g->error = 0;
	g->features = pva_cpu64(want);
	/* req_seq survives driver reloads: continue from what is there */
	seq = pva_le32(pva_load_once(&g->req_seq)) + 1;
	pva_shm_store(&g->req_seq, seq);
	pva_doorbell(dev, PVA_CONFIG_VECTOR);

	deadline = KeQueryInterruptTime() + PVA_TICKS(PVA_NEGOTIATE_TIMEOUT_MS);
	for (;;) {
		if (pva_shm_load(&h->generation) != gen)
			return PVA_NEG_AGAIN;
		if (pva_shm_load(&h->ack_seq) == seq)
			break;
		if (!pva_cfg_wait(dev, deadline)) {
			if (dev->stopping)
				return PVA_NEG_STOP;
			pva_err(dev, "the host did not answer the negotiation request");
			return PVA_GERR_TIMEOUT;
		}
	}
	status = pva_le32(pva_load_once(&h->ack_status));
	if (status != PVA_NEG_OK) {
		pva_err(dev, "negotiation refused (%s): guest speaks %u-%u.%u, host %u-%u",
			status == PVA_NEG_VERSION ? "no common version" :
			"request invalid", PVA_VERSION_MAJOR, mine,
			PVA_VERSION_MINOR, hmin, hmax);
		return PVA_GERR_VERSION;
	}
	dev->major = pva_le16(pva_load_once(&h->ack_major));
	dev->minor = pva_le16(pva_load_once(&h->ack_minor));
	/* Never use what we did not ask for, nor what we do not know. */
	dev->features = pva_le64(pva_load_once(&h->ack_features)) & want &
			PVA_F_KNOWN;
	if (dev->major != PVA_VERSION_MAJOR) {
		pva_err(dev, "host chose protocol %u.%u, which this driver does not speak",
			dev->major, dev->minor);
		return PVA_GERR_VERSION;
	}
	hmax = pva_le16(pva_load_once(&h->nr_vectors));
	dev->active_nvec = dev->nvec ? dev->nvec : 1;
	if (hmax < dev->active_nvec)
		dev->active_nvec = hmax ? hmax : 1;
	return 0;
}

/* CTRL_GUEST_INFO (PROTOCOL.md 6.1), after every negotiation. */
static void pva_send_guest_info(struct pva_dev *dev)
{
	struct pva_guest_info info;
	RTL_OSVERSIONINFOW ver;
	PPHYSICAL_MEMORY_RANGE ranges;
	struct pva_svc *svc = NULL;
	char *p;
	KIRQL irql;
	int ret = -1;

	if (!(dev->features & PVA_F_GUEST_INFO))
		return;
	RtlZeroMemory(&info, sizeof(info));
	RtlZeroMemory(&ver, sizeof(ver));
	ver.dwOSVersionInfoSize = sizeof(ver);
	RtlGetVersion(&ver);
	/* "Windows 10.0.22631": major.minor.build, as uname -r would */
	p = info.kernel;
	RtlCopyMemory(p, "Windows ", 8);
	p += 8;
	{
		ULONG parts[3] = { ver.dwMajorVersion, ver.dwMinorVersion,
				   ver.dwBuildNumber };
		int i;

		for (i = 0; i < 3; i++) {
			char digits[12];
			int nd = 0;
			ULONG v = parts[i];

			do {
				digits[nd++] = (char)('0' + v % 10);
				v /= 10;
			} while (v && nd < 11);
			while (nd)
				*p++ = digits[--nd];
			if (i < 2)
				*p++ = '.';
		}
	}
	RtlCopyMemory(info.arch, "x86_64", 7);
	RtlCopyMemory(info.driver, PVA_DRIVER_VERSION,
		      sizeof(PVA_DRIVER_VERSION) < sizeof(info.driver) ?
		      sizeof(PVA_DRIVER_VERSION) : sizeof(info.driver) - 1);
	info.page_size = pva_cpu32(PAGE_SIZE);
	info.nr_cpus = pva_cpu32(KeQueryActiveProcessorCount(NULL));
#ifdef PVA_WINE_TEST
	ranges = NULL;		/* wine does not implement it */
#else
	ranges = MmGetPhysicalMemoryRanges();
#endif
	if (ranges) {
		__u64 total = 0;
		PPHYSICAL_MEMORY_RANGE r;

		for (r = ranges; r->BaseAddress.QuadPart || r->NumberOfBytes.QuadPart; r++)
			total += (__u64)r->NumberOfBytes.QuadPart;
		info.mem_total = pva_cpu64(total);
		ExFreePool(ranges);
	}

	KeAcquireSpinLock(&dev->lock, &irql);
	if (dev->nr_svc) {
		svc = dev->svc[0];	/* the control service */
		pva_svc_get(svc);
	}
	KeReleaseSpinLock(&dev->lock, irql);
	if (!svc)
		return;
	KeAcquireSpinLock(&svc->lock, &irql);
	if (!svc->dead && !svc->broken)
		ret = pva_svc_send_locked(svc, PVA_CTRL_GUEST_INFO, 0, 0, 0,
					  &info, sizeof(info));
	KeReleaseSpinLock(&svc->lock, irql);
	pva_svc_put(svc);
	if (ret)
		pva_warn(dev, "cannot send the guest information");
}

/* Negotiate and build the new generation (worker thread). */
static void pva_bring_up(struct pva_dev *dev)
{
	struct pva_guest_area *g = &dev->hdr->guest;
	int tries = 5, ret;

	pva_teardown(dev, PVA_WIN_STATE_NEGOTIATING);
	if (dev->stopping)
		return;
	do {
		ret = pva_negotiate(dev);
		if (!ret && !pva_read_table(dev))
			ret = PVA_GERR_LAYOUT;
		/* the table is valid only for the generation we negotiated */
		if (!ret && pva_shm_load(&dev->hdr->host.generation) !=
		    dev->generation) {
			pva_teardown(dev, PVA_WIN_STATE_NEGOTIATING);
			ret = PVA_NEG_AGAIN;
		}
	} while (ret == PVA_NEG_AGAIN && --tries);
	if (ret == PVA_NEG_STOP)
		return;
	if (ret) {
		if (ret < 0)
			ret = PVA_GERR_TIMEOUT;	/* the host keeps restarting */
		pva_err(dev, "device not usable: %s; waiting for the host to reset it",
			pva_gerr_names[ret]);
		pva_dev_fail(dev, (__u32)ret);
		return;
	}
	pva_shm_store(&g->status, PVA_GUEST_RUNNING);
	pva_doorbell(dev, PVA_CONFIG_VECTOR);
	dev->resets++;
	InterlockedExchange(&dev->ring_error, 0);
	pva_set_state(dev, PVA_WIN_STATE_RUNNING);
	pva_info(dev, "protocol %u.%u, features 0x%I64x, %u vectors, generation %u, %u services",
		 dev->major, dev->minor, dev->features, dev->active_nvec,
		 dev->generation, dev->nr_svc);
	pva_send_guest_info(dev);
	/* messages may be waiting already */
	pva_process_vectors(dev, ~0ull);
}

/* A ring went bad: stop using every ring until the host resets. */
static void pva_fail_ring(struct pva_dev *dev)
{
	if (dev->state != PVA_WIN_STATE_RUNNING)
		return;
	pva_teardown(dev, PVA_WIN_STATE_NEGOTIATING);
	pva_dev_fail(dev, PVA_GERR_RING);
}

/* Called with svc->lock held, from any context. */
void pva_ring_error(struct pva_svc *svc, const char *what)
{
	struct pva_dev *dev = svc->dev;

	svc->broken = TRUE;
	if (InterlockedExchange(&dev->ring_error, 1))
		return;
	/* A restarted host rewrites the rings before we notice: not an error. */
	if (pva_shm_load(&dev->hdr->host.generation) != dev->generation) {
		pva_info(dev, "host restarted; renegotiating");
		pva_queue_work(dev, PVA_WORK_RESET);
		return;
	}
	pva_err(dev, "service %s: %s; stopping until the host resets the device",
		svc->name, what);
	pva_queue_work(dev, PVA_WORK_FAIL);
}

/*
 * Vector 0 or heartbeat: wake the negotiation, and renegotiate when the
 * host side changed. Any context up to DISPATCH_LEVEL.
 */
void pva_check_config(struct pva_dev *dev)
{
	struct pva_host_area *h = &dev->hdr->host;
	__u32 state = dev->state, gen;

	KeSetEvent(&dev->cfg_event, IO_NO_INCREMENT, FALSE);
	if (dev->stopping || dev->gone || state == PVA_WIN_STATE_NEGOTIATING ||
	    state == PVA_WIN_STATE_PROBED)
		return;
	gen = pva_shm_load(&h->generation);
	if (gen != dev->generation ||
	    (state == PVA_WIN_STATE_FAILED &&
	     dev->fail_reason == PVA_GERR_TIMEOUT &&
	     KeQueryInterruptTime() - (ULONGLONG)dev->failed_at >
	     PVA_TICKS(PVA_NEGOTIATE_TIMEOUT_MS)))
		pva_queue_work(dev, PVA_WORK_RESET);
}

static VOID NTAPI pva_worker(PVOID ctx)
{
	struct pva_dev *dev = ctx;
	LONG work;

	for (;;) {
		KeWaitForSingleObject(&dev->work_event, Executive, KernelMode,
				      FALSE, NULL);
		if (dev->stopping)
			break;
		work = InterlockedExchange(&dev->work, 0);
		if (work & PVA_WORK_FAIL)
			pva_fail_ring(dev);
		if (work & PVA_WORK_RESET)
			pva_bring_up(dev);
	}
	PsTerminateSystemThread(STATUS_SUCCESS);
}

/*
 * The hardware is mapped and the interrupts (if any) connected: start the
 * worker, the heartbeat, and the first negotiation.
 */
NTSTATUS pva_dev_start(struct pva_dev *dev)
{
	OBJECT_ATTRIBUTES oa;
	NTSTATUS status;

	dev->stopping = 0;
	dev->work = 0;
	dev->state = PVA_WIN_STATE_PROBED;
	InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
	status = PsCreateSystemThread(&dev->worker, THREAD_ALL_ACCESS, &oa,
				      NULL, NULL, pva_worker, dev);
	if (!NT_SUCCESS(status)) {
		pva_err(dev, "cannot create the worker thread (0x%08lx)", status);
		dev->worker = NULL;
		return status;
	}
	dev->started = TRUE;
	pva_timer_start(dev);
	pva_queue_work(dev, PVA_WORK_RESET);
	return STATUS_SUCCESS;
}

/*
 * Stop everything pva_dev_start() started; fail pending I/O; tell the
 * host we are gone (unless the hardware is). The caller disconnects the
 * interrupts and unmaps afterwards.
 */
void pva_dev_stop(struct pva_dev *dev)
{
	if (!dev->started)
		return;
	InterlockedExchange(&dev->stopping, 1);
	KeSetEvent(&dev->cfg_event, IO_NO_INCREMENT, FALSE);
	KeSetEvent(&dev->work_event, IO_NO_INCREMENT, FALSE);
	if (dev->worker) {
		/* the thread object is signalled once the thread is gone */
		ZwWaitForSingleObject(dev->worker, FALSE, NULL);
		ZwClose(dev->worker);
		dev->worker = NULL;
	}
	pva_timer_stop(dev);
	pva_teardown(dev, PVA_WIN_STATE_PROBED);
	pva_unpark(dev);		/* fails what waited for the device */
	if (!dev->gone) {
		pva_shm_store(&dev->hdr->guest.status, PVA_GUEST_RESET);
		pva_doorbell(dev, PVA_CONFIG_VECTOR);
	}
	dev->started = FALSE;
}
