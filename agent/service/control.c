// SPDX-License-Identifier: MIT
/*
 * Guest control (protocol/PROTOCOL.md 6.8.7), done here in pva-service
 * rather than in the kernel: setting the clock is a policy decision of the
 * system (step or slew, defer to NTP), shutdown goes through logind, and
 * freezing runs the administrator's hooks; all of it is userspace's job.
 *
 *  - time: on TIME_SYNC, a few TIME_QUERY round trips; the best sample's
 *    offset steps the clock (clock_settime) above the threshold, slews it
 *    (adjtime) below, or is left to a running NTP client if so configured;
 *  - power: POWER through logind (or the init's poweroff/reboot without
 *    it); GUEST_STATE when the system goes down;
 *  - fsfreeze: hooks, then FIFREEZE of every writable local filesystem,
 *    an automatic thaw after the timeout.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "service.h"

extern char **environ;

#define SAMPLES		5
#define QUERY_TIMEOUT_MS 2000
#define MAX_FROZEN	32
#define HOOK_TIMEOUT_S	60
#define DEFAULT_THAW_S	60

struct frozen_fs {
	char path[512];
	char type[64];
};

struct control {
	struct svc *svc;
	struct loop_source *timer;	/* 100 ms: timeouts */
	/* time sync in progress */
	bool syncing;
	uint32_t reason;
	unsigned int sample;
	uint32_t query_id;
	int64_t sent_real, sent_mono;
	int64_t best_rtt, best_offset;
	/* filesystem freeze */
	struct frozen_fs frozen[MAX_FROZEN];
	unsigned int nr_frozen;
	int64_t thaw_at_mono;	/* ms */
	bool reported_down;
};

static int64_t ns_of(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static int64_t mono_ms(void)
{
	return ns_of(CLOCK_MONOTONIC) / 1000000;
}

static struct control *ctl_of(struct svc *s)
{
	return s->control;
}

/* ---- time ---- */

/* An NTP client runs: chronyd, ntpd, systemd-timesyncd, openntpd. */
static bool ntp_runs(void)
{
	static const char *const names[] = {
		"chronyd", "ntpd", "systemd-timesyn", "openntpd",
	};
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			found |= !strcmp(comm, names[i]);
	}
	if (d)
		closedir(d);
	return found;
}

static void time_report(struct control *c, uint32_t action, uint32_t status,
			bool ntp)
{
	struct pva_agent_time_status ts = {
		.reason = pva_cpu32(c->reason),
		.action = pva_cpu32(action),
		.offset_ns = pva_cpu64((uint64_t)c->best_offset),
		.rtt_ns = pva_cpu64((uint64_t)c->best_rtt),
		.threshold_ns = pva_cpu64(c->svc->opt.time_threshold_ms * 1000000),
		.ntp = pva_cpu32(ntp),
		.status = pva_cpu32(status),
	};

	channel_send(c->svc->ch, PVA_AGENT_TIME_STATUS, &ts, sizeof(ts));
}

