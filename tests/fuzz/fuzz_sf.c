// SPDX-License-Identifier: MIT
/*
 * Fuzz the shared-folder service (host/sf*.c) with a hostile guest: the
 * input is a program of SF messages (any type, flags and payload, with the
 * mount id mostly right so the handlers' own checks are reached), resets
 * and notification polls, on a real share in a temporary directory. The
 * share holds symlinks to a directory next to it; after every input that
 * directory must be exactly as it was: the guest never reaches outside.
 * ASan and UBSan catch any bad access; the host must never crash.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/fake_guest.h"
#include "log.h"
#include "sf.h"

#define SF	3
#define SECRET	"not for the guest"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

static struct fake_guest g;
static struct service *svc;
static char top[64], share[96], outside[96];
static struct stat secret_st;

static uint32_t take(struct input *in, unsigned int bytes)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint32_t)*in->p++ << (8 * i);
	return v;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

/* A fresh share: a file, a directory, symlinks out of it. */
static void fill_share(void)
{
	char p[256];
	FILE *f;

	nftw(share, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(share, 0755) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/file", share);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs("0123456789", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/dir", share);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/abs", share);
	(void)!symlink(outside, p);
	snprintf(p, sizeof(p), "%s/rel", share);
	(void)!symlink("../outside", p);
	snprintf(p, sizeof(p), "%s/secret", share);
	(void)!symlink("../outside/secret", p);
}

static void cleanup(void)
{
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	char p[256], err[128];
	FILE *f;

	log_init("fuzz", LOG_EMERG);
	snprintf(top, sizeof(top), "/tmp/pva-fuzz-sf-XXXXXX");
	if (!mkdtemp(top))
		abort();
	atexit(cleanup);
	snprintf(share, sizeof(share), "%s/share", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	if (mkdir(outside, 0755) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/secret", outside);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(SECRET, f);
	fclose(f);
	if (stat(p, &secret_st) < 0)
		abort();
	fill_share();
	if (fg_init_with(&g, &sf_service_ops))
		abort();
	svc = device_find_service(g.dev, "sf");
	if (!svc || sf_share_add(svc, "s", share, false, err, sizeof(err)) ||
	    sf_share_add(svc, "ro", share, true, err, sizeof(err)))
		abort();
	sf_set_limits(svc, 64, 16);
}

/* The directory next to the share is untouched. */
static void check_outside(void)
{
	char p[256], buf[64] = { 0 };
	struct dirent *d;
	struct stat st;
	int n = 0, fd;
	DIR *dir = opendir(outside);

	if (!dir)
		abort();
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			n++;
	closedir(dir);
	snprintf(p, sizeof(p), "%s/secret", outside);
	fd = open(p, O_RDONLY);
	if (n != 1 || fd < 0 || read(fd, buf, sizeof(buf)) != sizeof(SECRET) - 1 ||
	    strcmp(buf, SECRET) || fstat(fd, &st) ||
	    st.st_mode != secret_st.st_mode || st.st_uid != secret_st.st_uid ||
	    st.st_mtim.tv_sec != secret_st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != secret_st.st_mtim.tv_nsec) {
		fprintf(stderr, "fuzz_sf: the guest changed %s\n", outside);
		abort();
	}
	close(fd);
}

/* Mount @name; the mount id, or 0. */
static uint32_t mount_share(const char *name)
{
	static uint8_t buf[PVA_MSG_MAX];
	struct pva_sf_mount m = { .name_len = pva_cpu32((uint32_t)strlen(name)) };
	uint8_t msg[sizeof(m) + 8];
	struct pva_msg_hdr h;
	uint32_t id = 0;
	int n;

	memcpy(msg, &m, sizeof(m));
	memcpy(msg + sizeof(m), name, strlen(name));
	if (fg_send(&g, SF, PVA_SF_MOUNT, PVA_MSG_F_REQUEST, 1, msg,
		    (uint32_t)(sizeof(m) + strlen(name))))
		return 0;
	while ((n = fg_recv(&g, SF, &h, buf, sizeof(buf))) >= 0)
		if (pva_le16(h.type) == PVA_SF_MOUNT && !h.status &&
		    n == (int)sizeof(struct pva_sf_mount_out))
			memcpy(&id, buf, sizeof(id));
	return pva_le32(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[PVA_MSG_MAX], buf[PVA_MSG_MAX];
	static unsigned int runs;
	struct input in = { data, size };
	uint32_t mounts[2];

	if (!runs++)
		setup();
	if (runs % 512 == 0)
		fill_share();	/* what earlier inputs created goes */
	/* every input starts from a freshly negotiated device */
	if (fg_negotiate(&g))
		abort();
	mounts[0] = mount_share("s");
	mounts[1] = mount_share("ro");

	while (in.left) {
		unsigned int op = take(&in, 1) % 6;

		switch (op) {
		case 0:
		case 1: {	/* a message; the mount id mostly valid */
			uint16_t type = (uint16_t)(take(&in, 1) % 32);
			uint32_t flags = take(&in, 1);
			uint32_t len = take(&in, 2) % 4096;

			for (uint32_t i = 0; i < len; i++)
				payload[i] = (uint8_t)take(&in, 1);
			if (len >= 4 && !(flags & 4)) {
				__le32 m = pva_cpu32(mounts[(flags >> 3) & 1]);

				memcpy(payload, &m, sizeof(m));
			}
			fg_send(&g, SF, type, (uint16_t)(flags % 3), take(&in, 1),
				payload, len);
			break;
		}
		case 2: {	/* the guest reads what the host sent */
			struct pva_msg_hdr h;

			while (fg_recv(&g, SF, &h, buf, sizeof(buf)) >= 0)
				;
			break;
		}
		case 3:
			sf_poll_notify(svc);
			break;
		case 4:
			device_tick(g.dev);
			break;
		case 5:		/* the guest resets and mounts again */
			if (take(&in, 1) % 8 == 0 && !fg_negotiate(&g)) {
				mounts[0] = mount_share("s");
				mounts[1] = mount_share("ro");
			}
			break;
		}
	}
	check_outside();
	return 0;
}
