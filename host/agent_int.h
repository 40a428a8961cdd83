/* SPDX-License-Identifier: MIT */
/*
 * The host end of the agent channel (protocol/PROTOCOL.md 6.8), inside
 * pva-host: agent.c has the service (HELLO, INFO, the display layout and
 * state, the two transports: the ring, or a direct socket for guests
 * without the device), clipboard.c the clipboard and its pva-hostctl
 * commands.
 */
#ifndef PVA_HOST_AGENT_INT_H
#define PVA_HOST_AGENT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent_msg.h"
#include "log.h"
#include "service.h"

#define AGENT_INFO_MAX_ENTRIES	256
#define AGENT_TXQ_MAX		512	/* queued messages, then drop */
#define CLIP_MAX_SENDS		16	/* guest requests at once */
#define CLIP_MAX_FETCHES	16	/* pva-hostctl gets at once */

struct ctl_client;
struct json_object;
struct loop_source;

/* A content the host owns, shared by the transfers that send it. */
struct blob {
	unsigned int refs;
	size_t len;
	uint8_t data[];
};

/* The guest fetches a host content: sent in chunks as the ring allows. */
struct clip_send {
	struct clip_send *next;
	uint32_t transfer;
	struct blob *blob;
	size_t off;
};

/* pva-hostctl clipboard get of guest content: DATA collected into a
 * memfd that pva-hostctl gave us.
 */
struct clip_fetch {
	struct clip_fetch *next;
	uint32_t transfer;
	struct ctl_client *client;
	int fd;
	struct clip_rx rx;
	unsigned int sel;
	char type[PVA_CLIP_TYPE_MAX + 1];
	struct timespec deadline;
};

enum clip_owner { OWNER_NONE, OWNER_HOST, OWNER_GUEST };

struct clip_sel {
	enum clip_owner owner;
	uint32_t host_serial;	/* our last GRAB */
	uint32_t guest_serial;	/* the guest's last GRAB */
	struct clip_types types;	/* of the owner */
	struct blob *host[PVA_CLIP_MAX_TYPES];	/* OWNER_HOST: per type */
	struct timespec changed;
};

struct clip_watch {
	struct clip_watch *next;
	struct ctl_client *client;
};

struct clip_stats {
	uint64_t host_grabs, guest_grabs, crossed;
	uint64_t sent_bytes, sent_transfers, received_bytes, fetches;
	uint64_t failed;	/* transfers that ended in an error */
};

struct info_entry {
	char *key, *value;
};

/* The direct socket (--agent-socket): a guest agent without the device. */
struct direct {
	int listen_fd, fd;
	struct loop_source *listen_src, *src;
	uint8_t *rx;		/* one message being read */
	size_t rx_len;
	uint8_t *tx;		/* bytes waiting to be written */
	size_t tx_len, tx_cap;
	char *path;		/* unix socket to remove, or NULL */
};

/* A message waiting for room in the ring. */
struct txq_msg {
	struct txq_msg *next;
	uint16_t type, flags;
	uint32_t req_id, status;
	uint32_t len;
	uint8_t payload[];
};

/* A request the host sent the guest (POWER, FSFREEZE) and whoever waits
 * for its outcome.
 */
struct agent_req {
	uint32_t req_id;	/* the answer's, while it is due; else 0 */
	uint16_t type;
	struct ctl_client *client;
	uint32_t op;
	bool accepted;
	int64_t started_ms, deadline_ms;
};

struct agent {
	struct service *svc;
	bool hello;		/* the guest said HELLO on the current transport */
	bool direct_active;	/* the current transport is the direct socket */
	uint32_t version;	/* the one both speak */
	uint64_t features;	/* both have */
	uint64_t guest_clip_max;
	uint64_t clip_max;	/* ours */
	struct timespec hello_time;
	/* guest information */
	struct info_entry info[AGENT_INFO_MAX_ENTRIES];
	unsigned int nr_info;
	uint64_t info_bad, info_updates;
	struct timespec info_time;
	/* what the session shows */
	bool state_valid;
	struct pva_agent_display_state state;
	struct timespec state_time;
	uint32_t layout_sent;	/* generation of the last LAYOUT sent */
	/* clipboard */
	struct clip_sel sel[PVA_CLIP_NR_SELECTIONS];
	struct clip_send *sends;
	unsigned int nr_sends;
	struct clip_fetch *fetches;
	unsigned int nr_fetches;
	uint32_t next_transfer;
	struct clip_watch *watches;
	struct clip_stats cstats;
	/* guest control (guestctl.c) */
	struct pva_agent_time_status time_status;
	bool time_valid;
	int64_t time_at_ms, time_sent_ms, time_waiter_ms;
	struct ctl_client *time_waiter;
	int64_t boot_gap;	/* BOOTTIME - MONOTONIC at the last tick */
	uint32_t guest_state;	/* PVA_GUEST_STATE_* */
	struct agent_req power, freeze;
	uint32_t next_req_id;
	/* transport */
	struct txq_msg *txq, **txq_tail;
	unsigned int txq_len;
	uint64_t txq_dropped;
	struct direct direct;
	uint64_t bad_msgs;
	struct log_ratelimit rl;
};

/* agent.c */
/* Send to the guest on the current transport; queued if the ring is full.
 * 0, or -ENOTCONN with no guest agent.
 */
int agent_send(struct agent *a, uint16_t type, const void *payload,
	       uint32_t len);
/* Send request @type; its answer goes to guestctl_answer() with @r. */
int agent_request(struct agent *a, uint16_t type, const void *payload,
		  uint32_t len, struct agent_req *r);
/* Answer the guest's request @hdr. */
void agent_reply(struct agent *a, const struct pva_msg_hdr *hdr,
		 uint32_t status, const void *payload, uint32_t len);
/* The request failed: an error to whoever waits, and it is over. */
void agent_req_fail(struct agent *a, struct agent_req *r, const char *why);
/* Would a @len-byte message go out now (nothing queued before it)? */
bool agent_can_send(struct agent *a, uint32_t len);
/* The largest payload on the current transport. */
uint32_t agent_max_payload(struct agent *a);
bool agent_connected(const struct agent *a);
void agent_bad(struct agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* clipboard.c */
void clip_init(struct agent *a);
void clip_free(struct agent *a);
/* HELLO (or the guest went away): forget the guest's state, fail what
 * waits for it; after HELLO, send our grabs again.
 */
void clip_reset(struct agent *a);
void clip_after_hello(struct agent *a);
void clip_rx(struct agent *a, uint16_t type, const uint8_t *p, uint32_t len);
/* Send what waits for room (DATA chunks). */
void clip_pump(struct agent *a);
void clip_tick(struct agent *a);
void clip_status(struct agent *a, struct json_object *obj);
extern const struct ctl_command clip_commands[];

/* guestctl.c */
void guestctl_rx(struct agent *a, const struct pva_msg_hdr *hdr,
		 const uint8_t *p, uint32_t len);
void guestctl_answer(struct agent *a, struct agent_req *r, uint32_t status,
		     const uint8_t *p, uint32_t len);
void guestctl_after_hello(struct agent *a);
void guestctl_guest_gone(struct agent *a);
void guestctl_tick(struct agent *a);
void guestctl_status(struct agent *a, struct json_object *obj);
extern const struct ctl_command guestctl_commands[];

#endif
