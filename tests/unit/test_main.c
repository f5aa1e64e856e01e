// SPDX-License-Identifier: MIT
#include <stdlib.h>

#include "unit.h"

struct guest_ram fake_ram(uint64_t size)
{
	struct guest_ram ram = { .fd = -1 };
	uint64_t high;

	ram.host = calloc(1, size);
	ram.size = size;
	guest_ram_split(size, &ram.low_size, &high);
	return ram;
}

void free_fake_ram(struct guest_ram *ram)
{
	free(ram->host);
}

int main(void)
{
	int failed = 0;

#define RUN_GROUP(name) failed += run_##name##_tests();
	UNIT_GROUPS(RUN_GROUP)
	return failed ? 1 : 0;
}
