// SPDX-License-Identifier: MIT
/*
 * Services for tests (`pva-host --test-service TYPE`):
 *  - "selftest" (PROTOCOL.md 6.4) drives the guest's pva_selftest module,
 *    which exercises the kernel API that feature drivers use;
 *  - "sf" and "display" are placeholders whose host end answers
 *    every request with ENOTSUP, to test the guest's auxiliary devices
 *    without the real services (a placeholder "sf" is offered instead of
 *    the real one, host/sf.c).
 */
#include <stdlib.h>
#include <string.h>

#include "device.h"

#define SELFTEST_MAX_KICK	100000u

struct selftest {
	uint32_t events_left, next_seq;
};

static void selftest_pump(struct service *svc)
{
	struct selftest *st = svc->priv;

	while (st->events_left) {
		__le32 seq = pva_cpu32(st->next_seq);

		if (service_send(svc, PVA_SELFTEST_EVENT, 0, 0, 0, &seq,
				 sizeof(seq)) < 0)
			return;		/* full: pump runs again on space */
		st->next_seq++;
		st->events_left--;
	}
}

static int selftest_rx(struct service *svc, const struct pva_msg_hdr *hdr,
		       const uint8_t *payload, uint32_t len)
{
	struct selftest *st = svc->priv;
	uint32_t status = PVA_S_OK, count;

	if (!(pva_le16(hdr->flags) & PVA_MSG_F_REQUEST))
		return 0;
	if (!service_can_send(svc, len))
		return SERVICE_RETRY;
	switch (pva_le16(hdr->type)) {
	case PVA_SELFTEST_ECHO:
		service_reply(svc, hdr, PVA_S_OK, payload, len);
		return 0;
	case PVA_SELFTEST_KICK:
		if (len != sizeof(__le32)) {
			status = PVA_S_EINVAL;
			break;
		}
		memcpy(&count, payload, sizeof(count));
		count = pva_le32(count);
		if (count > SELFTEST_MAX_KICK || st->events_left) {
			status = count > SELFTEST_MAX_KICK ? PVA_S_E2BIG :
				 PVA_S_EBUSY;
			break;
		}
		service_reply(svc, hdr, PVA_S_OK, NULL, 0);
		st->events_left = count;
		st->next_seq = 0;
		selftest_pump(svc);
		return 0;
	default:
		status = PVA_S_ENOTSUP;
		break;
	}
	service_reply(svc, hdr, status, NULL, 0);
	return 0;
}

static void selftest_reset(struct service *svc)
{
	struct selftest *st = svc->priv;

	st->events_left = 0;
}

static int selftest_init(struct service *svc)
{
	svc->priv = calloc(1, sizeof(struct selftest));
	return svc->priv ? 0 : -1;
}

static void selftest_destroy(struct service *svc)
{
	free(svc->priv);
}

static int testsvc_rx(struct service *svc, const struct pva_msg_hdr *hdr,
		      const uint8_t *payload, uint32_t len)
{
	(void)payload;
	(void)len;
	if (!(pva_le16(hdr->flags) & PVA_MSG_F_REQUEST))
		return 0;
	if (!service_can_send(svc, 0))
		return SERVICE_RETRY;
	service_reply(svc, hdr, PVA_S_ENOTSUP, NULL, 0);
	return 0;
}

#define TESTSVC(n, t)						\
	{ .name = n, .type = t, .version = 0,			\
	  .g2h_size = 4096, .h2g_size = 4096, .rx = testsvc_rx }

static const struct service_ops testsvc_ops[] = {
	{
		.name = "selftest", .type = PVA_SVC_SELFTEST, .version = 1,
		.g2h_size = 16384, .h2g_size = 16384,
		.init = selftest_init, .destroy = selftest_destroy,
		.reset = selftest_reset, .rx = selftest_rx,
		.pump = selftest_pump,
	},
	TESTSVC("sf", PVA_SVC_SF),
	TESTSVC("display", PVA_SVC_DISPLAY),
};

const struct service_ops *testsvc_find(const char *type)
{
	for (size_t i = 0; i < sizeof(testsvc_ops) / sizeof(testsvc_ops[0]); i++)
		if (!strcmp(testsvc_ops[i].name, type))
			return &testsvc_ops[i];
	return NULL;
}
