// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "util.h"

#define CPUID_HYPERVISOR (1U << 31) /* leaf 1 ECX */
#define CPUID_HTT (1U << 28) /* leaf 1 EDX */
#define KVM_CPUID_SIGNATURE 0x40000000U

static struct kvm_cpuid_entry2 *find_leaf(struct kvm_cpuid2 *cpuid, uint32_t fn, uint32_t index)
{
	for (uint32_t i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == fn && cpuid->entries[i].index == index)
			return &cpuid->entries[i];
	return NULL;
}

/* Bits needed to number @n items: the APIC ID shift for a topology level. */
static uint32_t order_of(uint32_t n)
{
	uint32_t bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

void x86_cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, unsigned int index, unsigned int ncpus)
{
	/* One package, one thread per core, ncpus cores; APIC ID = index. */
	uint32_t core_bits = order_of(ncpus);

	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | (ncpus << 16) | (index << 24);
			e->ecx |= CPUID_HYPERVISOR;
			if (ncpus > 1)
				e->edx |= CPUID_HTT;
			else
				e->edx &= ~CPUID_HTT;
			break;
		case 4:
			/* EAX[31:26]: cores per package - 1; [25:14]: sharing. */
			e->eax &= 0x3fff;
			e->eax |= (ncpus - 1) << 26;
			if ((e->eax & 0xe0) >> 5 == 3) /* L3 is shared by all cores */
				e->eax |= (ncpus - 1) << 14;
			break;
		case 0xb:
		case 0x1f:
			e->edx = index;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 1 << 8; /* SMT level */
			} else if (e->index == 1) {
				e->eax = core_bits;
				e->ebx = ncpus;
				e->ecx = 2 << 8 | 1; /* core level */
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 6:
			/* No thermal or power management to offer. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xa:
			/* No virtual PMU: a guest perf driver would only misreport. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case KVM_CPUID_SIGNATURE:
			/* "KVMKVMKVM\0\0\0", so Linux finds kvm-clock and PV features. */
			e->ebx = 0x4b4d564b;
			e->ecx = 0x564b4d56;
			e->edx = 0x4d;
			if (e->eax < 0x40000001U)
				e->eax = 0x40000001U;
			break;
		}
	}
	/* Intel-style leaf 0x80000008: ECX[7:0] is the count of cores - 1. */
	struct kvm_cpuid_entry2 *ext = find_leaf(cpuid, 0x80000008, 0);
	if (ext)
		ext->ecx = (ext->ecx & ~0xf0ffU) | (core_bits << 12) | (ncpus - 1);
}

/* LINT0 as ExtINT and LINT1 as NMI: the virtual-wire mode firmware sets up. */
static int setup_lapic_lint(int vcpu_fd)
{
	struct kvm_lapic_state lapic;
	uint32_t lvt0, lvt1;

	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &lapic) < 0)
		return -1;
	memcpy(&lvt0, &lapic.regs[0x350], 4);
	memcpy(&lvt1, &lapic.regs[0x360], 4);
	lvt0 = (lvt0 & ~0x700U & ~(1U << 16)) | (7U << 8); /* ExtINT, unmasked */
	lvt1 = (lvt1 & ~0x700U & ~(1U << 16)) | (4U << 8); /* NMI, unmasked */
	memcpy(&lapic.regs[0x350], &lvt0, 4);
	memcpy(&lapic.regs[0x360], &lvt1, 4);
	return ioctl(vcpu_fd, KVM_SET_LAPIC, &lapic);
}

static int is_amd(const struct kvm_cpuid2 *cpuid)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 0)
			return e->ebx == 0x68747541 && e->edx == 0x69746e65 && e->ecx == 0x444d4163;
	}
	return 0;
}

/*
 * AMD firmware sets HWCR.TscFreqSel (the TSC counts at P0 frequency);
 * without it Linux logs a "[Firmware Bug]". KVM has accepted the bit from
 * userspace since 6.6; older hosts refuse the write (and log it), so after
 * one refusal the bit is not offered again: it is a property of the host.
 */
