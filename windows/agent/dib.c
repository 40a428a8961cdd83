// SPDX-License-Identifier: MIT
/*
 * Packed DIBs, the contents of CF_DIB and CF_DIBV5, read and written by
 * their byte layout (little-endian), so this builds and is tested
 * without windows.h. What another program put on the clipboard is
 * checked like anything from outside: sizes, masks, the colour table.
 */
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define BI_RGB_		0
#define BI_BITFIELDS_	3
#define BI_ALPHABITFIELDS_ 6
#define INFO_SIZE	40
#define V4_SIZE		108
#define V5_SIZE		124
#define LCS_SRGB	0x73524742u	/* 'sRGB' */
#define LCS_GM_IMAGES	4

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

struct field {
	uint32_t mask;
	unsigned int shift, bits;
};

/* A colour mask: contiguous bits, at most 8 of them... or more (a
 * 10-bit channel): scaled to 8 bits either way.
 */
static bool field_of(uint32_t mask, struct field *f)
{
	f->mask = mask;
	f->shift = f->bits = 0;
	if (!mask)
		return true;
	while (!(mask & 1)) {
		mask >>= 1;
		f->shift++;
	}
	while (mask & 1) {
		mask >>= 1;
		f->bits++;
	}
	return mask == 0;	/* contiguous */
}

static uint8_t field_get(const struct field *f, uint32_t px)
{
	uint32_t v, max;

	if (!f->mask)
		return 0;
	v = (px & f->mask) >> f->shift;
	max = f->bits >= 32 ? UINT32_MAX : (1u << f->bits) - 1;
	return (uint8_t)((uint64_t)v * 255 / max);
}

