// SPDX-License-Identifier: GPL-2.0
/*
 * pvasf extended attributes: every name is passed to the host as it is
 * (one handler with an empty prefix); the host decides what it stores.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/xattr.h>

#include "pva_sf.h"

static bool pva_sf_xattr_ok(struct inode *inode)
{
	return PVA_SF_SB(inode->i_sb)->conn->features & PVA_SF_F_XATTR;
}

/*
 * GETXATTR (@name) or LISTXATTR (@name NULL): @size 0 asks only for the
 * length, else up to @size bytes go to @buf.
 */
static ssize_t pva_sf_xattr_fetch(struct inode *inode, u16 type,
				  const char *name, void *buf, size_t size)
{
	u32 name_len = name ? strlen(name) : 0;
	struct pva_sf_xattr req = {};
	__le32 need;
	u32 len;
	int err;

	if (!pva_sf_xattr_ok(inode))
		return -EOPNOTSUPP;
	if (name_len > PVA_SF_XATTR_NAME_MAX)
		return -ERANGE;
	err = pva_sf_node_ok(inode);
	if (err)
		return err;
	req.node = cpu_to_le64(PVA_SF_I(inode)->node);
	req.name_len = cpu_to_le32(name_len);
	req.size = cpu_to_le32(min_t(size_t, size, PVA_SF_XATTR_SIZE_MAX));
	if (!size) {	/* how big is it? */
		err = pva_sf_call(PVA_SF_SB(inode->i_sb), type, &req,
				  sizeof(req), name, name_len, NULL, 0, &need,
				  sizeof(need), &len);
		if (err)
			return err;
		/* apart: a ?: of u32 and int would make -EPROTO unsigned */
		if (len != sizeof(need))
			return -EPROTO;
		return le32_to_cpu(need);
	}
	err = pva_sf_call(PVA_SF_SB(inode->i_sb), type, &req, sizeof(req),
			  name, name_len, NULL, 0, buf, le32_to_cpu(req.size),
			  &len);
	if (err)
		return err;
	return len;
}

static int pva_sf_xattr_get(const struct xattr_handler *handler,
			    struct dentry *dentry, struct inode *inode,
			    const char *name, void *buffer, size_t size)
{
	return (int)pva_sf_xattr_fetch(inode, PVA_SF_GETXATTR, name, buffer,
				       size);
}

static int pva_sf_xattr_set(const struct xattr_handler *handler,
			    PVA_IDMAP *idmap, struct dentry *dentry,
			    struct inode *inode, const char *name,
			    const void *value, size_t size, int flags)
{
	struct pva_sf_xattr req = {
		.node = cpu_to_le64(PVA_SF_I(inode)->node),
		.name_len = cpu_to_le32(strlen(name)),
		.size = cpu_to_le32(size),
		.flags = cpu_to_le32(flags & (XATTR_CREATE | XATTR_REPLACE)),
	};
	u16 type = value ? PVA_SF_SETXATTR : PVA_SF_REMOVEXATTR;
	int err;

	if (!pva_sf_xattr_ok(inode))
		return -EOPNOTSUPP;
	if (strlen(name) > PVA_SF_XATTR_NAME_MAX)
		return -ERANGE;
	if (size > PVA_SF_XATTR_SIZE_MAX)
		return -E2BIG;
	err = pva_sf_node_ok(inode);
	if (err)
		return err;
	if (!value)
		req.size = 0;
	err = pva_sf_call(PVA_SF_SB(inode->i_sb), type, &req, sizeof(req),
			  name, strlen(name), value, value ? size : 0, NULL, 0,
			  NULL);
	if (!err)
		WRITE_ONCE(PVA_SF_I(inode)->attr_expire, jiffies - 1);
	return err;
}

ssize_t pva_sf_listxattr(struct dentry *dentry, char *buf, size_t size)
{
	ssize_t len = pva_sf_xattr_fetch(d_inode(dentry), PVA_SF_LISTXATTR,
					 NULL, buf, size);

	/* a list of NUL-terminated names, or nothing */
	if (size && len > 0 && buf[len - 1])
		return -EPROTO;
	return len;
}

static const struct xattr_handler pva_sf_xattr_handler = {
	.prefix = "",
	.get = pva_sf_xattr_get,
	.set = pva_sf_xattr_set,
};

const struct xattr_handler *pva_sf_xattr_handlers[] = {
	&pva_sf_xattr_handler,
	NULL,
};
