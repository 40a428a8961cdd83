// SPDX-License-Identifier: MIT
/*
 * pva-agent.exe: options, the hidden window that the clipboard, the
 * display and the session end talk to, and the one thread's loop.
 *
 * The window is a top-level one that is never shown, not a
 * message-only window: WM_DISPLAYCHANGE and WM_ENDSESSION are broadcast
 * to top-level windows only.
 */
#include <winsock2.h>
#include <windows.h>
#include <wtsapi32.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "agent.h"

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2
#define EXIT_RUNNING	3
#define WINDOW_CLASS	L"pvaAgentWindow"
#define MUTEX_NAME	L"Local\\pva-agent"
#define TIMER_ID	1

static const char usage[] =
"Usage: pva-agent.exe [OPTION]...\n"
"The pva guest agent for Windows: the clipboard between the host and this\n"
"desktop, the host's display layout, guest information, the clock and\n"
"shutdown. It runs in the user's session (started at logon) and talks to the\n"
"host through the pva driver, or with --host through pva-host's TCP socket.\n"
"\n"
"  --host tcp:HOST:PORT  connect to pva-host --agent-socket tcp:HOST:PORT\n"
"                        instead of the pva device (tests, wine)\n"
"  --device PATH         the pva device (default \\\\.\\PvaDevice)\n"
"  --max-size SIZE       the largest clipboard content taken or given, in\n"
"                        bytes or with K, M, G (default 64M)\n"
"  --time-threshold MS   step the clock when it is more than MS off\n"
"                        (default 1000)\n"
"  --no-clipboard        do not sync the clipboard\n"
"  --no-display          do not apply the host's display layout\n"
"  --no-control          no time sync, shutdown or reboot by the host\n"
"  --any-session         bind even when this session is not on the console\n"
"  --channel NAME        test switch: bind the device's channel NAME, not\n"
"                        \"agent\" (the driver's loopback build has \"echo\")\n"
"  --log FILE            log to FILE (default %ProgramData%\\pva\\agent.log)\n"
"  -v, --verbose         debug messages, and everything also to stderr\n"
"  --stop                ask the agent of this session to exit, and wait\n"
"  -h, --help            this help\n"
"  -V, --version         the version\n"
"\n"
"Exit status: 0 the session ended, or --stop, --help, --version done;\n"
"1 a failure at run time; 2 a usage error; 3 an agent runs in this session\n"
"already (or, with --stop, none does).\n";

static struct agent agent;

DWORD enable_privilege(const wchar_t *name)
{
	TOKEN_PRIVILEGES tp = { .PrivilegeCount = 1 };
	HANDLE tok;
	DWORD err;

	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES |
			      TOKEN_QUERY, &tok))
		return GetLastError();
	if (!LookupPrivilegeValueW(NULL, name, &tp.Privileges[0].Luid)) {
		err = GetLastError();
		CloseHandle(tok);
		return err;
	}
	tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
	/* succeeds without the privilege too: GetLastError() tells */
	AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL);
	err = GetLastError();
	CloseHandle(tok);
	return err;
}

/* ---- options ---- */

static bool parse_size(const wchar_t *s, uint64_t *out)
{
	wchar_t *end;
	unsigned long long v = wcstoull(s, &end, 10);
	unsigned int shift = 0;

	if (end == s)
		return false;
	if (*end == L'K' || *end == L'k')
		shift = 10;
	else if (*end == L'M' || *end == L'm')
		shift = 20;
	else if (*end == L'G' || *end == L'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (1ull << 30) >> shift || (v << shift) < 4096)
		return false;
	*out = v << shift;
	return true;
}

static void print_out(const char *s)
{
	HANDLE h = GetStdHandle(STD_OUTPUT_HANDLE);
	DWORD w;

	if (!h || h == INVALID_HANDLE_VALUE) {
		/* started from a console as a GUI program: its console */
		if (AttachConsole(ATTACH_PARENT_PROCESS))
			h = CreateFileW(L"CONOUT$", GENERIC_WRITE, FILE_SHARE_WRITE,
					NULL, OPEN_EXISTING, 0, NULL);
	}
	if (h && h != INVALID_HANDLE_VALUE)
		WriteFile(h, s, (DWORD)strlen(s), &w, NULL);
	else
		MessageBoxA(NULL, s, "pva-agent", MB_OK);
}

static int usage_error(const char *fmt, const wchar_t *arg)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "pva-agent: ");
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), fmt, wstr(arg));
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
		 "\nTry 'pva-agent.exe --help'.\n");
	print_out(msg);
	return EXIT_USAGE;
}

enum action { RUN, HELP, VERSION, STOP };

