// SPDX-License-Identifier: MIT
/*
 * Guest control (protocol/PROTOCOL.md 6.8.7) on Windows:
 *
 *  - time: on TIME_SYNC a few TIME_QUERY round trips; the sample with
 *    the shortest one gives the offset; above the threshold (1 s) the
 *    clock is stepped with SetSystemTime, which needs
 *    SeSystemtimePrivilege (an administrator's elevated token, or the
 *    "Change the system time" right): without it TIME_STATUS says
 *    FAILED/EPERM. Below the threshold the clock is left alone: slewing
 *    is the Windows Time service's job (YIELDED when it runs, else NONE).
 *  - power: POWER -> InitiateShutdownW (SeShutdownPrivilege, which users
 *    of a workstation have), OK once Windows accepted it, then
 *    GUEST_STATE; GUEST_STATE also when Windows goes down by itself
 *    (WM_ENDSESSION).
 *  - fsfreeze: a consistent freeze on Windows is a VSS snapshot, which
 *    this agent does not do: ENOTSUP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define SAMPLES		5
#define QUERY_TIMEOUT_MS 2000
/* 100 ns units between 1601-01-01 (FILETIME) and 1970-01-01 */
#define EPOCH_DIFF	116444736000000000ll

struct control {
	struct agent *a;
	bool syncing;
	uint32_t reason;
	unsigned int sample;
	uint32_t query_id;
	int64_t sent_real;	/* ns since 1970 */
	LARGE_INTEGER sent_qpc;
	int64_t best_rtt, best_offset;
	bool reported_down, rebooting;
};

static int64_t real_ns(void)
{
	FILETIME ft;
	ULARGE_INTEGER u;

	GetSystemTimePreciseAsFileTime(&ft);
	u.LowPart = ft.dwLowDateTime;
	u.HighPart = ft.dwHighDateTime;
	return ((int64_t)u.QuadPart - EPOCH_DIFF) * 100;
}

static int64_t qpc_ns_since(const LARGE_INTEGER *start)
{
	LARGE_INTEGER now, freq;

	QueryPerformanceCounter(&now);
	QueryPerformanceFrequency(&freq);
	return (int64_t)((double)(now.QuadPart - start->QuadPart) * 1e9 /
			 (double)freq.QuadPart);
}

/* Is the Windows Time service running (it slews the clock itself)? */
static bool w32time_runs(void)
{
	SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), svc;
	SERVICE_STATUS st;
	bool runs = false;

	if (!scm)
		return false;
	svc = OpenServiceW(scm, L"W32Time", SERVICE_QUERY_STATUS);
	if (svc) {
		runs = QueryServiceStatus(svc, &st) &&
		       st.dwCurrentState == SERVICE_RUNNING;
		CloseServiceHandle(svc);
	}
	CloseServiceHandle(scm);
	return runs;
}

static void time_report(struct control *c, uint32_t action, uint32_t status,
			bool ntp)
{
	struct pva_agent_time_status ts = {
		.reason = pva_cpu32(c->reason),
		.action = pva_cpu32(action),
		.offset_ns = pva_cpu64((uint64_t)c->best_offset),
		.rtt_ns = pva_cpu64((uint64_t)(c->best_rtt == INT64_MAX ? 0 : c->best_rtt)),
		.threshold_ns = pva_cpu64((uint64_t)c->a->opt.time_threshold_ms * 1000000),
		.ntp = pva_cpu32(ntp),
		.status = pva_cpu32(status),
	};

	channel_send(c->a->ch, PVA_AGENT_TIME_STATUS, &ts, sizeof(ts));
}

static uint32_t step_clock(int64_t offset_ns)
{
	int64_t t = real_ns() + offset_ns;
	ULARGE_INTEGER u;
	FILETIME ft;
	SYSTEMTIME st;
	DWORD err = enable_privilege(SE_SYSTEMTIME_NAME);

	if (err) {
		log_err("time: cannot step the clock: %s",
			err == ERROR_NOT_ALL_ASSIGNED ?
			"this user may not change the system time (SeSystemtimePrivilege)" :
			win_strerror(err));
		return PVA_S_EPERM;
	}
	u.QuadPart = (ULONGLONG)(t / 100 + EPOCH_DIFF);
	ft.dwLowDateTime = u.LowPart;
	ft.dwHighDateTime = u.HighPart;
	if (!FileTimeToSystemTime(&ft, &st))
		return PVA_S_EINVAL;
	if (!SetSystemTime(&st)) {
		err = GetLastError();
		log_err("time: cannot step the clock: %s", win_strerror(err));
		return err == ERROR_PRIVILEGE_NOT_HELD || err == ERROR_ACCESS_DENIED ?
		       PVA_S_EPERM : PVA_S_EIO;
	}
	return PVA_S_OK;
}

