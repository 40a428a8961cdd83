// SPDX-License-Identifier: MIT
/*
 * pva-service's routing between the host and the session agents
 * (protocol/PROTOCOL.md 6.8.2, 6.8.3, 6.8.6): only the active session's
 * agent reaches the host; the service keeps the grab serials itself
 * (so a crossing of grabs is settled here, the guest's winning), renumbers
 * transfers so agents cannot collide or reach each other's, and replays
 * the clipboard and the layout to a session that becomes active.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "service.h"

uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static const char *sel_name(unsigned int sel)
{
	return sel ? "PRIMARY" : "CLIPBOARD";
}

static bool agent_syncs(const struct agent_conn *c, unsigned int sel)
{
	return c->caps & (sel == PVA_CLIP_CLIPBOARD ? PVA_AGENT_CAP_CLIPBOARD :
						      PVA_AGENT_CAP_PRIMARY);
}

/* ---- transfers ---- */

static struct xfer *xfer_new(struct svc *s)
{
	for (int i = 0; i < MAX_MAP; i++)
		if (!s->xfers[i].used) {
			memset(&s->xfers[i], 0, sizeof(s->xfers[i]));
			s->xfers[i].used = true;
			return &s->xfers[i];
		}
	return NULL;
}

static uint32_t new_id(struct svc *s)
{
	if (!++s->next_id)
		++s->next_id;
	return s->next_id;
}

static struct xfer *xfer_by_host(struct svc *s, uint32_t id, bool to_host)
{
	for (int i = 0; i < MAX_MAP; i++)
		if (s->xfers[i].used && s->xfers[i].to_host == to_host &&
		    s->xfers[i].host_id == id)
			return &s->xfers[i];
	return NULL;
}

static struct xfer *xfer_by_agent(struct svc *s, struct agent_conn *c,
				  uint32_t id, bool to_host)
{
	for (int i = 0; i < MAX_MAP; i++)
		if (s->xfers[i].used && s->xfers[i].agent == c &&
		    s->xfers[i].to_host == to_host &&
		    s->xfers[i].agent_id == id)
			return &s->xfers[i];
	return NULL;
}

static void data_error_to_host(struct svc *s, uint32_t transfer,
			       uint32_t status)
{
	struct pva_clip_data d;

	clip_data_header(&d, transfer, status, 0, 0, 0);
	channel_send(s->ch, PVA_AGENT_CLIP_DATA, &d, sizeof(d));
}

static void data_error_to_agent(struct agent_conn *c, uint32_t transfer,
				uint32_t status)
{
	struct pva_clip_data d;

	clip_data_header(&d, transfer, status, 0, 0, 0);
	agent_conn_send(c, PVA_AGENT_CLIP_DATA, 0, &d, sizeof(d));
}

static void cancel_to(struct svc *s, struct agent_conn *c, uint32_t id)
{
	struct pva_clip_cancel x = { .transfer = pva_cpu32(id) };

	if (c)
		agent_conn_send(c, PVA_AGENT_CLIP_CANCEL, 0, &x, sizeof(x));
	else
		channel_send(s->ch, PVA_AGENT_CLIP_CANCEL, &x, sizeof(x));
}

/* A DATA message with its transfer id replaced by @id. */
static void forward_data(struct svc *s, struct agent_conn *to, uint32_t id,
			 const uint8_t *p, uint32_t len)
{
	static uint8_t buf[PVA_MSG_MAX];
	struct pva_clip_data d;

	memcpy(&d, p, sizeof(d));
	d.transfer = pva_cpu32(id);
	memcpy(buf, &d, sizeof(d));
	memcpy(buf + sizeof(d), p + sizeof(d), len - sizeof(d));
	if (to)
		agent_conn_send(to, PVA_AGENT_CLIP_DATA, 0, buf, len);
	else
		channel_send(s->ch, PVA_AGENT_CLIP_DATA, buf, len);
}

/* ---- grabs ---- */

