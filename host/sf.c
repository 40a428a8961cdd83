// SPDX-License-Identifier: MIT
/*
 * The shared-folder service, host side (protocol/PROTOCOL.md 6.6): the
 * service ops, the checks every request goes through before its handler
 * in sf_ops.c runs, status and the pva-hostctl share commands.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "device.h"
#include "sf_int.h"

struct sf *sf_of(struct service *svc)
{
	return svc->priv;
}

int sf_malformed(struct sf_call *c, const char *why)
{
	c->why = why;
	return -EINVAL;
}

uint32_t sf_errno_status(int err)
{
	static const struct {
		int err;
		uint32_t status;
	} map[] = {
		{ EINVAL, PVA_S_EINVAL }, { EOPNOTSUPP, PVA_S_ENOTSUP },
		{ ENOENT, PVA_S_ENOENT }, { EBUSY, PVA_S_EBUSY },
		{ ENOMEM, PVA_S_ENOMEM }, { EIO, PVA_S_EIO },
		{ E2BIG, PVA_S_E2BIG }, { EAGAIN, PVA_S_EAGAIN },
		{ EPERM, PVA_S_EPERM }, { EEXIST, PVA_S_EEXIST },
		{ ENOSPC, PVA_S_ENOSPC }, { EROFS, PVA_S_EROFS },
		{ ENOTDIR, PVA_S_ENOTDIR }, { EISDIR, PVA_S_EISDIR },
		{ ENOTEMPTY, PVA_S_ENOTEMPTY },
		{ ENAMETOOLONG, PVA_S_ENAMETOOLONG }, { ELOOP, PVA_S_ELOOP },
		{ EXDEV, PVA_S_EXDEV }, { ESTALE, PVA_S_ESTALE },
		{ EBADF, PVA_S_EBADF }, { ERANGE, PVA_S_ERANGE },
		{ ENODATA, PVA_S_ENODATA }, { EACCES, PVA_S_EACCES },
		{ EMLINK, PVA_S_EMLINK }, { EFBIG, PVA_S_EFBIG },
		{ ETXTBSY, PVA_S_ETXTBSY }, { EOVERFLOW, PVA_S_EOVERFLOW },
		{ EDQUOT, PVA_S_EDQUOT }, { EDEADLK, PVA_S_EDEADLK },
		{ ENOLCK, PVA_S_ENOLCK }, { ENXIO, PVA_S_ENXIO },
		{ EMFILE, PVA_S_EMFILE }, { ENFILE, PVA_S_EMFILE },
		{ EINTR, PVA_S_EINTR }, { ENOTTY, PVA_S_ENOTTY },
		{ EBADMSG, PVA_S_EINVAL },
	};

	if (err < 0)
		err = -err;
	if (!err)
		return PVA_S_OK;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].err == err)
			return map[i].status;
	return PVA_S_EIO;
}

/* ---- requests ---- */

static void log_malformed(struct sf *sf, uint16_t type, uint32_t len,
			  const char *why)
{
	sf->malformed++;
	sf->svc->stats.bad_msgs++;
	if (log_ratelimit_ok(&sf->rl))
		log_warn("sf: malformed message type %u (%u bytes) from the guest: %s",
			 type, len, why);
}

/* Checks every request shares, then the handler. */
static int sf_call_run(struct sf_call *c, const struct sf_op *op)
{
	struct sf *sf = c->sf;
	struct pva_sf_req r;

	if (op->feature && !(sf->svc->ops->features & op->feature))
		return -EOPNOTSUPP;
	if (c->len < sizeof(r))
		return sf_malformed(c, "shorter than pva_sf_req");
	memcpy(&r, c->p, sizeof(r));
	if (c->type != PVA_SF_SHARES && c->type != PVA_SF_MOUNT) {
		c->m = sf_mount_find(sf, pva_le32(r.mount));
		if (!c->m) {
			sf->stale++;
			return -ESTALE;	/* unmounted, or its share removed */
		}
		if (op->changes && c->m->ro) {
			sf->erofs++;
			return -EROFS;
		}
	}
	if (op->changes)
		sf_notify_drain(sf, NULL);	/* the host's changes so far */
	return op->fn(c);
}

