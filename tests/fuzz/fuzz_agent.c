// SPDX-License-Identifier: MIT
/*
 * libFuzzer: the agent channel's host side (host/agent.c, clipboard.c) and
 * the message parsers everyone shares (common/agent_msg.c), fed by a
 * hostile guest: any sequence of HELLO, INFO, GRAB, REQUEST, DATA,
 * CANCEL, DISPLAY_STATE and unknown messages, with well-formed headers
 * around payloads that are built from the input (valid, near-valid or
 * garbage), interleaved with host clipboard sets and device resets. What
 * the host sends back must keep the protocol: every message it sends is
 * one the guest could parse, and DATA it sends for a transfer is in
 * order. ASan and UBSan catch the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent_int.h"
#include "agent_msg.h"
#include "../unit/fake_guest.h"
#include "log.h"

#define AGT	3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

static struct fake_guest g;
static bool ready;
static uint8_t msg[PVA_MSG_MAX], rx[PVA_MSG_MAX];

static uint32_t take(struct input *in, unsigned int bytes)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint32_t)*in->p++ << (8 * i);
	return v;
}

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_agent: %s\n", why);
	abort();
}

/* What the host sent: each message must parse as what its type says. */
static void drain(void)
{
	struct pva_msg_hdr h;
	const char *why;
	int n;

	while ((n = fg_recv(&g, AGT, &h, rx, sizeof(rx))) >= 0) {
		uint16_t type = pva_le16(h.type);
		uint32_t len = (uint32_t)n;
		union {
			struct clip_grab gr;
			struct clip_request rq;
			struct clip_data d;
			struct pva_display_config c;
			struct pva_agent_hello hl;
		} u;
		uint32_t tr;

		if (pva_le16(h.flags) & PVA_MSG_F_RESPONSE) {
			if (type == PVA_AGENT_HELLO && !pva_le32(h.status) &&
			    agent_hello_parse(rx, len, &u.hl, &why))
				fail("HELLO answer does not parse");
			if (type == PVA_AGENT_TIME_QUERY && !pva_le32(h.status) &&
			    len != sizeof(struct pva_agent_time))
				fail("TIME_QUERY answer of the wrong size");
			continue;
		}
		switch (type) {
		case PVA_AGENT_CLIP_GRAB:
			if (clip_grab_parse(rx, len, &u.gr, &why))
				fail("the host sent a GRAB that does not parse");
			break;
		case PVA_AGENT_CLIP_REQUEST:
			if (clip_request_parse(rx, len, &u.rq, &why))
				fail("the host sent a REQUEST that does not parse");
			break;
		case PVA_AGENT_CLIP_DATA:
			if (clip_data_parse(rx, len, &u.d, &why))
				fail("the host sent DATA that does not parse");
			break;
		case PVA_AGENT_CLIP_CANCEL:
			if (clip_cancel_parse(rx, len, &tr, &why))
				fail("the host sent a CANCEL that does not parse");
			break;
		case PVA_AGENT_DISPLAY_LAYOUT:
			if (display_config_parse(rx, len, &u.c, &why))
				fail("the host sent a LAYOUT that does not parse");
			break;
		case PVA_AGENT_TIME_SYNC:
			if (len != sizeof(struct pva_agent_time_sync))
				fail("the host sent a TIME_SYNC of the wrong size");
			break;
		default:
			fail("the host sent an unknown message type");
		}
	}
	if (n != -1)
		fail("the host corrupted its ring");
}

