/* SPDX-License-Identifier: MIT */
/* Sending and receiving file descriptors over UNIX sockets (SCM_RIGHTS). */
#ifndef PVA_HOST_FDPASS_H
#define PVA_HOST_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX	70

/* Send @len bytes with @nfds descriptors attached; 0 or -errno. */
int fdpass_send(int sock, const void *buf, size_t len, const int *fds,
		int nfds);
/*
 * Receive one message of at most @len bytes and at most *@nfds
 * descriptors (all marked close-on-exec); *@nfds is set to the number
 * received. Returns the byte count, 0 on EOF, or -errno. Extra or
 * truncated descriptors are closed and reported as -EBADMSG.
 */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, int *nfds);

#endif
