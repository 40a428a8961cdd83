// SPDX-License-Identifier: MIT
/*
 * Guest information (protocol/PROTOCOL.md 6.8.5), Windows' version of
 * it: the product and version (RtlGetVersion, which the compatibility
 * shims do not lie to, and the registry's names for it), the build as
 * kernel.release, the architecture, the host name, the console session
 * and its user, the sessions, the network adapters, the uptime. Sent
 * after every HELLO and again when something in it changed (checked on
 * every session change and every 10 s).
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <iphlpapi.h>
#include <wtsapi32.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define RECHECK_MS	10000

struct info {
	struct agent *a;
	char *last;		/* the comparable part of the last INFO sent */
	size_t last_len;
	ULONGLONG checked;
};

struct buf {
	char data[PVA_AGENT_INFO_MAX];
	size_t len;
};

/* key=value; what a value may not hold is dropped, as on Linux. */
static void add(struct buf *b, const char *key, const char *value)
{
	char clean[PVA_AGENT_INFO_VALUE_MAX + 1];
	size_t n = 0, klen = strlen(key);

	if (!agent_info_key_valid(key, klen))
		return;
	for (const char *p = value; *p && n < PVA_AGENT_INFO_VALUE_MAX; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			clean[n++] = *p;
	clean[n] = 0;
	while (n && !agent_info_value_valid(clean, n))
		clean[--n] = 0;
	if (b->len + klen + n + 2 > sizeof(b->data))
		return;
	memcpy(b->data + b->len, key, klen);
	b->data[b->len + klen] = '=';
	memcpy(b->data + b->len + klen + 1, clean, n + 1);
	b->len += klen + n + 2;
}

static bool reg_string(const wchar_t *name, char *out, size_t len)
{
	wchar_t v[256];
	DWORD size = sizeof(v);

	if (RegGetValueW(HKEY_LOCAL_MACHINE,
			 L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
			 name, RRF_RT_REG_SZ, NULL, v, &size))
		return false;
	snprintf(out, len, "%s", wstr(v));
	return out[0] != 0;
}

static bool reg_dword(const wchar_t *name, DWORD *out)
{
	DWORD size = sizeof(*out);

	return !RegGetValueW(HKEY_LOCAL_MACHINE,
			     L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
			     name, RRF_RT_REG_DWORD, NULL, out, &size);
}

typedef LONG (WINAPI *rtl_get_version_fn)(OSVERSIONINFOEXW *);

static void add_os(struct buf *b)
{
	OSVERSIONINFOEXW v = { .dwOSVersionInfoSize = sizeof(v) };
	rtl_get_version_fn get = (rtl_get_version_fn)(void (*)(void))
		GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "RtlGetVersion");
	char product[256] = "Windows", display[64] = "", edition[64] = "";
	char s[512];
	DWORD ubr = 0;
	bool have_ubr = reg_dword(L"UBR", &ubr);
	char *ten;

	if (!get || get(&v))
		GetVersionExW((OSVERSIONINFOW *)&v);
	reg_string(L"ProductName", product, sizeof(product));
	if (!reg_string(L"DisplayVersion", display, sizeof(display)))
		reg_string(L"ReleaseId", display, sizeof(display));
	reg_string(L"EditionID", edition, sizeof(edition));
	/* Windows 11 still calls itself "Windows 10" in the registry */
	ten = strstr(product, "Windows 10");
	if (v.dwMajorVersion == 10 && v.dwBuildNumber >= 22000 && ten)
		ten[9] = '1';
	add(b, "os.id", "windows");
	add(b, "os.name", "Windows");
	snprintf(s, sizeof(s), "%lu.%lu", v.dwMajorVersion, v.dwMinorVersion);
	add(b, "os.version", s);
	snprintf(s, sizeof(s), "%s%s%s", product, display[0] ? " " : "", display);
	add(b, "os.pretty_name", s);
	if (edition[0])
		add(b, "os.edition", edition);
	if (have_ubr)
		snprintf(s, sizeof(s), "%lu.%lu", v.dwBuildNumber, ubr);
	else
		snprintf(s, sizeof(s), "%lu", v.dwBuildNumber);
	add(b, "kernel.release", s);
	snprintf(s, sizeof(s), "%lu.%lu.%lu%s%s", v.dwMajorVersion,
		 v.dwMinorVersion, v.dwBuildNumber, v.szCSDVersion[0] ? " " : "",
		 wstr(v.szCSDVersion));
	add(b, "kernel.version", s);
}

