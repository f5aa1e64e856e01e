// SPDX-License-Identifier: MIT
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "util.h"

int x86_memory_map(const struct guest_ram *ram, struct memory_range *out, int max)
{
	uint64_t high = ram->size - ram->low_size;
	struct memory_range map[] = {
		{ 0, EBDA_START, E820_RAM },
		{ EBDA_START, 0xa0000 - EBDA_START, E820_RESERVED },
		{ ACPI_TABLES_ADDR, HIMEM_START - ACPI_TABLES_ADDR, E820_RESERVED },
		{ HIMEM_START, ram->low_size - HIMEM_START, E820_RAM },
		{ MMIO_HOLE_END, high, E820_RAM },
	};
	int n = high ? 5 : 4;

	if (ram->low_size <= HIMEM_START || n > max)
		return -1;
	memcpy(out, map, n * sizeof(map[0]));
	return n;
}

int place_cmdline(const struct guest_ram *ram, const char *cmdline, uint64_t max_len)
{
	size_t len = strlen(cmdline);
	char *dst;

	if (len > max_len || len >= BOOT_CMDLINE_MAX) {
		log_error("kernel cmdline is %zu bytes; this kernel accepts at most %llu", len,
			  (unsigned long long)(max_len < BOOT_CMDLINE_MAX - 1
						   ? max_len
						   : BOOT_CMDLINE_MAX - 1));
		return -1;
	}
	dst = gpa_to_host(ram, BOOT_CMDLINE_ADDR, len + 1);
	if (!dst)
		return -1;
	memcpy(dst, cmdline, len + 1);
	return 0;
}

int place_initrd(const struct guest_ram *ram, const struct boot_args *args, uint64_t limit,
		 struct boot_setup *setup)
{
	uint64_t top = limit < ram->low_size ? limit : ram->low_size;
	uint64_t addr;

	setup->initrd_addr = 0;
	if (!args->initrd)
		return 0;
	if (args->initrd_len > top ||
	    ALIGN_DOWN(top - args->initrd_len, 4096) < setup->kernel_end) {
		log_error("initrd of %zu bytes does not fit in guest RAM between the kernel "
			  "(ends at 0x%llx) and 0x%llx; raise --memory",
			  args->initrd_len, (unsigned long long)setup->kernel_end,
			  (unsigned long long)top);
		return -1;
	}
	addr = ALIGN_DOWN(top - args->initrd_len, 4096);
	memcpy(gpa_to_host(ram, addr, args->initrd_len), args->initrd, args->initrd_len);
	setup->initrd_addr = addr;
	return 0;
}

int x86_load_kernel(const struct guest_ram *ram, const struct boot_args *args,
		    struct boot_setup *setup)
{
	const uint8_t *k = args->kernel;

	memset(setup, 0, sizeof(*setup));
	if (args->kernel_len >= 4 && !memcmp(k, "\177ELF", 4))
		return pvh_load(ram, args, setup);
	if (args->kernel_len >= 0x206 && !memcmp(k + 0x202, "HdrS", 4))
		return bzimage_load(ram, args, setup);
	log_error("kernel is neither an ELF vmlinux nor a bzImage (%zu bytes, no ELF magic "
		  "and no HdrS setup header)",
		  args->kernel_len);
	return -1;
}