static int parse_args(int argc, wchar_t **argv, struct options *o,
		      enum action *act)
{
	*act = RUN;
	*o = (struct options){
		.clip_max = PVA_CLIP_DEFAULT_MAX,
		.time_threshold_ms = 1000,
		.clipboard = true, .display = true, .control = true,
		.channel = PVA_AGENT_CHANNEL,
	};
	for (int i = 1; i < argc; i++) {
		const wchar_t *a = argv[i], *val = NULL;
		static const wchar_t *const with_value[] = {
			L"--host", L"--device", L"--max-size", L"--time-threshold",
			L"--log", L"--channel",
		};
		bool needs = false;

		for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
			needs |= !wcscmp(a, with_value[k]);
		if (needs) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			val = argv[++i];
		}
		if (!wcscmp(a, L"-h") || !wcscmp(a, L"--help")) {
			*act = HELP;
		} else if (!wcscmp(a, L"-V") || !wcscmp(a, L"--version")) {
			*act = VERSION;
		} else if (!wcscmp(a, L"--stop")) {
			*act = STOP;
		} else if (!wcscmp(a, L"-v") || !wcscmp(a, L"--verbose")) {
			o->verbose = true;
		} else if (!wcscmp(a, L"--host")) {
			o->host = val;
		} else if (!wcscmp(a, L"--device")) {
			o->device = val;
		} else if (!wcscmp(a, L"--channel")) {
			static char name[PVA_SVC_NAME_LEN];

			if (wcslen(val) >= sizeof(name) || !val[0])
				return usage_error("--channel %s: a name of 1-15 characters", val);
			snprintf(name, sizeof(name), "%s", wstr(val));
			o->channel = name;
		} else if (!wcscmp(a, L"--log")) {
			o->log = val;
		} else if (!wcscmp(a, L"--max-size")) {
			if (!parse_size(val, &o->clip_max))
				return usage_error("--max-size: '%s' is not a size from 4K to 1G", val);
		} else if (!wcscmp(a, L"--time-threshold")) {
			wchar_t *end;
			unsigned long v = wcstoul(val, &end, 10);

			if (*end || end == val || v < 1 || v > 3600000)
				return usage_error("--time-threshold: '%s' is not 1-3600000 ms", val);
			o->time_threshold_ms = (uint32_t)v;
		} else if (!wcscmp(a, L"--no-clipboard")) {
			o->clipboard = false;
		} else if (!wcscmp(a, L"--no-display")) {
			o->display = false;
		} else if (!wcscmp(a, L"--no-control")) {
			o->control = false;
		} else if (!wcscmp(a, L"--any-session")) {
			o->any_session = true;
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	if (o->host && wcsncmp(o->host, L"tcp:", 4))
		return usage_error("--host %s: want tcp:HOST:PORT", o->host);
	return 0;
}

/* ---- the window ---- */

static void session_changed(struct agent *a)
{
	bool on = a->opt.any_session || session_is_console();

	channel_enable(a->ch, on);
	info_send(a->info, false);
}

static LRESULT CALLBACK wndproc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
	struct agent *a = &agent;

	switch (msg) {
	case WM_CLIPBOARDUPDATE:
		if (a->clip)
			clip_wm_update(a->clip);
		return 0;
	case WM_RENDERFORMAT:
		if (a->clip)
			clip_wm_render(a->clip, (UINT)wp);
		return 0;
	case WM_RENDERALLFORMATS:
		/* we are going away: the host's content goes with us
		 * rather than holding up the exit for a transfer
		 */
		return 0;
	case WM_DESTROYCLIPBOARD:
		if (a->clip)
			clip_wm_destroy(a->clip);
		return 0;
	case WM_DISPLAYCHANGE:
		if (a->disp)
			display_changed(a->disp);
		break;
	case WM_WTSSESSION_CHANGE:
		if (a->ch)
			session_changed(a);
		return 0;
	case WM_TIMER:
		if (wp == TIMER_ID && a->ch) {
			channel_tick(a->ch);
			control_tick(a->ctl);
			info_tick(a->info);
		}
		return 0;
	case WM_QUERYENDSESSION:
		return TRUE;
	case WM_ENDSESSION:
		if (wp) {
			if (!(lp & ENDSESSION_LOGOFF)) {
				log_info("Windows is going down");
				control_going_down(a->ctl);
			} else {
				log_info("the user logs off: exiting");
			}
			channel_flush(a->ch, 1000);
			PostQuitMessage(0);
		}
		return 0;
	case WM_APP_DEFERRED:
		return 0;	/* the loop runs them */
	case WM_CLOSE:
		log_info("asked to exit");
		DestroyWindow(hwnd);
		return 0;
	case WM_DESTROY:
		PostQuitMessage(0);
		return 0;
	}
	return DefWindowProcW(hwnd, msg, wp, lp);
}

static HWND make_window(void)
{
	WNDCLASSEXW wc = {
		.cbSize = sizeof(wc),
		.lpfnWndProc = wndproc,
		.hInstance = GetModuleHandleW(NULL),
		.lpszClassName = WINDOW_CLASS,
	};

	if (!RegisterClassExW(&wc))
		return NULL;
	return CreateWindowExW(WS_EX_TOOLWINDOW, WINDOW_CLASS, L"pva-agent",
			       WS_OVERLAPPED, 0, 0, 0, 0, NULL, NULL,
			       wc.hInstance, NULL);
}

