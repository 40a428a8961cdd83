// SPDX-License-Identifier: GPL-2.0
/*
 * pvasf directories: lookup and revalidation, creating, linking, renaming
 * and removing entries, and reading directories.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/namei.h>
#include <linux/slab.h>

#include "pva_sf.h"

#define PVA_SF_READDIR_BYTES	32768

static void pva_sf_set_entry_time(struct dentry *dentry)
{
	dentry->d_time = jiffies + PVA_SF_SB(dentry->d_sb)->entry_timeout;
}

/* Attributes of @inode are stale after a change made through it. */
static void pva_sf_attr_stale(struct inode *inode)
{
	if (inode)
		WRITE_ONCE(PVA_SF_I(inode)->attr_expire, jiffies - 1);
}

/* Ask the host for @name in @dir: 0 and *entry, or -errno. */
int pva_sf_lookup_name(struct inode *dir, const struct qstr *name,
			      struct pva_sf_entry *entry)
{
	struct pva_sf_name req = {
		.parent = cpu_to_le64(PVA_SF_I(dir)->node),
		.name_len = cpu_to_le32(name->len),
	};
	u32 len;
	int err;

	if (name->len > PVA_SF_NAME_MAX)
		return -ENAMETOOLONG;
	err = pva_sf_node_ok(dir);
	if (err)
		return err;
	err = pva_sf_call(PVA_SF_SB(dir->i_sb), PVA_SF_LOOKUP, &req,
			  sizeof(req), name->name, name->len, NULL, 0, entry,
			  sizeof(*entry), &len);
	if (!err && len != sizeof(*entry))
		err = -EPROTO;
	return err;
}

static struct dentry *pva_sf_lookup(struct inode *dir, struct dentry *dentry,
				    unsigned int flags)
{
	struct pva_sf_entry entry;
	struct inode *inode = NULL;
	int err;

	err = pva_sf_lookup_name(dir, &dentry->d_name, &entry);
	if (err && err != -ENOENT)
		return ERR_PTR(err);
	if (!err) {
		inode = pva_sf_iget(dir->i_sb, &entry);
		if (IS_ERR(inode))
			return ERR_CAST(inode);
	}
	pva_sf_set_entry_time(dentry);
	return d_splice_alias(inode, dentry);
}

static int pva_sf_d_revalidate(PVA_DREVAL_ARGS(dentry, flags))
{
	struct inode *inode, *dir;
	struct pva_sf_entry entry;
	struct dentry *parent;
	int err, ret = 0;

	if (flags & LOOKUP_RCU)
		return -ECHILD;
	inode = d_inode(dentry);
	if (inode && PVA_SF_I(inode)->epoch !=
	    READ_ONCE(PVA_SF_SB(dentry->d_sb)->epoch))
		return 0;	/* from before a device reset */
	if (time_before(jiffies, dentry->d_time))
		return 1;
	if (!inode)
		return 0;	/* expired negative entry: look up again */
	parent = dget_parent(dentry);
	dir = d_inode(parent);
	err = pva_sf_lookup_name(dir, &dentry->d_name, &entry);
	dput(parent);
	if (err)
		return err == -ENOENT || err == -ESTALE ? 0 : err;
	if (le64_to_cpu(entry.node) == PVA_SF_I(inode)->node &&
	    !pva_sf_update_attr(inode, &entry.attr)) {
		spin_lock(&inode->i_lock);
		PVA_SF_I(inode)->nlookup++;	/* the host counted it */
		spin_unlock(&inode->i_lock);
		pva_sf_set_entry_time(dentry);
		ret = 1;
	} else {
		/* another file now: give the host its count back */
		pva_sf_defer(PVA_SF_SB(dentry->d_sb), PVA_SF_FORGET,
			     le64_to_cpu(entry.node), 1);
	}
	return ret;
}

const struct dentry_operations pva_sf_dentry_ops = {
	.d_revalidate = pva_sf_d_revalidate,
};

/* Make @dentry the new entry the host answered with. */
static int pva_sf_instantiate(struct inode *dir, struct dentry *dentry,
			      const struct pva_sf_entry *entry)
{
	struct inode *inode = pva_sf_iget(dir->i_sb, entry);

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	d_instantiate(dentry, inode);
	pva_sf_set_entry_time(dentry);
	pva_sf_attr_stale(dir);
	return 0;
}

