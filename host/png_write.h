/* SPDX-License-Identifier: MIT */
/* Screenshots: XRGB8888 pixels to a PNG file. */
#ifndef PVA_HOST_PNG_WRITE_H
#define PVA_HOST_PNG_WRITE_H

#include <stddef.h>
#include <stdint.h>

/* Write @width x @height tightly packed pixels to @path (replaced
 * atomically). Returns 0, or -1 with a message in @err.
 */
int png_write_xrgb(const char *path, const uint32_t *px, unsigned int width,
		   unsigned int height, char *err, size_t errlen);

#endif
