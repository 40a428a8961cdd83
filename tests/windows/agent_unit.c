// SPDX-License-Identifier: MIT
/*
 * Unit test of the Windows agent's plain-C parts, built for Linux with
 * ASan and UBSan (make windows-agent-test): text (UTF-8 <-> UTF-16,
 * CRLF), inflate and deflate against the real zlib, PNG against libpng
 * in every colour type, bit depth and interlacing, DIBs; and malformed
 * input of each, which must fail cleanly. Prints "agent-unit: N passed,
 * N failed".
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "image.h"
#include "text.h"
#include "zflate.h"

static int passed, failed;

#define CHECK(cond, ...) do { \
	if (cond) { passed++; } else { failed++; \
		printf("FAIL %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); printf("\n"); } \
} while (0)

static uint32_t rng = 12345;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* ---- text ---- */

static void test_text(void)
{
	const char *s = "Γειά σου κόσμε\n日本語のテキスト\r\n😀 emoji\nend";
	size_t units, back_len;
	uint16_t *w = utf8_to_utf16_crlf((const uint8_t *)s, strlen(s), &units);
	uint8_t *back;
	int crlf = 0;

	CHECK(w != NULL, "utf8_to_utf16_crlf failed");
	for (size_t i = 0; i + 1 < units; i++) {
		if (w[i] == '\n')
			CHECK(i > 0 && w[i - 1] == '\r', "LF at %zu without CR", i);
		crlf += w[i] == '\r';
	}
	CHECK(crlf == 3, "3 CRLF expected, %d", crlf);
	CHECK(w[units - 1] == 0, "not terminated");
	back = utf16_to_utf8_lf(w, units, &back_len);
	{
		const char *want = "Γειά σου κόσμε\n日本語のテキスト\n😀 emoji\nend";

		CHECK(back_len == strlen(want) && !memcmp(back, want, back_len),
		      "round trip: '%s'", back);
	}
	free(w);
	free(back);

	/* emoji: a surrogate pair */
	w = utf8_to_utf16_crlf((const uint8_t *)"\xf0\x9f\x98\x80", 4, &units);
	CHECK(units == 3 && w[0] == 0xd83d && w[1] == 0xde00, "surrogates");
	free(w);
	/* invalid UTF-8: overlong, a surrogate, cut short, stray continuation */
	w = utf8_to_utf16_crlf((const uint8_t *)"a\xc0\xafz\xed\xa0\x80y\xe2\x82x\x80", 13,
			       &units);
	CHECK(w && units == 10 && w[0] == 'a' && w[1] == 0xfffd && w[2] == 0xfffd &&
	      w[3] == 'z' && w[4] == 0xfffd && w[5] == 'y' && w[6] == 0xfffd &&
	      w[7] == 'x' && w[8] == 0xfffd, "invalid UTF-8 (%zu units)", units);
	free(w);
	/* stops at NUL */
	w = utf8_to_utf16_crlf((const uint8_t *)"ab\0cd", 5, &units);
	CHECK(units == 3, "NUL ends the text");
	free(w);
	{
		uint16_t lone[] = { 'a', 0xd800, 'b', 0xdc00, '\r', '\r', '\n', 0, 'x' };

		back = utf16_to_utf8_lf(lone, 9, &back_len);
		CHECK(back_len == 10 && !memcmp(back, "a\xef\xbf\xbd" "b\xef\xbf\xbd\r\n", 10),
		      "lone surrogates, CR CR LF");
		free(back);
	}
	{
		char m[] = "ok \xff\xfe bad \xe2\x82 cut";

		utf8_sanitize(m);
		CHECK(!strcmp(m, "ok ?? bad ?? cut"), "sanitize: %s", m);
	}
}

/* ---- zlib ---- */

