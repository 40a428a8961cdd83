// SPDX-License-Identifier: GPL-2.0
/*
 * pvasf POSIX record locks (fcntl F_SETLK/F_SETLKW/F_GETLK, OFD locks).
 * The host arbitrates between everyone who uses the share; the guest keeps
 * a copy of what its own processes hold, so close(2) drops them, F_GETLK
 * names a guest holder's pid and /proc/locks shows them. Ordering keeps
 * the guest's copy a subset of what the host holds: lock on the host
 * first, unlock in the guest first. flock(2) stays local to the guest.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/siphash.h>

#include "pva_sf.h"

/* Lock owners are kernel pointers: the host sees them keyed, not raw. */
static siphash_key_t pva_sf_owner_key;

void pva_sf_lock_init(void)
{
	get_random_bytes(&pva_sf_owner_key, sizeof(pva_sf_owner_key));
}

static u32 pva_sf_lock_type(unsigned char type)
{
	switch (type) {
	case F_RDLCK:
		return PVA_SF_LOCK_RD;
	case F_WRLCK:
		return PVA_SF_LOCK_WR;
	default:
		return PVA_SF_LOCK_UN;
	}
}

/* One LOCK request for @fl as @type; GETLK's answer goes to @out. */
static int pva_sf_lock_call(struct file *file, struct file_lock *fl,
			    unsigned char type, u32 cmd, struct pva_sf_lock *out)
{
	struct inode *inode = file_inode(file);
	u64 owner = siphash_1u64((unsigned long)PVA_FL_OWNER(fl),
				 &pva_sf_owner_key);
	struct pva_sf_lock req = {
		.owner = cpu_to_le64(owner),
		.start = cpu_to_le64(fl->fl_start),
		.end = cpu_to_le64(fl->fl_end == OFFSET_MAX ? U64_MAX :
				   fl->fl_end),
		.type = cpu_to_le32(pva_sf_lock_type(type)),
		.cmd = cpu_to_le32(cmd),
	};
	u64 fh;
	u32 len;
	int err;

	err = pva_sf_file_fh(file, &fh);
	if (err)
		return err;
	req.fh = cpu_to_le64(fh);
	err = pva_sf_call(PVA_SF_SB(inode->i_sb), PVA_SF_LOCK, &req,
			  sizeof(req), NULL, 0, NULL, 0, out,
			  out ? sizeof(*out) : 0, &len);
	if (!err && out && len != sizeof(*out))
		err = -EPROTO;
	return err;
}

/* F_GETLK: a guest holder first (its pid is known), then the host. */
static int pva_sf_getlk(struct file *file, struct file_lock *fl)
{
	unsigned char type = PVA_FL_TYPE(fl);
	struct pva_sf_lock out;
	u64 end;
	int err;

	posix_test_lock(file, fl);
	if (PVA_FL_TYPE(fl) != F_UNLCK)
		return 0;
	err = pva_sf_lock_call(file, fl, type, PVA_SF_GETLK, &out);
	if (err)
		return err;
	switch (le32_to_cpu(out.type)) {
	case PVA_SF_LOCK_UN:
		PVA_FL_TYPE(fl) = F_UNLCK;
		return 0;
	case PVA_SF_LOCK_RD:
		PVA_FL_TYPE(fl) = F_RDLCK;
		break;
	case PVA_SF_LOCK_WR:
		PVA_FL_TYPE(fl) = F_WRLCK;
		break;
	default:
		return -EPROTO;
	}
	end = le64_to_cpu(out.end);
	if (le64_to_cpu(out.start) > OFFSET_MAX ||
	    (end != U64_MAX && end > OFFSET_MAX))
		return -EPROTO;
	fl->fl_start = le64_to_cpu(out.start);
	fl->fl_end = end == U64_MAX ? OFFSET_MAX : end;
	PVA_FL_PID(fl) = 0;	/* held by someone outside this guest */
	return 0;
}

/* F_SETLK(W) to lock: the host grants (retried for SETLKW), then ours. */
static int pva_sf_setlk(struct file *file, int cmd, struct file_lock *fl)
{
	unsigned long delay = 1;
	int err;

	for (;;) {
		err = pva_sf_lock_call(file, fl, PVA_FL_TYPE(fl), PVA_SF_SETLK,
				       NULL);
		if (err != -EAGAIN || !IS_SETLKW(cmd))
			break;
		/* the host never waits: poll, backing off to 250 ms */
		if (schedule_timeout_interruptible(delay) ||
		    signal_pending(current))
			return -ERESTARTSYS;
		delay = min_t(unsigned long, delay * 2, HZ / 4);
	}
	if (err)
		return err;
	err = locks_lock_file_wait(file, fl);
	if (err)
		dev_warn_ratelimited(PVA_SF_SB(file_inode(file)->i_sb)->conn->dev,
				     "lock granted by the host but not kept: %d\n",
				     err);
	return err;
}

int pva_sf_lock(struct file *file, int cmd, struct file_lock *fl)
{
	struct pva_sf_sb *s = PVA_SF_SB(file_inode(file)->i_sb);
	int err;

	if (!(PVA_FL_FLAGS(fl) & FL_POSIX))
		return -ENOLCK;
	if (!(s->conn->features & PVA_SF_F_LOCKS)) {
		/* a host without locks: the guest's own processes only */
		if (IS_GETLK(cmd)) {
			posix_test_lock(file, fl);
			return 0;
		}
		return locks_lock_file_wait(file, fl);
	}
	if (IS_GETLK(cmd))
		return pva_sf_getlk(file, fl);
	if (PVA_FL_TYPE(fl) != F_UNLCK)
		return pva_sf_setlk(file, cmd, fl);
	/* unlock: ours first, then the host's (also at close) */
	err = locks_lock_file_wait(file, fl);
	pva_sf_lock_call(file, fl, F_UNLCK, PVA_SF_SETLK, NULL);
	return err;
}