static void time_apply(struct control *c)
{
	const struct svc_options *o = &c->svc->opt;
	int64_t off = c->best_offset;
	int64_t mag = off < 0 ? -off : off;
	bool ntp = ntp_runs();
	uint32_t action = PVA_TIME_NONE, status = PVA_S_OK;

	c->syncing = false;
	if (!o->time_sync || (ntp && o->time_yield_ntp)) {
		action = PVA_TIME_YIELDED;
		if (mag >= (int64_t)o->time_threshold_ms * 1000000)
			log_info("time: the clock is %+.3f s off; left to %s",
				 (double)off / 1e9, ntp ? "NTP" : "the system");
	} else if (mag >= (int64_t)o->time_threshold_ms * 1000000) {
		struct timespec now;
		int64_t t;

		clock_gettime(CLOCK_REALTIME, &now);
		t = (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec + off;
		now.tv_sec = t / 1000000000ll;
		now.tv_nsec = t % 1000000000ll;
		if (clock_settime(CLOCK_REALTIME, &now) < 0) {
			log_err("time: cannot step the clock: %s", strerror(errno));
			action = PVA_TIME_FAILED;
			status = PVA_S_EPERM;
		} else {
			action = PVA_TIME_STEPPED;
			log_notice("time: stepped the clock by %+.3f s (%s)",
				   (double)off / 1e9,
				   c->reason == PVA_TIME_REASON_RESUME ?
				   "the host resumed" : "the host's time");
		}
	} else if (mag > 1000000) {	/* below 1 ms: leave it */
		struct timeval tv = {
			.tv_sec = off / 1000000000ll,
			.tv_usec = (off % 1000000000ll) / 1000,
		};

		if (adjtime(&tv, NULL) < 0) {
			log_err("time: cannot slew the clock: %s", strerror(errno));
			action = PVA_TIME_FAILED;
			status = PVA_S_EPERM;
		} else {
			action = PVA_TIME_SLEWED;
			log_info("time: slewing the clock by %+.3f ms",
				 (double)off / 1e6);
		}
	}
	time_report(c, action, status, ntp);
}

static void time_query(struct control *c)
{
	c->query_id = 2 + (c->query_id + 1) % 1000000;	/* 1 is HELLO's */
	c->sent_real = ns_of(CLOCK_REALTIME);
	c->sent_mono = ns_of(CLOCK_MONOTONIC);
	if (!channel_request(c->svc->ch, PVA_AGENT_TIME_QUERY, c->query_id,
			     NULL, 0)) {
		c->syncing = false;
		log_warn("time: cannot ask the host for its time");
	}
}

static void time_start(struct control *c, uint32_t reason)
{
	if (c->syncing)
		return;		/* the one in progress will do */
	c->syncing = true;
	c->reason = reason;
	c->sample = 0;
	c->best_rtt = INT64_MAX;
	c->best_offset = 0;
	time_query(c);
}

static void time_answer(struct control *c, const struct pva_msg_hdr *h,
			const uint8_t *p, uint32_t len)
{
	struct pva_agent_time t;
	int64_t rtt, offset;

	if (!c->syncing || pva_le32(h->req_id) != c->query_id)
		return;
	if (pva_le32(h->status) != PVA_S_OK || len != sizeof(t)) {
		log_warn("time: the host did not tell its time (status %u, %u bytes)",
			 pva_le32(h->status), len);
		c->syncing = false;
		time_report(c, PVA_TIME_FAILED, PVA_S_EIO, ntp_runs());
		return;
	}
	memcpy(&t, p, sizeof(t));
	rtt = ns_of(CLOCK_MONOTONIC) - c->sent_mono;
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

static int run_cmd(const char *path)
{
	char *argv[] = { (char *)path, NULL };
	pid_t pid;

	if (posix_spawn(&pid, path, NULL, NULL, argv, environ))
		return -errno;
	return 0;	/* it runs; we do not wait for what kills us */
}

static void send_state(struct control *c, uint32_t state)
{
	struct pva_agent_guest_state st = { .state = pva_cpu32(state) };

	if (c->reported_down && state != PVA_GUEST_STATE_RUNNING)
		return;
	c->reported_down = state != PVA_GUEST_STATE_RUNNING;
	channel_send(c->svc->ch, PVA_AGENT_GUEST_STATE, &st, sizeof(st));
}

static void power(struct control *c, const struct pva_msg_hdr *h,
		  const uint8_t *p, uint32_t len)
{
	struct pva_agent_power pw;
	bool reboot;
	int r;

	if (len != sizeof(pw)) {
		log_warn("the host sent a malformed POWER (%u bytes)", len);
		channel_reply(c->svc->ch, h, PVA_S_EINVAL, NULL, 0);
		return;
	}
	memcpy(&pw, p, sizeof(pw));
	if (pva_le32(pw.action) != PVA_POWER_SHUTDOWN &&
	    pva_le32(pw.action) != PVA_POWER_REBOOT) {
		log_warn("the host asked for an unknown power action %u",
			 pva_le32(pw.action));
		channel_reply(c->svc->ch, h, PVA_S_EINVAL, NULL, 0);
		return;
	}
	reboot = pva_le32(pw.action) == PVA_POWER_REBOOT;
	log_notice("the host asks for a %s", reboot ? "reboot" : "shutdown");
	r = c->svc->sessions ? sessions_power(c->svc->sessions, reboot) :
			       run_cmd(reboot ? "/sbin/reboot" : "/sbin/poweroff");
	if (r < 0) {
		channel_reply(c->svc->ch, h, r == -EPERM || r == -EACCES ?
			      PVA_S_EPERM : PVA_S_EIO, NULL, 0);
		return;
	}
	channel_reply(c->svc->ch, h, PVA_S_OK, NULL, 0);
	send_state(c, reboot ? PVA_GUEST_STATE_REBOOT : PVA_GUEST_STATE_SHUTDOWN);
}

void control_going_down(struct svc *s, bool reboot)
{
	struct control *c = ctl_of(s);

	if (c)
		send_state(c, reboot ? PVA_GUEST_STATE_REBOOT :
				       PVA_GUEST_STATE_SHUTDOWN);
}

static void on_shutdown(void *data, bool reboot)
{
	control_going_down(data, reboot);
}

/* ---- filesystem freeze ---- */

/* Run every hook in the hook directory with @arg, in name order (reverse
 * for thaw); the first that fails (for freeze) is named in @why.
 */
static int run_hooks(struct control *c, const char *arg, char *why,
		     size_t wlen)
{
	struct dirent **list;
	int n = scandir(c->svc->opt.hook_dir, &list, NULL, alphasort);
	bool thaw = !strcmp(arg, "thaw");
	int rc = 0;

	if (n < 0)
		return 0;	/* no hooks */
	for (int k = 0; k < n; k++) {
		struct dirent *e = list[thaw ? n - 1 - k : k];
		char path[1024];
		struct stat st;
		char *argv[3];
		pid_t pid;
		int status, waited = 0;

		snprintf(path, sizeof(path), "%s/%s", c->svc->opt.hook_dir,
			 e->d_name);
		if (e->d_name[0] == '.' || stat(path, &st) < 0 ||
		    !S_ISREG(st.st_mode) || !(st.st_mode & 0111) || rc)
			continue;
		argv[0] = path;
		argv[1] = (char *)arg;
		argv[2] = NULL;
		if (posix_spawn(&pid, path, NULL, NULL, argv, environ)) {
			snprintf(why, wlen, "hook %.400s: cannot run it", path);
			rc = thaw ? 0 : -1;
			continue;
		}
		/* hooks flush databases: give them time, but not forever */
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (waited++ >= HOOK_TIMEOUT_S * 10) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				status = -1;
				break;
			}
			usleep(100000);
		}
		if (status != 0 && !thaw) {
			snprintf(why, wlen, "hook %.400s %s failed", path, arg);
			rc = -1;
		}
	}
	for (int k = 0; k < n; k++)
		free(list[k]);
	free(list);
	return rc;
}

