// SPDX-License-Identifier: GPL-2.0
/*
 * pvasf regular files. Reads go through the page cache (readahead in 64 KiB
 * requests) unless cache=none or O_DIRECT; write(2) goes straight to the
 * host (write-through: the host has the data when write returns) and drops
 * the cached pages it covers; pages dirtied through shared mmap are written
 * back by writepages, and every error reaches fsync/msync/close.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/writeback.h>

#include "pva_sf.h"

#define PVA_SF_RA_PAGES		(PVA_SF_IO_MAX / PAGE_SIZE)

/* ---- handles ---- */

static int pva_sf_open_fh(struct inode *inode, u32 flags, u64 *fh)
{
	struct pva_sf_open req = {
		.node = cpu_to_le64(PVA_SF_I(inode)->node),
		.flags = cpu_to_le32(flags),
	};
	struct pva_sf_open_out out;
	u32 len;
	int err;

	err = pva_sf_node_ok(inode);
	if (err)
		return err;
	err = pva_sf_call(PVA_SF_SB(inode->i_sb), PVA_SF_OPEN, &req,
			  sizeof(req), NULL, 0, NULL, 0, &out, sizeof(out),
			  &len);
	if (err)
		return err;
	if (len != sizeof(out))
		return -EPROTO;
	*fh = le64_to_cpu(out.fh);
	return 0;
}

/* A handle of the inode's own for page-cache I/O (opened on first use). */
int pva_sf_io_fh(struct inode *inode, bool write, u64 *fh)
{
	struct pva_sf_inode *ii = PVA_SF_I(inode);
	u64 *slot = write ? &ii->wfh : &ii->rfh;
	int err = 0;

	mutex_lock(&ii->io_lock);
	if (!*slot)
		err = pva_sf_open_fh(inode, write ? PVA_SF_O_WRONLY :
				     PVA_SF_O_RDONLY, slot);
	*fh = *slot;
	mutex_unlock(&ii->io_lock);
	return err;
}

void pva_sf_io_release(struct inode *inode)
{
	struct pva_sf_sb *s = PVA_SF_SB(inode->i_sb);
	struct pva_sf_inode *ii = PVA_SF_I(inode);

	if (ii->rfh)
		pva_sf_defer(s, PVA_SF_RELEASE, ii->rfh, 0);
	if (ii->wfh)
		pva_sf_defer(s, PVA_SF_RELEASE, ii->wfh, 0);
	ii->rfh = 0;
	ii->wfh = 0;
}

/* The handle to use for @file's own reads and writes. */
int pva_sf_file_fh(struct file *file, u64 *fh)
{
	struct pva_sf_file *pf = file->private_data;
	struct inode *inode = file_inode(file);

	if (pf->epoch != READ_ONCE(PVA_SF_SB(inode->i_sb)->epoch))
		return -EIO;	/* opened before a device reset */
	*fh = pf->fh;
	return 0;
}

/* ---- talking data ---- */

/* READ at @pos into @buf; the bytes read (short at end of file). */
static ssize_t pva_sf_read_at(struct inode *inode, u64 fh, loff_t pos,
			      void *buf, u32 size)
{
	struct pva_sf_io req = {
		.fh = cpu_to_le64(fh), .offset = cpu_to_le64(pos),
		.size = cpu_to_le32(size),
	};
	u32 len;
	int err;

	err = pva_sf_call(PVA_SF_SB(inode->i_sb), PVA_SF_READ, &req,
			  sizeof(req), NULL, 0, NULL, 0, buf, size, &len);
	/* apart: a ?: of int and u32 would make the error unsigned */
	if (err)
		return err;
	return len;
}

/* WRITE @size bytes of @buf at @pos; the bytes written. */
static ssize_t pva_sf_write_at(struct inode *inode, u64 fh, loff_t pos,
			       const void *buf, u32 size)
{
	struct pva_sf_io req = {
		.fh = cpu_to_le64(fh), .offset = cpu_to_le64(pos),
		.size = cpu_to_le32(size),
	};
	struct pva_sf_written out;
	u32 len;
	int err;

	err = pva_sf_call(PVA_SF_SB(inode->i_sb), PVA_SF_WRITE, &req,
			  sizeof(req), buf, size, NULL, 0, &out, sizeof(out),
			  &len);
	if (err)
		return err;
	if (len != sizeof(out) || le32_to_cpu(out.size) > size)
		return -EPROTO;
	return le32_to_cpu(out.size);
}

