// SPDX-License-Identifier: MIT
/* pva-service: the guest's desktop-agent daemon. See service.h. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "loop.h"
#include "service.h"
#include "size.h"

static const char usage_text[] =
"Usage: pva-service [OPTION]...\n"
"The pva guest service: owns the host's \"agent\" channel (/dev/pva), tracks\n"
"desktop sessions through logind and forwards the clipboard and the host's\n"
"display layout between the host and the agent (pva-agent) of the active\n"
"session; tells the host about the guest (OS, kernel, sessions).\n"
"\n"
"  -D, --device PATH        the pva device (default " DEFAULT_DEVICE "); waits\n"
"                           for it to appear\n"
"      --host-socket ADDR   talk to pva-host's --agent-socket ADDR (a UNIX\n"
"                           socket path or tcp:HOST:PORT) instead of the\n"
"                           device, for tests\n"
"  -s, --socket PATH        where agents connect (default " DEFAULT_AGENT_SOCKET ")\n"
"      --no-logind          do not ask logind: every agent is accepted, the\n"
"                           last one registered is active\n"
"      --max-size SIZE      largest clipboard content (default 64M)\n"
"      --time-threshold MS  step the clock when the host's time is further\n"
"                           off than MS (default 1000), slew it when closer\n"
"      --time-yield-ntp     leave the clock alone while an NTP client\n"
"                           (chronyd, systemd-timesyncd, ntpd) runs\n"
"      --no-time-sync       never correct the clock (only report its offset)\n"
"      --hook-dir DIR       fsfreeze hooks (default /etc/pva/fsfreeze-hook.d)\n"
"  -v, --verbose            log debug messages\n"
"  -h, --help               this text\n"
"      --version            the version\n"
"\n"
"Exit status: 0 stopped by SIGTERM/SIGINT, 1 error, 2 bad usage.\n";

enum { OPT_HOST_SOCKET = 256, OPT_NO_LOGIND, OPT_MAX, OPT_VERSION,
       OPT_TIME_THRESHOLD, OPT_TIME_YIELD, OPT_NO_TIME, OPT_HOOKS };

static void on_signal(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)data;
	if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_info("stopping (signal %u)", si.ssi_signo);
		loop_quit(loop, 0);
	}
}

static void sessions_changed(void *data)
{
	struct svc *s = data;

	router_update_active(s);
	info_send(s);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'D' },
		{ "host-socket", required_argument, NULL, OPT_HOST_SOCKET },
		{ "socket", required_argument, NULL, 's' },
		{ "no-logind", no_argument, NULL, OPT_NO_LOGIND },
		{ "max-size", required_argument, NULL, OPT_MAX },
		{ "time-threshold", required_argument, NULL, OPT_TIME_THRESHOLD },
		{ "time-yield-ntp", no_argument, NULL, OPT_TIME_YIELD },
		{ "no-time-sync", no_argument, NULL, OPT_NO_TIME },
		{ "hook-dir", required_argument, NULL, OPT_HOOKS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	static struct svc s;
	struct loop_source *sig_src = NULL;
	sigset_t mask;
	int c, verbose = 0, rc = 1, sfd;

	s.opt.device = DEFAULT_DEVICE;
	s.opt.agent_socket = DEFAULT_AGENT_SOCKET;
	s.opt.logind = true;
	s.opt.clip_max = PVA_CLIP_DEFAULT_MAX;
	s.opt.time_threshold_ms = 1000;
	s.opt.time_sync = true;
	s.opt.hook_dir = "/etc/pva/fsfreeze-hook.d";
	while ((c = getopt_long(argc, argv, "D:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			s.opt.device = optarg;
			break;
		case OPT_HOST_SOCKET:
			s.opt.host_socket = optarg;
			break;
		case 's':
			s.opt.agent_socket = optarg;
			break;
		case OPT_NO_LOGIND:
			s.opt.logind = false;
			break;
		case OPT_MAX:
			if (parse_size(optarg, &s.opt.clip_max) ||
			    !s.opt.clip_max || s.opt.clip_max > (1ull << 32)) {
				fprintf(stderr, "pva-service: --max-size: '%s' is not a size of 1 byte to 4G\n",
					optarg);
				return 2;
			}
			break;
		case OPT_TIME_THRESHOLD: {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*end || !*optarg || v < 1 || v > 86400000) {
				fprintf(stderr, "pva-service: --time-threshold: '%s' is not 1-86400000 ms\n",
					optarg);
				return 2;
			}
			s.opt.time_threshold_ms = v;
			break;
		}
		case OPT_TIME_YIELD:
			s.opt.time_yield_ntp = true;
			break;
		case OPT_NO_TIME:
			s.opt.time_sync = false;
			break;
		case OPT_HOOKS:
			s.opt.hook_dir = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_VERSION:
			printf("pva-service %s\n", PVA_SERVICE_VERSION);
			return 0;
		default:
			fputs("Try 'pva-service --help'.\n", stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pva-service: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	log_init("pva-service", verbose ? LOG_DEBUG : LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	s.rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	s.loop = loop_new();
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!s.loop || sfd < 0)
		goto out;
	sig_src = loop_add_fd(s.loop, sfd, EPOLLIN, on_signal, NULL);
	if (s.opt.logind) {
		s.sessions = sessions_open(s.loop, sessions_changed, &s);
		if (!s.sessions)
			log_warn("no logind: every agent is accepted, the last one to register is active");
	}
	if (!control_open(&s))
		goto out;
	if (agents_listen(&s, s.opt.agent_socket) < 0)
		goto out;
	if (!channel_open(&s, &s.opt))
		goto out;
	info_watch(&s);
	sd_notify(0, "READY=1\nSTATUS=waiting for the host and desktop sessions");
	log_info("pva-service %s: agents on %s", PVA_SERVICE_VERSION,
		 s.opt.agent_socket);
	rc = loop_run(s.loop) < 0 ? 1 : 0;
	sd_notify(0, "STOPPING=1");
out:
	agents_close_all(&s);
	info_unwatch();
	control_close(s.control);
	channel_close(s.ch);
	s.ch = NULL;
	sessions_close(s.sessions);
	if (sig_src)
		loop_remove(sig_src);
	if (sfd >= 0)
		close(sfd);
	loop_free(s.loop);
	return rc;
}