static bool freezable_type(const char *t)
{
	static const char *const virt[] = {
		"proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "cgroup",
		"cgroup2", "securityfs", "debugfs", "tracefs", "pstore", "bpf",
		"mqueue", "hugetlbfs", "configfs", "fusectl", "autofs",
		"binfmt_misc", "overlay", "9p", "pvasf", "nfs", "nfs4", "cifs",
		"smb3", "squashfs", "iso9660", "udf", "efivarfs", "ramfs",
		"rpc_pipefs", "nsfs", "selinuxfs", "virtiofs",
	};

	if (!strncmp(t, "fuse", 4))
		return false;
	for (size_t i = 0; i < sizeof(virt) / sizeof(virt[0]); i++)
		if (!strcmp(t, virt[i]))
			return false;
	return true;
}

/* The writable local filesystems from mountinfo, one per device, in mount
 * order.
 */
static unsigned int writable_filesystems(struct frozen_fs *out,
					 unsigned int max)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	dev_t seen[MAX_FROZEN];
	unsigned int n = 0;

	while (f && n < max && fgets(line, sizeof(line), f)) {
		char mnt[512], opts[512], type[64], src[512];
		const char *dash = strstr(line, " - ");
		struct stat st;
		bool dup = false;

		/* id parent major:minor root mountpoint options ... - type source super */
		if (!dash || sscanf(line, "%*s %*s %*s %*s %511s %511s", mnt,
				    opts) != 2 ||
		    sscanf(dash + 3, "%63s %511s", type, src) != 2)
			continue;
		if (!strncmp(opts, "ro", 2) && (opts[2] == ',' || !opts[2]))
			continue;
		if (!freezable_type(type) || strncmp(src, "/dev/", 5) ||
		    stat(mnt, &st) < 0)
			continue;
		for (unsigned int i = 0; i < n; i++)
			dup |= seen[i] == st.st_dev;
		if (dup)
			continue;
		seen[n] = st.st_dev;
		snprintf(out[n].path, sizeof(out[n].path), "%s", mnt);
		snprintf(out[n].type, sizeof(out[n].type), "%s", type);
		n++;
	}
	if (f)
		fclose(f);
	return n;
}

static int fs_ioctl(const char *path, unsigned long req)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = ioctl(fd, req, 0);
	r = r < 0 ? -errno : 0;
	close(fd);
	return r;
}

static void thaw_all(struct control *c)
{
	for (unsigned int i = 0; i < c->nr_frozen; i++) {
		int r = fs_ioctl(c->frozen[i].path, FITHAW);

		if (r < 0 && r != -EINVAL)	/* EINVAL: not frozen */
			log_err("fsfreeze: cannot thaw %s: %s",
				c->frozen[i].path, strerror(-r));
	}
	c->nr_frozen = 0;
	c->thaw_at_mono = 0;
	log_hold(false);
}

