// SPDX-License-Identifier: MIT
/*
 * The ELF/PVH and bzImage loaders fed hostile kernel files: whatever the
 * bytes, x86_load_kernel() must reject them or load them inside RAM.
 */
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "fuzz/fuzz.h"

#define RAM (32 << 20)

static int fuzz_one(const uint8_t *data, size_t size)
{
	static uint8_t *ram_bytes;
	struct guest_ram ram = { .size = RAM, .low_size = RAM, .fd = -1 };
	struct boot_setup setup;
	static const uint8_t initrd[4096] = { 1 };
	struct boot_args args = {
		.kernel = data,
		.kernel_len = size,
		.initrd = initrd,
		.initrd_len = sizeof(initrd),
		.cmdline = "console=ttyS0",
		.rsdp_addr = 0xe0000,
	};

	if (!ram_bytes)
		ram_bytes = malloc(RAM);
	ram.host = ram_bytes;
	x86_load_kernel(&ram, &args, &setup);
	return 0;
}

FUZZ_TARGET_AS(ROLE_BUILDER)
