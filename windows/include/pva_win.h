/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * pva_win.h: the interface of the Windows pva driver (pva.sys) to user
 * mode, the Windows counterpart of Linux's /dev/pva
 * (kernel/linux/include/uapi/pva.h). Used by the driver and by the agent;
 * compiles with mingw-w64's user-mode and DDK headers (and, for the layout
 * checks only, on Linux). Include path: windows/include and protocol/.
 *
 * THE CONTRACT (keep it stable):
 *
 *   HANDLE h = CreateFileW(PVA_WIN_DEVICE_PATH,      // L"\\\\.\\PvaDevice"
 *                          GENERIC_READ | GENERIC_WRITE, 0, NULL,
 *                          OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
 *   struct pva_win_bind bind = { .name = "agent" };
 *   DeviceIoControl(h, IOCTL_PVA_BIND, &bind, sizeof bind, NULL, 0, ...);
 *   DeviceIoControl(h, IOCTL_PVA_INFO, NULL, 0, &info, sizeof info, ...);
 *   WriteFile(h, msg, sizeof(struct pva_msg_hdr) + len, ...);  one message
 *   ReadFile(h, buf, sizeof buf, ...);                         one message
 *
 * Further device instances are \\.\PvaDevice1, \\.\PvaDevice2, ...; every
 * instance also registers the device interface GUID_DEVINTERFACE_PVA.
 *
 * struct pva_win_bind and struct pva_win_info have exactly the layout of
 * Linux's struct pva_bind and struct pva_info (checked by
 * tests/windows/driver_test.sh). A handle binds to one channel service
 * (PROTOCOL.md 6.2) by name, once; a channel is bound by at most one
 * handle at a time; closing the handle unbinds it.
 *
 * A message is a struct pva_msg_hdr (protocol/pva_protocol.h) followed by
 * its payload. On WriteFile, hdr.len must equal the bytes after the
 * header, flags may be 0, PVA_MSG_F_REQUEST or PVA_MSG_F_RESPONSE,
 * reserved fields must be 0; service is filled in by the driver. A write
 * completes once the message is in the ring (it stays pending while the
 * ring is full). ReadFile returns exactly one message (bytes transferred
 * = sizeof(struct pva_msg_hdr) + hdr.len); a pending read completes when
 * a message arrives. A buffer too small for the next message fails with
 * ERROR_INSUFFICIENT_BUFFER and leaves the message queued: size read
 * buffers sizeof(struct pva_msg_hdr) + pva_win_info.max_payload. Reads and
 * writes complete in the order they were issued (per handle and
 * direction). Pending I/O can be cancelled (CancelIo, CancelIoEx).
 *
 * When the device resets (host restart, guest or host error), the I/O
 * pending on a bound handle fails with ERROR_NETNAME_DELETED
 * (STATUS_CONNECTION_RESET); if none was pending, the next ReadFile or
 * WriteFile fails so, once. The handle stays bound to the channel's name
 * and carries on when the device is back: I/O issued while the device
 * negotiates waits for it (like a blocking read on Linux) and then goes
 * to the new generation's channel; if the device fails instead, it fails
 * with ERROR_DEVICE_NOT_CONNECTED. Messages in flight at the reset are
 * lost.
 *
 * Open the handle with FILE_FLAG_OVERLAPPED: on a synchronous handle the
 * I/O manager runs one request at a time, so a ReadFile waiting for a
 * message would hold up every WriteFile.
 *
 * Errors (Win32 code from GetLastError, the driver's NTSTATUS):
 *   ERROR_FILE_NOT_FOUND       STATUS_OBJECT_NAME_NOT_FOUND  no channel of that name
 *   ERROR_SHARING_VIOLATION    STATUS_SHARING_VIOLATION      channel bound by another handle
 *   ERROR_DEVICE_NOT_CONNECTED STATUS_DEVICE_NOT_CONNECTED   device not running (bind while it
 *                                                            negotiates; failed; stopped): retry later
 *   ERROR_NETNAME_DELETED      STATUS_CONNECTION_RESET       device reset (see above)
 *   ERROR_INSUFFICIENT_BUFFER  STATUS_BUFFER_TOO_SMALL       read buffer too small; IOCTL buffer too small
 *   ERROR_INVALID_PARAMETER    STATUS_INVALID_PARAMETER      malformed header or bind request
 *   ERROR_INVALID_USER_BUFFER  STATUS_INVALID_BUFFER_SIZE    message larger than the channel's maximum
 *   ERROR_BAD_COMMAND          STATUS_INVALID_DEVICE_STATE   read/write on a handle not bound
 *   ERROR_ADDRESS_ALREADY_ASSOCIATED STATUS_ADDRESS_ALREADY_ASSOCIATED  handle already bound
 *   ERROR_NOT_SUPPORTED        STATUS_NOT_SUPPORTED          PVA_WIN_BIND_F_BATCH (not implemented)
 *   ERROR_OPERATION_ABORTED    STATUS_CANCELLED              cancelled, or the handle was closed
 *   ERROR_DEVICE_REMOVED       STATUS_DEVICE_REMOVED         the device is going away
 * A ring the host corrupted stops the device (FAILED) until the host
 * resets it: the I/O pending on it fails with ERROR_NETNAME_DELETED.
 */
#ifndef PVA_WIN_H
#define PVA_WIN_H

#include "pva_protocol.h"

#define PVA_WIN_NAME_LEN	16

/* IOCTL_PVA_BIND input; the layout of Linux's struct pva_bind. */
struct pva_win_bind {
	char name[PVA_WIN_NAME_LEN];	/* channel name, NUL-terminated */
	__u32 flags;			/* 0 (PVA_WIN_BIND_F_BATCH: not supported) */
	__u32 reserved;			/* 0 */
};

#define PVA_WIN_BIND_F_BATCH	(1u << 0)	/* Linux's PVA_BIND_F_BATCH */

/* pva_win_info.state, Linux's PVA_STATE_* */
#define PVA_WIN_STATE_PROBED		0
#define PVA_WIN_STATE_NEGOTIATING	1
#define PVA_WIN_STATE_RUNNING		2
#define PVA_WIN_STATE_FAILED		3

/* IOCTL_PVA_INFO output; the layout of Linux's struct pva_info. */
struct pva_win_info {
	__u16 major, minor;		/* negotiated protocol version */
	__u32 generation;		/* host generation */
	__u64 features;			/* negotiated transport features */
	__u32 state;			/* PVA_WIN_STATE_* */
	__u32 max_payload;		/* bound channel: largest payload */
	__u32 tx_size, rx_size;		/* bound channel: ring sizes */
	__u64 reserved[4];
};

/*
 * Test build only (pvatest.sys, built with -DPVA_WINE_TEST): commands to
 * the loopback host built into the driver, to test resets, full rings and
 * a hostile host. The real driver fails IOCTL_PVA_TEST_HOST with
 * ERROR_INVALID_FUNCTION.
 */
#define PVA_WIN_TEST_STATS	0	/* just report */
#define PVA_WIN_TEST_RESET	1	/* the host restarts (new generation) */
#define PVA_WIN_TEST_PAUSE	2	/* arg 1: stop consuming guest->host, 0: resume */
#define PVA_WIN_TEST_CORRUPT	3	/* break the echo rings now, arg: */
#define   PVA_WIN_CORRUPT_H2G_PROD	1	/* host->guest prod past the ring */
#define   PVA_WIN_CORRUPT_H2G_HDR	2	/* a record with reserved0 set */
#define   PVA_WIN_CORRUPT_G2H_CONS	3	/* guest->host cons past prod */
#define   PVA_WIN_CORRUPT_H2G_LEN	4	/* a record longer than published */
#define PVA_WIN_TEST_BAD_LAYOUT	4	/* arg: what the next RESET gets wrong */
#define   PVA_WIN_BAD_NONE		0
#define   PVA_WIN_BAD_RING_OUTSIDE	1	/* a ring beyond the shared memory */
#define   PVA_WIN_BAD_NAME		2	/* a name with an upper-case letter */
#define   PVA_WIN_BAD_DUP_NAME		3	/* two services named "echo" */
#define   PVA_WIN_BAD_ID		4	/* id != index */
#define   PVA_WIN_BAD_RING_ALIGN	5	/* ring offset not 128-byte aligned */
#define   PVA_WIN_BAD_RING_SIZE		6	/* ring size not a power of two */
#define   PVA_WIN_BAD_NO_CONTROL	7	/* service 0 is not control */
#define   PVA_WIN_BAD_NO_SERVICES	8	/* nr_services 0 */
#define   PVA_WIN_BAD_TABLE_OFF		9	/* table inside the header */
#define   PVA_WIN_BAD_FLAGS		10	/* service flags not 0 */
#define   PVA_WIN_BAD_RING_IN_TABLE	11	/* a ring over the table */
#define   PVA_WIN_BAD_SHM_SIZE		12	/* shm_size not the BAR's */
#define   PVA_WIN_BAD_VERSION		13	/* the host speaks major 2 only */
#define   PVA_WIN_BAD_DATA_ALIGN	14	/* data region not page-aligned */
#define   PVA_WIN_BAD_NAME_NUL		15	/* a name without its NUL */
#define   PVA_WIN_BAD_MAX		15
#define PVA_WIN_TEST_SLOW	5	/* arg: ms before answering negotiations */

struct pva_win_test_host {
	__u32 cmd;			/* in: PVA_WIN_TEST_* */
	__u32 arg;			/* in */
	__u32 generation;		/* out: the host's generation */
	__u32 negotiations;		/* out: negotiation requests answered */
	__u32 guest_info;		/* out: CTRL_GUEST_INFO messages received */
	__u32 paused;			/* out */
	__u64 echoed;			/* out: echo messages answered */
	__u32 guest_status;		/* out: the guest area's status */
	__u32 guest_error;		/* out: and error (PVA_GERR_*) */
	__u32 reserved[2];
};

PVA_STATIC_ASSERT(sizeof(struct pva_win_bind) == 24, "pva_win_bind size");
PVA_STATIC_ASSERT(sizeof(struct pva_win_info) == 64, "pva_win_info size");
PVA_STATIC_ASSERT(sizeof(struct pva_win_test_host) == 48,
		  "pva_win_test_host size");

#ifdef _WIN32
#ifndef PVA_WIN_KERNEL		/* defined by the driver's build */
#include <windows.h>
#include <winioctl.h>
#endif

/* User-mode path, and the kernel names behind it. */
#define PVA_WIN_DEVICE_PATH	L"\\\\.\\PvaDevice"
#define PVA_WIN_NT_NAME		L"\\Device\\PvaDevice"
#define PVA_WIN_DOS_NAME	L"\\DosDevices\\PvaDevice"

/* A vendor device type (0x8000 and above are for vendors); unsigned, so
 * that CTL_CODE's shift stays in range.
 */
#define FILE_DEVICE_PVA		0x8a76u

#define IOCTL_PVA_BIND \
	CTL_CODE(FILE_DEVICE_PVA, 0x801, METHOD_BUFFERED, \
		 FILE_READ_ACCESS | FILE_WRITE_ACCESS)
#define IOCTL_PVA_INFO \
	CTL_CODE(FILE_DEVICE_PVA, 0x802, METHOD_BUFFERED, FILE_READ_ACCESS)
#define IOCTL_PVA_TEST_HOST \
	CTL_CODE(FILE_DEVICE_PVA, 0x8f0, METHOD_BUFFERED, \
		 FILE_READ_ACCESS | FILE_WRITE_ACCESS)

/*
 * The device interface class of pva devices (SetupDiGetClassDevs,
 * CM_Get_Device_Interface_List). Define INITGUID before including this
 * header in one file to instantiate it.
 */
DEFINE_GUID(GUID_DEVINTERFACE_PVA, 0xfe2a31f0, 0xdc50, 0x4e88,
	    0xb6, 0x14, 0xe0, 0xb7, 0x17, 0x85, 0x3e, 0xb6);

#endif /* _WIN32 */

#endif /* PVA_WIN_H */
