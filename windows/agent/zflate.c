/* SPDX-License-Identifier: MIT */
/*
 * zlib streams for PNG, through zlib itself (libz-mingw-w64-dev, linked
 * statically into pva-agent.exe): a bounded inflate, so that a hostile
 * image cannot make us allocate more than the caller's buffer.
 */
#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

#include "zflate.h"

int zlib_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		 size_t *got)
{
	z_stream z = { 0 };
	int r;

	*got = 0;
	if (len > UINT_MAX || cap > UINT_MAX || inflateInit(&z) != Z_OK)
		return ZF_MALFORMED;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	r = inflate(&z, Z_FINISH);
	*got = cap - z.avail_out;
	inflateEnd(&z);
	if (r == Z_STREAM_END)
		return ZF_OK;
	/* not at the end with the output full: it inflates to more than @cap */
	if (r == Z_BUF_ERROR && z.avail_out == 0)
		return ZF_TOO_LONG;
	return ZF_MALFORMED;
}

uint8_t *zlib_deflate(const uint8_t *in, size_t len, size_t *out_len)
{
	uLongf n;
	uint8_t *out;

	if (len > UINT_MAX)
		return NULL;
	n = compressBound((uLong)len);
	out = malloc(n);
	if (!out)
		return NULL;
	if (compress2(out, &n, in, (uLong)len, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(out);
		return NULL;
	}
	*out_len = n;
	return out;
}

uint32_t png_crc32(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(0, p, (uInt)n);
}
