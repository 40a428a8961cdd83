// SPDX-License-Identifier: GPL-2.0
/*
 * pvasf inodes: one per node of a mount, attributes from the host and their
 * revalidation, setattr, eviction (FORGET).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/xattr.h>

#include "pva_sf.h"

static struct kmem_cache *pva_sf_inode_cache;

struct inode *pva_sf_alloc_inode(struct super_block *sb)
{
	struct pva_sf_inode *ii;

	ii = alloc_inode_sb(sb, pva_sf_inode_cache, GFP_KERNEL);
	if (!ii)
		return NULL;
	ii->node = 0;
	ii->generation = 0;
	ii->epoch = 0;
	ii->nlookup = 0;
	ii->attr_expire = 0;
	ii->rfh = 0;
	ii->wfh = 0;
	ii->host_size = -1;
	/* not reset by the VFS; update_attr compares it to see type changes */
	ii->vfs.i_mode = 0;
	mutex_init(&ii->io_lock);
	return &ii->vfs;
}

void pva_sf_free_inode(struct inode *inode)
{
	kmem_cache_free(pva_sf_inode_cache, PVA_SF_I(inode));
}

void pva_sf_evict_inode(struct inode *inode)
{
	struct pva_sf_sb *s = PVA_SF_SB(inode->i_sb);
	struct pva_sf_inode *ii = PVA_SF_I(inode);

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	if (ii->epoch != READ_ONCE(s->epoch))
		return;		/* the host forgot this node already */
	pva_sf_io_release(inode);
	if (ii->nlookup)
		pva_sf_defer(s, PVA_SF_FORGET, ii->node, ii->nlookup);
}

static struct timespec64 pva_sf_ts(__le64 sec, __le32 nsec)
{
	return (struct timespec64){
		.tv_sec = (time64_t)le64_to_cpu(sec),
		.tv_nsec = min_t(u32, le32_to_cpu(nsec), NSEC_PER_SEC - 1),
	};
}

/*
 * Take the host's attributes. A file whose contents changed on the host
 * (size or mtime moved) loses its cached pages, unless we are the writer.
 */
int pva_sf_update_attr(struct inode *inode, const struct pva_sf_attr *attr)
{
	struct pva_sf_sb *s = PVA_SF_SB(inode->i_sb);
	struct pva_sf_inode *ii = PVA_SF_I(inode);
	umode_t mode = le32_to_cpu(attr->mode);
	struct timespec64 mtime = pva_sf_ts(attr->mtime, attr->mtime_ns);
	loff_t size = le64_to_cpu(attr->size);
	bool changed;

	if (inode->i_mode && (inode->i_mode & S_IFMT) != (mode & S_IFMT))
		return -ESTALE;		/* the host reused the name */
	if (S_ISREG(mode) && s->fmode)
		mode = (mode & S_IFMT) | s->fmode;
	else if (S_ISDIR(mode) && s->dmode)
		mode = (mode & S_IFMT) | s->dmode;
	inode->i_mode = mode;
	set_nlink(inode, le32_to_cpu(attr->nlink));
	inode->i_uid = s->uid_set ? s->uid :
		       make_kuid(&init_user_ns, le32_to_cpu(attr->uid));
	inode->i_gid = s->gid_set ? s->gid :
		       make_kgid(&init_user_ns, le32_to_cpu(attr->gid));
	inode->i_rdev = new_decode_dev(le32_to_cpu(attr->rdev));
	inode->i_blocks = le64_to_cpu(attr->blocks);
	pva_inode_set_times(inode, pva_sf_ts(attr->atime, attr->atime_ns),
			    mtime, pva_sf_ts(attr->ctime, attr->ctime_ns));

	spin_lock(&inode->i_lock);
	changed = ii->host_size != size ||
		  !timespec64_equal(&ii->host_mtime, &mtime);
	ii->host_size = size;
	ii->host_mtime = mtime;
	ii->attr_expire = jiffies + s->attr_timeout;
	spin_unlock(&inode->i_lock);
	if (S_ISREG(mode) && changed && !mapping_tagged(inode->i_mapping,
							 PAGECACHE_TAG_DIRTY) &&
	    !mapping_tagged(inode->i_mapping, PAGECACHE_TAG_WRITEBACK)) {
		i_size_write(inode, size);
		if (s->cache != PVA_SF_CACHE_LOOSE)
			invalidate_inode_pages2(inode->i_mapping);
	} else if (!S_ISREG(mode) || size > i_size_read(inode)) {
		i_size_write(inode, size);
	}
	return 0;
}