static void time_apply(struct control *c)
{
	int64_t off = c->best_offset, mag = off < 0 ? -off : off;
	int64_t threshold = (int64_t)c->a->opt.time_threshold_ms * 1000000;
	bool ntp = w32time_runs();
	uint32_t action = PVA_TIME_NONE, status = PVA_S_OK;

	c->syncing = false;
	if (mag >= threshold) {
		status = step_clock(off);
		action = status == PVA_S_OK ? PVA_TIME_STEPPED : PVA_TIME_FAILED;
		if (status == PVA_S_OK)
			log_info("time: stepped the clock by %+.3f s to the host's",
				 (double)off / 1e9);
	} else if (ntp) {
		action = PVA_TIME_YIELDED;
		log_debug("time: %+.3f ms off: left to the Windows Time service",
			  (double)off / 1e6);
	} else {
		log_debug("time: %+.3f ms off: below the threshold, left alone",
			  (double)off / 1e6);
	}
	time_report(c, action, status, ntp);
}

static void time_query(struct control *c)
{
	c->query_id = 2 + (c->query_id + 1) % 1000000;	/* 1 is HELLO's */
	c->sent_real = real_ns();
	QueryPerformanceCounter(&c->sent_qpc);
	if (!channel_request(c->a->ch, PVA_AGENT_TIME_QUERY, c->query_id,
			     NULL, 0)) {
		c->syncing = false;
		log_warn("time: cannot ask the host for its time");
	}
}

void control_rx_event(struct control *c, uint16_t type, const uint8_t *p,
		      uint32_t len)
{
	struct pva_agent_time_sync ts;

	if (type != PVA_AGENT_TIME_SYNC)
		return;
	if (len != sizeof(ts)) {
		host_bad(c->a, "the host sent a malformed TIME_SYNC (%u bytes)", len);
		return;
	}
	memcpy(&ts, p, sizeof(ts));
	if (pva_le32(ts.reason) > PVA_TIME_REASON_GUEST) {
		host_bad(c->a, "the host sent TIME_SYNC with an unknown reason %u",
			 pva_le32(ts.reason));
		return;
	}
	if (c->syncing)
		return;		/* the one in progress will do */
	c->syncing = true;
	c->reason = pva_le32(ts.reason);
	c->sample = 0;
	c->best_rtt = INT64_MAX;
	c->best_offset = 0;
	time_query(c);
}

void control_rx_answer(struct control *c, const struct pva_msg_hdr *h,
		       const uint8_t *p, uint32_t len)
{
	struct pva_agent_time t;
	int64_t rtt, offset;

	if (!c->syncing || pva_le32(h->req_id) != c->query_id) {
		host_bad(c->a, "the host answered a TIME_QUERY that was not asked (request %u)",
			 pva_le32(h->req_id));
		return;
	}
	rtt = qpc_ns_since(&c->sent_qpc);
	if (pva_le32(h->status) != PVA_S_OK || len != sizeof(t)) {
		host_bad(c->a, "time: the host did not tell its time (status %u, %u bytes)",
			 pva_le32(h->status), len);
		c->syncing = false;
		time_report(c, PVA_TIME_FAILED, PVA_S_EIO, w32time_runs());
		return;
	}
	memcpy(&t, p, sizeof(t));
	/* the host read its clock about half way through the round trip */
	offset = (int64_t)pva_le64(t.realtime_ns) - (c->sent_real + rtt / 2);
	if (rtt < c->best_rtt) {
		c->best_rtt = rtt;
		c->best_offset = offset;
	}
	if (++c->sample < SAMPLES)
		time_query(c);
	else
		time_apply(c);
}

/* ---- power ---- */

static void send_state(struct control *c, uint32_t state)
{
	struct pva_agent_guest_state st = { .state = pva_cpu32(state) };

	if (c->reported_down)
		return;
	c->reported_down = true;
	channel_send(c->a->ch, PVA_AGENT_GUEST_STATE, &st, sizeof(st));
	channel_flush(c->a->ch, 1000);
}