/* CREATE, MKDIR, MKNOD: one request shape. */
static int pva_sf_make(struct inode *dir, struct dentry *dentry, u16 type,
		       umode_t mode, dev_t rdev, u32 flags)
{
	struct pva_sf_sb *s = PVA_SF_SB(dir->i_sb);
	struct pva_sf_create req = {
		.parent = cpu_to_le64(PVA_SF_I(dir)->node),
		.flags = cpu_to_le32(flags),
		.mode = cpu_to_le32(mode),
		.rdev = cpu_to_le32(new_encode_dev(rdev)),
		.name_len = cpu_to_le32(dentry->d_name.len),
		.uid = cpu_to_le32(from_kuid(&init_user_ns, current_fsuid())),
		.gid = cpu_to_le32(from_kgid(&init_user_ns, current_fsgid())),
	};
	struct pva_sf_create_out out;
	u32 len;
	int err;

	if (dentry->d_name.len > PVA_SF_NAME_MAX)
		return -ENAMETOOLONG;
	if (dir->i_mode & S_ISGID)
		req.gid = cpu_to_le32(from_kgid(&init_user_ns, dir->i_gid));
	err = pva_sf_node_ok(dir);
	if (err)
		return err;
	err = pva_sf_call(s, type, &req, sizeof(req), dentry->d_name.name,
			  dentry->d_name.len, NULL, 0, &out, sizeof(out), &len);
	if (err)
		return err;
	if (type == PVA_SF_CREATE) {
		if (len != sizeof(out))
			return -EPROTO;
		/* ->create has no file to give the handle to */
		pva_sf_defer(s, PVA_SF_RELEASE, le64_to_cpu(out.fh), 0);
	} else if (len != sizeof(out.entry)) {
		return -EPROTO;
	}
	return pva_sf_instantiate(dir, dentry, &out.entry);
}

static int pva_sf_create(PVA_IDMAP *idmap, struct inode *dir,
			 struct dentry *dentry, umode_t mode, bool excl)
{
	struct pva_sf_entry entry;
	int err;

	err = pva_sf_make(dir, dentry, PVA_SF_CREATE, mode, 0,
			  PVA_SF_O_RDWR | PVA_SF_O_CREAT | PVA_SF_O_EXCL);
	if (err != -EEXIST || excl)
		return err;
	/* created on the host meanwhile: open(O_CREAT) opens that file */
	err = pva_sf_lookup_name(dir, &dentry->d_name, &entry);
	return err ? err : pva_sf_instantiate(dir, dentry, &entry);
}

/*
 * open(O_CREAT) of a name that is not there: one CREATE makes and opens the
 * file, instead of CREATE, RELEASE, GETATTR and OPEN.
 */
static int pva_sf_atomic_open(struct inode *dir, struct dentry *dentry,
			      struct file *file, unsigned int open_flags,
			      umode_t mode)
{
	struct pva_sf_sb *s = PVA_SF_SB(dir->i_sb);
	struct pva_sf_create req = {
		.parent = cpu_to_le64(PVA_SF_I(dir)->node),
		.flags = cpu_to_le32(pva_sf_open_flags(open_flags) |
				     PVA_SF_O_CREAT | PVA_SF_O_EXCL),
		.mode = cpu_to_le32(mode),
		.name_len = cpu_to_le32(dentry->d_name.len),
		.uid = cpu_to_le32(from_kuid(&init_user_ns, current_fsuid())),
		.gid = cpu_to_le32(from_kgid(&init_user_ns, current_fsgid())),
	};
	struct pva_sf_create_out out;
	struct dentry *res = NULL;
	struct pva_sf_file *pf;
	struct inode *inode;
	u32 len, epoch;
	int err;

	if (d_in_lookup(dentry)) {
		res = pva_sf_lookup(dir, dentry, 0);
		if (IS_ERR(res))
			return PTR_ERR(res);
		if (res)
			dentry = res;
	}
	if (!(open_flags & O_CREAT) || d_really_is_positive(dentry))
		return finish_no_open(file, res);

	err = -ENAMETOOLONG;
	if (dentry->d_name.len > PVA_SF_NAME_MAX)
		goto out;
	if (dir->i_mode & S_ISGID)
		req.gid = cpu_to_le32(from_kgid(&init_user_ns, dir->i_gid));
	err = -ENOMEM;
	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		goto out;
	err = pva_sf_node_ok(dir);
	if (!err) {
		epoch = READ_ONCE(s->epoch);
		err = pva_sf_call(s, PVA_SF_CREATE, &req, sizeof(req),
				  dentry->d_name.name, dentry->d_name.len, NULL,
				  0, &out, sizeof(out), &len);
	}
	if (!err && len != sizeof(out))
		err = -EPROTO;
	if (err == -EEXIST && !(open_flags & O_EXCL)) {
		/* made on the host meanwhile: the VFS opens that one */
		struct pva_sf_entry entry;

		kfree(pf);
		err = pva_sf_lookup_name(dir, &dentry->d_name, &entry);
		if (!err)
			err = pva_sf_instantiate(dir, dentry, &entry);
		if (!err)
			return finish_no_open(file, res);
		goto out;
	}
	if (err) {
		kfree(pf);
		goto out;
	}
	pf->fh = le64_to_cpu(out.fh);
	pf->epoch = epoch;
	inode = pva_sf_iget(dir->i_sb, &out.entry);
	if (IS_ERR(inode)) {
		pva_sf_defer(s, PVA_SF_RELEASE, pf->fh, 0);
		kfree(pf);
		err = PTR_ERR(inode);
		goto out;
	}
	d_instantiate(dentry, inode);
	pva_sf_set_entry_time(dentry);
	pva_sf_attr_stale(dir);
	file->f_mode |= FMODE_CREATED;
	err = finish_open(file, dentry, generic_file_open);
	if (err) {
		pva_sf_defer(s, PVA_SF_RELEASE, pf->fh, 0);
		kfree(pf);
		goto out;
	}
	file->private_data = pf;
	pva_allow_odirect(file);
out:
	dput(res);
	return err;
}

