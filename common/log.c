// SPDX-License-Identifier: MIT
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *log_ident = "pva";
static int log_max = LOG_INFO;
static bool log_journal;
static bool log_held;
static unsigned long log_dropped;

/*
 * systemd sets JOURNAL_STREAM=dev:ino for the stream it connected to
 * stderr; it only counts if stderr is still that stream.
 */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, int max_level)
{
	log_ident = ident;
	log_max = max_level;
	log_journal = stderr_is_journal();
}

void log_msg(int prio, const char *fmt, ...)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice",
		"info", "debug",
	};
	char buf[1024];
	va_list ap;

	if (prio > log_max)
		return;
	if (log_held) {
		log_dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", prio, buf);
	else
		fprintf(stderr, "%s[%d]: %s: %s\n", log_ident, (int)getpid(),
			names[prio & 7], buf);
}

bool log_ratelimit_ok(struct log_ratelimit *rl)
{
	time_t now = time(NULL);

	if (now - rl->start >= rl->interval_s) {
		if (rl->missed)
			log_warn("%d messages suppressed", rl->missed);
		rl->start = now;
		rl->printed = 0;
		rl->missed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->missed++;
	return false;
}

void log_hold(bool on)
{
	unsigned long n = log_dropped;

	log_held = on;
	log_dropped = 0;
	if (!on && n)
		log_msg(LOG_INFO, "%lu log messages dropped while the filesystems were frozen",
			n);
}
