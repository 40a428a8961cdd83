/* SPDX-License-Identifier: MIT */
/*
 * Shared folders, host side: the state shared by host/sf*.c.
 *
 * sf.c        service ops, request dispatch and checks, status, ctl
 * sf_share.c  the share list, its state file
 * sf_node.c   mounts, nodes, handles and lock owners (bounded tables)
 * sf_ops.c    the operations of PROTOCOL.md 6.6
 * sf_notify.c inotify watches on directory nodes -> SF_NOTIFY events
 *
 * Confinement: a node holds an O_PATH|O_NOFOLLOW descriptor of one host
 * inode. Names are resolved one at a time relative to a directory node
 * (openat/mkdirat/... on its descriptor, O_NOFOLLOW, AT_SYMLINK_NOFOLLOW);
 * a node is reopened for I/O through /proc/self/fd/N, which is the inode
 * itself, never a path walk. So the guest reaches only what is below a
 * share's root, and no symlink is ever followed on the host.
 */
#ifndef PVA_HOST_SF_INT_H
#define PVA_HOST_SF_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "log.h"
#include "pva_protocol.h"
#include "service.h"
#include "sf.h"

#define SF_MAX_MOUNTS		64
#define SF_MAX_OWNERS		1024	/* lock owners: one host fd each */
#define SF_FD_RESERVE		256	/* descriptors left for the rest */
#define SF_NODE_HASH		16384	/* buckets, powers of two */
#define SF_FH_HASH		4096
#define SF_WATCH_HASH		4096
#define SF_NOTIFY_QUEUE		512	/* events waiting for ring space */
#define SF_NR_OPS		(PVA_SF_NOTIFY + 1)
#define SF_PROC_PATH		32	/* "/proc/self/fd/N" */

struct sf_share {
	char name[PVA_SF_SHARE_NAME_MAX + 1];
	char *path;
	bool ro;
	bool from_cli;		/* given with --share */
	unsigned int mounts;	/* in use now */
	struct sf_share *next;
};

struct sf_node;
struct sf_handle;

struct sf_mount {
	uint32_t id;
	struct sf_share *share;
	bool ro;		/* the share is, or the guest asked */
	bool overflow;		/* an OVERFLOW notification is due */
	struct sf_node *root;
	struct sf_node *nodes;	/* all of this mount's (mnext) */
	struct sf_handle *handles;
	uint64_t next_node;	/* ids are never reused */
	uint32_t nnodes, nhandles;
	struct sf_mount *next;
};

/* One inotify watch (one directory inode) and the nodes that share it. */
struct sf_watch {
	int wd;
	dev_t dev;
	ino_t ino;
	struct sf_node *nodes;	/* chained by wnext */
	struct sf_watch *hnext;
};

/*
 * A guest lock owner on one node: its own open file description on the
 * host, so OFD locks give POSIX semantics between owners.
 */
struct sf_owner {
	uint64_t owner;
	int fd;
	int accmode;		/* O_RDONLY, O_WRONLY or O_RDWR */
	struct sf_owner *next;
};

struct sf_node {
	uint64_t id;
	struct sf_mount *m;
	int fd;			/* O_PATH|O_NOFOLLOW */
	dev_t dev;
	ino_t ino;
	mode_t type;		/* S_IFMT bits: an inode never changes type */
	uint64_t nlookup;
	uint32_t nhandles;
	struct sf_owner *owners;
	struct sf_watch *watch;
	struct sf_node *wnext;
	struct sf_node *id_next, *ino_next;	/* hash chains */
	struct sf_node *mprev, *mnext;
};

struct sf_handle {
	uint64_t fh;
	struct sf_mount *m;
	struct sf_node *node;
	int fd;
	int accmode;
	struct sf_handle *hnext, *mprev, *mnext;
};

/* Changes the guest is making now: its own inotify events are dropped. */
struct sf_expect {
	struct sf_mount *m;
	unsigned int nnames, ninodes;
	struct {
		int wd;
		const char *name;
	} names[2];
	struct {
		dev_t dev;
		ino_t ino;
	} inodes[2];
};

struct sf_queued {
	struct pva_sf_notify n;
	char name[PVA_SF_NAME_MAX];
};

struct sf_op_stats {
	uint64_t calls, errors;
};

struct sf {
	struct service *svc;
	struct sf_share *shares;
	unsigned int nshares;
	char *state_file;
	bool root;		/* euid 0: new files get the guest's owner */
	bool trace;		/* PVA_HOST_SF_TRACE set: log every request */

	struct sf_mount *mounts;
	unsigned int nmounts;
	uint32_t next_mount;
	uint64_t epoch;		/* entry generation: bumped by resets */