static PVA_MKDIR_RET pva_sf_mkdir(PVA_IDMAP *idmap, struct inode *dir,
				  struct dentry *dentry, umode_t mode)
{
	return PVA_MKDIR_RETURN(pva_sf_make(dir, dentry, PVA_SF_MKDIR,
					    mode | S_IFDIR, 0, 0));
}

static int pva_sf_mknod(PVA_IDMAP *idmap, struct inode *dir,
			struct dentry *dentry, umode_t mode, dev_t rdev)
{
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode))
		return -EPERM;	/* devices are not created on the host */
	return pva_sf_make(dir, dentry, PVA_SF_MKNOD, mode, rdev, 0);
}

static int pva_sf_symlink(PVA_IDMAP *idmap, struct inode *dir,
			  struct dentry *dentry, const char *target)
{
	size_t tlen = strlen(target);
	struct pva_sf_symlink req = {
		.parent = cpu_to_le64(PVA_SF_I(dir)->node),
		.name_len = cpu_to_le32(dentry->d_name.len),
		.target_len = cpu_to_le32(tlen),
		.uid = cpu_to_le32(from_kuid(&init_user_ns, current_fsuid())),
		.gid = cpu_to_le32(from_kgid(&init_user_ns, current_fsgid())),
	};
	struct pva_sf_entry entry;
	u32 len;
	int err;

	if (dentry->d_name.len > PVA_SF_NAME_MAX || tlen >= PVA_SF_PATH_MAX)
		return -ENAMETOOLONG;
	err = pva_sf_node_ok(dir);
	if (err)
		return err;
	err = pva_sf_call(PVA_SF_SB(dir->i_sb), PVA_SF_SYMLINK, &req,
			  sizeof(req), dentry->d_name.name, dentry->d_name.len,
			  target, tlen, &entry, sizeof(entry), &len);
	if (err)
		return err;
	if (len != sizeof(entry))
		return -EPROTO;
	return pva_sf_instantiate(dir, dentry, &entry);
}

static int pva_sf_link(struct dentry *old, struct inode *dir,
		       struct dentry *dentry)
{
	struct inode *inode = d_inode(old);
	struct pva_sf_link req = {
		.node = cpu_to_le64(PVA_SF_I(inode)->node),
		.new_parent = cpu_to_le64(PVA_SF_I(dir)->node),
		.name_len = cpu_to_le32(dentry->d_name.len),
	};
	struct pva_sf_entry entry;
	u32 len;
	int err;

	if (dentry->d_name.len > PVA_SF_NAME_MAX)
		return -ENAMETOOLONG;
	err = pva_sf_node_ok(inode) ?: pva_sf_node_ok(dir);
	if (err)
		return err;
	err = pva_sf_call(PVA_SF_SB(dir->i_sb), PVA_SF_LINK, &req, sizeof(req),
			  dentry->d_name.name, dentry->d_name.len, NULL, 0,
			  &entry, sizeof(entry), &len);
	if (err)
		return err;
	if (len != sizeof(entry))
		return -EPROTO;
	return pva_sf_instantiate(dir, dentry, &entry);
}

