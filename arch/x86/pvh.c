// SPDX-License-Identifier: MIT
/*
 * PVH boot: an ELF vmlinux entered in 32-bit protected mode at the address
 * its XEN_ELFNOTE_PHYS32_ENTRY note names, with %ebx = hvm_start_info.
 * The ABI allows ELF32 as well as ELF64 files; both are read here into the
 * 64-bit structures (the note header is the same in both).
 */
#include <elf.h>
#include <stdbool.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "util.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* Is [off, off + len) inside a file of @size bytes? */
static int in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static int find_pvh_entry(const uint8_t *elf, size_t size, const Elf64_Phdr *ph, uint64_t *entry)
{
	uint64_t off = ph->p_offset, end;

	if (!in_file(ph->p_offset, ph->p_filesz, size))
		return -1;
	end = ph->p_offset + ph->p_filesz;
	while (end - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr note;
		uint64_t name_len, desc_len;

		memcpy(&note, elf + off, sizeof(note));
		off += sizeof(note);
		name_len = ALIGN_UP((uint64_t)note.n_namesz, 4);
		desc_len = ALIGN_UP((uint64_t)note.n_descsz, 4);
		if (name_len > end - off || desc_len > end - off - name_len)
			return -1;
		if (note.n_type == XEN_ELFNOTE_PHYS32_ENTRY && note.n_namesz == 4 &&
		    !memcmp(elf + off, "Xen", 4)) {
			const uint8_t *desc = elf + off + name_len;

			if (note.n_descsz == 4) {
				uint32_t v;

				memcpy(&v, desc, 4);
				*entry = v;
				return 0;
			}
			if (note.n_descsz == 8) {
				memcpy(entry, desc, 8);
				return 0;
			}
			return -1;
		}
		off += name_len + desc_len;
	}
	return -1;
}

static int write_start_info(const struct guest_ram *ram, const struct boot_args *args,
			    const struct boot_setup *setup)
{
	struct hvm_start_info *info = gpa_to_host(ram, BOOT_INFO_ADDR, 0x400);
	struct hvm_modlist_entry *mod = (void *)((uint8_t *)info + 0x40);
	struct hvm_memmap_entry *map = (void *)((uint8_t *)info + 0x80);
	struct memory_range ranges[MAX_MEMORY_RANGES];
	int n = x86_memory_map(ram, ranges, MAX_MEMORY_RANGES);

	if (!info || n < 0)
		return -1;
	memset(info, 0, 0x400);
	*info = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = BOOT_CMDLINE_ADDR,
		.rsdp_paddr = args->rsdp_addr,
		.memmap_paddr = BOOT_INFO_ADDR + 0x80,
		.memmap_entries = n,
	};
	for (int i = 0; i < n; i++)
		map[i] = (struct hvm_memmap_entry){ .addr = ranges[i].addr,
						    .size = ranges[i].size,
						    .type = ranges[i].type };
	if (setup->initrd_addr) {
		info->nr_modules = 1;
		info->modlist_paddr = BOOT_INFO_ADDR + 0x40;
		*mod = (struct hvm_modlist_entry){ .paddr = setup->initrd_addr,
						   .size = args->initrd_len };
	}
	return 0;
}

/* The fields of the ELF header that loading needs, from ELF32 or ELF64. */
struct elf_info {
	bool is64;
	uint64_t phoff;
	uint16_t phnum;
};

