// SPDX-License-Identifier: GPL-2.0
/*
 * pva_balloon: memory balloon on pva_core's "balloon" service
 * (protocol/PROTOCOL.md 6.5). The host sets a target; the guest gives that
 * much memory to the balloon, page by page, and tells the host which
 * guest-physical ranges it gave up so the host can free them. Balloon pages
 * are movable (balloon compaction), the balloon shrinks when the guest runs
 * out of memory, memory statistics go to the host, and with free page
 * reporting the host also reclaims memory the guest merely freed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/auxiliary_bus.h>
#include <linux/delay.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/page_reporting.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string_helpers.h>
#include <linux/swap.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "pva.h"
#define PVA_BALLOON_COMPAT
#include "pva_compat.h"

static unsigned int oom_pages = 1024;
module_param(oom_pages, uint, 0644);
MODULE_PARM_DESC(oom_pages, "Pages to give back per out-of-memory event (default 1024)");
static bool reporting = true;
module_param(reporting, bool, 0444);
MODULE_PARM_DESC(reporting, "Report free pages to the host if it supports it (default on)");
static bool deflate_on_oom = true;
module_param(deflate_on_oom, bool, 0444);
MODULE_PARM_DESC(deflate_on_oom, "Give memory back when the guest runs out (default on)");

/* Pages per message: contiguous pages share a range, at most 256 ranges. */
#define PVA_BALLOON_BATCH	1024
#define PVA_BALLOON_RETRY	(HZ / 2)	/* after a failed allocation */
#define PVA_BALLOON_TIMEOUT	(5 * HZ)	/* for the host's answers */
#define PFNS_PER_CHUNK		(PAGE_SIZE * BITS_PER_BYTE)

/* The balloon: one per guest. */
struct pva_balloon {
	struct pva_client *client;
	struct device *dev;
	struct balloon_dev_info b_dev_info;

	/* Serialises inflating, deflating, migration and resync. */
	struct mutex lock;
	/* Pages in the balloon, as a sparse bitmap of pfns (xarray of
	 * page-sized chunks), so they can be listed to a restarted host.
	 */
	struct xarray pfns;
	unsigned long last_index;	/* one-entry cache of pfns lookups */
	unsigned long *last_chunk;
	unsigned long nr_pages;
	u64 oom_deflated;		/* bytes */
	bool stalled;			/* allocation failed at the target */
	bool oom_clamped;		/* do not inflate until a new target */
	struct pva_balloon_range *ranges;	/* message buffer, under lock */

	/* From the host's CONFIG, under cfg_lock (the rx path cannot sleep). */
	spinlock_t cfg_lock;
	u64 target;			/* bytes */
	u32 config_gen;
	u32 stats_interval_ms;
	bool up;			/* rings usable */
	bool need_hello;		/* say hello (and resync) first */
	u64 features;			/* PVA_BALLOON_F_* in use */

	struct work_struct work;	/* towards the target */
	struct delayed_work retry_work;	/* after a failed allocation */
	struct delayed_work stats_work;	/* periodic statistics */
	struct notifier_block oom_nb;
	struct page_reporting_dev_info pr_dev_info;
	bool reporting;			/* page reporting registered */
	struct pva_balloon_range *pr_ranges;	/* reporting's own buffer */
};

/* ---- the pfn set ---- */

/* The chunk of @pfn's bit, or NULL; pages come in runs, so cache it. */
static unsigned long *pva_balloon_chunk(struct pva_balloon *b,
					unsigned long pfn)
{
	unsigned long index = pfn / PFNS_PER_CHUNK;

	if (b->last_chunk && b->last_index == index)
		return b->last_chunk;
	b->last_chunk = xa_load(&b->pfns, index);
	b->last_index = index;
	return b->last_chunk;
}

