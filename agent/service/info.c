// SPDX-License-Identifier: MIT
/*
 * Guest information for the host (protocol/PROTOCOL.md 6.8.5): the OS
 * from os-release, the kernel and architecture from uname, the host name,
 * pva-service's version, the sessions and users, the network interfaces
 * and their addresses, the pva modules and the features that work, the
 * uptime. Sent after every HELLO, and again whenever it changed: at once
 * for sessions and addresses (logind, netlink), within 10 s otherwise.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "loop.h"
#include "service.h"

#define RECHECK_MS	10000	/* modules and the like: no event for them */

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

/* Each interface but lo: its MAC, IPv4 and IPv6 addresses. */
static void add_net(struct info_buf *b)
{
	struct ifaddrs *ifa, *i;
	char names[32][IF_NAMESIZE];
	unsigned int n = 0;

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		bool seen = false;

		if (!i->ifa_name || !strcmp(i->ifa_name, "lo"))
			continue;
		for (unsigned int k = 0; k < n; k++)
			seen |= !strcmp(names[k], i->ifa_name);
		if (!seen && n < 32)
			snprintf(names[n++], IF_NAMESIZE, "%s", i->ifa_name);
	}
	for (unsigned int k = 0; k < n; k++) {
		char v4[512] = "", v6[512] = "", mac[32] = "", key[64];
		size_t o4 = 0, o6 = 0;

		for (i = ifa; i; i = i->ifa_next) {
			char a[INET6_ADDRSTRLEN];
			int plen = 0;

			if (!i->ifa_addr || strcmp(i->ifa_name, names[k]))
				continue;
			if (i->ifa_addr->sa_family == AF_PACKET) {
				const struct sockaddr_ll *ll =
					(const void *)i->ifa_addr;

				if (ll->sll_halen == 6)
					snprintf(mac, sizeof(mac),
						 "%02x:%02x:%02x:%02x:%02x:%02x",
						 ll->sll_addr[0], ll->sll_addr[1],
						 ll->sll_addr[2], ll->sll_addr[3],
						 ll->sll_addr[4], ll->sll_addr[5]);
				continue;
			}
			if (i->ifa_addr->sa_family == AF_INET) {
				const struct sockaddr_in *sa = (const void *)i->ifa_addr;
				const struct sockaddr_in *nm = (const void *)i->ifa_netmask;

				inet_ntop(AF_INET, &sa->sin_addr, a, sizeof(a));
				plen = nm ? __builtin_popcount(nm->sin_addr.s_addr) : 32;
				o4 += (size_t)snprintf(v4 + o4, o4 < sizeof(v4) ?
						       sizeof(v4) - o4 : 0,
						       "%s%s/%d", o4 ? "," : "",
						       a, plen);
			} else if (i->ifa_addr->sa_family == AF_INET6) {
				const struct sockaddr_in6 *sa = (const void *)i->ifa_addr;
				const struct sockaddr_in6 *nm = (const void *)i->ifa_netmask;

				inet_ntop(AF_INET6, &sa->sin6_addr, a, sizeof(a));
				for (int w = 0; nm && w < 16; w++)
					plen += __builtin_popcount(nm->sin6_addr.s6_addr[w]);
				o6 += (size_t)snprintf(v6 + o6, o6 < sizeof(v6) ?
						       sizeof(v6) - o6 : 0,
						       "%s%s/%d", o6 ? "," : "",
						       a, plen);
			}
		}
		if (mac[0]) {
			snprintf(key, sizeof(key), "net.%.15s.mac", names[k]);
			add(b, key, mac);
		}
		if (v4[0]) {
			snprintf(key, sizeof(key), "net.%.15s.ipv4", names[k]);
			add(b, key, v4);
		}
		if (v6[0]) {
			snprintf(key, sizeof(key), "net.%.15s.ipv6", names[k]);
			add(b, key, v6);
		}
	}
	freeifaddrs(ifa);
}

static bool module_version(const char *name, char *out, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/version", name);
	f = fopen(path, "r");
	if (!f) {
		snprintf(path, sizeof(path), "/sys/module/%s", name);
		if (access(path, F_OK))
			return false;
		snprintf(out, len, "?");
		return true;
	}
	if (!fgets(out, (int)len, f))
		snprintf(out, len, "?");
	out[strcspn(out, "\n")] = 0;
	fclose(f);
	return true;
}

