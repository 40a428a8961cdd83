/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * pva ring: a single-producer single-consumer byte ring in shared memory
 * carrying variable-length messages (struct pva_msg_hdr + payload, padded
 * to 8 bytes; a record may wrap around the end of the data area).
 *
 *   +-------------------------------+  ring offset
 *   | prod | space_event | pad      |  line written only by the producer
 *   +-------------------------------+  + PVA_CACHELINE
 *   | cons | data_event  | pad      |  line written only by the consumer
 *   +-------------------------------+  + 2 * PVA_CACHELINE
 *   | data[size]  (size = 2^n)      |
 *   +-------------------------------+
 *
 * prod and cons are free-running byte counters (mod 2^32); a position is
 * masked with size - 1 only when the data area is accessed. prod - cons is
 * the number of bytes in use and can never exceed size.
 *
 * Each side keeps its own index in private memory (struct pva_ring.local)
 * and only publishes it; it never reads its own index back from shared
 * memory, and it validates the peer's index before use, so a hostile peer
 * cannot make it read or write outside the data area.
 *
 * The helpers are shared by every implementation so that all compute the
 * same thing; they do not notify, lock or sleep: the caller does.
 */
#ifndef PVA_RING_H
#define PVA_RING_H

#include "pva_protocol.h"

struct pva_ring_ctrl {
	__le32 prod;		/* bytes produced (producer-written) */
	__le32 space_event;	/* producer wants a doorbell once cons has
				 * moved past this value (back-pressure)
				 */
	__u8 pad0[PVA_CACHELINE - 8];
	__le32 cons;		/* bytes consumed (consumer-written) */
	__le32 data_event;	/* consumer wants a doorbell once prod has
				 * moved past this value
				 */
	__u8 pad1[PVA_CACHELINE - 8];
};

PVA_STATIC_ASSERT(sizeof(struct pva_ring_ctrl) == 2 * PVA_CACHELINE,
		  "ring control size");

#define PVA_RING_CTRL_SIZE	((__u32)sizeof(struct pva_ring_ctrl))

/* Private (not shared) view of one end of a ring. */
struct pva_ring {
	struct pva_ring_ctrl *ctrl;
	__u8 *data;
	__u32 size;		/* data bytes, power of two */
	__u32 max_payload;	/* pva_ring_max_payload(size) */
	__u32 local;		/* our index: prod if producer, else cons */
	int event_idx;		/* PVA_F_EVENT_IDX negotiated */
};

/* Results of the helpers. */
#define PVA_RING_OK		0
#define PVA_RING_AGAIN		1	/* empty (consumer) / full (producer) */
#define PVA_RING_CORRUPT	(-1)	/* peer index or record invalid */

static inline __u32 pva_msg_record_size(__u32 payload_len)
{
	return ((__u32)sizeof(struct pva_msg_hdr) + payload_len +
		PVA_MSG_ALIGN - 1) & ~(PVA_MSG_ALIGN - 1);
}

/* Largest payload of one message on a ring of @size data bytes. */
static inline __u32 pva_ring_max_payload(__u32 size)
{
	__u32 half = size / 2 - (__u32)sizeof(struct pva_msg_hdr);

	return half < PVA_MSG_MAX ? half : PVA_MSG_MAX;
}

static inline int pva_ring_size_valid(__u32 size)
{
	return size >= PVA_RING_MIN_SIZE && size <= PVA_RING_MAX_SIZE &&
	       (size & (size - 1)) == 0;
}

/*
 * True when an index moving from @old to @new_idx passed @event, i.e. the
 * waiting side asked to be signalled for this move (virtio's event index).
 */
static inline int pva_need_event(__u32 event, __u32 new_idx, __u32 old)
{
	return (__u32)(new_idx - event - 1) < (__u32)(new_idx - old);
}

static inline void pva_ring_attach(struct pva_ring *r, void *ctrl_base,
				   __u32 size, int event_idx)
{
	r->ctrl = (struct pva_ring_ctrl *)ctrl_base;
	r->data = (__u8 *)ctrl_base + PVA_RING_CTRL_SIZE;
	r->size = size;
	r->max_payload = pva_ring_max_payload(size);
	r->local = 0;
	r->event_idx = event_idx;
}

