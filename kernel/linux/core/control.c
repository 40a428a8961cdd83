// SPDX-License-Identifier: GPL-2.0
/*
 * The control service, guest side (protocol/PROTOCOL.md 6.1): answers the
 * host's pings and tells it about the guest after every negotiation.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/utsname.h>

#include "pva_core.h"

static void pva_control_up(struct pva_client *c)
{
	struct pva_dev *dev = c->dev;
	struct pva_guest_info info = { };
	struct new_utsname *uts = init_utsname();
	int err;

	if (!(dev->features & PVA_F_GUEST_INFO))
		return;
	strscpy(info.kernel, uts->release, sizeof(info.kernel));
	strscpy(info.arch, uts->machine, sizeof(info.arch));
	strscpy(info.driver, PVA_DRIVER_VERSION, sizeof(info.driver));
	info.page_size = cpu_to_le32(PAGE_SIZE);
	info.nr_cpus = cpu_to_le32(num_online_cpus());
	info.mem_total = cpu_to_le64((u64)totalram_pages() << PAGE_SHIFT);
	/* the ring was just reset: there is room */
	err = pva_send(c, PVA_CTRL_GUEST_INFO, 0, 0, 0, &info, sizeof(info));
	if (err)
		dev_warn(&dev->pdev->dev, "cannot send the guest information: %d\n",
			 err);
}

static int pva_control_rx(struct pva_client *c, const struct pva_msg_hdr *hdr,
			  const void *payload, u32 len)
{
	u16 flags = le16_to_cpu(hdr->flags);

	if (!(flags & PVA_MSG_F_REQUEST))
		return 0;	/* no events defined host -> guest */
	switch (le16_to_cpu(hdr->type)) {
	case PVA_CTRL_PING:
		return pva_reply(c, hdr, PVA_S_OK, payload, len);
	default:
		return pva_reply(c, hdr, PVA_S_ENOTSUP, NULL, 0);
	}
}

const struct pva_client_ops pva_control_ops = {
	.rx = pva_control_rx,
	.up = pva_control_up,
};
