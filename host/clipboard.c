// SPDX-License-Identifier: MIT
/*
 * The host's clipboard (protocol/PROTOCOL.md 6.8.1-6.8.3): who owns each
 * selection, the host's own contents, the guest's grabs, transfers both
 * ways in chunks, and the pva-hostctl commands clipboard-set/-get/-watch/
 * -status. Contents move through memfds that pva-hostctl passes with its
 * request, so no size limit of the control socket applies.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_int.h"
#include "ctl.h"

#define GET_TIMEOUT_MS	10000

static const char *const sel_names[PVA_CLIP_NR_SELECTIONS] = {
	"clipboard", "primary",
};

static const char *owner_name(enum clip_owner o)
{
	return o == OWNER_HOST ? "host" : o == OWNER_GUEST ? "guest" : "none";
}

static void blob_put(struct blob *b)
{
	if (b && !--b->refs)
		free(b);
}

static struct blob *blob_get(struct blob *b)
{
	b->refs++;
	return b;
}

static void sel_drop_host(struct clip_sel *s)
{
	for (unsigned int i = 0; i < PVA_CLIP_MAX_TYPES; i++) {
		blob_put(s->host[i]);
		s->host[i] = NULL;
	}
}

/* ---- watchers ---- */

static struct json_object *types_json(const struct clip_types *t)
{
	struct json_object *arr = json_object_new_array();

	for (unsigned int i = 0; i < t->n; i++)
		json_object_array_add(arr, json_object_new_string(t->name[i]));
	return arr;
}

static struct json_object *sel_json(struct agent *a, unsigned int sel)
{
	struct clip_sel *s = &a->sel[sel];
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "selection",
			       json_object_new_string(sel_names[sel]));
	json_object_object_add(o, "owner",
			       json_object_new_string(owner_name(s->owner)));
	json_object_object_add(o, "types", types_json(&s->types));
	json_object_object_add(o, "host_serial",
			       json_object_new_int64(s->host_serial));
	json_object_object_add(o, "guest_serial",
			       json_object_new_int64(s->guest_serial));
	if (s->owner == OWNER_HOST && s->host[0])
		json_object_object_add(o, "size",
				       json_object_new_int64((int64_t)s->host[0]->len));
	json_object_object_add(o, "changed", json_object_new_double(
		s->changed.tv_sec + s->changed.tv_nsec / 1e9));
	return o;
}

static void notify(struct agent *a, struct json_object *ev)
{
	for (struct clip_watch *w = a->watches; w; w = w->next)
		ctl_send(w->client, json_object_get(ev));
	json_object_put(ev);
}

static void notify_sel(struct agent *a, unsigned int sel)
{
	struct json_object *ev = sel_json(a, sel);

	clock_gettime(CLOCK_REALTIME, &a->sel[sel].changed);
	json_object_object_add(ev, "event", json_object_new_string("owner"));
	notify(a, ev);
}

static void notify_agent(struct agent *a)
{
	struct json_object *ev = json_object_new_object();

	json_object_object_add(ev, "event", json_object_new_string("agent"));
	json_object_object_add(ev, "connected",
			       json_object_new_boolean(agent_connected(a)));
	notify(a, ev);
}

/* ---- sending to the guest ---- */

static void send_grab(struct agent *a, unsigned int sel)
{
	uint8_t buf[sizeof(struct pva_clip_grab) +
		    PVA_CLIP_MAX_TYPES * (PVA_CLIP_TYPE_MAX + 1)];
	struct clip_sel *s = &a->sel[sel];
	struct clip_types none = { 0 };
	uint32_t len;

	s->host_serial++;
	len = clip_grab_build(buf, sizeof(buf), sel, s->host_serial,
			      s->guest_serial,
			      s->owner == OWNER_HOST ? &s->types : &none);
	agent_send(a, PVA_AGENT_CLIP_GRAB, buf, len);
}

static void send_data_error(struct agent *a, uint32_t transfer,
			    uint32_t status)
{
	struct pva_clip_data d;

	clip_data_header(&d, transfer, status, 0, 0, 0);
	agent_send(a, PVA_AGENT_CLIP_DATA, &d, sizeof(d));
}

static void send_cancel(struct agent *a, uint32_t transfer)
{
	struct pva_clip_cancel c = { .transfer = pva_cpu32(transfer) };

	agent_send(a, PVA_AGENT_CLIP_CANCEL, &c, sizeof(c));
}

