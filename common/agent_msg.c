// SPDX-License-Identifier: MIT
#include "agent_msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(msg)	do { *why = (msg); return -EINVAL; } while (0)

bool clip_type_valid(const char *s, size_t len)
{
	if (!len || len > PVA_CLIP_TYPE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

bool clip_types_has(const struct clip_types *t, const char *name)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (!strcmp(t->name[i], name))
			return true;
	return false;
}

bool clip_types_add(struct clip_types *t, const char *name)
{
	size_t len = strlen(name);

	if (!clip_type_valid(name, len))
		return false;
	if (clip_types_has(t, name) || t->n == PVA_CLIP_MAX_TYPES)
		return true;
	memcpy(t->name[t->n++], name, len + 1);
	return true;
}

/* One NUL-terminated name at @p (of @left bytes); its length, or -1. */
static long name_at(const uint8_t *p, size_t left)
{
	const uint8_t *nul = memchr(p, 0, left);

	if (!nul)
		return -1;
	return (long)(nul - p);
}

int clip_grab_parse(const void *p, uint32_t len, struct clip_grab *out,
		    const char **why)
{
	const uint8_t *b = p, *end = b + len;
	struct pva_clip_grab g;
	uint32_t n;

	if (len < sizeof(g))
		FAIL("GRAB shorter than its struct");
	memcpy(&g, b, sizeof(g));
	out->selection = pva_le32(g.selection);
	out->serial = pva_le32(g.serial);
	out->seen = pva_le32(g.seen);
	n = pva_le32(g.ntypes);
	if (out->selection >= PVA_CLIP_NR_SELECTIONS)
		FAIL("GRAB of an unknown selection");
	if (n > PVA_CLIP_MAX_TYPES)
		FAIL("GRAB with more than 32 types");
	out->types.n = 0;
	b += sizeof(g);
	for (uint32_t i = 0; i < n; i++) {
		long l = name_at(b, (size_t)(end - b));

		if (l < 0)
			FAIL("GRAB type name not NUL-terminated");
		if (!clip_type_valid((const char *)b, (size_t)l))
			FAIL("GRAB type name invalid");
		if (clip_types_has(&out->types, (const char *)b))
			FAIL("GRAB names a type twice");
		memcpy(out->types.name[out->types.n++], b, (size_t)l + 1);
		b += l + 1;
	}
	if (b != end)
		FAIL("GRAB has bytes after its types");
	return 0;
}

int clip_request_parse(const void *p, uint32_t len, struct clip_request *out,
		       const char **why)
{
	const uint8_t *b = p;
	struct pva_clip_request r;
	long l;

	if (len < sizeof(r) + 2)
		FAIL("REQUEST shorter than its struct and a type");
	memcpy(&r, b, sizeof(r));
	out->selection = pva_le32(r.selection);
	out->serial = pva_le32(r.serial);
	out->transfer = pva_le32(r.transfer);
	if (out->selection >= PVA_CLIP_NR_SELECTIONS)
		FAIL("REQUEST of an unknown selection");
	if (!out->transfer)
		FAIL("REQUEST with transfer id 0");
	if (r.reserved)
		FAIL("REQUEST reserved field not 0");
	l = name_at(b + sizeof(r), len - sizeof(r));
	if (l < 0 || (uint32_t)l + 1 != len - sizeof(r))
		FAIL("REQUEST type not one NUL-terminated name");
	if (!clip_type_valid((const char *)b + sizeof(r), (size_t)l))
		FAIL("REQUEST type name invalid");
	memcpy(out->type, b + sizeof(r), (size_t)l + 1);
	return 0;
}

int clip_data_parse(const void *p, uint32_t len, struct clip_data *out,
		    const char **why)
{
	struct pva_clip_data d;

	if (len < sizeof(d))
		FAIL("DATA shorter than its struct");
	memcpy(&d, p, sizeof(d));
	out->transfer = pva_le32(d.transfer);
	out->status = pva_le32(d.status);
	out->flags = pva_le32(d.flags);
	out->offset = pva_le64(d.offset);
	out->total = pva_le64(d.total);
	out->data = (const uint8_t *)p + sizeof(d);
	out->len = len - (uint32_t)sizeof(d);
	if (!out->transfer)
		FAIL("DATA with transfer id 0");
	if (out->flags & ~PVA_CLIP_DATA_LAST)
		FAIL("DATA with unknown flags");
	if (d.reserved)
		FAIL("DATA reserved field not 0");
	if (out->status != PVA_S_OK && (out->len || out->flags))
		FAIL("DATA with an error status carries data or flags");
	if (out->status > PVA_S_MAX)
		FAIL("DATA with an unknown status");
	return 0;
}

int clip_cancel_parse(const void *p, uint32_t len, uint32_t *transfer,
		      const char **why)
{
	struct pva_clip_cancel c;

	if (len != sizeof(c))
		FAIL("CANCEL of the wrong size");
	memcpy(&c, p, sizeof(c));
	if (c.reserved)
		FAIL("CANCEL reserved field not 0");
	*transfer = pva_le32(c.transfer);
	if (!*transfer)
		FAIL("CANCEL of transfer id 0");
	return 0;
}

int agent_hello_parse(const void *p, uint32_t len,
		      struct pva_agent_hello *out, const char **why)
{
	struct pva_agent_hello h;

	if (len != sizeof(h))
		FAIL("HELLO of the wrong size");
	memcpy(&h, p, sizeof(h));
	out->version = pva_le32(h.version);
	out->reserved = 0;
	out->features = pva_le64(h.features);
	out->clip_max = pva_le64(h.clip_max);
	if (!out->version)
		FAIL("HELLO with version 0");
	return 0;
}

static bool head_ok(const struct pva_display_head *h)
{
	uint32_t flags = pva_le32(h->flags);
	uint32_t w = pva_le32(h->width), ht = pva_le32(h->height);

	if (flags & ~PVA_DISPLAY_HEAD_ENABLED)
		return false;
	if (!(flags & PVA_DISPLAY_HEAD_ENABLED))
		return true;
	return w >= PVA_DISPLAY_MIN_DIM && w <= PVA_DISPLAY_MAX_DIM &&
	       ht >= PVA_DISPLAY_MIN_DIM && ht <= PVA_DISPLAY_MAX_DIM &&
	       pva_le32(h->x) <= 65535 && pva_le32(h->y) <= 65535;
}

int display_config_parse(const void *p, uint32_t len,
			 struct pva_display_config *out, const char **why)
{
	if (len != sizeof(*out))
		FAIL("DISPLAY_LAYOUT of the wrong size");
	memcpy(out, p, sizeof(*out));
	if (!pva_le32(out->nr_heads) ||
	    pva_le32(out->nr_heads) > PVA_DISPLAY_MAX_HEADS)
		FAIL("DISPLAY_LAYOUT with no heads or more than 4");
	for (int i = 0; i < PVA_DISPLAY_MAX_HEADS; i++)
		if (!head_ok(&out->heads[i]))
			FAIL("DISPLAY_LAYOUT head out of range");
	return 0;
}

int display_state_parse(const void *p, uint32_t len,
			struct pva_agent_display_state *out, const char **why)
{
	if (len != sizeof(*out))
		FAIL("DISPLAY_STATE of the wrong size");
	memcpy(out, p, sizeof(*out));
	if (pva_le32(out->nr_heads) > PVA_DISPLAY_MAX_HEADS)
		FAIL("DISPLAY_STATE with more than 4 heads");
	if (pva_le32(out->status) > PVA_S_MAX)
		FAIL("DISPLAY_STATE with an unknown status");
	for (int i = 0; i < PVA_DISPLAY_MAX_HEADS; i++)
		if (!head_ok(&out->heads[i]))
			FAIL("DISPLAY_STATE head out of range");
	return 0;
}

bool agent_info_key_valid(const char *s, size_t len)
{
	if (!len || len > PVA_AGENT_INFO_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* UTF-8, shortest forms, no surrogates, no control characters. */
bool agent_info_value_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	if (len > PVA_AGENT_INFO_VALUE_MAX)
		return false;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		uint32_t cp;
		int n;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + (size_t)n >= len)	/* its continuation bytes */
			return false;
		for (int k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp < 0xa0))
			return false;
		i += (size_t)n + 1;
	}
	return true;
}