#define MSR_K7_HWCR 0xc0010015
#define HWCR_TSC_FREQ_SEL (1ULL << 24)

static bool hwcr_refused;

static void set_amd_hwcr(int vcpu_fd)
{
	/* struct kvm_msrs ends in a flexible array: room for one entry. */
	uint64_t buf[(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)) / 8] = { 0 };
	struct kvm_msrs *msrs = (struct kvm_msrs *)buf;

	if (hwcr_refused)
		return;
	msrs->nmsrs = 1;
	msrs->entries[0].index = MSR_K7_HWCR;
	if (ioctl(vcpu_fd, KVM_GET_MSRS, msrs) != 1 || (msrs->entries[0].data & HWCR_TSC_FREQ_SEL))
		return;
	msrs->entries[0].data |= HWCR_TSC_FREQ_SEL;
	if (ioctl(vcpu_fd, KVM_SET_MSRS, msrs) != 1) {
		hwcr_refused = true;
		log_info("this host's KVM refuses HWCR.TscFreqSel; Linux may log a firmware bug");
	}
}

int x86_init_vcpu(int vcpu_fd, const struct kvm_cpuid2 *cpuid)
{
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) {
		log_error("KVM_SET_CPUID2: %s", strerror(errno));
		return -1;
	}
	if (setup_lapic_lint(vcpu_fd) < 0) {
		log_error("KVM_SET_LAPIC: %s", strerror(errno));
		return -1;
	}
	if (is_amd(cpuid))
		set_amd_hwcr(vcpu_fd);
	return 0;
}

static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) | ((uint64_t)(base & 0x00ffffff) << 16) |
	       (limit & 0xffff);
}

/* Decodes a GDT entry into the segment KVM wants, so both always agree. */
static struct kvm_segment segment_from_gdt(uint64_t entry, uint16_t selector)
{
	return (struct kvm_segment){
		.base = ((entry >> 16) & 0xffffff) | ((entry >> 32) & 0xff000000),
		.limit = (entry & 0xffff) | ((entry >> 32) & 0xf0000),
		.selector = selector,
		.type = (entry >> 40) & 0xf,
		.present = (entry >> 47) & 1,
		.dpl = (entry >> 45) & 3,
		.db = (entry >> 54) & 1,
		.s = (entry >> 44) & 1,
		.l = (entry >> 53) & 1,
		.g = (entry >> 55) & 1,
	};
}

static const uint64_t *boot_gdt(void)
{
	static uint64_t gdt[5];

	gdt[0] = 0;
	gdt[GDT_CODE32 / 8] = gdt_entry(0xc09b, 0, 0xfffff);
	gdt[GDT_CODE64 / 8] = gdt_entry(0xa09b, 0, 0xfffff);
	gdt[GDT_DATA / 8] = gdt_entry(0xc093, 0, 0xfffff);
	gdt[GDT_TSS / 8] = gdt_entry(0x0089, 0, 0x67); /* available: ltr marks it busy */
	return gdt;
}

int x86_write_boot_tables(const struct guest_ram *ram, enum boot_mode mode)
{
	uint64_t *gdt = gpa_to_host(ram, BOOT_GDT_ADDR, 5 * 8);
	uint64_t *pml4 = gpa_to_host(ram, BOOT_PML4_ADDR, 4096);
	uint64_t *pdpt = gpa_to_host(ram, BOOT_PDPT_ADDR, 4096);
	uint64_t *pd = gpa_to_host(ram, BOOT_PD_ADDR, 4 * 4096);

	if (!gdt || !pml4 || !pdpt || !pd)
		return -1;
	memcpy(gdt, boot_gdt(), 5 * 8);
	if (mode != BOOT_LINUX64)
		return 0;
	/* Identity-map the low 4 GiB with 2 MiB pages: present, writable. */
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT_ADDR | 0x3;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * 4096) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;
	return 0;
}

#define CR0_PE 0x1ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

