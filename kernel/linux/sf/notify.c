// SPDX-License-Identifier: GPL-2.0
/*
 * Change notification: the host tells us what changed in a directory we
 * hold (SF_NOTIFY). We drop what we cached about it at once and raise the
 * matching inotify/fanotify event in the guest, so file watchers work on a
 * share. The events come in the rx path, which must not wait for the host:
 * they are queued and handled by a work item.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/fsnotify.h>
#include <linux/fsnotify_backend.h>
#include <linux/namei.h>
#include <linux/slab.h>

#include "pva_sf.h"

#define PVA_SF_NOTIFY_QUEUE	4096	/* then OVERFLOW */

struct pva_sf_notification {
	struct list_head node;
	u32 mount;
	u32 mask;
	u64 dir;
	u32 cookie;
	u32 name_len;
	char name[];
};

static unsigned int pva_sf_queued;

void pva_sf_notify(struct pva_sf_conn *conn, const struct pva_sf_notify *n,
		   const char *name, u32 name_len)
{
	struct pva_sf_notification *e;

	if (pva_sf_queued >= PVA_SF_NOTIFY_QUEUE)
		return;		/* the host will not wait for us */
	e = kmalloc(sizeof(*e) + name_len + 1, GFP_KERNEL);
	if (!e)
		return;
	e->mount = le32_to_cpu(n->mount);
	e->mask = le32_to_cpu(n->mask);
	e->dir = le64_to_cpu(n->dir);
	e->cookie = le32_to_cpu(n->cookie);
	e->name_len = name_len;
	memcpy(e->name, name, name_len);
	e->name[name_len] = 0;
	spin_lock(&conn->notify_lock);
	list_add_tail(&e->node, &conn->notifications);
	pva_sf_queued++;
	spin_unlock(&conn->notify_lock);
	queue_work(system_wq, &conn->notify_work);
}

static int pva_sf_test_node(struct inode *inode, void *data)
{
	struct pva_sf_inode *ii = PVA_SF_I(inode);

	return ii->node == *(u64 *)data &&
	       ii->epoch == READ_ONCE(PVA_SF_SB(inode->i_sb)->epoch);
}

static u32 pva_sf_fs_mask(u32 mask)
{
	u32 fs = 0;

	if (mask & PVA_SF_N_CREATE)
		fs |= FS_CREATE;
	if (mask & PVA_SF_N_DELETE)
		fs |= FS_DELETE;
	if (mask & PVA_SF_N_MODIFY)
		fs |= FS_MODIFY;
	if (mask & PVA_SF_N_ATTRIB)
		fs |= FS_ATTRIB;
	if (mask & PVA_SF_N_MOVED_FROM)
		fs |= FS_MOVED_FROM;
	if (mask & PVA_SF_N_MOVED_TO)
		fs |= FS_MOVED_TO;
	return fs;
}

/*
 * The inode of @name in @dir for an event about the child itself (MODIFY,
 * ATTRIB): inotify reports those with the name only through the child, so
 * one the guest has not looked at yet is looked up now.
 */
static struct inode *pva_sf_notify_child(struct inode *dir,
					 const struct qstr *name)
{
	struct pva_sf_entry entry;
	struct inode *child;

	if (pva_sf_lookup_name(dir, name, &entry))
		return NULL;	/* gone again: nothing to report */
	child = pva_sf_iget(dir->i_sb, &entry);
	return IS_ERR(child) ? NULL : child;
}

/* One notification about a directory of superblock @s. */
static void pva_sf_apply(struct pva_sf_sb *s, struct pva_sf_notification *e)
{
	struct qstr q = QSTR_INIT(e->name, e->name_len);
	struct inode *dir, *child = NULL;
	struct dentry *parent, *dentry = NULL;
	u32 fs_mask = pva_sf_fs_mask(e->mask);
	bool dirent = e->mask & (PVA_SF_N_CREATE | PVA_SF_N_DELETE |
				 PVA_SF_N_MOVED_FROM | PVA_SF_N_MOVED_TO);

	dir = ilookup5(s->sb, (unsigned long)(e->dir ^ (e->dir >> 32)),
		       pva_sf_test_node, &e->dir);
	if (!dir)
		return;		/* no longer cached: nothing to do */
	WRITE_ONCE(PVA_SF_I(dir)->attr_expire, jiffies - 1);
	parent = d_find_alias(dir);
	if (parent && e->name_len) {
		q.hash = full_name_hash(parent, q.name, q.len);
		dentry = d_lookup(parent, &q);
	}
	if (dentry) {
		child = d_inode(dentry);
		if (child) {
			ihold(child);
			WRITE_ONCE(PVA_SF_I(child)->attr_expire, jiffies - 1);
			if (e->mask & PVA_SF_N_MODIFY && S_ISREG(child->i_mode))
				invalidate_inode_pages2(child->i_mapping);
		}
		/* the name may point elsewhere now: look it up again */
		if (dirent)
			d_invalidate(dentry);
		dput(dentry);
	} else if (parent && e->name_len && e->mask &
		   (PVA_SF_N_CREATE | PVA_SF_N_MOVED_TO)) {
		/* a cached negative entry may exist under another hash */
		shrink_dcache_parent(parent);
	}
	if (fs_mask && e->name_len) {
		/* the host may merge events: the directory's, then the child's */
		u32 dirent_mask = fs_mask & (FS_CREATE | FS_DELETE |
					     FS_MOVED_FROM | FS_MOVED_TO);

		if (dirent_mask)
			fsnotify(dirent_mask, child ? (void *)child : (void *)dir,
				 FSNOTIFY_EVENT_INODE, dir, &q, NULL, e->cookie);
		if (fs_mask & ~dirent_mask && !child &&
		    fsnotify_inode_watches_children(dir))
			child = pva_sf_notify_child(dir, &q);
		if (fs_mask & ~dirent_mask && child)
			fsnotify((fs_mask & ~dirent_mask) | FS_EVENT_ON_CHILD,
				 child, FSNOTIFY_EVENT_INODE, dir, &q, child, 0);
	} else if (fs_mask) {
		fsnotify(fs_mask, dir, FSNOTIFY_EVENT_INODE, NULL, NULL, dir, 0);
	}
	if (child)
		iput(child);
	dput(parent);
	iput(dir);
}

void pva_sf_notify_func(struct work_struct *work)
{
	struct pva_sf_conn *conn = container_of(work, struct pva_sf_conn,
						notify_work);
	struct pva_sf_notification *e;
	struct pva_sf_sb *s;

	for (;;) {
		spin_lock(&conn->notify_lock);
		e = list_first_entry_or_null(&conn->notifications,
					     struct pva_sf_notification, node);
		if (e) {
			list_del(&e->node);
			pva_sf_queued--;
		}
		spin_unlock(&conn->notify_lock);
		if (!e)
			break;
		mutex_lock(&conn->sbs_lock);
		list_for_each_entry(s, &conn->sbs, node) {
			if (s->mount_id != e->mount ||
			    s->epoch != READ_ONCE(conn->epoch))
				continue;
			if (e->mask & PVA_SF_N_OVERFLOW)
				shrink_dcache_sb(s->sb);
			else
				pva_sf_apply(s, e);
		}
		mutex_unlock(&conn->sbs_lock);
		kfree(e);
	}
}