int agent_info_parse(const void *p, uint32_t len,
		     void (*fn)(void *ctx, const char *key, const char *value),
		     void *ctx, const char **why)
{
	const char *b = p, *end = b + len;
	int bad = 0;

	if (len > PVA_AGENT_INFO_MAX)
		FAIL("INFO longer than 16384 bytes");
	if (len && end[-1])
		FAIL("INFO does not end with a NUL");
	while (b < end) {
		size_t l = strlen(b);	/* a NUL is there: end[-1] */
		const char *eq = memchr(b, '=', l);

		if (eq && agent_info_key_valid(b, (size_t)(eq - b)) &&
		    agent_info_value_valid(eq + 1, l - (size_t)(eq - b) - 1)) {
			char key[PVA_AGENT_INFO_KEY_MAX + 1];

			memcpy(key, b, (size_t)(eq - b));
			key[eq - b] = 0;
			fn(ctx, key, eq + 1);
		} else {
			bad++;
		}
		b += l + 1;
	}
	return bad;
}

uint32_t clip_grab_build(void *buf, size_t cap, uint32_t selection,
			 uint32_t serial, uint32_t seen,
			 const struct clip_types *types)
{
	struct pva_clip_grab g = {
		.selection = pva_cpu32(selection),
		.serial = pva_cpu32(serial),
		.seen = pva_cpu32(seen),
		.ntypes = pva_cpu32(types ? types->n : 0),
	};
	size_t off = sizeof(g);

	if (cap < sizeof(g))
		return 0;
	memcpy(buf, &g, sizeof(g));
	for (unsigned int i = 0; types && i < types->n; i++) {
		size_t l = strlen(types->name[i]) + 1;

		if (off + l > cap)
			return 0;
		memcpy((uint8_t *)buf + off, types->name[i], l);
		off += l;
	}
	return (uint32_t)off;
}

