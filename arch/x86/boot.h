/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_X86_BOOT_H
#define KVMINI_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "memory.h"

enum e820_type {
	E820_RAM = 1,
	E820_RESERVED = 2,
};

struct memory_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

#define MAX_MEMORY_RANGES 8

/* The guest's memory map; the e820 table and the PVH memmap both use it. */
int x86_memory_map(const struct guest_ram *ram, struct memory_range *out, int max);

enum boot_mode {
	BOOT_PVH, /* 32-bit protected mode, %ebx = hvm_start_info */
	BOOT_LINUX64, /* 64-bit boot protocol, %rsi = boot_params */
};

struct boot_args {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd;
	size_t initrd_len;
	const char *cmdline;
	uint64_t rsdp_addr;
};

struct boot_setup {
	enum boot_mode mode;
	uint64_t entry;
	uint64_t info_addr;
	uint64_t kernel_start;
	uint64_t kernel_end;
	uint64_t initrd_addr;
};

/*
 * Loads a kernel (format detected from its bytes), the initrd and the
 * cmdline into guest RAM and writes the boot information the entry point
 * expects. Returns 0, or -1 after logging what is wrong with the input.
 */
int x86_load_kernel(const struct guest_ram *ram, const struct boot_args *args,
		    struct boot_setup *setup);

/* Format-specific halves, exposed for the unit tests and fuzzers. */
int pvh_load(const struct guest_ram *ram, const struct boot_args *args, struct boot_setup *setup);
int bzimage_load(const struct guest_ram *ram, const struct boot_args *args,
		 struct boot_setup *setup);

/* Shared by both loaders: places the initrd as high as @limit allows. */
int place_initrd(const struct guest_ram *ram, const struct boot_args *args, uint64_t limit,
		 struct boot_setup *setup);
int place_cmdline(const struct guest_ram *ram, const char *cmdline, uint64_t max_len);

/* hvm_start_info, from Xen's public/arch-x86/hvm/start_info.h. */
#define HVM_START_MAGIC 0x336ec578U
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#endif
