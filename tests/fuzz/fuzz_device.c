// SPDX-License-Identifier: MIT
/*
 * Fuzz pva-host's device and services (host/device.c, control.c, echo.c)
 * with a hostile guest. The input is a program of operations a guest can
 * do: write anywhere in its half of the header or in the rings, produce
 * well-formed or malformed messages, ring doorbells, renegotiate. ASan and
 * UBSan catch any out-of-bounds access; the host must never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fake_guest.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

static uint32_t take(struct input *in, unsigned int bytes)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint32_t)*in->p++ << (8 * i);
	return v;
}

/* Write @n input bytes at @off inside [base, base + limit). */
static void scribble(struct input *in, uint8_t *base, uint32_t limit)
{
	uint32_t off = take(in, 4) % limit;
	uint32_t n = take(in, 1) % 64;

	for (uint32_t i = 0; i < n && off + i < limit; i++)
		base[off + i] = (uint8_t)take(in, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_guest g;
	static uint8_t payload[PVA_MSG_MAX];
	static int ready;
	struct input in = { data, size };
	const struct pva_service_desc *d;

	if (!ready) {
		log_init("fuzz", LOG_EMERG);
		if (fg_init(&g))
			abort();
		ready = 1;
	}
	/* start every input from a freshly negotiated device */
	device_reset(g.dev, "fuzz");
	if (fg_negotiate(&g))
		abort();
	d = (const struct pva_service_desc *)
		(g.shm + pva_le32(fg_hdr(&g)->host.svc_table_off));

	while (in.left) {
		unsigned int op = take(&in, 1) % 8;
		int svc = (int)(take(&in, 1) % FG_NSVC);

		switch (op) {
		case 0:		/* the guest half of the header */
			scribble(&in, (uint8_t *)&fg_hdr(&g)->guest,
				 sizeof(struct pva_guest_area));
			break;
		case 1:		/* a guest->host ring, control and data */
			scribble(&in, g.shm + pva_le64(d[svc].g2h_off),
				 PVA_RING_CTRL_SIZE + pva_le32(d[svc].g2h_size));
			break;
		case 2:		/* a host->guest ring: only cons/data_event */
			scribble(&in, (uint8_t *)&g.rx[svc].ctrl->cons, 8);
			break;
		case 3: {	/* a well-formed message */
			uint16_t type = (uint16_t)take(&in, 1) % 9;
			uint16_t flags = (uint16_t)take(&in, 1) % 3;
			uint32_t len = take(&in, 2) % 2048;

			for (uint32_t i = 0; i < len; i++)
				payload[i] = (uint8_t)take(&in, 1);
			fg_send(&g, svc, type, flags, take(&in, 1), payload, len);
			break;
		}
		case 4:
			device_doorbell(g.dev, take(&in, 1) % (FG_NVEC + 2));
			break;
		case 5: {	/* the guest reads what the host sent */
			struct pva_msg_hdr h;

			fg_recv(&g, svc, &h, payload, sizeof(payload));
			break;
		}
		case 6:
			device_tick(g.dev);
			break;
		case 7:
			if (fg_negotiate(&g))
				fg_request(&g, (uint16_t)take(&in, 1),
					   (uint16_t)take(&in, 1), 0,
					   take(&in, 4), (uint16_t)take(&in, 1));
			break;
		}
	}
	return 0;
}
