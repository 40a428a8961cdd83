// SPDX-License-Identifier: MIT
/*
 * pva.sys: DriverEntry, the dispatch table, device objects and their
 * names, IRP completion and logging.
 */
#include "pva_drv.h"

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD pva_unload;

PDRIVER_OBJECT pva_driver;
BOOLEAN pva_param_force_poll;

/* Instance numbers in use (bit n: \Device\PvaDevice<n>). */
static volatile LONG pva_instances;

void pva_log(ULONG level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vDbgPrintEx(DPFLTR_IHVDRIVER_ID, level, fmt, ap);
	va_end(ap);
}

/* Complete @irp and drop the remove lock its dispatch routine took. */
void pva_complete(struct pva_dev *dev, PIRP irp, NTSTATUS status,
		  ULONG_PTR info)
{
	irp->IoStatus.Status = status;
	irp->IoStatus.Information = info;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	IoReleaseRemoveLock(&dev->remove_lock, irp);
}

/*
 * Complete every IRP on @list (linked by Tail.Overlay.ListEntry), each
 * with its own IoStatus if @status is STATUS_SUCCESS (set by whoever
 * queued it there), else with @status.
 */
void pva_complete_list(struct pva_dev *dev, PLIST_ENTRY list,
		       NTSTATUS status)
{
	while (!IsListEmpty(list)) {
		PLIST_ENTRY e = RemoveHeadList(list);
		PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);

		if (status == STATUS_SUCCESS)
			pva_complete(dev, irp, irp->IoStatus.Status,
				     irp->IoStatus.Information);
		else
			pva_complete(dev, irp, status, 0);
	}
}

static int pva_alloc_instance(void)
{
	LONG old, want;
	int i;

	for (i = 0; i < PVA_MAX_INSTANCES; i++) {
		do {
			old = pva_instances;
			if (old & (1L << i))
				break;
			want = old | (1L << i);
		} while (InterlockedCompareExchange(&pva_instances, want, old) != old);
		if (!(old & (1L << i)))
			return i;
	}
	return -1;
}

static void pva_free_instance(int i)
{
	LONG old;

	do {
		old = pva_instances;
	} while (InterlockedCompareExchange(&pva_instances, old & ~(1L << i),
					    old) != old);
}

/* "<prefix>" for instance 0, "<prefix><n>" after, like Linux's pva, pva1. */
static void pva_make_name(WCHAR *buf, size_t cap, const WCHAR *prefix,
			  int instance, UNICODE_STRING *out)
{
	size_t n = 0;

	while (prefix[n] && n + 4 < cap) {
		buf[n] = prefix[n];
		n++;
	}
	if (instance >= 10)
		buf[n++] = (WCHAR)(L'0' + instance / 10);
	if (instance > 0)
		buf[n++] = (WCHAR)(L'0' + instance % 10);
	buf[n] = 0;
	out->Buffer = buf;
	out->Length = (USHORT)(n * sizeof(WCHAR));
	out->MaximumLength = (USHORT)(cap * sizeof(WCHAR));
}

/*
 * Create a pva device object with its name and \DosDevices link (the
 * user-mode \\.\PvaDevice), and initialise its extension.
 */
NTSTATUS pva_create_device(PDRIVER_OBJECT drv, struct pva_dev **out)
{
	WCHAR nt_buf[32];
	UNICODE_STRING nt_name;
	PDEVICE_OBJECT devobj;
	struct pva_dev *dev;
	NTSTATUS status;
	int instance;

	instance = pva_alloc_instance();
	if (instance < 0)
		return STATUS_TOO_MANY_NODES;
	pva_make_name(nt_buf, ARRAYSIZE(nt_buf), PVA_WIN_NT_NAME, instance,
		      &nt_name);
	/*
	 * FILE_DEVICE_SECURE_OPEN: the device's security descriptor (the
	 * INF gives SYSTEM and Administrators access only) also guards
	 * opens of names below it.
	 */
	status = IoCreateDevice(drv, sizeof(*dev), &nt_name, FILE_DEVICE_PVA,
				FILE_DEVICE_SECURE_OPEN, FALSE, &devobj);
	if (!NT_SUCCESS(status)) {
		pva_free_instance(instance);
		return status;
	}
	dev = devobj->DeviceExtension;
	RtlZeroMemory(dev, sizeof(*dev));
	dev->self = devobj;
	dev->instance = instance;
	pva_make_name(dev->nt_name_buf, ARRAYSIZE(dev->nt_name_buf),
		      PVA_WIN_NT_NAME, instance, &dev->nt_name);
	pva_make_name(dev->dos_name_buf, ARRAYSIZE(dev->dos_name_buf),
		      PVA_WIN_DOS_NAME, instance, &dev->dos_name);
	IoInitializeRemoveLock(&dev->remove_lock, PVA_POOL_TAG, 0, 0);
	KeInitializeSpinLock(&dev->lock);
	KeInitializeEvent(&dev->work_event, SynchronizationEvent, FALSE);
	KeInitializeEvent(&dev->cfg_event, SynchronizationEvent, FALSE);
	KeInitializeDpc(&dev->dpc, pva_dpc, dev);
	pva_queue_init(&dev->parked, dev);
	dev->force_poll = pva_param_force_poll;
	dev->state = PVA_WIN_STATE_PROBED;

	status = IoCreateSymbolicLink(&dev->dos_name, &dev->nt_name);
	if (!NT_SUCCESS(status)) {
		IoDeleteDevice(devobj);
		pva_free_instance(instance);
		return status;
	}
	dev->link_created = TRUE;
	/* One message per ReadFile/WriteFile, copied through system buffers. */
	devobj->Flags |= DO_BUFFERED_IO;
	*out = dev;
	return STATUS_SUCCESS;
}