static int sf_rx(struct service *svc, const struct pva_msg_hdr *hdr,
		 const uint8_t *payload, uint32_t len)
{
	struct sf *sf = sf_of(svc);
	uint16_t flags = pva_le16(hdr->flags);
	struct sf_call c = {
		.sf = sf, .type = pva_le16(hdr->type),
		.request = flags & PVA_MSG_F_REQUEST,
		.p = payload, .len = len, .out = sf->out,
		.out_max = svc->tx.max_payload,
	};
	const struct sf_op *op = sf_op_find(c.type);
	struct sf_op_stats *st;
	uint32_t status;
	int err;

	if (flags & PVA_MSG_F_RESPONSE) {
		/* the host asks nothing of the guest */
		log_malformed(sf, c.type, len, "a response to no request");
		return 0;
	}
	if (!c.request && (!op || !op->event_ok))
		return 0;	/* unknown events are dropped */
	if (c.out_max > PVA_MSG_MAX)
		c.out_max = PVA_MSG_MAX;
	if (c.request) {
		uint32_t need = op ? sf_answer_max(&c) : 0;

		if (!service_can_send(svc, need))
			return SERVICE_RETRY;
	}
	if (!op) {
		sf->unknown_ops++;
		service_reply(svc, hdr, PVA_S_ENOTSUP, NULL, 0);
		return 0;
	}
	st = &sf->ops[c.type];
	st->calls++;
	err = sf_call_run(&c, op);
	if (sf->trace)
		log_debug("sf: %s mount %u (%u bytes) -> %d",
			  op ? op->name : "?", c.m ? c.m->id : 0, len, err);
	if (c.ex.m)
		sf_notify_drain(sf, &c.ex);	/* drop the echo of our change */
	if (c.why)
		log_malformed(sf, c.type, len, c.why);
	if (err) {
		st->errors++;
		c.out_len = 0;
		if (err == -EMFILE || err == -ENFILE)
			sf->emfile++;
	}
	status = sf_errno_status(err);
	if (c.request)
		service_reply(svc, hdr, status, c.out, c.out_len);
	sf_notify_pump(sf);
	return 0;
}

static void sf_pump(struct service *svc)
{
	sf_notify_pump(sf_of(svc));
}

void sf_poll_notify(struct service *svc)
{
	struct sf *sf = sf_of(svc);

	sf_notify_drain(sf, NULL);
	sf_notify_pump(sf);
}

static void sf_tick(struct service *svc)
{
	sf_poll_notify(svc);
}

/* Device reset: the guest forgets every mount, node and handle. */
static void sf_reset(struct service *svc)
{
	struct sf *sf = sf_of(svc);

	sf_mounts_free(sf);
	sf_notify_reset(sf);
	sf->epoch++;
}

void sf_set_limits(struct service *svc, uint32_t max_nodes,
		   uint32_t max_handles)
{
	struct sf *sf = sf_of(svc);

	sf->max_nodes = max_nodes;
	sf->max_handles = max_handles;
}

/* ---- status ---- */

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static void sf_status(struct service *svc, struct json_object *obj)
{
	struct sf *sf = sf_of(svc);
	struct json_object *o = json_object_new_object();
	struct json_object *ops = json_object_new_object();

	add_u64(o, "shares", sf->nshares);
	add_u64(o, "mounts", sf->nmounts);
	add_u64(o, "nodes", sf->nnodes);
	add_u64(o, "handles", sf->nhandles);
	add_u64(o, "lock_owners", sf->nowners);
	add_u64(o, "watches", sf->nwatches);
	add_u64(o, "max_nodes", sf->max_nodes);
	add_u64(o, "max_handles", sf->max_handles);
	add_u64(o, "malformed", sf->malformed);
	add_u64(o, "erofs", sf->erofs);
	add_u64(o, "emfile", sf->emfile);
	add_u64(o, "stale", sf->stale);
	add_u64(o, "unknown_ops", sf->unknown_ops);
	add_u64(o, "notify_sent", sf->notify_sent);
	add_u64(o, "notify_own", sf->notify_own);
	add_u64(o, "notify_dropped", sf->notify_dropped);
	add_u64(o, "notify_overflows", sf->overflows);
	add_u64(o, "watch_failures", sf->watch_failures);
	for (uint16_t t = 1; t < SF_NR_OPS; t++) {
		const struct sf_op *op = sf_op_find(t);
		struct json_object *e;

		if (!op || !sf->ops[t].calls)
			continue;
		e = json_object_new_object();
		add_u64(e, "calls", sf->ops[t].calls);
		add_u64(e, "errors", sf->ops[t].errors);
		json_object_object_add(ops, op->name, e);
	}
	json_object_object_add(o, "ops", ops);
	json_object_object_add(obj, "sf", o);
}

/* ---- pva-hostctl share add|remove|list ---- */

