/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * pva wire protocol: the display service (type PVA_SVC_DISPLAY, name
 * "display"), protocol/PROTOCOL.md section 6.7. Included by pva_protocol.h.
 *
 * The host asks for a layout (which heads are on, their sizes and
 * positions); the guest's KMS driver makes the host's size each head's
 * preferred mode. The guest scans out of the service's data region: it
 * copies what changed into the head's area there and names the changed
 * rectangles, and the host copies them into its own framebuffer.
 */
#ifndef PVA_DISPLAY_H
#define PVA_DISPLAY_H

#define PVA_DISPLAY_MAX_HEADS	4
#define PVA_DISPLAY_MAX_DIM	8192	/* pixels, width or height */
#define PVA_DISPLAY_MIN_DIM	64
#define PVA_DISPLAY_MAX_RECTS	64	/* per DAMAGE */
/* The only scanout format: 32-bit xRGB, little-endian (DRM's XRGB8888). */
#define PVA_DISPLAY_FMT_XRGB8888	0x34325258u	/* fourcc 'XR24' */

#define PVA_DISPLAY_HELLO	1	/* g->h request: pva_display_hello;
					 * answered with pva_display_config
					 */
#define PVA_DISPLAY_CONFIG	2	/* h->g event: pva_display_config */
#define PVA_DISPLAY_SCANOUT	3	/* g->h request: pva_display_scanout */
#define PVA_DISPLAY_DAMAGE	4	/* g->h request: pva_display_damage +
					 * rects; answered once the host
					 * has copied them
					 */

#define PVA_DISPLAY_HEAD_ENABLED	(1u << 0)

/* A head as the guest scans it out now (HELLO) or the host wants it. */
struct pva_display_head {
	__le32 flags;		/* PVA_DISPLAY_HEAD_* */
	__le32 width, height;	/* pixels */
	__le32 x, y;		/* position in the host's layout */
	__le32 reserved[3];
};

struct pva_display_hello {
	__le64 features;	/* PVA_DISPLAY_F_* the guest uses (none yet) */
	__le32 nr_heads;	/* heads the guest drives, <= MAX_HEADS */
	__le32 reserved;
	/* What each head scans out now (after a host restart), or 0s. */
	struct pva_display_head heads[PVA_DISPLAY_MAX_HEADS];
};

struct pva_display_config {
	__le32 generation;	/* changes with every layout the host sets */
	__le32 nr_heads;	/* heads the host shows, <= MAX_HEADS */
	__le32 max_width, max_height;	/* largest mode the host accepts */
	struct pva_display_head heads[PVA_DISPLAY_MAX_HEADS];
};

struct pva_display_scanout {
	__le32 head;
	__le32 flags;		/* PVA_DISPLAY_HEAD_ENABLED, or 0: off */
	__le32 width, height;	/* pixels */
	__le32 stride;		/* bytes per line, >= width * 4 */
	__le32 format;		/* PVA_DISPLAY_FMT_* */
	__le64 offset;		/* of the pixels in the data region */
};

struct pva_display_rect {
	__le32 x, y, width, height;
};

struct pva_display_damage {
	__le32 head;
	__le32 nr_rects;	/* 1..MAX_RECTS pva_display_rect follow */
};

PVA_STATIC_ASSERT(sizeof(struct pva_display_head) == 32, "display head size");
PVA_STATIC_ASSERT(sizeof(struct pva_display_hello) == 144, "display hello size");
PVA_STATIC_ASSERT(sizeof(struct pva_display_config) == 144, "display config size");
PVA_STATIC_ASSERT(sizeof(struct pva_display_scanout) == 32, "display scanout size");
PVA_STATIC_ASSERT(sizeof(struct pva_display_rect) == 16, "display rect size");
PVA_STATIC_ASSERT(sizeof(struct pva_display_damage) == 8, "display damage size");

#endif /* PVA_DISPLAY_H */