void pva_delete_device(struct pva_dev *dev)
{
	int instance = dev->instance;

	if (dev->link_created)
		IoDeleteSymbolicLink(&dev->dos_name);
	dev->link_created = FALSE;
	IoDeleteDevice(dev->self);
	pva_free_instance(instance);
}

/*
 * Parameters\ForcePoll (REG_DWORD) under the service key: poll the rings
 * from a timer instead of using interrupts, like Linux's force_poll.
 */
BOOLEAN pva_read_force_poll(PUNICODE_STRING registry_path)
{
	static const WCHAR suffix[] = L"\\Parameters";
	UCHAR buf[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG)];
	PKEY_VALUE_PARTIAL_INFORMATION val = (PVOID)buf;
	UNICODE_STRING path, name;
	OBJECT_ATTRIBUTES oa;
	BOOLEAN ret = FALSE;
	HANDLE key;
	ULONG got;

	if (!registry_path || !registry_path->Buffer)
		return FALSE;
	path.MaximumLength = registry_path->Length + sizeof(suffix);
	path.Length = 0;
	path.Buffer = ExAllocatePoolWithTag(PagedPool, path.MaximumLength,
					    PVA_POOL_TAG);
	if (!path.Buffer)
		return FALSE;
	RtlCopyUnicodeString(&path, registry_path);
	RtlAppendUnicodeToString(&path, suffix);
	InitializeObjectAttributes(&oa, &path,
				   OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE,
				   NULL, NULL);
	if (NT_SUCCESS(ZwOpenKey(&key, KEY_READ, &oa))) {
		RtlInitUnicodeString(&name, L"ForcePoll");
		if (NT_SUCCESS(ZwQueryValueKey(key, &name,
					       KeyValuePartialInformation,
					       val, sizeof(buf), &got)) &&
		    val->Type == REG_DWORD && val->DataLength == sizeof(ULONG))
			ret = *(ULONG *)val->Data != 0;
		ZwClose(key);
	}
	ExFreePoolWithTag(path.Buffer, PVA_POOL_TAG);
	return ret;
}

static VOID NTAPI pva_unload(PDRIVER_OBJECT drv)
{
#ifdef PVA_WINE_TEST
	pva_test_destroy(drv);
#else
	/* PnP removed every device before the driver is unloaded. */
	UNREFERENCED_PARAMETER(drv);
#endif
	pva_log(DPFLTR_INFO_LEVEL, "pva: driver unloaded\n");
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING registry_path)
{
	pva_driver = drv;
	pva_param_force_poll = pva_read_force_poll(registry_path);

	drv->MajorFunction[IRP_MJ_CREATE] = pva_dispatch_create;
	drv->MajorFunction[IRP_MJ_CLEANUP] = pva_dispatch_cleanup;
	drv->MajorFunction[IRP_MJ_CLOSE] = pva_dispatch_close;
	drv->MajorFunction[IRP_MJ_READ] = pva_dispatch_read;
	drv->MajorFunction[IRP_MJ_WRITE] = pva_dispatch_write;
	drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = pva_dispatch_ioctl;
	drv->DriverUnload = pva_unload;
	pva_log(DPFLTR_INFO_LEVEL, "pva: driver %s loaded%s\n",
		PVA_DRIVER_VERSION,
		pva_param_force_poll ? " (ForcePoll: polling the rings)" : "");
#ifdef PVA_WINE_TEST
	/* No PnP manager: the device exists from the start (wine_test.c). */
	return pva_test_create(drv);
#else
	drv->MajorFunction[IRP_MJ_PNP] = pva_dispatch_pnp;
	drv->MajorFunction[IRP_MJ_POWER] = pva_dispatch_power;
	drv->MajorFunction[IRP_MJ_SYSTEM_CONTROL] = pva_dispatch_system_control;
	drv->MajorFunction[IRP_MJ_SHUTDOWN] = pva_dispatch_shutdown;
	drv->DriverExtension->AddDevice = pva_add_device;
	return STATUS_SUCCESS;
#endif
}
