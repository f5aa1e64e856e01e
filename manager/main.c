// SPDX-License-Identifier: MIT
/* kvmini-manager: what "kvmini define|start|list|..." runs. */
#include "manager/manager.h"

int main(int argc, char **argv)
{
	return manager_main(argc - 1, argv + 1);
}
