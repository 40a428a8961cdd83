// SPDX-License-Identifier: MIT
/*
 * agent-cliptool.exe: a Windows application's side of the clipboard, for
 * tests/windows/agent_test.sh under wine: what an application pastes (and
 * the agent renders for it), what it copies (and the agent offers).
 *
 *   agent-cliptool.exe get FORMAT FILE    write the clipboard's FORMAT to
 *                                         FILE (exit 1: not there)
 *   agent-cliptool.exe set FORMAT FILE    copy FILE as FORMAT
 *   agent-cliptool.exe formats            list the formats, one a line
 *
 * FORMAT: text (CF_UNICODETEXT), dib (CF_DIB), dibv5 (CF_DIBV5), png (the
 * registered "PNG"). The data is written and read as it is in memory:
 * UTF-16LE, a packed DIB, PNG bytes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

int wmain(int argc, wchar_t **argv);

static UINT format_of(const wchar_t *name)
{
	if (!wcscmp(name, L"text"))
		return CF_UNICODETEXT;
	if (!wcscmp(name, L"dib"))
		return CF_DIB;
	if (!wcscmp(name, L"dibv5"))
		return CF_DIBV5;
	if (!wcscmp(name, L"png"))
		return RegisterClipboardFormatW(L"PNG");
	return 0;
}

/* The clipboard, retried: the agent may have it open a moment. */
static bool open_clipboard(HWND w)
{
	for (int i = 0; i < 100; i++) {
		if (OpenClipboard(w))
			return true;
		Sleep(20);
	}
	fprintf(stderr, "agent-cliptool: cannot open the clipboard\n");
	return false;
}

static int get(UINT fmt, const wchar_t *path)
{
	HANDLE h;
	const void *p;
	FILE *f;
	SIZE_T n;

	if (!open_clipboard(NULL))
		return 2;
	h = GetClipboardData(fmt);
	if (!h) {
		CloseClipboard();
		fprintf(stderr, "agent-cliptool: no such format on the clipboard\n");
		return 1;
	}
	n = GlobalSize(h);
	p = GlobalLock(h);
	f = _wfopen(path, L"wb");
	if (!p || !f || fwrite(p, 1, n, f) != n) {
		fprintf(stderr, "agent-cliptool: cannot write the file\n");
		CloseClipboard();
		return 2;
	}
	fclose(f);
	GlobalUnlock(h);
	CloseClipboard();
	return 0;
}

static int set(UINT fmt, const wchar_t *path)
{
	FILE *f = _wfopen(path, L"rb");
	HGLOBAL h;
	HWND w;
	long n;
	void *p;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "agent-cliptool: cannot read the file\n");
		return 2;
	}
	h = GlobalAlloc(GMEM_MOVEABLE, (SIZE_T)n + 2);
	p = h ? GlobalLock(h) : NULL;
	if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "agent-cliptool: out of memory\n");
		return 2;
	}
	memset((char *)p + n, 0, 2);	/* text ends with a NUL */
	GlobalUnlock(h);
	fclose(f);
	/* an owner window, as applications have */
	w = CreateWindowExW(0, L"STATIC", L"agent-cliptool", 0, 0, 0, 0, 0,
			    HWND_MESSAGE, NULL, NULL, NULL);
	if (!open_clipboard(w))
		return 2;
	EmptyClipboard();
	if (!SetClipboardData(fmt, h)) {
		fprintf(stderr, "agent-cliptool: SetClipboardData failed\n");
		CloseClipboard();
		return 2;
	}
	CloseClipboard();
	return 0;
}

static int formats(void)
{
	UINT f = 0;

	if (!open_clipboard(NULL))
		return 2;
	while ((f = EnumClipboardFormats(f))) {
		wchar_t name[128];

		if (GetClipboardFormatNameW(f, name, 128) > 0)
			printf("%u %ls\n", f, name);
		else
			printf("%u\n", f);
	}
	CloseClipboard();
	return 0;
}

int wmain(int argc, wchar_t **argv)
{
	UINT fmt;

	if (argc == 2 && !wcscmp(argv[1], L"formats"))
		return formats();
	if (argc != 4 || !(fmt = format_of(argv[2]))) {
		fprintf(stderr, "usage: agent-cliptool.exe get|set text|dib|dibv5|png FILE | formats\n");
		return 2;
	}
	if (!wcscmp(argv[1], L"get"))
		return get(fmt, argv[3]);
	if (!wcscmp(argv[1], L"set"))
		return set(fmt, argv[3]);
	fprintf(stderr, "agent-cliptool: unknown command\n");
	return 2;
}