static int pva_balloon_pfn_set(struct pva_balloon *b, unsigned long pfn,
			       gfp_t gfp)
{
	unsigned long *chunk = pva_balloon_chunk(b, pfn);

	if (!chunk) {
		void *old;

		chunk = (unsigned long *)get_zeroed_page(gfp);
		if (!chunk)
			return -ENOMEM;
		old = xa_store(&b->pfns, pfn / PFNS_PER_CHUNK, chunk, gfp);
		if (xa_is_err(old)) {
			free_page((unsigned long)chunk);
			return xa_err(old);
		}
		b->last_chunk = chunk;
		b->last_index = pfn / PFNS_PER_CHUNK;
	}
	__set_bit(pfn % PFNS_PER_CHUNK, chunk);
	return 0;
}

static void pva_balloon_pfn_clear(struct pva_balloon *b, unsigned long pfn)
{
	unsigned long *chunk = pva_balloon_chunk(b, pfn);

	if (chunk)
		__clear_bit(pfn % PFNS_PER_CHUNK, chunk);
}

static void pva_balloon_pfns_free(struct pva_balloon *b)
{
	unsigned long index;
	void *chunk;

	xa_for_each(&b->pfns, index, chunk)
		free_page((unsigned long)chunk);
	xa_destroy(&b->pfns);
}

/* ---- talking to the host ---- */

/* Append a page to @ranges (of *@n), merging with the last if adjacent. */
static void pva_balloon_add_range(struct pva_balloon_range *ranges,
				  unsigned int *n, phys_addr_t gpa, u64 len)
{
	if (*n) {
		struct pva_balloon_range *last = &ranges[*n - 1];

		if (le64_to_cpu(last->gpa) + le64_to_cpu(last->len) == gpa) {
			le64_add_cpu(&last->len, len);
			return;
		}
	}
	ranges[*n].gpa = cpu_to_le64(gpa);
	ranges[*n].len = cpu_to_le64(len);
	(*n)++;
}

/* INFLATE, DEFLATE or REPORT @n ranges; the host's answer or -errno. */
static int pva_balloon_tell(struct pva_balloon *b, u16 type,
			    struct pva_balloon_range *ranges, unsigned int n)
{
	struct pva_balloon_result res;
	u32 len;
	int err;

	if (!n)
		return 0;
	err = pva_call(b->client, type, ranges, n * sizeof(*ranges), &res,
		       sizeof(res), &len, PVA_BALLOON_TIMEOUT);
	if (err)
		return err;
	if (len == sizeof(res) && res.refused)
		dev_warn_ratelimited(b->dev, "host refused %llu bytes of %s\n",
				     le64_to_cpu(res.refused),
				     type == PVA_BALLOON_INFLATE ? "inflate" :
				     type == PVA_BALLOON_DEFLATE ? "deflate" :
				     "reports");
	return 0;
}

static void pva_balloon_send_status(struct pva_balloon *b)
{
	struct pva_balloon_status st = {
		.actual = cpu_to_le64((u64)b->nr_pages << PAGE_SHIFT),
		.oom_deflated = cpu_to_le64(b->oom_deflated),
		.flags = cpu_to_le32((b->stalled ? PVA_BALLOON_S_STALLED : 0) |
				     (READ_ONCE(b->oom_clamped) ?
				      PVA_BALLOON_S_OOM : 0)),
		.config_generation = cpu_to_le32(READ_ONCE(b->config_gen)),
	};

	/* best effort: the next status, or the next hello, repeats it */
	pva_send(b->client, PVA_BALLOON_STATUS, 0, 0, 0, &st, sizeof(st));
}

