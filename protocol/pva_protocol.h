/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * pva wire protocol, version 1: the layout of the shared memory that the
 * host (pva-host) and the guest (pva_core.ko, the Windows driver) share
 * through QEMU's ivshmem-doorbell device. protocol/PROTOCOL.md is the
 * specification; this header is its only C rendering. Every field is
 * little-endian and fixed-width; every struct has its size asserted.
 *
 * Shared memory layout (offsets from the start of BAR2):
 *
 *   0x0000  struct pva_header            host half | guest half (4 KiB)
 *   0x1000  struct pva_service_desc[n]   service table (host-written)
 *   ....    per service: guest->host ring, host->guest ring, data region
 *
 * A ring is a struct pva_ring_ctrl (two cache lines, one per side) followed
 * by its data area; see pva_ring.h.
 */
#ifndef PVA_PROTOCOL_H
#define PVA_PROTOCOL_H

#include "pva_types.h"

#define PVA_MAGIC		0x21415650u	/* "PVA!" */
#define PVA_VERSION_MAJOR	1
#define PVA_VERSION_MINOR	0

#define PVA_CACHELINE		128	/* covers 64 and 128 byte lines */
#define PVA_HEADER_SIZE		4096
#define PVA_GUEST_AREA_OFF	2048	/* guest half of the header */
#define PVA_MAX_SERVICES	64
#define PVA_MAX_VECTORS		64
#define PVA_HOST_PEER		0	/* ivshmem peer id of pva-host */
#define PVA_CONFIG_VECTOR	0	/* header changes, negotiation */

/* Host feature bits (transport level). Unknown bits are ignored. */
#define PVA_F_EVENT_IDX		(1ull << 0)	/* doorbell suppression */
#define PVA_F_GUEST_INFO	(1ull << 1)	/* CTRL_GUEST_INFO accepted */
#define PVA_F_KNOWN		(PVA_F_EVENT_IDX | PVA_F_GUEST_INFO)

/* pva_header.host_status */
#define PVA_HOST_RESETTING	0	/* header being rewritten: wait */
#define PVA_HOST_READY		1	/* header valid, negotiation open */

/* pva_guest_area.status */
#define PVA_GUEST_RESET		0	/* driver absent or stopped */
#define PVA_GUEST_NEGOTIATING	1
#define PVA_GUEST_RUNNING	2
#define PVA_GUEST_FAILED	3	/* see pva_guest_area.error */

/* pva_guest_area.error: why the guest gave up (PVA_GUEST_FAILED) */
#define PVA_GERR_NONE		0
#define PVA_GERR_VERSION	1	/* no common major version */
#define PVA_GERR_LAYOUT		2	/* header or service table invalid */
#define PVA_GERR_RING		3	/* corrupt ring index or message */
#define PVA_GERR_TIMEOUT	4	/* host did not answer */

/* pva_header.ack_status */
#define PVA_NEG_OK		0
#define PVA_NEG_VERSION		1	/* no common major version */
#define PVA_NEG_INVALID		2	/* request malformed */

/*
 * The device header, at offset 0. The first half is written only by the
 * host, the second half only by the guest; each side treats the other's
 * half as hostile input.
 */
struct pva_host_area {
	__le32 magic;		/* PVA_MAGIC */
	__le16 major_min;	/* lowest major version the host speaks */
	__le16 major_max;	/* highest major version the host speaks */
	__le16 minor;		/* minor version of major_max */
	__le16 nr_vectors;	/* doorbell vectors the host serves */
	__le32 generation;	/* changes whenever the host side resets */
	__le32 host_status;	/* PVA_HOST_* */
	__le32 header_size;	/* PVA_HEADER_SIZE */
	__le64 shm_size;	/* size of the shared memory in bytes */
	__le64 host_features;	/* PVA_F_* the host offers */
	__le32 svc_table_off;	/* offset of the service table */
	__le32 nr_services;	/* entries in the service table */
	/* negotiation answer; valid once ack_seq equals the guest's req_seq */
	__le32 ack_seq;
	__le32 ack_status;	/* PVA_NEG_* */
	__le16 ack_major;
	__le16 ack_minor;
	__le32 reserved0;
	__le64 ack_features;	/* guest_features & host_features */
	__u8 reserved[2048 - 72];
};