static void pva_sf_init_ops(struct inode *inode)
{
	switch (inode->i_mode & S_IFMT) {
	case S_IFDIR:
		inode->i_op = &pva_sf_dir_iops;
		inode->i_fop = &pva_sf_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &pva_sf_symlink_iops;
		break;
	case S_IFREG:
		inode->i_op = &pva_sf_file_iops;
		inode->i_fop = &pva_sf_file_fops;
		inode->i_data.a_ops = &pva_sf_aops;
		break;
	default:	/* FIFOs and sockets: the guest's own objects */
		inode->i_op = &pva_sf_file_iops;
		init_special_inode(inode, inode->i_mode, inode->i_rdev);
		break;
	}
}

struct pva_sf_key {
	u64 node;
	u32 epoch;
	bool fresh;	/* set() ran: a new inode, I_NEW without peeking */
};

static int pva_sf_test(struct inode *inode, void *data)
{
	struct pva_sf_key *key = data;
	struct pva_sf_inode *ii = PVA_SF_I(inode);

	return ii->node == key->node && ii->epoch == key->epoch;
}

static int pva_sf_set(struct inode *inode, void *data)
{
	struct pva_sf_key *key = data;

	PVA_SF_I(inode)->node = key->node;
	PVA_SF_I(inode)->epoch = key->epoch;
	key->fresh = true;
	return 0;
}

/*
 * The inode of a node the host just returned (LOOKUP, CREATE, ...): each
 * such answer counted one lookup on the host, which we forget at eviction.
 */
struct inode *pva_sf_iget(struct super_block *sb,
			  const struct pva_sf_entry *entry)
{
	struct pva_sf_sb *s = PVA_SF_SB(sb);
	struct pva_sf_key key = {
		.node = le64_to_cpu(entry->node), .epoch = READ_ONCE(s->epoch),
	};
	struct inode *inode;
	int err;

	if (!key.node)
		return ERR_PTR(-EPROTO);
	inode = iget5_locked(sb, (unsigned long)(key.node ^ (key.node >> 32)),
			     pva_sf_test, pva_sf_set, &key);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	spin_lock(&inode->i_lock);
	PVA_SF_I(inode)->nlookup++;
	spin_unlock(&inode->i_lock);
	if (key.fresh) {
		inode->i_ino = le64_to_cpu(entry->attr.ino);
		PVA_SF_I(inode)->generation = le64_to_cpu(entry->generation);
		err = pva_sf_update_attr(inode, &entry->attr);
		if (!err && !S_ISREG(inode->i_mode) && !S_ISDIR(inode->i_mode) &&
		    !S_ISLNK(inode->i_mode) && !S_ISFIFO(inode->i_mode) &&
		    !S_ISSOCK(inode->i_mode))
			err = -EIO;	/* devices are not shared */
		if (err) {
			iget_failed(inode);
			return ERR_PTR(err);
		}
		pva_sf_init_ops(inode);
		unlock_new_inode(inode);
		return inode;
	}
	err = pva_sf_update_attr(inode, &entry->attr);
	if (err) {
		iput(inode);
		return ERR_PTR(err);
	}
	return inode;
}

/* Fetch attributes if they are older than the timeout (or @force). */
int pva_sf_revalidate_attr(struct inode *inode, bool force)
{
	struct pva_sf_sb *s = PVA_SF_SB(inode->i_sb);
	struct pva_sf_inode *ii = PVA_SF_I(inode);
	struct pva_sf_node req = { .node = cpu_to_le64(ii->node) };
	struct pva_sf_attr attr;
	u32 len;
	int err;

	if (!force && time_before(jiffies, READ_ONCE(ii->attr_expire)))
		return 0;
	err = pva_sf_node_ok(inode);
	if (err)
		return err;
	err = pva_sf_call(s, PVA_SF_GETATTR, &req, sizeof(req), NULL, 0,
			  NULL, 0, &attr, sizeof(attr), &len);
	if (err)
		return err;
	if (len != sizeof(attr))
		return -EPROTO;
	return pva_sf_update_attr(inode, &attr);
}

int pva_sf_getattr(PVA_IDMAP *idmap, const struct path *path,
		   struct kstat *stat, u32 mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	int err = 0;

	if (!(flags & AT_STATX_DONT_SYNC))
		err = pva_sf_revalidate_attr(inode,
					     flags & AT_STATX_FORCE_SYNC);
	if (err)
		return err;
	pva_fillattr(idmap, mask, inode, stat);
	return 0;
}

int pva_sf_setattr(PVA_IDMAP *idmap, struct dentry *dentry,
		   struct iattr *iattr)
{
	struct inode *inode = d_inode(dentry);
	struct pva_sf_sb *s = PVA_SF_SB(inode->i_sb);
	struct pva_sf_setattr req = { .node = cpu_to_le64(PVA_SF_I(inode)->node) };
	struct pva_sf_attr attr;
	u32 valid = 0, len;
	int err;

