// SPDX-License-Identifier: MIT
/*
 * The shared-folder service (host/sf*.c) against a fake guest: every
 * operation's success and error paths, a hostile guest trying to leave
 * the share (names, symlinks, swaps), read-only shares, handle limits,
 * large directories, change notifications and device resets. A directory
 * next to the share is checked, at the end of every test, to be exactly
 * as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_guest.h"
#include "log.h"
#include "sf_int.h"

#define SF	3	/* the service's index */
#define MAXN	64	/* notifications kept */

struct t {
	struct fake_guest g;
	struct service *svc;
	char top[64], share[96], ro[96], outside[96];
	uint32_t req_id;
	uint32_t mount;		/* of share "s" */
	struct {
		struct pva_sf_notify n;
		char name[256];
	} notes[MAXN];
	int nnotes;
};

static uint8_t out[PVA_MSG_MAX];
static uint32_t out_len;

static void put(const char *dir, const char *name, const char *data)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

static char *path(struct t *t, const char *name)
{
	static char p[2][512];
	static int i;

	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", t->share, name);
	return p[i];
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	char err[256];

	log_init("test", LOG_CRIT);
	if (!t)
		return -1;
	snprintf(t->top, sizeof(t->top), "/tmp/pva-sf-XXXXXX");
	if (!mkdtemp(t->top))
		return -1;
	snprintf(t->share, sizeof(t->share), "%s/share", t->top);
	snprintf(t->ro, sizeof(t->ro), "%s/ro", t->top);
	snprintf(t->outside, sizeof(t->outside), "%s/outside", t->top);
	if (mkdir(t->share, 0755) || mkdir(t->ro, 0755) ||
	    mkdir(t->outside, 0755))
		return -1;
	put(t->outside, "secret", "outside the share");
	put(t->ro, "file", "read me");
	if (fg_init_with(&t->g, &sf_service_ops))
		return -1;
	t->svc = device_find_service(t->g.dev, "sf");
	if (!t->svc || sf_share_add(t->svc, "s", t->share, false, err, sizeof(err)) ||
	    sf_share_add(t->svc, "ro", t->ro, true, err, sizeof(err)) ||
	    fg_negotiate(&t->g))
		return -1;
	*state = t;
	return 0;
}

/* Nothing outside the share changed: one file, as it was. */
static void check_outside(struct t *t)
{
	char buf[192] = { 0 };
	struct dirent *d;
	int n = 0, fd;
	DIR *dir = opendir(t->outside);

	assert_non_null(dir);
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			n++;
	closedir(dir);
	assert_int_equal(n, 1);
	snprintf(buf, sizeof(buf), "%s/secret", t->outside);
	fd = open(buf, O_RDONLY);
	assert_true(fd >= 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(fd, buf, sizeof(buf)), 17);
	close(fd);
	assert_string_equal(buf, "outside the share");
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[128];

	check_outside(t);
	fg_fini(&t->g);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->top);
	if (system(cmd))
		return -1;
	free(t);
	return 0;
}

/* ---- talking to the service ---- */

static void keep_note(struct t *t, const uint8_t *p, uint32_t len)
{
	uint32_t nl;

	assert_true(len >= sizeof(struct pva_sf_notify));
	if (t->nnotes == MAXN)
		return;
	memcpy(&t->notes[t->nnotes].n, p, sizeof(struct pva_sf_notify));
	nl = pva_le32(t->notes[t->nnotes].n.name_len);
	assert_int_equal(len, sizeof(struct pva_sf_notify) + nl);
	memcpy(t->notes[t->nnotes].name, p + sizeof(struct pva_sf_notify), nl);
	t->notes[t->nnotes].name[nl] = 0;
	t->nnotes++;
}

/* Read what the host sent; keep notifications; the answer to @req_id. */
static int64_t receive(struct t *t, uint32_t req_id)
{
	static uint8_t buf[PVA_MSG_MAX];
	struct pva_msg_hdr h;
	int64_t status = -1;
	int n;

	while ((n = fg_recv(&t->g, SF, &h, buf, sizeof(buf))) >= 0) {
		if (!(pva_le16(h.flags) & PVA_MSG_F_RESPONSE)) {
			assert_int_equal(pva_le16(h.type), PVA_SF_NOTIFY);
			keep_note(t, buf, (uint32_t)n);
			continue;
		}
		assert_int_equal(pva_le32(h.req_id), req_id);
		memcpy(out, buf, (size_t)n);
		out_len = (uint32_t)n;
		status = pva_le32(h.status);
	}
	return status;
}

/* Send a request of @type made of up to three pieces; its status. */
static int64_t call3(struct t *t, uint16_t type, const void *a, uint32_t al,
		     const void *b, uint32_t bl, const void *c, uint32_t cl)
{
	static uint8_t msg[PVA_MSG_MAX];

	memcpy(msg, a, al);
	if (bl)
		memcpy(msg + al, b, bl);
	if (cl)
		memcpy(msg + al + bl, c, cl);
	out_len = 0;
	assert_int_equal(fg_send(&t->g, SF, type, PVA_MSG_F_REQUEST,
				 ++t->req_id, msg, al + bl + cl), 0);
	return receive(t, t->req_id);
}

static int64_t call(struct t *t, uint16_t type, const void *a, uint32_t al)
{
	return call3(t, type, a, al, NULL, 0, NULL, 0);
}

static uint32_t do_mount(struct t *t, const char *name, uint32_t flags,
			 int64_t want)
{
	struct pva_sf_mount rq = {
		.flags = pva_cpu32(flags),
		.name_len = pva_cpu32((uint32_t)strlen(name)),
	};
	struct pva_sf_mount_out mo;

	assert_int_equal(call3(t, PVA_SF_MOUNT, &rq, sizeof(rq), name,
			       (uint32_t)strlen(name), NULL, 0), want);
	if (want)
		return 0;
	assert_int_equal(out_len, sizeof(mo));
	memcpy(&mo, out, sizeof(mo));
	assert_int_equal(pva_le64(mo.root), PVA_SF_ROOT_NODE);
	assert_true(S_ISDIR(pva_le32(mo.attr.mode)));
	return pva_le32(mo.mount);
}

static void mount_s(struct t *t)
{
	t->mount = do_mount(t, "s", 0, PVA_S_OK);
}

static int64_t name_op(struct t *t, uint16_t type, uint64_t parent,
		       const char *name, uint32_t nl)
{
	struct pva_sf_name rq = {
		.r.mount = pva_cpu32(t->mount), .parent = pva_cpu64(parent),
		.name_len = pva_cpu32(nl),
	};

	return call3(t, type, &rq, sizeof(rq), name, nl, NULL, 0);
}

/* LOOKUP: the node id, 0 on failure (@status gets the status). */
static uint64_t lookup(struct t *t, uint64_t parent, const char *name,
		       int64_t want)
{
	struct pva_sf_entry e;

	assert_int_equal(name_op(t, PVA_SF_LOOKUP, parent, name,
				 (uint32_t)strlen(name)), want);
	if (want)
		return 0;
	assert_int_equal(out_len, sizeof(e));
	memcpy(&e, out, sizeof(e));
	return pva_le64(e.node);
}

static struct pva_sf_attr getattr(struct t *t, uint64_t node, int64_t want)
{
	struct pva_sf_node rq = {
		.r.mount = pva_cpu32(t->mount), .node = pva_cpu64(node),
	};
	struct pva_sf_attr a = { 0 };

	assert_int_equal(call(t, PVA_SF_GETATTR, &rq, sizeof(rq)), want);
	if (!want)
		memcpy(&a, out, sizeof(a));
	return a;
}

static int64_t create_op(struct t *t, uint16_t type, uint64_t parent,
			 const char *name, uint32_t flags, uint32_t mode,
			 uint64_t *node, uint64_t *fh)
{
	struct pva_sf_create rq = {
		.r.mount = pva_cpu32(t->mount), .parent = pva_cpu64(parent),
		.flags = pva_cpu32(flags), .mode = pva_cpu32(mode),
		.name_len = pva_cpu32((uint32_t)strlen(name)),
		.uid = pva_cpu32(1234), .gid = pva_cpu32(4321),
	};
	int64_t st = call3(t, type, &rq, sizeof(rq), name,
			   (uint32_t)strlen(name), NULL, 0);
	struct pva_sf_create_out co;

	if (st)
		return st;
	memcpy(&co, out, out_len < sizeof(co) ? out_len : sizeof(co));
	if (node)
		*node = pva_le64(co.entry.node);
	if (fh)
		*fh = type == PVA_SF_CREATE ? pva_le64(co.fh) : 0;
	return st;
}

static int64_t open_node(struct t *t, uint64_t node, uint32_t flags,
			 uint64_t *fh)
{
	struct pva_sf_open rq = {
		.r.mount = pva_cpu32(t->mount), .node = pva_cpu64(node),
		.flags = pva_cpu32(flags),
	};
	struct pva_sf_open_out o;
	int64_t st = call(t, PVA_SF_OPEN, &rq, sizeof(rq));

	if (!st) {
		memcpy(&o, out, sizeof(o));
		*fh = pva_le64(o.fh);
	}
	return st;
}

static int64_t release(struct t *t, uint64_t fh)
{
	struct pva_sf_fh rq = {
		.r.mount = pva_cpu32(t->mount), .fh = pva_cpu64(fh),
	};

	return call(t, PVA_SF_RELEASE, &rq, sizeof(rq));
}

