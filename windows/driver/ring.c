// SPDX-License-Identifier: MIT
/*
 * The guest end of a service's rings (PROTOCOL.md section 4): messages
 * from the host->guest ring into pending ReadFile IRPs, pending WriteFile
 * IRPs into the guest->host ring, the control service's answers, and the
 * DPC-side walk over the services of a vector. Everything here runs under
 * svc->lock, at DISPATCH_LEVEL (DPCs, or dispatch routines holding the
 * lock), and uses pva_ring.h's helpers, which check every index and length
 * the host published before it is used.
 */
#include "pva_drv.h"

/* Messages one call drains from the control ring; the rest waits. */
#define PVA_CONTROL_BUDGET	1024

void pva_svc_get(struct pva_svc *svc)
{
	InterlockedIncrement(&svc->ref);
}

void pva_svc_put(struct pva_svc *svc)
{
	if (!InterlockedDecrement(&svc->ref))
		ExFreePoolWithTag(svc, PVA_POOL_TAG);
}

static void pva_fill_hdr(struct pva_msg_hdr *hdr, const struct pva_svc *svc,
			 __u16 type, __u16 flags, __u32 req_id, __u32 status,
			 __u32 len)
{
	RtlZeroMemory(hdr, sizeof(*hdr));
	hdr->len = pva_cpu32(len);
	hdr->type = pva_cpu16(type);
	hdr->flags = pva_cpu16(flags);
	hdr->service = pva_cpu16(svc->id);
	hdr->req_id = pva_cpu32(req_id);
	hdr->status = pva_cpu32(status);
}

/*
 * Room for a record of @rec bytes? If not, ask the host for a doorbell
 * once there is (event index), then look again. PVA_RING_OK, PVA_RING_AGAIN
 * (full; the host will signal), or PVA_RING_CORRUPT (reported).
 */
static int pva_tx_room(struct pva_svc *svc, __u32 rec)
{
	int r = pva_ring_prod_space(&svc->tx, rec);

	if (r == PVA_RING_AGAIN) {
		svc->tx_full++;
		r = pva_ring_prod_arm(&svc->tx, rec);
	}
	if (r == PVA_RING_CORRUPT)
		pva_ring_error(svc, "corrupt guest->host ring index");
	return r;
}

static void pva_tx_publish(struct pva_svc *svc, __u32 rec)
{
	if (pva_ring_prod_commit(&svc->tx, rec))
		pva_doorbell(svc->dev, svc->vector);
	svc->tx_msgs++;
}

static void pva_rx_release(struct pva_svc *svc, __u32 len)
{
	if (pva_ring_cons_commit(&svc->rx, pva_msg_record_size(len)))
		pva_doorbell(svc->dev, svc->vector);
	svc->rx_msgs++;
}

/*
 * Send one message from kernel memory. 0 sent, 1 ring full (the host
 * will signal space), -1 corrupt ring or oversized message.
 */
int pva_svc_send_locked(struct pva_svc *svc, __u16 type, __u16 flags,
			__u32 req_id, __u32 status, const void *payload,
			__u32 len)
{
	struct pva_msg_hdr hdr;
	__u32 rec = pva_msg_record_size(len);
	int r;

	if (len > svc->tx.max_payload)
		return -1;
	r = pva_tx_room(svc, rec);
	if (r != PVA_RING_OK)
		return r == PVA_RING_AGAIN ? 1 : -1;
	pva_fill_hdr(&hdr, svc, type, flags, req_id, status, len);
	pva_ring_copy_in(&svc->tx, svc->tx.local, &hdr, sizeof(hdr));
	pva_ring_copy_in(&svc->tx, svc->tx.local + sizeof(hdr), payload, len);
	pva_tx_publish(svc, rec);
	return 0;
}

