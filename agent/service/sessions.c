// SPDX-License-Identifier: MIT
/*
 * Desktop sessions as systemd-logind sees them, over D-Bus (sd-bus):
 * the session list with who owns each, its seat, type and whether it is
 * the active one, kept current from logind's signals (SessionNew,
 * SessionRemoved, PropertiesChanged: a VT switch, a lock), and which
 * session a process belongs to (for checking an agent's registration).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <poll.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "loop.h"
#include "service.h"

#define LOGIN1		"org.freedesktop.login1"
#define LOGIN1_PATH	"/org/freedesktop/login1"
#define MANAGER_IFACE	"org.freedesktop.login1.Manager"
#define SESSION_IFACE	"org.freedesktop.login1.Session"
#define MAX_SESSIONS	64

struct sessions {
	struct loop *loop;
	sd_bus *bus;
	struct loop_source *src;
	void (*changed)(void *);
	void *data;
	void (*shutdown)(void *, bool);
	void *shutdown_data;
	bool dirty;		/* refresh before the loop sleeps */
	struct session_info list[MAX_SESSIONS];
	unsigned int n;
};

static int on_signal(sd_bus_message *m, void *data, sd_bus_error *err)
{
	struct sessions *s = data;

	(void)m;
	(void)err;
	s->dirty = true;
	return 0;
}

static int on_prepare_shutdown(sd_bus_message *m, void *data,
			       sd_bus_error *err)
{
	struct sessions *s = data;
	int going = 0;

	(void)err;
	if (sd_bus_message_read(m, "b", &going) > 0 && going && s->shutdown)
		s->shutdown(s->shutdown_data, false);
	return 0;
}

static void get_string(sd_bus *bus, const char *path, const char *prop,
		       char *out, size_t len)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	char *v = NULL;

	out[0] = 0;
	if (sd_bus_get_property_string(bus, LOGIN1, path, SESSION_IFACE, prop,
				       &err, &v) >= 0 && v)
		snprintf(out, len, "%s", v);
	free(v);
	sd_bus_error_free(&err);
}

/* The sessions now, from ListSessions and each one's properties. */
static int refresh(struct sessions *s)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct session_info list[MAX_SESSIONS];
	unsigned int n = 0;
	const char *id, *user, *seat, *path;
	uint32_t uid;
	int r;

	s->dirty = false;
	r = sd_bus_call_method(s->bus, LOGIN1, LOGIN1_PATH, MANAGER_IFACE,
			       "ListSessions", &err, &reply, "");
	if (r < 0) {
		log_warn("logind: ListSessions: %s", err.message ? err.message :
			 strerror(-r));
		sd_bus_error_free(&err);
		return r;
	}
	r = sd_bus_message_enter_container(reply, 'a', "(susso)");
	while (r >= 0 && n < MAX_SESSIONS &&
	       (r = sd_bus_message_read(reply, "(susso)", &id, &uid, &user,
					&seat, &path)) > 0) {
		struct session_info *si = &list[n++];
		int active = 0;

		memset(si, 0, sizeof(*si));
		snprintf(si->id, sizeof(si->id), "%s", id);
		si->uid = uid;
		snprintf(si->user, sizeof(si->user), "%s", user);
		snprintf(si->seat, sizeof(si->seat), "%s", seat);
		if (sd_bus_get_property_trivial(s->bus, LOGIN1, path,
						SESSION_IFACE, "Active", &err,
						'b', &active) < 0)
			sd_bus_error_free(&err);
		si->active = active;
		get_string(s->bus, path, "Type", si->type, sizeof(si->type));
		get_string(s->bus, path, "Desktop", si->desktop,
			   sizeof(si->desktop));
	}
	sd_bus_message_unref(reply);
	if (r < 0) {
		log_warn("logind: ListSessions answer: %s", strerror(-r));
		return r;
	}
	if (n != s->n || memcmp(list, s->list, n * sizeof(list[0]))) {
		memcpy(s->list, list, n * sizeof(list[0]));
		s->n = n;
		for (unsigned int i = 0; i < n; i++)
			log_debug("logind: session %s of %s (uid %u), seat %s, %s%s",
				  list[i].id, list[i].user, (unsigned)list[i].uid,
				  list[i].seat[0] ? list[i].seat : "-",
				  list[i].type, list[i].active ? ", active" : "");
		s->changed(s->data);
	}
	return 0;
}

static void bus_event(struct loop *loop, int fd, uint32_t events,
		      void *data)
{
	struct sessions *s = data;

	(void)loop;
	(void)fd;
	(void)events;
	while (sd_bus_process(s->bus, NULL) > 0)
		;
}

/* Before the loop sleeps: refresh if logind said something, and wait for
 * what sd-bus wants next.
 */
static int prepare(struct loop *loop, void *data)
{
	struct sessions *s = data;
	uint64_t usec;
	int ev, timeout = -1;

	(void)loop;
	while (sd_bus_process(s->bus, NULL) > 0)
		;
	if (s->dirty) {
		refresh(s);
		while (sd_bus_process(s->bus, NULL) > 0)
			;
	}
	ev = sd_bus_get_events(s->bus);
	loop_mod_fd(s->src, (ev & POLLIN ? EPOLLIN : 0) |
			    (ev & POLLOUT ? EPOLLOUT : 0));
	if (sd_bus_get_timeout(s->bus, &usec) >= 0 && usec != UINT64_MAX) {
		struct timespec now;
		uint64_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		n = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
		timeout = usec <= n ? 0 : (int)((usec - n + 999) / 1000);
	}
	return timeout;
}

