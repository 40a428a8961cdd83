// SPDX-License-Identifier: MIT
/*
 * Plug and Play for the real device (not in the test build): AddDevice,
 * IRP_MN_START_DEVICE with the translated resources (BAR0 registers and
 * BAR2 shared memory mapped with MmMapIoSpace), stop, surprise removal
 * and removal, and the power, WMI and shutdown IRPs, which go down the
 * stack. The counterpart of kernel/linux/core/pci.c.
 */
#include <initguid.h>		/* instantiates GUID_DEVINTERFACE_PVA */
#include "pva_drv.h"
#include <wdmguid.h>		/* GUID_BUS_INTERFACE_STANDARD */

#define PVA_PCI_VENDOR		0x1af4	/* ivshmem */
#define PVA_PCI_DEVICE		0x1110

static NTSTATUS pva_pass_down(struct pva_dev *dev, PIRP irp)
{
	NTSTATUS status;

	IoSkipCurrentIrpStackLocation(irp);
	status = IoCallDriver(dev->lower, irp);
	IoReleaseRemoveLock(&dev->remove_lock, irp);
	return status;
}

static NTSTATUS NTAPI pva_sync_done(PDEVICE_OBJECT devobj, PIRP irp, PVOID ctx)
{
	UNREFERENCED_PARAMETER(devobj);
	if (irp->PendingReturned)
		KeSetEvent(ctx, IO_NO_INCREMENT, FALSE);
	return STATUS_MORE_PROCESSING_REQUIRED;	/* we finish the IRP */
}

/* Send @irp down and wait for the lower drivers (start: bus first). */
static NTSTATUS pva_forward_sync(struct pva_dev *dev, PIRP irp)
{
	KEVENT done;
	NTSTATUS status;

	KeInitializeEvent(&done, NotificationEvent, FALSE);
	IoCopyCurrentIrpStackLocationToNext(irp);
	IoSetCompletionRoutine(irp, pva_sync_done, &done, TRUE, TRUE, TRUE);
	status = IoCallDriver(dev->lower, irp);
	if (status == STATUS_PENDING) {
		KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
		status = irp->IoStatus.Status;
	}
	return status;
}

/* ---- resources ---- */

