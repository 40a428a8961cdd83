/* SPDX-License-Identifier: MIT */
/*
 * pva-agent for Windows: one process in the user's desktop session that
 * is both what pva-service and pva-agent are on Linux (docs/windows.md
 * says why). This header joins its parts:
 *
 *   main.c       options, the hidden window, the main loop
 *   channel.c    HELLO, the host's messages to the parts, the send queue
 *   transport_*  the device or TCP under the channel (transport.h)
 *   clip.c       the clipboard protocol: grabs, serials, transfers
 *   clip_fmt.c   Windows clipboard formats <-> MIME contents
 *   display.c    DISPLAY_LAYOUT -> ChangeDisplaySettingsExW, DISPLAY_STATE
 *   info.c       INFO
 *   control.c    time, power, filesystem freeze (not supported)
 *   session.c    is this the console session (only that one binds)
 *
 * One thread: the main loop waits on the transport's handles and the
 * window's messages. The host's content is fetched inside
 * WM_RENDERFORMAT, where the paste waits: channel_wait() runs the
 * transport alone meanwhile and keeps other host messages for later.
 */
#ifndef PVA_WIN_AGENT_AGENT_H
#define PVA_WIN_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <windows.h>

#include "agent_msg.h"
#include "log.h"
#include "transport.h"

#ifndef PVA_VERSION
#define PVA_VERSION	"0.0.0"
#endif

#define MIME_TEXT	"text/plain;charset=utf-8"
#define MIME_PNG	"image/png"

#define WM_APP_DEFERRED	(WM_APP + 1)	/* run the host's held messages */
#define TICK_MS		1000

struct options {
	const wchar_t *host;	/* --host tcp:HOST:PORT, or NULL: the device */
	const wchar_t *device;	/* --device PATH */
	const char *channel;	/* --channel NAME (tests): "agent" */
	const wchar_t *log;	/* --log FILE */
	uint64_t clip_max;	/* --max-size */
	uint32_t time_threshold_ms;
	bool clipboard, display, control, verbose, any_session;
};

struct channel;
struct clip;
struct display;
struct control;
struct info;

struct agent {
	struct options opt;
	HWND hwnd;
	struct channel *ch;
	struct clip *clip;
	struct display *disp;
	struct control *ctl;
	struct info *info;
	/* for what the host can make us log as often as it likes */
	struct log_ratelimit rl;
};

/* A complaint about what the host sent: logged, rate-limited. */
#define host_bad(a, ...) do { \
	if (log_ratelimit_ok(&(a)->rl)) \
		log_warn(__VA_ARGS__); \
} while (0)

/* ---- channel.c ---- */

struct channel *channel_new(struct agent *a, struct transport *t);
void channel_free(struct channel *ch);
unsigned int channel_handles(struct channel *ch, HANDLE *h, unsigned int max);
void channel_signalled(struct channel *ch, HANDLE h);
/* Every TICK_MS: (re)connect. */
void channel_tick(struct channel *ch);
/* Only the console session binds: on, or off (closes the connection). */
void channel_enable(struct channel *ch, bool on);
/* Host messages held during channel_wait(), in order. */
void channel_run_deferred(struct channel *ch);

bool channel_up(const struct channel *ch);
uint64_t channel_features(const struct channel *ch);
uint64_t channel_host_clip_max(const struct channel *ch);
/* An event; false if it could not be queued (no host). */
bool channel_send(struct channel *ch, uint16_t type, const void *p,
		  uint32_t len);
bool channel_request(struct channel *ch, uint16_t type, uint32_t req_id,
		     const void *p, uint32_t len);
void channel_reply(struct channel *ch, const struct pva_msg_hdr *req,
		   uint32_t status, const void *p, uint32_t len);
/* A content as CLIP_DATA chunks of @transfer; @data is taken (freed). */
bool channel_send_content(struct channel *ch, uint32_t transfer,
			  uint8_t *data, size_t len);
/* The host cancelled @transfer: what is not sent yet is dropped. */
void channel_drop_content(struct channel *ch, uint32_t transfer);
/*
 * Run the transport alone until @done(@ctx), or until *@progress (a
 * GetTickCount64() the caller moves on) is @idle_ms old, or the host is
 * gone; host messages other than responses and CLIP_DATA/CANCEL wait
 * meanwhile. True if @done.
 */