static int64_t sf_write(struct t *t, uint64_t fh, uint64_t off,
			const void *data, uint32_t size)
{
	struct pva_sf_io rq = {
		.r.mount = pva_cpu32(t->mount), .fh = pva_cpu64(fh),
		.offset = pva_cpu64(off), .size = pva_cpu32(size),
	};

	return call3(t, PVA_SF_WRITE, &rq, sizeof(rq), data, size, NULL, 0);
}

static int64_t sf_read(struct t *t, uint64_t fh, uint64_t off, uint32_t size)
{
	struct pva_sf_io rq = {
		.r.mount = pva_cpu32(t->mount), .fh = pva_cpu64(fh),
		.offset = pva_cpu64(off), .size = pva_cpu32(size),
	};

	return call(t, PVA_SF_READ, &rq, sizeof(rq));
}

static int64_t node_req(struct t *t, uint16_t type, uint64_t node)
{
	struct pva_sf_node rq = {
		.r.mount = pva_cpu32(t->mount), .node = pva_cpu64(node),
	};

	return call(t, type, &rq, sizeof(rq));
}

static int64_t rename_op(struct t *t, uint64_t from, const char *o,
			 uint64_t to, const char *n, uint32_t flags)
{
	struct pva_sf_rename rq = {
		.r.mount = pva_cpu32(t->mount), .old_parent = pva_cpu64(from),
		.new_parent = pva_cpu64(to), .flags = pva_cpu32(flags),
		.old_len = pva_cpu32((uint32_t)strlen(o)),
		.new_len = pva_cpu32((uint32_t)strlen(n)),
	};

	return call3(t, PVA_SF_RENAME, &rq, sizeof(rq), o, (uint32_t)strlen(o),
		     n, (uint32_t)strlen(n));
}

static int64_t symlink_op(struct t *t, uint64_t parent, const char *name,
			  const char *target, uint32_t tl)
{
	struct pva_sf_symlink rq = {
		.r.mount = pva_cpu32(t->mount), .parent = pva_cpu64(parent),
		.name_len = pva_cpu32((uint32_t)strlen(name)),
		.target_len = pva_cpu32(tl),
	};

	return call3(t, PVA_SF_SYMLINK, &rq, sizeof(rq), name,
		     (uint32_t)strlen(name), target, tl);
}

static int64_t link_op(struct t *t, uint64_t node, uint64_t parent,
		       const char *name, uint32_t nl)
{
	struct pva_sf_link rq = {
		.r.mount = pva_cpu32(t->mount), .node = pva_cpu64(node),
		.new_parent = pva_cpu64(parent), .name_len = pva_cpu32(nl),
	};

	return call3(t, PVA_SF_LINK, &rq, sizeof(rq), name, nl, NULL, 0);
}

static int64_t setattr(struct t *t, uint64_t node, uint32_t valid,
		       struct pva_sf_setattr *rq)
{
	rq->r.mount = pva_cpu32(t->mount);
	rq->node = pva_cpu64(node);
	rq->valid = pva_cpu32(valid);
	return call(t, PVA_SF_SETATTR, rq, sizeof(*rq));
}

static int64_t xattr_op(struct t *t, uint16_t type, uint64_t node,
			const char *name, const void *val, uint32_t size,
			uint32_t flags)
{
	uint32_t nl = name ? (uint32_t)strlen(name) : 0;
	struct pva_sf_xattr rq = {
		.r.mount = pva_cpu32(t->mount), .node = pva_cpu64(node),
		.name_len = pva_cpu32(nl), .size = pva_cpu32(size),
		.flags = pva_cpu32(flags),
	};

	return call3(t, type, &rq, sizeof(rq), name, nl, val,
		     type == PVA_SF_SETXATTR ? size : 0);
}

static int64_t lock_op(struct t *t, uint64_t fh, uint64_t owner,
		       uint64_t start, uint64_t end, uint32_t type,
		       uint32_t cmd)
{
	struct pva_sf_lock rq = {
		.r.mount = pva_cpu32(t->mount), .fh = pva_cpu64(fh),
		.owner = pva_cpu64(owner), .start = pva_cpu64(start),
		.end = pva_cpu64(end), .type = pva_cpu32(type),
		.cmd = pva_cpu32(cmd),
	};

	return call(t, PVA_SF_LOCK, &rq, sizeof(rq));
}

static int64_t sf_status(struct t *t, const char *key)
{
	struct json_object *o = json_object_new_object(), *s, *e, *f, *v;
	int64_t n = -1;

	device_status(t->g.dev, o);
	json_object_object_get_ex(o, "services", &s);
	e = json_object_array_get_idx(s, SF);
	if (json_object_object_get_ex(e, "sf", &f) &&
	    json_object_object_get_ex(f, key, &v))
		n = json_object_get_int64(v);
	json_object_put(o);
	return n;
}

static bool host_exists(const char *p)
{
	struct stat st;

	return !lstat(p, &st);
}

/* ---- mounts ---- */

static void test_shares_mount(void **state)
{
	struct t *t = *state;
	struct pva_sf_req r = { 0 };
	struct pva_sf_mount_out mo;
	uint32_t ro;

	assert_int_equal(call(t, PVA_SF_SHARES, &r, sizeof(r)), PVA_S_OK);
	assert_int_equal(out_len, 5);
	assert_memory_equal(out, "s\0ro\0", 5);
	do_mount(t, "nope", 0, PVA_S_ENOENT);
	do_mount(t, "s", 0x80, PVA_S_EINVAL);
	mount_s(t);
	assert_true(t->mount != 0);
	ro = do_mount(t, "ro", 0, PVA_S_OK);
	memcpy(&mo, out, sizeof(mo));
	assert_int_equal(pva_le32(mo.flags), PVA_SF_MOUNT_RO);
	assert_int_not_equal(ro, t->mount);
	assert_int_equal(sf_status(t, "mounts"), 2);
	/* UNMOUNT: the mount is gone, its ids are stale */
	getattr(t, PVA_SF_ROOT_NODE, PVA_S_OK);
	assert_int_equal(node_req(t, PVA_SF_UNMOUNT, 0), PVA_S_OK);
	getattr(t, PVA_SF_ROOT_NODE, PVA_S_ESTALE);
	assert_int_equal(sf_status(t, "mounts"), 1);
	/* a removed share revokes its mounts */
	mount_s(t);
	assert_int_equal(sf_share_remove(t->svc, "s"), 1);
	getattr(t, PVA_SF_ROOT_NODE, PVA_S_ESTALE);
	do_mount(t, "s", 0, PVA_S_ENOENT);
	assert_int_equal(sf_share_remove(t->svc, "s"), -ENOENT);
}

/* ---- nodes ---- */

static void test_lookup_forget(void **state)
{
	struct t *t = *state;
	struct pva_sf_attr a;
	uint64_t f, g, again;
	struct {
		struct pva_sf_forget f;
		struct pva_sf_forget_one one[2];
	} fg;

	put(t->share, "f", "hello");
	assert_int_equal(link(path(t, "f"), path(t, "g")), 0);
	mount_s(t);
	f = lookup(t, PVA_SF_ROOT_NODE, "f", PVA_S_OK);
	assert_true(f > PVA_SF_ROOT_NODE);
	a = getattr(t, f, PVA_S_OK);
	assert_int_equal(pva_le64(a.size), 5);
	assert_true(S_ISREG(pva_le32(a.mode)));
	assert_int_equal(pva_le32(a.nlink), 2);
	/* one inode, one node: hard links and repeated lookups */
	g = lookup(t, PVA_SF_ROOT_NODE, "g", PVA_S_OK);
	assert_int_equal(g, f);
	lookup(t, PVA_SF_ROOT_NODE, "missing", PVA_S_ENOENT);
	lookup(t, f, "x", PVA_S_ENOTDIR);
	lookup(t, 999, "f", PVA_S_ESTALE);
	getattr(t, 999, PVA_S_ESTALE);
	assert_int_equal(sf_status(t, "nodes"), 2);
	/* FORGET (an event) of both lookups frees it; ids are not reused */
	memset(&fg, 0, sizeof(fg));
	fg.f.r.mount = pva_cpu32(t->mount);
	fg.f.count = pva_cpu32(2);
	fg.one[0].node = pva_cpu64(f);
	fg.one[0].nlookup = pva_cpu64(2);
	fg.one[1].node = pva_cpu64(12345);	/* unknown: ignored */
	fg.one[1].nlookup = pva_cpu64(1);
	assert_int_equal(fg_send(&t->g, SF, PVA_SF_FORGET, 0, 0, &fg,
				 sizeof(fg)), 0);
	assert_int_equal(sf_status(t, "nodes"), 1);
	getattr(t, f, PVA_S_ESTALE);
	again = lookup(t, PVA_SF_ROOT_NODE, "f", PVA_S_OK);
	assert_true(again > f);
	/* the root stays however often it is forgotten */
	fg.one[0].node = pva_cpu64(PVA_SF_ROOT_NODE);
	fg.one[0].nlookup = pva_cpu64(100);
	assert_int_equal(fg_send(&t->g, SF, PVA_SF_FORGET, 0, 0, &fg,
				 sizeof(fg)), 0);
	getattr(t, PVA_SF_ROOT_NODE, PVA_S_OK);
}

