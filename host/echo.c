// SPDX-License-Identifier: MIT
/*
 * The echo channel (PROTOCOL.md 6.3): the host end of the tests and
 * benchmarks that guest programs run through /dev/pva.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "log.h"

#define ECHO_SOURCE_MAX		(1ull << 40)

struct echo {
	uint64_t sink_msgs, sink_bytes;
	/* an ECHO_SOURCE in progress */
	bool source_active;
	uint32_t source_req_id, source_msg_size;
	uint64_t source_left, source_pos;
	uint8_t buf[PVA_MSG_MAX];
	struct log_ratelimit rl;
};

static void echo_pump(struct service *svc)
{
	struct echo *e = svc->priv;

	while (e->source_active) {
		uint32_t n = e->source_left < e->source_msg_size ?
			     (uint32_t)e->source_left : e->source_msg_size;
		int ret;

		if (!n) {
			ret = service_send(svc, PVA_ECHO_SOURCE,
					   PVA_MSG_F_RESPONSE, e->source_req_id,
					   PVA_S_OK, NULL, 0);
			if (ret == -EAGAIN)
				return;
			e->source_active = false;
			return;
		}
		for (uint32_t i = 0; i < n; i++)
			e->buf[i] = (uint8_t)(e->source_pos + i);
		ret = service_send(svc, PVA_ECHO_SOURCE_DATA, 0, 0, 0, e->buf, n);
		if (ret == -EAGAIN)
			return;
		if (ret < 0) {
			e->source_active = false;
			return;
		}
		e->source_left -= n;
		e->source_pos += n;
	}
}

static int echo_rx(struct service *svc, const struct pva_msg_hdr *hdr,
		   const uint8_t *payload, uint32_t len)
{
	struct echo *e = svc->priv;
	uint16_t type = pva_le16(hdr->type);
	uint16_t flags = pva_le16(hdr->flags);
	bool req = flags & PVA_MSG_F_REQUEST;
	uint32_t status = PVA_S_OK;

	if (flags & PVA_MSG_F_RESPONSE)
		goto bad;
	switch (type) {
	case PVA_ECHO_ECHO:
		if (!service_can_send(svc, len))
			return SERVICE_RETRY;
		if (req)
			service_reply(svc, hdr, PVA_S_OK, payload, len);
		else
			service_send(svc, PVA_ECHO_ECHO, 0, 0, 0, payload, len);
		return 0;
	case PVA_ECHO_SINK:
		e->sink_msgs++;
		e->sink_bytes += len;
		if (req) {
			struct pva_echo_count c = {
				.msgs = pva_cpu64(e->sink_msgs),
				.bytes = pva_cpu64(e->sink_bytes),
			};

			if (!service_can_send(svc, sizeof(c))) {
				e->sink_msgs--;
				e->sink_bytes -= len;
				return SERVICE_RETRY;
			}
			service_reply(svc, hdr, PVA_S_OK, &c, sizeof(c));
			e->sink_msgs = e->sink_bytes = 0;
		}
		return 0;
	case PVA_ECHO_SOURCE: {
		struct pva_echo_source s;
		uint32_t msg_size;

		if (!req || len != sizeof(s))
			goto bad;
		memcpy(&s, payload, sizeof(s));
		msg_size = pva_le32(s.msg_size);
		if (!msg_size || msg_size > svc->tx.max_payload ||
		    pva_le64(s.bytes) > ECHO_SOURCE_MAX || s.reserved) {
			status = PVA_S_EINVAL;
			break;
		}
		if (e->source_active) {
			status = PVA_S_EBUSY;
			break;
		}
		e->source_active = true;
		e->source_req_id = pva_le32(hdr->req_id);
		e->source_msg_size = msg_size;
		e->source_left = pva_le64(s.bytes);
		e->source_pos = 0;
		return 0;	/* answered by echo_pump() when done */
	}
	default:
		if (req)
			status = PVA_S_ENOTSUP;
		break;
	}
	if (req) {
		if (!service_can_send(svc, 0))
			return SERVICE_RETRY;
		service_reply(svc, hdr, status, NULL, 0);
	}
	return 0;
bad:
	svc->stats.bad_msgs++;
	if (log_ratelimit_ok(&e->rl))
		log_warn("echo: malformed message type %u flags 0x%x (%u bytes)",
			 type, flags, len);
	if (req) {
		if (!service_can_send(svc, 0))
			return SERVICE_RETRY;
		service_reply(svc, hdr, PVA_S_EINVAL, NULL, 0);
	}
	return 0;
}

static void echo_reset(struct service *svc)
{
	struct echo *e = svc->priv;

	e->source_active = false;
	e->sink_msgs = e->sink_bytes = 0;
}

static int echo_init(struct service *svc)
{
	struct echo *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	e->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	svc->priv = e;
	return 0;
}

static void echo_destroy(struct service *svc)
{
	free(svc->priv);
}

const struct service_ops echo_service_ops = {
	.name = "echo",
	.type = PVA_SVC_CHANNEL,
	.version = 1,
	.g2h_size = 512 << 10,
	.h2g_size = 512 << 10,
	.init = echo_init,
	.destroy = echo_destroy,
	.reset = echo_reset,
	.rx = echo_rx,
	.pump = echo_pump,
};
