// SPDX-License-Identifier: GPL-2.0
/*
 * pva_sf: the pvasf filesystem. Module glue, the auxiliary driver for
 * pva_core's "sf" device, mount options (fs_context), the superblock.
 *
 *   mount -t pvasf SHARE /mnt [-o uid=,gid=,file_mode=,dir_mode=,
 *                                 cache=none|strict|loose,
 *                                 attr_timeout=MS,entry_timeout=MS,ro]
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/auxiliary_bus.h>
#include <linux/ctype.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "pva_sf.h"

/* The one sf device; mounts need it. Changed under pva_sf_conn_lock. */
struct pva_sf_conn *pva_sf_conn;
static DEFINE_MUTEX(pva_sf_conn_lock);

static void pva_sf_conn_release(struct kref *ref)
{
	kfree(container_of(ref, struct pva_sf_conn, ref));
}

void pva_sf_conn_put(struct pva_sf_conn *conn)
{
	kref_put(&conn->ref, pva_sf_conn_release);
}

/* ---- mounting the share on the host ---- */

/*
 * Make sure the share is mounted on the host for the current epoch: after
 * a device reset the old mount id means nothing, so mount again and let
 * the inodes of the old epoch go stale.
 */
int pva_sf_ensure_mount(struct pva_sf_sb *s)
{
	struct pva_sf_conn *conn = s->conn;
	struct pva_sf_mount req = { 0 };
	struct pva_sf_mount_out out;
	struct inode *root;
	u32 epoch, len;
	int err;

	epoch = READ_ONCE(conn->epoch);
	if (likely(READ_ONCE(s->epoch) == epoch))
		return READ_ONCE(conn->up) ? 0 : -EIO;
	if (!READ_ONCE(conn->up))
		return -EIO;
	mutex_lock(&s->mount_lock);
	if (s->epoch == READ_ONCE(conn->epoch)) {
		mutex_unlock(&s->mount_lock);
		return 0;
	}
	epoch = READ_ONCE(conn->epoch);
	req.flags = cpu_to_le32(s->ro ? PVA_SF_MOUNT_RO : 0);
	req.name_len = cpu_to_le32(strlen(s->share));
	err = pva_sf_call(s, PVA_SF_MOUNT, &req, sizeof(req), s->share,
			  strlen(s->share), NULL, 0, &out, sizeof(out), &len);
	if (!err && (len != sizeof(out) ||
		     le64_to_cpu(out.root) != PVA_SF_ROOT_NODE))
		err = -EPROTO;
	if (err) {
		mutex_unlock(&s->mount_lock);
		return err == -ENOENT ? -ENOENT : err;
	}
	s->mount_id = le32_to_cpu(out.mount);
	s->host_ro = le32_to_cpu(out.flags) & PVA_SF_MOUNT_RO;
	/* the root keeps its node id (1) in every mount */
	root = s->sb->s_root ? d_inode(s->sb->s_root) : NULL;
	if (root) {
		PVA_SF_I(root)->epoch = epoch;
		pva_sf_update_attr(root, &out.attr);
	}
	WRITE_ONCE(s->epoch, epoch);
	mutex_unlock(&s->mount_lock);
	return 0;
}

/* ---- superblock ---- */

static int pva_sf_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct pva_sf_sb *s = PVA_SF_SB(dentry->d_sb);
	struct pva_sf_node req = {
		.node = cpu_to_le64(PVA_SF_I(d_inode(dentry))->node),
	};
	struct pva_sf_statfs out;
	u32 len;
	int err;

	err = pva_sf_call(s, PVA_SF_STATFS, &req, sizeof(req), NULL, 0, NULL,
			  0, &out, sizeof(out), &len);
	if (err)
		return err;
	if (len != sizeof(out))
		return -EPROTO;
	buf->f_type = PVA_SF_MAGIC;
	buf->f_bsize = le32_to_cpu(out.bsize);
	buf->f_blocks = le64_to_cpu(out.blocks);
	buf->f_bfree = le64_to_cpu(out.bfree);
	buf->f_bavail = le64_to_cpu(out.bavail);
	buf->f_files = le64_to_cpu(out.files);
	buf->f_ffree = le64_to_cpu(out.ffree);
	buf->f_namelen = min_t(u32, le32_to_cpu(out.namelen), NAME_MAX);
	return 0;
}

static const char *const pva_sf_cache_names[] = {
	[PVA_SF_CACHE_NONE] = "none",
	[PVA_SF_CACHE_STRICT] = "strict",
	[PVA_SF_CACHE_LOOSE] = "loose",
};

