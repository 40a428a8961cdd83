/* SPDX-License-Identifier: MIT */
/*
 * The shared-folder service, host side (protocol/PROTOCOL.md 6.6): what
 * the rest of pva-host (config, worker, tests) needs to know about it.
 * The service itself is sf_service_ops (service.h).
 */
#ifndef PVA_HOST_SF_H
#define PVA_HOST_SF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct service;

#define SF_MAX_SHARES		256	/* SHARES fits one message easily */
#define SF_MAX_NODES		65536	/* per guest (PROTOCOL.md 6.6) */
#define SF_MAX_HANDLES		4096	/* per guest */

/* A share name: [a-z0-9_.-]{1,63}. */
bool sf_share_name_valid(const char *name);

/*
 * Add a share: @path must be an absolute path to a directory. Returns 0,
 * or -errno with a message for the user in @err.
 */
int sf_share_add(struct service *svc, const char *name, const char *path,
		 bool ro, char *err, size_t errlen);
/* Remove a share; its mounts are revoked (ESTALE). Returns how many. */
int sf_share_remove(struct service *svc, const char *name);

/*
 * Runtime shares (pva-hostctl share add/remove) are kept in @path so a
 * restarted worker serves the same list; @restore: load it now (a
 * restarted worker), else start from the command line and remove it.
 */
void sf_set_state_file(struct service *svc, const char *path, bool restore);

/* Host errno -> PVA_S_*: the only place that maps them. */
uint32_t sf_errno_status(int err);

/* Tests: smaller limits than SF_MAX_NODES/SF_MAX_HANDLES. */
void sf_set_limits(struct service *svc, uint32_t max_nodes,
		   uint32_t max_handles);
/* Tests: read pending inotify events now (the tick does it otherwise). */
void sf_poll_notify(struct service *svc);

#endif
