// SPDX-License-Identifier: MIT
/*
 * Shared folders: the operations of PROTOCOL.md 6.6. Every handler gets
 * a request whose mount exists (sf.c), checks its own fields and names,
 * and works only through descriptors of nodes: *at() calls on a directory
 * node with one checked name and O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, or the
 * node's inode itself (AT_EMPTY_PATH, /proc/self/fd/N for regular files
 * and directories only). No path is ever walked and no symlink followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sf_int.h"

#define ALIGN8(x)	(((x) + 7u) & ~7u)
#define NS_PER_S	1000000000u

/* ---- parsing ---- */

/* The request's fixed struct: it must be there, in full. */
static int take(struct sf_call *c, void *s, size_t size)
{
	if (c->len < size)
		return sf_malformed(c, "payload shorter than its struct");
	memcpy(s, c->p, size);
	return 0;
}

/* Nothing may follow what the request carries. */
static int ends_at(struct sf_call *c, uint64_t total)
{
	return total == c->len ? 0 :
	       sf_malformed(c, "payload size does not match its fields");
}

/* A request that is its fixed struct and nothing more. */
static int take_all(struct sf_call *c, void *s, size_t size)
{
	int err = take(c, s, size);

	return err ? err : ends_at(c, size);
}

/* A name of a directory entry at @off, copied NUL-terminated to @slot. */
static int take_name(struct sf_call *c, int slot, uint32_t off, uint32_t len)
{
	const char *s = (const char *)c->p + off;

	if (!len)
		return sf_malformed(c, "empty name");
	if (len > PVA_SF_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(s, '/', len) || memchr(s, 0, len))
		return sf_malformed(c, "'/' or NUL in a name");
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return sf_malformed(c, "'.' or '..' as a name");
	memcpy(c->name[slot], s, len);
	c->name[slot][len] = 0;
	return 0;
}

static int node_of(struct sf_call *c, uint64_t id, struct sf_node **n)
{
	*n = sf_node_find(c->sf, c->m, id);
	if (*n)
		return 0;
	c->sf->stale++;
	return -ESTALE;
}

static int dir_of(struct sf_call *c, uint64_t id, struct sf_node **n)
{
	int err = node_of(c, id, n);

	return err ? err : (*n)->type == S_IFDIR ? 0 : -ENOTDIR;
}

static int fh_of(struct sf_call *c, uint64_t fh, struct sf_handle **h)
{
	*h = sf_handle_find(c->sf, c->m, fh);
	return *h ? 0 : -EBADF;
}