static void pva_balloon_fill_stats(struct pva_balloon_stats *s)
{
#ifdef CONFIG_VM_EVENT_COUNTERS
	unsigned long events[NR_VM_EVENT_ITEMS];
#endif
	struct sysinfo i;
	u64 valid = 0;

#define SET(idx, val) do { s->v[idx] = cpu_to_le64(val); valid |= 1ull << (idx); } while (0)
	memset(s, 0, sizeof(*s));
	si_meminfo(&i);
	SET(PVA_BSTAT_TOTAL, (u64)i.totalram * i.mem_unit);
	SET(PVA_BSTAT_FREE, (u64)i.freeram * i.mem_unit);
	SET(PVA_BSTAT_AVAILABLE, (u64)si_mem_available() << PAGE_SHIFT);
	SET(PVA_BSTAT_CACHED,
	    (u64)global_node_page_state(NR_FILE_PAGES) << PAGE_SHIFT);
#ifdef CONFIG_VM_EVENT_COUNTERS
	all_vm_events(events);
	SET(PVA_BSTAT_SWAP_IN, (u64)events[PSWPIN] << PAGE_SHIFT);
	SET(PVA_BSTAT_SWAP_OUT, (u64)events[PSWPOUT] << PAGE_SHIFT);
	SET(PVA_BSTAT_MAJFLT, events[PGMAJFAULT]);
	SET(PVA_BSTAT_MINFLT, events[PGFAULT] - events[PGMAJFAULT]);
	SET(PVA_BSTAT_OOM_KILLS, events[OOM_KILL]);
#ifdef CONFIG_HUGETLB_PAGE
	SET(PVA_BSTAT_HUGETLB_ALLOC, events[HTLB_BUDDY_PGALLOC]);
	SET(PVA_BSTAT_HUGETLB_FAIL, events[HTLB_BUDDY_PGALLOC_FAIL]);
#endif
#endif
#undef SET
	s->valid = cpu_to_le64(valid);
}

static void pva_balloon_stats_func(struct work_struct *work)
{
	struct pva_balloon *b = container_of(to_delayed_work(work),
					     struct pva_balloon, stats_work);
	struct pva_balloon_stats *s;
	u32 ms = READ_ONCE(b->stats_interval_ms);

	if (!ms || !READ_ONCE(b->up))
		return;
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (s) {
		pva_balloon_fill_stats(s);
		pva_send(b->client, PVA_BALLOON_STATS, 0, 0, 0, s, sizeof(*s));
		kfree(s);
	}
	schedule_delayed_work(&b->stats_work, msecs_to_jiffies(ms));
}

/* ---- inflate and deflate (b->lock held) ---- */

static unsigned long pva_balloon_target_pages(struct pva_balloon *b)
{
	u64 target;

	spin_lock(&b->cfg_lock);
	target = b->target;
	spin_unlock(&b->cfg_lock);
	return target >> PAGE_SHIFT;
}

/*
 * Up to @n pages into the balloon (one message); how many went in.
 * *@failed: the guest had no page to give.
 */
static unsigned int pva_balloon_fill(struct pva_balloon *b, unsigned int n,
				     bool *failed)
{
	unsigned int i, nr = 0;

	*failed = false;
	for (i = 0; i < n && nr < PVA_BALLOON_MAX_RANGES; i++) {
		struct page *page = balloon_page_alloc();

		if (!page) {
			*failed = true;
			break;
		}
		if (pva_balloon_pfn_set(b, page_to_pfn(page), GFP_KERNEL)) {
			__free_page(page);
			*failed = true;
			break;
		}
		pva_balloon_enqueue(&b->b_dev_info, page);
		pva_balloon_add_range(b->ranges, &nr, page_to_phys(page),
				      PAGE_SIZE);
		b->nr_pages++;
	}
	/* the host may fail: the pages stay ballooned and are resent at
	 * the next hello
	 */
	pva_balloon_tell(b, PVA_BALLOON_INFLATE, b->ranges, nr);
	return i;
}

