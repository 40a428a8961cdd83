// SPDX-License-Identifier: MIT
/*
 * Guest control on the agent channel (protocol/PROTOCOL.md 6.8.7): the
 * guest's clock (TIME_SYNC when asked, periodically and when the host
 * resumed from sleep; TIME_QUERY answered; TIME_STATUS kept), clean
 * shutdown and reboot (POWER, then GUEST_STATE and the guest going away),
 * filesystem freeze (FSFREEZE); and their pva-hostctl commands.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_int.h"
#include "config.h"
#include "ctl.h"
#include "device.h"

#define TIME_SYNC_WAIT_MS	10000
#define FSFREEZE_WAIT_MS	120000
#define RESUME_JUMP_NS		2000000000ll	/* suspended for 2 s or more */

static int64_t clock_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static int64_t mono_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000;
}

static bool control(const struct agent *a)
{
	return agent_connected(a) && (a->features & PVA_AGENT_F_CONTROL);
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static const char *const time_actions[] = {
	"none", "slewed", "stepped", "yielded to NTP", "failed",
};

static const char *const reasons[] = {
	"request", "periodic", "resume", "guest",
};

static struct json_object *time_json(const struct agent *a)
{
	const struct pva_agent_time_status *t = &a->time_status;
	struct json_object *o = json_object_new_object();
	uint32_t act = pva_le32(t->action), why = pva_le32(t->reason);

	json_object_object_add(o, "synced", json_object_new_boolean(a->time_valid));
	if (!a->time_valid)
		return o;
	json_object_object_add(o, "action", json_object_new_string(
		act < 5 ? time_actions[act] : "?"));
	json_object_object_add(o, "reason", json_object_new_string(
		why < 4 ? reasons[why] : "?"));
	add_int(o, "offset_ns", (int64_t)pva_le64(t->offset_ns));
	add_int(o, "rtt_ns", (int64_t)pva_le64(t->rtt_ns));
	add_int(o, "threshold_ns", (int64_t)pva_le64(t->threshold_ns));
	json_object_object_add(o, "ntp", json_object_new_boolean(pva_le32(t->ntp)));
	add_int(o, "status", pva_le32(t->status));
	add_int(o, "age_ms", mono_ms() - a->time_at_ms);
	return o;
}

/* ---- time ---- */

static void send_time_sync(struct agent *a, uint32_t reason)
{
	struct pva_agent_time_sync ts = { .reason = pva_cpu32(reason) };

	if (!control(a))
		return;
	agent_send(a, PVA_AGENT_TIME_SYNC, &ts, sizeof(ts));
	a->time_sent_ms = mono_ms();
}

static void time_waiter_done(struct agent *a, const char *error)
{
	struct ctl_client *c = a->time_waiter;

	if (!c)
		return;
	a->time_waiter = NULL;
	ctl_set_cancel(c, NULL, NULL);
	if (error)
		ctl_reply_error(c, "time: %s", error);
	else
		ctl_reply(c, time_json(a));
}

void guestctl_rx(struct agent *a, const struct pva_msg_hdr *hdr,
		 const uint8_t *p, uint32_t len)
{
	uint16_t type = pva_le16(hdr->type);

	switch (type) {
	case PVA_AGENT_TIME_QUERY: {
		struct pva_agent_time t = {
			.realtime_ns = pva_cpu64((uint64_t)clock_ns(CLOCK_REALTIME)),
		};

		agent_reply(a, hdr, len ? PVA_S_EINVAL : PVA_S_OK,
			    len ? NULL : &t, len ? 0 : sizeof(t));
		break;
	}
	case PVA_AGENT_TIME_STATUS:
		if (len != sizeof(a->time_status) ||
		    pva_le32(((const struct pva_agent_time_status *)(const void *)p)->status) > PVA_S_MAX) {
			agent_bad(a, "malformed TIME_STATUS (%u bytes)", len);
			break;
		}
		memcpy(&a->time_status, p, sizeof(a->time_status));
		a->time_valid = true;
		a->time_at_ms = mono_ms();
		log_info("agent: guest clock %+.3f s off (%s, %s)",
			 (double)(int64_t)pva_le64(a->time_status.offset_ns) / 1e9,
			 pva_le32(a->time_status.action) < 5 ?
			 time_actions[pva_le32(a->time_status.action)] : "?",
			 pva_le32(a->time_status.reason) < 4 ?
			 reasons[pva_le32(a->time_status.reason)] : "?");
		time_waiter_done(a, NULL);
		break;
	case PVA_AGENT_GUEST_STATE: {
		struct pva_agent_guest_state st;

		if (len != sizeof(st)) {
			agent_bad(a, "malformed GUEST_STATE (%u bytes)", len);
			break;
		}
		memcpy(&st, p, sizeof(st));
		if (pva_le32(st.state) < PVA_GUEST_STATE_RUNNING ||
		    pva_le32(st.state) > PVA_GUEST_STATE_REBOOT) {
			agent_bad(a, "GUEST_STATE %u unknown", pva_le32(st.state));
			break;
		}
		a->guest_state = pva_le32(st.state);
		log_info("agent: the guest is %s",
			 a->guest_state == PVA_GUEST_STATE_SHUTDOWN ? "shutting down" :
			 a->guest_state == PVA_GUEST_STATE_REBOOT ? "rebooting" :
			 "running");
		break;
	}
	default:
		agent_bad(a, "guest control message of type %u", type);
	}
}

/* ---- the guest goes away: what a power request waited for ---- */

void guestctl_guest_gone(struct agent *a)
{
	struct agent_req *r = &a->power;
	struct json_object *o;

	time_waiter_done(a, "the guest's agent went away");
	if (!r->client)
		return;
	if (!r->accepted) {
		agent_req_fail(a, r, "the guest's agent went away before it answered");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "action", json_object_new_string(
		r->op == PVA_POWER_REBOOT ? "reboot" : "shutdown"));
	json_object_object_add(o, "reported", json_object_new_boolean(
		a->guest_state == PVA_GUEST_STATE_SHUTDOWN ||
		a->guest_state == PVA_GUEST_STATE_REBOOT));
	add_int(o, "elapsed_ms", mono_ms() - r->started_ms);
	ctl_set_cancel(r->client, NULL, NULL);
	ctl_reply(r->client, o);
	r->client = NULL;
}

void guestctl_tick(struct agent *a)
{
	int64_t now = mono_ms();
	int64_t gap = clock_ns(CLOCK_BOOTTIME) - clock_ns(CLOCK_MONOTONIC);
	unsigned int every = a->svc->cfg->time_sync_interval;

	/* BOOTTIME counts the time the host slept, MONOTONIC does not */
	if (a->boot_gap && gap - a->boot_gap > RESUME_JUMP_NS) {
		log_info("agent: the host resumed after %.1f s asleep: syncing the guest's clock",
			 (double)(gap - a->boot_gap) / 1e9);
		send_time_sync(a, PVA_TIME_REASON_RESUME);
	}
	a->boot_gap = gap;
	if (every && control(a) && now - a->time_sent_ms >= (int64_t)every * 1000)
		send_time_sync(a, PVA_TIME_REASON_PERIODIC);
	if (a->time_waiter && now - a->time_waiter_ms > TIME_SYNC_WAIT_MS)
		time_waiter_done(a, "the guest did not report its clock in time");
	if (a->power.client && now > a->power.deadline_ms)
		agent_req_fail(a, &a->power, a->power.accepted ?
			       "the guest accepted but did not go down in time" :
			       "the guest did not answer in time");
	if (a->freeze.client && now > a->freeze.deadline_ms)
		agent_req_fail(a, &a->freeze, "the guest did not answer in time");
}

void guestctl_after_hello(struct agent *a)
{
	a->guest_state = PVA_GUEST_STATE_RUNNING;
	/* a new or restarted guest agent: its clock may be anything */
	send_time_sync(a, PVA_TIME_REASON_PERIODIC);
}

/* ---- pva-hostctl ---- */

static void time_cancelled(struct ctl_client *c, void *data)
{
	struct agent *a = data;

	if (a->time_waiter == c)
		a->time_waiter = NULL;
}

static int cmd_time_sync(struct service *svc, struct ctl_client *client,
			 struct json_object *req)
{
	struct agent *a = svc->priv;
	struct json_object *v;
	uint32_t reason = PVA_TIME_REASON_REQUEST;

	if (json_object_object_get_ex(req, "reason", &v) &&
	    !strcmp(json_object_get_string(v), "resume"))
		reason = PVA_TIME_REASON_RESUME;	/* debug resume */
	if (!control(a)) {
		ctl_reply_error(client, "time: the guest's agent service is not connected%s",
				agent_connected(a) ? " with guest control" : "");
		return -1;
	}
	if (a->time_waiter) {
		ctl_reply_error(client, "time: a sync is already waiting for the guest");
		return -1;
	}
	a->time_waiter = client;
	a->time_waiter_ms = mono_ms();
	ctl_set_cancel(client, time_cancelled, a);
	send_time_sync(a, reason);
	return 0;
}

static int cmd_time_status(struct service *svc, struct ctl_client *client,
			   struct json_object *req)
{
	(void)req;
	ctl_reply(client, time_json(svc->priv));
	return 0;
}

static void req_cancelled(struct ctl_client *c, void *data)
{
	struct agent_req *r = data;

	(void)c;
	r->client = NULL;	/* the answer, when it comes, goes nowhere */
}

/* Answers to POWER and FSFREEZE (agent.c matches them to the request). */
void guestctl_answer(struct agent *a, struct agent_req *r, uint32_t status,
		     const uint8_t *p, uint32_t len)
{
	struct json_object *o;

	if (r == &a->power) {
		if (status != PVA_S_OK) {
			agent_req_fail(a, r, status == PVA_S_EPERM ?
				       "the guest refused" :
				       status == PVA_S_ENOTSUP ?
				       "the guest cannot do that" :
				       "the guest failed to start it");
			return;
		}
		r->accepted = true;	/* the reply comes when it is gone */
		r->req_id = 0;
		return;
	}
	/* FSFREEZE */
	if (status != PVA_S_OK && status != PVA_S_EBUSY && status != PVA_S_EIO) {
		agent_req_fail(a, r, status == PVA_S_ENOTSUP ?
			       "the guest cannot freeze its filesystems" :
			       "the guest refused the request");
		return;
	}
	if (len < sizeof(struct pva_agent_fsfreeze_result) ||
	    p[len - 1] != 0) {
		agent_bad(a, "malformed FSFREEZE answer (%u bytes)", len);
		agent_req_fail(a, r, "the guest's answer is malformed");
		return;
	} else {
		struct pva_agent_fsfreeze_result res;
		const char *text = (const char *)p + sizeof(res);

		memcpy(&res, p, sizeof(res));
		if (status != PVA_S_OK) {
			char msg[512];

			snprintf(msg, sizeof(msg), "%s%s%s",
				 status == PVA_S_EBUSY ? "frozen already" :
				 "a filesystem could not be frozen",
				 *text ? ": " : "", text);
			agent_req_fail(a, r, msg);
			return;
		}
		o = json_object_new_object();
		add_int(o, "frozen", pva_le32(res.frozen));
		add_int(o, "timeout_s", pva_le32(res.timeout_s));
		json_object_object_add(o, "text", json_object_new_string(text));
		if (r->client) {
			ctl_set_cancel(r->client, NULL, NULL);
			ctl_reply(r->client, o);
		} else {
			json_object_put(o);
		}
		r->client = NULL;
		r->req_id = 0;
	}
}

static int get_timeout(struct ctl_client *client, struct json_object *req,
		       int64_t def, int64_t max, int64_t *out)
{
	struct json_object *v;

	*out = def;
	if (!json_object_object_get_ex(req, "timeout_ms", &v))
		return 0;
	*out = json_object_get_int64(v);
	if (*out < 100 || *out > max) {
		ctl_reply_error(client, "timeout_ms must be 100-%lld", (long long)max);
		return -1;
	}
	return 0;
}

static int cmd_power(struct service *svc, struct ctl_client *client,
		     struct json_object *req)
{
	struct agent *a = svc->priv;
	struct pva_agent_power pw = { 0 };
	struct json_object *v;
	const char *what = "";
	int64_t timeout;

	if (json_object_object_get_ex(req, "action", &v))
		what = json_object_get_string(v);
	if (strcmp(what, "shutdown") && strcmp(what, "reboot")) {
		ctl_reply_error(client, "power: the action is shutdown or reboot");
		return -1;
	}
	if (get_timeout(client, req, 120000, 3600000, &timeout) < 0)
		return -1;
	if (!control(a)) {
		ctl_reply_error(client, "%s: the guest's agent service is not connected",
				what);
		return -1;
	}
	if (a->power.client) {
		ctl_reply_error(client, "%s: a shutdown or reboot is under way", what);
		return -1;
	}
	pw.action = pva_cpu32(!strcmp(what, "reboot") ? PVA_POWER_REBOOT :
			      PVA_POWER_SHUTDOWN);
	a->power.op = pva_le32(pw.action);
	a->power.accepted = false;
	a->power.started_ms = mono_ms();
	a->power.deadline_ms = a->power.started_ms + timeout;
	a->power.client = client;
	ctl_set_cancel(client, req_cancelled, &a->power);
	if (agent_request(a, PVA_AGENT_POWER, &pw, sizeof(pw), &a->power) < 0) {
		agent_req_fail(a, &a->power, "cannot send the request");
		return -1;
	}
	return 0;
}

static int cmd_fsfreeze(struct service *svc, struct ctl_client *client,
			struct json_object *req)
{
	struct agent *a = svc->priv;
	struct pva_agent_fsfreeze fr = { 0 };
	struct json_object *v;
	const char *op = "";
	int64_t secs = 0;

	if (json_object_object_get_ex(req, "op", &v))
		op = json_object_get_string(v);
	if (!strcmp(op, "freeze"))
		fr.op = pva_cpu32(PVA_FSFREEZE_FREEZE);
	else if (!strcmp(op, "thaw"))
		fr.op = pva_cpu32(PVA_FSFREEZE_THAW);
	else if (!strcmp(op, "status"))
		fr.op = pva_cpu32(PVA_FSFREEZE_STATUS);
	else {
		ctl_reply_error(client, "fsfreeze: the operation is freeze, thaw or status");
		return -1;
	}
	if (json_object_object_get_ex(req, "timeout_s", &v)) {
		secs = json_object_get_int64(v);
		if (secs < 1 || secs > 3600) {
			ctl_reply_error(client, "fsfreeze: the timeout is 1-3600 seconds");
			return -1;
		}
	}
	fr.timeout_s = pva_cpu32((uint32_t)secs);
	if (!control(a)) {
		ctl_reply_error(client, "fsfreeze: the guest's agent service is not connected");
		return -1;
	}
	if (a->freeze.client) {
		ctl_reply_error(client, "fsfreeze: another request is waiting for the guest");
		return -1;
	}
	a->freeze.op = pva_le32(fr.op);
	a->freeze.started_ms = mono_ms();
	a->freeze.deadline_ms = a->freeze.started_ms + FSFREEZE_WAIT_MS;
	a->freeze.client = client;
	ctl_set_cancel(client, req_cancelled, &a->freeze);
	if (agent_request(a, PVA_AGENT_FSFREEZE, &fr, sizeof(fr), &a->freeze) < 0) {
		agent_req_fail(a, &a->freeze, "cannot send the request");
		return -1;
	}
	return 0;
}

void guestctl_status(struct agent *a, struct json_object *obj)
{
	struct json_object *o = time_json(a);

	add_int(o, "interval_s", a->svc->cfg->time_sync_interval);
	json_object_object_add(obj, "time", o);
	json_object_object_add(obj, "guest_state", json_object_new_string(
		!agent_connected(a) ? "unknown" :
		a->guest_state == PVA_GUEST_STATE_SHUTDOWN ? "shutting down" :
		a->guest_state == PVA_GUEST_STATE_REBOOT ? "rebooting" :
		"running"));
}

const struct ctl_command guestctl_commands[] = {
	{ "time-sync", cmd_time_sync },
	{ "time-status", cmd_time_status },
	{ "power", cmd_power },
	{ "fsfreeze", cmd_fsfreeze },
	{ NULL, NULL },
};
