// SPDX-License-Identifier: MIT
/*
 * Which session this agent runs in. Each logged-on user has an agent
 * (fast user switching, remote desktop); the host's screen shows the
 * console session, so only that session's agent binds the channel, and
 * hands it over when another session takes the console
 * (WM_WTSSESSION_CHANGE, main.c).
 */
#include <stdio.h>

#include "agent.h"

#include <wtsapi32.h>

DWORD session_id(void)
{
	DWORD id = 0;

	ProcessIdToSessionId(GetCurrentProcessId(), &id);
	return id;
}

bool session_is_console(void)
{
	DWORD console = WTSGetActiveConsoleSessionId();

	/* 0xFFFFFFFF: the console is being switched; keep going */
	return console == 0xFFFFFFFFu || console == session_id();
}

void session_console_user(char *out, size_t len)
{
	DWORD console = WTSGetActiveConsoleSessionId(), n = 0;
	wchar_t *user = NULL, *domain = NULL;

	out[0] = 0;
	if (console == 0xFFFFFFFFu)
		console = session_id();
	if (WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, console,
					WTSUserName, &user, &n) && user && user[0]) {
		if (WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE,
						console, WTSDomainName, &domain,
						&n) && domain && domain[0])
			snprintf(out, len, "%s\\%s", wstr(domain), wstr(user));
		else
			snprintf(out, len, "%s", wstr(user));
	}
	if (user)
		WTSFreeMemory(user);
	if (domain)
		WTSFreeMemory(domain);
	if (!out[0]) {
		/* no WTS (wine): the user this agent runs as */
		wchar_t name[256];
		DWORD nl = 256;

		if (GetUserNameW(name, &nl))
			snprintf(out, len, "%s", wstr(name));
	}
}

const char *session_kind(void)
{
	return GetSystemMetrics(SM_REMOTESESSION) ? "rdp" : "console";
}