static void list_frozen(const struct control *c, char *text, size_t len)
{
	size_t o = 0;

	text[0] = 0;
	for (unsigned int i = 0; i < c->nr_frozen && o < len; i++)
		o += (size_t)snprintf(text + o, len - o, "%s%s (%s)",
				      i ? ", " : "", c->frozen[i].path,
				      c->frozen[i].type);
}

static void freeze_reply(struct control *c, const struct pva_msg_hdr *h,
			 uint32_t status, const char *text)
{
	uint8_t buf[sizeof(struct pva_agent_fsfreeze_result) + 1024];
	struct pva_agent_fsfreeze_result r = {
		.frozen = pva_cpu32(c->nr_frozen),
		.timeout_s = pva_cpu32(c->nr_frozen && c->thaw_at_mono ?
			(uint32_t)((c->thaw_at_mono - mono_ms() + 999) / 1000) : 0),
	};
	size_t n = strlen(text);

	if (n > sizeof(buf) - sizeof(r) - 1)
		n = sizeof(buf) - sizeof(r) - 1;
	memcpy(buf, &r, sizeof(r));
	memcpy(buf + sizeof(r), text, n);
	buf[sizeof(r) + n] = 0;
	channel_reply(c->svc->ch, h, status, buf, (uint32_t)(sizeof(r) + n + 1));
}

static void freeze(struct control *c, const struct pva_msg_hdr *h,
		   uint32_t timeout_s)
{
	struct frozen_fs fs[MAX_FROZEN];
	char text[1024] = "", skipped[512] = "";
	unsigned int n;
	size_t so = 0;

	if (c->nr_frozen) {
		list_frozen(c, text, sizeof(text));
		freeze_reply(c, h, PVA_S_EBUSY, text);
		return;
	}
	if (run_hooks(c, "freeze", text, sizeof(text)) < 0) {
		log_err("fsfreeze: %s: not freezing", text);
		run_hooks(c, "thaw", skipped, sizeof(skipped));
		freeze_reply(c, h, PVA_S_EIO, text);
		return;
	}
	n = writable_filesystems(fs, MAX_FROZEN);
	log_notice("fsfreeze: freezing %u filesystems for %u s", n,
		   timeout_s ? timeout_s : DEFAULT_THAW_S);
	/* from now on nothing of ours may touch a disk: no logging */
	log_hold(true);
	/* innermost first: a filesystem mounted inside another goes first */
	for (unsigned int k = 0; k < n; k++) {
		const struct frozen_fs *f = &fs[n - 1 - k];
		int r = fs_ioctl(f->path, FIFREEZE);

		if (r == -EOPNOTSUPP) {
			so += (size_t)snprintf(skipped + so,
					       so < sizeof(skipped) ?
					       sizeof(skipped) - so : 0,
					       "; %s (%s) cannot be frozen: skipped",
					       f->path, f->type);
			continue;
		}
		if (r < 0) {
			thaw_all(c);
			snprintf(text, sizeof(text), "cannot freeze %s (%s): %s; nothing is frozen",
				 f->path, f->type, strerror(-r));
			log_err("fsfreeze: %s", text);
			run_hooks(c, "thaw", skipped, sizeof(skipped));
			freeze_reply(c, h, PVA_S_EIO, text);
			return;
		}
		c->frozen[c->nr_frozen++] = *f;
	}
	c->thaw_at_mono = mono_ms() + (int64_t)(timeout_s ? timeout_s :
						DEFAULT_THAW_S) * 1000;
	list_frozen(c, text, sizeof(text));
	if (so && strlen(text) + so < sizeof(text))
		strcat(text, skipped);
	if (!c->nr_frozen)
		log_hold(false);
	freeze_reply(c, h, PVA_S_OK, text);
}

static void thaw(struct control *c, const struct pva_msg_hdr *h)
{
	char text[1024], ignored[256];
	unsigned int had = c->nr_frozen;

	list_frozen(c, text, sizeof(text));
	thaw_all(c);
	if (had) {
		run_hooks(c, "thaw", ignored, sizeof(ignored));
		log_notice("fsfreeze: thawed %u filesystems", had);
	}
	freeze_reply(c, h, PVA_S_OK, had ? text : "nothing was frozen");
}