static int pva_sf_show_options(struct seq_file *m, struct dentry *root)
{
	struct pva_sf_sb *s = PVA_SF_SB(root->d_sb);

	if (s->uid_set)
		seq_printf(m, ",uid=%u", from_kuid_munged(&init_user_ns, s->uid));
	if (s->gid_set)
		seq_printf(m, ",gid=%u", from_kgid_munged(&init_user_ns, s->gid));
	if (s->fmode)
		seq_printf(m, ",file_mode=%o", s->fmode);
	if (s->dmode)
		seq_printf(m, ",dir_mode=%o", s->dmode);
	seq_printf(m, ",cache=%s,attr_timeout=%u,entry_timeout=%u",
		   pva_sf_cache_names[s->cache],
		   jiffies_to_msecs(s->attr_timeout),
		   jiffies_to_msecs(s->entry_timeout));
	return 0;
}

static const struct super_operations pva_sf_sops = {
	.alloc_inode = pva_sf_alloc_inode,
	.free_inode = pva_sf_free_inode,
	.evict_inode = pva_sf_evict_inode,
	.statfs = pva_sf_statfs,
	.show_options = pva_sf_show_options,
};

static int pva_sf_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct pva_sf_sb *s = PVA_SF_SB(sb);	/* sget_fc moved it here */
	struct pva_sf_entry root_entry = { .node = cpu_to_le64(PVA_SF_ROOT_NODE) };
	struct pva_sf_mount req = { 0 };
	struct pva_sf_mount_out out;
	struct inode *root;
	u32 len;
	int err;

	s->sb = sb;
	sb->s_magic = PVA_SF_MAGIC;
	/*
	 * The host never lets the guest see or set security.* attributes,
	 * so a write need not ask for security.capability every time.
	 */
	sb->s_flags |= SB_NOSEC;
	sb->s_op = &pva_sf_sops;
	sb->s_xattr = pva_sf_xattr_handlers;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	pva_set_d_op(sb, &pva_sf_dentry_ops);
	err = super_setup_bdi(sb);
	if (err)
		return err;
	/* readahead windows of up to 512 KiB, read in 64 KiB READs */
	sb->s_bdi->ra_pages = PVA_SF_READAHEAD / PAGE_SIZE;
	sb->s_bdi->io_pages = sb->s_bdi->ra_pages;

	s->epoch = READ_ONCE(s->conn->epoch);
	req.flags = cpu_to_le32(s->ro ? PVA_SF_MOUNT_RO : 0);
	req.name_len = cpu_to_le32(strlen(s->share));
	err = pva_sf_call(s, PVA_SF_MOUNT, &req, sizeof(req), s->share,
			  strlen(s->share), NULL, 0, &out, sizeof(out), &len);
	if (err) {
		if (err == -ENOENT)
			errorf(fc, "pvasf: the host offers no share '%s'", s->share);
		else
			errorf(fc, "pvasf: cannot mount share '%s': %d",
			       s->share, err);
		return err;
	}
	if (len != sizeof(out) || le64_to_cpu(out.root) != PVA_SF_ROOT_NODE)
		return -EPROTO;
	s->mount_id = le32_to_cpu(out.mount);
	s->host_ro = le32_to_cpu(out.flags) & PVA_SF_MOUNT_RO;
	if (s->host_ro)
		sb->s_flags |= SB_RDONLY;

	root_entry.attr = out.attr;
	root = pva_sf_iget(sb, &root_entry);
	if (IS_ERR(root))
		return PTR_ERR(root);
	PVA_SF_I(root)->nlookup = 0;	/* the root is not counted */
	if (!S_ISDIR(root->i_mode)) {
		iput(root);
		return -ENOTDIR;
	}
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;

	mutex_lock(&s->conn->sbs_lock);
	list_add(&s->node, &s->conn->sbs);
	mutex_unlock(&s->conn->sbs_lock);
	return 0;
}

static void pva_sf_kill_sb(struct super_block *sb)
{
	struct pva_sf_sb *s = PVA_SF_SB(sb);

	if (s && s->sb) {
		mutex_lock(&s->conn->sbs_lock);
		if (!list_empty(&s->node))
			list_del_init(&s->node);
		mutex_unlock(&s->conn->sbs_lock);
	}
	kill_anon_super(sb);	/* evicts the inodes: FORGETs queued */
	if (s) {
		if (s->sb && s->mount_id &&
		    s->epoch == READ_ONCE(s->conn->epoch) &&
		    READ_ONCE(s->conn->up)) {
			struct pva_sf_node req = { .node = 0 };

			pva_sf_flush_deferred(s->conn);
			pva_sf_call(s, PVA_SF_UNMOUNT, &req, sizeof(req), NULL,
				    0, NULL, 0, NULL, 0, NULL);
		}
		pva_sf_conn_put(s->conn);
		kfree(s);
	}
}

