/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_MANAGER_RUN_H
#define KVMINI_MANAGER_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "manager/backend.h"

/* Prints "error: ..." to stderr; returns 1, the commands' failure status. */
int mgr_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A small file read whole (NUL-terminated) or replaced atomically; 0 or -1. */
int read_text(const char *path, char *buf, size_t size);
int write_text(const char *path, const char *text);

const struct backend_ops *backend_of(const struct domain *d);
const char *state_name(enum run_state s);

/* The pid of the domain's VMM, or 0 when none runs. */
pid_t live_pid(const struct domain_paths *p);
/* Whether @pid runs (a zombie does not); waits up to @ms for it to end. */
bool alive(pid_t pid);
void wait_gone(pid_t pid, int ms);

/* Where the domain stands; a VMM whose guest ended is reaped, @reason kept. */
enum run_state domain_state(const struct domain *d, const struct domain_paths *p, char *reason,
			    size_t len);
/* Records that the run ended, and why; drops the taps made for it. */
void stopped(const struct domain *d, const struct domain_paths *p, const char *reason);

/* Taps for <interface type='bridge'>, created persistent and enslaved. */
int make_bridge_taps(const struct domain *d);
/* Starts the domain's engine detached, its pid in the pid file; 0 or 1. */
int spawn(const struct domain *d, const struct domain_paths *p);
void print_log_tail(const char *path);

#endif