struct pva_guest_area {
	__le32 req_seq;		/* bumped to request negotiation; written last */
	__le32 status;		/* PVA_GUEST_* */
	__le16 major_min;	/* versions the guest speaks */
	__le16 major_max;
	__le16 minor;		/* minor version of major_max */
	__le16 nr_vectors;	/* interrupt vectors the guest set up (>= 1) */
	__le32 generation;	/* host generation the request is for */
	__le32 error;		/* PVA_GERR_* when status is FAILED */
	__le64 features;	/* PVA_F_* the guest wants */
	__u8 reserved[2048 - 32];
};

struct pva_header {
	struct pva_host_area host;
	struct pva_guest_area guest;
};

PVA_STATIC_ASSERT(sizeof(struct pva_host_area) == PVA_GUEST_AREA_OFF,
		  "host area size");
PVA_STATIC_ASSERT(sizeof(struct pva_guest_area) == 2048, "guest area size");
PVA_STATIC_ASSERT(sizeof(struct pva_header) == PVA_HEADER_SIZE,
		  "header size");

/* Service types (pva_service_desc.type) */
#define PVA_SVC_CONTROL		1	/* always service 0 */
#define PVA_SVC_BALLOON		2
#define PVA_SVC_SF		3	/* shared folders */
#define PVA_SVC_DISPLAY		4
#define PVA_SVC_CHANNEL		5	/* generic channel for /dev/pva */
#define PVA_SVC_SELFTEST	6	/* tests of the kernel client API */

#define PVA_SVC_NAME_LEN	16	/* including the terminating NUL */

/*
 * One entry of the service table. Each service has its own pair of rings
 * and, optionally, a data region (framebuffers, bulk buffers).
 */
struct pva_service_desc {
	char name[PVA_SVC_NAME_LEN];	/* [a-z0-9_-], NUL-terminated */
	__le16 type;		/* PVA_SVC_* */
	__le16 id;		/* index in the table; msg header's service */
	__le16 version;		/* version of the service's own protocol */
	__le16 flags;		/* none defined; must be 0 */
	__le64 features;	/* service-specific feature bits offered */
	__le64 g2h_off;		/* guest->host ring: struct pva_ring_ctrl */
	__le64 h2g_off;		/* host->guest ring */
	__le32 g2h_size;	/* data bytes of each ring: power of two */
	__le32 h2g_size;
	__le64 data_off;	/* optional data region, 0/0 when absent */
	__le64 data_size;
	__u8 reserved[128 - 72];
};

PVA_STATIC_ASSERT(sizeof(struct pva_service_desc) == 128,
		  "service descriptor size");

/* The vector that signals service @id's rings when @nvec vectors are used. */
static inline __u16 pva_service_vector(__u16 id, __u16 nvec)
{
	return nvec <= 1 ? 0 : (__u16)(1 + id % (nvec - 1));
}

#define PVA_RING_MIN_SIZE	4096u
#define PVA_RING_MAX_SIZE	(16u << 20)

/* Message header: every ring record starts with one. 8-byte aligned. */
struct pva_msg_hdr {
	__le32 len;		/* payload bytes after this header */
	__le16 type;		/* service-specific message type */
	__le16 flags;		/* PVA_MSG_F_* */
	__le16 service;		/* service id, equals the ring's service */
	__le16 reserved0;	/* must be 0 */
	__le32 req_id;		/* request id; 0 for events */
	__le32 status;		/* PVA_S_* in responses, 0 otherwise */
	__le32 reserved1;	/* must be 0 */
};

PVA_STATIC_ASSERT(sizeof(struct pva_msg_hdr) == 24, "message header size");

#define PVA_MSG_F_REQUEST	(1u << 0)	/* expects a response */
#define PVA_MSG_F_RESPONSE	(1u << 1)	/* answers req_id */
#define PVA_MSG_F_KNOWN		(PVA_MSG_F_REQUEST | PVA_MSG_F_RESPONSE)

