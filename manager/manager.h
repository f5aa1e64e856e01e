/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_MANAGER_H
#define KVMINI_MANAGER_H

#include <stdbool.h>

#include <stddef.h>

/* Is @cmd one of the manager's (virsh-style) commands? (dispatch.c) */
bool manager_command(const char *cmd);
/* Runs the kvmini-manager binary beside this one with kvmini's @argv; on failure, 1. */
int manager_exec(char **argv);
/* The path of @name in this executable's directory; 0 or -1. */
int sibling_path(const char *name, char *out, size_t size);

/* Runs one command: argv[0] is the command. Returns the exit status. */
int manager_main(int argc, char **argv);

#endif