static void add_arch(struct buf *b)
{
	SYSTEM_INFO si;

	GetNativeSystemInfo(&si);
	/* the names uname -m uses, so both guests read the same */
	switch (si.wProcessorArchitecture) {
	case PROCESSOR_ARCHITECTURE_AMD64:
		add(b, "arch", "x86_64");
		break;
	case PROCESSOR_ARCHITECTURE_ARM64:
		add(b, "arch", "aarch64");
		break;
	case PROCESSOR_ARCHITECTURE_INTEL:
		add(b, "arch", "i686");
		break;
	default:
		add(b, "arch", "unknown");
	}
}

static void add_host(struct buf *b)
{
	wchar_t name[256];
	DWORD n = 256;

	if (GetComputerNameExW(ComputerNamePhysicalDnsHostname, name, &n)) {
		add(b, "hostname", wstr(name));
		return;
	}
	n = 256;
	if (GetComputerNameW(name, &n))
		add(b, "hostname", wstr(name));
}

static void add_sessions(struct buf *b)
{
	WTS_SESSION_INFOW *list = NULL;
	DWORD count = 0;
	char users[512] = "", all[2048] = "", user[256], s[64];
	size_t ou = 0, oa = 0;

	snprintf(s, sizeof(s), "%lu", session_id());
	add(b, "session.id", s);
	session_console_user(user, sizeof(user));
	if (user[0])
		add(b, "session.user", user);
	add(b, "session.type", session_kind());
	add(b, "session.agent", "yes");
	add(b, "sessions", "1");	/* one agent per session: this one */
	if (!WTSEnumerateSessionsW(WTS_CURRENT_SERVER_HANDLE, 0, 1, &list,
				   &count))
		return;
	for (DWORD i = 0; i < count; i++) {
		static const char *const states[] = {
			"active", "connected", "connectquery", "shadow",
			"disconnected", "idle", "listen", "reset", "down", "init",
		};
		wchar_t *u = NULL;
		DWORD n;
		const char *name = "";

		if (WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE,
						list[i].SessionId, WTSUserName,
						&u, &n) && u)
			name = wstr(u);
		if (name[0]) {
			if (!strstr(users, name))
				ou += (size_t)snprintf(users + ou, ou < sizeof(users) ?
						       sizeof(users) - ou : 0, "%s%s",
						       ou ? "," : "", name);
			oa += (size_t)snprintf(all + oa, oa < sizeof(all) ?
					       sizeof(all) - oa : 0,
					       "%s%lu:%s:%s:-:%s", oa ? "," : "",
					       list[i].SessionId, name,
					       list[i].SessionId == WTSGetActiveConsoleSessionId() ?
					       "console" : "rdp",
					       (unsigned int)list[i].State < 10 ?
					       states[list[i].State] : "?");
		}
		if (u)
			WTSFreeMemory(u);
	}
	WTSFreeMemory(list);
	if (users[0])
		add(b, "users", users);
	if (all[0])
		add(b, "sessions.list", all);
}

/* An adapter's name as a key part: "Ethernet 2" -> "ethernet_2". */
static void key_name(const wchar_t *friendly, char *out, size_t len)
{
	const char *s = wstr(friendly);
	size_t n = 0;

	for (; *s && n + 1 < len && n < 24; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			c = '_';
		out[n++] = c;
	}
	out[n] = 0;
}

