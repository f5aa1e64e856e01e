/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_BACKEND_H
#define KVMINI_BACKEND_H

#include <stdbool.h>
#include <sys/types.h>

#include "manager/domain.h"

/* Where one domain's files live, under the state directory. */
struct domain_paths {
	char dir[512];
	char xml[600], pid[600], api[600], qmp[600], console[600], log[600], reason[600],
	    config[600], vsock[600];
};

enum run_state {
	STATE_SHUTOFF,
	STATE_RUNNING,
	STATE_PAUSED,
	STATE_EXITED
};

struct run_info {
	enum run_state state;
	int exit_code; /* STATE_EXITED: the guest's exit status */
};

/*
 * One engine that runs a domain. The manager owns the process (spawn,
 * pid file, signals); a back end knows its command line and how to talk
 * to it. Each returns 0, or -1 after printing why.
 */
struct backend_ops {
	const char *name;
	/* The command line that runs @d; strings in a static buffer. */
	int (*argv)(const struct domain *d, const struct domain_paths *p, char **argv, int max);
	/* Answers once the engine serves its control socket. */
	int (*info)(const struct domain *d, const struct domain_paths *p, struct run_info *info);
	int (*pause)(const struct domain_paths *p, bool pause);
	/* Asks the guest to power off (@reboot: to reboot). */
	int (*request_shutdown)(const struct domain_paths *p, bool reboot);
};

extern const struct backend_ops backend_kvmini, backend_qemu;

/*
 * A request on a Unix socket: @out gets the reply (NUL-terminated) until
 * the peer closes, @complete says it is whole, or @timeout_ms passes.
 * Returns its length, or -1.
 */
long unix_request(const char *path, const char *request, char *out, size_t size, int timeout_ms,
		  bool (*complete)(const char *reply));

#endif