	err = setattr_prepare(idmap, dentry, iattr);
	if (err)
		return err;
	err = pva_sf_node_ok(inode);
	if (err)
		return err;
	if (iattr->ia_valid & ATTR_MODE) {
		valid |= PVA_SF_SET_MODE;
		req.mode = cpu_to_le32(iattr->ia_mode & 07777);
	}
	if (iattr->ia_valid & ATTR_UID) {
		valid |= PVA_SF_SET_UID;
		req.uid = cpu_to_le32(from_kuid(&init_user_ns, iattr->ia_uid));
	}
	if (iattr->ia_valid & ATTR_GID) {
		valid |= PVA_SF_SET_GID;
		req.gid = cpu_to_le32(from_kgid(&init_user_ns, iattr->ia_gid));
	}
	if (iattr->ia_valid & ATTR_SIZE) {
		/* what mmap wrote below the new size reaches the host first */
		err = filemap_write_and_wait(inode->i_mapping);
		if (err)
			return err;
		valid |= PVA_SF_SET_SIZE;
		req.size = cpu_to_le64(iattr->ia_size);
	}
	if (iattr->ia_valid & ATTR_ATIME) {
		if (iattr->ia_valid & ATTR_ATIME_SET) {
			valid |= PVA_SF_SET_ATIME;
			req.atime = cpu_to_le64(iattr->ia_atime.tv_sec);
			req.atime_ns = cpu_to_le32(iattr->ia_atime.tv_nsec);
		} else {
			valid |= PVA_SF_SET_ATIME_NOW;
		}
	}
	if (iattr->ia_valid & ATTR_MTIME) {
		if (iattr->ia_valid & ATTR_MTIME_SET) {
			valid |= PVA_SF_SET_MTIME;
			req.mtime = cpu_to_le64(iattr->ia_mtime.tv_sec);
			req.mtime_ns = cpu_to_le32(iattr->ia_mtime.tv_nsec);
		} else {
			valid |= PVA_SF_SET_MTIME_NOW;
		}
	}
	if (!valid)
		return 0;	/* e.g. only ATTR_CTIME or kill-suid bits */
	req.valid = cpu_to_le32(valid);
	err = pva_sf_call(s, PVA_SF_SETATTR, &req, sizeof(req), NULL, 0, NULL,
			  0, &attr, sizeof(attr), &len);
	if (err)
		return err;
	if (len != sizeof(attr))
		return -EPROTO;
	if (iattr->ia_valid & ATTR_SIZE) {
		truncate_setsize(inode, iattr->ia_size);
		PVA_SF_I(inode)->host_size = iattr->ia_size;
	}
	return pva_sf_update_attr(inode, &attr);
}

static const char *pva_sf_get_link(struct dentry *dentry, struct inode *inode,
				   struct delayed_call *done)
{
	struct pva_sf_node req = { .node = cpu_to_le64(PVA_SF_I(inode)->node) };
	char *target;
	u32 len;
	int err;

	if (!dentry)
		return ERR_PTR(-ECHILD);	/* the host must be asked */
	err = pva_sf_node_ok(inode);
	if (err)
		return ERR_PTR(err);
	target = kmalloc(PVA_SF_PATH_MAX + 1, GFP_KERNEL);
	if (!target)
		return ERR_PTR(-ENOMEM);
	err = pva_sf_call(PVA_SF_SB(inode->i_sb), PVA_SF_READLINK, &req,
			  sizeof(req), NULL, 0, NULL, 0, target,
			  PVA_SF_PATH_MAX, &len);
	if (!err && (!len || memchr(target, 0, len)))
		err = -EIO;	/* an empty or NUL-carrying target */
	if (err) {
		kfree(target);
		return ERR_PTR(err);
	}
	target[len] = 0;
	set_delayed_call(done, kfree_link, target);
	return target;
}

const struct inode_operations pva_sf_file_iops = {
	.getattr = pva_sf_getattr,
	.setattr = pva_sf_setattr,
	.listxattr = pva_sf_listxattr,
};

const struct inode_operations pva_sf_symlink_iops = {
	.get_link = pva_sf_get_link,
	.getattr = pva_sf_getattr,
	.setattr = pva_sf_setattr,
	.listxattr = pva_sf_listxattr,
};

static void pva_sf_inode_once(void *p)
{
	struct pva_sf_inode *ii = p;

	inode_init_once(&ii->vfs);
}

int pva_sf_inode_init(void)
{
	pva_sf_inode_cache = kmem_cache_create("pva_sf_inode",
					       sizeof(struct pva_sf_inode), 0,
					       SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					       pva_sf_inode_once);
	return pva_sf_inode_cache ? 0 : -ENOMEM;
}

void pva_sf_inode_exit(void)
{
	rcu_barrier();	/* inodes freed by RCU */
	kmem_cache_destroy(pva_sf_inode_cache);
}
