// SPDX-License-Identifier: MIT
/* Screenshots: XRGB8888 pixels to a PNG file, with libpng. */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "png_write.h"

int png_write_xrgb(const char *path, const uint32_t *px, unsigned int width,
		   unsigned int height, char *err, size_t errlen)
{
	png_image img = {
		.version = PNG_IMAGE_VERSION,
		.width = width,
		.height = height,
		.format = PNG_FORMAT_RGB,
	};
	size_t n = (size_t)width * height;
	uint8_t *rgb = malloc(n * 3 + 1);
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 8);
	int ret = -1;

	if (!rgb || !tmp) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rgb[i * 3] = (uint8_t)(px[i] >> 16);
		rgb[i * 3 + 1] = (uint8_t)(px[i] >> 8);
		rgb[i * 3 + 2] = (uint8_t)px[i];
	}
	/* a reader never sees half a file */
	snprintf(tmp, plen + 8, "%s.tmpXXX", path);
	if (!png_image_write_to_file(&img, tmp, 0, rgb, 0, NULL)) {
		snprintf(err, errlen, "%s", img.message[0] ? img.message :
			 strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	free(rgb);
	free(tmp);
	return ret;
}