static int pva_sf_remove(struct inode *dir, struct dentry *dentry, u16 type)
{
	struct pva_sf_name req = {
		.parent = cpu_to_le64(PVA_SF_I(dir)->node),
		.name_len = cpu_to_le32(dentry->d_name.len),
	};
	struct inode *inode = d_inode(dentry);
	int err;

	err = pva_sf_node_ok(dir);
	if (err)
		return err;
	err = pva_sf_call(PVA_SF_SB(dir->i_sb), type, &req, sizeof(req),
			  dentry->d_name.name, dentry->d_name.len, NULL, 0,
			  NULL, 0, NULL);
	if (err)
		return err;
	if (type == PVA_SF_RMDIR)
		clear_nlink(inode);
	else
		drop_nlink(inode);
	pva_sf_attr_stale(inode);
	pva_sf_attr_stale(dir);
	return 0;
}

static int pva_sf_unlink(struct inode *dir, struct dentry *dentry)
{
	return pva_sf_remove(dir, dentry, PVA_SF_UNLINK);
}

static int pva_sf_rmdir(struct inode *dir, struct dentry *dentry)
{
	return pva_sf_remove(dir, dentry, PVA_SF_RMDIR);
}

static int pva_sf_rename(PVA_IDMAP *idmap, struct inode *old_dir,
			 struct dentry *old, struct inode *new_dir,
			 struct dentry *new, unsigned int flags)
{
	struct pva_sf_rename req = {
		.old_parent = cpu_to_le64(PVA_SF_I(old_dir)->node),
		.new_parent = cpu_to_le64(PVA_SF_I(new_dir)->node),
		.old_len = cpu_to_le32(old->d_name.len),
		.new_len = cpu_to_le32(new->d_name.len),
	};
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (new->d_name.len > PVA_SF_NAME_MAX)
		return -ENAMETOOLONG;
	req.flags = cpu_to_le32((flags & RENAME_NOREPLACE ?
				 PVA_SF_RENAME_NOREPLACE : 0) |
				(flags & RENAME_EXCHANGE ?
				 PVA_SF_RENAME_EXCHANGE : 0));
	err = pva_sf_node_ok(old_dir) ?: pva_sf_node_ok(new_dir);
	if (err)
		return err;
	err = pva_sf_call(PVA_SF_SB(old_dir->i_sb), PVA_SF_RENAME, &req,
			  sizeof(req), old->d_name.name, old->d_name.len,
			  new->d_name.name, new->d_name.len, NULL, 0, NULL);
	if (err)
		return err;
	if (d_really_is_positive(new) && !(flags & RENAME_EXCHANGE)) {
		if (d_is_dir(new))
			clear_nlink(d_inode(new));
		else
			drop_nlink(d_inode(new));
	}
	pva_sf_attr_stale(d_inode(old));
	pva_sf_attr_stale(d_inode(new));
	pva_sf_attr_stale(old_dir);
	pva_sf_attr_stale(new_dir);
	return 0;
}

/*
 * READDIR_PLUS gave the entry of @name (counted as one lookup on the host):
 * make or refresh its dentry, so a stat after readdir asks nothing.
 */
static void pva_sf_readdir_link(struct file *file, const char *name,
				u32 len, const struct pva_sf_entry *entry)
{
	struct dentry *parent = file->f_path.dentry, *dentry, *alias;
	struct pva_sf_sb *s = PVA_SF_SB(parent->d_sb);
	struct qstr q = QSTR_INIT(name, len);
	DECLARE_WAIT_QUEUE_HEAD_ONSTACK(wq);
	u64 node = le64_to_cpu(entry->node);
	struct inode *inode;

	q.hash = full_name_hash(parent, name, len);
	dentry = d_lookup(parent, &q);
	if (!dentry) {
		dentry = pva_d_alloc_parallel(parent, &q, &wq);
		if (IS_ERR(dentry))
			goto forget;
	}
	if (!d_in_lookup(dentry)) {
		inode = d_inode(dentry);
		if (inode && PVA_SF_I(inode)->node == node &&
		    PVA_SF_I(inode)->epoch == READ_ONCE(s->epoch) &&
		    !pva_sf_update_attr(inode, &entry->attr)) {
			spin_lock(&inode->i_lock);
			PVA_SF_I(inode)->nlookup++;	/* the host counted it */
			spin_unlock(&inode->i_lock);
			pva_sf_set_entry_time(dentry);
			dput(dentry);
			return;
		}
		/* cached as absent or as another file: look it up anew */
		d_invalidate(dentry);
		dput(dentry);
		goto forget;
	}
	inode = pva_sf_iget(parent->d_sb, entry);	/* counts the lookup */
	if (IS_ERR(inode)) {
		d_lookup_done(dentry);
		dput(dentry);
		return;
	}
	alias = d_splice_alias(inode, dentry);
	d_lookup_done(dentry);
	if (alias) {
		dput(dentry);
		dentry = alias;
	}
	if (!IS_ERR(dentry)) {
		pva_sf_set_entry_time(dentry);
		dput(dentry);
	}
	return;
forget:
	pva_sf_defer(s, PVA_SF_FORGET, node, 1);
}

