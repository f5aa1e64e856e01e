// SPDX-License-Identifier: MIT
/*
 * --config-file: hostile JSON through the section checks and into a VM
 * spec, as kvmini does before booting; a spec that decodes must encode
 * and decode again to itself.
 */
#include <stdlib.h>

#include "api/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_spec spec, again;
	struct config_error err;
	json_t *file = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	json_t *doc, *doc2;

	if (!file)
		return 0;
	if (!config_to_spec(file, "fuzz.json", &spec, &err)) {
		if (spec_check(&spec, err.msg, sizeof(err.msg)))
			abort();
		doc = config_from_spec(&spec);
		if (config_to_spec(doc, "again", &again, &err))
			abort();
		doc2 = config_from_spec(&again);
		if (!json_equal(doc, doc2))
			abort();
		json_decref(doc);
		json_decref(doc2);
	}
	json_decref(file);
	return 0;
}