static const char *jstr(struct json_object *req, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int cmd_add(struct service *svc, struct ctl_client *client,
		   struct json_object *req)
{
	const char *name = jstr(req, "name"), *path = jstr(req, "path");
	struct json_object *v;
	bool ro = false;
	char err[256];

	if (json_object_object_get_ex(req, "ro", &v))
		ro = json_object_get_boolean(v);
	if (!name || !path) {
		ctl_reply_error(client, "sf: share add needs a name and a path");
		return -1;
	}
	if (sf_share_add(svc, name, path, ro, err, sizeof(err)) < 0) {
		ctl_reply_error(client, "sf: %s", err);
		return -1;
	}
	sf_state_save(sf_of(svc));
	log_info("sf: share %s added: %s%s", name, path, ro ? " (read-only)" : "");
	v = json_object_new_object();
	json_object_object_add(v, "name", json_object_new_string(name));
	ctl_reply(client, v);
	return 0;
}

static int cmd_remove(struct service *svc, struct ctl_client *client,
		      struct json_object *req)
{
	const char *name = jstr(req, "name");
	struct json_object *v;
	int n;

	if (!name) {
		ctl_reply_error(client, "sf: share remove needs a name");
		return -1;
	}
	n = sf_share_remove(svc, name);
	if (n < 0) {
		ctl_reply_error(client, "sf: no share named '%s'", name);
		return -1;
	}
	sf_state_save(sf_of(svc));
	log_info("sf: share %s removed, %d guest mounts revoked", name, n);
	v = json_object_new_object();
	add_u64(v, "revoked_mounts", (uint64_t)n);
	ctl_reply(client, v);
	return 0;
}

static int cmd_list(struct service *svc, struct ctl_client *client,
		    struct json_object *req)
{
	struct json_object *v = json_object_new_object();

	(void)req;
	json_object_object_add(v, "shares", sf_shares_json(sf_of(svc)));
	ctl_reply(client, v);
	return 0;
}

static const struct ctl_command sf_commands[] = {
	{ "sf-share-add", cmd_add },
	{ "sf-share-remove", cmd_remove },
	{ "sf-share-list", cmd_list },
	{ NULL, NULL },
};

/* ---- life ---- */

/*
 * Every node and handle is a host descriptor: raise the soft limit as far
 * as the nodes and handles need (ctl.c and the loop use poll and epoll,
 * so high descriptor numbers are fine), and leave a reserve for the rest.
 */
static uint32_t fd_budget(void)
{
	uint64_t want = SF_MAX_NODES + SF_MAX_HANDLES + SF_MAX_OWNERS +
			SF_FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur <= 2 * SF_FD_RESERVE)
		return (uint32_t)(rl.rlim_cur / 2);
	return (uint32_t)(rl.rlim_cur > want ? want : rl.rlim_cur) -
	       SF_FD_RESERVE;
}

static int sf_init(struct service *svc)
{
	struct sf *sf = calloc(1, sizeof(*sf));

	if (!sf)
		return -1;
	sf->svc = svc;
	sf->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	sf->ino_fd = -1;
	sf->root = geteuid() == 0;
	sf->trace = getenv("PVA_HOST_SF_TRACE") != NULL;
	sf->epoch = (uint64_t)getpid() << 32 | (uint32_t)time(NULL);
	sf_tables_init(sf);
	sf->fd_budget = fd_budget();
	sf->out = malloc(PVA_MSG_MAX);
	if (!sf->out || sf_notify_init(sf) < 0) {
		free(sf->out);
		free(sf);
		return -1;
	}
	svc->priv = sf;
	return 0;
}

static void sf_destroy(struct service *svc)
{
	struct sf *sf = sf_of(svc);

	sf_mounts_free(sf);
	sf_notify_fini(sf);
	sf_shares_free(sf);
	free(sf->state_file);
	free(sf->out);
	free(sf);
}

/*
 * The rings carry READ and WRITE data inline: 256 KiB gives the largest
 * payload (PVA_MSG_MAX) and room for a few in flight.
 */
const struct service_ops sf_service_ops = {
	.name = "sf",
	.type = PVA_SVC_SF,
	.version = 1,
	.features = PVA_SF_F_KNOWN,
	.g2h_size = 256 << 10,
	.h2g_size = 256 << 10,
	.init = sf_init,
	.destroy = sf_destroy,
	.reset = sf_reset,
	.rx = sf_rx,
	.pump = sf_pump,
	.tick = sf_tick,
	.status = sf_status,
	.commands = sf_commands,
};
