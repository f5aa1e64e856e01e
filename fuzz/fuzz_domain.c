// SPDX-License-Identifier: MIT
/*
 * libvirt domain XML as the manager reads it: hostile documents through
 * the parser, and every accepted one formatted and parsed again, which
 * must give the same domain.
 */
#include <stdlib.h>
#include <string.h>

#include "manager/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct domain d, again;
	char err[512];
	char *xml;

	if (domain_parse((const char *)data, size, "fuzz.xml", &d, err, sizeof(err)))
		return 0;
	xml = domain_format(&d);
	if (!xml || domain_parse(xml, strlen(xml), "again.xml", &again, err, sizeof(err)) ||
	    memcmp(&d, &again, sizeof(d)))
		abort();
	free(xml);
	return 0;
}