int dib_decode(const uint8_t *p, size_t len, struct image *out,
	       const char **why)
{
	uint32_t hsize, comp, clr_used, ncolors = 0, w, h;
	int32_t iw, ih;
	uint16_t bpp;
	size_t stride, pix_off;
	struct field f[4];
	bool top_down, alpha_used = false, has_alpha = false;
	uint32_t masks[4] = { 0 };

	out->rgba = NULL;
	if (len < INFO_SIZE) {
		*why = "DIB shorter than its header";
		return -1;
	}
	hsize = le32(p);
	/* BITMAPINFOHEADER, V2 (52), V3 (56), V4, V5 or a later one */
	if (hsize < INFO_SIZE || (hsize > INFO_SIZE && hsize < 52) ||
	    hsize > len) {
		*why = "DIB header of an unknown size";
		return -1;
	}
	iw = (int32_t)le32(p + 4);
	ih = (int32_t)le32(p + 8);
	bpp = le16(p + 14);
	comp = le32(p + 16);
	clr_used = le32(p + 32);
	top_down = ih < 0;
	if (iw <= 0 || !ih || ih == INT32_MIN) {
		*why = "DIB of no size";
		return -1;
	}
	w = (uint32_t)iw;
	h = top_down ? (uint32_t)-ih : (uint32_t)ih;
	pix_off = hsize;
	if (comp == BI_BITFIELDS_ || comp == BI_ALPHABITFIELDS_) {
		int n = comp == BI_ALPHABITFIELDS_ ? 4 : 3;

		if (bpp != 16 && bpp != 32) {
			*why = "DIB with bit fields at a depth other than 16 or 32";
			return -1;
		}
		if (hsize == INFO_SIZE) {
			/* the masks follow a plain header */
			if (len < INFO_SIZE + 4u * (unsigned int)n) {
				*why = "DIB cut short in its masks";
				return -1;
			}
			for (int k = 0; k < n; k++)
				masks[k] = le32(p + INFO_SIZE + 4 * k);
			pix_off += 4u * (unsigned int)n;
		} else {
			/* V2 has three masks in the header, V3 and later four */
			for (unsigned int k = 0; k < 4 && INFO_SIZE + 4 * k + 4 <= hsize; k++)
				masks[k] = le32(p + INFO_SIZE + 4 * k);
		}
	} else if (comp == BI_RGB_) {
		if (bpp == 16) {
			masks[0] = 0x7c00;
			masks[1] = 0x03e0;
			masks[2] = 0x001f;
		} else if (bpp == 32) {
			masks[0] = 0xff0000;
			masks[1] = 0xff00;
			masks[2] = 0xff;
			masks[3] = 0xff000000u;	/* maybe alpha: see below */
		}
		if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 &&
		    bpp != 24 && bpp != 32) {
			*why = "DIB of an unknown bit depth";
			return -1;
		}
	} else {
		*why = "DIB compressed (RLE, JPEG or PNG): not supported";
		return -1;
	}
	if (top_down && comp != BI_RGB_ && comp != BI_BITFIELDS_ &&
	    comp != BI_ALPHABITFIELDS_) {
		*why = "DIB top-down and compressed";
		return -1;
	}
	if (bpp <= 8) {
		ncolors = clr_used ? clr_used : 1u << bpp;
		if (ncolors > 1u << bpp) {
			*why = "DIB colour table larger than its depth allows";
			return -1;
		}
	} else if (clr_used <= 256) {
		ncolors = clr_used;	/* a palette hint: skipped */
	} else {
		*why = "DIB colour table too large";
		return -1;
	}
	pix_off += (size_t)ncolors * 4;
	if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
	    (uint64_t)w * h > IMAGE_MAX_PIXELS) {
		*why = "DIB too large";
		return -1;
	}
	stride = ((size_t)w * bpp + 31) / 32 * 4;
	if (pix_off > len || stride * h > len - pix_off) {
		*why = "DIB shorter than its pixels";
		return -1;
	}
	for (int k = 0; k < 4; k++)
		if (!field_of(masks[k], &f[k])) {
			*why = "DIB colour mask not contiguous";
			return -1;
		}
	if (!image_alloc(out, w, h)) {
		*why = "out of memory";
		return -1;
	}
	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *row = p + pix_off +
				     stride * (top_down ? y : h - 1 - y);
		uint8_t *o = out->rgba + (size_t)y * w * 4;

		for (uint32_t x = 0; x < w; x++, o += 4) {
			if (bpp <= 8) {
				uint32_t i = (row[x * bpp / 8] >>
					      (8 - bpp - (x * bpp) % 8)) &
					     ((1u << bpp) - 1);

				if (i < ncolors) {
					const uint8_t *c = p + pix_off -
							   ncolors * 4 + i * 4;

					o[0] = c[2];
					o[1] = c[1];
					o[2] = c[0];
				} else {
					o[0] = o[1] = o[2] = 0;
				}
				o[3] = 255;
			} else if (bpp == 24) {
				o[0] = row[x * 3 + 2];
				o[1] = row[x * 3 + 1];
				o[2] = row[x * 3];
				o[3] = 255;
			} else {
				uint32_t px = bpp == 16 ? le16(row + x * 2) :
					      le32(row + x * 4);

				o[0] = field_get(&f[0], px);
				o[1] = field_get(&f[1], px);
				o[2] = field_get(&f[2], px);
				o[3] = f[3].mask ? field_get(&f[3], px) : 255;
				has_alpha |= f[3].mask != 0;
				alpha_used |= f[3].mask && o[3];
			}
		}
	}
	/* an alpha channel of zeros is one nobody filled in (the fourth
	 * byte of BI_RGB is "reserved"): the picture is opaque
	 */
	if (has_alpha && !alpha_used)
		for (size_t i = 0; i < (size_t)w * h; i++)
			out->rgba[i * 4 + 3] = 255;
	return 0;
}

uint8_t *dib_encode(const struct image *im, bool v5, size_t *len)
{
	size_t hsize = v5 ? V5_SIZE : INFO_SIZE;
	size_t img = (size_t)im->width * im->height * 4;
	uint8_t *d = calloc(1, hsize + img), *px;

	if (!d)
		return NULL;
	put32(d, (uint32_t)hsize);
	put32(d + 4, im->width);
	put32(d + 8, im->height);	/* bottom-up: what every reader takes */
	put16(d + 12, 1);
	put16(d + 14, 32);
	put32(d + 16, v5 ? BI_BITFIELDS_ : BI_RGB_);
	put32(d + 20, (uint32_t)img);
	put32(d + 24, 2835);		/* 72 dpi */
	put32(d + 28, 2835);
	if (v5) {
		put32(d + 40, 0x00ff0000);
		put32(d + 44, 0x0000ff00);
		put32(d + 48, 0x000000ff);
		put32(d + 52, 0xff000000u);
		put32(d + 56, LCS_SRGB);
		put32(d + 108, LCS_GM_IMAGES);
	}
	px = d + hsize;
	for (uint32_t y = 0; y < im->height; y++) {
		const uint8_t *s = im->rgba +
				   (size_t)(im->height - 1 - y) * im->width * 4;

		for (uint32_t x = 0; x < im->width; x++, s += 4, px += 4) {
			px[0] = s[2];
			px[1] = s[1];
			px[2] = s[0];
			px[3] = s[3];
		}
	}
	*len = hsize + img;
	return d;
}
