// SPDX-License-Identifier: MIT
/*
 * Shared folders: change notifications. Every directory node has an
 * inotify watch (one per inode, shared by the nodes of several mounts);
 * events become SF_NOTIFY messages queued for the host->guest ring
 * (bounded: when the queue overflows the guest gets OVERFLOW and
 * revalidates). Events caused by the guest's own request are dropped
 * when we can tell: right after each change we read the events, and the
 * request said which names and inodes it touched (struct sf_expect).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "sf_int.h"

#define WATCH_MASK	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | \
			 IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
			 IN_EXCL_UNLINK | IN_ONLYDIR)

int sf_notify_init(struct sf *sf)
{
	sf->queue = calloc(SF_NOTIFY_QUEUE, sizeof(*sf->queue));
	if (!sf->queue)
		return -ENOMEM;
	sf->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sf->ino_fd < 0)
		log_warn("sf: no inotify (%m): the guest gets no change notifications");
	return 0;
}

static void watches_free(struct sf *sf)
{
	for (unsigned int b = 0; b < SF_WATCH_HASH; b++) {
		while (sf->watches[b]) {
			struct sf_watch *w = sf->watches[b];

			for (struct sf_node *n = w->nodes; n; n = n->wnext)
				n->watch = NULL;
			sf->watches[b] = w->hnext;
			free(w);
		}
	}
	sf->nwatches = 0;
}

void sf_notify_fini(struct sf *sf)
{
	watches_free(sf);
	if (sf->ino_fd >= 0)
		close(sf->ino_fd);
	sf->ino_fd = -1;
	free(sf->queue);
	sf->queue = NULL;
}

/* Device reset: a fresh inotify instance drops every watch at once. */
void sf_notify_reset(struct sf *sf)
{
	watches_free(sf);
	sf->q_head = sf->q_len = 0;
	if (sf->ino_fd >= 0) {
		close(sf->ino_fd);
		sf->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	}
}

static struct sf_watch *watch_find(struct sf *sf, int wd)
{
	struct sf_watch *w;

	for (w = sf->watches[(unsigned int)wd % SF_WATCH_HASH]; w; w = w->hnext)
		if (w->wd == wd)
			return w;
	return NULL;
}

static void watch_unhash(struct sf *sf, struct sf_watch *w)
{
	struct sf_watch **pp = &sf->watches[(unsigned int)w->wd % SF_WATCH_HASH];

	while (*pp != w)
		pp = &(*pp)->hnext;
	*pp = w->hnext;
	sf->nwatches--;
}

void sf_watch_add(struct sf *sf, struct sf_node *n)
{
	char path[SF_PROC_PATH];
	struct sf_watch *w;
	int wd;

	if (n->type != S_IFDIR || sf->ino_fd < 0)
		return;
	/* the magic link is the inode itself, not a walk by name */
	sf_proc_path(path, n->fd);
	wd = inotify_add_watch(sf->ino_fd, path, WATCH_MASK);
	if (wd < 0) {
		sf->watch_failures++;
		if (log_ratelimit_ok(&sf->rl))
			log_warn("sf: cannot watch a directory: %m (raise fs.inotify.max_user_watches?)");
		return;
	}
	w = watch_find(sf, wd);
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w) {
			inotify_rm_watch(sf->ino_fd, wd);
			sf->watch_failures++;
			return;
		}
		w->wd = wd;
		w->dev = n->dev;
		w->ino = n->ino;
		w->hnext = sf->watches[(unsigned int)wd % SF_WATCH_HASH];
		sf->watches[(unsigned int)wd % SF_WATCH_HASH] = w;
		sf->nwatches++;
	}
	n->watch = w;
	n->wnext = w->nodes;
	w->nodes = n;
}

void sf_watch_del(struct sf *sf, struct sf_node *n)
{
	struct sf_watch *w = n->watch;
	struct sf_node **pp;

	if (!w)
		return;
	for (pp = &w->nodes; *pp != n; pp = &(*pp)->wnext)
		;
	*pp = n->wnext;
	n->watch = NULL;
	if (w->nodes)
		return;
	inotify_rm_watch(sf->ino_fd, w->wd);
	watch_unhash(sf, w);
	free(w);
}