static void grab_to_host(struct svc *s, unsigned int sel,
			 const struct clip_types *types)
{
	uint8_t buf[sizeof(struct pva_clip_grab) +
		    PVA_CLIP_MAX_TYPES * (PVA_CLIP_TYPE_MAX + 1)];
	uint32_t len;

	if (!channel_up(s->ch) ||
	    !(channel_features(s->ch) & PVA_AGENT_F_CLIPBOARD))
		return;
	s->sel[sel].guest_serial++;
	len = clip_grab_build(buf, sizeof(buf), sel, s->sel[sel].guest_serial,
			      s->sel[sel].host_serial, types);
	channel_send(s->ch, PVA_AGENT_CLIP_GRAB, buf, len);
}

static void host_grab_to_agent(struct svc *s, struct agent_conn *c,
			       unsigned int sel)
{
	uint8_t buf[sizeof(struct pva_clip_grab) +
		    PVA_CLIP_MAX_TYPES * (PVA_CLIP_TYPE_MAX + 1)];
	uint32_t len;

	if (!c || !agent_syncs(c, sel))
		return;
	len = clip_grab_build(buf, sizeof(buf), sel, s->sel[sel].host_serial,
			      0, &s->sel[sel].host_types);
	agent_conn_send(c, PVA_AGENT_CLIP_GRAB, 0, buf, len);
}

/* ---- from the host ---- */

static void host_grab(struct svc *s, const uint8_t *p, uint32_t len)
{
	struct clip_grab g;
	const char *why;

	if (clip_grab_parse(p, len, &g, &why)) {
		log_warn("the host sent a malformed CLIP_GRAB: %s", why);
		return;
	}
	if (g.seen < s->sel[g.selection].guest_serial) {
		/* it crossed our grab: the guest's wins, the host will
		 * take ours when it arrives
		 */
		log_info("clipboard: the host's %s grab crossed the guest's: ignored",
			 sel_name(g.selection));
		return;
	}
	s->sel[g.selection].host_serial = g.serial;
	s->sel[g.selection].host_owns = g.types.n > 0;
	s->sel[g.selection].host_time = now_ms();
	s->sel[g.selection].host_types = g.types;
	s->sel[g.selection].owner = NULL;
	log_debug("clipboard: the host's %s has %u types",
		  sel_name(g.selection), g.types.n);
	host_grab_to_agent(s, s->active, g.selection);
}

static void host_request(struct svc *s, const uint8_t *p, uint32_t len)
{
	struct clip_request r;
	struct agent_conn *owner;
	struct xfer *x;
	const char *why;
	uint8_t buf[sizeof(struct pva_clip_request) + PVA_CLIP_TYPE_MAX + 1];
	uint32_t n;

	if (clip_request_parse(p, len, &r, &why)) {
		log_warn("the host sent a malformed CLIP_REQUEST: %s", why);
		return;
	}
	owner = s->sel[r.selection].owner;
	if (r.serial != s->sel[r.selection].guest_serial) {
		data_error_to_host(s, r.transfer, PVA_S_ESTALE);
		return;
	}
	if (!owner || owner != s->active) {
		data_error_to_host(s, r.transfer, owner ? PVA_S_ESTALE :
				   PVA_S_EAGAIN);
		return;
	}
	if (xfer_by_host(s, r.transfer, true)) {
		log_warn("the host reused transfer %u", r.transfer);
		return;
	}
	x = xfer_new(s);
	if (!x) {
		data_error_to_host(s, r.transfer, PVA_S_EBUSY);
		return;
	}
	x->to_host = true;
	x->host_id = r.transfer;
	x->agent_id = new_id(s);
	x->agent = owner;
	n = clip_request_build(buf, sizeof(buf), r.selection, 0, x->agent_id,
			       r.type);
	agent_conn_send(owner, PVA_AGENT_CLIP_REQUEST, 0, buf, n);
}

static void host_data(struct svc *s, const uint8_t *p, uint32_t len)
{
	struct clip_data d;
	struct xfer *x;
	const char *why;

	if (clip_data_parse(p, len, &d, &why)) {
		log_warn("the host sent malformed CLIP_DATA: %s", why);
		return;
	}
	x = xfer_by_host(s, d.transfer, false);
	if (!x)
		return;		/* cancelled meanwhile */
	forward_data(s, x->agent, x->agent_id, p, len);
	if (d.status || (d.flags & PVA_CLIP_DATA_LAST))
		x->used = false;
}

