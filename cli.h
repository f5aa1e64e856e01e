/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_CLI_H
#define KVMINI_CLI_H

#include <stdbool.h>

#include "security/jail.h"
#include "security/seccomp.h"
#include "vm.h"

#define DEFAULT_MEM_SIZE (256ULL << 20)
#define DEFAULT_CONSOLE_MAX (16ULL << 20)

struct run_options {
	struct vm_config vm;
	bool demo;
	enum seccomp_mode seccomp;
	bool jailed;
	struct jail_config jail;
	const char *api_sock;
	const char *config_file;
	const char *console_sock;
};

/*
 * Parses the arguments of "kvmini run". Returns 0, or EXIT_BAD_INPUT after
 * printing a one-line error naming the bad option.
 */
int cli_parse_run(int argc, char **argv, struct run_options *opts);

void cli_usage(FILE *out);

#endif
