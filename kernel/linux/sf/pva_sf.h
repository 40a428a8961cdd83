/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pva_sf private definitions: the pvasf filesystem, shares of host
 * directories through pva_core's "sf" service (protocol/PROTOCOL.md 6.6).
 *
 * The guest names host files by node ids; an inode is one node of one
 * mount, keyed by node id. After a device reset (host restart) every node
 * id is void: the connection's epoch moves on, each superblock mounts its
 * share again on first use, dentries of older epochs fail revalidation
 * and are looked up anew, and files opened before fail with EIO.
 */
#ifndef PVA_SF_PRIV_H
#define PVA_SF_PRIV_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/rwsem.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "pva.h"
#define PVA_FS_COMPAT
#include "pva_compat.h"

#define PVA_SF_MAGIC		0x70766173	/* "pvas" */
#define PVA_SF_TIMEOUT		(60 * HZ)	/* for the host's answers */
#define PVA_SF_DEFERRED_MAX	128
#define PVA_SF_READAHEAD	(512 * 1024)	/* bytes, the largest window */

enum pva_sf_cache {
	PVA_SF_CACHE_NONE,	/* no page cache for read/write, attrs fetched */
	PVA_SF_CACHE_STRICT,	/* page cache, revalidated on open and timeout */
	PVA_SF_CACHE_LOOSE,	/* page cache, trusted until the timeouts */
};

/* Messages sent later, from a work item: FORGET and RELEASE. */
struct pva_sf_deferred {
	u16 type;
	u32 mount;
	u64 id;			/* node or fh */
	u64 count;		/* FORGET: nlookup */
};

/* The connection to the host: the one "sf" auxiliary device. */
struct pva_sf_conn {
	struct kref ref;		/* the device, and each superblock */
	struct rw_semaphore calls;	/* in-flight requests vs removal */
	struct pva_client *client;	/* NULL once the device is gone */
	struct device *dev;
	u64 features;		/* PVA_SF_F_* the host offers */
	u32 epoch;		/* moves on at every device reset */
	bool up;
	struct mutex sbs_lock;
	struct list_head sbs;	/* mounted struct pva_sf_sb */

	spinlock_t deferred_lock;
	struct pva_sf_deferred deferred[PVA_SF_DEFERRED_MAX];
	unsigned int nr_deferred;
	struct work_struct deferred_work;
	/* the work's own copies */
	struct pva_sf_deferred sending[PVA_SF_DEFERRED_MAX];
	struct {
		struct pva_sf_forget f;
		struct pva_sf_forget_one one[PVA_SF_DEFERRED_MAX];
	} forget_msg;
	struct work_struct notify_work;
	struct list_head notifications;	/* struct pva_sf_notification */
	spinlock_t notify_lock;
};

/* One mounted share: super_block->s_fs_info. */
struct pva_sf_sb {
	struct pva_sf_conn *conn;
	struct super_block *sb;
	struct list_head node;		/* conn->sbs */
	char share[PVA_SF_SHARE_NAME_MAX + 1];
	struct mutex mount_lock;
	u32 mount_id;			/* valid for epoch */
	u32 epoch;
	bool host_ro;
	/* mount options */
	bool ro;
	bool uid_set, gid_set;
	kuid_t uid;
	kgid_t gid;
	umode_t fmode, dmode;		/* 0: the host's */
	enum pva_sf_cache cache;
	unsigned long attr_timeout;	/* jiffies */
	unsigned long entry_timeout;
};

struct pva_sf_inode {
	struct inode vfs;
	u64 node;
	u64 generation;
	u32 epoch;
	u64 nlookup;			/* the host's count for us; i_lock */
	unsigned long attr_expire;	/* jiffies */
	struct timespec64 host_mtime;	/* to see host-side changes */
	loff_t host_size;
	struct mutex io_lock;		/* io handles below */
	u64 rfh, wfh;			/* handles for page-cache I/O, 0: none */
};

struct pva_sf_file {
	u64 fh;
	u32 epoch;
};

static inline struct pva_sf_sb *PVA_SF_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct pva_sf_inode *PVA_SF_I(struct inode *inode)
{
	return container_of(inode, struct pva_sf_inode, vfs);
}

/* super.c */
extern struct pva_sf_conn *pva_sf_conn;
extern struct file_system_type pva_sf_fs_type;
void pva_sf_conn_put(struct pva_sf_conn *conn);
int pva_sf_ensure_mount(struct pva_sf_sb *s);

/* req.c */
int pva_sf_call(struct pva_sf_sb *s, u16 type, void *req, u32 req_len,
		const void *a, u32 a_len, const void *b, u32 b_len,
		void *resp, u32 resp_max, u32 *resp_len);
int pva_sf_node_ok(struct inode *inode);
void pva_sf_defer(struct pva_sf_sb *s, u16 type, u64 id, u64 count);
void pva_sf_deferred_func(struct work_struct *work);
void pva_sf_flush_deferred(struct pva_sf_conn *conn);

/* inode.c */
extern const struct inode_operations pva_sf_file_iops;
extern const struct inode_operations pva_sf_symlink_iops;
struct inode *pva_sf_iget(struct super_block *sb,
			  const struct pva_sf_entry *entry);
int pva_sf_update_attr(struct inode *inode, const struct pva_sf_attr *attr);
int pva_sf_revalidate_attr(struct inode *inode, bool force);
int pva_sf_getattr(PVA_IDMAP *idmap, const struct path *path,
		   struct kstat *stat, u32 mask, unsigned int flags);
int pva_sf_setattr(PVA_IDMAP *idmap, struct dentry *dentry,
		   struct iattr *iattr);
struct inode *pva_sf_alloc_inode(struct super_block *sb);
void pva_sf_free_inode(struct inode *inode);
void pva_sf_evict_inode(struct inode *inode);
int pva_sf_inode_init(void);
void pva_sf_inode_exit(void);

/* dir.c */
int pva_sf_lookup_name(struct inode *dir, const struct qstr *name,
		       struct pva_sf_entry *entry);
extern const struct inode_operations pva_sf_dir_iops;
extern const struct file_operations pva_sf_dir_fops;
extern const struct dentry_operations pva_sf_dentry_ops;

/* file.c */
extern const struct file_operations pva_sf_file_fops;
extern const struct address_space_operations pva_sf_aops;
int pva_sf_io_fh(struct inode *inode, bool write, u64 *fh);
int pva_sf_file_fh(struct file *file, u64 *fh);
u32 pva_sf_open_flags(unsigned int f_flags);
void pva_sf_io_release(struct inode *inode);

/* xattr.c */
extern const struct xattr_handler *pva_sf_xattr_handlers[];
ssize_t pva_sf_listxattr(struct dentry *dentry, char *buf, size_t size);

/* lock.c */
void pva_sf_lock_init(void);
int pva_sf_lock(struct file *file, int cmd, struct file_lock *fl);

/* notify.c */
void pva_sf_notify(struct pva_sf_conn *conn, const struct pva_sf_notify *n,
		   const char *name, u32 name_len);
void pva_sf_notify_func(struct work_struct *work);

#endif /* PVA_SF_PRIV_H */
