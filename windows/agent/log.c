// SPDX-License-Identifier: MIT
/*
 * The log file and standard error. Each line is written with one
 * WriteFile on a handle opened for appending, so agents of several
 * sessions can share the file without interleaving inside a line.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <windows.h>

#include "text.h"

#define ROTATE_AT	(4ull << 20)	/* agent.log -> agent.log.1 above this */
#define LINE_MAX_BYTES	2048

static HANDLE file = INVALID_HANDLE_VALUE;
static HANDLE err_out = INVALID_HANDLE_VALUE;
static bool err_is_console;
static bool verbose;
static wchar_t path_buf[MAX_PATH + 32];

/* %ProgramData%\pva\agent.log, or %LOCALAPPDATA%\pva\agent.log when a
 * user may not write the first (the installer opens it to Users).
 */
static bool default_path(const wchar_t *var, wchar_t *out, size_t cap)
{
	wchar_t dir[MAX_PATH];
	DWORD n = GetEnvironmentVariableW(var, dir, MAX_PATH);

	if (!n || n >= MAX_PATH - 16)
		return false;
	_snwprintf(out, cap, L"%ls\\pva", dir);
	out[cap - 1] = 0;
	CreateDirectoryW(out, NULL);
	_snwprintf(out, cap, L"%ls\\pva\\agent.log", dir);
	out[cap - 1] = 0;
	return true;
}

static HANDLE open_append(const wchar_t *p)
{
	HANDLE h = CreateFileW(p, FILE_APPEND_DATA | READ_CONTROL,
			       FILE_SHARE_READ | FILE_SHARE_WRITE |
			       FILE_SHARE_DELETE, NULL, OPEN_ALWAYS,
			       FILE_ATTRIBUTE_NORMAL, NULL);
	LARGE_INTEGER size;

	if (h == INVALID_HANDLE_VALUE)
		return h;
	/* keep the log bounded: the last two generations are kept */
	if (GetFileSizeEx(h, &size) && (unsigned long long)size.QuadPart >
	    ROTATE_AT) {
		wchar_t old[MAX_PATH + 40];

		CloseHandle(h);
		_snwprintf(old, MAX_PATH + 40, L"%ls.1", p);
		old[MAX_PATH + 39] = 0;
		MoveFileExW(p, old, MOVEFILE_REPLACE_EXISTING);
		h = CreateFileW(p, FILE_APPEND_DATA, FILE_SHARE_READ |
				FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
				OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	}
	return h;
}

static void open_stderr(void)
{
	HANDLE h = GetStdHandle(STD_ERROR_HANDLE);
	DWORD mode;

	/* a GUI program started from a console has no standard handles:
	 * borrow the parent's console
	 */
	if ((!h || h == INVALID_HANDLE_VALUE) &&
	    AttachConsole(ATTACH_PARENT_PROCESS))
		h = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
				FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
	if (!h)
		h = INVALID_HANDLE_VALUE;
	err_out = h;
	err_is_console = h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode);
}

bool log_open(const wchar_t *p, bool v)
{
	verbose = v;
	if (v)
		open_stderr();
	if (p) {
		_snwprintf(path_buf, MAX_PATH + 32, L"%ls", p);
		path_buf[MAX_PATH + 31] = 0;
		file = open_append(path_buf);
	} else {
		if (default_path(L"ProgramData", path_buf, MAX_PATH + 32))
			file = open_append(path_buf);
		if (file == INVALID_HANDLE_VALUE &&
		    default_path(L"LOCALAPPDATA", path_buf, MAX_PATH + 32))
			file = open_append(path_buf);
	}
	if (file == INVALID_HANDLE_VALUE)
		path_buf[0] = 0;
	return file != INVALID_HANDLE_VALUE;
}

void log_close(void)
{
	if (file != INVALID_HANDLE_VALUE)
		CloseHandle(file);
	file = INVALID_HANDLE_VALUE;
}

const wchar_t *log_path(void)
{
	return path_buf;
}

static const char *const names[] = { "error", "warning", "info", "debug" };

static void write_stderr(const char *s, size_t n)
{
	DWORD w;

	if (err_out == INVALID_HANDLE_VALUE)
		return;
	if (err_is_console) {
		wchar_t wbuf[LINE_MAX_BYTES];
		int wn = MultiByteToWideChar(CP_UTF8, 0, s, (int)n, wbuf,
					     LINE_MAX_BYTES);

		if (wn > 0)
			WriteConsoleW(err_out, wbuf, (DWORD)wn, &w, NULL);
		return;
	}
	WriteFile(err_out, s, (DWORD)n, &w, NULL);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[LINE_MAX_BYTES - 128], line[LINE_MAX_BYTES];
	DWORD sid = 0, w;
	SYSTEMTIME t;
	va_list ap;
	int n;

	if (lvl == LOG_LVL_DEBUG && !verbose)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* one line each: what the host sent may contain anything */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	utf8_sanitize(msg);
	if (file != INVALID_HANDLE_VALUE) {
		GetLocalTime(&t);
		ProcessIdToSessionId(GetCurrentProcessId(), &sid);
		n = snprintf(line, sizeof(line),
			     "%04u-%02u-%02u %02u:%02u:%02u.%03u [%lu/%lu] %s: %s\r\n",
			     t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute,
			     t.wSecond, t.wMilliseconds, sid,
			     GetCurrentProcessId(), names[lvl], msg);
		if (n > 0)
			WriteFile(file, line, (DWORD)(n < (int)sizeof(line) ?
					n : (int)sizeof(line) - 1), &w, NULL);
	}
	if (verbose) {
		n = snprintf(line, sizeof(line), "pva-agent: %s: %s\n",
			     names[lvl], msg);
		if (n > 0)
			write_stderr(line, (size_t)(n < (int)sizeof(line) ?
					n : (int)sizeof(line) - 1));
	}
}

bool log_ratelimit_ok(struct log_ratelimit *rl)
{
	time_t now = time(NULL);

	if (now - rl->start >= rl->interval_s) {
		if (rl->missed)
			log_warn("%d messages like the last ones suppressed",
				 rl->missed);
		rl->start = now;
		rl->printed = rl->missed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->missed++;
	return false;
}

const char *win_strerror(unsigned long err)
{
	static char buf[512];
	wchar_t wbuf[400];
	DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM |
				 FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
				 (DWORD)err, 0, wbuf, 400, NULL);
	int len;

	while (n && (wbuf[n - 1] == L'\r' || wbuf[n - 1] == L'\n' ||
		     wbuf[n - 1] == L'.' || wbuf[n - 1] == L' '))
		n--;
	len = n ? WideCharToMultiByte(CP_UTF8, 0, wbuf, (int)n, buf,
				      sizeof(buf) - 24, NULL, NULL) : 0;
	if (len <= 0)
		len = snprintf(buf, sizeof(buf), "error");
	snprintf(buf + len, sizeof(buf) - (size_t)len, " (%lu)", err);
	return buf;
}

const char *wstr(const wchar_t *s)
{
	static char bufs[4][1024];
	static unsigned int next;
	char *b = bufs[next++ % 4];

	if (!s || WideCharToMultiByte(CP_UTF8, 0, s, -1, b, 1024, NULL,
				      NULL) <= 0)
		snprintf(b, 1024, "%s", s ? "?" : "(null)");
	return b;
}