static void send_free(struct agent *a, struct clip_send *cs)
{
	struct clip_send **pp = &a->sends;

	while (*pp && *pp != cs)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = cs->next;
		a->nr_sends--;
	}
	blob_put(cs->blob);
	free(cs);
}

/* As many chunks as fit now, one transfer after the other. */
void clip_pump(struct agent *a)
{
	uint8_t *msg = NULL;
	uint32_t max = agent_max_payload(a);

	if (max <= sizeof(struct pva_clip_data))
		return;
	while (a->sends && agent_connected(a)) {
		struct clip_send *cs = a->sends;
		size_t left = cs->blob->len - cs->off;
		size_t chunk = left < max - sizeof(struct pva_clip_data) ?
			       left : max - sizeof(struct pva_clip_data);
		bool last = chunk == left;
		struct pva_clip_data d;

		if (!agent_can_send(a, (uint32_t)(sizeof(d) + chunk)))
			break;
		if (!msg)
			msg = malloc(max);
		if (!msg)
			break;
		clip_data_header(&d, cs->transfer, PVA_S_OK,
				 last ? PVA_CLIP_DATA_LAST : 0, cs->off,
				 cs->blob->len);
		memcpy(msg, &d, sizeof(d));
		memcpy(msg + sizeof(d), cs->blob->data + cs->off, chunk);
		if (agent_send(a, PVA_AGENT_CLIP_DATA, msg,
			       (uint32_t)(sizeof(d) + chunk)))
			break;
		cs->off += chunk;
		a->cstats.sent_bytes += chunk;
		if (last) {
			a->cstats.sent_transfers++;
			send_free(a, cs);
		}
	}
	free(msg);
}

/* ---- pva-hostctl clipboard get: the guest's content ---- */

static void fetch_free(struct agent *a, struct clip_fetch *f)
{
	struct clip_fetch **pp = &a->fetches;

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = f->next;
		a->nr_fetches--;
	}
	clip_rx_free(&f->rx);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

static void fetch_fail(struct agent *a, struct clip_fetch *f,
		       const char *why)
{
	a->cstats.failed++;
	ctl_set_cancel(f->client, NULL, NULL);
	ctl_reply_error(f->client, "clipboard: %s", why);
	fetch_free(a, f);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void reply_content(struct ctl_client *client, int fd,
			  const char *owner, unsigned int sel,
			  const char *type, const uint8_t *p, size_t n)
{
	struct json_object *o;

	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
	    write_all(fd, p, n) < 0) {
		ctl_reply_error(client, "clipboard: cannot write the content for pva-hostctl: %s",
				strerror(errno));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "owner", json_object_new_string(owner));
	json_object_object_add(o, "selection",
			       json_object_new_string(sel_names[sel]));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)n));
	ctl_reply(client, o);
}

static void rx_data(struct agent *a, const uint8_t *p, uint32_t len)
{
	struct clip_data d;
	struct clip_fetch *f;
	const char *why;
	int r;

	if (clip_data_parse(p, len, &d, &why)) {
		agent_bad(a, "malformed CLIP_DATA: %s", why);
		return;
	}
	for (f = a->fetches; f && f->transfer != d.transfer; f = f->next)
		;
	if (!f)
		return;		/* cancelled a moment ago */
	if (!f->client) {	/* pva-hostctl went away */
		send_cancel(a, f->transfer);
		fetch_free(a, f);
		return;
	}
	r = clip_rx_chunk(&f->rx, &d, &why);
	if (r == 0)
		return;
	if (r == -E2BIG) {
		send_cancel(a, f->transfer);
		fetch_fail(a, f, "the guest's content is larger than --clipboard-max");
		return;
	}
	if (r < 0) {
		agent_bad(a, "CLIP_DATA of transfer %u: %s", d.transfer, why);
		send_cancel(a, f->transfer);
		fetch_fail(a, f, "the guest sent a malformed transfer");
		return;
	}
	if (f->rx.status != PVA_S_OK) {
		char msg[256];

		snprintf(msg, sizeof(msg), "the guest did not send %s: %s",
			 f->type, clip_status_name(f->rx.status));
		fetch_fail(a, f, msg);
		return;
	}
	a->cstats.received_bytes += f->rx.len;
	a->cstats.fetches++;
	ctl_set_cancel(f->client, NULL, NULL);
	reply_content(f->client, f->fd, "guest", f->sel, f->type, f->rx.buf,
		      f->rx.len);
	fetch_free(a, f);
}

