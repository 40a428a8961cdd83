/* SPDX-License-Identifier: MIT */
/* Logging to stderr, with journald priority prefixes under systemd. */
#ifndef PVA_HOST_LOG_H
#define PVA_HOST_LOG_H

#include <stdbool.h>
#include <syslog.h>
#include <time.h>

void log_init(const char *ident, int max_level);
void log_msg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

/* At most `burst` messages per `interval_s`; the rest are counted. */
struct log_ratelimit {
	int interval_s, burst;
	time_t start;
	int printed, missed;
};

#define LOG_RATELIMIT_INIT { .interval_s = 5, .burst = 10 }

bool log_ratelimit_ok(struct log_ratelimit *rl);

/* Hold: drop every message (and count them) while the disks the log goes
 * to may be frozen; the count is logged when the hold ends.
 */
void log_hold(bool on);

#endif