/* The pva modules loaded, and the features that work. */
static void add_pva(struct info_buf *b, struct svc *s)
{
	static const char *const mods[][2] = {
		{ "pva_core", NULL }, { "pva_balloon", "balloon" },
		{ "pva_sf", "sf" }, { "pva_drm", "display" },
	};
	char list[256] = "", feats[128] = "", v[32];
	size_t ol = 0, of = 0;

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		char drv[128];
		DIR *d;
		struct dirent *e;
		bool bound = false;

		if (!module_version(mods[i][0], v, sizeof(v)))
			continue;
		ol += (size_t)snprintf(list + ol, ol < sizeof(list) ?
				       sizeof(list) - ol : 0, "%s%s=%s",
				       ol ? "," : "", mods[i][0], v);
		if (!mods[i][1])
			continue;
		snprintf(drv, sizeof(drv), "/sys/bus/auxiliary/drivers/%s",
			 mods[i][0]);
		d = opendir(drv);
		while (d && (e = readdir(d)))
			bound |= !strncmp(e->d_name, "pva_core.", 9);
		if (d)
			closedir(d);
		if (bound)
			of += (size_t)snprintf(feats + of, of < sizeof(feats) ?
					       sizeof(feats) - of : 0, "%s%s",
					       of ? "," : "", mods[i][1]);
	}
	if (channel_up(s->ch))
		of += (size_t)snprintf(feats + of, of < sizeof(feats) ?
				       sizeof(feats) - of : 0, "%sagent",
				       of ? "," : "");
	add(b, "pva.modules", list);
	add(b, "features", feats);
}

/* The information now; uptime last, so the rest can be compared. */
static struct info_buf *collect(struct svc *s, size_t *stable_len)
{
	struct info_buf *b;
	struct utsname u;
	struct session_info si;
	struct sysinfo sys;
	char host[256], num[32], list[2048], users[512];
	unsigned int agents = 0;

	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
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
	if (s->sessions) {
		sessions_describe(s->sessions, list, sizeof(list), users,
				  sizeof(users));
		add(b, "users", users);
		add(b, "sessions.list", list);
	}
	add_net(b);
	add_pva(b, s);
	*stable_len = b->len;
	if (!sysinfo(&sys)) {
		snprintf(num, sizeof(num), "%ld", sys.uptime);
		add(b, "uptime", num);
	}
	return b;
}

static char *last_sent;		/* the comparable part of the last INFO */
static size_t last_len;

static void send_if(struct svc *s, bool force)
{
	struct info_buf *b;
	size_t stable;

	if (!channel_up(s->ch) || !(channel_features(s->ch) & PVA_AGENT_F_INFO) ||
	    control_frozen(s))
		return;
	b = collect(s, &stable);
	if (!b)
		return;
	if (force || stable != last_len || memcmp(b->data, last_sent, stable)) {
		char *copy = malloc(stable ? stable : 1);

		if (copy) {
			memcpy(copy, b->data, stable);
			free(last_sent);
			last_sent = copy;
			last_len = stable;
		}
		channel_send(s->ch, PVA_AGENT_INFO, b->data, (uint32_t)b->len);
	}
	free(b);
}

void info_send(struct svc *s)
{
	send_if(s, true);
}

/* ---- changes without an event of their own: netlink, a timer ---- */

static int nl_fd = -1;
static struct loop_source *nl_src, *recheck;

static void nl_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	char buf[8192];

	(void)loop;
	(void)events;
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	send_if(data, false);
}

static void recheck_tick(struct loop *loop, int fd, uint32_t events,
			 void *data)
{
	uint64_t n;

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	send_if(data, false);
}

void info_watch(struct svc *s)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	};

	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       NETLINK_ROUTE);
	if (nl_fd >= 0 && bind(nl_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		nl_src = loop_add_fd(s->loop, nl_fd, EPOLLIN, nl_event, s);
	else
		log_info("no netlink: address changes are noticed within %d s",
			 RECHECK_MS / 1000);
	recheck = loop_add_timer(s->loop, RECHECK_MS, recheck_tick, s);
}

void info_unwatch(void)
{
	if (nl_src)
		loop_remove(nl_src);
	if (nl_fd >= 0)
		close(nl_fd);
	if (recheck)
		loop_remove(recheck);
	nl_src = recheck = NULL;
	nl_fd = -1;
	free(last_sent);
	last_sent = NULL;
}
