/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_X86_LAYOUT_H
#define KVMINI_X86_LAYOUT_H

/*
 * Guest-physical layout below 1 MiB. Everything kvmini writes for the
 * guest lives here, out of the kernel's way; 0x8000-0x1ffff stays free for
 * the guest's own AP trampoline.
 */
#define BOOT_GDT_ADDR 0x500ULL
#define BOOT_GDTR_ADDR 0x530ULL /* lgdt operand for the PVH stub */
#define BOOT_PVH_STUB_ADDR 0x540ULL
#define BOOT_PML4_ADDR 0x1000ULL
#define BOOT_PDPT_ADDR 0x2000ULL
#define BOOT_PD_ADDR 0x3000ULL /* four pages: 4 GiB in 2 MiB pages */
#define BOOT_INFO_ADDR 0x7000ULL /* boot_params, or hvm_start_info and its tables */
#define BOOT_CMDLINE_ADDR 0x20000ULL
#define BOOT_CMDLINE_MAX 0x10000ULL
#define EBDA_START 0x9fc00ULL
#define ACPI_TABLES_ADDR 0xe0000ULL /* in the BIOS area, where an RSDP scan looks */
#define ACPI_TABLES_SIZE 0x20000ULL
#define HIMEM_START 0x100000ULL

#define IOAPIC_ADDR 0xfec00000ULL
#define LAPIC_ADDR 0xfee00000ULL

/* GDT selectors; 0x10 and 0x18 are what the Linux boot protocol requires. */
#define GDT_CODE32 0x08
#define GDT_CODE64 0x10
#define GDT_DATA 0x18
#define GDT_TSS 0x20

/* The smallest RAM kvmini accepts: boot structures plus a little himem. */
#define MIN_RAM_SIZE (4ULL << 20)

#endif