#define PVA_MSG_ALIGN		8u
#define PVA_MSG_MAX		65536u	/* largest payload on any ring */

/* Status codes in responses. */
#define PVA_S_OK		0
#define PVA_S_EINVAL		1	/* malformed request */
#define PVA_S_ENOTSUP		2	/* unknown message type */
#define PVA_S_ENOENT		3
#define PVA_S_EBUSY		4
#define PVA_S_ENOMEM		5
#define PVA_S_EIO		6
#define PVA_S_E2BIG		7
#define PVA_S_EAGAIN		8
#define PVA_S_EPERM		9
#define PVA_S_EEXIST		10
#define PVA_S_ENOSPC		11
#define PVA_S_EROFS		12
#define PVA_S_ENOTDIR		13
#define PVA_S_EISDIR		14
#define PVA_S_ENOTEMPTY		15
#define PVA_S_ENAMETOOLONG	16
#define PVA_S_ELOOP		17
#define PVA_S_EXDEV		18
#define PVA_S_ESTALE		19
#define PVA_S_EBADF		20
#define PVA_S_ERANGE		21
#define PVA_S_ENODATA		22
#define PVA_S_EACCES		23
#define PVA_S_EMLINK		24
#define PVA_S_EFBIG		25
#define PVA_S_ETXTBSY		26
#define PVA_S_EOVERFLOW		27
#define PVA_S_EDQUOT		28
#define PVA_S_EDEADLK		29
#define PVA_S_ENOLCK		30
#define PVA_S_ENXIO		31
#define PVA_S_EMFILE		32
#define PVA_S_EINTR		33
#define PVA_S_ENOTTY		34
#define PVA_S_MAX		34

/* ---- control service (type PVA_SVC_CONTROL, always id 0, name "control") */

#define PVA_CTRL_PING		1	/* request, either way; echoed */
#define PVA_CTRL_GUEST_INFO	2	/* guest->host event */

struct pva_guest_info {
	char kernel[64];	/* uname release, NUL-terminated */
	char arch[16];		/* uname machine */
	char driver[32];	/* guest driver version */
	__le32 page_size;
	__le32 nr_cpus;
	__le64 mem_total;	/* bytes */
};

PVA_STATIC_ASSERT(sizeof(struct pva_guest_info) == 128, "guest info size");

/* ---- echo service (type PVA_SVC_CHANNEL, name "echo"): tests, benchmarks */

#define PVA_ECHO_ECHO		1	/* host sends the payload back */
#define PVA_ECHO_SINK		2	/* host counts and drops; answers
					 * requests with struct pva_echo_count
					 */
#define PVA_ECHO_SOURCE		3	/* request pva_echo_source: host sends
					 * SOURCE_DATA events, then responds
					 */
#define PVA_ECHO_SOURCE_DATA	4

struct pva_echo_count {
	__le64 msgs;		/* SINK messages since the last count */
	__le64 bytes;		/* their payload bytes */
};

struct pva_echo_source {
	__le64 bytes;		/* total payload to send */
	__le32 msg_size;	/* payload per message */
	__le32 reserved;
};

/* ---- selftest service (type PVA_SVC_SELFTEST, name "selftest") */

#define PVA_SELFTEST_ECHO	1	/* request; answered with its payload */
#define PVA_SELFTEST_KICK	2	/* request, __le32 count: answered, then
					 * count SELFTEST_EVENT events follow
					 */
#define PVA_SELFTEST_EVENT	3	/* host->guest event, __le32 sequence */

PVA_STATIC_ASSERT(sizeof(struct pva_echo_count) == 16, "echo count size");
PVA_STATIC_ASSERT(sizeof(struct pva_echo_source) == 16, "echo source size");

/* ---- balloon service (type PVA_SVC_BALLOON, name "balloon") ---- */