static void host_cancel(struct svc *s, const uint8_t *p, uint32_t len)
{
	uint32_t id;
	struct xfer *x;
	const char *why;

	if (clip_cancel_parse(p, len, &id, &why)) {
		log_warn("the host sent a malformed CLIP_CANCEL: %s", why);
		return;
	}
	x = xfer_by_host(s, id, true);
	if (!x)
		return;
	cancel_to(s, x->agent, x->agent_id);
	x->used = false;
}

static void host_layout(struct svc *s, const uint8_t *p, uint32_t len)
{
	struct pva_display_config c;
	const char *why;

	if (display_config_parse(p, len, &c, &why)) {
		log_warn("the host sent a malformed DISPLAY_LAYOUT: %s", why);
		return;
	}
	s->layout = c;
	s->layout_valid = true;
	log_info("display: the host asks for layout %u",
		 pva_le32(c.generation));
	if (s->active && (s->active->caps & PVA_AGENT_CAP_DISPLAY))
		agent_conn_send(s->active, PVA_AGENT_DISPLAY_LAYOUT, 0, &c,
				sizeof(c));
}

void router_from_host(struct svc *s, uint16_t type, const uint8_t *p,
		      uint32_t len)
{
	switch (type) {
	case PVA_AGENT_CLIP_GRAB:
		host_grab(s, p, len);
		break;
	case PVA_AGENT_CLIP_REQUEST:
		host_request(s, p, len);
		break;
	case PVA_AGENT_CLIP_DATA:
		host_data(s, p, len);
		break;
	case PVA_AGENT_CLIP_CANCEL:
		host_cancel(s, p, len);
		break;
	case PVA_AGENT_DISPLAY_LAYOUT:
		host_layout(s, p, len);
		break;
	case PVA_AGENT_TIME_SYNC:
		control_event(s, type, p, len);
		break;
	default:
		if (log_ratelimit_ok(&s->rl))
			log_warn("the host sent an unknown message type %u",
				 type);
		break;
	}
}

/* ---- from an agent ---- */

static void agent_grab(struct agent_conn *c, const uint8_t *p, uint32_t len)
{
	struct svc *s = c->svc;
	struct clip_grab g;
	const char *why;

	if (clip_grab_parse(p, len, &g, &why)) {
		if (log_ratelimit_ok(&c->rl))
			log_warn("agent of session %s: malformed CLIP_GRAB: %s",
				 c->session, why);
		return;
	}
	if (!agent_syncs(c, g.selection))
		return;
	c->local_valid[g.selection] = true;
	c->local[g.selection] = g.types;
	c->local_time[g.selection] = now_ms();
	if (c != s->active)
		return;		/* kept for when the session is active */
	s->sel[g.selection].owner = g.types.n ? c : NULL;
	s->sel[g.selection].host_owns = false;
	grab_to_host(s, g.selection, &g.types);
}

static void agent_request(struct agent_conn *c, const uint8_t *p,
			  uint32_t len)
{
	struct svc *s = c->svc;
	uint8_t buf[sizeof(struct pva_clip_request) + PVA_CLIP_TYPE_MAX + 1];
	struct clip_request r;
	struct xfer *x;
	const char *why;
	uint32_t n;

	if (clip_request_parse(p, len, &r, &why)) {
		if (log_ratelimit_ok(&c->rl))
			log_warn("agent of session %s: malformed CLIP_REQUEST: %s",
				 c->session, why);
		return;
	}
	if (c != s->active || !s->sel[r.selection].host_owns ||
	    !channel_up(s->ch)) {
		data_error_to_agent(c, r.transfer, PVA_S_ESTALE);
		return;
	}
	if (xfer_by_agent(s, c, r.transfer, false)) {
		data_error_to_agent(c, r.transfer, PVA_S_EINVAL);
		return;
	}
	x = xfer_new(s);
	if (!x) {
		data_error_to_agent(c, r.transfer, PVA_S_EBUSY);
		return;
	}
	x->to_host = false;
	x->agent = c;
	x->agent_id = r.transfer;
	x->host_id = new_id(s);
	n = clip_request_build(buf, sizeof(buf), r.selection,
			       s->sel[r.selection].host_serial, x->host_id,
			       r.type);
	channel_send(s->ch, PVA_AGENT_CLIP_REQUEST, buf, n);
}

