// SPDX-License-Identifier: MIT
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include "pva_protocol.h"
#include "guest_ram.h"
#include "service.h"
#include "sf.h"
#include "size.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: pva-host [OPTION]...\n"
"Serve the pva device to a QEMU guest: be the ivshmem-doorbell server\n"
"(-chardev socket,path=SOCKET,id=pva -device ivshmem-doorbell,chardev=pva,\n"
"vectors=N) and the host end of every pva service.\n"
"\n"
"  -d, --run-dir DIR        sockets in DIR: DIR/qemu.sock, DIR/ctl.sock\n"
"                           (default " PVA_DEFAULT_RUN_DIR ")\n"
"  -s, --socket PATH        the socket QEMU connects to\n"
"  -c, --ctl PATH           the socket pva-hostctl connects to\n"
"  -m, --shm-size SIZE      shared memory size, a power of two from 64K to\n"
"                           16G (default 64M); the services need about 1.2M,\n"
"                           the display's framebuffers get the rest (at\n"
"                           least 16M; 4 heads share it: 64M allows\n"
"                           2560x1440 on each, 256M 3840x2160)\n"
"  -n, --vectors N          doorbell vectors, 1-%d (default 8); QEMU's\n"
"                           vectors= must be at least N\n"
"      --no-restart         exit (status 1) when the worker dies instead of\n"
"                           starting a new one; asked-for restarts (SIGHUP,\n"
"                           pva-hostctl restart) still happen\n"
"      --no-echo            do not offer the echo test channel\n"
"      --no-balloon         do not offer the memory balloon\n"
"      --guest-ram PATH     the file backing the guest's RAM (QEMU\n"
"                           -object memory-backend-file,mem-path=PATH,\n"
"                           share=on); memory the balloon takes is freed\n"
"                           in it; without it the balloon only counts\n"
"      --ram-layout LAYOUT  where QEMU puts RAM: q35 (x86_64, default),\n"
"                           virt (aarch64) or flat\n"
"      --share NAME=PATH[,ro]\n"
"                           share the host directory PATH with the guest as\n"
"                           NAME ([a-z0-9_.-], 1-63 characters), read-only\n"
"                           with ,ro; repeatable (pva-hostctl share adds and\n"
"                           removes shares at run time)\n"
"      --no-sf              do not offer shared folders\n"
"      --display-size WxH   the guest display's size at start (default\n"
"                           1024x768; pva-hostctl display resize changes it)\n"
"      --no-display         do not offer the display\n"
"      --vnc [HOST:]PORT    a live VNC view of the guest's first head on\n"
"                           HOST (default 127.0.0.1) PORT; view only; when\n"
"                           the viewer resizes its window, the guest follows\n"
"      --no-agent           do not offer the desktop agent's channel\n"
"                           (clipboard, display layout, guest information)\n"
"      --clipboard-max SIZE largest clipboard content taken from or given to\n"
"                           the guest (default 64M, at most 1G)\n"
"      --agent-socket ADDR  also serve the agent channel on ADDR, a UNIX\n"
"                           socket path or tcp:HOST:PORT, for a guest agent\n"
"                           without the pva device (tests, Windows under\n"
"                           wine); one connection at a time\n"
"      --time-sync-interval SECONDS\n"
"                           how often the guest's clock is checked against\n"
"                           the host's (default 60; 0: only when asked and\n"
"                           when the host resumes from sleep)\n"
"  -v, --verbose            log debug messages\n"
"  -q, --quiet              log only warnings and errors\n"
"  -h, --help               show this help\n"
"  -V, --version            show the version\n"
"\n"
"Protocol switches (for version-skew tests):\n"
"      --proto-major-min N  lowest major version offered (default %d)\n"
"      --proto-major-max N  highest major version offered (default %d)\n"
"      --proto-minor N      minor version of the highest major (default %d)\n"
"      --features MASK      transport feature bits offered (default 0x%llx)\n"
"      --test-service TYPE  also offer a test service: selftest (for the\n"
"                           pva_selftest module), or a placeholder sf (in\n"
"                           place of the real one) or display that answers\n"
"                           ENOTSUP; repeatable, each TYPE once\n"
"\n"
"The environment variable PVA_HOST_DIR, if set, replaces the default run\n"
"directory.\n"
"\n"
"pva-host runs as two processes: a keeper that owns the QEMU connection,\n"
"the shared memory and the eventfds, and a worker that it (re)starts; a\n"
"worker that dies or is told to restart (SIGHUP, pva-hostctl restart) is\n"
"replaced while the guest keeps running. SIGTERM stops both.\n"
"Exit status: 0 on SIGTERM/SIGINT, 1 on a runtime error, 2 on bad usage.\n",
		PVA_MAX_VECTORS, PVA_VERSION_MAJOR, PVA_VERSION_MAJOR,
		PVA_VERSION_MINOR, (unsigned long long)PVA_F_KNOWN);
}