/* Up to @n pages out of the balloon, host told first; how many came out. */
static unsigned int pva_balloon_leak(struct pva_balloon *b, unsigned int n)
{
	struct page *page, *next;
	unsigned int got = 0, nr = 0;
	LIST_HEAD(pages);

	n = min_t(unsigned int, n, PVA_BALLOON_BATCH);
	while (got < n && nr < PVA_BALLOON_MAX_RANGES) {
		page = pva_balloon_dequeue(&b->b_dev_info);
		if (!page)
			break;	/* the rest is isolated for migration */
		list_add(&page->lru, &pages);
		got++;
		pva_balloon_pfn_clear(b, page_to_pfn(page));
		pva_balloon_add_range(b->ranges, &nr, page_to_phys(page),
				      PAGE_SIZE);
	}
	/*
	 * The host does nothing to the memory of a deflated page, and every
	 * inflate was answered before its pages could get here: an event is
	 * enough, unless the ring is full.
	 */
	if (nr && pva_send(b->client, PVA_BALLOON_DEFLATE, 0, 0, 0, b->ranges,
			   nr * sizeof(*b->ranges)))
		pva_balloon_tell(b, PVA_BALLOON_DEFLATE, b->ranges, nr);
	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		put_page(page);	/* the balloon's reference */
	}
	b->nr_pages -= got;
	return got;
}

/* Tell a new host (or a restarted one) every page in the balloon. */
static void pva_balloon_resync(struct pva_balloon *b)
{
	unsigned long index, bit;
	unsigned int nr = 0;
	unsigned long *chunk;

	xa_for_each(&b->pfns, index, chunk) {
		for_each_set_bit(bit, chunk, PFNS_PER_CHUNK) {
			unsigned long pfn = index * PFNS_PER_CHUNK + bit;

			pva_balloon_add_range(b->ranges, &nr, PFN_PHYS(pfn),
					      PAGE_SIZE);
			if (nr == PVA_BALLOON_MAX_RANGES) {
				pva_balloon_tell(b, PVA_BALLOON_INFLATE,
						 b->ranges, nr);
				nr = 0;
			}
		}
	}
	pva_balloon_tell(b, PVA_BALLOON_INFLATE, b->ranges, nr);
}

static void pva_balloon_apply_config(struct pva_balloon *b,
				     const struct pva_balloon_config *cfg)
{
	u32 gen = le32_to_cpu(cfg->generation);
	u32 ms = le32_to_cpu(cfg->stats_interval_ms);

	spin_lock(&b->cfg_lock);
	b->target = le64_to_cpu(cfg->target) & ~(u64)(PAGE_SIZE - 1);
	if (gen != b->config_gen)
		WRITE_ONCE(b->oom_clamped, false);	/* a new target */
	b->config_gen = gen;
	b->stats_interval_ms = ms;
	spin_unlock(&b->cfg_lock);
	if (ms && (b->features & PVA_BALLOON_F_STATS))
		mod_delayed_work(system_wq, &b->stats_work, 0);
}

static int pva_balloon_hello(struct pva_balloon *b)
{
	struct pva_balloon_hello hello = {
		.features = cpu_to_le64(b->features),
		.actual = cpu_to_le64((u64)b->nr_pages << PAGE_SHIFT),
		.page_size = cpu_to_le32(PAGE_SIZE),
	};
	struct pva_balloon_config cfg;
	u32 len;
	int err;

	err = pva_call(b->client, PVA_BALLOON_HELLO, &hello, sizeof(hello),
		       &cfg, sizeof(cfg), &len, PVA_BALLOON_TIMEOUT);
	if (err)
		return err;
	if (len != sizeof(cfg))
		return -EPROTO;
	pva_balloon_apply_config(b, &cfg);
	if (b->nr_pages)
		pva_balloon_resync(b);
	return 0;
}

