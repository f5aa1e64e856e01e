// SPDX-License-Identifier: MIT
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "unit.h"
#include "util.h"

#define RAM_SIZE (64 * MiB)
#define ENTRY 0x100040

/* A minimal PVH vmlinux: one PT_LOAD at 1 MiB and a PT_NOTE with the entry. */
struct fake_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	struct {
		Elf64_Nhdr nh;
		char name[4];
		uint32_t entry;
	} note;
	uint8_t code[0x100];
};

static struct fake_elf make_elf(void)
{
	struct fake_elf e;

	memset(&e, 0, sizeof(e));
	memcpy(e.eh.e_ident, ELFMAG, SELFMAG);
	e.eh.e_ident[EI_CLASS] = ELFCLASS64;
	e.eh.e_machine = EM_X86_64;
	e.eh.e_phoff = offsetof(struct fake_elf, ph);
	e.eh.e_phentsize = sizeof(Elf64_Phdr);
	e.eh.e_phnum = 2;
	e.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD,
				.p_offset = offsetof(struct fake_elf, code),
				.p_paddr = HIMEM_START,
				.p_filesz = sizeof(e.code),
				.p_memsz = 0x2000 };
	e.ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE,
				.p_offset = offsetof(struct fake_elf, note),
				.p_filesz = sizeof(e.note) };
	e.note.nh = (Elf64_Nhdr){ .n_namesz = 4, .n_descsz = 4, .n_type = 18 };
	memcpy(e.note.name, "Xen", 4);
	e.note.entry = ENTRY;
	memset(e.code, 0x90, sizeof(e.code));
	return e;
}

static int load(struct guest_ram *ram, const void *kernel, size_t len, const void *initrd,
		size_t initrd_len, const char *cmdline, struct boot_setup *setup)
{
	struct boot_args args = {
		.kernel = kernel,
		.kernel_len = len,
		.initrd = initrd,
		.initrd_len = initrd_len,
		.cmdline = cmdline,
		.rsdp_addr = ACPI_TABLES_ADDR,
	};
	return x86_load_kernel(ram, &args, setup);
}

static void memory_map_matches_layout(void **state)
{
	struct guest_ram ram = fake_ram(RAM_SIZE);
	struct memory_range map[MAX_MEMORY_RANGES];
	uint64_t usable = 0;
	int n = x86_memory_map(&ram, map, MAX_MEMORY_RANGES);

	(void)state;
	assert_int_equal(n, 4);
	for (int i = 0; i < n; i++) {
		if (i)
			assert_true(map[i].addr >= map[i - 1].addr + map[i - 1].size);
		if (map[i].type == E820_RAM) {
			usable += map[i].size;
			assert_non_null(gpa_to_host(&ram, map[i].addr, map[i].size));
		}
	}
	assert_int_equal(usable, RAM_SIZE - (HIMEM_START - EBDA_START));
	assert_int_equal(map[3].addr + map[3].size, RAM_SIZE);
	free_fake_ram(&ram);

	/* Above 3 GiB the rest of RAM moves to 4 GiB. */
	struct guest_ram big = { .size = 5 * GiB };
	uint64_t high;

	guest_ram_split(big.size, &big.low_size, &high);
	n = x86_memory_map(&big, map, MAX_MEMORY_RANGES);
	assert_int_equal(n, 5);
	assert_int_equal(map[3].addr + map[3].size, MMIO_HOLE_START);
	assert_int_equal(map[4].addr, MMIO_HOLE_END);
	assert_int_equal(map[4].size, 2 * GiB);
}

static void pvh_loads_elf_and_start_info(void **state)
{
	struct guest_ram ram = fake_ram(RAM_SIZE);
	struct fake_elf elf = make_elf();
	struct boot_setup setup;
	uint8_t initrd[5000];
	struct hvm_start_info *info;
	struct hvm_memmap_entry *map;
	struct hvm_modlist_entry *mod;

	(void)state;
	memset(initrd, 0x5a, sizeof(initrd));
	assert_int_equal(
	    load(&ram, &elf, sizeof(elf), initrd, sizeof(initrd), "console=ttyS0", &setup), 0);
	assert_int_equal(setup.mode, BOOT_PVH);
	assert_int_equal(setup.entry, ENTRY);
	assert_memory_equal(ram.host + HIMEM_START, elf.code, sizeof(elf.code));
	assert_int_equal(ram.host[HIMEM_START + 0x1fff], 0); /* bss zeroed */

	info = gpa_to_host(&ram, setup.info_addr, sizeof(*info));
	assert_int_equal(info->magic, HVM_START_MAGIC);
	assert_int_equal(info->version, 1);
	assert_string_equal((char *)ram.host + info->cmdline_paddr, "console=ttyS0");
	assert_int_equal(info->rsdp_paddr, ACPI_TABLES_ADDR);
	assert_int_equal(info->memmap_entries, 4);
	map = gpa_to_host(&ram, info->memmap_paddr, 4 * sizeof(*map));
	assert_int_equal(map[3].addr, HIMEM_START);
	assert_int_equal(map[3].type, E820_RAM);
	assert_int_equal(info->nr_modules, 1);
	mod = gpa_to_host(&ram, info->modlist_paddr, sizeof(*mod));
	assert_int_equal(mod->size, sizeof(initrd));
	assert_int_equal(mod->paddr % 4096, 0);
	assert_true(mod->paddr + mod->size <= RAM_SIZE);
	assert_true(mod->paddr >= setup.kernel_end);
	assert_memory_equal(ram.host + mod->paddr, initrd, sizeof(initrd));
	free_fake_ram(&ram);
}

