/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * The desktop agent's channel ("agent", a generic channel, PROTOCOL.md
 * 6.8): pva-host on one end, the guest's pva-service (Linux) or agent
 * service (Windows) on the other. It carries the clipboard both ways,
 * the host's display layout to the desktop session, what the session
 * shows back, information about the guest, and guest control: the clock,
 * shutdown and reboot, filesystem freeze.
 *
 * pva-service speaks the same messages to each session's pva-agent over
 * a local socket (PROTOCOL.md 6.8.6), plus the PVA_AGENT_LOCAL_* types.
 *
 * Included by pva_protocol.h; not to be included on its own.
 */
#ifndef PVA_AGENT_H
#define PVA_AGENT_H

#define PVA_AGENT_CHANNEL	"agent"
#define PVA_AGENT_VERSION	1

/* Features (pva_agent_hello.features) */
#define PVA_AGENT_F_CLIPBOARD	(1ull << 0)	/* CLIP_* messages */
#define PVA_AGENT_F_DISPLAY	(1ull << 1)	/* DISPLAY_LAYOUT/STATE */
#define PVA_AGENT_F_INFO	(1ull << 2)	/* INFO */
#define PVA_AGENT_F_CONTROL	(1ull << 3)	/* time, power, fsfreeze */
#define PVA_AGENT_F_KNOWN	(PVA_AGENT_F_CLIPBOARD | PVA_AGENT_F_DISPLAY | \
				 PVA_AGENT_F_INFO | PVA_AGENT_F_CONTROL)

/* Message types on the channel */
#define PVA_AGENT_HELLO		1	/* g->h request, answered in kind */
#define PVA_AGENT_INFO		2	/* g->h event: key=value strings */
#define PVA_AGENT_CLIP_GRAB	3	/* either way: new clipboard owner */
#define PVA_AGENT_CLIP_REQUEST	4	/* either way: send me the data */
#define PVA_AGENT_CLIP_DATA	5	/* either way: (a chunk of) the data */
#define PVA_AGENT_CLIP_CANCEL	6	/* either way: stop that transfer */
#define PVA_AGENT_DISPLAY_LAYOUT 7	/* h->g event: pva_display_config */
#define PVA_AGENT_DISPLAY_STATE	8	/* g->h event: what the session shows */
#define PVA_AGENT_TIME_SYNC	9	/* h->g event: correct your clock now */
#define PVA_AGENT_TIME_QUERY	10	/* g->h request: the host's time */
#define PVA_AGENT_TIME_STATUS	11	/* g->h event: what the guest did */
#define PVA_AGENT_POWER		12	/* h->g request: shut down, reboot */
#define PVA_AGENT_GUEST_STATE	13	/* g->h event: the guest goes down */
#define PVA_AGENT_FSFREEZE	14	/* h->g request: freeze, thaw, status */

/* Only between pva-service and pva-agent (never on the channel) */
#define PVA_AGENT_LOCAL_REGISTER 64	/* agent -> service */
#define PVA_AGENT_LOCAL_WELCOME	65	/* service -> agent */
#define PVA_AGENT_LOCAL_ACTIVE	66	/* service -> agent */

struct pva_agent_hello {
	__le32 version;		/* PVA_AGENT_VERSION of the sender */
	__le32 reserved;
	__le64 features;	/* PVA_AGENT_F_*; the answer: both have */
	__le64 clip_max;	/* largest clipboard content it accepts */
};

/* INFO: up to PVA_AGENT_INFO_MAX bytes of "key=value" strings, each
 * NUL-terminated; key [a-z0-9._-]{1,63}, value UTF-8 without control
 * characters, at most PVA_AGENT_INFO_VALUE_MAX bytes.
 */
#define PVA_AGENT_INFO_MAX	16384
#define PVA_AGENT_INFO_KEY_MAX	63
#define PVA_AGENT_INFO_VALUE_MAX 1024

/* Selections (X11's names; Wayland has the same two) */
#define PVA_CLIP_CLIPBOARD	0
#define PVA_CLIP_PRIMARY	1
#define PVA_CLIP_NR_SELECTIONS	2

#define PVA_CLIP_MAX_TYPES	32	/* per GRAB */
#define PVA_CLIP_TYPE_MAX	127	/* bytes of one MIME type name */
#define PVA_CLIP_DEFAULT_MAX	(64ull << 20)	/* content, bytes */

/*
 * GRAB: the sender's side has new content on @selection, offered as
 * @ntypes MIME types (NUL-terminated names after the struct); 0 types:
 * the selection is empty now. @serial counts the sender's grabs (from 1
 * after each HELLO); @seen is the last serial it received from the other
 * side. A GRAB whose @seen is older than the receiver's own last GRAB
 * crossed it: the guest's wins (PROTOCOL.md 6.8.3).
 */
struct pva_clip_grab {
	__le32 selection;	/* PVA_CLIP_* */
	__le32 serial;
	__le32 seen;
	__le32 ntypes;		/* 0..PVA_CLIP_MAX_TYPES */
};

/* REQUEST: send the content of the grab @serial as @type (the MIME
 * name, NUL-terminated, after the struct) in CLIP_DATA messages with
 * transfer id @transfer (chosen by the requester, not 0).
 */
struct pva_clip_request {
	__le32 selection;
	__le32 serial;
	__le32 transfer;
	__le32 reserved;
};

#define PVA_CLIP_DATA_LAST	(1u << 0)	/* the transfer is complete */
#define PVA_CLIP_SIZE_UNKNOWN	(~0ull)

/* DATA: a chunk of a transfer, in order; the data follows the struct.
 * @status not PVA_S_OK: no content (the transfer ends, no LAST needed).
 */