/* The PCI configuration header, through the bus driver's interface. */
static NTSTATUS pva_read_config(struct pva_dev *dev, PCI_COMMON_CONFIG *cfg)
{
	BUS_INTERFACE_STANDARD bus;
	IO_STATUS_BLOCK iosb;
	PIO_STACK_LOCATION st;
	PDEVICE_OBJECT top;
	NTSTATUS status;
	KEVENT done;
	ULONG got;
	PIRP irp;

	RtlZeroMemory(&bus, sizeof(bus));
	KeInitializeEvent(&done, NotificationEvent, FALSE);
	top = IoGetAttachedDeviceReference(dev->self);
	irp = IoBuildSynchronousFsdRequest(IRP_MJ_PNP, top, NULL, 0, NULL,
					   &done, &iosb);
	if (!irp) {
		ObDereferenceObject(top);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	irp->IoStatus.Status = STATUS_NOT_SUPPORTED;	/* PnP IRPs start so */
	st = IoGetNextIrpStackLocation(irp);
	st->MinorFunction = IRP_MN_QUERY_INTERFACE;
	st->Parameters.QueryInterface.InterfaceType = &GUID_BUS_INTERFACE_STANDARD;
	st->Parameters.QueryInterface.Size = sizeof(bus);
	st->Parameters.QueryInterface.Version = 1;
	st->Parameters.QueryInterface.Interface = (PINTERFACE)&bus;
	st->Parameters.QueryInterface.InterfaceSpecificData = NULL;
	status = IoCallDriver(top, irp);
	if (status == STATUS_PENDING) {
		KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
		status = iosb.Status;
	}
	ObDereferenceObject(top);
	if (!NT_SUCCESS(status))
		return status;
	got = bus.GetBusData(bus.Context, PCI_WHICHSPACE_CONFIG, cfg, 0,
			     PCI_COMMON_HDR_LENGTH);
	bus.InterfaceDereference(bus.Context);
	return got == PCI_COMMON_HDR_LENGTH ? STATUS_SUCCESS :
	       STATUS_DEVICE_DATA_ERROR;
}

/* Length of a memory resource, large ones included. */
static __u64 pva_mem_len(const CM_PARTIAL_RESOURCE_DESCRIPTOR *d)
{
	if (d->Type != CmResourceTypeMemoryLarge)
		return d->u.Memory.Length;
	if (d->Flags & CM_RESOURCE_MEMORY_LARGE_40)
		return (__u64)d->u.Memory40.Length40 << 8;
	if (d->Flags & CM_RESOURCE_MEMORY_LARGE_48)
		return (__u64)d->u.Memory48.Length48 << 16;
	if (d->Flags & CM_RESOURCE_MEMORY_LARGE_64)
		return (__u64)d->u.Memory64.Length64 << 32;
	return 0;
}

static BOOLEAN pva_is_mem(const CM_PARTIAL_RESOURCE_DESCRIPTOR *d)
{
	return d->Type == CmResourceTypeMemory ||
	       d->Type == CmResourceTypeMemoryLarge;
}

/*
 * Find BAR0 and BAR2 among the memory resources: the raw (bus) address of
 * each resource is matched with the BARs in configuration space, and the
 * translated resource at the same index is what we map. Without the
 * configuration space, take ivshmem's shape: the 256-byte BAR is the
 * registers, the largest is the shared memory.
 */
static NTSTATUS pva_find_bars(struct pva_dev *dev, PCM_RESOURCE_LIST raw,
			      PCM_RESOURCE_LIST trans, PHYSICAL_ADDRESS *regs,
			      SIZE_T *regs_len, PHYSICAL_ADDRESS *shm,
			      __u64 *shm_len)
{
	PCM_PARTIAL_RESOURCE_LIST rl, tl;
	PCI_COMMON_CONFIG cfg;
	__u64 bar0 = 0, bar2 = 0, best = 0;
	BOOLEAN have_cfg;
	NTSTATUS status;
	ULONG i;

	if (!raw || !trans || raw->Count < 1 || trans->Count < 1)
		return STATUS_DEVICE_CONFIGURATION_ERROR;
	rl = &raw->List[0].PartialResourceList;
	tl = &trans->List[0].PartialResourceList;
	if (rl->Count != tl->Count)
		return STATUS_DEVICE_CONFIGURATION_ERROR;

	status = pva_read_config(dev, &cfg);
	have_cfg = NT_SUCCESS(status);
	if (have_cfg) {
		if (cfg.VendorID != PVA_PCI_VENDOR || cfg.DeviceID != PVA_PCI_DEVICE) {
			pva_err(dev, "PCI %04x:%04x is not an ivshmem device",
				cfg.VendorID, cfg.DeviceID);
			return STATUS_DEVICE_CONFIGURATION_ERROR;
		}
		bar0 = cfg.u.type0.BaseAddresses[0] & PCI_ADDRESS_MEMORY_ADDRESS_MASK;
		bar2 = cfg.u.type0.BaseAddresses[2] & PCI_ADDRESS_MEMORY_ADDRESS_MASK;
		if ((cfg.u.type0.BaseAddresses[2] & PCI_ADDRESS_MEMORY_TYPE_MASK) ==
		    PCI_TYPE_64BIT)
			bar2 |= (__u64)cfg.u.type0.BaseAddresses[3] << 32;
	} else {
		pva_warn(dev, "cannot read the PCI configuration (0x%08lx): guessing the BARs",
			 status);
	}
	regs->QuadPart = 0;
	shm->QuadPart = 0;
	*regs_len = 0;
	*shm_len = 0;
	for (i = 0; i < rl->Count; i++) {
		PCM_PARTIAL_RESOURCE_DESCRIPTOR r = &rl->PartialDescriptors[i];
		PCM_PARTIAL_RESOURCE_DESCRIPTOR t = &tl->PartialDescriptors[i];
		__u64 start, len;

		if (!pva_is_mem(r) || !pva_is_mem(t))
			continue;
		start = (__u64)r->u.Memory.Start.QuadPart;
		len = pva_mem_len(t);
		if (have_cfg ? start == bar0 : (len == 256 && !*regs_len)) {
			*regs = t->u.Memory.Start;
			*regs_len = (SIZE_T)len;
		} else if (have_cfg ? start == bar2 : len > best) {
			*shm = t->u.Memory.Start;
			*shm_len = len;
			best = len;
		}
	}
	if (*regs_len < PVA_BAR0_MIN || *shm_len < 2 * PVA_HEADER_SIZE ||
	    (*shm_len & (*shm_len - 1)) || *shm_len > ((__u64)1 << 40)) {
		pva_err(dev, "unexpected BARs (registers %I64u bytes, shared memory %I64u bytes)",
			(__u64)*regs_len, *shm_len);
		return STATUS_DEVICE_CONFIGURATION_ERROR;
	}
	return STATUS_SUCCESS;
}

/* ---- start and stop ---- */

static void pva_hw_stop(struct pva_dev *dev)
{
	pva_dev_stop(dev);
	pva_intr_disconnect(dev);
	if (dev->shm) {
		MmUnmapIoSpace(dev->shm, (SIZE_T)dev->shm_size);
		dev->shm = NULL;
		dev->hdr = NULL;
	}
	if (dev->regs) {
		MmUnmapIoSpace((PVOID)dev->regs, dev->regs_len);
		dev->regs = NULL;
	}
	if (dev->ifname.Buffer)
		IoSetDeviceInterfaceState(&dev->ifname, FALSE);
}

static NTSTATUS pva_hw_start(struct pva_dev *dev, PCM_RESOURCE_LIST raw,
			     PCM_RESOURCE_LIST trans)
{
	PHYSICAL_ADDRESS regs, shm;
	SIZE_T regs_len;
	__u64 shm_len;
	NTSTATUS status;

	if (dev->started)
		pva_hw_stop(dev);	/* a second start: begin afresh */
	status = pva_find_bars(dev, raw, trans, &regs, &regs_len, &shm, &shm_len);
	if (!NT_SUCCESS(status))
		return status;
	dev->regs = MmMapIoSpace(regs, regs_len, MmNonCached);
	if (!dev->regs)
		return STATUS_INSUFFICIENT_RESOURCES;
	dev->regs_len = regs_len;
	/* The shared memory is RAM on both sides: map it cacheable if we can. */
	dev->shm = MmMapIoSpace(shm, (SIZE_T)shm_len, MmCached);
	if (!dev->shm)
		dev->shm = MmMapIoSpace(shm, (SIZE_T)shm_len, MmNonCached);
	if (!dev->shm) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto fail;
	}
	dev->shm_size = shm_len;
	dev->shm_phys = shm;
	dev->hdr = (struct pva_header *)dev->shm;
	if (!pva_check_magic(dev)) {
		status = STATUS_DEVICE_CONFIGURATION_ERROR;	/* another ivshmem user */
		goto fail;
	}
	status = pva_intr_connect(dev);
	if (!NT_SUCCESS(status))
		goto fail;
	status = pva_dev_start(dev);
	if (!NT_SUCCESS(status))
		goto fail;
	if (dev->ifname.Buffer)
		IoSetDeviceInterfaceState(&dev->ifname, TRUE);
	if (!dev->shutdown_registered &&
	    NT_SUCCESS(IoRegisterShutdownNotification(dev->self)))
		dev->shutdown_registered = TRUE;
	pva_info(dev, "pva device: %I64u KiB shared memory, %s, guest peer %lu",
		 shm_len >> 10, dev->nvec ? (dev->intr_version == CONNECT_LINE_BASED ?
		 "line interrupt" : "MSI-X") : "polling",
		 READ_REGISTER_ULONG((PULONG)(dev->regs + PVA_REG_IVPOSITION)));
	return STATUS_SUCCESS;

fail:
	pva_hw_stop(dev);
	return status;
}