static void add_net(struct buf *b)
{
	ULONG size = 32768;
	IP_ADAPTER_ADDRESSES *list = malloc(size), *ad;
	ULONG r = list ? GetAdaptersAddresses(AF_UNSPEC,
					      GAA_FLAG_SKIP_ANYCAST |
					      GAA_FLAG_SKIP_MULTICAST |
					      GAA_FLAG_SKIP_DNS_SERVER,
					      NULL, list, &size) : ERROR_NOT_ENOUGH_MEMORY;

	if (r == ERROR_BUFFER_OVERFLOW) {
		free(list);
		list = malloc(size);
		r = list ? GetAdaptersAddresses(AF_UNSPEC, GAA_FLAG_SKIP_ANYCAST |
						GAA_FLAG_SKIP_MULTICAST |
						GAA_FLAG_SKIP_DNS_SERVER, NULL,
						list, &size) : ERROR_NOT_ENOUGH_MEMORY;
	}
	for (ad = r == NO_ERROR ? list : NULL; ad; ad = ad->Next) {
		char name[32], key[64], v4[512] = "", v6[512] = "", mac[32] = "";
		size_t o4 = 0, o6 = 0;

		if (ad->IfType == IF_TYPE_SOFTWARE_LOOPBACK)
			continue;
		key_name(ad->FriendlyName, name, sizeof(name));
		if (!name[0])
			continue;
		if (ad->PhysicalAddressLength == 6)
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
				 ad->PhysicalAddress[0], ad->PhysicalAddress[1],
				 ad->PhysicalAddress[2], ad->PhysicalAddress[3],
				 ad->PhysicalAddress[4], ad->PhysicalAddress[5]);
		for (IP_ADAPTER_UNICAST_ADDRESS *u = ad->FirstUnicastAddress; u;
		     u = u->Next) {
			wchar_t wa[INET6_ADDRSTRLEN + 16];
			DWORD wl = INET6_ADDRSTRLEN + 16;
			const char *a;

			/* needs WSAStartup: main() did it */
			if (WSAAddressToStringW(u->Address.lpSockaddr,
						(DWORD)u->Address.iSockaddrLength,
						NULL, wa, &wl))
				continue;
			/* an IPv6 address may come with its %scope */
			if (wcschr(wa, L'%'))
				*wcschr(wa, L'%') = 0;
			a = wstr(wa);
			if (u->Address.lpSockaddr->sa_family == AF_INET)
				o4 += (size_t)snprintf(v4 + o4, o4 < sizeof(v4) ?
						       sizeof(v4) - o4 : 0, "%s%s/%u",
						       o4 ? "," : "", a,
						       u->OnLinkPrefixLength);
			else
				o6 += (size_t)snprintf(v6 + o6, o6 < sizeof(v6) ?
						       sizeof(v6) - o6 : 0, "%s%s/%u",
						       o6 ? "," : "", a,
						       u->OnLinkPrefixLength);
		}
		if (mac[0]) {
			snprintf(key, sizeof(key), "net.%s.mac", name);
			add(b, key, mac);
		}
		if (v4[0]) {
			snprintf(key, sizeof(key), "net.%s.ipv4", name);
			add(b, key, v4);
		}
		if (v6[0]) {
			snprintf(key, sizeof(key), "net.%s.ipv6", name);
			add(b, key, v6);
		}
	}
	free(list);
}

/* The information now; uptime last, so the rest can be compared. */
static struct buf *collect(struct info *in, size_t *stable)
{
	struct buf *b = calloc(1, sizeof(*b));
	char s[64], feats[64];

	if (!b)
		return NULL;
	add_os(b);
	add_arch(b);
	add_host(b);
	add(b, "agent.version", PVA_VERSION);
	add_sessions(b);
	add_net(b);
	snprintf(feats, sizeof(feats), "agent%s%s",
		 in->a->opt.clipboard ? ",clipboard" : "",
		 in->a->opt.display ? ",display" : "");
	add(b, "features", feats);
	*stable = b->len;
	snprintf(s, sizeof(s), "%llu", (unsigned long long)(GetTickCount64() / 1000));
	add(b, "uptime", s);
	return b;
}

void info_send(struct info *in, bool force)
{
	struct buf *b;
	size_t stable;

	if (!in || !(channel_features(in->a->ch) & PVA_AGENT_F_INFO))
		return;
	in->checked = GetTickCount64();
	b = collect(in, &stable);
	if (!b)
		return;
	if (force || stable != in->last_len || memcmp(b->data, in->last, stable)) {
		char *copy = malloc(stable ? stable : 1);

		if (copy) {
			memcpy(copy, b->data, stable);
			free(in->last);
			in->last = copy;
			in->last_len = stable;
		}
		if (!force)
			log_info("guest information changed: INFO again");
		channel_send(in->a->ch, PVA_AGENT_INFO, b->data, (uint32_t)b->len);
	}
	free(b);
}

void info_tick(struct info *in)
{
	/* nothing tells us about a new address or host name: look */
	if (in && GetTickCount64() - in->checked >= RECHECK_MS)
		info_send(in, false);
}

struct info *info_new(struct agent *a)
{
	struct info *in = calloc(1, sizeof(*in));

	if (in)
		in->a = a;
	return in;
}

void info_free(struct info *in)
{
	if (!in)
		return;
	free(in->last);
	free(in);
}