static void fill(uint8_t *p, size_t n, int kind)
{
	for (size_t i = 0; i < n; i++)
		p[i] = kind == 0 ? (uint8_t)rnd() : kind == 1 ? 0 :
		       kind == 2 ? "the quick brown fox jumps "[i % 26] ^ (uint8_t)(i / 5000) :
		       (uint8_t)(i * i >> 7);
}

static void test_zlib(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 100, 65535, 65536, 300000 };

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (int kind = 0; kind < 4; kind++) {
			size_t n = sizes[si], zn, got;
			uint8_t *in = malloc(n + 1), *z, *out = malloc(n + 1);
			uLongf dn = n + 1;
			int levels[] = { 0, 1, 6, 9 };

			fill(in, n, kind);
			z = zlib_deflate(in, n, &zn);
			CHECK(z != NULL, "deflate");
			CHECK(uncompress(out, &dn, z, zn) == Z_OK && dn == n &&
			      !memcmp(in, out, n), "zlib takes our deflate (%zu, %d)",
			      n, kind);
			memset(out, 0, n + 1);
			CHECK(zlib_inflate(z, zn, out, n, &got) == ZF_OK &&
			      got == n && !memcmp(in, out, n),
			      "our inflate takes our deflate (%zu, %d)", n, kind);
			if (n > 0)
				CHECK(zlib_inflate(z, zn, out, n - 1, &got) == ZF_TOO_LONG,
				      "the output bound holds");
			free(z);
			for (int l = 0; l < 4; l++) {
				uLongf cn = compressBound(n);
				uint8_t *c = malloc(cn);

				compress2(c, &cn, in, n, levels[l]);
				CHECK(zlib_inflate(c, cn, out, n, &got) == ZF_OK &&
				      got == n && !memcmp(in, out, n),
				      "inflate of zlib level %d (%zu, %d)", levels[l],
				      n, kind);
				/* corrupt it: must fail or differ, never crash */
				for (int k = 0; k < 20 && cn > 2; k++) {
					uint8_t *bad = malloc(cn);

					memcpy(bad, c, cn);
					bad[2 + rnd() % (cn - 2)] ^= (uint8_t)(1 + rnd() % 255);
					zlib_inflate(bad, cn, out, n, &got);
					zlib_inflate(bad, rnd() % cn, out, n, &got);
					free(bad);
				}
				free(c);
			}
			free(in);
			free(out);
		}
	{
		uint8_t bomb_in[1 << 16], out[1000];
		uLongf cn = sizeof(bomb_in);
		static uint8_t zeros[1 << 20];
		size_t got;

		compress2(bomb_in, &cn, zeros, sizeof(zeros), 9);
		CHECK(zlib_inflate(bomb_in, cn, out, sizeof(out), &got) == ZF_TOO_LONG,
		      "a bomb stops at the buffer");
	}
}

/* ---- PNG ---- */

struct mem {
	uint8_t *p;
	size_t n;
};

static void mem_write(png_structp png, png_bytep d, png_size_t n)
{
	struct mem *m = png_get_io_ptr(png);

	m->p = realloc(m->p, m->n + n);
	memcpy(m->p + m->n, d, n);
	m->n += n;
}

static void mem_flush(png_structp png)
{
	(void)png;
}

/* A PNG of @w x @h made by libpng: colour type, depth, interlacing; the
 * samples are random, and @tr adds a tRNS.
 */
