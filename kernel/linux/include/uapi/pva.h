/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * /dev/pva: userspace channels to pva host services.
 *
 *   fd = open("/dev/pva", O_RDWR);
 *   ioctl(fd, PVA_IOC_BIND, &(struct pva_bind){ .name = "echo" });
 *   write(fd, msg, sizeof(struct pva_msg_hdr) + len);   one message
 *   read(fd, buf, sizeof(buf));                           one message
 *
 * A message is a struct pva_msg_hdr (protocol/pva_protocol.h) followed by
 * its payload (see PVA_BIND_F_BATCH for several per call). On write, len must equal the bytes after the header, flags
 * may be 0, PVA_MSG_F_REQUEST or PVA_MSG_F_RESPONSE, reserved fields must
 * be 0 and service is filled in by the driver. A read returns exactly one
 * message; a buffer too small for it fails with EMSGSIZE and leaves it
 * queued. poll() reports POLLIN for a message, POLLOUT when a message of
 * the maximum size fits, POLLERR after a device reset.
 *
 * When the device resets (host restart, guest or host error), the next
 * read, write or poll on a bound file reports ECONNRESET (POLLERR) once;
 * the file stays bound to the channel's name and carries on when the
 * device is back. Messages in flight at the reset are lost.
 *
 * Errors: ENOENT no channel of that name, EBUSY channel bound by another
 * file, ENOTCONN device not running (O_NONBLOCK, or still down after the
 * bind timeout), EAGAIN ring full/empty with O_NONBLOCK, EINVAL malformed
 * header, EMSGSIZE message larger than the channel's maximum or buffer too
 * small, EDESTADDRREQ not bound, EISCONN already bound.
 */
#ifndef _UAPI_PVA_H
#define _UAPI_PVA_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PVA_NAME_LEN	16

struct pva_bind {
	char name[PVA_NAME_LEN];	/* channel name, NUL-terminated */
	__u32 flags;			/* PVA_BIND_F_* */
	__u32 reserved;			/* 0 */
};

/*
 * Batch mode: read() returns as many whole messages as fit in the buffer
 * (at least one), write() takes several, each message padded to a multiple
 * of 8 bytes (the last one's padding may be left out on write), so a
 * stream of small messages costs one system call and at most one doorbell
 * per buffer. A write is all or nothing and holds at most half the
 * channel's ring (tx_size / 2). Readers must check each header's len
 * against the byte count read() returned.
 */
#define PVA_BIND_F_BATCH	(1u << 0)

#define PVA_STATE_PROBED	0
#define PVA_STATE_NEGOTIATING	1
#define PVA_STATE_RUNNING	2
#define PVA_STATE_FAILED	3

struct pva_info {
	__u16 major, minor;		/* negotiated protocol version */
	__u32 generation;		/* host generation */
	__u64 features;			/* negotiated transport features */
	__u32 state;			/* PVA_STATE_* */
	__u32 max_payload;		/* bound channel: largest payload */
	__u32 tx_size, rx_size;		/* bound channel: ring sizes */
	__u64 reserved[4];
};

#define PVA_IOC_MAGIC	0xb7
#define PVA_IOC_BIND	_IOW(PVA_IOC_MAGIC, 1, struct pva_bind)
#define PVA_IOC_INFO	_IOR(PVA_IOC_MAGIC, 2, struct pva_info)

#endif /* _UAPI_PVA_H */
