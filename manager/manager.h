/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_MANAGER_H
#define KVMINI_MANAGER_H

#include <stdbool.h>

/* Is @cmd one of the manager's (virsh-style) commands? */
bool manager_command(const char *cmd);
/* Runs one: argv[0] is the command. Returns the process exit status. */
int manager_main(int argc, char **argv);

#endif
