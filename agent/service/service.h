/* SPDX-License-Identifier: MIT */
/*
 * pva-service, the guest's system daemon for the desktop agent
 * (protocol/PROTOCOL.md 6.8): it owns the "agent" channel to the host
 * (channel.c), tracks desktop sessions through logind (sessions.c),
 * accepts one pva-agent per session on a local socket (agents.c), and
 * routes clipboard and display traffic between the host and the agent of
 * the active session (router.c); info.c reports the guest to the host.
 */
#ifndef PVA_SERVICE_H
#define PVA_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_msg.h"
#include "log.h"

#define PVA_SERVICE_VERSION	"0.1.0"
#define DEFAULT_DEVICE		"/dev/pva"
#define DEFAULT_AGENT_SOCKET	"/run/pva/agent.sock"
#define PACKET_MAX		(sizeof(struct pva_msg_hdr) + PVA_MSG_MAX)

struct loop;
struct svc;

struct svc_options {
	const char *device;	/* /dev/pva */
	uint64_t time_threshold_ms;	/* step above, slew below */
	bool time_yield_ntp;	/* leave the clock to a running NTP client */
	bool time_sync;		/* act on the host's TIME_SYNC at all */
	const char *hook_dir;	/* fsfreeze hooks */
	const char *host_socket;	/* instead of the device: pva-host's
					 * --agent-socket (tests)
					 */
	const char *agent_socket;
	bool logind;		/* track sessions through logind */
	uint64_t clip_max;
};

/* A message queued for a socket or the device: header + payload. */
struct pkt {
	struct pkt *next;
	size_t len;
	uint8_t data[];
};

struct pktq {
	struct pkt *head, **tail;
	size_t bytes;
};

void pktq_init(struct pktq *q);
void pktq_clear(struct pktq *q);
/* Queue a message (type, status, payload); false when out of memory. */
bool pktq_add(struct pktq *q, uint16_t type, uint16_t flags,
	      uint32_t req_id, uint32_t status, const void *payload,
	      uint32_t len);

/* ---- sessions.c: logind ---- */

struct session_info {
	char id[64];
	uid_t uid;
	char user[64];
	char seat[32];
	char type[16];		/* x11, wayland, tty, ... */
	char desktop[32];
	bool active;
};

struct sessions;

/* @changed is called (from the loop) when sessions or the active one
 * change. NULL when logind cannot be reached (then every agent counts).
 */
struct sessions *sessions_open(struct loop *loop, void (*changed)(void *),
			       void *data);
void sessions_close(struct sessions *s);
/* The session @id, if logind knows it. */
bool sessions_get(struct sessions *s, const char *id,
		  struct session_info *out);
/* The session @pid belongs to (its id into @id), or false. */
bool sessions_of_pid(struct sessions *s, pid_t pid, char *id, size_t len);
/* The graphical session of @uid (the active one first), or false. */
bool sessions_user_graphical(struct sessions *s, uid_t uid, char *id,
			     size_t len);
/* How many sessions logind has. */
unsigned int sessions_count(struct sessions *s);
/* The session list, for the host: "id:user:type:seat:state,...". */
void sessions_describe(struct sessions *s, char *out, size_t len,
		       char *users, size_t ulen);
/* Power off or reboot through logind; 0 or -errno. */
int sessions_power(struct sessions *s, bool reboot);
/* @fn(data, reboot) when logind announces a shutdown. */
void sessions_on_shutdown(struct sessions *s, void (*fn)(void *, bool),
			  void *data);

/* ---- agents.c: the local socket ---- */

struct agent_conn {
	struct agent_conn *next;
	struct svc *svc;
	int fd;
	struct loop_source *src;
	pid_t pid;
	uid_t uid;
	bool registered;
	bool active;
	uint32_t caps;		/* PVA_AGENT_CAP_* */
	char session[64];
	char kind[16], display[64], desktop[32];
	char user[64];
	uint64_t seq;		/* registration order (no logind) */
	struct pktq out;
	/* the last grab the session made, per selection, and when */
	bool local_valid[PVA_CLIP_NR_SELECTIONS];
	struct clip_types local[PVA_CLIP_NR_SELECTIONS];
	uint64_t local_time[PVA_CLIP_NR_SELECTIONS];
	struct log_ratelimit rl;
};

int agents_listen(struct svc *s, const char *path);
void agents_close_all(struct svc *s);
void agent_conn_send(struct agent_conn *c, uint16_t type, uint32_t status,
		     const void *payload, uint32_t len);