/* ---- the guest's own changes ---- */

void sf_expect_name(struct sf_call *c, struct sf_node *dir, const char *name)
{
	struct sf_expect *ex = &c->ex;

	ex->m = c->m;
	if (dir->watch && ex->nnames < 2) {
		ex->names[ex->nnames].wd = dir->watch->wd;
		ex->names[ex->nnames].name = name;
		ex->nnames++;
	}
}

void sf_expect_inode(struct sf_call *c, dev_t dev, ino_t ino)
{
	struct sf_expect *ex = &c->ex;

	ex->m = c->m;
	if (ex->ninodes < 2) {
		ex->inodes[ex->ninodes].dev = dev;
		ex->inodes[ex->ninodes].ino = ino;
		ex->ninodes++;
	}
}

static bool expected_inode(const struct sf_expect *ex, dev_t dev, ino_t ino)
{
	for (unsigned int i = 0; i < ex->ninodes; i++)
		if (ex->inodes[i].dev == dev && ex->inodes[i].ino == ino)
			return true;
	return false;
}

/* Did the request behind @ex cause this event? */
static bool own_event(const struct sf_expect *ex, struct sf_watch *w,
		      const struct inotify_event *ev, const char *name)
{
	struct stat st;

	if (!ex)
		return false;
	if (!*name)	/* the directory itself */
		return expected_inode(ex, w->dev, w->ino);
	for (unsigned int i = 0; i < ex->nnames; i++)
		if (ex->names[i].wd == w->wd && !strcmp(ex->names[i].name, name))
			return true;
	/* a file the guest wrote or changed, named in its parent */
	if (ex->ninodes && (ev->mask & (IN_MODIFY | IN_ATTRIB)) &&
	    !fstatat(w->nodes->fd, name, &st, AT_SYMLINK_NOFOLLOW))
		return expected_inode(ex, st.st_dev, st.st_ino);
	return false;
}

/* ---- the queue ---- */

static void queue_overflow(struct sf *sf)
{
	sf->overflows++;
	sf->notify_dropped += sf->q_len;
	sf->q_head = sf->q_len = 0;
	for (struct sf_mount *m = sf->mounts; m; m = m->next)
		m->overflow = true;
}

static void queue_add(struct sf *sf, uint32_t mount, uint32_t mask,
		      uint64_t dir, uint32_t cookie, const char *name,
		      uint32_t name_len)
{
	struct sf_queued *q;

	if (sf->q_len) {
		/* the same event again (a file being written): once */
		q = &sf->queue[(sf->q_head + sf->q_len - 1) % SF_NOTIFY_QUEUE];
		if (pva_le32(q->n.mount) == mount &&
		    pva_le32(q->n.mask) == mask && pva_le64(q->n.dir) == dir &&
		    pva_le32(q->n.name_len) == name_len &&
		    !memcmp(q->name, name, name_len))
			return;
	}
	if (sf->q_len == SF_NOTIFY_QUEUE) {
		queue_overflow(sf);
		return;
	}
	q = &sf->queue[(sf->q_head + sf->q_len) % SF_NOTIFY_QUEUE];
	q->n.mount = pva_cpu32(mount);
	q->n.mask = pva_cpu32(mask);
	q->n.dir = pva_cpu64(dir);
	q->n.cookie = pva_cpu32(cookie);
	q->n.name_len = pva_cpu32(name_len);
	memcpy(q->name, name, name_len);
	sf->q_len++;
}

/* Tell the guest about a whole mount (OVERFLOW: revalidate it all). */
void sf_notify_mount(struct sf *sf, uint32_t mount, uint32_t mask)
{
	queue_add(sf, mount, mask, PVA_SF_ROOT_NODE, 0, "", 0);
}

