/* SPDX-License-Identifier: MIT */
/*
 * The agent channel's messages (protocol/PROTOCOL.md 6.8): parsing with
 * every check the protocol asks of a receiver, and building. Shared by
 * pva-host, pva-service and pva-agent, so each side checks the same way.
 * Parsers take the payload (after the pva_msg_hdr) and return 0, or
 * -EINVAL with a reason in *why.
 */
#ifndef PVA_AGENT_MSG_H
#define PVA_AGENT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pva_protocol.h"

struct clip_types {
	unsigned int n;
	char name[PVA_CLIP_MAX_TYPES][PVA_CLIP_TYPE_MAX + 1];
};

struct clip_grab {
	uint32_t selection, serial, seen;
	struct clip_types types;
};

struct clip_request {
	uint32_t selection, serial, transfer;
	char type[PVA_CLIP_TYPE_MAX + 1];
};

struct clip_data {
	uint32_t transfer, status, flags;
	uint64_t offset, total;
	const uint8_t *data;	/* points into the payload */
	uint32_t len;
};

/* A MIME type name as the protocol allows it: 1-127 bytes of printable
 * ASCII without spaces.
 */
bool clip_type_valid(const char *s, size_t len);
bool clip_types_has(const struct clip_types *t, const char *name);
/* Add @name unless present or full; false if it is not a valid name. */
bool clip_types_add(struct clip_types *t, const char *name);

int clip_grab_parse(const void *p, uint32_t len, struct clip_grab *out,
		    const char **why);
int clip_request_parse(const void *p, uint32_t len, struct clip_request *out,
		       const char **why);
int clip_data_parse(const void *p, uint32_t len, struct clip_data *out,
		    const char **why);
int clip_cancel_parse(const void *p, uint32_t len, uint32_t *transfer,
		      const char **why);
int agent_hello_parse(const void *p, uint32_t len,
		      struct pva_agent_hello *out, const char **why);
int display_config_parse(const void *p, uint32_t len,
			 struct pva_display_config *out, const char **why);
int display_state_parse(const void *p, uint32_t len,
			struct pva_agent_display_state *out, const char **why);

/* INFO: calls @fn for each entry that keeps the rules (key and value
 * NUL-terminated); returns the number of entries that did not, or
 * -EINVAL (*why) when the payload as a whole is malformed.
 */
int agent_info_parse(const void *p, uint32_t len,
		     void (*fn)(void *ctx, const char *key, const char *value),
		     void *ctx, const char **why);
bool agent_info_key_valid(const char *s, size_t len);
bool agent_info_value_valid(const char *s, size_t len);

/*
 * Builders: write the payload into @buf (of @cap bytes) and return its
 * length, or 0 if it does not fit.
 */
uint32_t clip_grab_build(void *buf, size_t cap, uint32_t selection,
			 uint32_t serial, uint32_t seen,
			 const struct clip_types *types);
uint32_t clip_request_build(void *buf, size_t cap, uint32_t selection,
			    uint32_t serial, uint32_t transfer,
			    const char *type);
/* The header of a DATA chunk; the data goes right after it. */
void clip_data_header(struct pva_clip_data *d, uint32_t transfer,
		      uint32_t status, uint32_t flags, uint64_t offset,
		      uint64_t total);

/*
 * The receiving end of one transfer: checks each chunk against the ones
 * before (PROTOCOL.md 6.8.3) and collects the content in a growing
 * buffer of at most @max bytes.
 */
struct clip_rx {
	uint32_t transfer;
	uint64_t max;
	uint64_t total;		/* from the first chunk */
	uint8_t *buf;
	size_t len, cap;
	bool started, done;
	uint32_t status;	/* PVA_S_* once done */
};

void clip_rx_init(struct clip_rx *rx, uint32_t transfer, uint64_t max);
/* Take a chunk: 0 (more to come), 1 (complete, or ended with an error
 * status in rx->status), -EINVAL with *why when the chunk breaks the
 * rules, -E2BIG over @max. On error the transfer is over.
 */
int clip_rx_chunk(struct clip_rx *rx, const struct clip_data *d,
		  const char **why);
/* The content, handed over to the caller (free() it); rx is reset. */
uint8_t *clip_rx_take(struct clip_rx *rx, size_t *len);
void clip_rx_free(struct clip_rx *rx);

/* The agent's wire names of the PVA_S_* it uses, for messages. */
const char *clip_status_name(uint32_t status);

#endif