/*
 * Directory positions: 0 and 1 are "." and "..", then 2 + the host's
 * cookie of the next entry (cookies near LLONG_MAX only mark the end).
 */
static int pva_sf_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct pva_sf_readdir req = {
		.node = cpu_to_le64(PVA_SF_I(dir)->node),
		.max_bytes = cpu_to_le32(PVA_SF_READDIR_BYTES -
					 sizeof(struct pva_sf_readdir_out)),
	};
	struct pva_sf_sb *s = PVA_SF_SB(dir->i_sb);
	struct pva_sf_readdir_out *out;
	u32 head = sizeof(struct pva_sf_dirent);
	bool plus, full = false;
	u8 *buf;
	int err = 0;

	if (!dir_emit_dots(file, ctx))
		return 0;
	err = pva_sf_node_ok(dir);
	if (err)
		return err;
	buf = kvmalloc(PVA_SF_READDIR_BYTES, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	out = (struct pva_sf_readdir_out *)buf;
	/* entries too, unless nothing would keep them (cache=none) */
	plus = (s->conn->features & PVA_SF_F_READDIRPLUS) && s->entry_timeout;
	if (plus) {
		req.flags = cpu_to_le32(PVA_SF_READDIR_PLUS);
		head += sizeof(struct pva_sf_entry);
	}
	for (;;) {
		u32 len, off = sizeof(*out), i, count;

		req.cookie = cpu_to_le64(ctx->pos - 2);
		err = pva_sf_call(PVA_SF_SB(dir->i_sb), PVA_SF_READDIR, &req,
				  sizeof(req), NULL, 0, NULL, 0, buf,
				  PVA_SF_READDIR_BYTES, &len);
		if (err)
			break;
		if (len < sizeof(*out)) {
			err = -EPROTO;
			break;
		}
		count = le32_to_cpu(out->count);
		for (i = 0; i < count; i++) {
			struct pva_sf_entry e = { 0 };
			struct pva_sf_dirent d;
			u32 nlen, rec;

			/* everything the host says is checked against len */
			if (len - off < head) {
				err = -EPROTO;
				goto out;
			}
			memcpy(&d, buf + off, sizeof(d));
			nlen = le32_to_cpu(d.name_len);
			rec = ALIGN(head + nlen, 8);
			if (!nlen || nlen > PVA_SF_NAME_MAX ||
			    head + nlen > len - off ||
			    le32_to_cpu(d.type) > 15) {
				err = -EPROTO;
				goto out;
			}
			if (plus)
				memcpy(&e, buf + off + sizeof(d), sizeof(e));
			if (full) {
				/* not shown: give the host its count back */
				if (plus && e.node)
					pva_sf_defer(s, PVA_SF_FORGET,
						     le64_to_cpu(e.node), 1);
				off = rec > len - off ? len : off + rec;
				continue;
			}
			if (plus && e.node)
				pva_sf_readdir_link(file, (const char *)buf +
						    off + head, nlen, &e);
			if (!dir_emit(ctx, (const char *)buf + off + head,
				      nlen, le64_to_cpu(d.ino),
				      le32_to_cpu(d.type))) {
				full = true;	/* the caller's buffer */
				off = rec > len - off ? len : off + rec;
				continue;
			}
			/* ext4's end-of-directory cookie is LLONG_MAX */
			ctx->pos = min_t(u64, le64_to_cpu(d.next),
					 LLONG_MAX - 2) + 2;
			off = rec > len - off ? len : off + rec;
		}
		if (full || le32_to_cpu(out->eof) || !count)
			break;
	}
out:
	kvfree(buf);
	return err;
}

const struct inode_operations pva_sf_dir_iops = {
	.lookup = pva_sf_lookup,
	.create = pva_sf_create,
	.atomic_open = pva_sf_atomic_open,
	.mkdir = pva_sf_mkdir,
	.mknod = pva_sf_mknod,
	.symlink = pva_sf_symlink,
	.link = pva_sf_link,
	.unlink = pva_sf_unlink,
	.rmdir = pva_sf_rmdir,
	.rename = pva_sf_rename,
	.getattr = pva_sf_getattr,
	.setattr = pva_sf_setattr,
	.listxattr = pva_sf_listxattr,
};

const struct file_operations pva_sf_dir_fops = {
	.iterate_shared = pva_sf_readdir,
	.llseek = generic_file_llseek,
	.read = generic_read_dir,
	.fsync = noop_fsync,
};
