// SPDX-License-Identifier: MIT
/*
 * --config-file: hostile JSON through the section checks and into a
 * struct vm_config, as kvmini does before booting.
 */
#include <stdlib.h>

#include "api/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_error err;
	struct vm_config vm;
	char cmdline[8192];
	json_t *file = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	json_t *doc;

	if (!file)
		return 0;
	doc = config_from_file(file, "fuzz.json", &err);
	if (doc && !config_to_vm(doc, &vm, cmdline, sizeof(cmdline), &err)) {
		if (vm.cpus < 1 || vm.cpus > MAX_VCPUS || vm.ndisks > MAX_DISKS ||
		    vm.nnics > MAX_NICS || !vm.kernel)
			abort();
		json_decref(config_from_vm(&vm));
	}
	json_decref(doc);
	return 0;
}