void agent_conn_close(struct agent_conn *c, const char *why);
/* Stop or resume reading agents (the host side is backed up). */
void agents_throttle(struct svc *s, bool stop);

/* ---- channel.c: the host ---- */

struct channel;

struct channel *channel_open(struct svc *s, const struct svc_options *opt);
void channel_close(struct channel *ch);
/* Send to the host (queued while the channel is full); false if there is
 * no connection (the message is dropped).
 */
bool channel_send(struct channel *ch, uint16_t type, const void *payload,
		  uint32_t len);
/* A request to the host; its answer goes to control_answer(). */
bool channel_request(struct channel *ch, uint16_t type, uint32_t req_id,
		     const void *payload, uint32_t len);
/* Answer the host's request @req. */
void channel_reply(struct channel *ch, const struct pva_msg_hdr *req,
		   uint32_t status, const void *payload, uint32_t len);
bool channel_up(const struct channel *ch);	/* HELLO answered */
uint64_t channel_features(const struct channel *ch);
uint64_t channel_host_clip_max(const struct channel *ch);
uint32_t channel_max_payload(const struct channel *ch);
size_t channel_queued(const struct channel *ch);
/* Stop or resume reading from the host (an agent is backed up). */
void channel_throttle(struct channel *ch, bool stop);

/* ---- router.c ---- */

/* The host answered HELLO (up) or the connection went away (down). */
void router_host_up(struct svc *s);
void router_host_down(struct svc *s);
void router_from_host(struct svc *s, uint16_t type, const uint8_t *p,
		      uint32_t len);
void router_from_agent(struct agent_conn *c, uint16_t type,
		       const uint8_t *p, uint32_t len);
void router_agent_gone(struct agent_conn *c);
/* Who is the active agent now? (sessions changed, agent came or went) */
void router_update_active(struct svc *s);

/* Monotonic milliseconds, to tell which of two grabs came last. */
uint64_t now_ms(void);

/* ---- control.c: the clock, power, filesystem freeze ---- */

struct control;

struct control *control_open(struct svc *s);
void control_close(struct control *c);
/* The host's requests (POWER, FSFREEZE) and answers (TIME_QUERY). */
void control_request(struct svc *s, const struct pva_msg_hdr *h,
		     const uint8_t *p, uint32_t len);
void control_answer(struct svc *s, const struct pva_msg_hdr *h,
		    const uint8_t *p, uint32_t len);
/* Host events for guest control (TIME_SYNC). */
void control_event(struct svc *s, uint16_t type, const uint8_t *p,
		   uint32_t len);
/* The system is going down (logind said so). */
void control_going_down(struct svc *s, bool reboot);
void control_host_up(struct svc *s);
/* Filesystems frozen now: write nothing to disk. */
bool control_frozen(const struct svc *s);

/* ---- info.c ---- */

/* Send INFO to the host (after HELLO and whenever it may have changed). */
void info_send(struct svc *s);
/* Watch what has no event of its own (addresses, modules). */
void info_watch(struct svc *s);
void info_unwatch(void);

/* ---- main.c: the daemon's state ---- */

#define MAX_MAP	64	/* transfers in flight through the service */

/* A transfer the service relays: the host's id and the agent's. */
struct xfer {
	bool used;
	bool to_host;		/* the agent's content goes to the host */
	uint32_t host_id, agent_id;
	struct agent_conn *agent;
};

struct svc {
	struct svc_options opt;
	struct loop *loop;
	struct channel *ch;
	struct sessions *sessions;
	struct control *control;
	int listen_fd;
	struct loop_source *listen_src;
	struct agent_conn *agents;
	uint64_t next_seq;
	struct agent_conn *active;	/* the agent the host sees, or NULL */
	/* clipboard, per selection (PROTOCOL.md 6.8.2) */
	struct {
		bool host_owns;
		uint64_t host_time;	/* when the host grabbed */
		uint32_t host_serial;	/* the host's last GRAB */
		struct clip_types host_types;
		uint32_t guest_serial;	/* our last GRAB to the host */
		struct agent_conn *owner;	/* the guest's grab is its */
	} sel[PVA_CLIP_NR_SELECTIONS];
	struct xfer xfers[MAX_MAP];
	uint32_t next_id;
	/* the last layout the host asked for */
	bool layout_valid;
	struct pva_display_config layout;
	bool throttled;
	struct log_ratelimit rl;
};

#endif
