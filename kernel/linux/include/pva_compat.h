/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels pva supports (6.1 to the newest), in one
 * place so that the drivers need no version checks of their own.
 */
#ifndef PVA_COMPAT_H
#define PVA_COMPAT_H

#include <linux/module.h>

/*
 * pva_core's exports live in the PVA symbol namespace. Kernels before 6.13
 * take the namespace as an identifier, later ones as a string; Kbuild
 * defines PVA_NS_IDENTIFIER by looking at the kernel's module.h.
 */
#ifdef PVA_NS_IDENTIFIER
#define PVA_EXPORT_SYMBOL(sym)	EXPORT_SYMBOL_NS_GPL(sym, PVA)
#define PVA_IMPORT_NS()		MODULE_IMPORT_NS(PVA)
#else
#define PVA_EXPORT_SYMBOL(sym)	EXPORT_SYMBOL_NS_GPL(sym, "PVA")
#define PVA_IMPORT_NS()		MODULE_IMPORT_NS("PVA")
#endif

/*
 * Balloon pages. Until 6.x the driver keeps the managed page count and, in
 * its migratepage callback, the balloon list; from 7.0 (linux/balloon.h)
 * the core does both. These helpers give pva_balloon one behaviour:
 * ballooned pages leave MemTotal, and migration only needs the host told.
 * Kbuild defines PVA_HAVE_LINUX_BALLOON_H.
 */
#ifdef PVA_BALLOON_COMPAT
#ifdef PVA_HAVE_LINUX_BALLOON_H
#include <linux/balloon.h>

#define PVA_BALLOON_MIGRATION	IS_ENABLED(CONFIG_BALLOON_MIGRATION)

static inline void pva_balloon_devinfo_init(struct balloon_dev_info *b)
{
	balloon_devinfo_init(b);
	b->adjust_managed_page_count = true;
}

static inline void pva_balloon_enqueue(struct balloon_dev_info *b,
				       struct page *page)
{
	balloon_page_enqueue(b, page);
}

static inline struct page *pva_balloon_dequeue(struct balloon_dev_info *b)
{
	return balloon_page_dequeue(b);
}

/* migratepage callback: the core moves the pages afterwards */
static inline void pva_balloon_migrate_begin(struct balloon_dev_info *b,
					     struct page *newpage,
					     struct page *page)
{
}

static inline int pva_balloon_migrate_end(struct page *page)
{
	return 0;
}
#else
#include <linux/balloon_compaction.h>
#include <linux/migrate.h>
#include <linux/vmstat.h>

#define PVA_BALLOON_MIGRATION	IS_ENABLED(CONFIG_BALLOON_COMPACTION)

static inline void pva_balloon_devinfo_init(struct balloon_dev_info *b)
{
	balloon_devinfo_init(b);
}

static inline void pva_balloon_enqueue(struct balloon_dev_info *b,
				       struct page *page)
{
	balloon_page_enqueue(b, page);
	adjust_managed_page_count(page, -1);
}

static inline struct page *pva_balloon_dequeue(struct balloon_dev_info *b)
{
	struct page *page = balloon_page_dequeue(b);

	if (page)
		adjust_managed_page_count(page, 1);
	return page;
}

/* migratepage callback: put @newpage in the balloon in @page's place */
static inline void pva_balloon_migrate_begin(struct balloon_dev_info *b,
					     struct page *newpage,
					     struct page *page)
{
	unsigned long flags;

	get_page(newpage);	/* the balloon's reference */
	if (page_zone(page) != page_zone(newpage)) {
		adjust_managed_page_count(page, 1);
		adjust_managed_page_count(newpage, -1);
	}
	spin_lock_irqsave(&b->pages_lock, flags);
	balloon_page_insert(b, newpage);
	b->isolated_pages--;
	__count_vm_event(BALLOON_MIGRATE);
	spin_unlock_irqrestore(&b->pages_lock, flags);
}

static inline int pva_balloon_migrate_end(struct page *page)
{
	balloon_page_finalize(page);
	put_page(page);		/* the balloon's reference */
	return MIGRATEPAGE_SUCCESS;
}
#endif
#endif /* PVA_BALLOON_COMPAT */