/* Host only: put a ring into its initial state before the guest uses it. */
static inline void pva_ring_reset_shared(struct pva_ring *r)
{
	r->ctrl->prod = 0;
	r->ctrl->cons = 0;
	r->ctrl->space_event = 0;
	r->ctrl->data_event = 0;
	r->local = 0;
}

/*
 * Split the access of @len bytes at free-running position @pos into the
 * part before the end of the data area (returned) and the part that wraps
 * to its start (@len minus the result).
 */
static inline __u32 pva_ring_first_seg(const struct pva_ring *r, __u32 pos,
				       __u32 len)
{
	__u32 off = pos & (r->size - 1);
	__u32 room = r->size - off;

	return len < room ? len : room;
}

static inline void pva_ring_copy_in(struct pva_ring *r, __u32 pos,
				    const void *src, __u32 len)
{
	__u32 first = pva_ring_first_seg(r, pos, len);

	if (!len)
		return;
	memcpy(r->data + (pos & (r->size - 1)), src, first);
	if (len > first)
		memcpy(r->data, (const __u8 *)src + first, len - first);
}

static inline void pva_ring_copy_out(const struct pva_ring *r, __u32 pos,
				     void *dst, __u32 len)
{
	__u32 first = pva_ring_first_seg(r, pos, len);

	if (!len)
		return;
	memcpy(dst, r->data + (pos & (r->size - 1)), first);
	if (len > first)
		memcpy((__u8 *)dst + first, r->data, len - first);
}

/* ---- producer side ---- */

/*
 * Is there room for a record of @rec bytes? Returns PVA_RING_OK,
 * PVA_RING_AGAIN (full) or PVA_RING_CORRUPT (the consumer's index is
 * impossible).
 */
static inline int pva_ring_prod_space(const struct pva_ring *r, __u32 rec)
{
	/* Acquire: our later writes into the freed space must not be
	 * ordered before the consumer's reads that freed it.
	 */
	__u32 cons = pva_le32(pva_load_acquire(&r->ctrl->cons));
	__u32 used = r->local - cons;

	if (used > r->size)
		return PVA_RING_CORRUPT;
	return r->size - used >= rec ? PVA_RING_OK : PVA_RING_AGAIN;
}

/*
 * Publish the record(s) written since the last commit (@rec bytes in all).
 * Returns nonzero when the consumer must be signalled.
 */
static inline int pva_ring_prod_commit(struct pva_ring *r, __u32 rec)
{
	__u32 old = r->local;

	r->local += rec;
	/* Release: the record's bytes are visible before the new prod. */
	pva_store_release(&r->ctrl->prod, pva_cpu32(r->local));
	if (!r->event_idx)
		return 1;
	/* Full barrier: the prod store is ordered before the data_event
	 * load; pairs with the barrier in pva_ring_cons_arm(), so either we
	 * see the consumer's new data_event or it sees our prod.
	 */
	pva_full_barrier();
	return pva_need_event(pva_le32(pva_load_once(&r->ctrl->data_event)),
			      r->local, old);
}

/*
 * The ring is too full for @rec bytes: ask the consumer for a doorbell once
 * enough space is free. Returns PVA_RING_OK if the space became free in the
 * meantime (do not sleep then), PVA_RING_AGAIN to sleep, or
 * PVA_RING_CORRUPT.
 */
static inline int pva_ring_prod_arm(struct pva_ring *r, __u32 rec)
{
	/*
	 * Signal me when half the ring is free (cons reaches local + size/2
	 * - size), not as soon as @rec fits: a streaming producer then wakes
	 * once per half ring instead of once per record. A record is never
	 * larger than half the ring.
	 */
	__u32 want = rec > r->size / 2 ? rec : r->size / 2;

	r->ctrl->space_event = pva_cpu32(r->local + want - r->size - 1);
	/* Full barrier: space_event store before the cons re-check. */
	pva_full_barrier();
	return pva_ring_prod_space(r, rec);
}

