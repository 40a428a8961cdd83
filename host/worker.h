/* SPDX-License-Identifier: MIT */
#ifndef PVA_HOST_WORKER_H
#define PVA_HOST_WORKER_H

#include "config.h"

/* Run the worker process (started by the keeper with --worker-fd). */
int worker_main(struct host_config *cfg);

#endif