/* ---- messages from the guest ---- */

static void rx_grab(struct agent *a, const uint8_t *p, uint32_t len)
{
	struct clip_grab g;
	struct clip_sel *s;
	const char *why;

	if (clip_grab_parse(p, len, &g, &why)) {
		agent_bad(a, "malformed CLIP_GRAB: %s", why);
		return;
	}
	s = &a->sel[g.selection];
	/* the guest wins a crossing (PROTOCOL.md 6.8.2): always accepted */
	if (s->owner == OWNER_HOST && g.seen < s->host_serial) {
		a->cstats.crossed++;
		log_info("agent: the guest's grab crossed ours on %s: the guest's wins",
			 sel_names[g.selection]);
	}
	sel_drop_host(s);
	s->owner = g.types.n ? OWNER_GUEST : OWNER_NONE;
	s->guest_serial = g.serial;
	s->types = g.types;
	a->cstats.guest_grabs++;
	log_debug("agent: the guest's %s: %u types", sel_names[g.selection],
		  g.types.n);
	notify_sel(a, g.selection);
}

static void rx_request(struct agent *a, const uint8_t *p, uint32_t len)
{
	struct clip_request r;
	struct clip_send *cs;
	struct clip_sel *s;
	const char *why;
	unsigned int i;

	if (clip_request_parse(p, len, &r, &why)) {
		agent_bad(a, "malformed CLIP_REQUEST: %s", why);
		return;
	}
	s = &a->sel[r.selection];
	for (cs = a->sends; cs; cs = cs->next) {
		if (cs->transfer == r.transfer) {
			agent_bad(a, "CLIP_REQUEST reuses transfer %u",
				  r.transfer);
			return;
		}
	}
	if (s->owner != OWNER_HOST || r.serial != s->host_serial) {
		send_data_error(a, r.transfer, PVA_S_ESTALE);
		return;
	}
	for (i = 0; i < s->types.n && strcmp(s->types.name[i], r.type); i++)
		;
	if (i == s->types.n || !s->host[i]) {
		send_data_error(a, r.transfer, PVA_S_ENOENT);
		return;
	}
	if (s->host[i]->len > a->guest_clip_max) {
		send_data_error(a, r.transfer, PVA_S_E2BIG);
		return;
	}
	if (a->nr_sends >= CLIP_MAX_SENDS) {
		send_data_error(a, r.transfer, PVA_S_EBUSY);
		return;
	}
	cs = calloc(1, sizeof(*cs));
	if (!cs) {
		send_data_error(a, r.transfer, PVA_S_ENOMEM);
		return;
	}
	cs->transfer = r.transfer;
	cs->blob = blob_get(s->host[i]);
	/* at the end: transfers go out in the order they were asked for */
	{
		struct clip_send **pp = &a->sends;

		while (*pp)
			pp = &(*pp)->next;
		*pp = cs;
	}
	a->nr_sends++;
	clip_pump(a);
}

static void rx_cancel(struct agent *a, const uint8_t *p, uint32_t len)
{
	uint32_t transfer;
	const char *why;

	if (clip_cancel_parse(p, len, &transfer, &why)) {
		agent_bad(a, "malformed CLIP_CANCEL: %s", why);
		return;
	}
	for (struct clip_send *cs = a->sends; cs; cs = cs->next) {
		if (cs->transfer == transfer) {
			send_free(a, cs);
			return;
		}
	}
}

void clip_rx(struct agent *a, uint16_t type, const uint8_t *p, uint32_t len)
{
	switch (type) {
	case PVA_AGENT_CLIP_GRAB:
		rx_grab(a, p, len);
		break;
	case PVA_AGENT_CLIP_REQUEST:
		rx_request(a, p, len);
		break;
	case PVA_AGENT_CLIP_DATA:
		rx_data(a, p, len);
		break;
	case PVA_AGENT_CLIP_CANCEL:
		rx_cancel(a, p, len);
		break;
	}
}

/* ---- the guest comes and goes ---- */

