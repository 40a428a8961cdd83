// SPDX-License-Identifier: MIT
/*
 * agent-devctl.exe: for tests/windows/agent_test.sh, against the driver's
 * wine test build (pvatest.sys, whose built-in loopback host has an
 * "echo" channel): reset that host, so the agent's bound handle sees the
 * device reset (ERROR_NETNAME_DELETED) and says HELLO again.
 *
 *   agent-devctl.exe reset | stats
 */
#include <stdio.h>
#include <wchar.h>
#include <windows.h>

#include "pva_win.h"

int wmain(int argc, wchar_t **argv);

int wmain(int argc, wchar_t **argv)
{
	struct pva_win_test_host t = { .cmd = PVA_WIN_TEST_STATS };
	OVERLAPPED ov = { .hEvent = CreateEventW(NULL, TRUE, FALSE, NULL) };
	DWORD n = 0;
	HANDLE h;

	if (argc != 2 || (wcscmp(argv[1], L"reset") && wcscmp(argv[1], L"stats"))) {
		fprintf(stderr, "usage: agent-devctl.exe reset|stats\n");
		return 2;
	}
	if (!wcscmp(argv[1], L"reset"))
		t.cmd = PVA_WIN_TEST_RESET;
	h = CreateFileW(PVA_WIN_DEVICE_PATH, GENERIC_READ | GENERIC_WRITE, 0,
			NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		fprintf(stderr, "agent-devctl: no pva device (%lu)\n", GetLastError());
		return 1;
	}
	if (!DeviceIoControl(h, IOCTL_PVA_TEST_HOST, &t, sizeof(t), &t,
			     sizeof(t), &n, &ov) &&
	    (GetLastError() != ERROR_IO_PENDING ||
	     !GetOverlappedResult(h, &ov, &n, TRUE))) {
		fprintf(stderr, "agent-devctl: IOCTL_PVA_TEST_HOST failed (%lu)\n",
			GetLastError());
		return 1;
	}
	printf("generation %u negotiations %u echoed %llu\n", t.generation,
	       t.negotiations, (unsigned long long)t.echoed);
	CloseHandle(h);
	return 0;
}