static void agent_data(struct agent_conn *c, const uint8_t *p, uint32_t len)
{
	struct svc *s = c->svc;
	struct clip_data d;
	struct xfer *x;
	const char *why;

	if (clip_data_parse(p, len, &d, &why)) {
		if (log_ratelimit_ok(&c->rl))
			log_warn("agent of session %s: malformed CLIP_DATA: %s",
				 c->session, why);
		return;
	}
	x = xfer_by_agent(s, c, d.transfer, true);
	if (!x)
		return;		/* cancelled, or not its transfer */
	if (len > channel_max_payload(s->ch)) {
		data_error_to_host(s, x->host_id, PVA_S_EIO);
		cancel_to(s, c, d.transfer);
		x->used = false;
		return;
	}
	forward_data(s, NULL, x->host_id, p, len);
	if (d.status || (d.flags & PVA_CLIP_DATA_LAST))
		x->used = false;
}

static void agent_cancel(struct agent_conn *c, const uint8_t *p,
			 uint32_t len)
{
	struct svc *s = c->svc;
	struct xfer *x;
	const char *why;
	uint32_t id;

	if (clip_cancel_parse(p, len, &id, &why)) {
		if (log_ratelimit_ok(&c->rl))
			log_warn("agent of session %s: malformed CLIP_CANCEL: %s",
				 c->session, why);
		return;
	}
	x = xfer_by_agent(s, c, id, false);
	if (!x)
		return;
	cancel_to(s, NULL, x->host_id);
	x->used = false;
}

static void agent_state(struct agent_conn *c, const uint8_t *p, uint32_t len)
{
	struct svc *s = c->svc;
	struct pva_agent_display_state st;
	const char *why;

	if (display_state_parse(p, len, &st, &why)) {
		if (log_ratelimit_ok(&c->rl))
			log_warn("agent of session %s: malformed DISPLAY_STATE: %s",
				 c->session, why);
		return;
	}
	if (c == s->active && (channel_features(s->ch) & PVA_AGENT_F_DISPLAY))
		channel_send(s->ch, PVA_AGENT_DISPLAY_STATE, &st, sizeof(st));
}

void router_from_agent(struct agent_conn *c, uint16_t type,
		       const uint8_t *p, uint32_t len)
{
	switch (type) {
	case PVA_AGENT_CLIP_GRAB:
		agent_grab(c, p, len);
		break;
	case PVA_AGENT_CLIP_REQUEST:
		agent_request(c, p, len);
		break;
	case PVA_AGENT_CLIP_DATA:
		agent_data(c, p, len);
		break;
	case PVA_AGENT_CLIP_CANCEL:
		agent_cancel(c, p, len);
		break;
	case PVA_AGENT_DISPLAY_STATE:
		agent_state(c, p, len);
		break;
	default:
		if (log_ratelimit_ok(&c->rl))
			log_warn("agent of session %s sent an unknown message type %u",
				 c->session, type);
		break;
	}
}

/* ---- agents and the host come and go ---- */

void router_agent_gone(struct agent_conn *c)
{
	struct svc *s = c->svc;

	for (int i = 0; i < MAX_MAP; i++) {
		struct xfer *x = &s->xfers[i];

		if (!x->used || x->agent != c)
			continue;
		if (x->to_host)
			data_error_to_host(s, x->host_id, PVA_S_EIO);
		else
			cancel_to(s, NULL, x->host_id);
		x->used = false;
	}
	for (unsigned int sel = 0; sel < PVA_CLIP_NR_SELECTIONS; sel++) {
		if (s->sel[sel].owner != c)
			continue;
		/* what it offered is gone with it */
		s->sel[sel].owner = NULL;
		grab_to_host(s, sel, NULL);
	}
	if (s->active == c)
		s->active = NULL;
}

/* The agent the host should see: the one of logind's active session (on
 * seat0 first), or without logind the one registered last.
 */
static struct agent_conn *pick_active(struct svc *s)
{
	struct agent_conn *best = NULL;
	struct session_info si;