void clip_reset(struct agent *a)
{
	while (a->sends)
		send_free(a, a->sends);
	while (a->fetches) {
		struct clip_fetch *f = a->fetches;

		if (f->client)
			fetch_fail(a, f, "the guest's agent went away");
		else
			fetch_free(a, f);
	}
	for (unsigned int i = 0; i < PVA_CLIP_NR_SELECTIONS; i++) {
		struct clip_sel *s = &a->sel[i];

		s->host_serial = s->guest_serial = 0;
		if (s->owner == OWNER_GUEST) {
			s->owner = OWNER_NONE;
			s->types.n = 0;
			notify_sel(a, i);
		}
	}
	notify_agent(a);
}

void clip_after_hello(struct agent *a)
{
	notify_agent(a);
	if (!(a->features & PVA_AGENT_F_CLIPBOARD))
		return;
	for (unsigned int i = 0; i < PVA_CLIP_NR_SELECTIONS; i++)
		if (a->sel[i].owner == OWNER_HOST)
			send_grab(a, i);
}

void clip_tick(struct agent *a)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	for (struct clip_fetch *f = a->fetches, *next; f; f = next) {
		next = f->next;
		if (!f->client) {
			send_cancel(a, f->transfer);
			fetch_free(a, f);
			continue;
		}
		if (t.tv_sec < f->deadline.tv_sec ||
		    (t.tv_sec == f->deadline.tv_sec &&
		     t.tv_nsec < f->deadline.tv_nsec))
			continue;
		send_cancel(a, f->transfer);
		fetch_fail(a, f, "the guest did not answer in time");
	}
}

void clip_init(struct agent *a)
{
	for (unsigned int i = 0; i < PVA_CLIP_NR_SELECTIONS; i++)
		clock_gettime(CLOCK_REALTIME, &a->sel[i].changed);
}

void clip_free(struct agent *a)
{
	while (a->sends)
		send_free(a, a->sends);
	while (a->fetches) {
		struct clip_fetch *f = a->fetches;

		if (f->client)
			ctl_set_cancel(f->client, NULL, NULL);
		fetch_free(a, f);
	}
	while (a->watches) {
		struct clip_watch *w = a->watches;

		a->watches = w->next;
		ctl_set_cancel(w->client, NULL, NULL);
		free(w);
	}
	for (unsigned int i = 0; i < PVA_CLIP_NR_SELECTIONS; i++)
		sel_drop_host(&a->sel[i]);
}

void clip_status(struct agent *a, struct json_object *obj)
{
	struct json_object *o = json_object_new_object(), *sels;
	const struct clip_stats *st = &a->cstats;

	sels = json_object_new_array();
	for (unsigned int i = 0; i < PVA_CLIP_NR_SELECTIONS; i++)
		json_object_array_add(sels, sel_json(a, i));
	json_object_object_add(o, "selections", sels);
	json_object_object_add(o, "max", json_object_new_int64((int64_t)a->clip_max));
	json_object_object_add(o, "host_grabs", json_object_new_int64((int64_t)st->host_grabs));
	json_object_object_add(o, "guest_grabs", json_object_new_int64((int64_t)st->guest_grabs));
	json_object_object_add(o, "crossed", json_object_new_int64((int64_t)st->crossed));
	json_object_object_add(o, "sent_bytes", json_object_new_int64((int64_t)st->sent_bytes));
	json_object_object_add(o, "sent_transfers", json_object_new_int64((int64_t)st->sent_transfers));
	json_object_object_add(o, "received_bytes", json_object_new_int64((int64_t)st->received_bytes));
	json_object_object_add(o, "fetches", json_object_new_int64((int64_t)st->fetches));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)st->failed));
	json_object_object_add(o, "sending", json_object_new_int64(a->nr_sends));
	json_object_object_add(o, "fetching", json_object_new_int64(a->nr_fetches));
	json_object_object_add(obj, "clipboard", o);
}

/* ---- pva-hostctl ---- */

static int get_sel(struct ctl_client *client, struct json_object *req,
		   unsigned int *sel)
{
	struct json_object *v;
	const char *name;

	*sel = PVA_CLIP_CLIPBOARD;
	if (!json_object_object_get_ex(req, "selection", &v))
		return 0;
	name = json_object_get_string(v);
	for (unsigned int i = 0; i < PVA_CLIP_NR_SELECTIONS; i++) {
		if (name && !strcmp(name, sel_names[i])) {
			*sel = i;
			return 0;
		}
	}
	ctl_reply_error(client, "clipboard: the selection is 'clipboard' or 'primary'");
	return -1;
}