/*
 * Filesystem interfaces (pva_sf). Kbuild probes the kernel's headers and
 * defines PVA_HAVE_MNT_IDMAP (6.3: idmapped-mount argument type),
 * PVA_MKDIR_DENTRY (6.15: ->mkdir returns a dentry), PVA_DREVAL_DIR (6.14:
 * ->d_revalidate gets the parent and the name), PVA_FILLATTR_MASK (6.6),
 * PVA_HAVE_WRITEBACK_ITER (6.10), PVA_HAVE_INODE_TS (6.6: timestamp
 * accessors), PVA_HAVE_CAN_ODIRECT (6.5), PVA_HAVE_SET_DEFAULT_D_OP (6.17),
 * PVA_HAVE_FILELOCK_H (6.3), PVA_HAVE_FILE_LOCK_CORE (6.9: the common
 * fields of struct file_lock moved into ->c) and PVA_D_ALLOC_PARALLEL_WQ
 * (up to 6.x: d_alloc_parallel() takes the caller's wait queue).
 */
#ifdef PVA_FS_COMPAT
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/writeback.h>
#ifdef PVA_HAVE_FILELOCK_H
#include <linux/filelock.h>
#endif

#ifdef PVA_HAVE_FILE_LOCK_CORE
#define PVA_FL_TYPE(fl)		((fl)->c.flc_type)
#define PVA_FL_OWNER(fl)	((fl)->c.flc_owner)
#define PVA_FL_FLAGS(fl)	((fl)->c.flc_flags)
#define PVA_FL_PID(fl)		((fl)->c.flc_pid)
#else
#define PVA_FL_TYPE(fl)		((fl)->fl_type)
#define PVA_FL_OWNER(fl)	((fl)->fl_owner)
#define PVA_FL_FLAGS(fl)	((fl)->fl_flags)
#define PVA_FL_PID(fl)		((fl)->fl_pid)
#endif

#ifdef PVA_HAVE_MNT_IDMAP
#define PVA_IDMAP		struct mnt_idmap
#define PVA_NOP_IDMAP		(&nop_mnt_idmap)
#else
#define PVA_IDMAP		struct user_namespace
#define PVA_NOP_IDMAP		(&init_user_ns)
#endif

#ifdef PVA_MKDIR_DENTRY
#define PVA_MKDIR_RET		struct dentry *
#define PVA_MKDIR_RETURN(err)	ERR_PTR(err)
#else
#define PVA_MKDIR_RET		int
#define PVA_MKDIR_RETURN(err)	(err)
#endif

#ifdef PVA_DREVAL_DIR
#define PVA_DREVAL_ARGS(dentry, flags) \
	struct inode *pva_dir, const struct qstr *pva_name, \
	struct dentry *dentry, unsigned int flags
#else
#define PVA_DREVAL_ARGS(dentry, flags) struct dentry *dentry, unsigned int flags
#endif

#ifdef PVA_FILLATTR_MASK
#define pva_fillattr(idmap, mask, inode, stat) \
	generic_fillattr(idmap, mask, inode, stat)
#else
#define pva_fillattr(idmap, mask, inode, stat) \
	generic_fillattr(idmap, inode, stat)
#endif

static inline void pva_inode_set_times(struct inode *inode,
				       struct timespec64 atime,
				       struct timespec64 mtime,
				       struct timespec64 ctime)
{
#ifdef PVA_HAVE_INODE_TS
	inode_set_atime_to_ts(inode, atime);
	inode_set_mtime_to_ts(inode, mtime);
	inode_set_ctime_to_ts(inode, ctime);
#else
	inode->i_atime = atime;
	inode->i_mtime = mtime;
	inode->i_ctime = ctime;
#endif
}

static inline struct timespec64 pva_inode_mtime(struct inode *inode)
{
#ifdef PVA_HAVE_INODE_TS
	return inode_get_mtime(inode);
#else
	return inode->i_mtime;
#endif
}

/* @wq: DECLARE_WAIT_QUEUE_HEAD_ONSTACK in the caller, used before 6.19 */
#ifdef PVA_D_ALLOC_PARALLEL_WQ
#define pva_d_alloc_parallel(parent, name, wq) d_alloc_parallel(parent, name, wq)
#else
#define pva_d_alloc_parallel(parent, name, wq) \
	({ (void)(wq); d_alloc_parallel(parent, name); })
#endif

/* The dentry operations of every dentry of @sb (6.17: a setter). */
static inline void pva_set_d_op(struct super_block *sb,
				const struct dentry_operations *ops)
{
#ifdef PVA_HAVE_SET_DEFAULT_D_OP
	set_default_d_op(sb, ops);
#else
	sb->s_d_op = ops;
#endif
}

