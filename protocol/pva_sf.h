/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * pva wire protocol: the shared-folder service (type PVA_SVC_SF, name
 * "sf"), protocol/PROTOCOL.md section 6.6. Included by pva_protocol.h.
 *
 * The guest names files by node ids the host hands out (one per host
 * inode it has looked up, counted like FUSE's nlookup), never by paths, so
 * the host resolves one name at a time inside a directory it already holds
 * and nothing can walk out of a share. Open files are handles (fh).
 *
 * Every request carries one of the structs below, then the names it needs
 * (not NUL-terminated; lengths in the struct). Answers carry the struct
 * named with the request, or nothing; errors are PVA_S_* in the header.
 */
#ifndef PVA_SF_H
#define PVA_SF_H

#define PVA_SF_NAME_MAX		255	/* bytes in one name */
#define PVA_SF_PATH_MAX		4096	/* a symlink target with its NUL:
					 * at most 4095 bytes are sent
					 */
#define PVA_SF_SHARE_NAME_MAX	63
#define PVA_SF_XATTR_NAME_MAX	255
#define PVA_SF_XATTR_SIZE_MAX	65000	/* fits one message */
#define PVA_SF_IO_MAX		65536	/* bytes per READ */
#define PVA_SF_WRITE_MAX	61440	/* bytes per WRITE: the largest page
					 * multiple that fits one message
					 * after its pva_sf_io
					 */
#define PVA_SF_ROOT_NODE	1	/* of every mounted share */

/* Service features (pva_service_desc.features) */
#define PVA_SF_F_NOTIFY		(1ull << 0)	/* host sends SF_NOTIFY */
#define PVA_SF_F_XATTR		(1ull << 1)	/* extended attributes */
#define PVA_SF_F_LOCKS		(1ull << 2)	/* POSIX record locks */
#define PVA_SF_F_READDIRPLUS	(1ull << 3)	/* READDIR with entries */
#define PVA_SF_F_KNOWN		(PVA_SF_F_NOTIFY | PVA_SF_F_XATTR | \
				 PVA_SF_F_LOCKS | PVA_SF_F_READDIRPLUS)

/* Message types */
#define PVA_SF_SHARES		1	/* -> names of the shares, NUL-separated */
#define PVA_SF_MOUNT		2	/* sf_mount + name -> sf_mount_out */
#define PVA_SF_UNMOUNT		3	/* sf_node: the mount is r.mount,
					 * node is 0
					 */
#define PVA_SF_LOOKUP		4	/* sf_name + name -> sf_entry */
#define PVA_SF_FORGET		5	/* event: sf_forget[] */
#define PVA_SF_GETATTR		6	/* sf_node -> sf_attr */
#define PVA_SF_SETATTR		7	/* sf_setattr -> sf_attr */
#define PVA_SF_OPEN		8	/* sf_open -> sf_open_out */
#define PVA_SF_CREATE		9	/* sf_create + name -> sf_create_out */
#define PVA_SF_RELEASE		10	/* sf_fh */
#define PVA_SF_READ		11	/* sf_io -> data */
#define PVA_SF_WRITE		12	/* sf_io + data -> sf_written */
#define PVA_SF_READDIR		13	/* sf_readdir -> sf_readdir_out +
					 * sf_dirent records (8-byte aligned)
					 */
#define PVA_SF_MKDIR		14	/* sf_create + name -> sf_entry */
#define PVA_SF_MKNOD		15	/* sf_create + name -> sf_entry */
#define PVA_SF_UNLINK		16	/* sf_name + name */
#define PVA_SF_RMDIR		17	/* sf_name + name */
#define PVA_SF_RENAME		18	/* sf_rename + old name + new name */
#define PVA_SF_SYMLINK		19	/* sf_symlink + name + target -> sf_entry */
#define PVA_SF_READLINK		20	/* sf_node -> target */
#define PVA_SF_LINK		21	/* sf_link + new name -> sf_entry */
#define PVA_SF_STATFS		22	/* sf_node -> sf_statfs */
#define PVA_SF_FSYNC		23	/* sf_fsync */
#define PVA_SF_GETXATTR		24	/* sf_xattr + name -> value */
#define PVA_SF_SETXATTR		25	/* sf_xattr + name + value */
#define PVA_SF_LISTXATTR	26	/* sf_xattr -> names, NUL-terminated */
#define PVA_SF_REMOVEXATTR	27	/* sf_xattr + name */
#define PVA_SF_LOCK		28	/* sf_lock -> sf_lock (GETLK) */
#define PVA_SF_NOTIFY		29	/* h->g event: sf_notify + name */

/* Every request starts with the mount it is about. */
struct pva_sf_req {
	__le32 mount;		/* from SF_MOUNT */
	__le32 reserved;
};