/* ---- mount options ---- */

enum {
	OPT_UID, OPT_GID, OPT_FMODE, OPT_DMODE, OPT_CACHE, OPT_ATTR_TIMEOUT,
	OPT_ENTRY_TIMEOUT,
};

static const struct constant_table pva_sf_cache_modes[] = {
	{ "none", PVA_SF_CACHE_NONE },
	{ "strict", PVA_SF_CACHE_STRICT },
	{ "loose", PVA_SF_CACHE_LOOSE },
	{ }
};

static const struct fs_parameter_spec pva_sf_params[] = {
	fsparam_u32("uid", OPT_UID),
	fsparam_u32("gid", OPT_GID),
	fsparam_u32oct("file_mode", OPT_FMODE),
	fsparam_u32oct("dir_mode", OPT_DMODE),
	fsparam_enum("cache", OPT_CACHE, pva_sf_cache_modes),
	fsparam_u32("attr_timeout", OPT_ATTR_TIMEOUT),
	fsparam_u32("entry_timeout", OPT_ENTRY_TIMEOUT),
	{ }
};

static int pva_sf_parse_param(struct fs_context *fc,
			      struct fs_parameter *param)
{
	struct pva_sf_sb *s = fc->s_fs_info;
	struct fs_parse_result result;
	int opt;

	if (!strcmp(param->key, "source")) {
		if (param->type != fs_value_is_string || !param->string ||
		    !*param->string ||
		    strlen(param->string) > PVA_SF_SHARE_NAME_MAX)
			return invalfc(fc, "pvasf: a share name of 1-%d characters is needed",
				       PVA_SF_SHARE_NAME_MAX);
		if (fc->source)
			return invalfc(fc, "pvasf: one share per mount");
		strscpy(s->share, param->string, sizeof(s->share));
		/* /proc/mounts shows the share as the source */
		fc->source = param->string;
		param->string = NULL;
		return 0;
	}
	opt = fs_parse(fc, pva_sf_params, param, &result);
	if (opt < 0)
		return opt;
	switch (opt) {
	case OPT_UID:
		s->uid = make_kuid(current_user_ns(), result.uint_32);
		if (!uid_valid(s->uid))
			return invalfc(fc, "pvasf: invalid uid");
		s->uid_set = true;
		break;
	case OPT_GID:
		s->gid = make_kgid(current_user_ns(), result.uint_32);
		if (!gid_valid(s->gid))
			return invalfc(fc, "pvasf: invalid gid");
		s->gid_set = true;
		break;
	case OPT_FMODE:
	case OPT_DMODE:
		if (result.uint_32 & ~07777)
			return invalfc(fc, "pvasf: invalid mode");
		if (opt == OPT_FMODE)
			s->fmode = result.uint_32;
		else
			s->dmode = result.uint_32;
		break;
	case OPT_CACHE:
		s->cache = result.uint_32;
		break;
	case OPT_ATTR_TIMEOUT:
		s->attr_timeout = msecs_to_jiffies(result.uint_32);
		break;
	case OPT_ENTRY_TIMEOUT:
		s->entry_timeout = msecs_to_jiffies(result.uint_32);
		break;
	}
	return 0;
}

static int pva_sf_get_tree(struct fs_context *fc)
{
	struct pva_sf_sb *s = fc->s_fs_info;

	if (!s->share[0])
		return invalfc(fc, "pvasf: which share? mount -t pvasf SHARE DIR");
	s->ro = fc->sb_flags & SB_RDONLY;
	if (s->cache == PVA_SF_CACHE_NONE) {
		s->attr_timeout = 0;
		s->entry_timeout = 0;
	}
	/* The connection stays while any pvasf superblock exists. */
	mutex_lock(&pva_sf_conn_lock);
	if (!pva_sf_conn || !READ_ONCE(pva_sf_conn->up)) {
		mutex_unlock(&pva_sf_conn_lock);
		return invalfc(fc, "pvasf: no pva shared-folder device (is pva_core loaded and pva-host serving shares?)");
	}
	s->conn = pva_sf_conn;
	kref_get(&s->conn->ref);
	mutex_unlock(&pva_sf_conn_lock);
	/* from here the superblock (or pva_sf_free_fc) owns s and its ref */
	return get_tree_nodev(fc, pva_sf_fill_super);
}