/* O_DIRECT is allowed on files of this open (6.5+ asks the file). */
static inline void pva_allow_odirect(struct file *file)
{
#ifdef PVA_HAVE_CAN_ODIRECT
	file->f_mode |= FMODE_CAN_ODIRECT;
#endif
}

typedef int (*pva_writefolio_t)(struct folio *folio,
				struct writeback_control *wbc, void *data);

#ifdef PVA_HAVE_WRITEBACK_ITER
/* Call @fn on every folio writeback wants written. */
static inline int pva_write_folios(struct address_space *mapping,
				   struct writeback_control *wbc,
				   pva_writefolio_t fn, void *data)
{
	struct folio *folio = NULL;
	int err = 0;

	while ((folio = writeback_iter(mapping, wbc, folio, &err)))
		err = fn(folio, wbc, data);
	return err;
}
#else
struct pva_write_folios_ctx {
	pva_writefolio_t fn;
	void *data;
};

static inline int pva_write_folios_page(struct page *page,
					struct writeback_control *wbc,
					void *data)
{
	struct pva_write_folios_ctx *ctx = data;

	return ctx->fn(page_folio(page), wbc, ctx->data);
}

static inline int pva_write_folios(struct address_space *mapping,
				   struct writeback_control *wbc,
				   pva_writefolio_t fn, void *data)
{
	struct pva_write_folios_ctx ctx = { .fn = fn, .data = data };

	return write_cache_pages(mapping, wbc, pva_write_folios_page, &ctx);
}
#endif
#endif /* PVA_FS_COMPAT */

/*
 * Display (pva_drm). Kbuild defines:
 * - PVA_HAVE_FBDEV_SHMEM_OPS (6.13+): fbdev emulation is a DRM client that
 *   drm_client_setup() starts, with the driver's fbdev_probe op;
 *   PVA_HAVE_DRM_CLIENTS_DIR says where its header is (7.x);
 * - PVA_HAVE_FBDEV_SHMEM_SETUP (6.11, 6.12): drm_fbdev_shmem_setup();
 * - neither (6.1): drm_fbdev_generic_setup();
 * - PVA_DRM_HAVE_DATE: struct drm_driver still has .date (before 6.14);
 * - PVA_DRM_MODE_VALID_CONST: the connector's mode_valid takes a const
 *   mode (6.5+);
 * - PVA_DRM_ATOMIC_COMMIT: struct drm_atomic_state is called
 *   struct drm_atomic_commit (7.x).
 */
#ifdef PVA_DRM_COMPAT
#include <drm/drm_device.h>

#if defined(PVA_HAVE_FBDEV_SHMEM_OPS)
#include <drm/drm_fbdev_shmem.h>
#ifdef PVA_HAVE_DRM_CLIENTS_DIR
#include <drm/clients/drm_client_setup.h>
#else
#include <drm/drm_client_setup.h>
#endif
#define PVA_DRM_FBDEV_DRIVER_OPS	DRM_FBDEV_SHMEM_DRIVER_OPS,
static inline void pva_drm_fbdev_setup(struct drm_device *drm)
{
	drm_client_setup(drm, NULL);
}
#elif defined(PVA_HAVE_FBDEV_SHMEM_SETUP)
#include <drm/drm_fbdev_shmem.h>
#define PVA_DRM_FBDEV_DRIVER_OPS
static inline void pva_drm_fbdev_setup(struct drm_device *drm)
{
	drm_fbdev_shmem_setup(drm, 32);
}
#else
#include <drm/drm_fb_helper.h>
#define PVA_DRM_FBDEV_DRIVER_OPS
static inline void pva_drm_fbdev_setup(struct drm_device *drm)
{
	drm_fbdev_generic_setup(drm, 32);
}
#endif

#ifdef PVA_DRM_HAVE_DATE
#define PVA_DRM_DRIVER_DATE	.date = "20261125",
#else
#define PVA_DRM_DRIVER_DATE
#endif

#ifdef PVA_DRM_MODE_VALID_CONST
#define PVA_DRM_MODE_CONST	const
#else
#define PVA_DRM_MODE_CONST
#endif

#ifdef PVA_DRM_ATOMIC_COMMIT
#define pva_drm_atomic_state	drm_atomic_commit
#else
#define pva_drm_atomic_state	drm_atomic_state
#endif
#endif /* PVA_DRM_COMPAT */

#endif /* PVA_COMPAT_H */
