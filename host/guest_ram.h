/* SPDX-License-Identifier: MIT */
/*
 * The guest's RAM as the host sees it: the file QEMU maps as the guest's
 * memory (-object memory-backend-file,share=on), and where each
 * guest-physical address lives in it on the machine type (the layout).
 */
#ifndef PVA_HOST_GUEST_RAM_H
#define PVA_HOST_GUEST_RAM_H

#include <stdint.h>

struct guest_ram;

/* @layout: "q35" (x86_64), "virt" (aarch64) or "flat" (RAM at 0). */
int guest_ram_layout_valid(const char *layout);
struct guest_ram *guest_ram_open(const char *path, const char *layout);
void guest_ram_close(struct guest_ram *ram);

uint64_t guest_ram_size(const struct guest_ram *ram);
/* Bytes of the file that hold memory right now (what the host spends). */
uint64_t guest_ram_allocated(const struct guest_ram *ram);
const char *guest_ram_path(const struct guest_ram *ram);

/*
 * The file offset of [gpa, gpa + len), which must lie inside one RAM
 * region; -ERANGE otherwise.
 */
int guest_ram_offset(const struct guest_ram *ram, uint64_t gpa, uint64_t len,
		     uint64_t *off);
/* Give [off, off + len) of the file back to the host; 0 or -errno. */
int guest_ram_discard(struct guest_ram *ram, uint64_t off, uint64_t len);

#endif
