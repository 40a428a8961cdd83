// SPDX-License-Identifier: MIT
/* pva-host: the host side of the pva device. See pva-host(8). */
#include <stdio.h>

#include "config.h"
#include "keeper.h"
#include "log.h"
#include "worker.h"

int main(int argc, char **argv)
{
	struct host_config cfg;
	int ret = config_parse(&cfg, argc, argv);

	if (ret) {
		config_free(&cfg);
		return ret < 0 ? 2 : 0;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (cfg.worker_fd >= 0) {
		log_init("pva-host-worker", cfg.log_level);
		ret = worker_main(&cfg);
	} else {
		log_init("pva-host", cfg.log_level);
		ret = keeper_main(&cfg);
	}
	config_free(&cfg);
	return ret;
}