/* Next record of the host->guest ring, checked: PVA_RING_* (corrupt: reported). */
static int pva_rx_peek(struct pva_svc *svc, struct pva_msg_hdr *hdr)
{
	int r = pva_ring_cons_peek(&svc->rx, hdr);

	if (r == PVA_RING_CORRUPT) {
		pva_ring_error(svc, "corrupt host->guest ring (bad index or message length)");
	} else if (r == PVA_RING_OK && !pva_msg_hdr_valid(hdr, svc->id)) {
		pva_ring_error(svc, "malformed message header from the host");
		r = PVA_RING_CORRUPT;
	}
	return r;
}

/*
 * The control service (PROTOCOL.md 6.1): answer the host's pings; no
 * host->guest events are defined, and we send no requests, so anything
 * else is dropped. A ping's payload goes from one ring to the other in
 * small pieces: no buffer of the maximum payload is needed.
 */
static void pva_control_rx(struct pva_svc *svc)
{
	int budget = PVA_CONTROL_BUDGET;
	struct pva_msg_hdr hdr, out;
	UCHAR piece[128];

	while (budget-- > 0) {
		__u32 len, done, n;
		__u16 type;
		int r = pva_rx_peek(svc, &hdr);

		if (r == PVA_RING_AGAIN) {
			if (pva_ring_cons_arm(&svc->rx) == PVA_RING_OK)
				continue;
			return;
		}
		if (r != PVA_RING_OK)
			return;
		len = pva_le32(hdr.len);
		type = pva_le16(hdr.type);
		if (pva_le16(hdr.flags) & PVA_MSG_F_REQUEST) {
			__u32 olen = type == PVA_CTRL_PING ? len : 0, rec;

			if (olen > svc->tx.max_payload)
				olen = 0;	/* cannot echo it: answer EINVAL */
			rec = pva_msg_record_size(olen);
			r = pva_tx_room(svc, rec);
			if (r != PVA_RING_OK)
				return;	/* full: the host signals space */
			pva_fill_hdr(&out, svc, type, PVA_MSG_F_RESPONSE,
				     pva_le32(hdr.req_id),
				     type != PVA_CTRL_PING ? PVA_S_ENOTSUP :
				     olen == len ? PVA_S_OK : PVA_S_EINVAL, olen);
			pva_ring_copy_in(&svc->tx, svc->tx.local, &out,
					 sizeof(out));
			for (done = 0; done < olen; done += n) {
				n = olen - done < sizeof(piece) ?
				    olen - done : (__u32)sizeof(piece);
				pva_ring_cons_read(&svc->rx, done, piece, n);
				pva_ring_copy_in(&svc->tx, svc->tx.local +
						 sizeof(out) + done, piece, n);
			}
			pva_tx_publish(svc, rec);
		}
		pva_rx_release(svc, len);
	}
}

/*
 * Hand host messages to the handle's pending reads, oldest first, one
 * message per read. A read whose buffer is too small fails with
 * STATUS_BUFFER_TOO_SMALL and the message stays for the next read.
 * Completed IRPs go to @done.
 */
void pva_svc_rx_locked(struct pva_svc *svc, struct pva_file *file,
		       PLIST_ENTRY done)
{
	struct pva_msg_hdr hdr;

	for (;;) {
		PIO_STACK_LOCATION stack;
		__u32 len, need;
		PUCHAR buf;
		PIRP irp;
		int r = pva_rx_peek(svc, &hdr);

		if (r == PVA_RING_AGAIN) {
			/* a reader waits: ask the host to signal the next one */
			if (file->reads.count &&
			    pva_ring_cons_arm(&svc->rx) == PVA_RING_OK)
				continue;
			return;
		}
		if (r != PVA_RING_OK)
			return;
		irp = pva_queue_next(&file->reads, NULL);
		if (!irp)
			return;		/* the message waits for a reader */
		stack = IoGetCurrentIrpStackLocation(irp);
		len = pva_le32(hdr.len);
		need = (__u32)sizeof(hdr) + len;
		buf = irp->AssociatedIrp.SystemBuffer;
		if (stack->Parameters.Read.Length < need || !buf) {
			irp->IoStatus.Status = STATUS_BUFFER_TOO_SMALL;
			irp->IoStatus.Information = 0;
		} else {
			RtlCopyMemory(buf, &hdr, sizeof(hdr));
			pva_ring_cons_read(&svc->rx, 0, buf + sizeof(hdr), len);
			pva_rx_release(svc, len);
			irp->IoStatus.Status = STATUS_SUCCESS;
			irp->IoStatus.Information = need;
		}
		InsertTailList(done, &irp->Tail.Overlay.ListEntry);
	}
}