/* One batch towards the target (b->lock held); true if more is to do. */
static bool pva_balloon_step(struct pva_balloon *b)
{
	unsigned long target = pva_balloon_target_pages(b);
	bool failed;

	if (b->nr_pages < target && !READ_ONCE(b->oom_clamped)) {
		pva_balloon_fill(b, min_t(unsigned long, target - b->nr_pages,
					  PVA_BALLOON_BATCH), &failed);
		b->stalled = failed;
		if (failed)
			schedule_delayed_work(&b->retry_work, PVA_BALLOON_RETRY);
		return !failed && b->nr_pages < target;
	}
	b->stalled = false;
	if (b->nr_pages > target) {
		pva_balloon_leak(b, b->nr_pages - target);
		return b->nr_pages > target;
	}
	return false;
}

static void pva_balloon_func(struct work_struct *work)
{
	struct pva_balloon *b = container_of(work, struct pva_balloon, work);
	bool again = false;
	int batches;

	mutex_lock(&b->lock);
	if (!READ_ONCE(b->up))
		goto out;
	if (READ_ONCE(b->need_hello)) {
		int err = pva_balloon_hello(b);

		if (err) {
			dev_warn(b->dev, "host did not answer the balloon hello: %d\n",
				 err);
			goto out;	/* the next up() tries again */
		}
		WRITE_ONCE(b->need_hello, false);
	}
	again = true;
	/*
	 * Several batches per run, dropping the lock in between so that
	 * the OOM notifier and compaction get their turn.
	 */
	for (batches = 0; again && batches < 32 && READ_ONCE(b->up); batches++) {
		again = pva_balloon_step(b);
		if (batches % 8 == 7) {
			pva_balloon_send_status(b);
			mutex_unlock(&b->lock);
			cond_resched();
			mutex_lock(&b->lock);
		}
	}
	pva_balloon_send_status(b);
out:
	mutex_unlock(&b->lock);
	if (again && READ_ONCE(b->up))
		queue_work(system_freezable_wq, &b->work);	/* more */
}

static void pva_balloon_retry_func(struct work_struct *work)
{
	struct pva_balloon *b = container_of(to_delayed_work(work),
					     struct pva_balloon, retry_work);

	queue_work(system_freezable_wq, &b->work);
}

/* ---- the guest runs short ---- */

static int pva_balloon_oom_notify(struct notifier_block *nb,
				  unsigned long dummy, void *parm)
{
	struct pva_balloon *b = container_of(nb, struct pva_balloon, oom_nb);
	unsigned long *freed = parm;
	unsigned int left = oom_pages, n;

	mutex_lock(&b->lock);
	while (left && b->nr_pages) {
		n = pva_balloon_leak(b, left);
		if (!n)
			break;
		left -= n;
		*freed += n;
		b->oom_deflated += (u64)n << PAGE_SHIFT;
		WRITE_ONCE(b->oom_clamped, true);
	}
	if (left != oom_pages)
		pva_balloon_send_status(b);
	mutex_unlock(&b->lock);
	return NOTIFY_OK;
}

/* ---- compaction ---- */

static int pva_balloon_migratepage(struct balloon_dev_info *b_dev_info,
				   struct page *newpage, struct page *page,
				   enum migrate_mode mode)
{
	struct pva_balloon *b = container_of(b_dev_info, struct pva_balloon,
					     b_dev_info);
	struct pva_balloon_range r;
	unsigned int nr = 0;

	/* Like virtio-balloon: never wait here, migration retries later. */
	if (!mutex_trylock(&b->lock))
		return -EAGAIN;
	if (pva_balloon_pfn_set(b, page_to_pfn(newpage), GFP_NOWAIT)) {
		mutex_unlock(&b->lock);
		return -EAGAIN;
	}
	pva_balloon_migrate_begin(b_dev_info, newpage, page);
	pva_balloon_pfn_clear(b, page_to_pfn(page));
	pva_balloon_add_range(&r, &nr, page_to_phys(newpage), PAGE_SIZE);
	pva_balloon_tell(b, PVA_BALLOON_INFLATE, &r, 1);
	nr = 0;
	pva_balloon_add_range(&r, &nr, page_to_phys(page), PAGE_SIZE);
	pva_balloon_tell(b, PVA_BALLOON_DEFLATE, &r, 1);
	mutex_unlock(&b->lock);
	return pva_balloon_migrate_end(page);
}