/* A payload for @type: mostly well-formed, with input-driven damage. */
static uint32_t build(struct input *in, uint16_t type)
{
	uint32_t mode = take(in, 1), len = 0;
	char types[4][40];
	struct clip_types ct = { 0 };

	if (mode < 40) {	/* raw bytes */
		len = take(in, 2) % 1024;
		for (uint32_t i = 0; i < len; i++)
			msg[i] = (uint8_t)take(in, 1);
		return len;
	}
	switch (type) {
	case PVA_AGENT_HELLO: {
		struct pva_agent_hello h = {
			.version = pva_cpu32(take(in, 1) % 3),
			.features = pva_cpu64(take(in, 1)),
			.clip_max = pva_cpu64(take(in, 4)),
		};

		memcpy(msg, &h, sizeof(h));
		return sizeof(h);
	}
	case PVA_AGENT_CLIP_GRAB:
		for (uint32_t i = 0, n = take(in, 1) % 5; i < n; i++) {
			snprintf(types[i % 4], sizeof(types[0]), "t/%u",
				 take(in, 1) % 6);
			clip_types_add(&ct, types[i % 4]);
		}
		len = clip_grab_build(msg, sizeof(msg), take(in, 1) % 3,
				      take(in, 1), take(in, 1), &ct);
		break;
	case PVA_AGENT_CLIP_REQUEST:
		snprintf(types[0], sizeof(types[0]), "%s",
			 take(in, 1) & 1 ? "text/plain;charset=utf-8" : "t/1");
		len = clip_request_build(msg, sizeof(msg), take(in, 1) % 3,
					 take(in, 1) % 4, take(in, 1) % 8,
					 types[0]);
		break;
	case PVA_AGENT_CLIP_DATA: {
		struct pva_clip_data d;
		uint32_t n = take(in, 2) % 2048;

		clip_data_header(&d, take(in, 1) % 8, take(in, 1) % 40 ?
				 0 : take(in, 1) % 40, take(in, 1) % 3,
				 take(in, 2), take(in, 1) % 2 ?
				 PVA_CLIP_SIZE_UNKNOWN : take(in, 2));
		memcpy(msg, &d, sizeof(d));
		memset(msg + sizeof(d), 'x', n);
		len = (uint32_t)sizeof(d) + n;
		break;
	}
	case PVA_AGENT_CLIP_CANCEL: {
		struct pva_clip_cancel c = { .transfer = pva_cpu32(take(in, 1) % 8) };

		memcpy(msg, &c, sizeof(c));
		len = sizeof(c);
		break;
	}
	case PVA_AGENT_INFO: {
		static const char *const parts[] = {
			"os.id=debian", "k=v", "Bad=1", "x", "u=\xc3\xbc",
			"bad=\xff", "e=", "=e",
		};

		for (uint32_t i = 0, n = take(in, 1) % 8; i < n; i++) {
			const char *p = parts[take(in, 1) % 8];

			memcpy(msg + len, p, strlen(p) + 1);
			len += (uint32_t)strlen(p) + 1;
		}
		if (take(in, 1) % 16 == 0 && len)
			len--;	/* no final NUL */
		break;
	}
	default:
		len = take(in, 1) % 200;
		memset(msg, (int)take(in, 1), len);
		break;
	}
	/* cut or extend by a few bytes sometimes */
	if (mode > 240 && len)
		len -= take(in, 1) % (len + 1);
	return len;
}

/* pva-hostctl clipboard set, without the socket: a memfd, a fake client
 * is not needed for the state the guest sees, so call the ops directly.
 */
static void host_set(struct input *in)
{
	struct service *svc = device_find_service(g.dev, "agent");
	struct agent *a = svc ? svc->priv : NULL;
	uint32_t n = take(in, 2) % 200000;
	struct clip_sel *s;
	struct blob *b;

	if (!a)
		return;
	b = malloc(sizeof(*b) + n + 1);
	if (!b)
		return;
	b->refs = 1;
	b->len = n;
	memset(b->data, 'h', n);
	s = &a->sel[0];
	for (unsigned int i = 0; i < PVA_CLIP_MAX_TYPES; i++) {
		if (s->host[i] && !--s->host[i]->refs)
			free(s->host[i]);
		s->host[i] = NULL;
	}
	s->owner = OWNER_HOST;
	s->types.n = 0;
	clip_types_add(&s->types, "text/plain;charset=utf-8");
	s->host[0] = b;
	if (agent_connected(a)) {
		uint8_t p[256];
		uint32_t len;

		s->host_serial++;
		len = clip_grab_build(p, sizeof(p), 0, s->host_serial,
				      s->guest_serial, &s->types);
		agent_send(a, PVA_AGENT_CLIP_GRAB, p, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	if (!ready) {
		log_init("fuzz", LOG_EMERG);
		if (fg_init_with(&g, &agent_service_ops))
			abort();
		ready = true;
	}
	if (fg_negotiate(&g))
		abort();
	while (in.left) {
		uint32_t op = take(&in, 1);
		uint16_t type;
		uint32_t len;

		if (op < 200) {
			uint16_t flags;

			type = (uint16_t)(1 + op % 14);
			len = build(&in, type);
			flags = type == PVA_AGENT_HELLO ||
				type == PVA_AGENT_TIME_QUERY ? PVA_MSG_F_REQUEST :
				op & 0x80 ? PVA_MSG_F_REQUEST : 0;
			if ((type == PVA_AGENT_POWER || type == PVA_AGENT_FSFREEZE) &&
			    op & 0x40)
				flags = PVA_MSG_F_RESPONSE;	/* unasked answers */
			fg_send(&g, AGT, type, flags, op % 4, msg, len);
		} else if (op < 230) {
			host_set(&in);
		} else if (op < 240) {
			device_tick(g.dev);
		} else if (op < 245) {
			if (fg_negotiate(&g))
				abort();
		} else {
			drain();
		}
		drain();
	}
	drain();
	return 0;
}
