// SPDX-License-Identifier: MIT
#include "guest_ram.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define GIB		(1ull << 30)
#define MAX_REGIONS	2

/* RAM [gpa, gpa + len) is the file's [off, off + len). */
struct ram_region {
	uint64_t gpa, off, len;
};

struct guest_ram {
	char *path;
	int fd;
	uint64_t size;
	struct ram_region region[MAX_REGIONS];
	unsigned int nr;
};

int guest_ram_layout_valid(const char *layout)
{
	return !strcmp(layout, "q35") || !strcmp(layout, "virt") ||
	       !strcmp(layout, "flat");
}

/*
 * Where QEMU puts RAM. q35: below 4 GiB up to 2.75 GiB (2 GiB when the
 * guest has 2.75 GiB or more), the rest from 4 GiB (QEMU's pc_q35_init).
 * virt: from 1 GiB. flat: from 0.
 */
static void lay_out(struct guest_ram *ram, const char *layout)
{
	uint64_t below;

	if (!strcmp(layout, "virt")) {
		ram->region[0] = (struct ram_region){ GIB, 0, ram->size };
		ram->nr = 1;
	} else if (!strcmp(layout, "q35")) {
		below = ram->size >= 0xb0000000ull ? 0x80000000ull : 0xb0000000ull;
		if (below > ram->size)
			below = ram->size;
		ram->region[0] = (struct ram_region){ 0, 0, below };
		ram->region[1] = (struct ram_region){ 4 * GIB, below,
						      ram->size - below };
		ram->nr = ram->size > below ? 2 : 1;
	} else {
		ram->region[0] = (struct ram_region){ 0, 0, ram->size };
		ram->nr = 1;
	}
}

struct guest_ram *guest_ram_open(const char *path, const char *layout)
{
	struct guest_ram *ram = calloc(1, sizeof(*ram));
	struct stat st;

	if (!ram)
		return NULL;
	ram->fd = open(path, O_RDWR | O_CLOEXEC);
	if (ram->fd < 0 || fstat(ram->fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0) {
		log_err("guest RAM %s: %s", path,
			ram->fd < 0 ? strerror(errno) : "not a regular, non-empty file");
		if (ram->fd >= 0)
			close(ram->fd);
		free(ram);
		return NULL;
	}
	ram->path = strdup(path);
	ram->size = (uint64_t)st.st_size;
	lay_out(ram, layout);
	return ram;
}

void guest_ram_close(struct guest_ram *ram)
{
	if (!ram)
		return;
	close(ram->fd);
	free(ram->path);
	free(ram);
}

uint64_t guest_ram_size(const struct guest_ram *ram)
{
	return ram->size;
}

const char *guest_ram_path(const struct guest_ram *ram)
{
	return ram->path;
}

uint64_t guest_ram_allocated(const struct guest_ram *ram)
{
	struct stat st;

	if (fstat(ram->fd, &st) < 0)
		return 0;
	return (uint64_t)st.st_blocks * 512;
}

int guest_ram_offset(const struct guest_ram *ram, uint64_t gpa, uint64_t len,
		     uint64_t *off)
{
	for (unsigned int i = 0; i < ram->nr; i++) {
		const struct ram_region *r = &ram->region[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->len &&
		    len <= r->len - (gpa - r->gpa)) {
			*off = r->off + (gpa - r->gpa);
			return 0;
		}
	}
	return -ERANGE;
}

int guest_ram_discard(struct guest_ram *ram, uint64_t off, uint64_t len)
{
	if (fallocate(ram->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) < 0)
		return -errno;
	return 0;
}