static void pvh_rejects_hostile_elf(void **state)
{
	struct guest_ram ram = fake_ram(RAM_SIZE);
	struct boot_setup setup;
	struct fake_elf elf;

	(void)state;
	elf = make_elf();
	assert_int_equal(load(&ram, &elf, 40, NULL, 0, "", &setup), -1); /* truncated header */
	assert_int_equal(load(&ram, &elf, sizeof(elf) - 0x80, NULL, 0, "", &setup), -1);

	elf = make_elf();
	elf.note.nh.n_type = 1; /* no PVH note */
	assert_int_equal(load(&ram, &elf, sizeof(elf), NULL, 0, "", &setup), -1);

	elf = make_elf();
	elf.note.nh.n_descsz = 0xfffffff0; /* note overruns its segment */
	assert_int_equal(load(&ram, &elf, sizeof(elf), NULL, 0, "", &setup), -1);

	elf = make_elf();
	elf.eh.e_phnum = 0xffff; /* program headers beyond the file */
	assert_int_equal(load(&ram, &elf, sizeof(elf), NULL, 0, "", &setup), -1);

	elf = make_elf();
	elf.ph[0].p_paddr = 0x7000; /* would overwrite boot data */
	assert_int_equal(load(&ram, &elf, sizeof(elf), NULL, 0, "", &setup), -1);

	elf = make_elf();
	elf.ph[0].p_paddr = RAM_SIZE - 0x1000; /* runs past the end of RAM */
	assert_int_equal(load(&ram, &elf, sizeof(elf), NULL, 0, "", &setup), -1);

	elf = make_elf();
	elf.ph[0].p_paddr = UINT64_MAX - 0x100; /* wraps */
	assert_int_equal(load(&ram, &elf, sizeof(elf), NULL, 0, "", &setup), -1);

	elf = make_elf();
	elf.ph[0].p_filesz = 0x3000; /* filesz > memsz */
	assert_int_equal(load(&ram, &elf, sizeof(elf), NULL, 0, "", &setup), -1);

	elf = make_elf();
	elf.note.entry = 0x500000; /* entry outside the image */
	assert_int_equal(load(&ram, &elf, sizeof(elf), NULL, 0, "", &setup), -1);

	elf = make_elf();
	elf.eh.e_machine = EM_AARCH64;
	assert_int_equal(load(&ram, &elf, sizeof(elf), NULL, 0, "", &setup), -1);
	free_fake_ram(&ram);
}

static void rejects_unknown_format_and_big_initrd(void **state)
{
	struct guest_ram ram = fake_ram(RAM_SIZE);
	struct fake_elf elf = make_elf();
	struct boot_setup setup;
	uint8_t junk[4096] = { 1, 2, 3 };
	uint8_t *initrd = calloc(1, RAM_SIZE);
	char *cmdline = malloc(BOOT_CMDLINE_MAX + 1);

	(void)state;
	assert_int_equal(load(&ram, junk, sizeof(junk), NULL, 0, "", &setup), -1);
	assert_int_equal(load(&ram, junk, 0, NULL, 0, "", &setup), -1);
	assert_int_equal(load(&ram, &elf, sizeof(elf), initrd, RAM_SIZE - MiB, "", &setup), -1);
	memset(cmdline, 'a', BOOT_CMDLINE_MAX);
	cmdline[BOOT_CMDLINE_MAX] = 0;
	assert_int_equal(load(&ram, &elf, sizeof(elf), NULL, 0, cmdline, &setup), -1);
	free(cmdline);
	free(initrd);
	free_fake_ram(&ram);
}

