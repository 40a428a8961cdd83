// SPDX-License-Identifier: MIT
#include "text.h"

#include <stdbool.h>
#include <stdlib.h>

#define REPLACEMENT	0xfffdu

/* The code point at s[*i] (advancing *i), U+FFFD for a malformed one:
 * overlong forms, surrogates and values above U+10FFFF are malformed.
 */
static uint32_t utf8_next(const uint8_t *s, size_t len, size_t *i)
{
	uint8_t c = s[*i];
	uint32_t cp, min;
	size_t n;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		(*i)++;
		return REPLACEMENT;
	}
	for (size_t k = 1; k <= n; k++) {
		if (*i + k >= len || (s[*i + k] & 0xc0) != 0x80) {
			/* resynchronise at the byte that broke it */
			*i += k;
			return REPLACEMENT;
		}
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	*i += n + 1;
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return REPLACEMENT;
	return cp;
}

uint16_t *utf8_to_utf16_crlf(const uint8_t *s, size_t len, size_t *units)
{
	size_t n = 0, i, o = 0;
	uint16_t *out;

	for (i = 0; i < len && s[i]; i++)
		;
	len = i;
	/* the worst case: every byte a LF (2 units) */
	if (len > (SIZE_MAX / sizeof(uint16_t) - 1) / 2)
		return NULL;
	n = len * 2 + 1;
	out = malloc(n * sizeof(uint16_t));
	if (!out)
		return NULL;
	for (i = 0; i < len;) {
		bool after_cr = o && out[o - 1] == '\r';
		uint32_t cp = utf8_next(s, len, &i);

		if (cp == '\n' && !after_cr)
			out[o++] = '\r';
		if (cp >= 0x10000) {
			cp -= 0x10000;
			out[o++] = (uint16_t)(0xd800 | (cp >> 10));
			out[o++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			out[o++] = (uint16_t)cp;
		}
	}
	out[o++] = 0;
	*units = o;
	return out;
}

uint8_t *utf16_to_utf8_lf(const uint16_t *s, size_t units, size_t *len)
{
	size_t i, o = 0;
	uint8_t *out;

	for (i = 0; i < units && s[i]; i++)
		;
	units = i;
	/* at most 3 bytes per unit (a pair is 4 bytes for 2 units) */
	if (units > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(units * 3 + 1);
	if (!out)
		return NULL;
	for (i = 0; i < units; i++) {
		uint32_t cp = s[i];

		if (cp == '\r' && i + 1 < units && s[i + 1] == '\n')
			continue;	/* CRLF: its LF follows */
		if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < units &&
		    s[i + 1] >= 0xdc00 && s[i + 1] <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (s[i + 1] - 0xdc00);
			i++;
		} else if (cp >= 0xd800 && cp <= 0xdfff) {
			cp = REPLACEMENT;
		}
		if (cp < 0x80) {
			out[o++] = (uint8_t)cp;
		} else if (cp < 0x800) {
			out[o++] = (uint8_t)(0xc0 | cp >> 6);
			out[o++] = (uint8_t)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out[o++] = (uint8_t)(0xe0 | cp >> 12);
			out[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (uint8_t)(0x80 | (cp & 0x3f));
		} else {
			out[o++] = (uint8_t)(0xf0 | cp >> 18);
			out[o++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
			out[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (uint8_t)(0x80 | (cp & 0x3f));
		}
	}
	out[o] = 0;
	*len = o;
	return out;
}

void utf8_sanitize(char *str)
{
	uint8_t *s = (uint8_t *)str;
	size_t len = 0;

	while (s[len])
		len++;
	for (size_t i = 0; i < len;) {
		size_t start = i;

		if (utf8_next(s, len, &i) == REPLACEMENT &&
		    !(i - start == 3 && s[start] == 0xef && s[start + 1] == 0xbf &&
		      s[start + 2] == 0xbd))
			for (size_t k = start; k < i; k++)
				s[k] = '?';
	}
}
