// SPDX-License-Identifier: MIT
/*
 * Windows clipboard formats and the protocol's MIME types:
 *
 *   text/plain;charset=utf-8  <->  CF_UNICODETEXT (UTF-16, CRLF; Windows
 *                                  makes CF_TEXT and CF_OEMTEXT of it)
 *   image/png                 <->  the registered "PNG" format (what
 *                                  browsers and Office exchange), CF_DIBV5
 *                                  (with alpha) and CF_DIB (Windows makes
 *                                  CF_BITMAP of it)
 *
 * Reading prefers what loses nothing: "PNG" as it is, else the DIB the
 * application put there first (the other one is Windows' conversion).
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "image.h"
#include "text.h"

static UINT png_format(void)
{
	static UINT fmt;

	if (!fmt)
		fmt = RegisterClipboardFormatW(L"PNG");
	return fmt;
}

unsigned int clip_fmt_offer(const struct clip_types *types, UINT *fmts,
			    unsigned int max)
{
	unsigned int n = 0;

	if (clip_types_has(types, MIME_TEXT) && n < max)
		fmts[n++] = CF_UNICODETEXT;
	if (clip_types_has(types, MIME_PNG) && n + 3 <= max) {
		fmts[n++] = png_format();
		fmts[n++] = CF_DIBV5;
		fmts[n++] = CF_DIB;
	}
	return n;
}

const char *clip_fmt_mime(UINT fmt)
{
	if (fmt == CF_UNICODETEXT)
		return MIME_TEXT;
	if (fmt == CF_DIB || fmt == CF_DIBV5 || (fmt && fmt == png_format()))
		return MIME_PNG;
	return NULL;
}

void clip_fmt_local_types(struct clip_types *t)
{
	t->n = 0;
	/* true for CF_TEXT and CF_OEMTEXT too: Windows converts */
	if (IsClipboardFormatAvailable(CF_UNICODETEXT))
		clip_types_add(t, MIME_TEXT);
	if (IsClipboardFormatAvailable(png_format()) ||
	    IsClipboardFormatAvailable(CF_DIB) ||
	    IsClipboardFormatAvailable(CF_DIBV5) ||
	    IsClipboardFormatAvailable(CF_BITMAP))
		clip_types_add(t, MIME_PNG);
}

/* A copy of the clipboard's @fmt data; NULL if there is none. */
static uint8_t *get_data(UINT fmt, size_t *len)
{
	HANDLE h = GetClipboardData(fmt);
	const void *p;
	uint8_t *copy;
	SIZE_T n;

	if (!h)
		return NULL;
	n = GlobalSize(h);
	p = GlobalLock(h);
	if (!p)
		return NULL;
	copy = malloc(n ? n : 1);
	if (copy && n)
		memcpy(copy, p, n);
	GlobalUnlock(h);
	*len = n;
	return copy;
}

static uint32_t read_text(uint8_t **data, size_t *len)
{
	size_t n;
	uint8_t *w = get_data(CF_UNICODETEXT, &n);

	if (!w)
		return IsClipboardFormatAvailable(CF_UNICODETEXT) ? PVA_S_EIO :
								    PVA_S_ENOENT;
	*data = utf16_to_utf8_lf((const uint16_t *)(void *)w, n / 2, len);
	free(w);
	return *data ? PVA_S_OK : PVA_S_ENOMEM;
}

/* The first of CF_DIB and CF_DIBV5 the application put there. */
static UINT first_dib(void)
{
	UINT f = 0;

	while ((f = EnumClipboardFormats(f)))
		if (f == CF_DIB || f == CF_DIBV5)
			return f;
	return CF_DIB;	/* a CF_BITMAP only: Windows makes a DIB of it */
}

static uint32_t read_png(uint8_t **data, size_t *len)
{
	UINT dibs[2];
	size_t n;
	uint8_t *raw = get_data(png_format(), &n);

	if (raw && png_signature(raw, n)) {
		/* the PNG chunks tell its end; an allocation is rounded up */
		*data = raw;
		*len = n;
		return PVA_S_OK;
	}
	free(raw);
	dibs[0] = first_dib();
	dibs[1] = dibs[0] == CF_DIB ? CF_DIBV5 : CF_DIB;
	for (int i = 0; i < 2; i++) {
		struct image im;
		const char *why;
		uint8_t *dib = get_data(dibs[i], &n);

		if (!dib)
			continue;
		if (dib_decode(dib, n, &im, &why)) {
			log_warn("clipboard: the application's %s: %s",
				 dibs[i] == CF_DIB ? "CF_DIB" : "CF_DIBV5", why);
			free(dib);
			continue;
		}
		free(dib);
		*data = png_encode(&im, len);
		image_free(&im);
		return *data ? PVA_S_OK : PVA_S_ENOMEM;
	}
	return PVA_S_EIO;
}

uint32_t clip_fmt_read(const char *mime, uint8_t **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	if (!strcmp(mime, MIME_TEXT))
		return read_text(data, len);
	if (!strcmp(mime, MIME_PNG))
		return read_png(data, len);
	return PVA_S_ENOENT;
}

static HANDLE global_of(const void *p, size_t n)
{
	HGLOBAL h = GlobalAlloc(GMEM_MOVEABLE, n ? n : 1);
	void *d;

	if (!h)
		return NULL;
	d = GlobalLock(h);
	if (!d) {
		GlobalFree(h);
		return NULL;
	}
	if (n)
		memcpy(d, p, n);
	GlobalUnlock(h);
	return h;
}

HANDLE clip_fmt_make(UINT fmt, const char *mime, const uint8_t *data,
		     size_t len)
{
	HANDLE h = NULL;

	if (fmt == CF_UNICODETEXT && !strcmp(mime, MIME_TEXT)) {
		size_t units;
		uint16_t *w = utf8_to_utf16_crlf(data, len, &units);

		if (w)
			h = global_of(w, units * sizeof(uint16_t));
		free(w);
	} else if (fmt == png_format() && !strcmp(mime, MIME_PNG)) {
		if (png_signature(data, len))
			h = global_of(data, len);
		else
			log_warn("clipboard: the host's image/png is not a PNG");
	} else if ((fmt == CF_DIB || fmt == CF_DIBV5) && !strcmp(mime, MIME_PNG)) {
		struct image im;
		const char *why;
		uint8_t *dib;
		size_t n;

		if (png_decode(data, len, &im, &why)) {
			log_warn("clipboard: the host's image/png: %s", why);
			return NULL;
		}
		dib = dib_encode(&im, fmt == CF_DIBV5, &n);
		image_free(&im);
		if (dib)
			h = global_of(dib, n);
		free(dib);
	}
	return h;
}
