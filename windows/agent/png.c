// SPDX-License-Identifier: MIT
/*
 * PNG (ISO/IEC 15948) decoding and encoding. What comes from the host is
 * checked throughout: chunk lengths and CRCs, the header's combinations,
 * the palette, the exact size of the inflated data.
 */
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "zflate.h"

static const uint8_t signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

bool image_alloc(struct image *im, uint32_t w, uint32_t h)
{
	im->rgba = NULL;
	im->width = w;
	im->height = h;
	if (!w || !h || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
	    (uint64_t)w * h > IMAGE_MAX_PIXELS)
		return false;
	im->rgba = malloc((size_t)w * h * 4);
	return im->rgba != NULL;
}

void image_free(struct image *im)
{
	free(im->rgba);
	im->rgba = NULL;
}

bool png_signature(const uint8_t *p, size_t len)
{
	return len >= 8 && !memcmp(p, signature, 8);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- decoding ---- */

struct png {
	uint32_t w, h;
	uint8_t depth, color, interlace;
	unsigned int channels;
	uint8_t plte[256][4];	/* RGBA */
	unsigned int nplte;
	bool has_key;
	uint16_t key[3];	/* tRNS of grey or RGB: the transparent colour */
};

static uint8_t paeth(int a, int b, int c)
{
	int p = a + b - c;
	int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	if (pa <= pb && pa <= pc)
		return (uint8_t)a;
	return (uint8_t)(pb <= pc ? b : c);
}

/* Undo the filter of @row (@n bytes) against @prior (NULL: the first
 * row); @bpp bytes per complete pixel, at least 1.
 */
static int unfilter(uint8_t type, uint8_t *row, const uint8_t *prior,
		    size_t n, size_t bpp)
{
	if (type > 4)
		return -1;
	if (type == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int a = i >= bpp ? row[i - bpp] : 0;
		int b = prior ? prior[i] : 0;
		int c = prior && i >= bpp ? prior[i - bpp] : 0;

		if (type == 1)
			row[i] = (uint8_t)(row[i] + a);
		else if (type == 2)
			row[i] = (uint8_t)(row[i] + b);
		else if (type == 3)
			row[i] = (uint8_t)(row[i] + ((a + b) >> 1));
		else
			row[i] = (uint8_t)(row[i] + paeth(a, b, c));
	}
	return 0;
}

/* Sample @i (of @depth bits) of @row; 16-bit samples whole. */
static uint32_t sample(const uint8_t *row, size_t i, unsigned int depth)
{
	if (depth == 16)
		return (uint32_t)row[2 * i] << 8 | row[2 * i + 1];
	if (depth == 8)
		return row[i];
	return (row[i * depth / 8] >> (8 - depth - (i * depth) % 8)) &
	       ((1u << depth) - 1);
}

static uint8_t to8(uint32_t v, unsigned int depth)
{
	if (depth == 16)
		return (uint8_t)(v >> 8);
	return (uint8_t)(v * 255 / ((1u << depth) - 1));
}

static void put_pixel(const struct png *g, const uint8_t *row, uint32_t x,
		      uint8_t *px)
{
	unsigned int d = g->depth;
	size_t c = g->channels;
	uint32_t v[4];

	for (size_t k = 0; k < c; k++)
		v[k] = sample(row, x * c + k, d);
	switch (g->color) {
	case 0:
		px[0] = px[1] = px[2] = to8(v[0], d);
		px[3] = g->has_key && v[0] == g->key[0] ? 0 : 255;
		break;
	case 2:
		px[0] = to8(v[0], d);
		px[1] = to8(v[1], d);
		px[2] = to8(v[2], d);
		px[3] = g->has_key && v[0] == g->key[0] && v[1] == g->key[1] &&
			v[2] == g->key[2] ? 0 : 255;
		break;
	case 3:
		/* an index beyond the palette is an error in the file;
		 * decoders show it black, so do we
		 */
		if (v[0] < g->nplte)
			memcpy(px, g->plte[v[0]], 4);
		else
			memset(px, 0, 3), px[3] = 255;
		break;
	case 4:
		px[0] = px[1] = px[2] = to8(v[0], d);
		px[3] = to8(v[1], d);
		break;
	default:
		px[0] = to8(v[0], d);
		px[1] = to8(v[1], d);
		px[2] = to8(v[2], d);
		px[3] = to8(v[3], d);
		break;
	}
}

static const uint8_t a7_x0[7] = { 0, 4, 0, 2, 0, 1, 0 };
static const uint8_t a7_y0[7] = { 0, 0, 4, 0, 2, 0, 1 };
static const uint8_t a7_dx[7] = { 8, 8, 4, 4, 2, 2, 1 };
static const uint8_t a7_dy[7] = { 8, 8, 8, 4, 4, 2, 2 };

/* Pixels of a pass across @total, starting at @x0 every @dx. */
static uint32_t pass_len(uint32_t total, unsigned int x0, unsigned int dx)
{
	return total > x0 ? (total - x0 + dx - 1) / dx : 0;
}

static size_t row_bytes(const struct png *g, uint32_t w)
{
	return ((size_t)w * g->channels * g->depth + 7) / 8;
}

/* The size of the inflated data: every pass's rows, a filter byte each. */
static size_t raw_size(const struct png *g)
{
	size_t n = 0;

	for (int p = 0; p < (g->interlace ? 7 : 1); p++) {
		uint32_t pw = g->interlace ? pass_len(g->w, a7_x0[p], a7_dx[p]) : g->w;
		uint32_t ph = g->interlace ? pass_len(g->h, a7_y0[p], a7_dy[p]) : g->h;

		if (pw && ph)
			n += (size_t)ph * (1 + row_bytes(g, pw));
	}
	return n;
}

static int reconstruct(const struct png *g, uint8_t *raw, struct image *im,
		       const char **why)
{
	size_t bpp = (g->channels * g->depth + 7) / 8;
	uint8_t *p = raw;

	for (int pass = 0; pass < (g->interlace ? 7 : 1); pass++) {
		unsigned int x0 = g->interlace ? a7_x0[pass] : 0;
		unsigned int y0 = g->interlace ? a7_y0[pass] : 0;
		unsigned int dx = g->interlace ? a7_dx[pass] : 1;
		unsigned int dy = g->interlace ? a7_dy[pass] : 1;
		uint32_t pw = pass_len(g->w, x0, dx), ph = pass_len(g->h, y0, dy);
		size_t rb = row_bytes(g, pw);
		uint8_t *prior = NULL;

		if (!pw || !ph)
			continue;
		for (uint32_t y = 0; y < ph; y++) {
			uint8_t *row = p + 1;

			if (unfilter(p[0], row, prior, rb, bpp)) {
				*why = "PNG row with an unknown filter";
				return -1;
			}
			for (uint32_t x = 0; x < pw; x++)
				put_pixel(g, row, x, im->rgba +
					  ((size_t)(y0 + y * dy) * g->w +
					   x0 + x * dx) * 4);
			prior = row;
			p += 1 + rb;
		}
	}
	return 0;
}

static int header(struct png *g, const uint8_t *d, uint32_t n,
		  const char **why)
{
	static const uint8_t chans[7] = { 1, 0, 3, 1, 2, 0, 4 };
	uint8_t dep;

	if (n != 13) {
		*why = "PNG header of the wrong size";
		return -1;
	}
	g->w = be32(d);
	g->h = be32(d + 4);
	g->depth = dep = d[8];
	g->color = d[9];
	g->interlace = d[12];
	if (d[10] || d[11] || g->interlace > 1 || g->color > 6 ||
	    !chans[g->color]) {
		*why = "PNG header with an unknown method or colour type";
		return -1;
	}
	g->channels = chans[g->color];
	if (!(dep == 1 || dep == 2 || dep == 4 || dep == 8 || dep == 16) ||
	    (g->color == 3 && dep == 16) ||
	    ((g->color == 2 || g->color == 4 || g->color == 6) && dep < 8)) {
		*why = "PNG header with an invalid bit depth";
		return -1;
	}
	if (!g->w || !g->h || g->w > IMAGE_MAX_SIDE || g->h > IMAGE_MAX_SIDE ||
	    (uint64_t)g->w * g->h > IMAGE_MAX_PIXELS) {
		*why = "PNG picture empty or too large";
		return -1;
	}
	return 0;
}

static int transparency(struct png *g, const uint8_t *d, uint32_t n,
			const char **why)
{
	if (g->color == 3) {
		if (n > g->nplte) {
			*why = "PNG tRNS longer than the palette";
			return -1;
		}
		for (uint32_t i = 0; i < n; i++)
			g->plte[i][3] = d[i];
	} else if (g->color == 0 && n == 2) {
		g->key[0] = (uint16_t)(d[0] << 8 | d[1]);
		g->has_key = true;
	} else if (g->color == 2 && n == 6) {
		for (int k = 0; k < 3; k++)
			g->key[k] = (uint16_t)(d[2 * k] << 8 | d[2 * k + 1]);
		g->has_key = true;
	} else {
		*why = "PNG tRNS that does not fit the colour type";
		return -1;
	}
	return 0;
}

int png_decode(const uint8_t *p, size_t len, struct image *out,
	       const char **why)
{
	struct png g = { 0 };
	uint8_t *idat = NULL, *raw = NULL;
	size_t idat_len = 0, off = 8, raw_len, got;
	bool have_header = false, end = false;
	int r = -1;

	out->rgba = NULL;
	if (!png_signature(p, len)) {
		*why = "not a PNG";
		return -1;
	}
	/* the IDAT data together is never longer than the file */
	idat = malloc(len);
	if (!idat) {
		*why = "out of memory";
		return -1;
	}
	while (!end) {
		uint32_t n;
		const uint8_t *type, *data;

		if (len - off < 12) {
			*why = "PNG cut short";
			goto out;
		}
		n = be32(p + off);
		type = p + off + 4;
		data = type + 4;
		if (n > len - off - 12) {
			*why = "PNG chunk longer than the file";
			goto out;
		}
		if (png_crc32(type, (size_t)n + 4) != be32(data + n)) {
			*why = "PNG chunk with a wrong CRC";
			goto out;
		}
		if (!have_header && memcmp(type, "IHDR", 4)) {
			*why = "PNG without a header first";
			goto out;
		}
		if (!memcmp(type, "IHDR", 4)) {
			if (have_header || header(&g, data, n, why))
				goto out;
			have_header = true;
		} else if (!memcmp(type, "PLTE", 4)) {
			if (!n || n % 3 || n / 3 > 256 ||
			    n / 3 > (1u << (g.depth < 8 ? g.depth : 8))) {
				*why = "PNG palette of an invalid size";
				goto out;
			}
			g.nplte = n / 3;
			for (uint32_t i = 0; i < g.nplte; i++) {
				memcpy(g.plte[i], data + 3 * i, 3);
				g.plte[i][3] = 255;
			}
		} else if (!memcmp(type, "tRNS", 4)) {
			if (transparency(&g, data, n, why))
				goto out;
		} else if (!memcmp(type, "IDAT", 4)) {
			memcpy(idat + idat_len, data, n);
			idat_len += n;
		} else if (!memcmp(type, "IEND", 4)) {
			end = true;
		} else if (!(type[0] & 0x20)) {
			/* a critical chunk we do not know: cannot show it */
			*why = "PNG with an unknown critical chunk";
			goto out;
		}
		off += (size_t)n + 12;
	}
	if (g.color == 3 && !g.nplte) {
		*why = "PNG with a palette colour type and no palette";
		goto out;
	}
	raw_len = raw_size(&g);
	raw = malloc(raw_len);
	if (!raw || !image_alloc(out, g.w, g.h)) {
		*why = "out of memory";
		goto out;
	}
	r = zlib_inflate(idat, idat_len, raw, raw_len, &got);
	if (r || got != raw_len) {
		*why = r == ZF_TOO_LONG ? "PNG data longer than its picture" :
		       r ? "PNG data not a valid zlib stream" :
		       "PNG data shorter than its picture";
		r = -1;
		goto out;
	}
	r = reconstruct(&g, raw, out, why);
out:
	if (r)
		image_free(out);
	free(idat);
	free(raw);
	return r;
}

/* ---- encoding ---- */

/* The filter of a row whose bytes sum smallest as signed values: the
 * usual heuristic, it gives deflate the most repetition.
 */
static void filter_row(const uint8_t *row, const uint8_t *prior, size_t n,
		       size_t bpp, uint8_t *out, uint8_t *scratch)
{
	uint64_t best_sum = UINT64_MAX;

	for (uint8_t type = 0; type <= 4; type++) {
		uint64_t sum = 0;

		scratch[0] = type;
		for (size_t i = 0; i < n; i++) {
			int a = i >= bpp ? row[i - bpp] : 0;
			int b = prior ? prior[i] : 0;
			int c = prior && i >= bpp ? prior[i - bpp] : 0;
			uint8_t v = row[i];

			if (type == 1)
				v = (uint8_t)(v - a);
			else if (type == 2)
				v = (uint8_t)(v - b);
			else if (type == 3)
				v = (uint8_t)(v - ((a + b) >> 1));
			else if (type == 4)
				v = (uint8_t)(v - paeth(a, b, c));
			scratch[1 + i] = v;
			sum += v < 128 ? v : 256 - v;
		}
		if (sum < best_sum) {
			best_sum = sum;
			memcpy(out, scratch, n + 1);
		}
	}
}

static uint8_t *chunk(uint8_t *o, const char *type, const uint8_t *d,
		      uint32_t n)
{
	put_be32(o, n);
	memcpy(o + 4, type, 4);
	if (n)
		memcpy(o + 8, d, n);
	put_be32(o + 8 + n, png_crc32(o + 4, (size_t)n + 4));
	return o + 12 + n;
}

uint8_t *png_encode(const struct image *im, size_t *len)
{
	size_t npix = (size_t)im->width * im->height, bpp = 4, rb, raw_len;
	uint8_t *raw, *rows, *scratch, *z, *out, *o, ihdr[13];
	bool opaque = true;
	size_t zlen;

	for (size_t i = 0; i < npix && opaque; i++)
		opaque = im->rgba[i * 4 + 3] == 255;
	if (opaque)
		bpp = 3;
	rb = (size_t)im->width * bpp;
	raw_len = (rb + 1) * im->height;
	raw = malloc(raw_len);
	rows = malloc(rb * 2);
	scratch = malloc(rb + 1);
	if (!raw || !rows || !scratch) {
		free(raw);
		free(rows);
		free(scratch);
		return NULL;
	}
	for (uint32_t y = 0; y < im->height; y++) {
		const uint8_t *src = im->rgba + (size_t)y * im->width * 4;
		uint8_t *cur = rows + (y & 1) * rb;
		const uint8_t *prior = y ? rows + ((y - 1) & 1) * rb : NULL;

		for (uint32_t x = 0; x < im->width; x++)
			memcpy(cur + x * bpp, src + x * 4, bpp);
		filter_row(cur, prior, rb, bpp, raw + y * (rb + 1), scratch);
	}
	free(rows);
	free(scratch);
	z = zlib_deflate(raw, raw_len, &zlen);
	free(raw);
	if (!z || zlen > UINT32_MAX - 64) {
		free(z);
		return NULL;
	}
	out = malloc(8 + 25 + 12 + zlen + 12);
	if (!out) {
		free(z);
		return NULL;
	}
	memcpy(out, signature, 8);
	put_be32(ihdr, im->width);
	put_be32(ihdr + 4, im->height);
	ihdr[8] = 8;
	ihdr[9] = opaque ? 2 : 6;
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	o = chunk(out + 8, "IHDR", ihdr, 13);
	o = chunk(o, "IDAT", z, (uint32_t)zlen);
	o = chunk(o, "IEND", NULL, 0);
	free(z);
	*len = (size_t)(o - out);
	return out;
}
