/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_JAIL_H
#define KVMINI_JAIL_H

#include <stdbool.h>
#include <sys/types.h>

struct vm_spec;
struct vm_host;

#define JAIL_MAX_LIMITS 8

/* A cgroup v2 interface file of the VM's leaf and its value ("pids.max", "64"). */
struct jail_cgroup_limit {
	char file[48];
	char value[64];
};

struct jail_config {
	char root[512]; /* per-VM directory that becomes / */
	uid_t uid;
	gid_t gid;
	bool new_netns;
	char netns_path[256]; /* join this network namespace (ip netns add), or "" */
	struct jail_cgroup_limit limits[JAIL_MAX_LIMITS];
	int nlimits;
};

/*
 * Parses "DIR[,uid=N][,gid=N][,netns|netns=PATH][,cgroup=FILE=VALUE]...".
 * Returns 0, or -1 after logging.
 */
int jail_config_parse(const char *spec, struct jail_config *jail);

/*
 * Moves this process into a jail, in the manner of Firecracker's jailer:
 * new mount, PID, IPC and UTS (and optionally network) namespaces, a
 * pivot_root into jail->root holding only /dev/kvm, /dev/net/tun and the
 * VM's disks (bind-mounted; their paths in @spec are rewritten), a
 * cgroup v2 leaf when one is available, rlimits, every fd but @host's
 * and the handed-over taps closed and
 * the environment cleared. The caller continues as PID 1 of the new PID
 * namespace; the original process only waits, forwards SIGTERM, SIGINT
 * and SIGHUP, removes the cgroup leaf and passes on the exit status (this
 * function does not return there). Nothing in DIR is followed if it is a
 * symlink, and a DIR another user could write is refused. Returns 0, or
 * an EXIT_* code after logging.
 */
int jail_enter(const struct jail_config *jail, struct vm_spec *spec, const struct vm_host *host);

/* Drops to the jail's uid and gid; called before the first KVM_RUN. */
int jail_drop_privileges(const struct jail_config *jail);

#endif