/*
 * PVH entry state is reached the way firmware reaches it: from real mode
 * through a few instructions that load the GDT, set CR0.PE, load flat
 * segments and the TSS, and jump to the entry with %ebx = start info.
 * Some KVM backends (kvm_pvm) only enter 32-bit protected mode correctly
 * when the guest switches into it itself, so no vCPU is ever handed a
 * protected-mode state without paging.
 */
static int write_pvh_stub(const struct guest_ram *ram, const struct boot_setup *setup)
{
	uint8_t stub[] = {
		0x66, 0x0f, 0x01, 0x16, BOOT_GDTR_ADDR & 0xff, BOOT_GDTR_ADDR >> 8, /* lgdtl */
		0x0f, 0x20, 0xc0, /* mov %cr0, %eax */
		0x66, 0x83, 0xc8, 0x01, /* or $1, %eax */
		0x0f, 0x22, 0xc0, /* mov %eax, %cr0 */
		0x66, 0xea, 0, 0, 0, 0, GDT_CODE32, 0, /* ljmpl $CODE32, $1f */
		/* 1: 32-bit code */
		0xb8, GDT_DATA, 0, 0, 0, /* mov $DATA, %eax */
		0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0x8e, 0xe0, 0x8e, 0xe8, /* ds es ss fs gs */
		0x66, 0xb8, GDT_TSS, 0, /* mov $TSS, %ax */
		0x0f, 0x00, 0xd8, /* ltr %ax */
		0xbb, 0, 0, 0, 0, /* mov $info, %ebx */
		0xb8, 0, 0, 0, 0, /* mov $entry, %eax */
		0xff, 0xe0, /* jmp *%eax */
	};
	uint8_t *gdtr = gpa_to_host(ram, BOOT_GDTR_ADDR, 6);
	uint8_t *dst = gpa_to_host(ram, BOOT_PVH_STUB_ADDR, sizeof(stub));
	uint32_t target = BOOT_PVH_STUB_ADDR + 24, info = setup->info_addr, entry = setup->entry;
	uint16_t limit = 5 * 8 - 1;
	uint32_t base = BOOT_GDT_ADDR;

	if (!gdtr || !dst)
		return -1;
	_Static_assert(sizeof(stub) == 58, "offsets below assume this layout");
	memcpy(stub + 18, &target, 4);
	memcpy(stub + 47, &info, 4);
	memcpy(stub + 52, &entry, 4);
	memcpy(gdtr, &limit, 2);
	memcpy(gdtr + 2, &base, 4);
	memcpy(dst, stub, sizeof(stub));
	return 0;
}

int x86_init_boot_cpu(int vcpu_fd, const struct guest_ram *ram, const struct boot_setup *setup)
{
	const uint64_t *gdt = boot_gdt();
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 0x2, .rip = setup->entry };

	if (x86_write_boot_tables(ram, setup->mode) < 0)
		return -1;
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		log_error("KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	if (setup->mode == BOOT_PVH) {
		struct kvm_segment real = { .limit = 0xffff, .present = 1, .s = 1, .type = 0x3 };

		if (write_pvh_stub(ram, setup))
			return -1;
		sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = real;
		real.type = 0xb;
		sregs.cs = real;
		sregs.cr0 = CR0_ET | CR0_NE;
		sregs.cr4 = 0;
		sregs.efer = 0;
		regs.rip = BOOT_PVH_STUB_ADDR;
	} else {
		sregs.gdt.base = BOOT_GDT_ADDR;
		sregs.gdt.limit = 5 * 8 - 1;
		sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss =
		    segment_from_gdt(gdt[GDT_DATA / 8], GDT_DATA);
		sregs.tr = segment_from_gdt(gdt[GDT_TSS / 8], GDT_TSS);
		sregs.tr.type = 0xb; /* as if loaded by ltr: busy */
		sregs.cs = segment_from_gdt(gdt[GDT_CODE64 / 8], GDT_CODE64);
		sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
		sregs.cr3 = BOOT_PML4_ADDR;
		sregs.cr4 = CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
		regs.rsi = setup->info_addr;
	}
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		log_error("setting boot registers: %s", strerror(errno));
		return -1;
	}
	return 0;
}