/* --stop: the agent of this session exits. */
static int stop_running(void)
{
	HWND w = FindWindowW(WINDOW_CLASS, NULL);
	DWORD pid = 0;
	HANDLE p;

	if (!w) {
		print_out("pva-agent: no agent runs in this session\n");
		return EXIT_RUNNING;
	}
	GetWindowThreadProcessId(w, &pid);
	p = OpenProcess(SYNCHRONIZE, FALSE, pid);
	PostMessageW(w, WM_CLOSE, 0, 0);
	if (p) {
		DWORD r = WaitForSingleObject(p, 10000);

		CloseHandle(p);
		if (r != WAIT_OBJECT_0) {
			print_out("pva-agent: the agent did not exit within 10 s\n");
			return EXIT_RUNTIME;
		}
	}
	return 0;
}

/* ---- the loop ---- */

static int run(struct agent *a)
{
	for (;;) {
		HANDLE h[MAXIMUM_WAIT_OBJECTS - 1];
		unsigned int n;
		DWORD r;
		MSG m;

		channel_run_deferred(a->ch);
		n = channel_handles(a->ch, h, MAXIMUM_WAIT_OBJECTS - 1);
		r = MsgWaitForMultipleObjectsEx(n, h, INFINITE, QS_ALLINPUT,
						MWMO_INPUTAVAILABLE);
		if (r == WAIT_FAILED) {
			log_err("waiting: %s", win_strerror(GetLastError()));
			return EXIT_RUNTIME;
		}
		if (r < WAIT_OBJECT_0 + n)
			channel_signalled(a->ch, h[r - WAIT_OBJECT_0]);
		/* the window's messages each time: a busy transport must
		 * not hold up a paste or the end of the session
		 */
		while (PeekMessageW(&m, NULL, 0, 0, PM_REMOVE)) {
			if (m.message == WM_QUIT)
				return (int)m.wParam;
			TranslateMessage(&m);
			DispatchMessageW(&m);
		}
	}
}

int wmain(int argc, wchar_t **argv)
{
	struct agent *a = &agent;
	struct transport *t;
	enum action act;
	HANDLE mutex;
	WSADATA wsa;
	int rc;

	rc = parse_args(argc, argv, &a->opt, &act);
	if (rc)
		return rc;
	if (act == HELP) {
		print_out(usage);
		return 0;
	}
	if (act == VERSION) {
		print_out("pva-agent " PVA_VERSION " (Windows, protocol 1)\n");
		return 0;
	}
	if (act == STOP)
		return stop_running();
	mutex = CreateMutexW(NULL, TRUE, MUTEX_NAME);
	if (mutex && GetLastError() == ERROR_ALREADY_EXISTS) {
		print_out("pva-agent: an agent runs in this session already\n");
		return EXIT_RUNNING;
	}
	if (!log_open(a->opt.log, a->opt.verbose) && a->opt.log)
		fprintf(stderr, "pva-agent: cannot open the log %s: %s\n",
			wstr(a->opt.log), win_strerror(GetLastError()));
	a->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	log_info("pva-agent %s starting in session %lu (log %s)", PVA_VERSION,
		 session_id(), log_path()[0] ? wstr(log_path()) : "stderr only");
	WSAStartup(MAKEWORD(2, 2), &wsa);
	/* the manifest makes us DPI aware (display sizes in real pixels);
	 * this covers a build without it, and fails harmlessly with it
	 */
	SetProcessDPIAware();
	a->hwnd = make_window();
	t = a->opt.host ? transport_tcp_new(a->opt.host) :
			  transport_dev_new(a->opt.device, a->opt.channel);
	if (!a->hwnd || !t) {
		log_err("cannot start: %s", !a->hwnd ? "no window" :
			"no transport");
		return EXIT_RUNTIME;
	}
	a->ch = channel_new(a, t);
	a->clip = clip_new(a);
	a->disp = display_new(a);
	a->ctl = control_new(a);
	a->info = info_new(a);
	if (!a->ch || !a->clip || !a->disp || !a->ctl || !a->info) {
		log_err("cannot start: out of memory");
		return EXIT_RUNTIME;
	}
	if (!WTSRegisterSessionNotification(a->hwnd, NOTIFY_FOR_THIS_SESSION))
		log_debug("no session notifications: %s",
			  win_strerror(GetLastError()));
	SetTimer(a->hwnd, TIMER_ID, TICK_MS, NULL);
	session_changed(a);
	rc = run(a);
	log_info("pva-agent exits (%d)", rc);
	WTSUnRegisterSessionNotification(a->hwnd);
	clip_free(a->clip);
	a->clip = NULL;
	channel_flush(a->ch, 500);
	info_free(a->info);
	control_free(a->ctl);
	display_free(a->disp);
	channel_free(a->ch);
	a->ch = NULL;
	if (IsWindow(a->hwnd))
		DestroyWindow(a->hwnd);
	log_close();
	if (mutex)
		CloseHandle(mutex);
	return rc;
}
