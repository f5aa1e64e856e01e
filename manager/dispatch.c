// SPDX-License-Identifier: MIT
/*
 * "kvmini define ..." and the other manager commands run the manager
 * binary beside kvmini: the VMM itself stays free of libxml2 (and the ICU
 * it pulls in), which would double its memory beyond guest RAM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "manager/manager.h"

static const char *const commands[] = { "define",  "undefine", "start",	      "shutdown", "destroy",
					"reboot",  "suspend",  "resume",      "list",	  "dominfo",
					"dumpxml", "console",  "--state-dir", NULL };

bool manager_command(const char *cmd)
{
	for (int i = 0; commands[i]; i++)
		if (!strcmp(cmd, commands[i]))
			return true;
	return false;
}

int sibling_path(const char *name, char *out, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	char *slash;

	if (n <= 0)
		return -1;
	out[n] = 0;
	slash = strrchr(out, '/');
	if (!slash || (size_t)(slash + 1 - out) + strlen(name) >= size)
		return -1;
	strcpy(slash + 1, name);
	return 0;
}

int manager_exec(char **argv)
{
	char path[4096];

	if (sibling_path("kvmini-manager", path, sizeof(path)) == 0)
		execv(path, argv);
	fprintf(stderr, "error: cannot run the manager (%s): %s\n", path, strerror(errno));
	return 1;
}