/* ---- open, release, flush, fsync ---- */

/* The protocol's open flags for the guest's O_* @f_flags. */
u32 pva_sf_open_flags(unsigned int f_flags)
{
	u32 flags;

	switch (f_flags & O_ACCMODE) {
	case O_WRONLY:
		flags = PVA_SF_O_WRONLY;
		break;
	case O_RDWR:
		flags = PVA_SF_O_RDWR;
		break;
	default:
		flags = PVA_SF_O_RDONLY;
		break;
	}
	if (f_flags & O_APPEND)
		flags |= PVA_SF_O_APPEND;
	return flags;
}

static int pva_sf_open(struct inode *inode, struct file *file)
{
	struct pva_sf_sb *s = PVA_SF_SB(inode->i_sb);
	struct pva_sf_file *pf;
	u32 flags;
	int err;

	err = generic_file_open(inode, file);
	if (err)
		return err;
	/* close-to-open: see what others wrote before we opened */
	if (s->cache != PVA_SF_CACHE_LOOSE) {
		err = pva_sf_revalidate_attr(inode, true);
		if (err)
			return err;
	}
	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	flags = pva_sf_open_flags(file->f_flags);
	pf->epoch = READ_ONCE(s->epoch);
	err = pva_sf_open_fh(inode, flags, &pf->fh);
	if (err) {
		kfree(pf);
		return err;
	}
	file->private_data = pf;
	pva_allow_odirect(file);
	return 0;
}

static int pva_sf_release(struct inode *inode, struct file *file)
{
	struct pva_sf_file *pf = file->private_data;
	struct pva_sf_sb *s = PVA_SF_SB(inode->i_sb);

	if (pf->epoch == READ_ONCE(s->epoch))
		pva_sf_defer(s, PVA_SF_RELEASE, pf->fh, 0);
	kfree(pf);
	return 0;
}

/* close(2): what mmap wrote reaches the host, and its errors the caller. */
static int pva_sf_flush(struct file *file, fl_owner_t id)
{
	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	return filemap_write_and_wait(file->f_mapping);
}

static int pva_sf_fsync(struct file *file, loff_t start, loff_t end,
			int datasync)
{
	struct inode *inode = file_inode(file);
	struct pva_sf_fsync req = { .datasync = cpu_to_le32(datasync) };
	u64 fh;
	int err;

	err = file_write_and_wait_range(file, start, end);
	if (err)
		return err;
	err = pva_sf_file_fh(file, &fh);
	if (err)
		return err;
	req.fh = cpu_to_le64(fh);
	return pva_sf_call(PVA_SF_SB(inode->i_sb), PVA_SF_FSYNC, &req,
			   sizeof(req), NULL, 0, NULL, 0, NULL, 0, NULL);
}

/* ---- read and write ---- */

static ssize_t pva_sf_read_direct(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	ssize_t done = 0, n;
	void *buf;
	u64 fh;
	int err;

	err = pva_sf_file_fh(file, &fh);
	if (err)
		return err;
	/* what mmap wrote must be on the host before we read there */
	err = filemap_write_and_wait_range(file->f_mapping, iocb->ki_pos,
					   iocb->ki_pos + iov_iter_count(to) - 1);
	if (err)
		return err;
	buf = kvmalloc(PVA_SF_IO_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (iov_iter_count(to)) {
		u32 want = min_t(size_t, iov_iter_count(to), PVA_SF_IO_MAX);

		n = pva_sf_read_at(inode, fh, iocb->ki_pos, buf, want);
		if (n <= 0) {
			if (n < 0 && !done)
				done = n;
			break;
		}
		if (copy_to_iter(buf, n, to) != n) {
			if (!done)
				done = -EFAULT;
			break;
		}
		iocb->ki_pos += n;
		done += n;
		if (n < want)
			break;	/* end of file */
	}
	kvfree(buf);
	return done;
}

static ssize_t pva_sf_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	int err;

	if (!iov_iter_count(to))
		return 0;
	if ((iocb->ki_flags & IOCB_DIRECT) ||
	    PVA_SF_SB(inode->i_sb)->cache == PVA_SF_CACHE_NONE)
		return pva_sf_read_direct(iocb, to);
	/* the size and cached pages may be stale: within the timeout */
	err = pva_sf_revalidate_attr(inode, false);
	if (err)
		return err;
	return generic_file_read_iter(iocb, to);
}