/* ---- consumer side ---- */

/*
 * Look at the record @skip bytes after the next one (0: the next one;
 * @skip must be the size of records already looked at). On PVA_RING_OK,
 * *hdr holds a private copy of its header, already checked: the payload
 * fits the ring's maximum and lies within the bytes the producer
 * published. Reserved header fields and flags are checked by
 * pva_msg_hdr_valid().
 */
static inline int pva_ring_cons_peek_at(const struct pva_ring *r, __u32 skip,
					struct pva_msg_hdr *hdr)
{
	/* Acquire: the record's bytes are read after the prod that
	 * published them.
	 */
	__u32 prod = pva_le32(pva_load_acquire(&r->ctrl->prod));
	__u32 used = prod - r->local, avail, len;

	if (used > r->size || (used & (PVA_MSG_ALIGN - 1)) || skip > used)
		return PVA_RING_CORRUPT;
	avail = used - skip;
	if (avail == 0)
		return PVA_RING_AGAIN;
	if (avail < sizeof(*hdr))
		return PVA_RING_CORRUPT;
	pva_ring_copy_out(r, r->local + skip, hdr, sizeof(*hdr));
	len = pva_le32(hdr->len);
	if (len > r->max_payload || pva_msg_record_size(len) > avail)
		return PVA_RING_CORRUPT;
	return PVA_RING_OK;
}

static inline int pva_ring_cons_peek(const struct pva_ring *r,
				     struct pva_msg_hdr *hdr)
{
	return pva_ring_cons_peek_at(r, 0, hdr);
}

/* Copy @len payload bytes, starting @off bytes into the current record. */
static inline void pva_ring_cons_read(const struct pva_ring *r, __u32 off,
				      void *dst, __u32 len)
{
	pva_ring_copy_out(r, r->local + (__u32)sizeof(struct pva_msg_hdr) +
			  off, dst, len);
}

/*
 * Release the current record of @rec bytes. Returns nonzero when the
 * producer must be signalled (it waits for space).
 */
static inline int pva_ring_cons_commit(struct pva_ring *r, __u32 rec)
{
	__u32 old = r->local;

	r->local += rec;
	/* Release: our reads of the record complete before the producer
	 * may overwrite it.
	 */
	pva_store_release(&r->ctrl->cons, pva_cpu32(r->local));
	if (!r->event_idx)
		return 1;
	/* Full barrier: cons store before the space_event load; pairs with
	 * pva_ring_prod_arm().
	 */
	pva_full_barrier();
	return pva_need_event(pva_le32(pva_load_once(&r->ctrl->space_event)),
			      r->local, old);
}

/*
 * The ring is empty and the consumer is about to sleep: ask for a doorbell
 * at the next record. Returns PVA_RING_OK if a record arrived meanwhile
 * (do not sleep), PVA_RING_AGAIN to sleep.
 */
static inline int pva_ring_cons_arm(struct pva_ring *r)
{
	r->ctrl->data_event = pva_cpu32(r->local);
	/* Full barrier: data_event store before the prod re-check. */
	pva_full_barrier();
	if (pva_le32(pva_load_acquire(&r->ctrl->prod)) != r->local)
		return PVA_RING_OK;
	return PVA_RING_AGAIN;
}

/* Has the producer published anything we have not consumed? */
static inline int pva_ring_cons_pending(const struct pva_ring *r)
{
	/* Acquire: pairs with the producer's release of prod. */
	return pva_le32(pva_load_acquire(&r->ctrl->prod)) != r->local;
}

/* Header checks every receiver applies besides pva_ring_cons_peek(). */
static inline int pva_msg_hdr_valid(const struct pva_msg_hdr *hdr,
				    __u16 service)
{
	__u16 flags = pva_le16(hdr->flags);

	return pva_le16(hdr->service) == service && !hdr->reserved0 &&
	       !hdr->reserved1 && !(flags & ~PVA_MSG_F_KNOWN) &&
	       flags != PVA_MSG_F_KNOWN;
}

#endif /* PVA_RING_H */
