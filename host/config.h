/* SPDX-License-Identifier: MIT */
/* pva-host's settings, parsed once from the command line. */
#ifndef PVA_HOST_CONFIG_H
#define PVA_HOST_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define PVA_HOST_VERSION	"0.1.0"
#define PVA_DEFAULT_RUN_DIR	"/run/pva-host"

struct host_config {
	char *socket_path;	/* QEMU's ivshmem-doorbell chardev */
	char *ctl_path;		/* pva-hostctl */
	uint64_t shm_size;
	unsigned int vectors;
	bool restart_worker;	/* keeper restarts a dead worker */
	bool echo;		/* offer the "echo" test channel */
	bool balloon;		/* offer the memory balloon */
	bool sf;		/* offer shared folders */
	struct config_share {
		char *name, *path;	/* path: absolute, resolved */
		bool ro;
	} *shares;		/* --share NAME=PATH[,ro] */
	unsigned int nr_shares;
	bool display;		/* offer the display */
	unsigned int display_width, display_height;	/* head 0 at start */
	const char *vnc;	/* --vnc [HOST:]PORT, or NULL */
	bool agent;		/* offer the desktop agent's channel */
	uint64_t clip_max;	/* clipboard contents, bytes */
	const char *agent_socket;	/* --agent-socket, or NULL */
	unsigned int time_sync_interval;	/* seconds; 0: none */
	char *sf_state;		/* runtime shares, for a restarted worker */
	char *guest_ram;	/* file backing the guest's RAM, or NULL */
	const char *ram_layout;	/* q35, virt or flat */
	int log_level;
	/* protocol switches, for version-skew tests */
	unsigned int major_min, major_max, minor;
	uint64_t features;	/* offered; defaults to all known */
	const char *test_services[4];	/* --test-service TYPE */
	unsigned int nr_test_services;
	/* internal: set in the worker process */
	int worker_fd;
	char **argv;		/* the command line, to start a worker */
	char *exe;		/* our own binary */
};

/* Parse; on error print a message and return -1; 1 for --help/--version. */
int config_parse(struct host_config *cfg, int argc, char **argv);
void config_free(struct host_config *cfg);

#endif