/*
 * Move the handle's pending writes into the guest->host ring, oldest
 * first, while they fit. The dispatch routine checked each header; the
 * system buffer cannot change since. Completed IRPs go to @done.
 */
void pva_svc_tx_locked(struct pva_svc *svc, struct pva_file *file,
		       PLIST_ENTRY done)
{
	for (;;) {
		struct pva_tx_peek pk = { .ring = &svc->tx };
		struct pva_msg_hdr hdr;
		PUCHAR buf;
		__u32 count, len, rec;
		PIRP irp;

		/* takes the oldest write only if it fits */
		irp = pva_queue_next(&file->writes, &pk);
		if (!irp) {
			if (pk.result == PVA_RING_CORRUPT) {
				pva_ring_error(svc, "corrupt guest->host ring index");
			} else if (pk.any) {
				svc->tx_full++;
				switch (pva_ring_prod_arm(&svc->tx, pk.rec)) {
				case PVA_RING_OK:
					continue;	/* room meanwhile */
				case PVA_RING_CORRUPT:
					pva_ring_error(svc, "corrupt guest->host ring index");
					break;
				}
			}
			return;
		}
		buf = irp->AssociatedIrp.SystemBuffer;
		count = IoGetCurrentIrpStackLocation(irp)->Parameters.Write.Length;
		len = count - (__u32)sizeof(hdr);
		rec = pva_msg_record_size(len);
		RtlCopyMemory(&hdr, buf, sizeof(hdr));
		hdr.service = pva_cpu16(svc->id);
		pva_ring_copy_in(&svc->tx, svc->tx.local, &hdr, sizeof(hdr));
		pva_ring_copy_in(&svc->tx, svc->tx.local + sizeof(hdr),
				 buf + sizeof(hdr), len);
		pva_tx_publish(svc, rec);
		irp->IoStatus.Status = STATUS_SUCCESS;
		irp->IoStatus.Information = count;
		InsertTailList(done, &irp->Tail.Overlay.ListEntry);
	}
}

/* The host produced or consumed on @svc: serve it. */
void pva_svc_process(struct pva_svc *svc, PLIST_ENTRY done)
{
	KIRQL irql;

	KeAcquireSpinLock(&svc->lock, &irql);
	if (!svc->dead && !svc->broken) {
		if (svc->type == PVA_SVC_CONTROL) {
			pva_control_rx(svc);
		} else if (svc->file) {
			pva_svc_tx_locked(svc, svc->file, done);
			pva_svc_rx_locked(svc, svc->file, done);
		}
	}
	KeReleaseSpinLock(&svc->lock, irql);
}

/*
 * Serve every service signalled on a vector in @mask (bit n: vector n).
 * A signal only means "look" (PROTOCOL.md 1): spurious ones are harmless.
 */
void pva_process_vectors(struct pva_dev *dev, __u64 mask)
{
	struct pva_svc *list[PVA_MAX_SERVICES];
	unsigned int i, n = 0;
	LIST_ENTRY done;
	KIRQL irql;

	InitializeListHead(&done);
	KeAcquireSpinLock(&dev->lock, &irql);
	for (i = 0; i < dev->nr_svc; i++) {
		struct pva_svc *svc = dev->svc[i];

		if (svc->vector < 64 && (mask & (1ull << svc->vector))) {
			pva_svc_get(svc);
			list[n++] = svc;
		}
	}
	KeReleaseSpinLock(&dev->lock, irql);
	for (i = 0; i < n; i++) {
		pva_svc_process(list[i], &done);
		pva_svc_put(list[i]);
	}
	pva_complete_list(dev, &done, STATUS_SUCCESS);
}
