// SPDX-License-Identifier: GPL-2.0
/*
 * Requests to the host: one place builds them (mount id, names gathered
 * without copies) and turns transport failures into filesystem errors;
 * FORGET and RELEASE are batched and sent from a work item, because the
 * places that need them (inode eviction, file release) must not wait.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>

#include "pva_sf.h"

/*
 * Send request @req (which starts with struct pva_sf_req) followed by the
 * byte strings @a and @b, and wait for the answer (at most @resp_max bytes
 * to @resp). Returns 0 or -errno.
 */
int pva_sf_call(struct pva_sf_sb *s, u16 type, void *req, u32 req_len,
		const void *a, u32 a_len, const void *b, u32 b_len,
		void *resp, u32 resp_max, u32 *resp_len)
{
	struct pva_sf_req *r = req;
	struct kvec iov[3] = {
		{ .iov_base = req, .iov_len = req_len },
		{ .iov_base = (void *)a, .iov_len = a_len },
		{ .iov_base = (void *)b, .iov_len = b_len },
	};
	int err;

	if (type != PVA_SF_MOUNT && type != PVA_SF_SHARES) {
		err = pva_sf_ensure_mount(s);
		if (err)
			return err;
		r->mount = cpu_to_le32(READ_ONCE(s->mount_id));
	}
	r->reserved = 0;
	down_read(&s->conn->calls);
	if (READ_ONCE(s->conn->up) && s->conn->client)
		err = pva_callv(s->conn->client, type, iov, 3, resp, resp_max,
				resp_len, PVA_SF_TIMEOUT);
	else
		err = -EIO;
	up_read(&s->conn->calls);
	switch (err) {
	case -ENOTCONN:		/* the device is down or resetting */
	case -ECONNRESET:
	case -ETIMEDOUT:
	case -EMSGSIZE:
		return -EIO;
	case -EBADF:		/* a handle the host no longer knows */
		return -EIO;
	}
	return err;
}

/* Is @inode's node from the current mount of its share? */
int pva_sf_node_ok(struct inode *inode)
{
	struct pva_sf_sb *s = PVA_SF_SB(inode->i_sb);
	struct pva_sf_inode *ii = PVA_SF_I(inode);
	int err = pva_sf_ensure_mount(s);

	if (err)
		return err;
	return ii->epoch == READ_ONCE(s->epoch) ? 0 : -ESTALE;
}

/* Queue a FORGET (@count lookups of node @id) or a RELEASE (handle @id). */
void pva_sf_defer(struct pva_sf_sb *s, u16 type, u64 id, u64 count)
{
	struct pva_sf_conn *conn = s->conn;
	bool full;

	spin_lock(&conn->deferred_lock);
	/* nothing to tell a host that has forgotten this mount */
	if (s->epoch != conn->epoch) {
		spin_unlock(&conn->deferred_lock);
		return;
	}
	while (conn->nr_deferred == PVA_SF_DEFERRED_MAX) {
		spin_unlock(&conn->deferred_lock);
		flush_work(&conn->deferred_work);
		spin_lock(&conn->deferred_lock);
	}
	conn->deferred[conn->nr_deferred++] = (struct pva_sf_deferred){
		.type = type, .mount = s->mount_id, .id = id, .count = count,
	};
	full = conn->nr_deferred > PVA_SF_DEFERRED_MAX / 2;
	spin_unlock(&conn->deferred_lock);
	if (full || type == PVA_SF_RELEASE)
		queue_work(system_wq, &conn->deferred_work);
}

/* Send one event, waiting for ring space if need be. */
static void pva_sf_send_event(struct pva_sf_conn *conn, u16 type,
			      const void *msg, u32 len)
{
	int tries = 1000;

	down_read(&conn->calls);
	while (conn->client && READ_ONCE(conn->up) &&
	       pva_send(conn->client, type, 0, 0, 0, msg, len) == -EAGAIN &&
	       --tries)
		usleep_range(500, 1000);
	up_read(&conn->calls);
}

void pva_sf_deferred_func(struct work_struct *work)
{
	struct pva_sf_conn *conn = container_of(work, struct pva_sf_conn,
						deferred_work);
	struct pva_sf_deferred *d = conn->sending;
	typeof(conn->forget_msg) *forget = &conn->forget_msg;
	unsigned int n, i, k;

	spin_lock(&conn->deferred_lock);
	n = conn->nr_deferred;
	memcpy(d, conn->deferred, n * sizeof(d[0]));
	conn->nr_deferred = 0;
	spin_unlock(&conn->deferred_lock);

	for (i = 0; i < n; i++) {
		if (d[i].type == PVA_SF_RELEASE) {
			struct pva_sf_fh msg = {
				.r.mount = cpu_to_le32(d[i].mount),
				.fh = cpu_to_le64(d[i].id),
			};

			pva_sf_send_event(conn, PVA_SF_RELEASE, &msg, sizeof(msg));
			continue;
		}
		/* one FORGET for the run of forgets of this mount */
		memset(&forget->f, 0, sizeof(forget->f));
		forget->f.r.mount = cpu_to_le32(d[i].mount);
		for (k = 0; i + k < n && d[i + k].type == PVA_SF_FORGET &&
		     d[i + k].mount == d[i].mount; k++) {
			forget->one[k].node = cpu_to_le64(d[i + k].id);
			forget->one[k].nlookup = cpu_to_le64(d[i + k].count);
		}
		forget->f.count = cpu_to_le32(k);
		pva_sf_send_event(conn, PVA_SF_FORGET, forget,
				  sizeof(forget->f) + k * sizeof(forget->one[0]));
		i += k - 1;
	}
}

void pva_sf_flush_deferred(struct pva_sf_conn *conn)
{
	queue_work(system_wq, &conn->deferred_work);
	flush_work(&conn->deferred_work);
}
