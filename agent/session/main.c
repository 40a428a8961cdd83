// SPDX-License-Identifier: MIT
/*
 * pva-agent: the desktop session's agent (started by XDG autostart). It
 * runs its work in a child process and starts it again when it dies
 * (not when the display server goes away), like VBoxClient, so a crash
 * does not leave the session without a clipboard.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "size.h"

#define DEFAULT_SOCKET	"/run/pva/agent.sock"

static const char usage_text[] =
"Usage: pva-agent [OPTION]...\n"
"The pva desktop agent of a session: the clipboard between the session and\n"
"the host, and the host's display layout applied to the session (X11:\n"
"RandR; Wayland: data-control and wlr-output-management). Talks to\n"
"pva-service; started for each desktop session by XDG autostart.\n"
"\n"
"  -k, --kind KIND     x11 or wayland (default: wayland when WAYLAND_DISPLAY\n"
"                      is set, falling back to x11 when the compositor has\n"
"                      no data-control and DISPLAY is set)\n"
"  -s, --socket PATH   pva-service's socket (default " DEFAULT_SOCKET ")\n"
"      --primary       sync the PRIMARY selection too\n"
"      --no-clipboard  do not sync the clipboard\n"
"      --no-display    do not apply the host's display layout\n"
"      --max-size SIZE largest clipboard content (default 64M)\n"
"      --no-respawn    do not restart the agent when it dies\n"
"  -v, --verbose       log debug messages too\n"
"  -h, --help          this text\n"
"      --version       the version\n"
"\n"
"Exit status: 0 the session ended, 1 error, 2 bad usage, 3 no display\n"
"server to talk to.\n";

enum { OPT_PRIMARY = 256, OPT_NO_CLIP, OPT_NO_DISPLAY, OPT_MAX, OPT_NORESPAWN,
       OPT_VERSION };

static const struct option long_opts[] = {
	{ "kind", required_argument, NULL, 'k' },
	{ "socket", required_argument, NULL, 's' },
	{ "primary", no_argument, NULL, OPT_PRIMARY },
	{ "no-clipboard", no_argument, NULL, OPT_NO_CLIP },
	{ "no-display", no_argument, NULL, OPT_NO_DISPLAY },
	{ "max-size", required_argument, NULL, OPT_MAX },
	{ "no-respawn", no_argument, NULL, OPT_NORESPAWN },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 }
};

static volatile sig_atomic_t child_pid, stopping;

static void forward_signal(int sig)
{
	stopping = 1;
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

/*
 * Start the agent in a child and again when it is killed or crashes;
 * return its exit status once it exits normally, or when asked to stop.
 */
static int supervise(const struct agent_options *opt)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	unsigned int delay = 1;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (;;) {
		time_t started = time(NULL);
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			log_err("fork: %s", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			_exit(agent_run(opt));
		}
		child_pid = pid;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		child_pid = 0;
		if (stopping)
			return 0;
		if (WIFEXITED(status) && WEXITSTATUS(status) != 1)
			return WEXITSTATUS(status);
		if (WIFSIGNALED(status))
			log_warn("the agent was killed by signal %d (%s): starting it again in %u s",
				 WTERMSIG(status), strsignal(WTERMSIG(status)),
				 delay);
		else
			log_warn("the agent failed: starting it again in %u s",
				 delay);
		/* a crash loop backs off; a long run resets the delay */
		if (time(NULL) - started > 60)
			delay = 1;
		sleep(delay);
		if (stopping)
			return 0;
		if (delay < 30)
			delay *= 2;
	}
}

int main(int argc, char **argv)
{
	struct agent_options opt = {
		.socket = DEFAULT_SOCKET,
		.clipboard = true,
		.display = true,
		.clip_max = PVA_CLIP_DEFAULT_MAX,
	};
	bool respawn = true;
	int verbose = 0, c;

	while ((c = getopt_long(argc, argv, "k:s:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (strcmp(optarg, "x11") && strcmp(optarg, "wayland")) {
				fprintf(stderr, "pva-agent: --kind must be x11 or wayland\n");
				return 2;
			}
			opt.kind = optarg;
			break;
		case 's':
			opt.socket = optarg;
			break;
		case OPT_PRIMARY:
			opt.primary = true;
			break;
		case OPT_NO_CLIP:
			opt.clipboard = false;
			opt.primary = false;
			break;
		case OPT_NO_DISPLAY:
			opt.display = false;
			break;
		case OPT_MAX:
			if (parse_size(optarg, &opt.clip_max) || !opt.clip_max ||
			    opt.clip_max > (1ull << 32)) {
				fprintf(stderr, "pva-agent: --max-size: '%s' is not a size of 1 byte to 4G\n",
					optarg);
				return 2;
			}
			break;
		case OPT_NORESPAWN:
			respawn = false;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_VERSION:
			printf("pva-agent %s\n", PVA_AGENT_VERSION_STRING);
			return 0;
		default:
			fputs("Try 'pva-agent --help'.\n", stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pva-agent: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	log_init("pva-agent", verbose ? LOG_DEBUG : LOG_INFO);
	if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY")) {
		log_err("no DISPLAY or WAYLAND_DISPLAY: not in a desktop session");
		return 3;
	}
	signal(SIGPIPE, SIG_IGN);
	return respawn ? supervise(&opt) : agent_run(&opt);
}