/* ---- IRP_MJ_PNP ---- */

NTSTATUS pva_add_device(PDRIVER_OBJECT drv, PDEVICE_OBJECT pdo)
{
	struct pva_dev *dev;
	NTSTATUS status;

	status = pva_create_device(drv, &dev);
	if (!NT_SUCCESS(status))
		return status;
	dev->pdo = pdo;
	dev->lower = IoAttachDeviceToDeviceStack(dev->self, pdo);
	if (!dev->lower) {
		pva_delete_device(dev);
		return STATUS_NO_SUCH_DEVICE;
	}
	/* power IRPs come at the level the PCI bus driver asked for */
	dev->self->Flags |= dev->lower->Flags & DO_POWER_PAGABLE;
	status = IoRegisterDeviceInterface(pdo, &GUID_DEVINTERFACE_PVA, NULL,
					   &dev->ifname);
	if (!NT_SUCCESS(status)) {
		/* \\.\PvaDevice still works */
		pva_warn(dev, "cannot register the device interface (0x%08lx)",
			 status);
		dev->ifname.Buffer = NULL;
	}
	dev->self->Flags &= ~DO_DEVICE_INITIALIZING;
	return STATUS_SUCCESS;
}

static NTSTATUS pva_remove(struct pva_dev *dev, PIRP irp)
{
	NTSTATUS status;

	pva_hw_stop(dev);
	if (dev->shutdown_registered)
		IoUnregisterShutdownNotification(dev->self);
	dev->shutdown_registered = FALSE;
	if (dev->ifname.Buffer) {
		RtlFreeUnicodeString(&dev->ifname);
		dev->ifname.Buffer = NULL;
	}
	irp->IoStatus.Status = STATUS_SUCCESS;
	IoSkipCurrentIrpStackLocation(irp);
	status = IoCallDriver(dev->lower, irp);
	/* every IRP in flight has finished (pva_hw_stop failed the queued ones) */
	IoReleaseRemoveLockAndWait(&dev->remove_lock, irp);
	IoDetachDevice(dev->lower);
	pva_delete_device(dev);
	return status;
}

