/* SPDX-License-Identifier: MIT */
/*
 * The zlib streams and checksums a PNG needs, over zlib (static for
 * mingw-w64 from libz-mingw-w64-dev; the unit test builds it on Linux).
 */
#ifndef PVA_WIN_AGENT_ZFLATE_H
#define PVA_WIN_AGENT_ZFLATE_H

#include <stddef.h>
#include <stdint.h>

#define ZF_OK		0
#define ZF_MALFORMED	(-1)	/* not a valid zlib stream */
#define ZF_TOO_LONG	(-2)	/* it inflates to more than the buffer */

/*
 * Inflate the zlib stream @in into @out (@cap bytes, which bounds the
 * output: a decompression bomb stops there); *@got: bytes produced.
 * The Adler-32 check is verified.
 */
int zlib_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		 size_t *got);

/* Deflate @in into a zlib stream (malloc'd, *@out_len bytes); NULL when
 * out of memory.
 */
uint8_t *zlib_deflate(const uint8_t *in, size_t len, size_t *out_len);

/* The CRC-32 of a PNG chunk. */
uint32_t png_crc32(const uint8_t *p, size_t n);

#endif