/* "type" of the request, checked, or NULL when absent; -1 after replying. */
static int get_type(struct ctl_client *client, struct json_object *req,
		    const char **type)
{
	struct json_object *v;

	*type = NULL;
	if (!json_object_object_get_ex(req, "type", &v))
		return 0;
	*type = json_object_get_string(v);
	if (!*type || !clip_type_valid(*type, strlen(*type))) {
		ctl_reply_error(client, "clipboard: '%s' is not a MIME type (1-%d printable characters, no spaces)",
				*type ? *type : "", PVA_CLIP_TYPE_MAX);
		return -1;
	}
	return 0;
}

static int cmd_set(struct service *svc, struct ctl_client *client,
		   struct json_object *req)
{
	struct agent *a = svc->priv;
	const char *type;
	struct json_object *v, *o;
	struct clip_sel *s;
	struct blob *b = NULL;
	bool clear = false;
	unsigned int sel;
	struct stat st;
	int fd;

	if (get_sel(client, req, &sel) < 0 || get_type(client, req, &type) < 0)
		return -1;
	if (json_object_object_get_ex(req, "clear", &v))
		clear = json_object_get_boolean(v);
	fd = ctl_take_fd(client);
	if (!clear) {
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			if (fd >= 0)
				close(fd);
			ctl_reply_error(client, "clipboard: set needs the content as a file descriptor (pva-hostctl passes one)");
			return -1;
		}
		if ((uint64_t)st.st_size > a->clip_max) {
			close(fd);
			ctl_reply_error(client, "clipboard: %lld bytes is more than the limit of %llu (pva-host --clipboard-max)",
					(long long)st.st_size,
					(unsigned long long)a->clip_max);
			return -1;
		}
		b = malloc(sizeof(*b) + (size_t)st.st_size + 1);
		if (!b || pread(fd, b->data, (size_t)st.st_size, 0) !=
			  st.st_size) {
			free(b);
			close(fd);
			ctl_reply_error(client, "clipboard: cannot read the content");
			return -1;
		}
		b->refs = 1;
		b->len = (size_t)st.st_size;
	}
	if (fd >= 0)
		close(fd);
	s = &a->sel[sel];
	sel_drop_host(s);
	s->types.n = 0;
	if (clear) {
		s->owner = OWNER_NONE;
	} else {
		s->owner = OWNER_HOST;
		clip_types_add(&s->types, type ? type : "text/plain;charset=utf-8");
		s->host[0] = b;
	}
	a->cstats.host_grabs++;
	if (agent_connected(a) && (a->features & PVA_AGENT_F_CLIPBOARD))
		send_grab(a, sel);
	notify_sel(a, sel);
	o = sel_json(a, sel);
	json_object_object_add(o, "guest_agent",
			       json_object_new_boolean(agent_connected(a)));
	ctl_reply(client, o);
	return 0;
}

static void get_cancelled(struct ctl_client *client, void *data)
{
	struct clip_fetch *f = data;

	(void)client;
	f->client = NULL;	/* the next tick cancels it in the guest */
}

/* The type to fetch: the one asked for, else text, else the first. */
static const char *pick_type(const struct clip_types *t, const char *want)
{
	if (want)
		return clip_types_has(t, want) ? want : NULL;
	if (clip_types_has(t, "text/plain;charset=utf-8"))
		return "text/plain;charset=utf-8";
	return t->n ? t->name[0] : NULL;
}

static int cmd_get(struct service *svc, struct ctl_client *client,
		   struct json_object *req)
{
	struct agent *a = svc->priv;
	uint8_t buf[sizeof(struct pva_clip_request) + PVA_CLIP_TYPE_MAX + 1];
	const char *want, *type;
	struct clip_fetch *f;
	struct clip_sel *s;
	struct json_object *v;
	int64_t timeout = GET_TIMEOUT_MS;
	unsigned int sel, i;
	uint32_t len;
	int fd;

