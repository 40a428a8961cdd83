// SPDX-License-Identifier: MIT
/*
 * Fuzz the consumer side of a ring (protocol/pva_ring.h) with a hostile
 * producer: the input is the producer's index and the ring's bytes. Every
 * record the helpers accept must lie within what was published and within
 * the ring's maximum; nothing may be read outside the data area.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pva_ring.h"

#define RSIZE 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[PVA_RING_CTRL_SIZE + RSIZE] __attribute__((aligned(128)));
	static uint8_t out[PVA_MSG_MAX];
	struct pva_ring r;
	uint32_t start, prod, used = 0;
	struct pva_msg_hdr h;

	if (size < 8)
		return 0;
	memcpy(&start, data, 4);
	memcpy(&prod, data + 4, 4);
	data += 8;
	size -= 8;
	memset(mem, 0, sizeof(mem));
	pva_ring_attach(&r, mem, RSIZE, 1);
	r.local = start;
	/* the data area, as the hostile producer left it */
	for (uint32_t i = 0; i < RSIZE && size; i++)
		r.data[(start + i) & (RSIZE - 1)] = data[i % size];
	r.ctrl->prod = pva_cpu32(prod);

	for (int n = 0; n < 1000; n++) {
		uint32_t avail = prod - r.local, len, rec;
		int ret = pva_ring_cons_peek(&r, &h);

		if (ret != PVA_RING_OK)
			break;
		len = pva_le32(h.len);
		rec = pva_msg_record_size(len);
		if (len > r.max_payload || rec > avail || avail > RSIZE)
			abort();	/* accepted something invalid */
		(void)pva_msg_hdr_valid(&h, 1);
		pva_ring_cons_read(&r, 0, out, len);
		pva_ring_cons_commit(&r, rec);
		used += rec;
		if (used > RSIZE)
			abort();	/* consumed more than could exist */
	}
	return 0;
}