uint32_t clip_request_build(void *buf, size_t cap, uint32_t selection,
			    uint32_t serial, uint32_t transfer,
			    const char *type)
{
	struct pva_clip_request r = {
		.selection = pva_cpu32(selection),
		.serial = pva_cpu32(serial),
		.transfer = pva_cpu32(transfer),
	};
	size_t l = strlen(type) + 1;

	if (cap < sizeof(r) + l)
		return 0;
	memcpy(buf, &r, sizeof(r));
	memcpy((uint8_t *)buf + sizeof(r), type, l);
	return (uint32_t)(sizeof(r) + l);
}

void clip_data_header(struct pva_clip_data *d, uint32_t transfer,
		      uint32_t status, uint32_t flags, uint64_t offset,
		      uint64_t total)
{
	memset(d, 0, sizeof(*d));
	d->transfer = pva_cpu32(transfer);
	d->status = pva_cpu32(status);
	d->flags = pva_cpu32(flags);
	d->offset = pva_cpu64(offset);
	d->total = pva_cpu64(total);
}

void clip_rx_init(struct clip_rx *rx, uint32_t transfer, uint64_t max)
{
	memset(rx, 0, sizeof(*rx));
	rx->transfer = transfer;
	rx->max = max;
}

int clip_rx_chunk(struct clip_rx *rx, const struct clip_data *d,
		  const char **why)
{
	uint64_t end;

	if (rx->done)
		FAIL("DATA after the transfer ended");
	if (d->transfer != rx->transfer)
		FAIL("DATA of another transfer");
	if (d->status != PVA_S_OK) {
		rx->done = true;
		rx->status = d->status;
		return 1;
	}
	if (!rx->started) {
		if (d->offset)
			FAIL("DATA does not start at offset 0");
		rx->total = d->total;
		rx->started = true;
		if (rx->total != PVA_CLIP_SIZE_UNKNOWN && rx->total > rx->max) {
			rx->done = true;
			return -E2BIG;
		}
	} else if (d->total != rx->total) {
		FAIL("DATA changes its total");
	}
	if (d->offset != rx->len)
		FAIL("DATA chunk not where the previous one ended");
	end = rx->len + (uint64_t)d->len;
	if (rx->total != PVA_CLIP_SIZE_UNKNOWN && end > rx->total)
		FAIL("DATA beyond its total");
	if (end > rx->max) {
		rx->done = true;
		return -E2BIG;
	}
	if ((d->flags & PVA_CLIP_DATA_LAST) &&
	    rx->total != PVA_CLIP_SIZE_UNKNOWN && end != rx->total)
		FAIL("DATA ends before its total");
	if (end > rx->cap) {
		size_t cap = rx->cap ? rx->cap : 65536;
		uint8_t *nb;

		while (cap < end)
			cap *= 2;
		if (rx->total != PVA_CLIP_SIZE_UNKNOWN && cap > rx->total)
			cap = rx->total;
		nb = realloc(rx->buf, cap ? cap : 1);
		if (!nb) {
			rx->done = true;
			rx->status = PVA_S_ENOMEM;
			return 1;
		}
		rx->buf = nb;
		rx->cap = cap;
	}
	if (d->len)
		memcpy(rx->buf + rx->len, d->data, d->len);
	rx->len = (size_t)end;
	if (d->flags & PVA_CLIP_DATA_LAST) {
		rx->done = true;
		rx->status = PVA_S_OK;
		return 1;
	}
	return 0;
}

uint8_t *clip_rx_take(struct clip_rx *rx, size_t *len)
{
	uint8_t *b = rx->buf;

	*len = rx->len;
	if (!b)
		b = malloc(1);
	rx->buf = NULL;
	rx->len = rx->cap = 0;
	return b;
}

void clip_rx_free(struct clip_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->len = rx->cap = 0;
}

const char *clip_status_name(uint32_t status)
{
	switch (status) {
	case PVA_S_OK: return "ok";
	case PVA_S_ESTALE: return "the clipboard changed meanwhile";
	case PVA_S_ENOENT: return "no such type on the clipboard";
	case PVA_S_E2BIG: return "the content is larger than allowed";
	case PVA_S_EBUSY: return "too many transfers at once";
	case PVA_S_EAGAIN: return "no desktop session agent to ask";
	case PVA_S_EIO: return "the owner could not read its content";
	case PVA_S_ENOMEM: return "out of memory";
	case PVA_S_EINVAL: return "malformed request";
	default: return "error";
	}
}