/* ---- free page reporting ---- */

static int pva_balloon_report(struct page_reporting_dev_info *pr,
			      struct scatterlist *sgl, unsigned int nents)
{
	struct pva_balloon *b = container_of(pr, struct pva_balloon,
					     pr_dev_info);
	struct scatterlist *sg;
	unsigned int i, nr = 0;

	for_each_sg(sgl, sg, nents, i)
		pva_balloon_add_range(b->pr_ranges, &nr, sg_phys(sg),
				      sg->length);
	/* failing leaves the pages unreported; they are offered again */
	return pva_balloon_tell(b, PVA_BALLOON_REPORT, b->pr_ranges, nr);
}

/* ---- pva_core callbacks ---- */

static int pva_balloon_rx(struct pva_client *c, const struct pva_msg_hdr *hdr,
			  const void *payload, u32 len)
{
	struct pva_balloon *b = pva_client_priv(c);
	u16 type = le16_to_cpu(hdr->type);
	bool request = le16_to_cpu(hdr->flags) & PVA_MSG_F_REQUEST;
	struct pva_balloon_stats stats;

	if (type == PVA_BALLOON_CONFIG && !request) {
		if (len != sizeof(struct pva_balloon_config)) {
			dev_warn_ratelimited(b->dev, "malformed balloon config (%u bytes)\n",
					     len);
			return 0;
		}
		pva_balloon_apply_config(b, payload);
		queue_work(system_freezable_wq, &b->work);
		return 0;
	}
	if (!request)
		return 0;	/* unknown events are dropped */
	if (type == PVA_BALLOON_STATS) {
		pva_balloon_fill_stats(&stats);
		return pva_reply(c, hdr, PVA_S_OK, &stats, sizeof(stats));
	}
	return pva_reply(c, hdr, PVA_S_ENOTSUP, NULL, 0);
}

static void pva_balloon_up(struct pva_client *c)
{
	struct pva_balloon *b = pva_client_priv(c);

	WRITE_ONCE(b->need_hello, true);
	WRITE_ONCE(b->up, true);
	queue_work(system_freezable_wq, &b->work);
}

static void pva_balloon_down(struct pva_client *c)
{
	struct pva_balloon *b = pva_client_priv(c);

	/* the pages stay ballooned; the next hello resyncs the host */
	WRITE_ONCE(b->up, false);
}

static const struct pva_client_ops pva_balloon_ops = {
	.rx = pva_balloon_rx,
	.up = pva_balloon_up,
	.down = pva_balloon_down,
};

/* ---- probe / remove ---- */