static void test_create_read_write(void **state)
{
	struct t *t = *state;
	static uint8_t data[PVA_MSG_MAX];
	uint32_t big = PVA_MSG_MAX - sizeof(struct pva_sf_io);
	struct pva_sf_written w;
	uint64_t n, fh, fh2, dfh;
	struct stat st;

	mount_s(t);
	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	assert_int_equal(create_op(t, PVA_SF_CREATE, PVA_SF_ROOT_NODE, "new",
				   PVA_SF_O_RDWR | PVA_SF_O_EXCL, 0640, &n, &fh),
			 PVA_S_OK);
	assert_int_equal(stat(path(t, "new"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	if (geteuid() == 0) {	/* the guest's owner */
		assert_int_equal(st.st_uid, 1234);
		assert_int_equal(st.st_gid, 4321);
	}
	/* the largest write a message can carry, then read it back */
	assert_int_equal(sf_write(t, fh, 0, data, big), PVA_S_OK);
	memcpy(&w, out, sizeof(w));
	assert_int_equal(pva_le32(w.size), big);
	assert_int_equal(sf_read(t, fh, 0, PVA_SF_IO_MAX), PVA_S_OK);
	assert_int_equal(out_len, big);
	assert_memory_equal(out, data, big);
	assert_int_equal(sf_read(t, fh, 100, 10), PVA_S_OK);
	assert_memory_equal(out, data + 100, 10);
	assert_int_equal(sf_read(t, fh, big, 10), PVA_S_OK);
	assert_int_equal(out_len, 0);	/* end of file */
	assert_int_equal(sf_read(t, fh, 0, PVA_SF_IO_MAX + 1), PVA_S_EINVAL);
	assert_int_equal(sf_read(t, fh, 1ull << 63, 1), PVA_S_EFBIG);
	/* CREATE again: EXCL refuses, without it opens the file */
	assert_int_equal(create_op(t, PVA_SF_CREATE, PVA_SF_ROOT_NODE, "new",
				   PVA_SF_O_RDWR | PVA_SF_O_EXCL, 0600, NULL, NULL),
			 PVA_S_EEXIST);
	assert_int_equal(create_op(t, PVA_SF_CREATE, PVA_SF_ROOT_NODE, "new",
				   PVA_SF_O_RDONLY, 0600, NULL, &fh2), PVA_S_OK);
	assert_int_equal(sf_write(t, fh2, 0, "x", 1), PVA_S_EBADF);
	assert_int_equal(release(t, fh2), PVA_S_OK);
	assert_int_equal(release(t, fh2), PVA_S_EBADF);
	assert_int_equal(sf_read(t, fh2, 0, 1), PVA_S_EBADF);
	/* OPEN: write-only, truncate, directories, access modes */
	assert_int_equal(open_node(t, n, PVA_SF_O_WRONLY | PVA_SF_O_TRUNC, &fh2),
			 PVA_S_OK);
	assert_int_equal(sf_read(t, fh2, 0, 1), PVA_S_EBADF);
	assert_int_equal(stat(path(t, "new"), &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(open_node(t, n, PVA_SF_O_DIRECTORY, &fh2), PVA_S_ENOTDIR);
	assert_int_equal(open_node(t, n, 3, &fh2), PVA_S_EINVAL);
	assert_int_equal(open_node(t, n, 0x100, &fh2), PVA_S_EINVAL);
	assert_int_equal(open_node(t, PVA_SF_ROOT_NODE, PVA_SF_O_RDWR, &dfh),
			 PVA_S_EISDIR);
	assert_int_equal(open_node(t, PVA_SF_ROOT_NODE, PVA_SF_O_DIRECTORY, &dfh),
			 PVA_S_OK);
	assert_int_equal(sf_read(t, dfh, 0, 1), PVA_S_EISDIR);
	/* FSYNC of a file and a directory handle */
	{
		struct pva_sf_fsync rq = {
			.r.mount = pva_cpu32(t->mount), .fh = pva_cpu64(fh),
		};

		assert_int_equal(call(t, PVA_SF_FSYNC, &rq, sizeof(rq)), PVA_S_OK);
		rq.datasync = pva_cpu32(1);
		rq.fh = pva_cpu64(dfh);
		assert_int_equal(call(t, PVA_SF_FSYNC, &rq, sizeof(rq)), PVA_S_OK);
		rq.fh = pva_cpu64(77777);
		assert_int_equal(call(t, PVA_SF_FSYNC, &rq, sizeof(rq)), PVA_S_EBADF);
	}
	assert_int_equal(sf_status(t, "handles"), 3);
	/* RELEASE as an event */
	{
		struct pva_sf_fh rq = {
			.r.mount = pva_cpu32(t->mount), .fh = pva_cpu64(dfh),
		};

		assert_int_equal(fg_send(&t->g, SF, PVA_SF_RELEASE, 0, 0, &rq,
					 sizeof(rq)), 0);
	}
	assert_int_equal(sf_status(t, "handles"), 2);
}

static void test_setattr(void **state)
{
	struct t *t = *state;
	struct pva_sf_setattr rq = { 0 };
	struct pva_sf_attr a;
	uint64_t n, fh;
	struct stat st;

	put(t->share, "f", "0123456789");
	mount_s(t);
	n = lookup(t, PVA_SF_ROOT_NODE, "f", PVA_S_OK);
	rq.mode = pva_cpu32(0604);
	assert_int_equal(setattr(t, n, PVA_SF_SET_MODE, &rq), PVA_S_OK);
	memcpy(&a, out, sizeof(a));
	assert_int_equal(pva_le32(a.mode) & 07777, 0604);
	rq.size = pva_cpu64(4);
	assert_int_equal(setattr(t, n, PVA_SF_SET_SIZE, &rq), PVA_S_OK);
	assert_int_equal(stat(path(t, "f"), &st), 0);
	assert_int_equal(st.st_size, 4);
	/* ftruncate through a handle */
	assert_int_equal(open_node(t, n, PVA_SF_O_RDWR, &fh), PVA_S_OK);
	rq.fh = pva_cpu64(fh);
	rq.size = pva_cpu64(2);
	assert_int_equal(setattr(t, n, PVA_SF_SET_SIZE | PVA_SF_SET_FH, &rq),
			 PVA_S_OK);
	assert_int_equal(stat(path(t, "f"), &st), 0);
	assert_int_equal(st.st_size, 2);
	rq.fh = pva_cpu64(fh + 100);
	assert_int_equal(setattr(t, n, PVA_SF_SET_SIZE | PVA_SF_SET_FH, &rq),
			 PVA_S_EBADF);
	rq.size = pva_cpu64(1);
	assert_int_equal(setattr(t, PVA_SF_ROOT_NODE, PVA_SF_SET_SIZE, &rq),
			 PVA_S_EISDIR);
	/* times: given and now */
	rq.atime = pva_cpu64(1000000);
	rq.atime_ns = pva_cpu32(5);
	rq.mtime = pva_cpu64(2000000);
	assert_int_equal(setattr(t, n, PVA_SF_SET_ATIME | PVA_SF_SET_MTIME, &rq),
			 PVA_S_OK);
	assert_int_equal(stat(path(t, "f"), &st), 0);
	assert_int_equal(st.st_atim.tv_sec, 1000000);
	assert_int_equal(st.st_atim.tv_nsec, 5);
	assert_int_equal(st.st_mtim.tv_sec, 2000000);
	assert_int_equal(setattr(t, n, PVA_SF_SET_MTIME_NOW, &rq), PVA_S_OK);
	assert_int_equal(stat(path(t, "f"), &st), 0);
	assert_true(st.st_mtim.tv_sec > 2000000);
	/* owner (root only can give it away) */
	rq.uid = pva_cpu32(555);
	rq.gid = pva_cpu32(666);
	if (geteuid() == 0) {
		assert_int_equal(setattr(t, n, PVA_SF_SET_UID | PVA_SF_SET_GID, &rq),
				 PVA_S_OK);
		assert_int_equal(stat(path(t, "f"), &st), 0);
		assert_int_equal(st.st_uid, 555);
		assert_int_equal(st.st_gid, 666);
	}
	/* malformed */
	assert_int_equal(setattr(t, n, 1u << 12, &rq), PVA_S_EINVAL);
	rq.mtime_ns = pva_cpu32(1000000000);
	assert_int_equal(setattr(t, n, PVA_SF_SET_MTIME, &rq), PVA_S_EINVAL);
	assert_int_equal(setattr(t, 4242, PVA_SF_SET_MODE, &rq), PVA_S_ESTALE);
	assert_true(sf_status(t, "malformed") >= 2);
}

static void test_dirs(void **state)
{
	struct t *t = *state;
	struct pva_sf_statfs sfs;
	uint64_t d, n;
	struct stat st;

	mount_s(t);
	assert_int_equal(create_op(t, PVA_SF_MKDIR, PVA_SF_ROOT_NODE, "d", 0,
				   0750, &d, NULL), PVA_S_OK);
	assert_int_equal(stat(path(t, "d"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(create_op(t, PVA_SF_MKDIR, PVA_SF_ROOT_NODE, "d", 0,
				   0750, NULL, NULL), PVA_S_EEXIST);
	assert_int_equal(create_op(t, PVA_SF_CREATE, d, "in", PVA_SF_O_WRONLY,
				   0600, &n, NULL), PVA_S_OK);
	assert_int_equal(name_op(t, PVA_SF_RMDIR, PVA_SF_ROOT_NODE, "d", 1),
			 PVA_S_ENOTEMPTY);
	assert_int_equal(name_op(t, PVA_SF_UNLINK, PVA_SF_ROOT_NODE, "d", 1),
			 PVA_S_EISDIR);
	assert_int_equal(name_op(t, PVA_SF_UNLINK, d, "in", 2), PVA_S_OK);
	assert_false(host_exists(path(t, "d/in")));
	assert_int_equal(name_op(t, PVA_SF_UNLINK, d, "in", 2), PVA_S_ENOENT);
	assert_int_equal(name_op(t, PVA_SF_RMDIR, PVA_SF_ROOT_NODE, "d", 1),
			 PVA_S_OK);
	assert_false(host_exists(path(t, "d")));
	/* the removed directory's node is still valid, but empty and gone */
	assert_int_equal(create_op(t, PVA_SF_CREATE, d, "late", PVA_SF_O_WRONLY,
				   0600, NULL, NULL), PVA_S_ENOENT);
	/* MKNOD: FIFOs and sockets, no devices */
	assert_int_equal(create_op(t, PVA_SF_MKNOD, PVA_SF_ROOT_NODE, "fifo", 0,
				   S_IFIFO | 0600, &n, NULL), PVA_S_OK);
	assert_int_equal(stat(path(t, "fifo"), &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(create_op(t, PVA_SF_MKNOD, PVA_SF_ROOT_NODE, "dev", 0,
				   S_IFCHR | 0600, NULL, NULL), PVA_S_EPERM);
	assert_int_equal(create_op(t, PVA_SF_MKNOD, PVA_SF_ROOT_NODE, "blk", 0,
				   S_IFBLK | 0600, NULL, NULL), PVA_S_EPERM);
	assert_false(host_exists(path(t, "dev")));
	/* a FIFO is not opened on the host */
	{
		uint64_t fh;

		assert_int_equal(open_node(t, n, PVA_SF_O_RDONLY, &fh), PVA_S_ENXIO);
	}
	assert_int_equal(node_req(t, PVA_SF_STATFS, PVA_SF_ROOT_NODE), PVA_S_OK);
	assert_int_equal(out_len, sizeof(sfs));
	memcpy(&sfs, out, sizeof(sfs));
	assert_true(pva_le64(sfs.blocks) > 0);
	assert_int_equal(pva_le32(sfs.namelen), 255);
}

static void test_rename(void **state)
{
	struct t *t = *state;
	char buf[16] = { 0 };
	uint64_t d;
	int fd;

	put(t->share, "a", "A");
	put(t->share, "b", "B");
	mount_s(t);
	assert_int_equal(create_op(t, PVA_SF_MKDIR, PVA_SF_ROOT_NODE, "d", 0,
				   0755, &d, NULL), PVA_S_OK);
	assert_int_equal(rename_op(t, PVA_SF_ROOT_NODE, "a", d, "a2", 0), PVA_S_OK);
	assert_true(host_exists(path(t, "d/a2")));
	assert_false(host_exists(path(t, "a")));
	assert_int_equal(rename_op(t, d, "a2", PVA_SF_ROOT_NODE, "b",
				   PVA_SF_RENAME_NOREPLACE), PVA_S_EEXIST);
	assert_int_equal(rename_op(t, d, "a2", PVA_SF_ROOT_NODE, "b",
				   PVA_SF_RENAME_EXCHANGE), PVA_S_OK);
	fd = open(path(t, "b"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 1);
	close(fd);
	assert_string_equal(buf, "A");
	assert_int_equal(rename_op(t, d, "a2", PVA_SF_ROOT_NODE, "b",
				   PVA_SF_RENAME_EXCHANGE | PVA_SF_RENAME_NOREPLACE),
			 PVA_S_EINVAL);
	assert_int_equal(rename_op(t, d, "a2", PVA_SF_ROOT_NODE, "c", 4),
			 PVA_S_EINVAL);
	assert_int_equal(rename_op(t, d, "nothing", PVA_SF_ROOT_NODE, "c",
				   PVA_SF_RENAME_EXCHANGE), PVA_S_ENOENT);
	/* a plain rename replaces */
	assert_int_equal(rename_op(t, d, "a2", PVA_SF_ROOT_NODE, "b", 0), PVA_S_OK);
	assert_false(host_exists(path(t, "d/a2")));
}

static void test_symlink_link(void **state)
{
	struct t *t = *state;
	static char longt[PVA_SF_PATH_MAX + 2];
	uint64_t l, f, f2, d, fh;
	char buf[64] = { 0 };
	struct pva_sf_setattr rq = { 0 };

	put(t->share, "f", "data");
	mount_s(t);
	/* a target outside is stored as is and never followed */
	assert_int_equal(symlink_op(t, PVA_SF_ROOT_NODE, "l", t->outside,
				    (uint32_t)strlen(t->outside)), PVA_S_OK);
	memcpy(&l, out, sizeof(l));
	assert_int_equal(readlink(path(t, "l"), buf, sizeof(buf)),
			 (ssize_t)strlen(t->outside));
	assert_int_equal(node_req(t, PVA_SF_READLINK, l), PVA_S_OK);
	assert_int_equal(out_len, strlen(t->outside));
	assert_memory_equal(out, t->outside, out_len);
	assert_int_equal(open_node(t, l, PVA_SF_O_RDONLY, &fh), PVA_S_ELOOP);
	lookup(t, l, "secret", PVA_S_ENOTDIR);
	assert_int_equal(setattr(t, l, PVA_SF_SET_MODE, &rq), PVA_S_EPERM);
	rq.size = pva_cpu64(0);
	assert_int_equal(setattr(t, l, PVA_SF_SET_SIZE, &rq), PVA_S_EINVAL);
	assert_int_equal(setattr(t, l, PVA_SF_SET_MTIME_NOW, &rq), PVA_S_OK);
	assert_int_equal(xattr_op(t, PVA_SF_SETXATTR, l, "user.x", "1", 1, 0),
			 PVA_S_ENOTSUP);
	f = lookup(t, PVA_SF_ROOT_NODE, "f", PVA_S_OK);
	assert_int_equal(node_req(t, PVA_SF_READLINK, f), PVA_S_EINVAL);
	/* bad targets */
	assert_int_equal(symlink_op(t, PVA_SF_ROOT_NODE, "l2", "a\0b", 3),
			 PVA_S_EINVAL);
	assert_int_equal(symlink_op(t, PVA_SF_ROOT_NODE, "l2", "", 0),
			 PVA_S_EINVAL);
	memset(longt, 'x', sizeof(longt) - 1);
	assert_int_equal(symlink_op(t, PVA_SF_ROOT_NODE, "l2", longt,
				    PVA_SF_PATH_MAX + 1), PVA_S_ENAMETOOLONG);
	/* Linux's PATH_MAX counts the NUL: 4095 bytes is its longest */
	assert_int_equal(symlink_op(t, PVA_SF_ROOT_NODE, "l2", longt,
				    PVA_SF_PATH_MAX), PVA_S_ENAMETOOLONG);
	assert_int_equal(symlink_op(t, PVA_SF_ROOT_NODE, "l2", longt,
				    PVA_SF_PATH_MAX - 1), PVA_S_OK);
	/* LINK: the same node under a new name; not directories */
	assert_int_equal(link_op(t, f, PVA_SF_ROOT_NODE, "f2", 2), PVA_S_OK);
	memcpy(&f2, out, sizeof(f2));
	assert_int_equal(f2, f);
	assert_true(host_exists(path(t, "f2")));
	assert_int_equal(link_op(t, f, PVA_SF_ROOT_NODE, "f2", 2), PVA_S_EEXIST);
	assert_int_equal(create_op(t, PVA_SF_MKDIR, PVA_SF_ROOT_NODE, "d", 0,
				   0755, &d, NULL), PVA_S_OK);
	assert_int_equal(link_op(t, d, PVA_SF_ROOT_NODE, "d2", 2), PVA_S_EPERM);
	/* a link of the symlink is a symlink again, not its target */
	assert_int_equal(link_op(t, l, PVA_SF_ROOT_NODE, "l3", 2), PVA_S_OK);
	assert_int_equal(readlink(path(t, "l3"), buf, sizeof(buf)),
			 (ssize_t)strlen(t->outside));
}

/* ---- confinement ---- */

static void test_confinement_names(void **state)
{
	struct t *t = *state;
	static const struct {
		const char *name;
		uint32_t len;
		int64_t want;
	} bad[] = {
		{ "..", 2, PVA_S_EINVAL }, { ".", 1, PVA_S_EINVAL },
		{ "", 0, PVA_S_EINVAL }, { "a/b", 3, PVA_S_EINVAL },
		{ "../outside", 10, PVA_S_EINVAL }, { "/etc", 4, PVA_S_EINVAL },
		{ "a\0b", 3, PVA_S_EINVAL }, { "/", 1, PVA_S_EINVAL },
	};
	char longn[PVA_SF_NAME_MAX + 2];
	uint64_t f, n;

	put(t->share, "f", "x");
	mount_s(t);
	f = lookup(t, PVA_SF_ROOT_NODE, "f", PVA_S_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(name_op(t, PVA_SF_LOOKUP, PVA_SF_ROOT_NODE,
					 bad[i].name, bad[i].len), bad[i].want);
		assert_int_equal(name_op(t, PVA_SF_UNLINK, PVA_SF_ROOT_NODE,
					 bad[i].name, bad[i].len), bad[i].want);
		assert_int_equal(link_op(t, f, PVA_SF_ROOT_NODE, bad[i].name,
					 bad[i].len), bad[i].want);
	}
	assert_int_equal(rename_op(t, PVA_SF_ROOT_NODE, "f", PVA_SF_ROOT_NODE,
				   "../outside/f", 0), PVA_S_EINVAL);
	assert_int_equal(rename_op(t, PVA_SF_ROOT_NODE, "..", PVA_SF_ROOT_NODE,
				   "x", 0), PVA_S_EINVAL);
	assert_int_equal(create_op(t, PVA_SF_CREATE, PVA_SF_ROOT_NODE,
				   "../outside/new", PVA_SF_O_WRONLY, 0600, NULL,
				   NULL), PVA_S_EINVAL);
	assert_int_equal(create_op(t, PVA_SF_MKDIR, PVA_SF_ROOT_NODE, "..", 0,
				   0700, NULL, NULL), PVA_S_EINVAL);
	assert_int_equal(symlink_op(t, PVA_SF_ROOT_NODE, "../x", "y", 1),
			 PVA_S_EINVAL);
	/* names: 255 bytes fine, 256 too long */
	memset(longn, 'n', sizeof(longn));
	longn[PVA_SF_NAME_MAX] = 0;
	assert_int_equal(create_op(t, PVA_SF_CREATE, PVA_SF_ROOT_NODE, longn,
				   PVA_SF_O_WRONLY, 0600, NULL, NULL), PVA_S_OK);
	longn[PVA_SF_NAME_MAX] = 'n';
	longn[PVA_SF_NAME_MAX + 1] = 0;
	assert_int_equal(name_op(t, PVA_SF_LOOKUP, PVA_SF_ROOT_NODE, longn,
				 PVA_SF_NAME_MAX + 1), PVA_S_ENAMETOOLONG);
	/* invalid UTF-8 is just bytes */
	assert_int_equal(create_op(t, PVA_SF_MKDIR, PVA_SF_ROOT_NODE,
				   "\xff\xfe\x80", 0, 0700, &n, NULL), PVA_S_OK);
	assert_true(host_exists(path(t, "\xff\xfe\x80")));
	/* a name whose length field runs past the payload */
	{
		struct pva_sf_name rq = {
			.r.mount = pva_cpu32(t->mount),
			.parent = pva_cpu64(PVA_SF_ROOT_NODE),
			.name_len = pva_cpu32(0xffffffff),
		};

		assert_int_equal(call3(t, PVA_SF_LOOKUP, &rq, sizeof(rq), "f", 1,
				       NULL, 0), PVA_S_EINVAL);
	}
	assert_true(sf_status(t, "malformed") > 20);
}

static void test_confinement_symlinks(void **state)
{
	struct t *t = *state;
	char target[256], moved[512];
	uint64_t sabs, srel, d, fh, n;
	struct stat st;

	snprintf(target, sizeof(target), "%s", t->outside);
	assert_int_equal(symlink(target, path(t, "abs")), 0);
	assert_int_equal(symlink("../outside", path(t, "rel")), 0);
	snprintf(target, sizeof(target), "%s/created", t->outside);
	assert_int_equal(symlink(target, path(t, "dangling")), 0);
	snprintf(target, sizeof(target), "%s/secret", t->outside);
	assert_int_equal(symlink(target, path(t, "tosecret")), 0);
	assert_int_equal(mkdir(path(t, "d"), 0755), 0);
	mount_s(t);
	/* a symlink is a node of its own, never a directory to walk into */
	sabs = lookup(t, PVA_SF_ROOT_NODE, "abs", PVA_S_OK);
	srel = lookup(t, PVA_SF_ROOT_NODE, "rel", PVA_S_OK);
	assert_true(S_ISLNK(pva_le32(getattr(t, sabs, PVA_S_OK).mode)));
	lookup(t, sabs, "secret", PVA_S_ENOTDIR);
	lookup(t, srel, "secret", PVA_S_ENOTDIR);
	assert_int_equal(create_op(t, PVA_SF_CREATE, sabs, "x", PVA_SF_O_WRONLY,
				   0600, NULL, NULL), PVA_S_ENOTDIR);
	assert_int_equal(create_op(t, PVA_SF_MKDIR, srel, "x", 0, 0700, NULL,
				   NULL), PVA_S_ENOTDIR);
	assert_int_equal(rename_op(t, sabs, "secret", PVA_SF_ROOT_NODE, "got", 0),
			 PVA_S_ENOTDIR);
	assert_int_equal(name_op(t, PVA_SF_UNLINK, srel, "secret", 6),
			 PVA_S_ENOTDIR);
	/* a dangling symlink to outside is not created through */
	assert_int_equal(create_op(t, PVA_SF_CREATE, PVA_SF_ROOT_NODE, "dangling",
				   PVA_SF_O_WRONLY, 0600, NULL, NULL), PVA_S_ELOOP);
	assert_int_equal(create_op(t, PVA_SF_CREATE, PVA_SF_ROOT_NODE, "tosecret",
				   PVA_SF_O_RDWR | PVA_SF_O_TRUNC, 0600, NULL, NULL),
			 PVA_S_ELOOP);
	n = lookup(t, PVA_SF_ROOT_NODE, "tosecret", PVA_S_OK);
	assert_int_equal(open_node(t, n, PVA_SF_O_RDWR | PVA_SF_O_TRUNC, &fh),
			 PVA_S_ELOOP);
	{
		struct pva_sf_setattr rq = { .size = 0 };

		assert_int_equal(setattr(t, n, PVA_SF_SET_SIZE, &rq), PVA_S_EINVAL);
		rq.mode = pva_cpu32(0777);
		assert_int_equal(setattr(t, n, PVA_SF_SET_MODE, &rq), PVA_S_EPERM);
		rq.uid = pva_cpu32(99);
		assert_int_equal(setattr(t, n, PVA_SF_SET_UID, &rq), PVA_S_OK);
	}
	assert_int_equal(xattr_op(t, PVA_SF_GETXATTR, n, "user.x", NULL, 0, 0),
			 PVA_S_ENOTSUP);
	/* a link of the symlink to the secret links the symlink */
	assert_int_equal(link_op(t, n, PVA_SF_ROOT_NODE, "hard", 4), PVA_S_OK);
	assert_int_equal(lstat(path(t, "hard"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	/* a symlink swapped in for a directory the guest holds */
	d = lookup(t, PVA_SF_ROOT_NODE, "d", PVA_S_OK);
	snprintf(moved, sizeof(moved), "%s/moved", t->top);
	assert_int_equal(rename(path(t, "d"), moved), 0);
	assert_int_equal(symlink(t->outside, path(t, "d")), 0);
	assert_int_equal(create_op(t, PVA_SF_CREATE, d, "escaped", PVA_SF_O_WRONLY,
				   0600, NULL, NULL), PVA_S_OK);
	snprintf(moved, sizeof(moved), "%s/moved/escaped", t->top);
	assert_true(host_exists(moved));	/* in the directory it held */
	n = lookup(t, PVA_SF_ROOT_NODE, "d", PVA_S_OK);
	assert_int_not_equal(n, d);
	lookup(t, n, "secret", PVA_S_ENOTDIR);
	/* a symlink swapped in for a file the guest opened meanwhile */
	put(t->share, "file", "mine");
	n = lookup(t, PVA_SF_ROOT_NODE, "file", PVA_S_OK);
	assert_int_equal(unlink(path(t, "file")), 0);
	assert_int_equal(symlink(target, path(t, "file")), 0);
	assert_int_equal(open_node(t, n, PVA_SF_O_RDWR | PVA_SF_O_TRUNC, &fh),
			 PVA_S_OK);
	assert_int_equal(sf_write(t, fh, 0, "overwritten", 11), PVA_S_OK);
}

/* ---- read-only shares ---- */

static void test_read_only(void **state)
{
	struct t *t = *state;
	struct pva_sf_setattr sa = { .mode = pva_cpu32(0777) };
	uint64_t f, fh;
	struct stat before, after;

	assert_int_equal(stat(t->ro, &before), 0);
	t->mount = do_mount(t, "ro", 0, PVA_S_OK);
	f = lookup(t, PVA_SF_ROOT_NODE, "file", PVA_S_OK);
	assert_int_equal(open_node(t, f, PVA_SF_O_RDONLY, &fh), PVA_S_OK);
	assert_int_equal(sf_read(t, fh, 0, 100), PVA_S_OK);
	assert_int_equal(out_len, 7);
	assert_int_equal(lock_op(t, fh, 1, 0, 10, 0, PVA_SF_SETLK), PVA_S_OK);
	assert_int_equal(open_node(t, f, PVA_SF_O_RDWR, &fh), PVA_S_EROFS);
	assert_int_equal(open_node(t, f, PVA_SF_O_RDONLY | PVA_SF_O_TRUNC, &fh),
			 PVA_S_EROFS);
	assert_int_equal(create_op(t, PVA_SF_CREATE, PVA_SF_ROOT_NODE, "n",
				   PVA_SF_O_WRONLY, 0600, NULL, NULL), PVA_S_EROFS);
	assert_int_equal(create_op(t, PVA_SF_MKDIR, PVA_SF_ROOT_NODE, "n", 0,
				   0700, NULL, NULL), PVA_S_EROFS);
	assert_int_equal(create_op(t, PVA_SF_MKNOD, PVA_SF_ROOT_NODE, "n", 0,
				   S_IFIFO | 0600, NULL, NULL), PVA_S_EROFS);
	assert_int_equal(name_op(t, PVA_SF_UNLINK, PVA_SF_ROOT_NODE, "file", 4),
			 PVA_S_EROFS);
	assert_int_equal(name_op(t, PVA_SF_RMDIR, PVA_SF_ROOT_NODE, "file", 4),
			 PVA_S_EROFS);
	assert_int_equal(rename_op(t, PVA_SF_ROOT_NODE, "file", PVA_SF_ROOT_NODE,
				   "x", 0), PVA_S_EROFS);
	assert_int_equal(symlink_op(t, PVA_SF_ROOT_NODE, "l", "x", 1), PVA_S_EROFS);
	assert_int_equal(link_op(t, f, PVA_SF_ROOT_NODE, "l", 1), PVA_S_EROFS);
	assert_int_equal(setattr(t, f, PVA_SF_SET_MODE, &sa), PVA_S_EROFS);
	assert_int_equal(sf_write(t, fh, 0, "x", 1), PVA_S_EROFS);
	assert_int_equal(xattr_op(t, PVA_SF_SETXATTR, f, "user.a", "1", 1, 0),
			 PVA_S_EROFS);
	assert_int_equal(xattr_op(t, PVA_SF_REMOVEXATTR, f, "user.a", NULL, 0, 0),
			 PVA_S_EROFS);
	assert_int_equal(sf_status(t, "erofs"), 14);
	assert_int_equal(stat(t->ro, &after), 0);
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	assert_int_equal(stat(path(t, "../ro/file"), &after), 0);
	assert_int_equal(after.st_size, 7);
	/* a read-write share mounted read-only by the guest's wish */
	t->mount = do_mount(t, "s", PVA_SF_MOUNT_RO, PVA_S_OK);
	assert_int_equal(create_op(t, PVA_SF_MKDIR, PVA_SF_ROOT_NODE, "n", 0,
				   0700, NULL, NULL), PVA_S_EROFS);
	assert_false(host_exists(path(t, "n")));
}

/* ---- limits ---- */

static void test_limits(void **state)
{
	struct t *t = *state;
	uint64_t fh[5], n;
	char name[16];

	sf_set_limits(t->svc, 6, 4);
	put(t->share, "f", "x");
	mount_s(t);
	n = lookup(t, PVA_SF_ROOT_NODE, "f", PVA_S_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(open_node(t, n, PVA_SF_O_RDONLY, &fh[i]), PVA_S_OK);
	assert_int_equal(open_node(t, n, PVA_SF_O_RDONLY, &fh[4]), PVA_S_EMFILE);
	assert_int_equal(create_op(t, PVA_SF_CREATE, PVA_SF_ROOT_NODE, "c",
				   PVA_SF_O_WRONLY, 0600, NULL, NULL), PVA_S_EMFILE);
	assert_false(host_exists(path(t, "c")));	/* refused before */
	assert_int_equal(release(t, fh[0]), PVA_S_OK);
	assert_int_equal(open_node(t, n, PVA_SF_O_RDONLY, &fh[0]), PVA_S_OK);
	/* nodes: the root, f and four more */
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		put(t->share, name, "");
	}
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		lookup(t, PVA_SF_ROOT_NODE, name, PVA_S_OK);
	}
	lookup(t, PVA_SF_ROOT_NODE, "n4", PVA_S_EMFILE);
	lookup(t, PVA_SF_ROOT_NODE, "n0", PVA_S_OK);	/* known: fine */
	assert_int_equal(create_op(t, PVA_SF_MKDIR, PVA_SF_ROOT_NODE, "dd", 0,
				   0700, NULL, NULL), PVA_S_EMFILE);
	assert_false(host_exists(path(t, "dd")));
	assert_int_equal(sf_status(t, "nodes"), 6);
	assert_int_equal(sf_status(t, "handles"), 4);
	assert_int_equal(sf_status(t, "emfile"), 4);
	/* mounts count too: each holds its root */
	do_mount(t, "ro", 0, PVA_S_EMFILE);
}

/* ---- directories ---- */

#define NFILES	10000

static void test_readdir_large(void **state)
{
	struct t *t = *state;
	static uint8_t seen[NFILES];
	struct pva_sf_readdir rq = { 0 };
	struct pva_sf_readdir_out ro;
	uint64_t d, cookie = 0, mid = 0;
	unsigned int total = 0, calls = 0;
	char name[32], dir[512];

	snprintf(dir, sizeof(dir), "%s", path(t, "big"));
	assert_int_equal(mkdir(dir, 0755), 0);
	for (int i = 0; i < NFILES; i++) {
		snprintf(name, sizeof(name), "file-%05d", i);
		put(dir, name, "");
	}
	mount_s(t);
	d = lookup(t, PVA_SF_ROOT_NODE, "big", PVA_S_OK);
	rq.r.mount = pva_cpu32(t->mount);
	rq.node = pva_cpu64(d);
	rq.max_bytes = pva_cpu32(4096);
	for (;;) {
		uint32_t off = sizeof(ro);

		rq.cookie = pva_cpu64(cookie);
		assert_int_equal(call(t, PVA_SF_READDIR, &rq, sizeof(rq)), PVA_S_OK);
		assert_true(out_len <= 4096 + sizeof(ro));
		memcpy(&ro, out, sizeof(ro));
		calls++;
		for (uint32_t i = 0; i < pva_le32(ro.count); i++) {
			struct pva_sf_dirent e;
			uint32_t nl;
			int k;

			memcpy(&e, out + off, sizeof(e));
			nl = pva_le32(e.name_len);
			assert_true(nl < sizeof(name));
			memcpy(name, out + off + sizeof(e), nl);
			name[nl] = 0;
			assert_int_equal(sscanf(name, "file-%d", &k), 1);
			assert_true(k >= 0 && k < NFILES);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
			assert_int_equal(pva_le32(e.type), DT_REG);
			off += (uint32_t)((sizeof(e) + nl + 7) & ~7u);
			cookie = pva_le64(e.next);
			total++;
			if (total == NFILES / 2)
				mid = cookie;
		}
		assert_int_equal(off, out_len);
		if (pva_le32(ro.eof))
			break;
		assert_true(pva_le32(ro.count) > 0);
	}
	assert_int_equal(total, NFILES);
	assert_true(calls > 10);
	/* resuming from the middle again gives the other half */
	rq.cookie = pva_cpu64(mid);
	rq.max_bytes = pva_cpu32(60000);
	total = 0;
	do {
		uint32_t off = sizeof(ro);

		assert_int_equal(call(t, PVA_SF_READDIR, &rq, sizeof(rq)), PVA_S_OK);
		memcpy(&ro, out, sizeof(ro));
		for (uint32_t i = 0; i < pva_le32(ro.count); i++) {
			struct pva_sf_dirent e;

			memcpy(&e, out + off, sizeof(e));
			off += (uint32_t)((sizeof(e) + pva_le32(e.name_len) + 7) & ~7u);
			rq.cookie = e.next;
			total++;
		}
	} while (!pva_le32(ro.eof));
	assert_int_equal(total, NFILES - NFILES / 2);
	/* too small for one entry; not a directory; an empty directory */
	rq.cookie = 0;
	rq.max_bytes = pva_cpu32(8);
	assert_int_equal(call(t, PVA_SF_READDIR, &rq, sizeof(rq)), PVA_S_EINVAL);
	rq.node = pva_cpu64(PVA_SF_ROOT_NODE + 1000);
	assert_int_equal(call(t, PVA_SF_READDIR, &rq, sizeof(rq)), PVA_S_ESTALE);
	assert_int_equal(mkdir(path(t, "empty"), 0755), 0);
	rq.node = pva_cpu64(lookup(t, PVA_SF_ROOT_NODE, "empty", PVA_S_OK));
	rq.max_bytes = pva_cpu32(4096);
	assert_int_equal(call(t, PVA_SF_READDIR, &rq, sizeof(rq)), PVA_S_OK);
	memcpy(&ro, out, sizeof(ro));
	assert_int_equal(pva_le32(ro.count), 0);
	assert_int_equal(pva_le32(ro.eof), 1);
}

/* ---- xattrs and locks ---- */

/* READDIR_PLUS: each record carries the entry LOOKUP would give. */
static void test_readdir_plus(void **state)
{
	struct t *t = *state;
	struct pva_sf_readdir rq = { 0 };
	struct pva_sf_readdir_out ro;
	static uint8_t ans[4096 + sizeof(ro)];
	uint32_t off, len;
	char dir[512];
	int seen = 0;

	snprintf(dir, sizeof(dir), "%s", path(t, "plus"));
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "a", "12345");
	assert_int_equal(mkdir(path(t, "plus/sub"), 0700), 0);
	mount_s(t);
	rq.r.mount = pva_cpu32(t->mount);
	rq.node = pva_cpu64(lookup(t, PVA_SF_ROOT_NODE, "plus", PVA_S_OK));
	rq.max_bytes = pva_cpu32(4096);
	rq.flags = pva_cpu32(PVA_SF_READDIR_PLUS);
	assert_int_equal(call(t, PVA_SF_READDIR, &rq, sizeof(rq)), PVA_S_OK);
	/* lookup() below reuses out: keep the answer */
	len = out_len;
	assert_true(len <= sizeof(ans));
	memcpy(ans, out, len);
	memcpy(&ro, ans, sizeof(ro));
	assert_int_equal(pva_le32(ro.count), 2);
	assert_int_equal(pva_le32(ro.eof), 1);
	off = sizeof(ro);
	for (int i = 0; i < 2; i++) {
		struct pva_sf_dirent d;
		struct pva_sf_entry e;
		char name[8] = { 0 };
		uint32_t nl;

		memcpy(&d, ans + off, sizeof(d));
		memcpy(&e, ans + off + sizeof(d), sizeof(e));
		nl = pva_le32(d.name_len);
		assert_true(nl < sizeof(name));
		memcpy(name, ans + off + sizeof(d) + sizeof(e), nl);
		assert_true(pva_le64(e.node) > PVA_SF_ROOT_NODE);
		assert_int_equal(pva_le64(e.attr.ino), pva_le64(d.ino));
		/* the same node a LOOKUP gives */
		assert_int_equal(lookup(t, pva_le64(rq.node), name, PVA_S_OK),
				 pva_le64(e.node));
		if (!strcmp(name, "a")) {
			assert_int_equal(pva_le64(e.attr.size), 5);
			assert_true(S_ISREG(pva_le32(e.attr.mode)));
			seen |= 1;
		} else {
			assert_string_equal(name, "sub");
			assert_int_equal(pva_le32(e.attr.mode), S_IFDIR | 0700);
			seen |= 2;
		}
		off += (uint32_t)((sizeof(d) + sizeof(e) + nl + 7) & ~7u);
	}
	assert_int_equal(off, len);
	assert_int_equal(seen, 3);
	/* flags the host does not know are refused */
	rq.flags = pva_cpu32(2);
	assert_int_equal(call(t, PVA_SF_READDIR, &rq, sizeof(rq)), PVA_S_EINVAL);
}

static void test_xattr(void **state)
{
	struct t *t = *state;
	uint64_t f;
	__le32 len;

	put(t->share, "f", "x");
	mount_s(t);
	f = lookup(t, PVA_SF_ROOT_NODE, "f", PVA_S_OK);
	if (setxattr(path(t, "f"), "user.probe", "1", 1, 0) < 0) {
		skip();		/* no user xattrs on this file system */
		return;
	}
	removexattr(path(t, "f"), "user.probe");
	assert_int_equal(xattr_op(t, PVA_SF_SETXATTR, f, "user.color", "blue", 4,
				  XATTR_CREATE), PVA_S_OK);
	assert_int_equal(xattr_op(t, PVA_SF_SETXATTR, f, "user.color", "red", 3,
				  XATTR_CREATE), PVA_S_EEXIST);
	assert_int_equal(xattr_op(t, PVA_SF_SETXATTR, f, "user.none", "x", 1,
				  XATTR_REPLACE), PVA_S_ENODATA);
	assert_int_equal(xattr_op(t, PVA_SF_GETXATTR, f, "user.color", NULL, 0, 0),
			 PVA_S_OK);
	memcpy(&len, out, 4);
	assert_int_equal(pva_le32(len), 4);
	assert_int_equal(xattr_op(t, PVA_SF_GETXATTR, f, "user.color", NULL, 2, 0),
			 PVA_S_ERANGE);
	assert_int_equal(xattr_op(t, PVA_SF_GETXATTR, f, "user.color", NULL, 100, 0),
			 PVA_S_OK);
	assert_int_equal(out_len, 4);
	assert_memory_equal(out, "blue", 4);
	/* host-only namespaces stay the host's */
	assert_int_equal(xattr_op(t, PVA_SF_SETXATTR, f, "trusted.x", "1", 1, 0),
			 PVA_S_EPERM);
	assert_int_equal(xattr_op(t, PVA_SF_SETXATTR, f, "security.capability",
				  "1", 1, 0), PVA_S_EPERM);
	assert_int_equal(xattr_op(t, PVA_SF_GETXATTR, f, "security.selinux", NULL,
				  100, 0), PVA_S_ENODATA);
	if (geteuid() == 0)
		assert_int_equal(setxattr(path(t, "f"), "trusted.host", "h", 1, 0), 0);
	assert_int_equal(xattr_op(t, PVA_SF_LISTXATTR, f, NULL, NULL, 0, 0),
			 PVA_S_OK);
	memcpy(&len, out, 4);
	assert_int_equal(pva_le32(len), 11);
	assert_int_equal(xattr_op(t, PVA_SF_LISTXATTR, f, NULL, NULL, 5, 0),
			 PVA_S_ERANGE);
	assert_int_equal(xattr_op(t, PVA_SF_LISTXATTR, f, NULL, NULL, 100, 0),
			 PVA_S_OK);
	assert_int_equal(out_len, 11);
	assert_memory_equal(out, "user.color", 11);
	assert_int_equal(xattr_op(t, PVA_SF_REMOVEXATTR, f, "user.color", NULL, 0, 0),
			 PVA_S_OK);
	assert_int_equal(xattr_op(t, PVA_SF_GETXATTR, f, "user.color", NULL, 10, 0),
			 PVA_S_ENODATA);
	assert_int_equal(xattr_op(t, PVA_SF_REMOVEXATTR, f, "trusted.host", NULL, 0, 0),
			 PVA_S_EPERM);
	assert_int_equal(xattr_op(t, PVA_SF_SETXATTR, f, "user.a", "1", 1, 3),
			 PVA_S_EINVAL);
	assert_int_equal(xattr_op(t, PVA_SF_GETXATTR, f, "", NULL, 10, 0),
			 PVA_S_EINVAL);
}

static void test_locks(void **state)
{
	struct t *t = *state;
	struct pva_sf_lock l;
	uint64_t f, a, b, ro;

	put(t->share, "f", "0123456789");
	mount_s(t);
	f = lookup(t, PVA_SF_ROOT_NODE, "f", PVA_S_OK);
	assert_int_equal(open_node(t, f, PVA_SF_O_RDWR, &a), PVA_S_OK);
	assert_int_equal(open_node(t, f, PVA_SF_O_RDWR, &b), PVA_S_OK);
	assert_int_equal(open_node(t, f, PVA_SF_O_RDONLY, &ro), PVA_S_OK);
	assert_int_equal(lock_op(t, a, 1, 0, 99, 1, PVA_SF_SETLK), PVA_S_OK);
	/* the same owner again, through another handle: fine */
	assert_int_equal(lock_op(t, b, 1, 10, 20, 1, PVA_SF_SETLK), PVA_S_OK);
	/* another owner conflicts and never waits */
	assert_int_equal(lock_op(t, b, 2, 50, 60, 0, PVA_SF_SETLK), PVA_S_EAGAIN);
	assert_int_equal(lock_op(t, b, 2, 100, ~0ull, 1, PVA_SF_SETLK), PVA_S_OK);
	assert_int_equal(lock_op(t, b, 3, 55, 55, 0, PVA_SF_GETLK), PVA_S_OK);
	memcpy(&l, out, sizeof(l));
	assert_int_equal(pva_le32(l.type), 1);
	assert_int_equal(pva_le64(l.start), 0);
	assert_int_equal(pva_le64(l.end), 99);
	assert_int_equal(pva_le32(l.pid), 0);
	assert_int_equal(lock_op(t, b, 3, 1000, 1000, 0, PVA_SF_GETLK), PVA_S_OK);
	memcpy(&l, out, sizeof(l));
	assert_int_equal(pva_le64(l.end), ~0ull);
	assert_int_equal(lock_op(t, a, 1, 0, ~0ull, 2, PVA_SF_SETLK), PVA_S_OK);
	assert_int_equal(lock_op(t, b, 3, 55, 55, 1, PVA_SF_GETLK), PVA_S_OK);
	memcpy(&l, out, sizeof(l));
	assert_int_equal(pva_le32(l.type), 2);
	/* a write lock needs a handle opened for writing */
	assert_int_equal(lock_op(t, ro, 4, 0, 1, 1, PVA_SF_SETLK), PVA_S_EBADF);
	assert_int_equal(lock_op(t, ro, 5, 0, 1, 0, PVA_SF_SETLK), PVA_S_OK);
	/* malformed */
	assert_int_equal(lock_op(t, a, 1, 5, 4, 1, PVA_SF_SETLK), PVA_S_EINVAL);
	assert_int_equal(lock_op(t, a, 1, 0, 4, 3, PVA_SF_SETLK), PVA_S_EINVAL);
	assert_int_equal(lock_op(t, a, 1, 0, 4, 1, 2), PVA_S_EINVAL);
	assert_int_equal(lock_op(t, 999, 1, 0, 4, 1, PVA_SF_SETLK), PVA_S_EBADF);
	assert_true(sf_status(t, "lock_owners") >= 2);
	/* closing every handle drops every owner and its locks */
	assert_int_equal(release(t, a), PVA_S_OK);
	assert_int_equal(release(t, b), PVA_S_OK);
	assert_int_equal(release(t, ro), PVA_S_OK);
	assert_int_equal(sf_status(t, "lock_owners"), 0);
	assert_int_equal(open_node(t, f, PVA_SF_O_RDWR, &a), PVA_S_OK);
	assert_int_equal(lock_op(t, a, 9, 0, ~0ull, 1, PVA_SF_SETLK), PVA_S_OK);
}

/* ---- notifications ---- */

static int find_note(struct t *t, uint64_t dir, uint32_t mask,
		     const char *name)
{
	for (int i = 0; i < t->nnotes; i++)
		if (pva_le64(t->notes[i].n.dir) == dir &&
		    (pva_le32(t->notes[i].n.mask) & mask) &&
		    !strcmp(t->notes[i].name, name))
			return i;
	return -1;
}

static void poll_notes(struct t *t)
{
	sf_poll_notify(t->svc);
	receive(t, 0);
}

static void test_notify(void **state)
{
	struct t *t = *state;
	uint64_t sub, fh;
	int i, j;

	assert_int_equal(mkdir(path(t, "sub"), 0755), 0);
	mount_s(t);
	sub = lookup(t, PVA_SF_ROOT_NODE, "sub", PVA_S_OK);
	assert_true(sf_status(t, "watches") >= 2);
	/* host-side changes */
	put(t->share, "hostfile", "1");
	poll_notes(t);
	assert_true(find_note(t, PVA_SF_ROOT_NODE, PVA_SF_N_CREATE, "hostfile") >= 0);
	assert_true(find_note(t, PVA_SF_ROOT_NODE, PVA_SF_N_MODIFY, "hostfile") >= 0);
	assert_int_equal(pva_le32(t->notes[0].n.mount), t->mount);
	t->nnotes = 0;
	assert_int_equal(rename(path(t, "hostfile"), path(t, "sub/moved")), 0);
	poll_notes(t);
	i = find_note(t, PVA_SF_ROOT_NODE, PVA_SF_N_MOVED_FROM, "hostfile");
	j = find_note(t, sub, PVA_SF_N_MOVED_TO, "moved");
	assert_true(i >= 0 && j >= 0);
	assert_int_equal(t->notes[i].n.cookie, t->notes[j].n.cookie);
	assert_true(t->notes[i].n.cookie != 0);
	t->nnotes = 0;
	assert_int_equal(unlink(path(t, "sub/moved")), 0);
	assert_int_equal(chmod(path(t, "sub"), 0700), 0);
	poll_notes(t);
	assert_true(find_note(t, sub, PVA_SF_N_DELETE, "moved") >= 0);
	assert_true(find_note(t, PVA_SF_ROOT_NODE, PVA_SF_N_ATTRIB, "sub") >= 0);
	/* the guest's own changes are not echoed */
	t->nnotes = 0;
	assert_int_equal(create_op(t, PVA_SF_CREATE, sub, "guestfile",
				   PVA_SF_O_RDWR, 0600, NULL, &fh), PVA_S_OK);
	assert_int_equal(sf_write(t, fh, 0, "abc", 3), PVA_S_OK);
	assert_int_equal(rename_op(t, sub, "guestfile", PVA_SF_ROOT_NODE, "g2", 0),
			 PVA_S_OK);
	assert_int_equal(name_op(t, PVA_SF_UNLINK, PVA_SF_ROOT_NODE, "g2", 2),
			 PVA_S_OK);
	poll_notes(t);
	assert_int_equal(t->nnotes, 0);
	assert_true(sf_status(t, "notify_own") >= 4);
	/* the directory going away: its parent says so (the node holds the
	 * inode, so there is no IN_DELETE_SELF yet)
	 */
	assert_int_equal(rmdir(path(t, "sub")), 0);
	poll_notes(t);
	assert_true(find_note(t, PVA_SF_ROOT_NODE, PVA_SF_N_DELETE, "sub") >= 0);
	assert_true(sf_status(t, "notify_sent") > 0);
}

/* ---- resets and hostile messages ---- */

static void test_reset(void **state)
{
	struct t *t = *state;
	struct pva_sf_req r = { 0 };
	uint64_t f, fh;

	put(t->share, "f", "x");
	mount_s(t);
	f = lookup(t, PVA_SF_ROOT_NODE, "f", PVA_S_OK);
	assert_int_equal(open_node(t, f, PVA_SF_O_RDWR, &fh), PVA_S_OK);
	assert_int_equal(lock_op(t, fh, 1, 0, 9, 1, PVA_SF_SETLK), PVA_S_OK);
	assert_int_equal(sf_status(t, "nodes"), 2);
	/* the guest renegotiates: everything it had is forgotten */
	assert_int_equal(fg_negotiate(&t->g), 0);
	assert_int_equal(sf_status(t, "mounts"), 0);
	assert_int_equal(sf_status(t, "nodes"), 0);
	assert_int_equal(sf_status(t, "handles"), 0);
	assert_int_equal(sf_status(t, "lock_owners"), 0);
	assert_int_equal(sf_status(t, "watches"), 0);
	getattr(t, f, PVA_S_ESTALE);
	assert_int_equal(sf_read(t, fh, 0, 1), PVA_S_ESTALE);
	/* the shares stay */
	assert_int_equal(call(t, PVA_SF_SHARES, &r, sizeof(r)), PVA_S_OK);
	assert_int_equal(out_len, 5);
	mount_s(t);
	f = lookup(t, PVA_SF_ROOT_NODE, "f", PVA_S_OK);
	assert_int_equal(open_node(t, f, PVA_SF_O_RDWR, &fh), PVA_S_OK);
	assert_int_equal(lock_op(t, fh, 2, 0, 9, 1, PVA_SF_SETLK), PVA_S_OK);
}

static void test_malformed(void **state)
{
	struct t *t = *state;
	uint8_t junk[64];
	int64_t bad;

	mount_s(t);
	memset(junk, 0xff, sizeof(junk));
	for (uint16_t type = 1; type <= PVA_SF_LOCK; type++) {
		struct pva_sf_req r = { .mount = pva_cpu32(t->mount) };

		if (type == PVA_SF_FORGET || type == PVA_SF_SHARES)
			continue;
		/* shorter than the struct */
		assert_int_equal(call(t, type, &r, 4), PVA_S_EINVAL);
		/* a hostile struct: mostly EINVAL, never OK */
		memcpy(junk, &r, sizeof(r));
		assert_int_not_equal(call(t, type, junk, sizeof(junk)), PVA_S_OK);
	}
	assert_int_equal(call(t, 200, junk, 8), PVA_S_ENOTSUP);
	assert_int_equal(call(t, PVA_SF_NOTIFY, junk, 8), PVA_S_ENOTSUP);
	bad = sf_status(t, "malformed");
	/* responses and unknown events are dropped, no answer */
	assert_int_equal(fg_send(&t->g, SF, PVA_SF_LOOKUP, PVA_MSG_F_RESPONSE, 7,
				 junk, 8), 0);
	assert_int_equal(fg_send(&t->g, SF, PVA_SF_LOOKUP, 0, 0, junk, 8), 0);
	assert_int_equal(fg_send(&t->g, SF, 999, 0, 0, junk, 8), 0);
	assert_int_equal(receive(t, 0), -1);
	assert_int_equal(sf_status(t, "malformed"), bad + 1);
	/* an event FORGET with a count past the payload */
	{
		struct pva_sf_forget f = {
			.r.mount = pva_cpu32(t->mount), .count = pva_cpu32(1u << 30),
		};

		assert_int_equal(fg_send(&t->g, SF, PVA_SF_FORGET, 0, 0, &f,
					 sizeof(f)), 0);
		assert_int_equal(sf_status(t, "malformed"), bad + 2);
	}
	assert_true(device_negotiated(t->g.dev));
	getattr(t, PVA_SF_ROOT_NODE, PVA_S_OK);
	/* requests for an unknown mount */
	t->mount += 100;
	getattr(t, PVA_SF_ROOT_NODE, PVA_S_ESTALE);
}

static void test_state_file(void **state)
{
	struct t *t = *state;
	struct fake_guest g2;
	struct service *svc;
	char file[256], err[128], extra[256];

	snprintf(file, sizeof(file), "%s/state.json", t->top);
	snprintf(extra, sizeof(extra), "%s/extra", t->top);
	assert_int_equal(mkdir(extra, 0755), 0);
	sf_set_state_file(t->svc, file, false);
	assert_int_equal(sf_share_add(t->svc, "extra", extra, true, err,
				      sizeof(err)), 0);
	assert_int_equal(sf_share_add(t->svc, "extra", extra, true, err,
				      sizeof(err)), -EEXIST);
	assert_int_equal(sf_share_add(t->svc, "Bad/Name", extra, true, err,
				      sizeof(err)), -EINVAL);
	assert_int_equal(sf_share_add(t->svc, "rel", "relative", true, err,
				      sizeof(err)), -EINVAL);
	assert_int_equal(sf_share_add(t->svc, "gone", "/nonexistent/x", true, err,
				      sizeof(err)), -ENOENT);
	assert_int_equal(sf_share_remove(t->svc, "s"), 0);
	/* a restarted worker: a new service, restoring the list */
	sf_set_state_file(t->svc, file, false);	/* marks, removes */
	assert_false(host_exists(file));
	assert_int_equal(sf_share_remove(t->svc, "ro"), 0);
	assert_int_equal(sf_share_add(t->svc, "ro2", t->ro, true, err,
				      sizeof(err)), 0);
	sf_state_save(sf_of(t->svc));	/* as pva-hostctl share add does */
	assert_true(host_exists(file));
	assert_int_equal(fg_init_with(&g2, &sf_service_ops), 0);
	svc = device_find_service(g2.dev, "sf");
	assert_int_equal(sf_share_add(svc, "cli", extra, false, err,
				      sizeof(err)), 0);
	sf_set_state_file(svc, file, true);
	{
		struct json_object *o = json_object_new_object(), *s, *e, *f, *v;

		device_status(g2.dev, o);
		json_object_object_get_ex(o, "services", &s);
		e = json_object_array_get_idx(s, SF);
		json_object_object_get_ex(e, "sf", &f);
		json_object_object_get_ex(f, "shares", &v);
		assert_int_equal(json_object_get_int64(v), 2);	/* extra, ro2 */
		json_object_put(o);
	}
	fg_fini(&g2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shares_mount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setattr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confinement_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confinement_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdir_plus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdir_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xattr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