NTSTATUS pva_dispatch_pnp(PDEVICE_OBJECT devobj, PIRP irp)
{
	struct pva_dev *dev = devobj->DeviceExtension;
	PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(irp);
	NTSTATUS status;

	status = IoAcquireRemoveLock(&dev->remove_lock, irp);
	if (!NT_SUCCESS(status)) {
		irp->IoStatus.Status = status;
		IoCompleteRequest(irp, IO_NO_INCREMENT);
		return status;
	}
	switch (stack->MinorFunction) {
	case IRP_MN_START_DEVICE:
		status = pva_forward_sync(dev, irp);
		if (NT_SUCCESS(status))
			status = pva_hw_start(dev,
				stack->Parameters.StartDevice.AllocatedResources,
				stack->Parameters.StartDevice.AllocatedResourcesTranslated);
		pva_complete(dev, irp, status, 0);
		return status;

	case IRP_MN_QUERY_STOP_DEVICE:
	case IRP_MN_QUERY_REMOVE_DEVICE:
	case IRP_MN_CANCEL_STOP_DEVICE:
	case IRP_MN_CANCEL_REMOVE_DEVICE:
		/* a stop is a device reset to the handles: nothing to refuse */
		irp->IoStatus.Status = STATUS_SUCCESS;
		return pva_pass_down(dev, irp);

	case IRP_MN_STOP_DEVICE:
		pva_hw_stop(dev);
		irp->IoStatus.Status = STATUS_SUCCESS;
		return pva_pass_down(dev, irp);

	case IRP_MN_SURPRISE_REMOVAL:
		/* the hardware is gone: touch neither registers nor memory */
		InterlockedExchange(&dev->gone, 1);
		pva_hw_stop(dev);
		irp->IoStatus.Status = STATUS_SUCCESS;
		return pva_pass_down(dev, irp);

	case IRP_MN_REMOVE_DEVICE:
		return pva_remove(dev, irp);

	default:
		return pva_pass_down(dev, irp);
	}
}

/* ---- power, WMI, shutdown ---- */

NTSTATUS pva_dispatch_power(PDEVICE_OBJECT devobj, PIRP irp)
{
	struct pva_dev *dev = devobj->DeviceExtension;
	NTSTATUS status;

	/*
	 * No device power policy of our own: the shared memory and the host
	 * outlive a guest sleep; afterwards the heartbeat notices a new
	 * generation, if any, and the device renegotiates.
	 */
	PoStartNextPowerIrp(irp);
	status = IoAcquireRemoveLock(&dev->remove_lock, irp);
	if (!NT_SUCCESS(status)) {
		irp->IoStatus.Status = status;
		IoCompleteRequest(irp, IO_NO_INCREMENT);
		return status;
	}
	IoSkipCurrentIrpStackLocation(irp);
	status = PoCallDriver(dev->lower, irp);
	IoReleaseRemoveLock(&dev->remove_lock, irp);
	return status;
}

NTSTATUS pva_dispatch_system_control(PDEVICE_OBJECT devobj, PIRP irp)
{
	struct pva_dev *dev = devobj->DeviceExtension;
	NTSTATUS status;

	status = IoAcquireRemoveLock(&dev->remove_lock, irp);
	if (!NT_SUCCESS(status)) {
		irp->IoStatus.Status = status;
		IoCompleteRequest(irp, IO_NO_INCREMENT);
		return status;
	}
	return pva_pass_down(dev, irp);
}

/* Reboot or power-off: tell the host we are gone so it drops our state. */
NTSTATUS pva_dispatch_shutdown(PDEVICE_OBJECT devobj, PIRP irp)
{
	struct pva_dev *dev = devobj->DeviceExtension;

	if (dev->started && !dev->gone && dev->hdr) {
		pva_shm_store(&dev->hdr->guest.status, PVA_GUEST_RESET);
		pva_doorbell(dev, PVA_CONFIG_VECTOR);
	}
	irp->IoStatus.Status = STATUS_SUCCESS;
	irp->IoStatus.Information = 0;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
	return STATUS_SUCCESS;
}