struct pva_clip_data {
	__le32 transfer;
	__le32 status;		/* PVA_S_* */
	__le32 flags;		/* PVA_CLIP_DATA_* */
	__le32 reserved;
	__le64 offset;		/* of this chunk in the content */
	__le64 total;		/* the content's size, or SIZE_UNKNOWN */
};

struct pva_clip_cancel {
	__le32 transfer;
	__le32 reserved;
};

/* DISPLAY_STATE: the layout the session shows after applying (or
 * failing to apply) DISPLAY_LAYOUT @generation.
 */
struct pva_agent_display_state {
	__le32 generation;	/* of the layout it answers; 0: none yet */
	__le32 status;		/* PVA_S_OK: applied */
	__le32 nr_heads;
	__le32 reserved;
	struct pva_display_head heads[PVA_DISPLAY_MAX_HEADS];
};

/* ---- guest control (PVA_AGENT_F_CONTROL) ---- */

#define PVA_TIME_REASON_REQUEST	0	/* pva-hostctl time sync */
#define PVA_TIME_REASON_PERIODIC 1
#define PVA_TIME_REASON_RESUME	2	/* the host resumed from sleep */
#define PVA_TIME_REASON_GUEST	3	/* the guest asked by itself */

struct pva_agent_time_sync {
	__le32 reason;		/* PVA_TIME_REASON_* */
	__le32 reserved;
};

/* TIME_QUERY's answer: the host's CLOCK_REALTIME when it answered. */
struct pva_agent_time {
	__le64 realtime_ns;
};

#define PVA_TIME_NONE		0	/* within the threshold of slewing */
#define PVA_TIME_SLEWED		1	/* adjtime() */
#define PVA_TIME_STEPPED	2	/* clock_settime() */
#define PVA_TIME_YIELDED	3	/* NTP runs and the guest defers to it */
#define PVA_TIME_FAILED		4

struct pva_agent_time_status {
	__le32 reason;		/* of the sync this answers */
	__le32 action;		/* PVA_TIME_* */
	__le64 offset_ns;	/* signed: host minus guest, before */
	__le64 rtt_ns;		/* of the best sample */
	__le64 threshold_ns;	/* steps above, slews below */
	__le32 ntp;		/* 1: an NTP client runs in the guest */
	__le32 status;		/* PVA_S_* */
};

#define PVA_POWER_SHUTDOWN	1
#define PVA_POWER_REBOOT	2

struct pva_agent_power {
	__le32 action;		/* PVA_POWER_* */
	__le32 reserved;
};

#define PVA_GUEST_STATE_RUNNING		1
#define PVA_GUEST_STATE_SHUTDOWN	2	/* going down to power off */
#define PVA_GUEST_STATE_REBOOT		3	/* going down to reboot */

struct pva_agent_guest_state {
	__le32 state;		/* PVA_GUEST_STATE_* */
	__le32 reserved;
};

#define PVA_FSFREEZE_FREEZE	1
#define PVA_FSFREEZE_THAW	2
#define PVA_FSFREEZE_STATUS	3

struct pva_agent_fsfreeze {
	__le32 op;		/* PVA_FSFREEZE_* */
	__le32 timeout_s;	/* freeze: thaw by itself after (0: 60 s) */
};

/* The answer: the state after, and a NUL-terminated text (what was
 * frozen, or what failed) after the struct.
 */
struct pva_agent_fsfreeze_result {
	__le32 frozen;		/* filesystems frozen now (0: thawed) */
	__le32 timeout_s;	/* seconds left before the automatic thaw */
};

/* ---- pva-service <-> pva-agent only ---- */

#define PVA_AGENT_CAP_CLIPBOARD	(1u << 0)
#define PVA_AGENT_CAP_PRIMARY	(1u << 1)
#define PVA_AGENT_CAP_DISPLAY	(1u << 2)

struct pva_agent_register {
	__le32 version;		/* PVA_AGENT_VERSION */
	__le32 caps;		/* PVA_AGENT_CAP_* */
	char session[64];	/* logind session id, NUL-terminated; "" */
	char kind[16];		/* "x11", "wayland" */
	char display[64];	/* ":0", "wayland-1" */
	char desktop[32];	/* XDG_CURRENT_DESKTOP, or "" */
};

struct pva_agent_welcome {
	__le32 version;
	__le32 active;		/* 1: this session is the one the host sees */
	__le64 clip_max;
};

struct pva_agent_active {
	__le32 active;
	__le32 reserved;
};

PVA_STATIC_ASSERT(sizeof(struct pva_agent_hello) == 24, "agent hello size");
PVA_STATIC_ASSERT(sizeof(struct pva_clip_grab) == 16, "clip grab size");
PVA_STATIC_ASSERT(sizeof(struct pva_clip_request) == 16, "clip request size");
PVA_STATIC_ASSERT(sizeof(struct pva_clip_data) == 32, "clip data size");
PVA_STATIC_ASSERT(sizeof(struct pva_clip_cancel) == 8, "clip cancel size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_display_state) == 144,
		  "display state size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_time_sync) == 8, "time sync size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_time) == 8, "time size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_time_status) == 40,
		  "time status size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_power) == 8, "power size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_guest_state) == 8,
		  "guest state size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_fsfreeze) == 8, "fsfreeze size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_fsfreeze_result) == 8,
		  "fsfreeze result size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_register) == 184,
		  "agent register size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_welcome) == 16, "welcome size");
PVA_STATIC_ASSERT(sizeof(struct pva_agent_active) == 8, "active size");

#endif /* PVA_AGENT_H */
