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

#endif /* PVA_COMPAT_H */
