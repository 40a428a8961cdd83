/* SPDX-License-Identifier: MIT */
/*
 * A picture between PNG (the protocol's image/png) and DIB (Windows'
 * CF_DIB, CF_DIBV5): 8-bit RGBA, straight (not premultiplied) alpha, the
 * top row first. Plain C.
 */
#ifndef PVA_WIN_AGENT_IMAGE_H
#define PVA_WIN_AGENT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Larger pictures are refused: 8192 x 8192, or as many pixels in
 * another shape (256 MiB as RGBA), with no side above 65535.
 */
#define IMAGE_MAX_PIXELS	(64ull << 20)
#define IMAGE_MAX_SIDE		65535u

struct image {
	uint32_t width, height;
	uint8_t *rgba;		/* width * height * 4 bytes, malloc'd */
};

bool image_alloc(struct image *im, uint32_t width, uint32_t height);
void image_free(struct image *im);

/* PNG (every colour type, bit depth and interlacing) to RGBA: 0, or -1
 * with the reason in *why.
 */
int png_decode(const uint8_t *p, size_t len, struct image *out,
	       const char **why);
/* RGBA to PNG (RGB when every pixel is opaque), malloc'd; NULL when out
 * of memory.
 */
uint8_t *png_encode(const struct image *im, size_t *len);
bool png_signature(const uint8_t *p, size_t len);

/* A packed DIB (a BITMAPINFOHEADER, V4 or V5 header, the colour table or
 * masks, the pixels: what CF_DIB and CF_DIBV5 hold) to RGBA. 1, 4, 8, 16,
 * 24 and 32 bits per pixel, BI_RGB and BI_BITFIELDS; 0, or -1 with *why.
 */
int dib_decode(const uint8_t *p, size_t len, struct image *out,
	       const char **why);
/* RGBA to a packed DIB, bottom-up, 32 bits per pixel: @v5 a
 * BITMAPV5HEADER with an alpha mask (CF_DIBV5), else a BITMAPINFOHEADER
 * with BI_RGB and alpha in the fourth byte (CF_DIB). malloc'd.
 */
uint8_t *dib_encode(const struct image *im, bool v5, size_t *len);

#endif