static void pva_sf_free_fc(struct fs_context *fc)
{
	struct pva_sf_sb *s = fc->s_fs_info;

	if (s && s->conn)
		pva_sf_conn_put(s->conn);
	kfree(s);
}

static int pva_sf_reconfigure(struct fs_context *fc)
{
	struct super_block *sb = fc->root->d_sb;

	/* a share the host made read-only stays so */
	if (PVA_SF_SB(sb)->host_ro && (fc->sb_flags_mask & SB_RDONLY) &&
	    !(fc->sb_flags & SB_RDONLY)) {
		errorf(fc, "pvasf: the host shares '%s' read-only",
		       PVA_SF_SB(sb)->share);
		return -EROFS;
	}
	sync_filesystem(sb);
	return 0;
}

static const struct fs_context_operations pva_sf_context_ops = {
	.parse_param = pva_sf_parse_param,
	.get_tree = pva_sf_get_tree,
	.reconfigure = pva_sf_reconfigure,
	.free = pva_sf_free_fc,
};

static int pva_sf_init_fs_context(struct fs_context *fc)
{
	struct pva_sf_sb *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	mutex_init(&s->mount_lock);
	INIT_LIST_HEAD(&s->node);
	s->cache = PVA_SF_CACHE_STRICT;
	s->attr_timeout = HZ;
	s->entry_timeout = HZ;
	fc->s_fs_info = s;
	fc->ops = &pva_sf_context_ops;
	return 0;
}

struct file_system_type pva_sf_fs_type = {
	.owner = THIS_MODULE,
	.name = "pvasf",
	.init_fs_context = pva_sf_init_fs_context,
	.parameters = pva_sf_params,
	.kill_sb = pva_sf_kill_sb,
};
MODULE_ALIAS_FS("pvasf");

/* ---- the auxiliary device ---- */

static int pva_sf_rx(struct pva_client *c, const struct pva_msg_hdr *hdr,
		     const void *payload, u32 len)
{
	struct pva_sf_conn *conn = pva_client_priv(c);
	const struct pva_sf_notify *n = payload;

	if (le16_to_cpu(hdr->flags) & PVA_MSG_F_REQUEST)
		return pva_reply(c, hdr, PVA_S_ENOTSUP, NULL, 0);
	if (le16_to_cpu(hdr->type) != PVA_SF_NOTIFY || len < sizeof(*n) ||
	    le32_to_cpu(n->name_len) != len - sizeof(*n) ||
	    le32_to_cpu(n->name_len) > PVA_SF_NAME_MAX) {
		dev_warn_ratelimited(conn->dev, "malformed message %u from the host\n",
				     le16_to_cpu(hdr->type));
		return 0;
	}
	pva_sf_notify(conn, n, (const char *)(n + 1), len - sizeof(*n));
	return 0;
}

static void pva_sf_up(struct pva_client *c)
{
	struct pva_sf_conn *conn = pva_client_priv(c);
	struct pva_service_info info;

	if (!pva_client_info(c, &info))
		conn->features = info.features;
	WRITE_ONCE(conn->up, true);
}

static void pva_sf_down(struct pva_client *c)
{
	struct pva_sf_conn *conn = pva_client_priv(c);

	/* every mount id, node and handle is void from here on */
	spin_lock(&conn->deferred_lock);
	WRITE_ONCE(conn->epoch, conn->epoch + 1);
	conn->nr_deferred = 0;
	spin_unlock(&conn->deferred_lock);
	WRITE_ONCE(conn->up, false);
}

static const struct pva_client_ops pva_sf_client_ops = {
	.rx = pva_sf_rx,
	.up = pva_sf_up,
	.down = pva_sf_down,
};