static uint32_t sf_mask(uint32_t in)
{
	uint32_t m = 0;

	if (in & IN_CREATE)
		m |= PVA_SF_N_CREATE;
	if (in & (IN_DELETE | IN_DELETE_SELF))
		m |= PVA_SF_N_DELETE;
	if (in & IN_MODIFY)
		m |= PVA_SF_N_MODIFY;
	if (in & IN_ATTRIB)
		m |= PVA_SF_N_ATTRIB;
	if (in & IN_MOVED_FROM)
		m |= PVA_SF_N_MOVED_FROM;
	if (in & IN_MOVED_TO)
		m |= PVA_SF_N_MOVED_TO;
	return m;
}

static void handle_event(struct sf *sf, const struct sf_expect *ex,
			 const struct inotify_event *ev)
{
	struct sf_watch *w;
	const char *name = ev->len ? ev->name : "";
	uint32_t name_len = (uint32_t)strnlen(name, ev->len);
	uint32_t mask;
	bool own;

	if (ev->mask & IN_Q_OVERFLOW) {
		queue_overflow(sf);
		return;
	}
	w = watch_find(sf, ev->wd);
	if (!w)
		return;		/* removed by us meanwhile */
	if (ev->mask & IN_IGNORED) {
		/* the directory is gone: the kernel dropped the watch */
		for (struct sf_node *n = w->nodes; n; n = n->wnext)
			n->watch = NULL;
		watch_unhash(sf, w);
		free(w);
		return;
	}
	mask = sf_mask(ev->mask);
	if (!mask || name_len > PVA_SF_NAME_MAX)
		return;
	own = own_event(ex, w, ev, name);
	for (struct sf_node *n = w->nodes; n; n = n->wnext) {
		/* another mount of the same files has not seen the change */
		if (own && n->m == ex->m) {
			sf->notify_own++;
			continue;
		}
		queue_add(sf, n->m->id, mask, n->id, ev->cookie, name,
			  name_len);
	}
}

/* Read what inotify has; @ex: the guest's own request, or NULL. */
void sf_notify_drain(struct sf *sf, const struct sf_expect *ex)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (sf->ino_fd < 0)
		return;
	for (;;) {
		ssize_t n = read(sf->ino_fd, buf, sizeof(buf));

		if (n <= 0)
			return;
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev =
				(const struct inotify_event *)(buf + off);

			handle_event(sf, ex, ev);
			off += (ssize_t)sizeof(*ev) + ev->len;
		}
	}
}

/* Send what is queued while the ring has room. */
void sf_notify_pump(struct sf *sf)
{
	struct service *svc = sf->svc;
	uint8_t msg[sizeof(struct pva_sf_notify) + PVA_SF_NAME_MAX];

	for (struct sf_mount *m = sf->mounts; m; m = m->next) {
		struct pva_sf_notify n = {
			.mount = pva_cpu32(m->id),
			.mask = pva_cpu32(PVA_SF_N_OVERFLOW),
			.dir = pva_cpu64(PVA_SF_ROOT_NODE),
		};

		if (!m->overflow)
			continue;
		if (service_send(svc, PVA_SF_NOTIFY, 0, 0, 0, &n, sizeof(n)) == -EAGAIN)
			return;
		m->overflow = false;
		sf->notify_sent++;
	}
	while (sf->q_len) {
		struct sf_queued *q = &sf->queue[sf->q_head];
		uint32_t nl = pva_le32(q->n.name_len);
		int ret;

		memcpy(msg, &q->n, sizeof(q->n));
		memcpy(msg + sizeof(q->n), q->name, nl);
		ret = service_send(svc, PVA_SF_NOTIFY, 0, 0, 0, msg,
				   (uint32_t)sizeof(q->n) + nl);
		if (ret == -EAGAIN)
			return;
		if (ret == 0)
			sf->notify_sent++;
		else
			sf->notify_dropped++;	/* no guest: nobody to tell */
		sf->q_head = (sf->q_head + 1) % SF_NOTIFY_QUEUE;
		sf->q_len--;
	}
}
