/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_SECCOMP_H
#define KVMINI_SECCOMP_H

enum seccomp_mode {
	SECCOMP_KILL, /* default: a forbidden syscall kills the process (SIGSYS) */
	SECCOMP_LOG, /* allow, but log to the audit log */
	SECCOMP_TRAP, /* raise SIGSYS in the thread: the fuzzers report it as a crash */
	SECCOMP_OFF,
};

enum thread_role {
	/*
	 * The main thread, which builds each VM (again on a restart) and so
	 * creates every other thread: its list holds all of theirs, because
	 * a thread inherits its creator's filter and the two stack.
	 */
	ROLE_BUILDER,
	ROLE_MAIN, /* the VM's own thread: console, signals, exits */
	ROLE_VCPU,
	/* virtio device threads, one list per kind of device */
	ROLE_IO_BLK,
	ROLE_IO_NET,
	ROLE_IO_RNG,
	ROLE_IO_VSOCK,
	ROLE_API, /* the API server thread */
};

/*
 * Installs the allow-list for @role on the calling thread only; each
 * thread calls it once its setup is done. Returns 0, or -1 after logging.
 */
int seccomp_apply(enum thread_role role);

void seccomp_set_mode(enum seccomp_mode mode);

#endif