static int pva_sf_probe(struct auxiliary_device *adev,
			const struct auxiliary_device_id *id)
{
	struct pva_sf_conn *conn;

	mutex_lock(&pva_sf_conn_lock);
	if (pva_sf_conn) {
		mutex_unlock(&pva_sf_conn_lock);
		dev_warn(&adev->dev, "only one shared-folder device is used\n");
		return -EBUSY;
	}
	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn) {
		mutex_unlock(&pva_sf_conn_lock);
		return -ENOMEM;
	}
	kref_init(&conn->ref);
	init_rwsem(&conn->calls);
	conn->client = pva_client_from_adev(adev);
	conn->dev = &adev->dev;
	conn->epoch = 1;
	mutex_init(&conn->sbs_lock);
	INIT_LIST_HEAD(&conn->sbs);
	spin_lock_init(&conn->deferred_lock);
	INIT_WORK(&conn->deferred_work, pva_sf_deferred_func);
	spin_lock_init(&conn->notify_lock);
	INIT_LIST_HEAD(&conn->notifications);
	INIT_WORK(&conn->notify_work, pva_sf_notify_func);
	dev_set_drvdata(&adev->dev, conn);
	pva_sf_conn = conn;
	mutex_unlock(&pva_sf_conn_lock);
	pva_client_enable(conn->client, &pva_sf_client_ops, conn);
	dev_info(&adev->dev, "shared folders ready\n");
	return 0;
}

static void pva_sf_remove(struct auxiliary_device *adev)
{
	struct pva_sf_conn *conn = dev_get_drvdata(&adev->dev);

	/*
	 * Mounted superblocks pin the module, so the module cannot go while
	 * shares are mounted; but pva_core's device can (unbind, unload).
	 * Then the mounts stay and fail with EIO.
	 */
	pva_client_disable(conn->client);
	mutex_lock(&pva_sf_conn_lock);
	pva_sf_conn = NULL;
	mutex_unlock(&pva_sf_conn_lock);
	/* wait for requests in flight; none can start after this */
	WRITE_ONCE(conn->up, false);
	down_write(&conn->calls);
	conn->client = NULL;
	up_write(&conn->calls);
	cancel_work_sync(&conn->deferred_work);
	cancel_work_sync(&conn->notify_work);
	mutex_lock(&conn->sbs_lock);
	if (!list_empty(&conn->sbs))
		dev_warn(&adev->dev, "shared-folder device gone with shares mounted; they fail with EIO\n");
	mutex_unlock(&conn->sbs_lock);
	pva_sf_conn_put(conn);	/* the last superblock frees it */
}

/* The shares the host offers now, one per line (for automounting). */
static ssize_t shares_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct pva_sf_conn *conn = dev_get_drvdata(dev);
	struct pva_sf_req req = {};
	u32 len, i;
	char *names;
	int err = -EIO;

	names = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!names)
		return -ENOMEM;
	down_read(&conn->calls);
	if (conn->client && READ_ONCE(conn->up))
		err = pva_call(conn->client, PVA_SF_SHARES, &req, sizeof(req),
			       names, PAGE_SIZE, &len, PVA_SF_TIMEOUT);
	up_read(&conn->calls);
	if (!err) {
		/* NUL-terminated names: one per line, nothing unprintable */
		for (i = 0; i < len; i++)
			if (!names[i])
				names[i] = '\n';
			else if (!isgraph(names[i]))
				names[i] = '?';
		err = sysfs_emit(buf, "%.*s", len, names);
	}
	kfree(names);
	return err;
}
static DEVICE_ATTR_RO(shares);

static struct attribute *pva_sf_attrs[] = {
	&dev_attr_shares.attr,
	NULL
};
ATTRIBUTE_GROUPS(pva_sf);

static const struct auxiliary_device_id pva_sf_ids[] = {
	{ .name = "pva_core.sf" },
	{ }
};
MODULE_DEVICE_TABLE(auxiliary, pva_sf_ids);

static struct auxiliary_driver pva_sf_driver = {
	.probe = pva_sf_probe,
	.remove = pva_sf_remove,
	.id_table = pva_sf_ids,
	.driver = {
		.dev_groups = pva_sf_groups,
	},
};

static int __init pva_sf_init(void)
{
	int err;

	pva_sf_lock_init();
	err = pva_sf_inode_init();
	if (err)
		return err;
	err = auxiliary_driver_register(&pva_sf_driver);
	if (err)
		goto err_inode;
	err = register_filesystem(&pva_sf_fs_type);
	if (err)
		goto err_driver;
	return 0;

err_driver:
	auxiliary_driver_unregister(&pva_sf_driver);
err_inode:
	pva_sf_inode_exit();
	return err;
}
module_init(pva_sf_init);

static void __exit pva_sf_exit(void)
{
	unregister_filesystem(&pva_sf_fs_type);
	auxiliary_driver_unregister(&pva_sf_driver);
	pva_sf_inode_exit();
}
module_exit(pva_sf_exit);

MODULE_DESCRIPTION("pva paravirtual add-ons: shared folders (pvasf)");
MODULE_AUTHOR("The pva authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(PVA_DRIVER_VERSION);
PVA_IMPORT_NS();
