/* SPDX-License-Identifier: MIT */
/*
 * pva-agent's log: a file (%ProgramData%\pva\agent.log, or --log FILE)
 * that survives the agent for the administrator to read, and with -v
 * also standard error, where a test or a console user watches it.
 */
#ifndef PVA_WIN_AGENT_LOG_H
#define PVA_WIN_AGENT_LOG_H

#include <stdbool.h>
#include <time.h>
#include <wchar.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* @path: the log file, or NULL for the default one; @verbose: also
 * standard error, and debug messages. False if no log file could be
 * opened (the agent runs on, logging to stderr only).
 */
bool log_open(const wchar_t *path, bool verbose);
void log_close(void);
/* The file the log goes to ("" when none), for --help and messages. */
const wchar_t *log_path(void);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(gnu_printf, 2, 3)));

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* At most `burst` messages per `interval_s`, for what the host can make
 * us log as often as it likes (malformed messages).
 */
struct log_ratelimit {
	int interval_s, burst;
	time_t start;
	int printed, missed;
};

#define LOG_RATELIMIT_INIT { .interval_s = 5, .burst = 40 }

bool log_ratelimit_ok(struct log_ratelimit *rl);

/* @s as UTF-8 for a message: one of a few static buffers, so a message
 * can take several; use at once.
 */
const char *wstr(const wchar_t *s);

/* A Win32 error code as text (UTF-8, static buffer: use at once). */
const char *win_strerror(unsigned long err);

#endif