static void power(struct control *c, const struct pva_msg_hdr *h,
		  const uint8_t *p, uint32_t len)
{
	struct pva_agent_power pw;
	bool reboot;
	DWORD err, flags;

	if (len != sizeof(pw)) {
		host_bad(c->a, "the host sent a malformed POWER (%u bytes)", len);
		channel_reply(c->a->ch, h, PVA_S_EINVAL, NULL, 0);
		return;
	}
	memcpy(&pw, p, sizeof(pw));
	if (pva_le32(pw.action) != PVA_POWER_SHUTDOWN &&
	    pva_le32(pw.action) != PVA_POWER_REBOOT) {
		host_bad(c->a, "the host asked for an unknown power action %u",
			 pva_le32(pw.action));
		channel_reply(c->a->ch, h, PVA_S_EINVAL, NULL, 0);
		return;
	}
	reboot = pva_le32(pw.action) == PVA_POWER_REBOOT;
	log_info("the host asks for a %s", reboot ? "reboot" : "shutdown");
	err = enable_privilege(SE_SHUTDOWN_NAME);
	if (err) {
		log_err("power: this user may not shut Windows down: %s",
			err == ERROR_NOT_ALL_ASSIGNED ? "no SeShutdownPrivilege" :
			win_strerror(err));
		channel_reply(c->a->ch, h, PVA_S_EPERM, NULL, 0);
		return;
	}
	/* a clean shutdown: applications are asked to close; sessions of
	 * other users (disconnected ones) do not hold it up
	 */
	flags = (reboot ? SHUTDOWN_RESTART : SHUTDOWN_POWEROFF) |
		SHUTDOWN_FORCE_OTHERS;
	err = InitiateShutdownW(NULL, L"The virtual machine's host asked for it (pva)",
				0, flags, SHTDN_REASON_MAJOR_OTHER |
				SHTDN_REASON_MINOR_OTHER | SHTDN_REASON_FLAG_PLANNED);
	if (err == ERROR_CALL_NOT_IMPLEMENTED) {
		/* wine has no InitiateShutdownW; the older call does it */
		log_info("power: no InitiateShutdownW here: ExitWindowsEx");
		err = ExitWindowsEx(reboot ? EWX_REBOOT : EWX_POWEROFF,
				    SHTDN_REASON_MAJOR_OTHER |
				    SHTDN_REASON_FLAG_PLANNED) ?
		      ERROR_SUCCESS : GetLastError();
	}
	if (err) {
		log_err("power: Windows refused the %s: %s",
			reboot ? "reboot" : "shutdown", win_strerror(err));
		channel_reply(c->a->ch, h, err == ERROR_ACCESS_DENIED ||
			      err == ERROR_PRIVILEGE_NOT_HELD ? PVA_S_EPERM :
			      PVA_S_EIO, NULL, 0);
		return;
	}
	c->rebooting = reboot;
	channel_reply(c->a->ch, h, PVA_S_OK, NULL, 0);
	send_state(c, reboot ? PVA_GUEST_STATE_REBOOT : PVA_GUEST_STATE_SHUTDOWN);
}

void control_going_down(struct control *c)
{
	/* Windows does not say whether it reboots: only we know, if we
	 * started it
	 */
	send_state(c, c->rebooting ? PVA_GUEST_STATE_REBOOT :
				     PVA_GUEST_STATE_SHUTDOWN);
}

/* ---- filesystem freeze ---- */

static void fsfreeze(struct control *c, const struct pva_msg_hdr *h,
		     const uint8_t *p, uint32_t len)
{
	static const char text[] = "the Windows agent does not freeze filesystems (that is VSS's job)";
	uint8_t buf[sizeof(struct pva_agent_fsfreeze_result) + sizeof(text)];
	struct pva_agent_fsfreeze_result r = { 0 };

	(void)p;
	if (len != sizeof(struct pva_agent_fsfreeze)) {
		host_bad(c->a, "the host sent a malformed FSFREEZE (%u bytes)", len);
		channel_reply(c->a->ch, h, PVA_S_EINVAL, NULL, 0);
		return;
	}
	log_info("fsfreeze: not supported on Windows (no VSS here): ENOTSUP");
	memcpy(buf, &r, sizeof(r));
	memcpy(buf + sizeof(r), text, sizeof(text));
	channel_reply(c->a->ch, h, PVA_S_ENOTSUP, buf, sizeof(buf));
}

void control_rx_request(struct control *c, const struct pva_msg_hdr *h,
			const uint8_t *p, uint32_t len)
{
	if (pva_le16(h->type) == PVA_AGENT_POWER)
		power(c, h, p, len);
	else if (pva_le16(h->type) == PVA_AGENT_FSFREEZE)
		fsfreeze(c, h, p, len);
	else
		channel_reply(c->a->ch, h, PVA_S_ENOTSUP, NULL, 0);
}

void control_host_up(struct control *c)
{
	c->syncing = false;
	c->reported_down = false;
}

void control_tick(struct control *c)
{
	if (c->syncing && qpc_ns_since(&c->sent_qpc) >
	    (int64_t)QUERY_TIMEOUT_MS * 1000000) {
		log_warn("time: the host did not answer TIME_QUERY");
		c->syncing = false;
		time_report(c, PVA_TIME_FAILED, PVA_S_EIO, w32time_runs());
	}
}

struct control *control_new(struct agent *a)
{
	struct control *c = calloc(1, sizeof(*c));

	if (c)
		c->a = a;
	return c;
}

void control_free(struct control *c)
{
	free(c);
}