static int parse_uint(const char *opt, const char *s, unsigned long max,
		      unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-') {
		fprintf(stderr, "pva-host: %s: invalid number '%s' (at most %lu)\n",
			opt, s, max);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* "1280x800", each side PVA_DISPLAY_MIN_DIM..MAX_DIM. */
static int parse_display_size(const char *s, unsigned int *w, unsigned int *h)
{
	unsigned long x, y;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	x = strtoul(s, &end, 10);
	if (*end != 'x' || end[1] < '0' || end[1] > '9')
		return -1;
	y = strtoul(end + 1, &end, 10);
	if (*end || x < PVA_DISPLAY_MIN_DIM || x > PVA_DISPLAY_MAX_DIM ||
	    y < PVA_DISPLAY_MIN_DIM || y > PVA_DISPLAY_MAX_DIM)
		return -1;
	*w = (unsigned int)x;
	*h = (unsigned int)y;
	return 0;
}

enum {
	OPT_NO_RESTART = 256, OPT_NO_ECHO, OPT_MAJOR_MIN, OPT_MAJOR_MAX,
	OPT_MINOR, OPT_FEATURES, OPT_WORKER_FD, OPT_TEST_SERVICE,
	OPT_NO_BALLOON, OPT_GUEST_RAM, OPT_RAM_LAYOUT, OPT_SHARE, OPT_NO_SF,
	OPT_NO_DISPLAY, OPT_DISPLAY_SIZE, OPT_VNC, OPT_NO_AGENT, OPT_CLIP_MAX,
	OPT_AGENT_SOCKET, OPT_TIME_SYNC,
};

/* --share NAME=PATH[,ro]: the directory must exist; kept absolute. */
static int parse_share(struct host_config *cfg, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct config_share *sh;
	struct stat st = { 0 };
	size_t plen;
	char *name, *path, *real;

	if (!eq) {
		fprintf(stderr, "pva-host: --share: '%s' is not NAME=PATH[,ro]\n", arg);
		return -1;
	}
	name = strndup(arg, (size_t)(eq - arg));
	path = strdup(eq + 1);
	if (!name || !path)
		goto fail;
	plen = strlen(path);
	sh = realloc(cfg->shares, (cfg->nr_shares + 1) * sizeof(*sh));
	if (!sh)
		goto fail;
	cfg->shares = sh;
	sh += cfg->nr_shares;
	sh->ro = plen > 3 && !strcmp(path + plen - 3, ",ro");
	if (sh->ro)
		path[plen - 3] = 0;
	if (!sf_share_name_valid(name)) {
		fprintf(stderr, "pva-host: --share: '%s' is not a share name ([a-z0-9_.-], 1-%d characters)\n",
			name, PVA_SF_SHARE_NAME_MAX);
		goto fail;
	}
	for (unsigned int i = 0; i < cfg->nr_shares; i++) {
		if (!strcmp(cfg->shares[i].name, name)) {
			fprintf(stderr, "pva-host: --share: %s given twice\n", name);
			goto fail;
		}
	}
	real = realpath(path, NULL);
	if (!real) {
		fprintf(stderr, "pva-host: --share: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	free(path);
	path = real;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pva-host: --share: %s: %s\n", path,
			strerror(S_ISDIR(st.st_mode) ? errno : ENOTDIR));
		goto fail;
	}
	sh->name = name;
	sh->path = path;
	cfg->nr_shares++;
	return 0;
fail:
	free(name);
	free(path);
	return -1;
}

static char *state_path(const char *ctl)
{
	const char *slash = strrchr(ctl, '/');
	size_t n = slash ? (size_t)(slash - ctl) : 1;
	char *p = malloc(n + 16);

	if (p)
		snprintf(p, n + 16, "%.*s/sf-shares.json", (int)n,
			 slash ? ctl : ".");
	return p;
}

int config_parse(struct host_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run-dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "shm-size", required_argument, NULL, 'm' },
		{ "vectors", required_argument, NULL, 'n' },
		{ "no-restart", no_argument, NULL, OPT_NO_RESTART },
		{ "no-echo", no_argument, NULL, OPT_NO_ECHO },
		{ "no-balloon", no_argument, NULL, OPT_NO_BALLOON },
		{ "guest-ram", required_argument, NULL, OPT_GUEST_RAM },
		{ "ram-layout", required_argument, NULL, OPT_RAM_LAYOUT },
		{ "share", required_argument, NULL, OPT_SHARE },
		{ "no-sf", no_argument, NULL, OPT_NO_SF },
		{ "no-display", no_argument, NULL, OPT_NO_DISPLAY },
		{ "display-size", required_argument, NULL, OPT_DISPLAY_SIZE },
		{ "vnc", required_argument, NULL, OPT_VNC },
		{ "no-agent", no_argument, NULL, OPT_NO_AGENT },
		{ "clipboard-max", required_argument, NULL, OPT_CLIP_MAX },
		{ "agent-socket", required_argument, NULL, OPT_AGENT_SOCKET },
		{ "time-sync-interval", required_argument, NULL, OPT_TIME_SYNC },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "proto-major-min", required_argument, NULL, OPT_MAJOR_MIN },
		{ "proto-major-max", required_argument, NULL, OPT_MAJOR_MAX },
		{ "proto-minor", required_argument, NULL, OPT_MINOR },
		{ "features", required_argument, NULL, OPT_FEATURES },
		{ "worker-fd", required_argument, NULL, OPT_WORKER_FD },
		{ "test-service", required_argument, NULL, OPT_TEST_SERVICE },
		{ 0 },
	};
	const char *run_dir = getenv("PVA_HOST_DIR");
	const char *sock = NULL, *ctl = NULL;
	unsigned int u;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->shm_size = 64 << 20;
	cfg->vectors = 8;
	cfg->restart_worker = true;
	cfg->echo = true;
	cfg->balloon = true;
	cfg->sf = true;
	cfg->display = true;
	cfg->display_width = 1024;
	cfg->display_height = 768;
	cfg->agent = true;
	cfg->clip_max = 64ull << 20;
	cfg->time_sync_interval = 60;
	cfg->ram_layout = "q35";
	cfg->log_level = LOG_INFO;
	cfg->major_min = cfg->major_max = PVA_VERSION_MAJOR;
	cfg->minor = PVA_VERSION_MINOR;
	cfg->features = PVA_F_KNOWN;
	cfg->worker_fd = -1;
	cfg->argv = argv;
	if (!run_dir || !*run_dir)
		run_dir = PVA_DEFAULT_RUN_DIR;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:s:c:m:n:vqhV", opts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			run_dir = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'c':
			ctl = optarg;
			break;
		case 'm':
			if (parse_size(optarg, &cfg->shm_size) < 0 ||
			    cfg->shm_size < (64 << 10) ||
			    cfg->shm_size > (1ull << 34) ||
			    (cfg->shm_size & (cfg->shm_size - 1))) {
				fprintf(stderr, "pva-host: --shm-size: '%s' is not a power of two between 64K and 16G\n",
					optarg);
				return -1;
			}
			break;
		case 'n':
			if (parse_uint("--vectors", optarg, PVA_MAX_VECTORS,
				       &cfg->vectors) || !cfg->vectors) {
				if (!cfg->vectors)
					fprintf(stderr, "pva-host: --vectors: must be 1-%d\n",
						PVA_MAX_VECTORS);
				return -1;
			}
			break;
		case OPT_NO_RESTART:
			cfg->restart_worker = false;
			break;
		case OPT_NO_ECHO:
			cfg->echo = false;
			break;
		case OPT_NO_BALLOON:
			cfg->balloon = false;
			break;
		case OPT_SHARE:
			if (parse_share(cfg, optarg) < 0)
				return -1;
			break;
		case OPT_NO_SF:
			cfg->sf = false;
			break;
		case OPT_NO_DISPLAY:
			cfg->display = false;
			break;
		case OPT_VNC:
			cfg->vnc = optarg;
			break;
		case OPT_NO_AGENT:
			cfg->agent = false;
			break;
		case OPT_CLIP_MAX:
			if (parse_size(optarg, &cfg->clip_max) ||
			    !cfg->clip_max || cfg->clip_max > (1ull << 30)) {
				fprintf(stderr, "pva-host: --clipboard-max: '%s' is not a size of 1 byte to 1G\n",
					optarg);
				return -1;
			}
			break;
		case OPT_AGENT_SOCKET:
			cfg->agent_socket = optarg;
			break;
		case OPT_TIME_SYNC:
			if (parse_uint("--time-sync-interval", optarg, 86400,
				       &cfg->time_sync_interval) < 0)
				return -1;
			break;
		case OPT_DISPLAY_SIZE:
			if (parse_display_size(optarg, &cfg->display_width,
					       &cfg->display_height) < 0) {
				fprintf(stderr, "pva-host: --display-size: '%s' is not WIDTHxHEIGHT, each %d-%d\n",
					optarg, PVA_DISPLAY_MIN_DIM,
					PVA_DISPLAY_MAX_DIM);
				return -1;
			}
			break;
		case OPT_GUEST_RAM:
			free(cfg->guest_ram);
			cfg->guest_ram = strdup(optarg);
			break;
		case OPT_RAM_LAYOUT:
			if (!guest_ram_layout_valid(optarg)) {
				fprintf(stderr, "pva-host: --ram-layout: '%s' is not q35, virt or flat\n",
					optarg);
				return -1;
			}
			cfg->ram_layout = optarg;
			break;
		case 'v':
			cfg->log_level = LOG_DEBUG;
			break;
		case 'q':
			cfg->log_level = LOG_WARNING;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("pva-host %s (protocol %d.%d)\n", PVA_HOST_VERSION,
			       PVA_VERSION_MAJOR, PVA_VERSION_MINOR);
			return 1;
		case OPT_MAJOR_MIN:
			if (parse_uint("--proto-major-min", optarg, 0xffff,
				       &cfg->major_min))
				return -1;
			break;
		case OPT_MAJOR_MAX:
			if (parse_uint("--proto-major-max", optarg, 0xffff,
				       &cfg->major_max))
				return -1;
			break;
		case OPT_MINOR:
			if (parse_uint("--proto-minor", optarg, 0xffff,
				       &cfg->minor))
				return -1;
			break;
		case OPT_FEATURES: {
			char *end;

			errno = 0;
			cfg->features = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end) {
				fprintf(stderr, "pva-host: --features: invalid mask '%s'\n",
					optarg);
				return -1;
			}
			break;
		}
		case OPT_TEST_SERVICE:
			if (!testsvc_find(optarg) || cfg->nr_test_services == 4) {
				fprintf(stderr, "pva-host: --test-service: '%s' is not selftest, sf or display\n",
					optarg);
				return -1;
			}
			for (unsigned int i = 0; i < cfg->nr_test_services; i++) {
				if (!strcmp(cfg->test_services[i], optarg)) {
					fprintf(stderr, "pva-host: --test-service: %s given twice\n",
						optarg);
					return -1;
				}
			}
			cfg->test_services[cfg->nr_test_services++] = optarg;
			break;
		case OPT_WORKER_FD:
			if (parse_uint("--worker-fd", optarg, INT_MAX, &u))
				return -1;
			cfg->worker_fd = (int)u;
			break;
		default:
			fprintf(stderr, "Try 'pva-host --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pva-host: unexpected argument '%s'\nTry 'pva-host --help'.\n",
			argv[optind]);
		return -1;
	}
	if (cfg->major_min > cfg->major_max || !cfg->major_min) {
		fprintf(stderr, "pva-host: --proto-major-min must be between 1 and --proto-major-max\n");
		return -1;
	}
	cfg->socket_path = sock ? strdup(sock) : join(run_dir, "qemu.sock");
	cfg->ctl_path = ctl ? strdup(ctl) : join(run_dir, "ctl.sock");
	cfg->sf_state = state_path(cfg->ctl_path);
	if (!cfg->socket_path || !cfg->ctl_path || !cfg->sf_state)
		return -1;
	return 0;
}

void config_free(struct host_config *cfg)
{
	free(cfg->socket_path);
	free(cfg->ctl_path);
	free(cfg->exe);
	free(cfg->guest_ram);
	free(cfg->sf_state);
	for (unsigned int i = 0; i < cfg->nr_shares; i++) {
		free(cfg->shares[i].name);
		free(cfg->shares[i].path);
	}
	free(cfg->shares);
	cfg->shares = NULL;
	cfg->nr_shares = 0;
	cfg->sf_state = NULL;
	cfg->socket_path = cfg->ctl_path = cfg->exe = cfg->guest_ram = NULL;
}
