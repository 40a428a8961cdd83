// SPDX-License-Identifier: MIT
/*
 * Placeholder services for tests (`pva-host --test-service TYPE`): a table
 * entry of the balloon, shared-folder or display type whose host end only
 * answers requests with ENOTSUP. They let the guest's auxiliary-device
 * handling be tested before the real services exist.
 */
#include <json-c/json.h>
#include <string.h>

#include "device.h"

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
	TESTSVC("balloon", PVA_SVC_BALLOON),
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