static int pva_balloon_probe(struct auxiliary_device *adev,
			     const struct auxiliary_device_id *id)
{
	struct pva_client *c = pva_client_from_adev(adev);
	struct pva_service_info info;
	struct pva_balloon *b;
	int err;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->ranges = kcalloc(PVA_BALLOON_MAX_RANGES, sizeof(*b->ranges),
			    GFP_KERNEL);
	b->pr_ranges = kcalloc(PAGE_REPORTING_CAPACITY, sizeof(*b->pr_ranges),
			       GFP_KERNEL);
	if (!b->ranges || !b->pr_ranges) {
		err = -ENOMEM;
		goto err_free;
	}
	b->client = c;
	b->dev = &adev->dev;
	mutex_init(&b->lock);
	spin_lock_init(&b->cfg_lock);
	xa_init(&b->pfns);
	INIT_WORK(&b->work, pva_balloon_func);
	INIT_DELAYED_WORK(&b->retry_work, pva_balloon_retry_func);
	INIT_DELAYED_WORK(&b->stats_work, pva_balloon_stats_func);
	pva_balloon_devinfo_init(&b->b_dev_info);
	if (PVA_BALLOON_MIGRATION)
		b->b_dev_info.migratepage = pva_balloon_migratepage;

	/* what the host offers, and what we are allowed to use */
	err = pva_client_info(c, &info);
	if (err)
		info.features = 0;	/* down now: the basic balloon only */
	b->features = info.features & PVA_BALLOON_F_STATS;
	if (deflate_on_oom)
		b->features |= info.features & PVA_BALLOON_F_OOM;
	if (reporting)
		b->features |= info.features & PVA_BALLOON_F_REPORTING;

	if (b->features & PVA_BALLOON_F_OOM) {
		b->oom_nb.notifier_call = pva_balloon_oom_notify;
		b->oom_nb.priority = 80;
		err = register_oom_notifier(&b->oom_nb);
		if (err)
			goto err_free;
	}
	if (b->features & PVA_BALLOON_F_REPORTING) {
		b->pr_dev_info.report = pva_balloon_report;
		/* Another balloon (virtio) may have the one reporting slot. */
		if (page_reporting_register(&b->pr_dev_info))
			dev_warn(b->dev, "free page reporting not available\n");
		else
			b->reporting = true;
	}
	if (!b->reporting)
		b->features &= ~PVA_BALLOON_F_REPORTING;

	dev_set_drvdata(&adev->dev, b);
	pva_client_enable(c, &pva_balloon_ops, b);
	dev_info(b->dev, "balloon ready (statistics %s, deflate on OOM %s, free page reporting %s)\n",
		 str_on_off(b->features & PVA_BALLOON_F_STATS),
		 str_on_off(b->features & PVA_BALLOON_F_OOM),
		 str_on_off(b->reporting));
	return 0;

err_free:
	kfree(b->ranges);
	kfree(b->pr_ranges);
	kfree(b);
	return err;
}

static void pva_balloon_remove(struct auxiliary_device *adev)
{
	struct pva_balloon *b = dev_get_drvdata(&adev->dev);

	if (b->reporting)
		page_reporting_unregister(&b->pr_dev_info);
	if (b->features & PVA_BALLOON_F_OOM)
		unregister_oom_notifier(&b->oom_nb);
	/*
	 * No more callbacks; then no more work: with up false the balloon
	 * work neither requeues itself nor schedules a retry.
	 */
	pva_client_disable(b->client);
	WRITE_ONCE(b->up, false);
	WRITE_ONCE(b->stats_interval_ms, 0);
	cancel_delayed_work_sync(&b->retry_work);
	cancel_work_sync(&b->work);
	cancel_delayed_work_sync(&b->stats_work);

	/*
	 * Give everything back, telling the host while it listens. Pages
	 * isolated by compaction come back to the list when their migration
	 * fails to take our lock, so wait for them: none may outlive us.
	 */
	mutex_lock(&b->lock);
	while (b->nr_pages) {
		if (pva_balloon_leak(b, b->nr_pages))
			continue;
		mutex_unlock(&b->lock);
		msleep(20);
		mutex_lock(&b->lock);
	}
	pva_balloon_send_status(b);
	mutex_unlock(&b->lock);
	pva_balloon_pfns_free(b);
	kfree(b->ranges);
	kfree(b->pr_ranges);
	kfree(b);
}

static const struct auxiliary_device_id pva_balloon_ids[] = {
	{ .name = "pva_core.balloon" },
	{ }
};
MODULE_DEVICE_TABLE(auxiliary, pva_balloon_ids);

static struct auxiliary_driver pva_balloon_driver = {
	.probe = pva_balloon_probe,
	.remove = pva_balloon_remove,
	.id_table = pva_balloon_ids,
};
module_auxiliary_driver(pva_balloon_driver);

MODULE_DESCRIPTION("pva paravirtual add-ons: memory balloon");
MODULE_AUTHOR("The pva authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(PVA_DRIVER_VERSION);
PVA_IMPORT_NS();
