/* SPDX-License-Identifier: MIT */
/* Parsing sizes with K/M/G/T suffixes ("4M", "1GiB", "512"). */
#ifndef PVA_HOST_SIZE_H
#define PVA_HOST_SIZE_H

#include <stdint.h>

/* Bytes; 0 or -1 if @s is not a non-negative size that fits 64 bits. */
int parse_size(const char *s, uint64_t *out);

#endif
