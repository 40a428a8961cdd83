// SPDX-License-Identifier: MIT
/*
 * Shared folders: the guest's mounts, nodes, handles and lock owners, in
 * bounded hash tables. Node ids are per mount (the root is always
 * PVA_SF_ROOT_NODE) from a 64-bit counter, never reused; one host inode
 * is one node per mount while the guest holds it (hard links share it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sf_int.h"

static unsigned int hash64(uint64_t v, unsigned int buckets)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	return (unsigned int)(v & (buckets - 1));
}

static unsigned int id_bucket(uint32_t mount, uint64_t id)
{
	return hash64(id * 0x9e3779b97f4a7c15ull + mount, SF_NODE_HASH);
}

static unsigned int ino_bucket(uint32_t mount, dev_t dev, ino_t ino)
{
	return hash64((uint64_t)ino * 0x9e3779b97f4a7c15ull ^
		      ((uint64_t)dev << 17) ^ mount, SF_NODE_HASH);
}

void sf_tables_init(struct sf *sf)
{
	sf->max_nodes = SF_MAX_NODES;
	sf->max_handles = SF_MAX_HANDLES;
}

void sf_proc_path(char buf[SF_PROC_PATH], int fd)
{
	snprintf(buf, SF_PROC_PATH, "/proc/self/fd/%d", fd);
}

/* Every node, handle and owner is a descriptor: stay within the budget. */
static bool fds_left(struct sf *sf)
{
	return sf->nnodes + sf->nhandles + sf->nowners < sf->fd_budget;
}

int sf_room_for_node(struct sf *sf)
{
	return sf->nnodes < sf->max_nodes && fds_left(sf) ? 0 : -EMFILE;
}

int sf_room_for_handle(struct sf *sf)
{
	return sf->nhandles < sf->max_handles && fds_left(sf) ? 0 : -EMFILE;
}

/* ---- mounts ---- */

struct sf_mount *sf_mount_find(struct sf *sf, uint32_t id)
{
	struct sf_mount *m;

	for (m = sf->mounts; m; m = m->next)
		if (m->id == id)
			return m;
	return NULL;
}

static void node_insert(struct sf *sf, struct sf_node *n)
{
	struct sf_mount *m = n->m;
	unsigned int b = id_bucket(m->id, n->id);

	n->id_next = sf->by_id[b];
	sf->by_id[b] = n;
	b = ino_bucket(m->id, n->dev, n->ino);
	n->ino_next = sf->by_ino[b];
	sf->by_ino[b] = n;
	n->mnext = m->nodes;
	if (m->nodes)
		m->nodes->mprev = n;
	m->nodes = n;
	m->nnodes++;
	sf->nnodes++;
	sf_watch_add(sf, n);
}

static struct sf_node *node_alloc(struct sf_mount *m, uint64_t id, int fd,
				  const struct stat *st)
{
	struct sf_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->id = id;
	n->m = m;
	n->fd = fd;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->type = st->st_mode & S_IFMT;
	return n;
}

/* A new mount of @share whose root directory is @fd (taken over). */
int sf_mount_new(struct sf *sf, struct sf_share *share, bool ro, int fd,
		 const struct stat *st, struct sf_mount **out)
{
	struct sf_mount *m;
	int err;

	if (sf->nmounts >= SF_MAX_MOUNTS) {
		err = -EMFILE;
		goto fail;
	}
	err = sf_room_for_node(sf);
	if (err)
		goto fail;
	m = calloc(1, sizeof(*m));
	if (!m) {
		err = -ENOMEM;
		goto fail;
	}
	/* mount ids are not reused while pva-host runs (0 is "none") */
	do {
		m->id = ++sf->next_mount;
	} while (!m->id || sf_mount_find(sf, m->id));
	m->share = share;
	m->ro = ro;
	m->next_node = PVA_SF_ROOT_NODE + 1;
	m->root = node_alloc(m, PVA_SF_ROOT_NODE, fd, st);
	if (!m->root) {
		free(m);
		err = -ENOMEM;
		goto fail;
	}
	m->root->nlookup = 1;
	m->next = sf->mounts;
	sf->mounts = m;
	sf->nmounts++;
	share->mounts++;
	node_insert(sf, m->root);
	*out = m;
	return 0;
fail:
	close(fd);
	return err;
}

static void node_free(struct sf *sf, struct sf_node *n)
{
	struct sf_mount *m = n->m;
	struct sf_node **pp;

	for (pp = &sf->by_id[id_bucket(m->id, n->id)]; *pp != n;
	     pp = &(*pp)->id_next)
		;
	*pp = n->id_next;
	for (pp = &sf->by_ino[ino_bucket(m->id, n->dev, n->ino)]; *pp != n;
	     pp = &(*pp)->ino_next)
		;
	*pp = n->ino_next;
	if (n->mprev)
		n->mprev->mnext = n->mnext;
	else
		m->nodes = n->mnext;
	if (n->mnext)
		n->mnext->mprev = n->mprev;
	sf_watch_del(sf, n);
	while (n->owners)
		sf_owner_free(sf, n, n->owners);
	close(n->fd);
	m->nnodes--;
	sf->nnodes--;
	free(n);
}

void sf_mount_free(struct sf *sf, struct sf_mount *m)
{
	struct sf_mount **pp;

	while (m->handles)
		sf_handle_free(sf, m->handles);
	while (m->nodes)
		node_free(sf, m->nodes);
	for (pp = &sf->mounts; *pp != m; pp = &(*pp)->next)
		;
	*pp = m->next;
	sf->nmounts--;
	m->share->mounts--;
	free(m);
}