static struct mem make_png(uint32_t w, uint32_t h, int color, int depth,
			   int interlace, int tr)
{
	struct mem m = { 0 };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	int ch = color == 0 ? 1 : color == 2 ? 3 : color == 3 ? 1 : color == 4 ? 2 : 4;
	size_t rb = ((size_t)w * ch * depth + 7) / 8;
	png_bytep *rows = malloc(sizeof(png_bytep) * h);

	png_set_write_fn(png, &m, mem_write, mem_flush);
	png_set_IHDR(png, info, w, h, depth, color,
		     interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (color == 3) {
		png_color pal[256];
		png_byte alpha[256];
		int n = 1 << depth;

		for (int i = 0; i < n; i++) {
			pal[i].red = (png_byte)rnd();
			pal[i].green = (png_byte)rnd();
			pal[i].blue = (png_byte)rnd();
			alpha[i] = (png_byte)rnd();
		}
		png_set_PLTE(png, info, pal, n);
		if (tr)
			png_set_tRNS(png, info, alpha, n / 2 ? n / 2 : 1, NULL);
	} else if (tr && (color == 0 || color == 2)) {
		png_color_16 key = { 0 };

		key.gray = key.red = 1;
		png_set_tRNS(png, info, NULL, 0, &key);
	}
	png_write_info(png, info);
	for (uint32_t y = 0; y < h; y++) {
		rows[y] = malloc(rb);
		for (size_t i = 0; i < rb; i++)
			rows[y][i] = (png_byte)(rnd() % 3 ? rnd() : 1);
	}
	png_write_image(png, rows);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	for (uint32_t y = 0; y < h; y++)
		free(rows[y]);
	free(rows);
	return m;
}

struct rd {
	const uint8_t *p;
	size_t n, off;
};

static void mem_read(png_structp png, png_bytep d, png_size_t n)
{
	struct rd *r = png_get_io_ptr(png);

	if (r->off + n > r->n)
		png_error(png, "short");
	memcpy(d, r->p + r->off, n);
	r->off += n;
}

/* libpng's reading of @m as 8-bit RGBA: the reference. */
static uint8_t *libpng_rgba(const struct mem *m, uint32_t *w, uint32_t *h)
{
	struct rd r = { m->p, m->n, 0 };
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	uint8_t *out;
	png_bytep *rows;

	png_set_read_fn(png, &r, mem_read);
	png_read_info(png, info);
	png_set_expand(png);
	png_set_strip_16(png);
	png_set_gray_to_rgb(png);
	png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	*w = png_get_image_width(png, info);
	*h = png_get_image_height(png, info);
	out = malloc((size_t)*w * *h * 4);
	rows = malloc(sizeof(png_bytep) * *h);
	for (uint32_t y = 0; y < *h; y++)
		rows[y] = out + (size_t)y * *w * 4;
	png_read_image(png, rows);
	png_destroy_read_struct(&png, &info, NULL);
	free(rows);
	return out;
}

static void test_png_formats(void)
{
	static const int combos[][2] = {
		{ 0, 1 }, { 0, 2 }, { 0, 4 }, { 0, 8 }, { 0, 16 },
		{ 2, 8 }, { 2, 16 }, { 3, 1 }, { 3, 2 }, { 3, 4 }, { 3, 8 },
		{ 4, 8 }, { 4, 16 }, { 6, 8 }, { 6, 16 },
	};
	static const uint32_t dims[][2] = { { 1, 1 }, { 3, 7 }, { 13, 9 }, { 64, 33 } };

	for (size_t c = 0; c < sizeof(combos) / sizeof(combos[0]); c++)
		for (int il = 0; il < 2; il++)
			for (int tr = 0; tr < 2; tr++)
				for (size_t d = 0; d < 4; d++) {
					struct mem m = make_png(dims[d][0], dims[d][1],
								combos[c][0], combos[c][1], il, tr);
					uint32_t w, h;
					uint8_t *ref = libpng_rgba(&m, &w, &h);
					struct image im;
					const char *why = "";
					int r = png_decode(m.p, m.n, &im, &why);

					CHECK(r == 0 && im.width == w && im.height == h &&
					      !memcmp(im.rgba, ref, (size_t)w * h * 4),
					      "PNG colour %d depth %d interlace %d tRNS %d %ux%u: %s",
					      combos[c][0], combos[c][1], il, tr, w, h,
					      r ? why : "pixels differ");
					image_free(&im);
					free(ref);
					free(m.p);
				}
}

static struct image random_image(uint32_t w, uint32_t h, bool opaque, int kind)
{
	struct image im;

	image_alloc(&im, w, h);
	for (size_t i = 0; i < (size_t)w * h * 4; i++)
		im.rgba[i] = kind ? (uint8_t)((i / 4 % w) * 3 + (i / 4 / w) * 5 + i % 4) :
			     (uint8_t)rnd();
	if (opaque)
		for (size_t i = 0; i < (size_t)w * h; i++)
			im.rgba[i * 4 + 3] = 255;
	return im;
}

static void test_png_roundtrip(void)
{
	for (int opaque = 0; opaque < 2; opaque++)
		for (int kind = 0; kind < 2; kind++) {
			struct image im = random_image(97, 61, opaque, kind), back;
			size_t n;
			uint8_t *p = png_encode(&im, &n);
			struct mem m = { p, n };
			uint32_t w, h;
			uint8_t *ref;
			const char *why = "";

			CHECK(p && png_decode(p, n, &back, &why) == 0 &&
			      back.width == 97 && back.height == 61 &&
			      !memcmp(back.rgba, im.rgba, (size_t)97 * 61 * 4),
			      "PNG round trip (opaque %d, kind %d): %s", opaque, kind, why);
			ref = libpng_rgba(&m, &w, &h);
			CHECK(w == 97 && h == 61 && !memcmp(ref, im.rgba, (size_t)w * h * 4),
			      "libpng reads our PNG (opaque %d, kind %d)", opaque, kind);
			free(ref);
			/* mutations: must fail or decode, never crash */
			for (int k = 0; k < 300; k++) {
				uint8_t *bad = malloc(n);
				struct image x;

				memcpy(bad, p, n);
				bad[rnd() % n] ^= (uint8_t)(1 + rnd() % 255);
				if (png_decode(bad, k % 2 ? n : rnd() % n, &x, &why) == 0)
					image_free(&x);
				free(bad);
			}
			image_free(&back);
			image_free(&im);
			free(p);
		}
	{
		/* a 60000 x 60000 header: refused before any allocation */
		struct mem m = make_png(1, 1, 6, 8, 0, 0);
		struct image x;
		const char *why = "";

		m.p[16] = 0; m.p[17] = 0; m.p[18] = 0xea; m.p[19] = 0x60;
		m.p[20] = 0; m.p[21] = 0; m.p[22] = 0xea; m.p[23] = 0x60;
		{
			uLong crc = crc32(0, m.p + 12, 17);

			m.p[29] = (uint8_t)(crc >> 24); m.p[30] = (uint8_t)(crc >> 16);
			m.p[31] = (uint8_t)(crc >> 8); m.p[32] = (uint8_t)crc;
		}
		CHECK(png_decode(m.p, m.n, &x, &why) == -1 && strstr(why, "too large"),
		      "huge PNG refused: %s", why);
		free(m.p);
	}
}

/* ---- DIB ---- */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void test_dib(void)
{
	for (int v5 = 0; v5 < 2; v5++)
		for (int opaque = 0; opaque < 2; opaque++) {
			struct image im = random_image(31, 17, opaque, 0), back;
			size_t n;
			uint8_t *d = dib_encode(&im, v5, &n);
			const char *why = "";

			CHECK(d && dib_decode(d, n, &back, &why) == 0 &&
			      !memcmp(back.rgba, im.rgba, (size_t)31 * 17 * 4),
			      "DIB round trip v5 %d opaque %d: %s", v5, opaque, why);
			for (size_t cut = 0; cut < n; cut += 7) {
				struct image x;

				if (dib_decode(d, cut, &x, &why) == 0)
					image_free(&x);
				CHECK(dib_decode(d, cut, &x, &why) == -1, "cut DIB %zu", cut);
			}
			image_free(&back);
			image_free(&im);
			free(d);
		}
	{
		/* 24 bits, top-down, 3x2: rows padded to 12 bytes */
		uint8_t d[40 + 24] = { 0 };
		struct image x;
		const char *why = "";

		put32(d, 40); put32(d + 4, 3); put32(d + 8, (uint32_t)-2);
		d[12] = 1; d[14] = 24;
		for (int i = 0; i < 9; i++)
			d[40 + i] = (uint8_t)(10 + i);
		for (int i = 0; i < 9; i++)
			d[52 + i] = (uint8_t)(100 + i);
		CHECK(dib_decode(d, sizeof(d), &x, &why) == 0 && x.rgba[0] == 12 &&
		      x.rgba[1] == 11 && x.rgba[2] == 10 && x.rgba[3] == 255 &&
		      x.rgba[12] == 102 && x.rgba[16] == 105, "24-bit top-down: %s", why);
		image_free(&x);
	}
	{
		/* 8 bits with a 2-colour table, bottom-up 2x2 */
		uint8_t d[40 + 8 + 8] = { 0 };
		struct image x;
		const char *why = "";

		put32(d, 40); put32(d + 4, 2); put32(d + 8, 2);
		d[12] = 1; d[14] = 8; put32(d + 32, 2);
		d[40] = 1; d[41] = 2; d[42] = 3;	/* colour 0: B G R */
		d[44] = 4; d[45] = 5; d[46] = 6;
		d[48] = 0; d[49] = 1;		/* bottom row */
		d[52] = 1; d[53] = 7;		/* top row: 7 is beyond the table */
		CHECK(dib_decode(d, sizeof(d), &x, &why) == 0 && x.rgba[0] == 6 &&
		      x.rgba[4] == 0 && x.rgba[8] == 3 && x.rgba[12] == 6,
		      "8-bit palette: %s", why);
		image_free(&x);
	}
	{
		/* 16 bits 5-6-5 bit fields after a plain header */
		uint8_t d[40 + 12 + 4] = { 0 };
		struct image x;
		const char *why = "";

		put32(d, 40); put32(d + 4, 1); put32(d + 8, 1);
		d[12] = 1; d[14] = 16; put32(d + 16, 3);
		put32(d + 40, 0xf800); put32(d + 44, 0x07e0); put32(d + 48, 0x001f);
		d[52] = 0x1f; d[53] = 0xf8;	/* red full, blue full */
		CHECK(dib_decode(d, sizeof(d), &x, &why) == 0 && x.rgba[0] == 255 &&
		      x.rgba[1] == 0 && x.rgba[2] == 255 && x.rgba[3] == 255,
		      "16-bit 565: %s", why);
		image_free(&x);
		put32(d + 44, 0x0520);	/* not contiguous */
		CHECK(dib_decode(d, sizeof(d), &x, &why) == -1, "bad mask refused");
	}
	{
		/* 32-bit BI_RGB with zero alpha everywhere: opaque */
		uint8_t d[40 + 8] = { 0 };
		struct image x;
		const char *why = "";

		put32(d, 40); put32(d + 4, 2); put32(d + 8, 1);
		d[12] = 1; d[14] = 32;
		d[40] = 9;
		CHECK(dib_decode(d, sizeof(d), &x, &why) == 0 && x.rgba[2] == 9 &&
		      x.rgba[3] == 255 && x.rgba[7] == 255, "zero alpha is opaque");
		image_free(&x);
		/* huge dimensions: refused */
		put32(d + 4, 0x7fffffff);
		CHECK(dib_decode(d, sizeof(d), &x, &why) == -1, "huge DIB refused");
		put32(d + 4, 2); d[16] = 1;	/* RLE8 */
		CHECK(dib_decode(d, sizeof(d), &x, &why) == -1, "RLE refused");
	}
}

int main(void)
{
	test_text();
	test_zlib();
	test_png_formats();
	test_png_roundtrip();
	test_dib();
	printf("agent-unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