struct sessions *sessions_open(struct loop *loop, void (*changed)(void *),
			       void *data)
{
	struct sessions *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return NULL;
	s->loop = loop;
	s->changed = changed;
	s->data = data;
	r = sd_bus_open_system(&s->bus);
	if (r < 0) {
		log_info("logind: no system bus (%s)", strerror(-r));
		free(s);
		return NULL;
	}
	r = sd_bus_match_signal(s->bus, NULL, LOGIN1, LOGIN1_PATH,
				MANAGER_IFACE, "SessionNew", on_signal, s);
	if (r >= 0)
		r = sd_bus_match_signal(s->bus, NULL, LOGIN1, LOGIN1_PATH,
					MANAGER_IFACE, "SessionRemoved",
					on_signal, s);
	if (r >= 0)
		r = sd_bus_add_match(s->bus, NULL,
				     "type='signal',sender='" LOGIN1 "',"
				     "interface='org.freedesktop.DBus.Properties',"
				     "member='PropertiesChanged',"
				     "path_namespace='" LOGIN1_PATH "'",
				     on_signal, s);
	if (r >= 0)
		r = sd_bus_match_signal(s->bus, NULL, LOGIN1, LOGIN1_PATH,
					MANAGER_IFACE, "PrepareForShutdown",
					on_prepare_shutdown, s);
	if (r < 0 || refresh(s) < 0) {
		log_info("logind: not available (%s)", strerror(r < 0 ? -r : EIO));
		sd_bus_flush_close_unref(s->bus);
		free(s);
		return NULL;
	}
	s->src = loop_add_fd(loop, sd_bus_get_fd(s->bus), EPOLLIN, bus_event, s);
	if (!s->src) {
		sd_bus_flush_close_unref(s->bus);
		free(s);
		return NULL;
	}
	loop_set_prepare(loop, prepare, s);
	log_info("logind: %u sessions", s->n);
	return s;
}

void sessions_close(struct sessions *s)
{
	if (!s)
		return;
	loop_set_prepare(s->loop, NULL, NULL);
	loop_remove(s->src);
	sd_bus_flush_close_unref(s->bus);
	free(s);
}

bool sessions_get(struct sessions *s, const char *id,
		  struct session_info *out)
{
	for (unsigned int i = 0; s && i < s->n; i++) {
		if (!strcmp(s->list[i].id, id)) {
			*out = s->list[i];
			return true;
		}
	}
	return false;
}

bool sessions_of_pid(struct sessions *s, pid_t pid, char *id, size_t len)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	bool ok = false;

	if (!s)
		return false;
	if (sd_bus_call_method(s->bus, LOGIN1, LOGIN1_PATH, MANAGER_IFACE,
			       "GetSessionByPID", &err, &reply, "u",
			       (uint32_t)pid) >= 0 &&
	    sd_bus_message_read(reply, "o", &path) > 0) {
		char *v = NULL;

		if (sd_bus_get_property_string(s->bus, LOGIN1, path,
					       SESSION_IFACE, "Id", &err,
					       &v) >= 0 && v) {
			snprintf(id, len, "%s", v);
			ok = true;
		}
		free(v);
	}
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	return ok;
}

bool sessions_user_graphical(struct sessions *s, uid_t uid, char *id,
			     size_t len)
{
	const struct session_info *best = NULL;

	for (unsigned int i = 0; s && i < s->n; i++) {
		const struct session_info *si = &s->list[i];

		if (si->uid != uid || (strcmp(si->type, "x11") &&
				       strcmp(si->type, "wayland")))
			continue;
		if (!best || (si->active && !best->active))
			best = si;
	}
	if (best)
		snprintf(id, len, "%s", best->id);
	return best != NULL;
}

void sessions_describe(struct sessions *s, char *out, size_t len,
		       char *users, size_t ulen)
{
	size_t o = 0, u = 0;

	out[0] = users[0] = 0;
	for (unsigned int i = 0; s && i < s->n; i++) {
		const struct session_info *si = &s->list[i];
		bool seen = false;

		o += (size_t)snprintf(out + o, o < len ? len - o : 0,
				      "%s%s:%s:%s:%s:%s", i ? "," : "", si->id,
				      si->user, si->type,
				      si->seat[0] ? si->seat : "-",
				      si->active ? "active" : "online");
		for (unsigned int j = 0; j < i; j++)
			seen |= s->list[j].uid == si->uid;
		if (!seen)
			u += (size_t)snprintf(users + u, u < ulen ? ulen - u : 0,
					      "%s%s", u ? "," : "", si->user);
	}
	if (o >= len)
		out[len - 1] = 0;
	if (u >= ulen)
		users[ulen - 1] = 0;
}

int sessions_power(struct sessions *s, bool reboot)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	int r;

	if (!s)
		return -ENOTCONN;
	r = sd_bus_call_method(s->bus, LOGIN1, LOGIN1_PATH, MANAGER_IFACE,
			       reboot ? "Reboot" : "PowerOff", &err, NULL, "b",
			       0);
	if (r < 0)
		log_warn("logind: %s: %s", reboot ? "Reboot" : "PowerOff",
			 err.message ? err.message : strerror(-r));
	sd_bus_error_free(&err);
	return r < 0 ? r : 0;
}

void sessions_on_shutdown(struct sessions *s, void (*fn)(void *, bool),
			  void *data)
{
	if (!s)
		return;
	s->shutdown = fn;
	s->shutdown_data = data;
}

unsigned int sessions_count(struct sessions *s)
{
	return s ? s->n : 0;
}