static ssize_t pva_sf_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct address_space *mapping = file->f_mapping;
	loff_t start, pos;
	ssize_t ret, n;
	void *buf;
	u64 fh;

	ret = pva_sf_file_fh(file, &fh);
	if (ret)
		return ret;
	buf = kvmalloc(PVA_SF_IO_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	inode_lock(inode);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out;
	start = pos = iocb->ki_pos;
	/* pages mmap dirtied in the range go first, or they would win */
	ret = filemap_write_and_wait_range(mapping, pos,
					   pos + iov_iter_count(from) - 1);
	if (ret)
		goto out;
	ret = 0;
	while (iov_iter_count(from)) {
		u32 want = min_t(size_t, iov_iter_count(from),
				 PVA_SF_WRITE_MAX);

		if (copy_from_iter(buf, want, from) != want) {
			iov_iter_revert(from, want);
			if (!ret)
				ret = -EFAULT;
			break;
		}
		n = pva_sf_write_at(inode, fh, pos, buf, want);
		if (n <= 0) {
			iov_iter_revert(from, want);
			if (!ret)
				ret = n ? n : -EIO;
			break;
		}
		iov_iter_revert(from, want - n);
		pos += n;
		ret += n;
	}
	if (pos > start) {
		/* the cached copies of what we wrote are stale now */
		invalidate_inode_pages2_range(mapping, start >> PAGE_SHIFT,
					      (pos - 1) >> PAGE_SHIFT);
		if (pos > i_size_read(inode)) {
			i_size_write(inode, pos);
			PVA_SF_I(inode)->host_size = pos;
		}
		WRITE_ONCE(PVA_SF_I(inode)->attr_expire, jiffies - 1);
		iocb->ki_pos = pos;
	}
out:
	inode_unlock(inode);
	kvfree(buf);
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

static loff_t pva_sf_llseek(struct file *file, loff_t offset, int whence)
{
	if (whence != SEEK_SET && whence != SEEK_CUR) {
		int err = pva_sf_revalidate_attr(file_inode(file), true);

		if (err)
			return err;
	}
	return generic_file_llseek(file, offset, whence);
}

const struct file_operations pva_sf_file_fops = {
	.open = pva_sf_open,
	.release = pva_sf_release,
	.flush = pva_sf_flush,
	.fsync = pva_sf_fsync,
	.llseek = pva_sf_llseek,
	.read_iter = pva_sf_read_iter,
	.write_iter = pva_sf_write_iter,
	.mmap = generic_file_mmap,
	.lock = pva_sf_lock,
};

/* ---- the page cache ---- */

static int pva_sf_read_folio(struct file *file, struct folio *folio)
{
	struct inode *inode = folio->mapping->host;
	void *addr;
	ssize_t n;
	u64 fh;
	int err;

	err = pva_sf_io_fh(inode, false, &fh);
	if (err)
		goto out;
	addr = kmap_local_folio(folio, 0);
	n = pva_sf_read_at(inode, fh, folio_pos(folio), addr, PAGE_SIZE);
	if (n >= 0 && n < PAGE_SIZE)
		memset(addr + n, 0, PAGE_SIZE - n);
	kunmap_local(addr);
	if (n < 0) {
		err = n;
		goto out;
	}
	folio_mark_uptodate(folio);
out:
	folio_unlock(folio);
	return err;
}

/* Readahead in requests of up to 64 KiB, into a bounce buffer. */
static void pva_sf_readahead(struct readahead_control *rac)
{
	struct inode *inode = rac->mapping->host;
	struct folio *batch[PVA_SF_RA_PAGES];
	unsigned int n = 0, i;
	void *buf = NULL;
	ssize_t got;
	u64 fh;

	if (pva_sf_io_fh(inode, false, &fh))
		return;		/* the pages stay !uptodate: read_folio */
	buf = kvmalloc(PVA_SF_IO_MAX, GFP_KERNEL);
	for (;;) {
		struct folio *folio = buf ? readahead_folio(rac) : NULL;

		if (folio && (n == 0 ||
			      folio->index == batch[n - 1]->index + 1) &&
		    folio_size(folio) == PAGE_SIZE && n < PVA_SF_RA_PAGES) {
			batch[n++] = folio;
			continue;
		}
		if (n) {
			got = pva_sf_read_at(inode, fh, folio_pos(batch[0]), buf,
					     n * PAGE_SIZE);
			for (i = 0; i < n; i++) {
				if (got >= 0) {
					size_t off = i * PAGE_SIZE;
					size_t have = got > off ?
						min_t(size_t, got - off, PAGE_SIZE) : 0;
					void *addr = kmap_local_folio(batch[i], 0);

					memcpy(addr, buf + off, have);
					memset(addr + have, 0, PAGE_SIZE - have);
					kunmap_local(addr);
					folio_mark_uptodate(batch[i]);
				}
				folio_unlock(batch[i]);
			}
			n = 0;
		}
		if (!folio)
			break;
		batch[n++] = folio;	/* starts the next batch */
	}
	kvfree(buf);
}

/* Write one dirty folio to the host (the folio is locked). */
static int pva_sf_write_folio(struct folio *folio, struct writeback_control *wbc,
			      void *data)
{
	struct inode *inode = folio->mapping->host;
	loff_t pos = folio_pos(folio), size = i_size_read(inode);
	size_t len;
	void *addr;
	ssize_t n;
	u64 fh;
	int err;

	if (pos >= size) {	/* truncated meanwhile */
		folio_unlock(folio);
		return 0;
	}
	len = min_t(loff_t, folio_size(folio), size - pos);
	err = pva_sf_io_fh(inode, true, &fh);
	folio_start_writeback(folio);
	folio_unlock(folio);
	if (!err) {
		addr = kmap_local_folio(folio, 0);
		n = pva_sf_write_at(inode, fh, pos, addr, len);
		kunmap_local(addr);
		err = n < 0 ? n : n != len ? -EIO : 0;
	}
	if (err) {
		/* reported by the next fsync, msync or close */
		mapping_set_error(folio->mapping, err);
		pr_warn_ratelimited("writeback of %lu bytes at %lld failed: %d\n",
				    (unsigned long)len, pos, err);
	}
	folio_end_writeback(folio);
	return err;
}

static int pva_sf_writepages(struct address_space *mapping,
			     struct writeback_control *wbc)
{
	return pva_write_folios(mapping, wbc, pva_sf_write_folio, NULL);
}

/* A dirty folio about to be dropped from the cache: write it first. */
static int pva_sf_launder_folio(struct folio *folio)
{
	struct inode *inode = folio->mapping->host;
	loff_t pos = folio_pos(folio), size = i_size_read(inode);
	void *addr;
	ssize_t n;
	u64 fh;
	int err;

	if (!folio_clear_dirty_for_io(folio) || pos >= size)
		return 0;
	err = pva_sf_io_fh(inode, true, &fh);
	if (err)
		return err;
	addr = kmap_local_folio(folio, 0);
	n = pva_sf_write_at(inode, fh, pos, addr,
			    min_t(loff_t, folio_size(folio), size - pos));
	kunmap_local(addr);
	return n < 0 ? n : 0;
}

const struct address_space_operations pva_sf_aops = {
	.read_folio = pva_sf_read_folio,
	.readahead = pva_sf_readahead,
	.writepages = pva_sf_writepages,
	.dirty_folio = filemap_dirty_folio,
	.launder_folio = pva_sf_launder_folio,
	.direct_IO = noop_direct_IO,
};