void sf_mounts_free(struct sf *sf)
{
	while (sf->mounts)
		sf_mount_free(sf, sf->mounts);
}

/* ---- nodes ---- */

struct sf_node *sf_node_find(struct sf *sf, struct sf_mount *m, uint64_t id)
{
	struct sf_node *n;

	for (n = sf->by_id[id_bucket(m->id, id)]; n; n = n->id_next)
		if (n->id == id && n->m == m)
			return n;
	return NULL;
}

/*
 * The node for the inode @fd (O_PATH) refers to, with stat @st: the
 * existing one (and @fd is closed), or a new one holding @fd. The caller
 * counts the lookup.
 */
int sf_node_get(struct sf *sf, struct sf_mount *m, int fd,
		const struct stat *st, struct sf_node **out)
{
	struct sf_node *n;
	int err;

	for (n = sf->by_ino[ino_bucket(m->id, st->st_dev, st->st_ino)]; n;
	     n = n->ino_next) {
		if (n->m == m && n->dev == st->st_dev && n->ino == st->st_ino) {
			close(fd);
			*out = n;
			return 0;
		}
	}
	err = sf_room_for_node(sf);
	if (err) {
		close(fd);
		return err;
	}
	n = node_alloc(m, m->next_node, fd, st);
	if (!n) {
		close(fd);
		return -ENOMEM;
	}
	m->next_node++;
	node_insert(sf, n);
	*out = n;
	return 0;
}

/* Drop @nlookup lookups; the node goes when nothing refers to it. */
void sf_node_put(struct sf *sf, struct sf_node *n, uint64_t nlookup)
{
	n->nlookup -= nlookup < n->nlookup ? nlookup : n->nlookup;
	/* the root stays until UNMOUNT */
	if (!n->nlookup && !n->nhandles && n != n->m->root)
		node_free(sf, n);
}

/* ---- handles ---- */

static unsigned int fh_bucket(uint64_t fh)
{
	return hash64(fh, SF_FH_HASH);
}

struct sf_handle *sf_handle_find(struct sf *sf, struct sf_mount *m,
				 uint64_t fh)
{
	struct sf_handle *h;

	for (h = sf->by_fh[fh_bucket(fh)]; h; h = h->hnext)
		if (h->fh == fh)
			return h->m == m ? h : NULL;
	return NULL;
}

/* A handle for @fd (taken over) on @n. */
int sf_handle_new(struct sf *sf, struct sf_node *n, int fd, int accmode,
		  struct sf_handle **out)
{
	struct sf_mount *m = n->m;
	struct sf_handle *h;
	unsigned int b;
	int err = sf_room_for_handle(sf);

	if (err) {
		close(fd);
		return err;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	h->fh = ++sf->next_fh;
	h->m = m;
	h->node = n;
	h->fd = fd;
	h->accmode = accmode;
	b = fh_bucket(h->fh);
	h->hnext = sf->by_fh[b];
	sf->by_fh[b] = h;
	h->mnext = m->handles;
	if (m->handles)
		m->handles->mprev = h;
	m->handles = h;
	m->nhandles++;
	sf->nhandles++;
	n->nhandles++;
	*out = h;
	return 0;
}

void sf_handle_free(struct sf *sf, struct sf_handle *h)
{
	struct sf_mount *m = h->m;
	struct sf_node *n = h->node;
	struct sf_handle **pp;

	for (pp = &sf->by_fh[fh_bucket(h->fh)]; *pp != h; pp = &(*pp)->hnext)
		;
	*pp = h->hnext;
	if (h->mprev)
		h->mprev->mnext = h->mnext;
	else
		m->handles = h->mnext;
	if (h->mnext)
		h->mnext->mprev = h->mprev;
	close(h->fd);
	m->nhandles--;
	sf->nhandles--;
	free(h);
	/* no open file left: no guest process can hold a lock on it */
	if (!--n->nhandles)
		while (n->owners)
			sf_owner_free(sf, n, n->owners);
	sf_node_put(sf, n, 0);
}

/* ---- lock owners ---- */

struct sf_owner *sf_owner_find(struct sf_node *n, uint64_t owner)
{
	struct sf_owner *o;

	for (o = n->owners; o; o = o->next)
		if (o->owner == owner)
			return o;
	return NULL;
}

int sf_owner_new(struct sf *sf, struct sf_node *n, uint64_t owner,
		 int accmode, struct sf_owner **out)
{
	char path[SF_PROC_PATH];
	struct sf_owner *o;
	int fd;

	if (sf->nowners >= SF_MAX_OWNERS || !fds_left(sf))
		return -ENOLCK;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	sf_proc_path(path, n->fd);
	fd = open(path, accmode | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		free(o);
		return -errno;
	}
	o->owner = owner;
	o->fd = fd;
	o->accmode = accmode;
	o->next = n->owners;
	n->owners = o;
	sf->nowners++;
	*out = o;
	return 0;
}

/* Closing the owner's open file description drops all its locks. */
void sf_owner_free(struct sf *sf, struct sf_node *n, struct sf_owner *o)
{
	struct sf_owner **pp;

	for (pp = &n->owners; *pp != o; pp = &(*pp)->next)
		;
	*pp = o->next;
	close(o->fd);
	sf->nowners--;
	free(o);
}