/* Attributes, as stat(2) has them. */
struct pva_sf_attr {
	__le64 ino;
	__le64 size;
	__le64 blocks;		/* 512-byte units */
	__le64 atime, mtime, ctime;	/* seconds */
	__le32 atime_ns, mtime_ns, ctime_ns;
	__le32 mode;		/* type and permissions, Linux values */
	__le32 nlink;
	__le32 uid, gid;
	__le32 rdev;
	__le32 blksize;
	__le32 reserved[3];
};

struct pva_sf_mount {
	struct pva_sf_req r;	/* r.mount is 0 */
	__le32 flags;		/* PVA_SF_MOUNT_RO: the guest wants read-only */
	__le32 name_len;	/* then the share's name */
};

#define PVA_SF_MOUNT_RO		(1u << 0)

struct pva_sf_mount_out {
	__le32 mount;		/* id for later requests */
	__le32 flags;		/* PVA_SF_MOUNT_RO if the share is read-only */
	__le64 root;		/* PVA_SF_ROOT_NODE */
	struct pva_sf_attr attr;
};

struct pva_sf_node {
	struct pva_sf_req r;
	__le64 node;
};

struct pva_sf_entry {
	__le64 node;		/* never 0: a missing name is ENOENT */
	__le64 generation;	/* changes if a node id is reused */
	struct pva_sf_attr attr;
};

/* A name in a directory: LOOKUP, UNLINK, RMDIR. */
struct pva_sf_name {
	struct pva_sf_req r;
	__le64 parent;
	__le32 name_len;
	__le32 reserved;
};

struct pva_sf_forget_one {
	__le64 node;
	__le64 nlookup;		/* how many lookups the guest drops */
};

struct pva_sf_forget {
	struct pva_sf_req r;
	__le32 count;		/* then count pva_sf_forget_one */
	__le32 reserved;
};

/* pva_sf_setattr.valid */
#define PVA_SF_SET_MODE		(1u << 0)
#define PVA_SF_SET_UID		(1u << 1)
#define PVA_SF_SET_GID		(1u << 2)
#define PVA_SF_SET_SIZE		(1u << 3)
#define PVA_SF_SET_ATIME	(1u << 4)
#define PVA_SF_SET_MTIME	(1u << 5)
#define PVA_SF_SET_ATIME_NOW	(1u << 6)
#define PVA_SF_SET_MTIME_NOW	(1u << 7)
#define PVA_SF_SET_FH		(1u << 8)	/* fh is valid (ftruncate) */
#define PVA_SF_SET_KNOWN	0x1ffu

struct pva_sf_setattr {
	struct pva_sf_req r;
	__le64 node;
	__le64 fh;
	__le32 valid;		/* PVA_SF_SET_* */
	__le32 mode, uid, gid;
	__le64 size;
	__le64 atime, mtime;
	__le32 atime_ns, mtime_ns;
};

/*
 * Open flags, the protocol's own bits (Linux's O_DIRECT and O_DIRECTORY
 * differ between architectures).
 */
#define PVA_SF_O_RDONLY		0
#define PVA_SF_O_WRONLY		1
#define PVA_SF_O_RDWR		2
#define PVA_SF_O_ACCMODE	3
#define PVA_SF_O_CREAT		(1u << 2)
#define PVA_SF_O_EXCL		(1u << 3)
#define PVA_SF_O_TRUNC		(1u << 4)
#define PVA_SF_O_APPEND		(1u << 5)
#define PVA_SF_O_DIRECT		(1u << 6)
#define PVA_SF_O_DIRECTORY	(1u << 7)
#define PVA_SF_O_KNOWN		0xffu

struct pva_sf_open {
	struct pva_sf_req r;
	__le64 node;
	__le32 flags;		/* PVA_SF_O_* */
	__le32 reserved;
};

struct pva_sf_open_out {
	__le64 fh;
};

struct pva_sf_create {
	struct pva_sf_req r;
	__le64 parent;
	__le32 flags;		/* CREATE: PVA_SF_O_*; others 0 */
	__le32 mode;		/* type (MKNOD) and permissions */
	__le32 rdev;		/* MKNOD */
	__le32 name_len;
	__le32 uid, gid;	/* owner for the new file (guest caller) */
};

struct pva_sf_create_out {
	struct pva_sf_entry entry;
	__le64 fh;
};

struct pva_sf_fh {
	struct pva_sf_req r;
	__le64 fh;
};

struct pva_sf_io {
	struct pva_sf_req r;
	__le64 fh;
	__le64 offset;
	__le32 size;		/* READ: bytes wanted; WRITE: bytes that follow */
	__le32 reserved;
};

struct pva_sf_written {
	__le32 size;
	__le32 reserved;
};

struct pva_sf_readdir {
	struct pva_sf_req r;
	__le64 node;		/* the directory */
	__le64 cookie;		/* 0 first; then the last entry's next */
	__le32 max_bytes;	/* room for records in the answer */
	__le32 flags;		/* PVA_SF_READDIR_PLUS (F_READDIRPLUS) */
};