/* Service features (pva_service_desc.features, and the guest's HELLO) */
#define PVA_BALLOON_F_STATS	(1ull << 0)	/* memory statistics */
#define PVA_BALLOON_F_OOM	(1ull << 1)	/* guest deflates on OOM */
#define PVA_BALLOON_F_REPORTING	(1ull << 2)	/* free page reporting */
#define PVA_BALLOON_F_KNOWN	(PVA_BALLOON_F_STATS | PVA_BALLOON_F_OOM | \
				 PVA_BALLOON_F_REPORTING)

#define PVA_BALLOON_HELLO	1	/* g->h request: pva_balloon_hello;
					 * answer: pva_balloon_config
					 */
#define PVA_BALLOON_CONFIG	2	/* h->g event: pva_balloon_config */
#define PVA_BALLOON_INFLATE	3	/* g->h request: ranges given up;
					 * answer: pva_balloon_result
					 */
#define PVA_BALLOON_DEFLATE	4	/* g->h request: ranges taken back */
#define PVA_BALLOON_STATUS	5	/* g->h event: pva_balloon_status */
#define PVA_BALLOON_STATS	6	/* g->h event, or answer to a h->g
					 * request: pva_balloon_stats
					 */
#define PVA_BALLOON_REPORT	7	/* g->h request: free ranges (reporting) */

#define PVA_BALLOON_UNIT	4096u	/* sizes and addresses are multiples */
#define PVA_BALLOON_MAX_RANGES	256	/* per INFLATE/DEFLATE/REPORT */

struct pva_balloon_hello {
	__le64 features;	/* PVA_BALLOON_F_* the guest uses */
	__le64 actual;		/* bytes in the balloon now (resync) */
	__le32 page_size;	/* the guest's page size */
	__le32 reserved;
};

struct pva_balloon_config {
	__le64 target;		/* bytes the balloon should hold */
	__le32 stats_interval_ms;	/* 0: no periodic statistics */
	__le32 generation;	/* bumped by every new target */
};

/* A physically contiguous stretch of guest memory, 4 KiB aligned. */
struct pva_balloon_range {
	__le64 gpa;		/* guest-physical address */
	__le64 len;		/* bytes */
};

struct pva_balloon_result {
	__le64 accepted;	/* bytes */
	__le64 refused;		/* bytes outside RAM, or not the balloon's */
};

#define PVA_BALLOON_S_STALLED	(1u << 0)	/* cannot allocate more */
#define PVA_BALLOON_S_OOM	(1u << 1)	/* deflated under pressure */

struct pva_balloon_status {
	__le64 actual;		/* bytes in the balloon */
	__le64 oom_deflated;	/* bytes given back under pressure, total */
	__le32 flags;		/* PVA_BALLOON_S_* */
	__le32 config_generation;	/* of the target being worked on */
};

/* Statistics, in bytes or events; valid says which are filled in. */
enum pva_balloon_stat {
	PVA_BSTAT_TOTAL, PVA_BSTAT_FREE, PVA_BSTAT_AVAILABLE,
	PVA_BSTAT_CACHED, PVA_BSTAT_SWAP_IN, PVA_BSTAT_SWAP_OUT,
	PVA_BSTAT_MAJFLT, PVA_BSTAT_MINFLT, PVA_BSTAT_OOM_KILLS,
	PVA_BSTAT_HUGETLB_ALLOC, PVA_BSTAT_HUGETLB_FAIL,
	PVA_BSTAT_NR,
};

struct pva_balloon_stats {
	__le64 valid;		/* bit n: v[n] is filled in */
	__le64 v[16];
};

PVA_STATIC_ASSERT(sizeof(struct pva_balloon_hello) == 24, "hello size");
PVA_STATIC_ASSERT(sizeof(struct pva_balloon_config) == 16, "config size");
PVA_STATIC_ASSERT(sizeof(struct pva_balloon_range) == 16, "range size");
PVA_STATIC_ASSERT(sizeof(struct pva_balloon_result) == 16, "result size");
PVA_STATIC_ASSERT(sizeof(struct pva_balloon_status) == 24, "status size");
PVA_STATIC_ASSERT(sizeof(struct pva_balloon_stats) == 136, "stats size");

#include "pva_sf.h"
#include "pva_display.h"
#include "pva_agent.h"

#endif /* PVA_PROTOCOL_H */
