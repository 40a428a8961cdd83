/* SPDX-License-Identifier: MIT */
/*
 * Text between the protocol and Windows: the protocol's plain text is
 * UTF-8 with LF line ends (text/plain;charset=utf-8), CF_UNICODETEXT is
 * UTF-16 with CRLF, ending at the first NUL. Plain C, no Win32: the unit
 * test runs it on Linux too.
 */
#ifndef PVA_WIN_AGENT_TEXT_H
#define PVA_WIN_AGENT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * UTF-8 (@len bytes; it ends at a NUL before that) to UTF-16 with a
 * terminating 0, every LF not after a CR made CRLF; invalid sequences
 * become U+FFFD. malloc'd; *@units: its length in uint16_t, the 0
 * included. NULL when out of memory.
 */
uint16_t *utf8_to_utf16_crlf(const uint8_t *s, size_t len, size_t *units);

/*
 * UTF-16 (@units; it ends at a 0 before that) to UTF-8, every CRLF made
 * LF; an unpaired surrogate becomes U+FFFD. malloc'd, NUL-terminated;
 * *@len without the NUL. NULL when out of memory.
 */
uint8_t *utf16_to_utf8_lf(const uint16_t *s, size_t units, size_t *len);

/* Replace invalid UTF-8 in the NUL-terminated @s by '?', in place. */
void utf8_sanitize(char *s);

#endif
