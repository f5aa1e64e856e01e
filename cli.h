/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_CLI_H
#define KVMINI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "security/jail.h"
#include "security/seccomp.h"
#include "spec.h"

struct run_options {
	struct vm_spec spec;
	bool demo;
	enum seccomp_mode seccomp;
	bool jailed;
	struct jail_config jail;
	const char *api_sock;
	const char *config_file;
};

/*
 * Parses the arguments of "kvmini run" into the VM spec: the config file
 * first, when there is one, then each flag through the spec's JSON codec,
 * so that a flag and the API field it stands for are checked alike.
 * Returns 0, or EXIT_BAD_INPUT after printing a one-line error naming the
 * bad option.
 */
int cli_parse_run(int argc, char **argv, struct run_options *opts);

void cli_usage(FILE *out);

#endif