bool channel_wait(struct channel *ch, bool (*done)(void *ctx), void *ctx,
		  const ULONGLONG *progress, DWORD idle_ms);
/* Before the session ends: send what is queued, for at most @ms. */
void channel_flush(struct channel *ch, DWORD ms);

/* ---- clip.c ---- */

struct clip *clip_new(struct agent *a);
void clip_free(struct clip *c);
void clip_host_up(struct clip *c);
void clip_host_down(struct clip *c);
void clip_rx_grab(struct clip *c, const uint8_t *p, uint32_t len);
void clip_rx_request(struct clip *c, const uint8_t *p, uint32_t len);
void clip_rx_data(struct clip *c, const uint8_t *p, uint32_t len);
void clip_rx_cancel(struct clip *c, const uint8_t *p, uint32_t len);
void clip_wm_update(struct clip *c);		/* WM_CLIPBOARDUPDATE */
void clip_wm_render(struct clip *c, UINT fmt);	/* WM_RENDERFORMAT */
void clip_wm_destroy(struct clip *c);		/* WM_DESTROYCLIPBOARD */

/* ---- clip_fmt.c ---- */

/* The formats Windows apps paste @types from (at most @max). */
unsigned int clip_fmt_offer(const struct clip_types *types, UINT *fmts,
			    unsigned int max);
/* The MIME type format @fmt is rendered from, or NULL. */
const char *clip_fmt_mime(UINT fmt);
/* The MIME types of what the clipboard holds now. */
void clip_fmt_local_types(struct clip_types *types);
/* The open clipboard's content as @mime (malloc'd): PVA_S_OK, or why
 * not (ENOENT: no such format now, EIO: unreadable).
 */
uint32_t clip_fmt_read(const char *mime, uint8_t **data, size_t *len);
/* A global memory handle of format @fmt made from the host's @mime
 * content, for SetClipboardData; NULL if it cannot be converted.
 */
HANDLE clip_fmt_make(UINT fmt, const char *mime, const uint8_t *data,
		     size_t len);

/* ---- display.c ---- */

struct display *display_new(struct agent *a);
void display_free(struct display *d);
void display_rx_layout(struct display *d, const uint8_t *p, uint32_t len);
void display_host_up(struct display *d);
void display_changed(struct display *d);	/* WM_DISPLAYCHANGE */

/* ---- info.c ---- */

struct info *info_new(struct agent *a);
void info_free(struct info *i);
/* Send INFO: always (@force, after HELLO) or if it changed. */
void info_send(struct info *i, bool force);
/* Every TICK_MS: INFO again if it changed, looked at every 10 s. */
void info_tick(struct info *i);

/* ---- control.c ---- */

struct control *control_new(struct agent *a);
void control_free(struct control *c);
void control_host_up(struct control *c);
void control_rx_event(struct control *c, uint16_t type, const uint8_t *p,
		      uint32_t len);
void control_rx_request(struct control *c, const struct pva_msg_hdr *h,
			const uint8_t *p, uint32_t len);
void control_rx_answer(struct control *c, const struct pva_msg_hdr *h,
		       const uint8_t *p, uint32_t len);
void control_tick(struct control *c);
/* The system goes down (WM_ENDSESSION): GUEST_STATE, once. */
void control_going_down(struct control *c);

/* ---- session.c ---- */

/* Is this process's session the one on the console (what the host's
 * screen shows)?
 */
bool session_is_console(void);
DWORD session_id(void);
/* The user of the console session ("" when nobody is logged on there). */
void session_console_user(char *out, size_t len);
/* "console" or "rdp": how this session is shown. */
const char *session_kind(void);

/* ---- helpers (main.c) ---- */

int wmain(int argc, wchar_t **argv);

/* Enable a privilege of this process's token: 0, or the Win32 error
 * (ERROR_NOT_ALL_ASSIGNED: the user does not have it).
 */
DWORD enable_privilege(const wchar_t *name);

#endif