	if (get_sel(client, req, &sel) < 0 || get_type(client, req, &want) < 0)
		return -1;
	if (json_object_object_get_ex(req, "timeout_ms", &v)) {
		timeout = json_object_get_int64(v);
		if (timeout < 10 || timeout > 3600000) {
			ctl_reply_error(client, "clipboard: timeout_ms is 10-3600000");
			return -1;
		}
	}
	s = &a->sel[sel];
	if (s->owner == OWNER_NONE) {
		ctl_reply_error(client, "clipboard: the %s is empty",
				sel_names[sel]);
		return -1;
	}
	type = pick_type(&s->types, want);
	if (!type) {
		char list[1024] = "";

		for (i = 0; i < s->types.n; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
				 "%s%s", i ? ", " : "", s->types.name[i]);
		ctl_reply_error(client, "clipboard: the %s has no %s (it has: %s)",
				sel_names[sel], want, list);
		return -1;
	}
	fd = ctl_take_fd(client);
	if (fd < 0) {
		ctl_reply_error(client, "clipboard: get needs a file descriptor for the content (pva-hostctl passes one)");
		return -1;
	}
	if (s->owner == OWNER_HOST) {
		for (i = 0; i < s->types.n && strcmp(s->types.name[i], type); i++)
			;
		reply_content(client, fd, "host", sel, type, s->host[i]->data,
			      s->host[i]->len);
		close(fd);
		return 0;
	}
	if (!agent_connected(a) || a->nr_fetches >= CLIP_MAX_FETCHES) {
		close(fd);
		ctl_reply_error(client, agent_connected(a) ?
				"clipboard: too many gets at once" :
				"clipboard: the guest's agent is not connected");
		return -1;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		ctl_reply_error(client, "clipboard: out of memory");
		return -1;
	}
	f->transfer = ++a->next_transfer ? a->next_transfer :
					   ++a->next_transfer;
	f->client = client;
	f->fd = fd;
	f->sel = sel;
	snprintf(f->type, sizeof(f->type), "%s", type);
	clip_rx_init(&f->rx, f->transfer, a->clip_max);
	clock_gettime(CLOCK_MONOTONIC, &f->deadline);
	f->deadline.tv_sec += timeout / 1000;
	f->deadline.tv_nsec += (timeout % 1000) * 1000000;
	if (f->deadline.tv_nsec >= 1000000000) {
		f->deadline.tv_sec++;
		f->deadline.tv_nsec -= 1000000000;
	}
	f->next = a->fetches;
	a->fetches = f;
	a->nr_fetches++;
	ctl_set_cancel(client, get_cancelled, f);
	len = clip_request_build(buf, sizeof(buf), sel, s->guest_serial,
				 f->transfer, type);
	agent_send(a, PVA_AGENT_CLIP_REQUEST, buf, len);
	return 0;
}

static void watch_cancelled(struct ctl_client *client, void *data)
{
	struct agent *a = data;
	struct clip_watch **pp = &a->watches;

	while (*pp) {
		struct clip_watch *w = *pp;

		if (w->client == client) {
			*pp = w->next;
			free(w);
			return;
		}
		pp = &w->next;
	}
}

static int cmd_watch(struct service *svc, struct ctl_client *client,
		     struct json_object *req)
{
	struct agent *a = svc->priv;
	struct clip_watch *w = calloc(1, sizeof(*w));
	struct json_object *ev;

	(void)req;
	if (!w) {
		ctl_reply_error(client, "clipboard: out of memory");
		return -1;
	}
	w->client = client;
	w->next = a->watches;
	a->watches = w;
	ctl_set_cancel(client, watch_cancelled, a);
	ev = json_object_new_object();
	json_object_object_add(ev, "event", json_object_new_string("agent"));
	json_object_object_add(ev, "connected",
			       json_object_new_boolean(agent_connected(a)));
	ctl_send(client, ev);
	for (unsigned int i = 0; i < PVA_CLIP_NR_SELECTIONS; i++) {
		ev = sel_json(a, i);
		json_object_object_add(ev, "event",
				       json_object_new_string("owner"));
		ctl_send(client, ev);
	}
	return 0;
}

static int cmd_status(struct service *svc, struct ctl_client *client,
		      struct json_object *req)
{
	struct json_object *o = json_object_new_object();

	(void)req;
	clip_status(svc->priv, o);
	ctl_reply(client, o);
	return 0;
}

const struct ctl_command clip_commands[] = {
	{ "clipboard-set", cmd_set },
	{ "clipboard-get", cmd_get },
	{ "clipboard-watch", cmd_watch },
	{ "clipboard-status", cmd_status },
	{ NULL, NULL },
};