/*
 * With PLUS every record is a pva_sf_dirent, a pva_sf_entry (node 0: none;
 * else counted as one lookup, like LOOKUP's answer), then the name.
 */
#define PVA_SF_READDIR_PLUS	(1u << 0)

struct pva_sf_readdir_out {
	__le32 count;		/* records that follow */
	__le32 eof;		/* no entries after these */
};

/* One directory entry; records are padded to 8 bytes. */
struct pva_sf_dirent {
	__le64 ino;
	__le64 next;		/* cookie to continue after this entry */
	__le32 type;		/* DT_* */
	__le32 name_len;	/* then the name */
};

struct pva_sf_rename {
	struct pva_sf_req r;
	__le64 old_parent, new_parent;
	__le32 flags;		/* RENAME_NOREPLACE 1, RENAME_EXCHANGE 2 */
	__le32 old_len, new_len;	/* then old name, new name */
	__le32 reserved;
};

#define PVA_SF_RENAME_NOREPLACE	(1u << 0)
#define PVA_SF_RENAME_EXCHANGE	(1u << 1)

struct pva_sf_symlink {
	struct pva_sf_req r;
	__le64 parent;
	__le32 name_len, target_len;	/* then name, target */
	__le32 uid, gid;
};

struct pva_sf_link {
	struct pva_sf_req r;
	__le64 node;		/* the existing file */
	__le64 new_parent;
	__le32 name_len;	/* then the new name */
	__le32 reserved;
};

struct pva_sf_statfs {
	__le64 blocks, bfree, bavail;	/* in bsize units */
	__le64 files, ffree;
	__le32 bsize, namelen;
};

struct pva_sf_fsync {
	struct pva_sf_req r;
	__le64 fh;
	__le32 datasync;
	__le32 reserved;
};

struct pva_sf_xattr {
	struct pva_sf_req r;
	__le64 node;
	__le32 name_len;	/* then the name (not LISTXATTR) */
	__le32 size;		/* GET/LIST: room for the value; SET: value
				 * bytes after the name
				 */
	__le32 flags;		/* SET: XATTR_CREATE 1, XATTR_REPLACE 2 */
	__le32 reserved;
};

struct pva_sf_lock {
	struct pva_sf_req r;
	__le64 fh;
	__le64 owner;		/* the guest's lock owner */
	__le64 start, end;	/* inclusive; end ~0: to EOF */
	__le32 type;		/* PVA_SF_LOCK_RD, _WR, _UN */
	__le32 cmd;		/* PVA_SF_GETLK, _SETLK */
	__le32 pid;		/* GETLK answer: 0, the holder is remote */
	__le32 reserved;
};

#define PVA_SF_LOCK_RD		0	/* lock types: as Linux's F_RDLCK, */
#define PVA_SF_LOCK_WR		1	/* F_WRLCK */
#define PVA_SF_LOCK_UN		2	/* and F_UNLCK */

#define PVA_SF_GETLK		0
#define PVA_SF_SETLK		1	/* never waits: EAGAIN if taken */

/* SF_NOTIFY: something changed in a directory the guest looked into. */
#define PVA_SF_N_CREATE		(1u << 0)
#define PVA_SF_N_DELETE		(1u << 1)
#define PVA_SF_N_MODIFY		(1u << 2)	/* contents */
#define PVA_SF_N_ATTRIB		(1u << 3)
#define PVA_SF_N_MOVED_FROM	(1u << 4)
#define PVA_SF_N_MOVED_TO	(1u << 5)
#define PVA_SF_N_OVERFLOW	(1u << 6)	/* events lost: revalidate all */

struct pva_sf_notify {
	__le32 mount;
	__le32 mask;		/* PVA_SF_N_* */
	__le64 dir;		/* node of the directory */
	__le32 cookie;		/* pairs MOVED_FROM with MOVED_TO */
	__le32 name_len;	/* then the name (may be 0: the dir itself) */
};

PVA_STATIC_ASSERT(sizeof(struct pva_sf_attr) == 96, "sf attr size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_mount) == 16, "sf mount size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_mount_out) == 112, "sf mount_out size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_node) == 16, "sf node size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_entry) == 112, "sf entry size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_name) == 24, "sf name size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_forget) == 16, "sf forget size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_setattr) == 72, "sf setattr size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_open) == 24, "sf open size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_create) == 40, "sf create size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_create_out) == 120, "sf create_out size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_io) == 32, "sf io size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_readdir) == 32, "sf readdir size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_dirent) == 24, "sf dirent size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_rename) == 40, "sf rename size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_symlink) == 32, "sf symlink size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_link) == 32, "sf link size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_statfs) == 48, "sf statfs size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_fsync) == 24, "sf fsync size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_xattr) == 32, "sf xattr size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_lock) == 56, "sf lock size");
PVA_STATIC_ASSERT(sizeof(struct pva_sf_notify) == 24, "sf notify size");

#endif /* PVA_SF_H */
