// SPDX-License-Identifier: MIT
/*
 * Guest information for the host (protocol/PROTOCOL.md 6.8.5): the OS
 * from os-release, the kernel and architecture from uname, the host name,
 * pva-service's version, and the active desktop session. Sent after
 * every HELLO and whenever the sessions change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "service.h"

struct info_buf {
	char data[PVA_AGENT_INFO_MAX];
	size_t len;
};

/* key=value, with what the protocol does not allow in a value dropped. */
static void add(struct info_buf *b, const char *key, const char *value)
{
	char clean[PVA_AGENT_INFO_VALUE_MAX + 1];
	size_t n = 0, klen = strlen(key);

	for (const char *p = value; *p && n < PVA_AGENT_INFO_VALUE_MAX; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			clean[n++] = *p;
	clean[n] = 0;
	/* a multi-byte character cut at the end, or invalid UTF-8: the
	 * host would drop the entry, so shorten until it is valid
	 */
	while (n && !agent_info_value_valid(clean, n))
		clean[--n] = 0;
	if (b->len + klen + n + 2 > sizeof(b->data))
		return;
	memcpy(b->data + b->len, key, klen);
	b->data[b->len + klen] = '=';
	memcpy(b->data + b->len + klen + 1, clean, n + 1);
	b->len += klen + n + 2;
}

/* One field of an os-release file, unquoted. */
static bool os_field(const char *line, const char *name, char *out,
		     size_t len)
{
	size_t nl = strlen(name), n;
	const char *v;

	if (strncmp(line, name, nl) || line[nl] != '=')
		return false;
	v = line + nl + 1;
	n = strcspn(v, "\n");
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v++;
		n -= 2;
	}
	snprintf(out, len, "%.*s", (int)n, v);
	return true;
}

static void add_os(struct info_buf *b)
{
	static const char *const keys[][2] = {
		{ "ID", "os.id" }, { "NAME", "os.name" },
		{ "VERSION_ID", "os.version" },
		{ "PRETTY_NAME", "os.pretty_name" },
	};
	FILE *f = fopen("/etc/os-release", "r");
	char line[512], v[512];

	if (!f)
		f = fopen("/usr/lib/os-release", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (os_field(line, keys[i][0], v, sizeof(v)))
				add(b, keys[i][1], v);
	fclose(f);
}

void info_send(struct svc *s)
{
	struct info_buf *b;
	struct utsname u;
	struct session_info si;
	char host[256], num[32];
	unsigned int agents = 0;

	if (!channel_up(s->ch) || !(channel_features(s->ch) & PVA_AGENT_F_INFO))
		return;
	b = calloc(1, sizeof(*b));
	if (!b)
		return;
	add_os(b);
	if (!uname(&u)) {
		add(b, "kernel.release", u.release);
		add(b, "kernel.version", u.version);
		add(b, "arch", u.machine);
	}
	if (!gethostname(host, sizeof(host))) {
		host[sizeof(host) - 1] = 0;
		add(b, "hostname", host);
	}
	add(b, "agent.version", PVA_SERVICE_VERSION);
	for (struct agent_conn *c = s->agents; c; c = c->next)
		agents += c->registered;
	snprintf(num, sizeof(num), "%u", agents);
	add(b, "sessions", num);
	add(b, "session.agent", s->active ? "yes" : "no");
	if (s->active) {
		struct agent_conn *c = s->active;

		add(b, "session.id", c->session);
		add(b, "session.user", c->user);
		add(b, "session.type", c->kind);
		if (sessions_get(s->sessions, c->session, &si) && si.desktop[0])
			add(b, "session.desktop", si.desktop);
		else if (c->desktop[0])
			add(b, "session.desktop", c->desktop);
	}
	channel_send(s->ch, PVA_AGENT_INFO, b->data, (uint32_t)b->len);
	free(b);
}
