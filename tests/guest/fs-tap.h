/* SPDX-License-Identifier: MIT */
/*
 * fs-tap.h: TAP-like reporting for the filesystem test programs (fs-posix,
 * fs-fsx, fs-mmap, fs-notify). Every check prints one line:
 *
 *   ok N - GROUP: description
 *   not ok N - GROUP: description: what happened
 *   ok N - GROUP: description # SKIP why
 *   not ok N - GROUP: description: what happened # TODO known failure
 *
 * and the program ends with "PROG: N passed, N failed, N skipped".
 * Checks matching an --xfail pattern (fnmatch(3) against the group name or
 * against "GROUP: description") are known failures: reported, counted as
 * skipped, not failed; one that passes says so ("# TODO ... passes").
 * tap_summary() gives the exit status: 0 all passed, 1 a check failed, 77
 * nothing passed (all skipped).
 */
#ifndef PVA_FS_TAP_H
#define PVA_FS_TAP_H

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define TAP_MAX_PATTERNS 128

struct tap {
	int n, passed, failed, skipped, xfailed, xpassed;
	const char *group;
	const char *xfail[TAP_MAX_PATTERNS];
	int n_xfail;
};

static struct tap tap = { .group = "" };

/* errno as its name ("ENOENT"), for messages */
static inline const char *tap_errname(int e)
{
	static char buf[16];
	const char *s = e ? strerrorname_np(e) : "0";

	if (s)
		return s;
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

/* does PATTERN select GROUP or "GROUP: DESC"? */
static inline bool tap_match(const char *pattern, const char *group,
			     const char *desc)
{
	char full[600];

	if (!fnmatch(pattern, group, 0))
		return true;
	if (!desc)
		return false;
	snprintf(full, sizeof(full), "%s: %s", group, desc);
	return !fnmatch(pattern, full, 0);
}

static inline bool tap_add_xfail(const char *pattern)
{
	if (tap.n_xfail == TAP_MAX_PATTERNS)
		return false;
	tap.xfail[tap.n_xfail++] = pattern;
	return true;
}

static inline const char *tap_xfail_of(const char *desc)
{
	for (int i = 0; i < tap.n_xfail; i++)
		if (tap_match(tap.xfail[i], tap.group, desc))
			return tap.xfail[i];
	return NULL;
}

static inline void tap_prefix(const char *desc)
{
	printf("%d - %s%s%s", tap.n, tap.group, tap.group[0] ? ": " : "", desc);
}

/* One check: PASS or not, and if not, why (printf format). */
static inline bool tap_vresult(bool pass, const char *desc, const char *fmt,
			       va_list ap)
{
	const char *xf = tap_xfail_of(desc);

	tap.n++;
	if (pass) {
		tap.passed++;
		printf("ok ");
		tap_prefix(desc);
		if (xf) {
			tap.xpassed++;
			printf(" # TODO known failure '%s' passes", xf);
		}
		printf("\n");
		fflush(stdout);
		return true;
	}
	printf("not ok ");
	tap_prefix(desc);
	printf(": ");
	vprintf(fmt, ap);
	if (xf) {
		tap.xfailed++;
		tap.skipped++;
		printf(" # TODO known failure '%s'", xf);
	} else {
		tap.failed++;
	}
	printf("\n");
	fflush(stdout);
	return false;
}

static inline bool tap_result(bool pass, const char *desc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline bool tap_result(bool pass, const char *desc, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vresult(pass, desc, fmt, ap);
	va_end(ap);
	return r;
}

static inline void tap_skip(const char *desc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void tap_skip(const char *desc, const char *fmt, ...)
{
	va_list ap;

	tap.n++;
	tap.skipped++;
	printf("ok ");
	tap_prefix(desc);
	printf(" # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* A comment line (not a check). */
static inline void tap_note(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void tap_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* The closing line; the exit status: 0 pass, 1 fail, 77 nothing ran. */
static inline int tap_summary(const char *prog)
{
	if (tap.xfailed || tap.xpassed)
		printf("# %d known failures failed, %d passed\n", tap.xfailed,
		       tap.xpassed);
	printf("%s: %d passed, %d failed, %d skipped\n", prog, tap.passed,
	       tap.failed, tap.skipped);
	fflush(stdout);
	if (tap.failed)
		return 1;
	return tap.passed ? 0 : 77;
}

#endif /* PVA_FS_TAP_H */
