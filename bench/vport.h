/* SPDX-License-Identifier: MIT */
/*
 * The small framing that vport-bench (guest) and vport-host (host) speak
 * over a virtio-serial port, which is a plain byte stream.
 *
 * The guest starts each measurement with one command; then, per mode:
 *   ECHO    the guest sends count * size bytes; the host sends every byte
 *           back as soon as it has read it (a stream has no messages, so
 *           the peer does not wait for whole ones).
 *   SINK    the guest sends `bytes`; the host counts them and answers with
 *           one little-endian u64: the number of bytes it received.
 *   SOURCE  the host sends `bytes`, byte i being (uint8_t)i, the same
 *           pattern as pva's echo channel; the guest checks every byte.
 * Afterwards both sides expect the next command.
 */
#ifndef PVA_BENCH_VPORT_H
#define PVA_BENCH_VPORT_H

#include <stdint.h>

#define VPB_MAGIC	0x31425056u	/* "VPB1" little-endian */

enum vpb_mode {
	VPB_ECHO = 1,
	VPB_SINK = 2,
	VPB_SOURCE = 3,
};

/* All fields little-endian; both ends are x86_64 or arm64 here. */
struct vpb_cmd {
	uint32_t magic;
	uint32_t mode;
	uint32_t size;		/* ECHO: bytes per round trip */
	uint32_t reserved;
	uint64_t count;		/* ECHO: round trips; SINK/SOURCE: bytes */
};

_Static_assert(sizeof(struct vpb_cmd) == 24, "vpb_cmd layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the framing is sent in host byte order");

#endif /* PVA_BENCH_VPORT_H */
