/* SPDX-License-Identifier: MIT */
/*
 * The keeper: pva-host's long-lived process. It owns everything that must
 * survive a worker restart (QEMU only does the ivshmem handshake once): the
 * shared memory, the listening sockets, the QEMU connection and every
 * eventfd. It runs the worker and hands it those descriptors over a
 * socketpair with these messages.
 */
#ifndef PVA_HOST_KEEPER_H
#define PVA_HOST_KEEPER_H

#include <stdint.h>

#include "config.h"

enum keeper_msg_type {
	KMSG_INIT = 1,		/* fds: shm, ctl listener, host eventfds */
	KMSG_GUEST_UP,		/* fds: the guest's eventfds */
	KMSG_GUEST_DOWN,	/* QEMU disconnected */
};

struct keeper_msg {
	uint32_t type;
	uint32_t nvec;		/* eventfds attached */
	uint32_t peer_id;	/* GUEST_UP: the guest's ivshmem peer id */
	uint32_t restarts;	/* INIT: workers started before this one */
};

#define WORKER_EXIT_RESTART	75	/* worker asks to be restarted */
#define WORKER_EXIT_CONFIG	78	/* settings cannot work: do not retry */

int keeper_main(struct host_config *cfg);

#endif