	struct sf_node *by_id[SF_NODE_HASH];
	struct sf_node *by_ino[SF_NODE_HASH];
	struct sf_handle *by_fh[SF_FH_HASH];
	struct sf_watch *watches[SF_WATCH_HASH];
	uint32_t nnodes, nhandles, nowners, nwatches;
	uint32_t max_nodes, max_handles, fd_budget;
	uint64_t next_fh;

	int ino_fd;		/* inotify */
	struct sf_queued *queue;	/* SF_NOTIFY_QUEUE entries */
	unsigned int q_head, q_len;

	/* counters */
	struct sf_op_stats ops[SF_NR_OPS];
	uint64_t malformed, erofs, emfile, stale, unknown_ops;
	uint64_t notify_sent, notify_own, notify_dropped, overflows;
	uint64_t watch_failures;

	uint8_t *out;		/* answer buffer, PVA_MSG_MAX bytes */
	struct log_ratelimit rl;
};

/* One request being handled. */
struct sf_call {
	struct sf *sf;
	uint16_t type;
	bool request;		/* else an event: no answer */
	const uint8_t *p;
	uint32_t len;
	struct sf_mount *m;	/* from pva_sf_req.mount */
	uint8_t *out;
	uint32_t out_len, out_max;
	const char *why;	/* malformed: what was wrong, for the log */
	struct sf_expect ex;
	/* the request's names, NUL-terminated copies */
	char name[2][PVA_SF_NAME_MAX + 1];
};

/* sf.c */
struct sf *sf_of(struct service *svc);
/* A malformed request: count, remember why; returns -EINVAL. */
int sf_malformed(struct sf_call *c, const char *why);

/* sf_share.c */
struct sf_share *sf_share_find(struct sf *sf, const char *name, size_t len);
void sf_shares_free(struct sf *sf);
void sf_state_save(struct sf *sf);
struct json_object *sf_shares_json(struct sf *sf);

/* sf_node.c */
void sf_tables_init(struct sf *sf);
void sf_proc_path(char buf[SF_PROC_PATH], int fd);
struct sf_mount *sf_mount_find(struct sf *sf, uint32_t id);
int sf_mount_new(struct sf *sf, struct sf_share *share, bool ro, int fd,
		 const struct stat *st, struct sf_mount **out);
void sf_mount_free(struct sf *sf, struct sf_mount *m);
void sf_mounts_free(struct sf *sf);
struct sf_node *sf_node_find(struct sf *sf, struct sf_mount *m, uint64_t id);
int sf_node_get(struct sf *sf, struct sf_mount *m, int fd,
		const struct stat *st, struct sf_node **out);
void sf_node_put(struct sf *sf, struct sf_node *n, uint64_t nlookup);
int sf_room_for_node(struct sf *sf);
int sf_room_for_handle(struct sf *sf);
struct sf_handle *sf_handle_find(struct sf *sf, struct sf_mount *m,
				 uint64_t fh);
int sf_handle_new(struct sf *sf, struct sf_node *n, int fd, int accmode,
		  struct sf_handle **out);
void sf_handle_free(struct sf *sf, struct sf_handle *h);
struct sf_owner *sf_owner_find(struct sf_node *n, uint64_t owner);
int sf_owner_new(struct sf *sf, struct sf_node *n, uint64_t owner,
		 int accmode, struct sf_owner **out);
void sf_owner_free(struct sf *sf, struct sf_node *n, struct sf_owner *o);

/* sf_ops.c: handlers return 0 with the answer in c->out, or -errno */
typedef int (*sf_handler)(struct sf_call *c);
struct sf_op {
	const char *name;
	sf_handler fn;
	bool changes;		/* refused on read-only mounts, notify drain */
	bool event_ok;		/* may come as an event */
	uint64_t feature;	/* PVA_SF_F_* it needs, or 0 */
};
const struct sf_op *sf_op_find(uint16_t type);
/* The largest answer @type can need (checked before any change). */
uint32_t sf_answer_max(struct sf_call *c);
void sf_fill_attr(struct pva_sf_attr *a, const struct stat *st);

/* sf_notify.c */
int sf_notify_init(struct sf *sf);
void sf_notify_fini(struct sf *sf);
void sf_notify_reset(struct sf *sf);
void sf_watch_add(struct sf *sf, struct sf_node *n);
void sf_watch_del(struct sf *sf, struct sf_node *n);
void sf_notify_drain(struct sf *sf, const struct sf_expect *ex);
void sf_notify_mount(struct sf *sf, uint32_t mount, uint32_t mask);
void sf_notify_pump(struct sf *sf);
void sf_expect_name(struct sf_call *c, struct sf_node *dir,
		    const char *name);
void sf_expect_inode(struct sf_call *c, dev_t dev, ino_t ino);

#endif