static int stat_node(struct sf_node *n, struct stat *st)
{
	return fstatat(n->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ?
	       -errno : 0;
}

/* Regular files and directories may be reached through their magic link. */
static bool reopenable(const struct sf_node *n)
{
	return n->type == S_IFREG || n->type == S_IFDIR;
}

void sf_fill_attr(struct pva_sf_attr *a, const struct stat *st)
{
	memset(a, 0, sizeof(*a));
	a->ino = pva_cpu64(st->st_ino);
	a->size = pva_cpu64((uint64_t)st->st_size);
	a->blocks = pva_cpu64((uint64_t)st->st_blocks);
	a->atime = pva_cpu64((uint64_t)st->st_atim.tv_sec);
	a->mtime = pva_cpu64((uint64_t)st->st_mtim.tv_sec);
	a->ctime = pva_cpu64((uint64_t)st->st_ctim.tv_sec);
	a->atime_ns = pva_cpu32((uint32_t)st->st_atim.tv_nsec);
	a->mtime_ns = pva_cpu32((uint32_t)st->st_mtim.tv_nsec);
	a->ctime_ns = pva_cpu32((uint32_t)st->st_ctim.tv_nsec);
	a->mode = pva_cpu32(st->st_mode);
	a->nlink = pva_cpu32((uint32_t)st->st_nlink);
	a->uid = pva_cpu32(st->st_uid);
	a->gid = pva_cpu32(st->st_gid);
	a->rdev = pva_cpu32((uint32_t)st->st_rdev);
	a->blksize = pva_cpu32((uint32_t)st->st_blksize);
}

static void fill_entry(struct sf_call *c, struct pva_sf_entry *e,
		       const struct sf_node *n, const struct stat *st)
{
	e->node = pva_cpu64(n->id);
	e->generation = pva_cpu64(c->sf->epoch);
	sf_fill_attr(&e->attr, st);
}

/* Answer @n's entry (after a lookup or a creation). */
static void entry_out(struct sf_call *c, const struct sf_node *n,
		      const struct stat *st)
{
	struct pva_sf_entry e;

	fill_entry(c, &e, n, st);
	memcpy(c->out, &e, sizeof(e));
	c->out_len = sizeof(e);
}

/*
 * The node for @name in @dir, counted as one lookup. O_PATH|O_NOFOLLOW:
 * a symlink is the node itself, never what it points to.
 */
static int child_node(struct sf_call *c, struct sf_node *dir,
		      const char *name, struct sf_node **n, struct stat *st)
{
	int fd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = sf_node_get(c->sf, c->m, fd, st, n);
	if (!err)
		(*n)->nlookup++;
	return err;
}

/* The guest's owner for what it created (only root can give it). */
static void set_owner(struct sf_call *c, int fd, uint32_t uid, uint32_t gid)
{
	if (c->sf->root)
		(void)!fchownat(fd, "", uid, gid,
				AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}

/* After MKDIR, MKNOD, SYMLINK: the new node, its owner, the answer. */
static int made(struct sf_call *c, struct sf_node *dir, uint32_t uid,
		uint32_t gid)
{
	struct sf_node *n;
	struct stat st;
	int fd, err;

	sf_expect_name(c, dir, c->name[0]);
	fd = openat(dir->fd, c->name[0], O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	set_owner(c, fd, uid, gid);
	if (fstat(fd, &st) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = sf_node_get(c->sf, c->m, fd, &st, &n);
	if (err)
		return err;
	n->nlookup++;
	entry_out(c, n, &st);
	return 0;
}

/* ---- shares and mounts ---- */

static int op_shares(struct sf_call *c)
{
	if (c->len != sizeof(struct pva_sf_req))
		return sf_malformed(c, "SHARES carries nothing");
	for (struct sf_share *s = c->sf->shares; s; s = s->next) {
		uint32_t n = (uint32_t)strlen(s->name) + 1;

		if (c->out_len + n > c->out_max)
			break;
		memcpy(c->out + c->out_len, s->name, n);
		c->out_len += n;
	}
	return 0;
}

static int op_mount(struct sf_call *c)
{
	struct pva_sf_mount rq;
	struct pva_sf_mount_out out = { 0 };
	struct sf_share *share;
	struct sf_mount *m;
	struct stat st;
	uint32_t nl, flags;
	int fd, err;

	if ((err = take(c, &rq, sizeof(rq))))
		return err;
	nl = pva_le32(rq.name_len);
	flags = pva_le32(rq.flags);
	if ((err = ends_at(c, sizeof(rq) + (uint64_t)nl)))
		return err;
	if (flags & ~PVA_SF_MOUNT_RO)
		return sf_malformed(c, "unknown mount flags");
	share = sf_share_find(c->sf, (const char *)c->p + sizeof(rq), nl);
	if (!share)
		return -ENOENT;
	fd = open(share->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = sf_mount_new(c->sf, share, share->ro || (flags & PVA_SF_MOUNT_RO),
			   fd, &st, &m);
	if (err)
		return err;
	out.mount = pva_cpu32(m->id);
	out.flags = pva_cpu32(share->ro ? PVA_SF_MOUNT_RO : 0);
	out.root = pva_cpu64(PVA_SF_ROOT_NODE);
	sf_fill_attr(&out.attr, &st);
	memcpy(c->out, &out, sizeof(out));
	c->out_len = sizeof(out);
	return 0;
}

static int op_unmount(struct sf_call *c)
{
	struct pva_sf_node rq;
	int err;

	if ((err = take_all(c, &rq, sizeof(rq))))
		return err;
	sf_mount_free(c->sf, c->m);
	c->m = NULL;
	return 0;
}

/* ---- nodes ---- */

static int op_lookup(struct sf_call *c)
{
	struct pva_sf_name rq;
	struct sf_node *dir, *n;
	struct stat st;
	uint32_t nl;
	int err;

	if ((err = take(c, &rq, sizeof(rq))))
		return err;
	nl = pva_le32(rq.name_len);
	if ((err = ends_at(c, sizeof(rq) + (uint64_t)nl)) ||
	    (err = take_name(c, 0, sizeof(rq), nl)) ||
	    (err = dir_of(c, pva_le64(rq.parent), &dir)) ||
	    (err = child_node(c, dir, c->name[0], &n, &st)))
		return err;
	entry_out(c, n, &st);
	return 0;
}

static int op_forget(struct sf_call *c)
{
	struct pva_sf_forget rq;
	uint32_t count;
	int err;

	if ((err = take(c, &rq, sizeof(rq))))
		return err;
	count = pva_le32(rq.count);
	if ((err = ends_at(c, sizeof(rq) + (uint64_t)count *
			   sizeof(struct pva_sf_forget_one))))
		return err;
	for (uint32_t i = 0; i < count; i++) {
		struct pva_sf_forget_one f;
		struct sf_node *n;

		memcpy(&f, c->p + sizeof(rq) + i * sizeof(f), sizeof(f));
		n = sf_node_find(c->sf, c->m, pva_le64(f.node));
		if (n)	/* an unknown node is harmless: nothing to drop */
			sf_node_put(c->sf, n, pva_le64(f.nlookup));
	}
	return 0;
}

static int op_getattr(struct sf_call *c)
{
	struct pva_sf_node rq;
	struct sf_node *n;
	struct stat st;
	int err;

	if ((err = take_all(c, &rq, sizeof(rq))) ||
	    (err = node_of(c, pva_le64(rq.node), &n)) ||
	    (err = stat_node(n, &st)))
		return err;
	sf_fill_attr((struct pva_sf_attr *)c->out, &st);
	c->out_len = sizeof(struct pva_sf_attr);
	return 0;
}

static int set_size(struct sf_call *c, struct sf_node *n,
		    const struct pva_sf_setattr *rq)
{
	uint64_t size = pva_le64(rq->size);
	char path[SF_PROC_PATH];
	struct sf_handle *h;
	int err;

	if (size > INT64_MAX)
		return -EFBIG;
	if (pva_le32(rq->valid) & PVA_SF_SET_FH) {
		if ((err = fh_of(c, pva_le64(rq->fh), &h)))
			return err;
		if (h->node != n)
			return sf_malformed(c, "SETATTR fh of another node");
		return ftruncate(h->fd, (off_t)size) ? -errno : 0;
	}
	if (n->type == S_IFDIR)
		return -EISDIR;
	if (n->type != S_IFREG)
		return -EINVAL;
	sf_proc_path(path, n->fd);
	return truncate(path, (off_t)size) ? -errno : 0;
}

static int set_times(struct sf_node *n, const struct pva_sf_setattr *rq)
{
	uint32_t valid = pva_le32(rq->valid);
	struct timespec ts[2] = {
		{ .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT },
	};

	if (valid & PVA_SF_SET_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (valid & PVA_SF_SET_ATIME)
		ts[0] = (struct timespec){ (time_t)pva_le64(rq->atime),
					   pva_le32(rq->atime_ns) };
	if (valid & PVA_SF_SET_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (valid & PVA_SF_SET_MTIME)
		ts[1] = (struct timespec){ (time_t)pva_le64(rq->mtime),
					   pva_le32(rq->mtime_ns) };
	/* AT_EMPTY_PATH: the node itself, even a symlink */
	return utimensat(n->fd, "", ts, AT_EMPTY_PATH) ? -errno : 0;
}

static int op_setattr(struct sf_call *c)
{
	struct pva_sf_setattr rq;
	struct sf_node *n;
	struct stat st;
	uint32_t valid;
	int err;

	if ((err = take_all(c, &rq, sizeof(rq))))
		return err;
	valid = pva_le32(rq.valid);
	if (valid & ~PVA_SF_SET_KNOWN)
		return sf_malformed(c, "unknown SETATTR bits");
	if (((valid & PVA_SF_SET_ATIME) && pva_le32(rq.atime_ns) >= NS_PER_S) ||
	    ((valid & PVA_SF_SET_MTIME) && pva_le32(rq.mtime_ns) >= NS_PER_S))
		return sf_malformed(c, "nanoseconds out of range");
	if ((err = node_of(c, pva_le64(rq.node), &n)))
		return err;
	sf_expect_inode(c, n->dev, n->ino);
	if (valid & PVA_SF_SET_SIZE && (err = set_size(c, n, &rq)))
		return err;
	if (valid & PVA_SF_SET_MODE) {
		char path[SF_PROC_PATH];

		if (!reopenable(n))	/* symlinks have no mode of their own */
			return -EPERM;
		sf_proc_path(path, n->fd);
		if (chmod(path, pva_le32(rq.mode) & 07777))
			return -errno;
	}
	if (valid & (PVA_SF_SET_UID | PVA_SF_SET_GID) &&
	    fchownat(n->fd, "", valid & PVA_SF_SET_UID ? pva_le32(rq.uid) :
		     (uid_t)-1, valid & PVA_SF_SET_GID ? pva_le32(rq.gid) :
		     (gid_t)-1, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (valid & (PVA_SF_SET_ATIME | PVA_SF_SET_MTIME |
		     PVA_SF_SET_ATIME_NOW | PVA_SF_SET_MTIME_NOW) &&
	    (err = set_times(n, &rq)))
		return err;
	if ((err = stat_node(n, &st)))
		return err;
	sf_fill_attr((struct pva_sf_attr *)c->out, &st);
	c->out_len = sizeof(struct pva_sf_attr);
	return 0;
}

/* ---- open files ---- */

static int open_flags(struct sf_call *c, uint32_t flags, int *acc, int *of)
{
	if (flags & ~PVA_SF_O_KNOWN)
		return sf_malformed(c, "unknown open flags");
	switch (flags & PVA_SF_O_ACCMODE) {
	case PVA_SF_O_RDONLY:
		*acc = O_RDONLY;
		break;
	case PVA_SF_O_WRONLY:
		*acc = O_WRONLY;
		break;
	case PVA_SF_O_RDWR:
		*acc = O_RDWR;
		break;
	default:
		return sf_malformed(c, "bad access mode");
	}
	/* O_DIRECT is the guest's cache policy, not the host's */
	*of = *acc | O_CLOEXEC | O_NOCTTY |
	      (flags & PVA_SF_O_APPEND ? O_APPEND : 0) |
	      (flags & PVA_SF_O_TRUNC ? O_TRUNC : 0);
	return 0;
}

static int op_open(struct sf_call *c)
{
	struct pva_sf_open rq;
	struct pva_sf_open_out out;
	char path[SF_PROC_PATH];
	struct sf_handle *h;
	struct sf_node *n;
	uint32_t flags;
	int acc, of, fd, err;

	if ((err = take_all(c, &rq, sizeof(rq))))
		return err;
	flags = pva_le32(rq.flags);
	if ((err = open_flags(c, flags, &acc, &of)) ||
	    (err = node_of(c, pva_le64(rq.node), &n)))
		return err;
	if ((acc != O_RDONLY || (flags & PVA_SF_O_TRUNC)) && c->m->ro) {
		c->sf->erofs++;
		return -EROFS;
	}
	switch (n->type) {
	case S_IFDIR:
		if (acc != O_RDONLY || (flags & PVA_SF_O_TRUNC))
			return -EISDIR;
		of |= O_DIRECTORY;
		break;
	case S_IFREG:
		if (flags & PVA_SF_O_DIRECTORY)
			return -ENOTDIR;
		break;
	case S_IFLNK:
		return -ELOOP;
	default:	/* no host FIFOs, sockets or devices for the guest */
		return -ENXIO;
	}
	if ((err = sf_room_for_handle(c->sf)))
		return err;
	if (flags & PVA_SF_O_TRUNC)
		sf_expect_inode(c, n->dev, n->ino);
	sf_proc_path(path, n->fd);
	fd = open(path, of);
	if (fd < 0)
		return -errno;
	if ((err = sf_handle_new(c->sf, n, fd, acc, &h)))
		return err;
	out.fh = pva_cpu64(h->fh);
	memcpy(c->out, &out, sizeof(out));
	c->out_len = sizeof(out);
	return 0;
}

/* Open @name in @dir that exists already, as CREATE without EXCL does. */
static int open_existing(struct sf_node *dir, const char *name, int of)
{
	struct stat st;
	int fd;

	if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -ENXIO;
	fd = openat(dir->fd, name, of | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {	/* swapped meanwhile */
		close(fd);
		return -ENXIO;
	}
	return fd;
}

static int op_create(struct sf_call *c)
{
	struct pva_sf_create rq;
	struct pva_sf_create_out out = { 0 };
	char path[SF_PROC_PATH];
	struct sf_node *dir, *n;
	struct sf_handle *h;
	struct stat st;
	uint32_t flags, nl, mode;
	int acc, of, fd, pfd, err;

	if ((err = take(c, &rq, sizeof(rq))))
		return err;
	nl = pva_le32(rq.name_len);
	flags = pva_le32(rq.flags);
	mode = pva_le32(rq.mode);
	if ((err = ends_at(c, sizeof(rq) + (uint64_t)nl)) ||
	    (err = take_name(c, 0, sizeof(rq), nl)) ||
	    (err = open_flags(c, flags, &acc, &of)))
		return err;
	if ((mode & S_IFMT) && (mode & S_IFMT) != S_IFREG)
		return sf_malformed(c, "CREATE of something not a file");
	if ((err = dir_of(c, pva_le64(rq.parent), &dir)) ||
	    (err = sf_room_for_node(c->sf)) ||
	    (err = sf_room_for_handle(c->sf)))
		return err;
	sf_expect_name(c, dir, c->name[0]);
	mode_t old = umask(0);	/* the guest applied its own */

	fd = openat(dir->fd, c->name[0], of | O_CREAT | O_EXCL | O_NOFOLLOW,
		    mode & 07777);
	umask(old);
	if (fd >= 0)
		set_owner(c, fd, pva_le32(rq.uid), pva_le32(rq.gid));
	else if (errno == EEXIST && !(flags & PVA_SF_O_EXCL))
		fd = open_existing(dir, c->name[0], of);
	else
		fd = -errno;
	if (fd < 0)
		return fd;
	/* the node is the inode we opened, whatever the name is now */
	sf_proc_path(path, fd);
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0 || fstat(pfd, &st) < 0) {
		err = -errno;
		if (pfd >= 0)
			close(pfd);
		close(fd);
		return err;
	}
	sf_expect_inode(c, st.st_dev, st.st_ino);
	if ((err = sf_node_get(c->sf, c->m, pfd, &st, &n))) {
		close(fd);
		return err;
	}
	n->nlookup++;
	if ((err = sf_handle_new(c->sf, n, fd, acc, &h))) {
		sf_node_put(c->sf, n, 1);
		return err;
	}
	fill_entry(c, &out.entry, n, &st);
	out.fh = pva_cpu64(h->fh);
	memcpy(c->out, &out, sizeof(out));
	c->out_len = sizeof(out);
	return 0;
}

static int op_release(struct sf_call *c)
{
	struct pva_sf_fh rq;
	struct sf_handle *h;
	int err;

	if ((err = take_all(c, &rq, sizeof(rq))) ||
	    (err = fh_of(c, pva_le64(rq.fh), &h)))
		return err;
	sf_handle_free(c->sf, h);
	return 0;
}

static int io_args(struct sf_call *c, struct pva_sf_io *rq,
		   struct sf_handle **h)
{
	uint64_t off;
	int err;

	if ((err = take(c, rq, sizeof(*rq))))
		return err;
	off = pva_le64(rq->offset);
	if (pva_le32(rq->size) > PVA_SF_IO_MAX)
		return sf_malformed(c, "I/O larger than PVA_SF_IO_MAX");
	if (off > INT64_MAX || off + pva_le32(rq->size) > INT64_MAX)
		return -EFBIG;
	if ((err = fh_of(c, pva_le64(rq->fh), h)))
		return err;
	return (*h)->node->type == S_IFDIR ? -EISDIR : 0;
}

static int op_read(struct sf_call *c)
{
	struct sf_handle *h;
	struct pva_sf_io rq;
	uint32_t want, got = 0;
	int err;

	if ((err = io_args(c, &rq, &h)) || (err = ends_at(c, sizeof(rq))))
		return err;
	if (h->accmode == O_WRONLY)
		return -EBADF;
	want = pva_le32(rq.size);
	if (want > c->out_max)
		want = c->out_max;
	while (got < want) {
		ssize_t r = pread(h->fd, c->out + got, want - got,
				  (off_t)(pva_le64(rq.offset) + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && !got)
			return -errno;
		if (r <= 0)
			break;
		got += (uint32_t)r;
	}
	c->out_len = got;
	return 0;
}

static int op_write(struct sf_call *c)
{
	struct pva_sf_written out = { 0 };
	struct sf_handle *h;
	struct pva_sf_io rq;
	uint32_t want, done = 0;
	int err;

	if ((err = io_args(c, &rq, &h)) ||
	    (err = ends_at(c, sizeof(rq) + (uint64_t)pva_le32(rq.size))))
		return err;
	if (h->accmode == O_RDONLY)
		return -EBADF;
	want = pva_le32(rq.size);
	sf_expect_inode(c, h->node->dev, h->node->ino);
	while (done < want) {
		ssize_t r = pwrite(h->fd, c->p + sizeof(rq) + done, want - done,
				   (off_t)(pva_le64(rq.offset) + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && !done)
			return -errno;
		if (r <= 0)
			break;
		done += (uint32_t)r;
	}
	out.size = pva_cpu32(done);
	memcpy(c->out, &out, sizeof(out));
	c->out_len = sizeof(out);
	return 0;
}

static int op_fsync(struct sf_call *c)
{
	struct pva_sf_fsync rq;
	struct sf_handle *h;
	int err;

	if ((err = take_all(c, &rq, sizeof(rq))) ||
	    (err = fh_of(c, pva_le64(rq.fh), &h)))
		return err;
	err = pva_le32(rq.datasync) ? fdatasync(h->fd) : fsync(h->fd);
	return err ? -errno : 0;
}

/* ---- directories ---- */

/*
 * Entries after @cookie (the host file system's own d_off, which the
 * file systems keep valid while entries come and go), from a fresh
 * descriptor each time: no per-guest directory state to bound.
 */
/*
 * READDIR_PLUS: the entry of @name, counted as a lookup, written to @to;
 * node 0 (left zeroed) when there is none, e.g. at the node limit.
 */
static void plus_entry(struct sf_call *c, struct sf_node *dir,
		       const char *name, uint8_t *to)
{
	struct pva_sf_entry e = { 0 };
	struct sf_node *n;
	struct stat st;

	if (sf_room_for_node(c->sf) ||
	    child_node(c, dir, name, &n, &st))
		return;
	fill_entry(c, &e, n, &st);
	memcpy(to, &e, sizeof(e));
}

static int op_readdir(struct sf_call *c)
{
	char buf[32768] __attribute__((aligned(8)));
	struct pva_sf_readdir_out out = { 0 };
	struct pva_sf_readdir rq;
	struct sf_node *dir;
	uint32_t limit, used = sizeof(out), count = 0;
	bool full = false, eof = false, plus;
	uint64_t cookie;
	int fd, err = 0;

	if ((err = take_all(c, &rq, sizeof(rq))) ||
	    (err = dir_of(c, pva_le64(rq.node), &dir)))
		return err;
	cookie = pva_le64(rq.cookie);
	if (cookie > INT64_MAX)
		return -EINVAL;
	plus = pva_le32(rq.flags) & PVA_SF_READDIR_PLUS;
	if (pva_le32(rq.flags) & ~PVA_SF_READDIR_PLUS)
		return sf_malformed(c, "unknown READDIR flags");
	if (plus && !(c->sf->svc->ops->features & PVA_SF_F_READDIRPLUS))
		return -EOPNOTSUPP;
	limit = pva_le32(rq.max_bytes);
	if (limit > c->out_max - sizeof(out))
		limit = c->out_max - (uint32_t)sizeof(out);
	limit += sizeof(out);
	fd = openat(dir->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (cookie && lseek(fd, (off_t)cookie, SEEK_SET) < 0) {
		err = -errno;
		goto out;
	}
	while (!full) {
		ssize_t n = getdents64(fd, buf, sizeof(buf));

		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (!n) {
			eof = true;
			break;
		}
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			uint32_t nl = (uint32_t)strlen(d->d_name);
			uint32_t head = (uint32_t)sizeof(struct pva_sf_dirent) +
				(plus ? (uint32_t)sizeof(struct pva_sf_entry) : 0);
			uint32_t rec = ALIGN8(head + nl);
			struct pva_sf_dirent e;

			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (used + rec > limit) {
				full = true;
				break;
			}
			e.ino = pva_cpu64(d->d_ino);
			e.next = pva_cpu64((uint64_t)d->d_off);
			e.type = pva_cpu32(d->d_type);
			e.name_len = pva_cpu32(nl);
			memset(c->out + used, 0, rec);
			memcpy(c->out + used, &e, sizeof(e));
			if (plus)
				plus_entry(c, dir, d->d_name,
					   c->out + used + sizeof(e));
			memcpy(c->out + used + head, d->d_name, nl);
			used += rec;
			count++;
		}
	}
	if (!count && !eof) {
		err = -EINVAL;	/* not even one entry fits */
		goto out;
	}
	out.count = pva_cpu32(count);
	out.eof = pva_cpu32(eof);
	memcpy(c->out, &out, sizeof(out));
	c->out_len = used;
out:
	close(fd);
	return err;
}

/* MKDIR and MKNOD: pva_sf_create + name. */
static int create_args(struct sf_call *c, struct pva_sf_create *rq,
		       struct sf_node **dir)
{
	uint32_t nl;
	int err;

	if ((err = take(c, rq, sizeof(*rq))))
		return err;
	nl = pva_le32(rq->name_len);
	if ((err = ends_at(c, sizeof(*rq) + (uint64_t)nl)) ||
	    (err = take_name(c, 0, sizeof(*rq), nl)) ||
	    (err = dir_of(c, pva_le64(rq->parent), dir)))
		return err;
	return sf_room_for_node(c->sf);
}

static int op_mkdir(struct sf_call *c)
{
	struct pva_sf_create rq;
	struct sf_node *dir;
	int err;

	if ((err = create_args(c, &rq, &dir)))
		return err;
	/* the guest applied its umask already; pva-host's must not apply */
	mode_t old = umask(0);
	int r = mkdirat(dir->fd, c->name[0], pva_le32(rq.mode) & 07777);

	umask(old);
	if (r)
		return -errno;
	return made(c, dir, pva_le32(rq.uid), pva_le32(rq.gid));
}

static int op_mknod(struct sf_call *c)
{
	struct pva_sf_create rq;
	struct sf_node *dir;
	uint32_t mode;
	int err;

	if ((err = create_args(c, &rq, &dir)))
		return err;
	mode = pva_le32(rq.mode);
	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFCHR:
	case S_IFBLK:
		return -EPERM;	/* no devices on the host */
	default:
		return sf_malformed(c, "MKNOD of an unknown type");
	}
	mode_t old = umask(0);	/* the guest applied its own */
	int r = mknodat(dir->fd, c->name[0], mode & (S_IFMT | 07777), 0);

	umask(old);
	if (r)
		return -errno;
	return made(c, dir, pva_le32(rq.uid), pva_le32(rq.gid));
}

static int remove_name(struct sf_call *c, int flags)
{
	struct pva_sf_name rq;
	struct sf_node *dir;
	uint32_t nl;
	int err;

	if ((err = take(c, &rq, sizeof(rq))))
		return err;
	nl = pva_le32(rq.name_len);
	if ((err = ends_at(c, sizeof(rq) + (uint64_t)nl)) ||
	    (err = take_name(c, 0, sizeof(rq), nl)) ||
	    (err = dir_of(c, pva_le64(rq.parent), &dir)))
		return err;
	sf_expect_name(c, dir, c->name[0]);
	return unlinkat(dir->fd, c->name[0], flags) ? -errno : 0;
}

static int op_unlink(struct sf_call *c)
{
	return remove_name(c, 0);
}

static int op_rmdir(struct sf_call *c)
{
	return remove_name(c, AT_REMOVEDIR);
}

static int op_rename(struct sf_call *c)
{
	struct pva_sf_rename rq;
	struct sf_node *from, *to;
	uint32_t ol, nl, flags;
	unsigned int how = 0;
	int err;

	if ((err = take(c, &rq, sizeof(rq))))
		return err;
	ol = pva_le32(rq.old_len);
	nl = pva_le32(rq.new_len);
	flags = pva_le32(rq.flags);
	if ((err = ends_at(c, sizeof(rq) + (uint64_t)ol + nl)) ||
	    (err = take_name(c, 0, sizeof(rq), ol)) ||
	    (err = take_name(c, 1, sizeof(rq) + ol, nl)))
		return err;
	if (flags & ~(PVA_SF_RENAME_NOREPLACE | PVA_SF_RENAME_EXCHANGE) ||
	    flags == (PVA_SF_RENAME_NOREPLACE | PVA_SF_RENAME_EXCHANGE))
		return sf_malformed(c, "bad RENAME flags");
	if (flags & PVA_SF_RENAME_NOREPLACE)
		how = RENAME_NOREPLACE;
	if (flags & PVA_SF_RENAME_EXCHANGE)
		how = RENAME_EXCHANGE;
	if ((err = dir_of(c, pva_le64(rq.old_parent), &from)) ||
	    (err = dir_of(c, pva_le64(rq.new_parent), &to)))
		return err;
	sf_expect_name(c, from, c->name[0]);
	sf_expect_name(c, to, c->name[1]);
	return renameat2(from->fd, c->name[0], to->fd, c->name[1], how) ?
	       -errno : 0;
}

static int op_symlink(struct sf_call *c)
{
	struct pva_sf_symlink rq;
	char target[PVA_SF_PATH_MAX + 1];
	struct sf_node *dir;
	uint32_t nl, tl;
	int err;

	if ((err = take(c, &rq, sizeof(rq))))
		return err;
	nl = pva_le32(rq.name_len);
	tl = pva_le32(rq.target_len);
	if ((err = ends_at(c, sizeof(rq) + (uint64_t)nl + tl)) ||
	    (err = take_name(c, 0, sizeof(rq), nl)))
		return err;
	if (!tl || memchr(c->p + sizeof(rq) + nl, 0, tl))
		return sf_malformed(c, "empty symlink target or NUL in it");
	if (tl > PVA_SF_PATH_MAX)
		return -ENAMETOOLONG;
	if ((err = dir_of(c, pva_le64(rq.parent), &dir)) ||
	    (err = sf_room_for_node(c->sf)))
		return err;
	/* stored as is: the host never follows it */
	memcpy(target, c->p + sizeof(rq) + nl, tl);
	target[tl] = 0;
	if (symlinkat(target, dir->fd, c->name[0]))
		return -errno;
	return made(c, dir, pva_le32(rq.uid), pva_le32(rq.gid));
}

static int op_readlink(struct sf_call *c)
{
	struct pva_sf_node rq;
	struct sf_node *n;
	ssize_t r;
	int err;

	if ((err = take_all(c, &rq, sizeof(rq))) ||
	    (err = node_of(c, pva_le64(rq.node), &n)))
		return err;
	if (n->type != S_IFLNK)
		return -EINVAL;
	r = readlinkat(n->fd, "", (char *)c->out, c->out_max);
	if (r < 0)
		return -errno;
	c->out_len = (uint32_t)r;
	return 0;
}

static int op_link(struct sf_call *c)
{
	struct pva_sf_link rq;
	char path[SF_PROC_PATH];
	struct sf_node *n, *dir;
	struct stat st;
	uint32_t nl;
	int err;

	if ((err = take(c, &rq, sizeof(rq))))
		return err;
	nl = pva_le32(rq.name_len);
	if ((err = ends_at(c, sizeof(rq) + (uint64_t)nl)) ||
	    (err = take_name(c, 0, sizeof(rq), nl)) ||
	    (err = node_of(c, pva_le64(rq.node), &n)) ||
	    (err = dir_of(c, pva_le64(rq.new_parent), &dir)))
		return err;
	if (n->type == S_IFDIR)
		return -EPERM;
	sf_expect_name(c, dir, c->name[0]);
	sf_expect_inode(c, n->dev, n->ino);
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the magic link does not */
	if (linkat(n->fd, "", dir->fd, c->name[0], AT_EMPTY_PATH)) {
		if ((errno != ENOENT && errno != EPERM) || !reopenable(n))
			return -errno;
		sf_proc_path(path, n->fd);
		if (linkat(AT_FDCWD, path, dir->fd, c->name[0],
			   AT_SYMLINK_FOLLOW))
			return -errno;
	}
	if ((err = stat_node(n, &st)))
		return err;
	n->nlookup++;
	entry_out(c, n, &st);
	return 0;
}

static int op_statfs(struct sf_call *c)
{
	struct pva_sf_statfs out = { 0 };
	struct pva_sf_node rq;
	struct sf_node *n;
	struct statfs s;
	int err;

	if ((err = take_all(c, &rq, sizeof(rq))) ||
	    (err = node_of(c, pva_le64(rq.node), &n)))
		return err;
	if (fstatfs(n->fd, &s))
		return -errno;
	out.blocks = pva_cpu64(s.f_blocks);
	out.bfree = pva_cpu64(s.f_bfree);
	out.bavail = pva_cpu64(s.f_bavail);
	out.files = pva_cpu64(s.f_files);
	out.ffree = pva_cpu64(s.f_ffree);
	/* the block counts are in fragment units */
	out.bsize = pva_cpu32((uint32_t)(s.f_frsize ? s.f_frsize : s.f_bsize));
	out.namelen = pva_cpu32((uint32_t)s.f_namelen);
	memcpy(c->out, &out, sizeof(out));
	c->out_len = sizeof(out);
	return 0;
}

/* ---- extended attributes ---- */

/*
 * Only the user namespace and POSIX ACLs: trusted.* and security.* (file
 * capabilities, SELinux labels) of host files are not the guest's, even
 * when pva-host runs as root.
 */
static bool xattr_allowed(const char *name)
{
	return !strncmp(name, "user.", 5) ||
	       !strcmp(name, "system.posix_acl_access") ||
	       !strcmp(name, "system.posix_acl_default");
}

static int xattr_args(struct sf_call *c, struct pva_sf_xattr *rq,
		      struct sf_node **n, uint64_t value_len,
		      char path[SF_PROC_PATH])
{
	uint32_t nl;
	int err;

	if ((err = take(c, rq, sizeof(*rq))))
		return err;
	nl = pva_le32(rq->name_len);
	if ((err = ends_at(c, sizeof(*rq) + (uint64_t)nl + value_len)))
		return err;
	if (c->type != PVA_SF_LISTXATTR) {
		const char *s = (const char *)c->p + sizeof(*rq);

		if (!nl || memchr(s, 0, nl))
			return sf_malformed(c, "empty xattr name or NUL in it");
		if (nl > PVA_SF_XATTR_NAME_MAX)
			return -ERANGE;
		memcpy(c->name[0], s, nl);
		c->name[0][nl] = 0;
	} else if (nl) {
		return sf_malformed(c, "LISTXATTR carries no name");
	}
	if ((err = node_of(c, pva_le64(rq->node), n)))
		return err;
	/* symlinks, FIFOs and sockets: no user xattrs on Linux anyway */
	if (!reopenable(*n))
		return -EOPNOTSUPP;
	sf_proc_path(path, (*n)->fd);
	return 0;
}

/* A size-0 request asks for the length only. */
static void length_out(struct sf_call *c, uint32_t len)
{
	__le32 v = pva_cpu32(len);

	memcpy(c->out, &v, sizeof(v));
	c->out_len = sizeof(v);
}

static uint32_t room(struct sf_call *c, uint32_t size)
{
	return size < c->out_max ? size : c->out_max;
}

static int op_getxattr(struct sf_call *c)
{
	char path[SF_PROC_PATH];
	struct pva_sf_xattr rq;
	struct sf_node *n;
	uint32_t size;
	ssize_t r;
	int err;

	if ((err = xattr_args(c, &rq, &n, 0, path)))
		return err;
	if (!xattr_allowed(c->name[0]))
		return -ENODATA;
	size = pva_le32(rq.size);
	r = getxattr(path, c->name[0], size ? c->out : NULL,
		     size ? room(c, size) : 0);
	if (r < 0)
		return errno == E2BIG ? -ERANGE : -errno;
	if (!size)
		length_out(c, (uint32_t)r);
	else
		c->out_len = (uint32_t)r;
	return 0;
}

static int op_setxattr(struct sf_call *c)
{
	char path[SF_PROC_PATH];
	struct pva_sf_xattr rq;
	struct sf_node *n;
	uint32_t size, flags;
	int err;

	if ((err = take(c, &rq, sizeof(rq))))
		return err;
	size = pva_le32(rq.size);
	flags = pva_le32(rq.flags);
	if ((err = xattr_args(c, &rq, &n, size, path)))
		return err;
	if (size > PVA_SF_XATTR_SIZE_MAX)
		return -E2BIG;
	if (flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE) ||
	    flags == (XATTR_CREATE | XATTR_REPLACE))
		return sf_malformed(c, "bad SETXATTR flags");
	if (!xattr_allowed(c->name[0]))
		return -EPERM;
	sf_expect_inode(c, n->dev, n->ino);
	return setxattr(path, c->name[0],
			c->p + sizeof(rq) + pva_le32(rq.name_len), size,
			(int)flags) ? -errno : 0;
}

static int op_listxattr(struct sf_call *c)
{
	char path[SF_PROC_PATH];
	struct pva_sf_xattr rq;
	struct sf_node *n;
	uint32_t size, len = 0;
	char *all;
	ssize_t r;
	int err;

	if ((err = xattr_args(c, &rq, &n, 0, path)))
		return err;
	size = pva_le32(rq.size);
	all = malloc(PVA_MSG_MAX);
	if (!all)
		return -ENOMEM;
	r = listxattr(path, all, PVA_MSG_MAX);
	if (r < 0) {
		err = errno == E2BIG ? -ERANGE : -errno;
		goto out;
	}
	/* the names the guest may use, in place */
	for (ssize_t i = 0; i < r;) {
		size_t nl = strnlen(all + i, (size_t)(r - i));

		if (i + (ssize_t)nl < r && xattr_allowed(all + i)) {
			memmove(all + len, all + i, nl + 1);
			len += (uint32_t)nl + 1;
		}
		i += (ssize_t)nl + 1;
	}
	if (!size) {
		length_out(c, len);
	} else if (len > room(c, size)) {
		err = -ERANGE;
	} else {
		memcpy(c->out, all, len);
		c->out_len = len;
	}
out:
	free(all);
	return err;
}

static int op_removexattr(struct sf_call *c)
{
	char path[SF_PROC_PATH];
	struct pva_sf_xattr rq;
	struct sf_node *n;
	int err;

	if ((err = xattr_args(c, &rq, &n, 0, path)))
		return err;
	if (!xattr_allowed(c->name[0]))
		return -EPERM;
	sf_expect_inode(c, n->dev, n->ino);
	return removexattr(path, c->name[0]) ? -errno : 0;
}

/* ---- locks ---- */

/*
 * POSIX record locks by the guest's lock owner: each owner has its own
 * open file description on the host, and OFD locks on it conflict with
 * the other owners' (and with host processes') as POSIX locks would.
 */
static int op_lock(struct sf_call *c)
{
	static const short types[] = { F_RDLCK, F_WRLCK, F_UNLCK };
	struct pva_sf_lock rq;
	struct sf_handle *h;
	struct sf_owner *o;
	struct flock fl = { .l_whence = SEEK_SET };
	uint64_t start, end;
	uint32_t type, cmd;
	int fd, err;

	if ((err = take_all(c, &rq, sizeof(rq))))
		return err;
	type = pva_le32(rq.type);
	cmd = pva_le32(rq.cmd);
	start = pva_le64(rq.start);
	end = pva_le64(rq.end);
	if (type > 2 || cmd > PVA_SF_SETLK || start > end ||
	    start > INT64_MAX || (end != UINT64_MAX && end > INT64_MAX))
		return sf_malformed(c, "bad lock type, command or range");
	if ((err = fh_of(c, pva_le64(rq.fh), &h)))
		return err;
	if (h->node->type != S_IFREG)
		return -EINVAL;
	fl.l_type = types[type];
	fl.l_start = (off_t)start;
	fl.l_len = end == UINT64_MAX ? 0 : (off_t)(end - start + 1);
	o = sf_owner_find(h->node, pva_le64(rq.owner));
	if (!o && (cmd == PVA_SF_GETLK || fl.l_type == F_UNLCK)) {
		/* holds nothing: the handle tests as well as it would */
		fd = h->fd;
	} else {
		if (!o && (err = sf_owner_new(c->sf, h->node,
					      pva_le64(rq.owner), h->accmode,
					      &o)))
			return err;
		fd = o->fd;
		if ((fl.l_type == F_RDLCK && o->accmode == O_WRONLY) ||
		    (fl.l_type == F_WRLCK && o->accmode == O_RDONLY))
			return -EBADF;
	}
	if (cmd == PVA_SF_SETLK) {
		if (fl.l_type == F_UNLCK && fd == h->fd)
			return 0;
		return fcntl(fd, F_OFD_SETLK, &fl) ? -errno : 0;
	}
	if (fcntl(fd, F_OFD_GETLK, &fl))
		return -errno;
	rq.type = pva_cpu32(fl.l_type == F_RDLCK ? 0 : fl.l_type == F_WRLCK ? 1 : 2);
	if (fl.l_type != F_UNLCK) {
		rq.start = pva_cpu64((uint64_t)fl.l_start);
		rq.end = pva_cpu64(fl.l_len ? (uint64_t)(fl.l_start + fl.l_len - 1) :
				   UINT64_MAX);
	}
	rq.pid = 0;	/* the holder is not a guest process */
	memcpy(c->out, &rq, sizeof(rq));
	c->out_len = sizeof(rq);
	return 0;
}

/* ---- the table ---- */

#define OP(t, n, f, ch, ev, feat) \
	[t] = { .name = n, .fn = f, .changes = ch, .event_ok = ev, .feature = feat }

static const struct sf_op ops[SF_NR_OPS] = {
	OP(PVA_SF_SHARES, "shares", op_shares, false, false, 0),
	OP(PVA_SF_MOUNT, "mount", op_mount, false, false, 0),
	OP(PVA_SF_UNMOUNT, "unmount", op_unmount, false, false, 0),
	OP(PVA_SF_LOOKUP, "lookup", op_lookup, false, false, 0),
	OP(PVA_SF_FORGET, "forget", op_forget, false, true, 0),
	OP(PVA_SF_GETATTR, "getattr", op_getattr, false, false, 0),
	OP(PVA_SF_SETATTR, "setattr", op_setattr, true, false, 0),
	OP(PVA_SF_OPEN, "open", op_open, false, false, 0),
	OP(PVA_SF_CREATE, "create", op_create, true, false, 0),
	OP(PVA_SF_RELEASE, "release", op_release, false, true, 0),
	OP(PVA_SF_READ, "read", op_read, false, false, 0),
	OP(PVA_SF_WRITE, "write", op_write, true, false, 0),
	OP(PVA_SF_READDIR, "readdir", op_readdir, false, false, 0),
	OP(PVA_SF_MKDIR, "mkdir", op_mkdir, true, false, 0),
	OP(PVA_SF_MKNOD, "mknod", op_mknod, true, false, 0),
	OP(PVA_SF_UNLINK, "unlink", op_unlink, true, false, 0),
	OP(PVA_SF_RMDIR, "rmdir", op_rmdir, true, false, 0),
	OP(PVA_SF_RENAME, "rename", op_rename, true, false, 0),
	OP(PVA_SF_SYMLINK, "symlink", op_symlink, true, false, 0),
	OP(PVA_SF_READLINK, "readlink", op_readlink, false, false, 0),
	OP(PVA_SF_LINK, "link", op_link, true, false, 0),
	OP(PVA_SF_STATFS, "statfs", op_statfs, false, false, 0),
	OP(PVA_SF_FSYNC, "fsync", op_fsync, false, false, 0),
	OP(PVA_SF_GETXATTR, "getxattr", op_getxattr, false, false, PVA_SF_F_XATTR),
	OP(PVA_SF_SETXATTR, "setxattr", op_setxattr, true, false, PVA_SF_F_XATTR),
	OP(PVA_SF_LISTXATTR, "listxattr", op_listxattr, false, false, PVA_SF_F_XATTR),
	OP(PVA_SF_REMOVEXATTR, "removexattr", op_removexattr, true, false, PVA_SF_F_XATTR),
	OP(PVA_SF_LOCK, "lock", op_lock, false, false, PVA_SF_F_LOCKS),
};

const struct sf_op *sf_op_find(uint16_t type)
{
	return type < SF_NR_OPS && ops[type].fn ? &ops[type] : NULL;
}

uint32_t sf_answer_max(struct sf_call *c)
{
	uint32_t need = sizeof(struct pva_sf_create_out);	/* the largest struct */
	uint32_t size;

	switch (c->type) {
	case PVA_SF_SHARES:
		need = 0;
		for (struct sf_share *s = c->sf->shares; s; s = s->next)
			need += (uint32_t)strlen(s->name) + 1;
		break;
	case PVA_SF_READ:
		if (c->len >= sizeof(struct pva_sf_io)) {
			memcpy(&size, c->p + offsetof(struct pva_sf_io, size), 4);
			need = pva_le32(size);
		}
		break;
	case PVA_SF_READDIR:
		if (c->len >= sizeof(struct pva_sf_readdir)) {
			memcpy(&size, c->p + offsetof(struct pva_sf_readdir, max_bytes), 4);
			need = pva_le32(size) + (uint32_t)sizeof(struct pva_sf_readdir_out);
			if (need < pva_le32(size))
				need = UINT32_MAX;
		}
		break;
	case PVA_SF_GETXATTR:
	case PVA_SF_LISTXATTR:
		if (c->len >= sizeof(struct pva_sf_xattr)) {
			memcpy(&size, c->p + offsetof(struct pva_sf_xattr, size), 4);
			need = pva_le32(size) > need ? pva_le32(size) : need;
		}
		break;
	case PVA_SF_READLINK:
		need = PVA_SF_PATH_MAX;
		break;
	}
	return need < c->out_max ? need : c->out_max;
}
