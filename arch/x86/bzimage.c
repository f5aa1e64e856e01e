// SPDX-License-Identifier: MIT
/*
 * Linux x86 boot protocol, 64-bit entry: the protected-mode kernel is
 * loaded at 1 MiB and entered at +0x200 in long mode with %rsi pointing at
 * boot_params (the zero page). Field offsets are those of
 * Documentation/arch/x86/boot.rst.
 */
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "util.h"

#define BP_ACPI_RSDP 0x070
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_SECTS 0x1f1
#define BP_BOOT_FLAG 0x1fe
#define BP_HEADER_END 0x201
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_RELOCATABLE 0x234
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_PREF_ADDRESS 0x258
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01

static int write_boot_params(const struct guest_ram *ram, const struct boot_args *args,
			     const struct boot_setup *setup)
{
	uint8_t *bp = gpa_to_host(ram, BOOT_INFO_ADDR, 4096);
	const uint8_t *k = args->kernel;
	size_t hdr_end = 0x202 + k[BP_HEADER_END];
	struct memory_range ranges[MAX_MEMORY_RANGES];
	int n = x86_memory_map(ram, ranges, MAX_MEMORY_RANGES);

	if (!bp || n < 0)
		return -1;
	if (hdr_end > 0x280)
		hdr_end = 0x280;
	memset(bp, 0, 4096);
	memcpy(bp + BP_SETUP_SECTS, k + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
	bp[BP_TYPE_OF_LOADER] = 0xff;
	store_le(bp + BP_CMD_LINE_PTR, 4, BOOT_CMDLINE_ADDR);
	store_le(bp + BP_RAMDISK_IMAGE, 4, setup->initrd_addr);
	store_le(bp + BP_RAMDISK_SIZE, 4, setup->initrd_addr ? args->initrd_len : 0);
	store_le(bp + BP_ACPI_RSDP, 8, args->rsdp_addr);
	bp[BP_E820_ENTRIES] = n;
	for (int i = 0; i < n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;

		store_le(e, 8, ranges[i].addr);
		store_le(e + 8, 8, ranges[i].size);
		store_le(e + 16, 4, ranges[i].type);
	}
	return 0;
}

int bzimage_load(const struct guest_ram *ram, const struct boot_args *args,
		 struct boot_setup *setup)
{
	const uint8_t *k = args->kernel;
	size_t len = args->kernel_len;
	uint32_t version, setup_size, payload, init_size, initrd_max, cmdline_size;
	uint64_t load_addr, span;
	uint8_t *dst;

	if (len < 0x270 || k[BP_BOOT_FLAG] != 0x55 || k[BP_BOOT_FLAG + 1] != 0xaa) {
		log_error("kernel: bzImage setup header is truncated or lacks the 0xAA55 flag");
		return -1;
	}
	version = k[BP_VERSION] | k[BP_VERSION + 1] << 8;
	if (version < 0x20c) {
		log_error("kernel: boot protocol %u.%02u is too old; kvmini needs 2.12 for the "
			  "64-bit entry",
			  version >> 8, version & 0xff);
		return -1;
	}
	if (!(k[BP_LOADFLAGS] & LOADED_HIGH) || !(k[BP_XLOADFLAGS] & XLF_KERNEL_64)) {
		log_error("kernel: bzImage is not a 64-bit kernel loadable at 1 MiB");
		return -1;
	}
	setup_size = ((k[BP_SETUP_SECTS] ? k[BP_SETUP_SECTS] : 4) + 1) * 512;
	if (setup_size + 0x200 >= len) {
		log_error("kernel: bzImage is truncated (%zu bytes, setup alone is %u)", len,
			  setup_size);
		return -1;
	}
	payload = len - setup_size;
	init_size = load_le(k + BP_INIT_SIZE, 4);
	load_addr = k[BP_RELOCATABLE] ? HIMEM_START : load_le(k + BP_PREF_ADDRESS, 8);
	span = init_size > payload ? init_size : payload;
	dst = gpa_to_host(ram, load_addr, span);
	if (load_addr < HIMEM_START || !dst) {
		log_error("kernel: bzImage needs 0x%llx bytes of RAM at 0x%llx; raise --memory",
			  (unsigned long long)span, (unsigned long long)load_addr);
		return -1;
	}
	memcpy(dst, k + setup_size, payload);
	setup->mode = BOOT_LINUX64;
	setup->entry = load_addr + 0x200;
	setup->info_addr = BOOT_INFO_ADDR;
	setup->kernel_start = load_addr;
	setup->kernel_end = load_addr + span;

	cmdline_size = load_le(k + BP_CMDLINE_SIZE, 4);
	initrd_max = load_le(k + BP_INITRD_ADDR_MAX, 4);
	if (place_cmdline(ram, args->cmdline, cmdline_size) ||
	    place_initrd(ram, args, (uint64_t)initrd_max + 1, setup))
		return -1;
	return write_boot_params(ram, args, setup);
}