static void fsfreeze(struct control *c, const struct pva_msg_hdr *h,
		     const uint8_t *p, uint32_t len)
{
	struct pva_agent_fsfreeze fr;
	char text[1024];

	if (len != sizeof(fr)) {
		log_warn("the host sent a malformed FSFREEZE (%u bytes)", len);
		channel_reply(c->svc->ch, h, PVA_S_EINVAL, NULL, 0);
		return;
	}
	memcpy(&fr, p, sizeof(fr));
	switch (pva_le32(fr.op)) {
	case PVA_FSFREEZE_FREEZE:
		if (pva_le32(fr.timeout_s) > 3600) {
			channel_reply(c->svc->ch, h, PVA_S_EINVAL, NULL, 0);
			return;
		}
		freeze(c, h, pva_le32(fr.timeout_s));
		break;
	case PVA_FSFREEZE_THAW:
		thaw(c, h);
		break;
	case PVA_FSFREEZE_STATUS:
		list_frozen(c, text, sizeof(text));
		freeze_reply(c, h, PVA_S_OK, text);
		break;
	default:
		log_warn("the host sent an unknown FSFREEZE operation %u",
			 pva_le32(fr.op));
		channel_reply(c->svc->ch, h, PVA_S_EINVAL, NULL, 0);
	}
}

/* ---- the service's side ---- */

void control_request(struct svc *s, const struct pva_msg_hdr *h,
		     const uint8_t *p, uint32_t len)
{
	struct control *c = ctl_of(s);
	uint16_t type = pva_le16(h->type);

	if (!c || !(channel_features(s->ch) & PVA_AGENT_F_CONTROL)) {
		channel_reply(s->ch, h, PVA_S_ENOTSUP, NULL, 0);
		return;
	}
	if (type == PVA_AGENT_POWER)
		power(c, h, p, len);
	else if (type == PVA_AGENT_FSFREEZE)
		fsfreeze(c, h, p, len);
	else
		channel_reply(s->ch, h, PVA_S_ENOTSUP, NULL, 0);
}

void control_answer(struct svc *s, const struct pva_msg_hdr *h,
		    const uint8_t *p, uint32_t len)
{
	struct control *c = ctl_of(s);

	if (c && pva_le16(h->type) == PVA_AGENT_TIME_QUERY)
		time_answer(c, h, p, len);
	else if (log_ratelimit_ok(&s->rl))
		log_warn("the host answered an unknown request (type %u)",
			 pva_le16(h->type));
}

void control_event(struct svc *s, uint16_t type, const uint8_t *p,
		   uint32_t len)
{
	struct control *c = ctl_of(s);
	struct pva_agent_time_sync ts;

	if (!c || type != PVA_AGENT_TIME_SYNC)
		return;
	if (len != sizeof(ts)) {
		log_warn("the host sent a malformed TIME_SYNC (%u bytes)", len);
		return;
	}
	memcpy(&ts, p, sizeof(ts));
	if (pva_le32(ts.reason) > PVA_TIME_REASON_GUEST) {
		log_warn("the host sent TIME_SYNC with an unknown reason %u",
			 pva_le32(ts.reason));
		return;
	}
	time_start(c, pva_le32(ts.reason));
}

void control_host_up(struct svc *s)
{
	struct control *c = ctl_of(s);

	if (!c)
		return;
	c->syncing = false;
	c->reported_down = false;
}

bool control_frozen(const struct svc *s)
{
	return s->control && s->control->nr_frozen;
}

static void tick(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct control *c = data;
	uint64_t n;

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	if (c->syncing &&
	    ns_of(CLOCK_MONOTONIC) - c->sent_mono > QUERY_TIMEOUT_MS * 1000000ll) {
		log_warn("time: the host did not answer TIME_QUERY");
		c->syncing = false;
		time_report(c, PVA_TIME_FAILED, PVA_S_EIO, ntp_runs());
	}
	if (c->nr_frozen && c->thaw_at_mono && mono_ms() >= c->thaw_at_mono) {
		char ignored[256];
		unsigned int had = c->nr_frozen;

		thaw_all(c);
		run_hooks(c, "thaw", ignored, sizeof(ignored));
		log_warn("fsfreeze: thawed %u filesystems by itself: the host did not within the timeout",
			 had);
	}
}

struct control *control_open(struct svc *s)
{
	struct control *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->svc = s;
	c->timer = loop_add_timer(s->loop, 100, tick, c);
	if (!c->timer) {
		free(c);
		return NULL;
	}
	s->control = c;
	sessions_on_shutdown(s->sessions, on_shutdown, s);
	return c;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	if (c->nr_frozen)
		thaw_all(c);	/* never leave the system frozen */
	loop_remove(c->timer);
	c->svc->control = NULL;
	free(c);
}