	for (struct agent_conn *c = s->agents; c; c = c->next) {
		if (!c->registered)
			continue;
		if (!s->sessions) {
			if (!best || c->seq > best->seq)
				best = c;
			continue;
		}
		if (!sessions_get(s->sessions, c->session, &si) || !si.active)
			continue;
		if (!best || !strcmp(si.seat, "seat0"))
			best = c;
	}
	return best;
}

static void send_active(struct agent_conn *c, bool on)
{
	struct pva_agent_active a = { .active = pva_cpu32(on) };

	c->active = on;
	agent_conn_send(c, PVA_AGENT_LOCAL_ACTIVE, 0, &a, sizeof(a));
}

void router_update_active(struct svc *s)
{
	struct agent_conn *now = pick_active(s), *old = s->active;

	for (struct agent_conn *c = s->agents; c; c = c->next)
		if (c->registered && c != now && c->active)
			send_active(c, false);
	if (now == old && (!now || now->active))
		return;
	s->active = now;
	if (old != now)
		log_info("the active session is now %s",
			 now ? now->session : "none with an agent");
	for (int i = 0; i < MAX_MAP; i++) {
		struct xfer *x = &s->xfers[i];

		/* transfers of the session that left are void */
		if (x->used && x->agent != now) {
			if (x->to_host)
				data_error_to_host(s, x->host_id, PVA_S_ESTALE);
			else
				cancel_to(s, NULL, x->host_id);
			if (x->agent)
				cancel_to(s, x->agent, x->agent_id);
			x->used = false;
		}
	}
	if (now)
		send_active(now, true);
	for (unsigned int sel = 0; sel < PVA_CLIP_NR_SELECTIONS; sel++) {
		/* whichever copied last, the host or the new session, is
		 * the clipboard now
		 */
		bool local = now && now->local_valid[sel] &&
			     agent_syncs(now, sel) &&
			     (!s->sel[sel].host_owns ||
			      now->local_time[sel] > s->sel[sel].host_time);

		if (local) {
			s->sel[sel].host_owns = false;
			s->sel[sel].owner = now->local[sel].n ? now : NULL;
			grab_to_host(s, sel, &now->local[sel]);
		} else if (s->sel[sel].host_owns) {
			host_grab_to_agent(s, now, sel);
		} else if (s->sel[sel].owner) {
			s->sel[sel].owner = NULL;
			grab_to_host(s, sel, NULL);
		}
	}
	if (now && s->layout_valid && (now->caps & PVA_AGENT_CAP_DISPLAY))
		agent_conn_send(now, PVA_AGENT_DISPLAY_LAYOUT, 0, &s->layout,
				sizeof(s->layout));
}

void router_host_up(struct svc *s)
{
	info_send(s);
	control_host_up(s);
	/* the host forgot us: what the active session has is news again */
	if (s->active) {
		for (unsigned int sel = 0; sel < PVA_CLIP_NR_SELECTIONS; sel++)
			if (s->active->local_valid[sel] &&
			    agent_syncs(s->active, sel) &&
			    s->active->local[sel].n) {
				s->sel[sel].owner = s->active;
				grab_to_host(s, sel, &s->active->local[sel]);
			}
	}
}

void router_host_down(struct svc *s)
{
	for (int i = 0; i < MAX_MAP; i++) {
		struct xfer *x = &s->xfers[i];

		if (!x->used)
			continue;
		if (x->to_host)
			cancel_to(s, x->agent, x->agent_id);
		else
			data_error_to_agent(x->agent, x->agent_id,
					    PVA_S_EAGAIN);
		x->used = false;
	}
	for (unsigned int sel = 0; sel < PVA_CLIP_NR_SELECTIONS; sel++) {
		bool held = s->sel[sel].host_owns;

		s->sel[sel].host_owns = false;
		s->sel[sel].host_serial = 0;
		s->sel[sel].guest_serial = 0;
		s->sel[sel].owner = NULL;
		s->sel[sel].host_types.n = 0;
		/* the host's content is unreachable: the session's proxy
		 * for it is empty now
		 */
		if (held && s->active)
			host_grab_to_agent(s, s->active, sel);
	}
}