static int read_elf_header(const uint8_t *elf, size_t size, struct elf_info *info)
{
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;
	size_t phentsize;

	if (size < sizeof(e64)) {
		log_error("kernel: truncated ELF header (%zu bytes)", size);
		return -1;
	}
	memcpy(&e64, elf, sizeof(e64));
	memcpy(&e32, elf, sizeof(e32));
	info->is64 = e64.e_ident[EI_CLASS] == ELFCLASS64;
	bool x86 = info->is64 ? e64.e_machine == EM_X86_64
			      : e32.e_ident[EI_CLASS] == ELFCLASS32 &&
				    (e32.e_machine == EM_386 || e32.e_machine == EM_X86_64);
	if (!x86) {
		log_error("kernel: ELF file is not an x86 kernel (ELF64 x86-64 or ELF32 i386)");
		return -1;
	}
	info->phoff = info->is64 ? e64.e_phoff : e32.e_phoff;
	info->phnum = info->is64 ? e64.e_phnum : e32.e_phnum;
	phentsize = info->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if ((info->is64 ? e64.e_phentsize : e32.e_phentsize) != phentsize || !info->phnum ||
	    !in_file(info->phoff, (uint64_t)info->phnum * phentsize, size)) {
		log_error("kernel: ELF program headers are missing or outside the file");
		return -1;
	}
	return 0;
}

/* Program header @i, widened to the 64-bit layout. */
static Elf64_Phdr read_phdr(const uint8_t *elf, const struct elf_info *info, int i)
{
	Elf64_Phdr ph;
	Elf32_Phdr p32;

	if (info->is64) {
		memcpy(&ph, elf + info->phoff + i * sizeof(ph), sizeof(ph));
		return ph;
	}
	memcpy(&p32, elf + info->phoff + i * sizeof(p32), sizeof(p32));
	return (Elf64_Phdr){ .p_type = p32.p_type,
			     .p_offset = p32.p_offset,
			     .p_paddr = p32.p_paddr,
			     .p_filesz = p32.p_filesz,
			     .p_memsz = p32.p_memsz };
}

int pvh_load(const struct guest_ram *ram, const struct boot_args *args, struct boot_setup *setup)
{
	const uint8_t *elf = args->kernel;
	size_t size = args->kernel_len;
	struct elf_info eh;
	uint64_t entry = 0, lo = UINT64_MAX, hi = 0;
	int have_entry = 0;

	if (read_elf_header(elf, size, &eh))
		return -1;
	for (int i = 0; i < eh.phnum; i++) {
		Elf64_Phdr ph = read_phdr(elf, &eh, i);
		uint8_t *dst;

		if (ph.p_type == PT_NOTE && !have_entry)
			have_entry = find_pvh_entry(elf, size, &ph, &entry) == 0;
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_filesz > ph.p_memsz || !in_file(ph.p_offset, ph.p_filesz, size)) {
			log_error("kernel: ELF segment %d lies outside the file (truncated?)", i);
			return -1;
		}
		dst = gpa_to_host(ram, ph.p_paddr, ph.p_memsz);
		if (ph.p_paddr < HIMEM_START || !dst) {
			log_error("kernel: ELF segment %d at 0x%llx+0x%llx is not in guest RAM "
				  "above 1 MiB; raise --memory?",
				  i, (unsigned long long)ph.p_paddr,
				  (unsigned long long)ph.p_memsz);
			return -1;
		}
		memcpy(dst, elf + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr < lo)
			lo = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > hi)
			hi = ph.p_paddr + ph.p_memsz;
	}
	if (!hi) {
		log_error("kernel: ELF file has no loadable segment");
		return -1;
	}
	if (!have_entry) {
		log_error("kernel: ELF file has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
			  "build it with CONFIG_PVH=y or boot its bzImage");
		return -1;
	}
	if (entry < lo || entry >= hi) {
		log_error("kernel: PVH entry 0x%llx is outside the loaded image",
			  (unsigned long long)entry);
		return -1;
	}
	setup->mode = BOOT_PVH;
	setup->entry = entry;
	setup->info_addr = BOOT_INFO_ADDR;
	setup->kernel_start = lo;
	setup->kernel_end = hi;
	if (place_cmdline(ram, args->cmdline, BOOT_CMDLINE_MAX - 1) ||
	    place_initrd(ram, args, MMIO_HOLE_START, setup))
		return -1;
	return write_start_info(ram, args, setup);
}