/* A bzImage as mkbzimage writes it, with a 0x1000-byte payload. */
static uint8_t *make_bzimage(size_t *len)
{
	uint8_t *k = calloc(1, 1024 + 0x1000);

	k[0x1f1] = 1;
	k[0x1fe] = 0x55;
	k[0x1ff] = 0xaa;
	k[0x201] = 0x66;
	memcpy(k + 0x202, "HdrS", 4);
	k[0x206] = 0x0f;
	k[0x207] = 0x02;
	k[0x211] = 0x01;
	memcpy(k + 0x22c, &(uint32_t){ 0x37ffffff }, 4);
	k[0x234] = 1; /* relocatable */
	k[0x236] = 0x01;
	memcpy(k + 0x238, &(uint32_t){ 255 }, 4);
	memcpy(k + 0x260, &(uint32_t){ 0x10000 }, 4);
	memset(k + 1024, 0xcc, 0x1000);
	*len = 1024 + 0x1000;
	return k;
}

static void bzimage_fills_boot_params(void **state)
{
	struct guest_ram ram = fake_ram(RAM_SIZE);
	struct boot_setup setup;
	size_t len;
	uint8_t *k = make_bzimage(&len), *bp;
	uint8_t initrd[100] = { 7 };
	uint32_t v;

	(void)state;
	assert_int_equal(load(&ram, k, len, initrd, sizeof(initrd), "quiet", &setup), 0);
	assert_int_equal(setup.mode, BOOT_LINUX64);
	assert_int_equal(setup.entry, HIMEM_START + 0x200);
	assert_int_equal(ram.host[HIMEM_START], 0xcc);
	bp = ram.host + setup.info_addr;
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(bp[0x210], 0xff); /* type_of_loader */
	memcpy(&v, bp + 0x228, 4);
	assert_string_equal((char *)ram.host + v, "quiet");
	memcpy(&v, bp + 0x218, 4);
	assert_memory_equal(ram.host + v, initrd, sizeof(initrd));
	assert_true(v + sizeof(initrd) <= 0x38000000);
	memcpy(&v, bp + 0x21c, 4);
	assert_int_equal(v, sizeof(initrd));
	assert_int_equal(bp[0x1e8], 4); /* e820 entries */
	uint64_t addr;

	memcpy(&addr, bp + 0x2d0 + 3 * 20, 8);
	assert_int_equal(addr, HIMEM_START);
	memcpy(&addr, bp + 0x70, 8);
	assert_int_equal(addr, ACPI_TABLES_ADDR);
	free(k);
	free_fake_ram(&ram);
}

static void bzimage_checks_header(void **state)
{
	struct guest_ram ram = fake_ram(RAM_SIZE);
	struct boot_setup setup;
	size_t len;
	uint8_t *k = make_bzimage(&len);
	char cmdline[300];

	(void)state;
	k[0x206] = 0x0b; /* protocol 2.11: no 64-bit entry */
	assert_int_equal(load(&ram, k, len, NULL, 0, "", &setup), -1);
	k[0x206] = 0x0f;
	k[0x236] = 0; /* not a 64-bit kernel */
	assert_int_equal(load(&ram, k, len, NULL, 0, "", &setup), -1);
	k[0x236] = 1;
	k[0x211] = 0; /* not LOADED_HIGH */
	assert_int_equal(load(&ram, k, len, NULL, 0, "", &setup), -1);
	k[0x211] = 1;
	memset(cmdline, 'x', 299);
	cmdline[299] = 0; /* longer than cmdline_size */
	assert_int_equal(load(&ram, k, len, NULL, 0, cmdline, &setup), -1);
	k[0x1fe] = 0; /* no boot flag */
	assert_int_equal(load(&ram, k, len, NULL, 0, "", &setup), -1);
	k[0x1fe] = 0x55;
	assert_int_equal(load(&ram, k, 0x300, NULL, 0, "", &setup), -1); /* truncated */
	memcpy(k + 0x260, &(uint32_t){ 0xffffff00 }, 4); /* init_size beyond RAM */
	assert_int_equal(load(&ram, k, len, NULL, 0, "", &setup), -1);
	free(k);
	free_fake_ram(&ram);
}

int run_boot_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memory_map_matches_layout),
		cmocka_unit_test(pvh_loads_elf_and_start_info),
		cmocka_unit_test(pvh_rejects_hostile_elf),
		cmocka_unit_test(rejects_unknown_format_and_big_initrd),
		cmocka_unit_test(bzimage_fills_boot_params),
		cmocka_unit_test(bzimage_checks_header),
	};
	return cmocka_run_group_tests_name("boot", tests, NULL, NULL);
}
