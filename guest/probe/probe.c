// SPDX-License-Identifier: MIT
/*
 * The boot-contract probe: checks what Linux would check of the boot
 * information, ACPI tables, CPUs and ring 3, printing one line per check:
 *   PROBE ok NAME: detail  |  PROBE FAIL NAME: detail
 * and finally "PROBE RESULT pass|fail". Options come from the cmdline:
 *   probe.cpus=N          CPUs the MADT must list and that must start
 *   probe.mem=MIB         RAM the memory map must account for
 *   probe.initrd=SIZE:HASH  expected initrd length and FNV-1a hash
 *   probe.ring3=N         iterations of the ring-3 loop
 *   probe.exit=test|poweroff|reboot|kbd-reset|triple-fault|halt
 *   probe.ticks=N         after the checks, N rounds of ring-3 work, each
 *                         printing "PROBE tick I"; Ctrl-Alt-Del on the
 *                         keyboard ends them with a power-off
 *   probe.flood=N         after the checks, N console lines of 64 bytes,
 *                         "PROBE flood I" padded with dots
 *   probe.end=1           ends what the user wrote (the VMM may append,
 *                         e.g. root=): proves no truncation
 */
#include "probe.h"

#define BOOT_PVH 1
#define BOOT_LINUX64 2
#define HVM_START_MAGIC 0x336ec578U
#define AP_TRAMPOLINE 0x8000
#define LAPIC 0xfee00000ULL
#define MAX_CPUS 64
#define MAX_RANGES 128

struct range {
	uint64_t addr, size;
	uint32_t type;
};

extern char _start[], _end[];
extern uint64_t gdt[];
extern const uint64_t isr_table[32];
extern char ap_trampoline[], ap_trampoline_end[];
extern char ap_stacks[];
void user_return(void);

const char *cmdline = "";
static struct range ranges[MAX_RANGES];
static int nranges;
static uint64_t initrd_addr, initrd_size, rsdp_hint;
int failures, checks;
static uint8_t madt_apic_ids[MAX_CPUS];
static int madt_cpus;
static uint64_t fadt_addr;
uint64_t dsdt_addr;

static volatile uint32_t ap_count;
static volatile uint64_t ap_seen_mask;
static volatile uint64_t ap_bad_mask;

static uint64_t idt[256 * 2] __attribute__((aligned(16)));
static uint32_t tss[26] __attribute__((aligned(16)));
uint8_t user_stack[16384] __attribute__((aligned(16)));
static uint8_t kernel_int_stack[8192] __attribute__((aligned(16)));

void check(int ok, const char *name)
{
	checks++;
	if (!ok)
		failures++;
	printf("PROBE %s %s: ", ok ? "ok" : "FAIL", name);
}

/* Boot information ---------------------------------------------------- */

static int read_pvh(uint64_t info_addr)
{
	const uint32_t *info = (const uint32_t *)info_addr;
	const uint64_t *q = (const uint64_t *)info_addr;

	if (info[0] != HVM_START_MAGIC)
		return 0;
	cmdline = (const char *)q[3];
	rsdp_hint = q[4];
	if (info[1] >= 1 && q[5]) {
		const uint8_t *map = (const uint8_t *)q[5];
		uint32_t n = info[12];

		for (uint32_t i = 0; i < n && nranges < MAX_RANGES; i++, map += 24) {
			memcpy(&ranges[nranges].addr, map, 8);
			memcpy(&ranges[nranges].size, map + 8, 8);
			memcpy(&ranges[nranges].type, map + 16, 4);
			nranges++;
		}
	}
	if (info[3] >= 1) {
		const uint64_t *mod = (const uint64_t *)q[2];

		initrd_addr = mod[0];
		initrd_size = mod[1];
	}
	return 1;
}

static int read_boot_params(uint64_t bp_addr)
{
	const uint8_t *bp = (const uint8_t *)bp_addr;
	uint32_t v;

	if (memcmp(bp + 0x202, "HdrS", 4))
		return 0;
	memcpy(&v, bp + 0x228, 4);
	cmdline = (const char *)(uint64_t)v;
	memcpy(&rsdp_hint, bp + 0x70, 8);
	for (int i = 0; i < bp[0x1e8] && nranges < MAX_RANGES; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;

		memcpy(&ranges[nranges].addr, e, 8);
		memcpy(&ranges[nranges].size, e + 8, 8);
		memcpy(&ranges[nranges].type, e + 16, 4);
		nranges++;
	}
	memcpy(&v, bp + 0x218, 4);
	initrd_addr = v;
	memcpy(&v, bp + 0x21c, 4);
	initrd_size = v;
	return 1;
}

static int range_is_ram(uint64_t addr, uint64_t size)
{
	for (int i = 0; i < nranges; i++)
		if (ranges[i].type == 1 && addr >= ranges[i].addr &&
		    addr + size <= ranges[i].addr + ranges[i].size)
			return 1;
	return 0;
}

static int overlaps_ram(uint64_t addr, uint64_t size)
{
	for (int i = 0; i < nranges; i++)
		if (ranges[i].type == 1 && addr < ranges[i].addr + ranges[i].size &&
		    ranges[i].addr < addr + size)
			return 1;
	return 0;
}

static void check_memory_map(void)
{
	uint64_t ram = 0, want = cmdline_u64(cmdline, "probe.mem", 0) << 20;
	int sane = 1;

	/*
	 * What Linux needs (it sorts the table itself): no range wraps, and no
	 * RAM range overlaps any other range. Empty entries are ignored.
	 */
	for (int i = 0; i < nranges; i++) {
		const struct range *a = &ranges[i];

		if (a->type == 1)
			ram += a->size;
		if (a->addr + a->size < a->addr)
			sane = 0;
		for (int j = i + 1; j < nranges; j++) {
			const struct range *b = &ranges[j];

			if ((a->type == 1 || b->type == 1) && a->size && b->size &&
			    a->addr < b->addr + b->size && b->addr < a->addr + a->size)
				sane = 0;
		}
	}
	for (int i = 0; i < nranges; i++)
		printf("PROBE info memory-map: [0x%lx, 0x%lx) type %u\n", ranges[i].addr,
		       ranges[i].addr + ranges[i].size, ranges[i].type);
	check(nranges > 0 && sane, "memory-map-sane");
	printf("%d ranges, RAM overlaps nothing\n", nranges);
	check(range_is_ram(0, 0x9f000), "memory-map-low");
	printf("[0, 0x9f000) is RAM\n");
	check(!overlaps_ram(0xa0000, 0x60000) && !overlaps_ram(0xfec00000, 0x300000),
	      "memory-map-holes");
	printf("VGA/BIOS and APIC windows are not RAM\n");
	check(range_is_ram((uint64_t)_start, _end - _start), "memory-map-image");
	printf("probe image [0x%lx, 0x%lx) is RAM\n", (uint64_t)_start, (uint64_t)_end);
	check(!want || (ram <= want && ram + (1 << 20) >= want), "memory-map-total");
	printf("%lu KiB of RAM (expected %lu KiB)\n", ram >> 10, want >> 10);
}

static void check_cmdline(void)
{
	size_t len = strlen(cmdline);

	const char *end = cmdline;
	int found = 0;

	/* Found as a whole token: at the end, or before what the VMM appended. */
	while (!found && (end = cmdline_get(end, "probe.end", &len)))
		found = len == 1 && end[0] == '1' && (end[1] == 0 || end[1] == ' ');
	check(found, "cmdline");
	printf("[%s]\n", cmdline);
}

/* Ring 3 -------------------------------------------------------------- */

static void set_gate(int vec, uint64_t handler, int dpl)
{
	idt[vec * 2] = (handler & 0xffff) | (0x08ULL << 16) | ((uint64_t)(0x8e | dpl << 5) << 40) |
		       ((handler >> 16) & 0xffff) << 48;
	idt[vec * 2 + 1] = handler >> 32;
}

static void setup_cpu_tables(void)
{
	uint64_t base = (uint64_t)tss;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };

	for (int i = 0; i < 32; i++)
		set_gate(i, isr_table[i], 0);
	memset(tss, 0, sizeof(tss));
	base = (uint64_t)tss;
	{
		uint64_t rsp0 = (uint64_t)(kernel_int_stack + sizeof(kernel_int_stack));

		memcpy((uint8_t *)tss + 4, &rsp0, 8);
	}
	gdt[6] = (sizeof(tss) - 1) | (base & 0xffffff) << 16 | 0x89ULL << 40 |
		 ((base >> 24) & 0xff) << 56;
	gdt[7] = base >> 32;
	__asm__ volatile("lidt %0" : : "m"(idtr));
	__asm__ volatile("ltr %w0" : : "r"(0x30));
}

struct frame {
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax, vector, error, rip, cs, rflags, rsp, ss;
};

/*
 * Ring 3 hands back its results with ud2: an emulating KVM (kvm_pvm)
 * delivers exceptions from ring 3 faithfully but not int n or syscall.
 */
void exception_handler(struct frame *f)
{
	if (f->vector == 6 && (f->cs & 3) == 3)
		__asm__ volatile("jmp user_return" : : "a"(f->rax), "d"(f->rdx));
	printf("PROBE FAIL exception: vector %lu error 0x%lx rip 0x%lx cs 0x%lx\n", f->vector,
	       f->error, f->rip, f->cs);
	putstr("PROBE RESULT fail\n");
	outb(0xf4, 1);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Runs in ring 3: sums 0..n-1 the slow way, so the loop really executes. */
static struct user_result user_sum(uint64_t n)
{
	uint64_t acc = 0, cs;

	for (uint64_t i = 0; i < n; i++) {
		acc += i;
		__asm__ volatile("" : "+r"(acc));
	}
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	__asm__ volatile("ud2" : : "a"(acc), "d"(cs & 3));
	__builtin_unreachable();
}

/* FNV-1a over the initrd, in ring 3 where it runs at native speed. */
static struct user_result user_fnv(uint64_t arg)
{
	const uint8_t *p = (const uint8_t *)initrd_addr;
	uint32_t h = 2166136261u;

	for (uint64_t i = 0; i < arg; i++)
		h = (h ^ p[i]) * 16777619u;
	__asm__ volatile("ud2" : : "a"((uint64_t)h), "d"(0));
	__builtin_unreachable();
}

static void check_ring3(void)
{
	uint64_t n = cmdline_u64(cmdline, "probe.ring3", 1000000);
	uint64_t t0 = rdtsc();
	struct user_result r = enter_user(user_sum, n, user_stack + sizeof(user_stack) - 8);
	uint64_t t1 = rdtsc();

	check(r.cpl == 3 && r.value == n * (n - 1) / 2, "ring3");
	printf("%lu iterations at CPL %lu, sum %lu, %lu TSC cycles\n", n, r.cpl, r.value, t1 - t0);
}

static void check_initrd(void)
{
	size_t len;
	const char *want = cmdline_get(cmdline, "probe.initrd", &len);
	uint64_t size = 0, hash = 0;
	size_t i = 0;

	if (!want) {
		check(initrd_size == 0, "initrd");
		printf("none expected, %lu bytes present\n", initrd_size);
		return;
	}
	for (; i < len && want[i] != ':'; i++)
		size = size * 10 + (want[i] - '0');
	for (i++; i < len; i++)
		hash = hash * 16 + (want[i] <= '9' ? want[i] - '0' : want[i] - 'a' + 10);
	if (initrd_size != size || !range_is_ram(initrd_addr, initrd_size) ||
	    (initrd_addr < (uint64_t)_end && initrd_addr + initrd_size > (uint64_t)_start)) {
		check(0, "initrd");
		printf("at 0x%lx, %lu bytes (expected %lu), not in free RAM\n", initrd_addr,
		       initrd_size, size);
		return;
	}
	struct user_result r = enter_user(user_fnv, size, user_stack + sizeof(user_stack) - 8);
	check(r.value == hash, "initrd");
	printf("at 0x%lx, %lu bytes, fnv1a %08x (expected %08lx)\n", initrd_addr, initrd_size,
	       (uint32_t)r.value, hash);
}

/* ACPI ---------------------------------------------------------------- */

static uint8_t sum8(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s += *b++;
	return s;
}

static uint64_t find_rsdp(void)
{
	if (rsdp_hint && !memcmp((void *)rsdp_hint, "RSD PTR ", 8))
		return rsdp_hint;
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp((void *)a, "RSD PTR ", 8) && !sum8((void *)a, 20))
			return a;
	return 0;
}

uint32_t table_len(uint64_t t)
{
	uint32_t len;

	memcpy(&len, (void *)(t + 4), 4);
	return len;
}

static void check_acpi(void)
{
	uint64_t rsdp = find_rsdp(), root, madt = 0;
	const uint8_t *r = (const uint8_t *)rsdp;
	int entry_size, bad = 0, n;

	if (!rsdp) {
		check(0, "acpi-rsdp");
		printf("no RSDP\n");
		return;
	}
	check(!sum8(r, 20) && (r[15] < 2 || !sum8(r, 36)), "acpi-rsdp");
	printf("at 0x%lx, revision %u\n", rsdp, r[15]);
	if (r[15] >= 2) {
		memcpy(&root, r + 24, 8);
		entry_size = 8;
	} else {
		uint32_t v;

		memcpy(&v, r + 16, 4);
		root = v;
		entry_size = 4;
	}
	n = (table_len(root) - 36) / entry_size;
	check(!sum8((void *)root, table_len(root)), "acpi-root");
	printf("%s with %d tables:", entry_size == 8 ? "XSDT" : "RSDT", n);
	for (int i = 0; i < n; i++) {
		uint64_t t = 0;

		memcpy(&t, (void *)(root + 36 + i * entry_size), entry_size);
		printf(" %c%c%c%c", ((char *)t)[0], ((char *)t)[1], ((char *)t)[2], ((char *)t)[3]);
		if (sum8((void *)t, table_len(t)))
			bad++;
		if (!memcmp((void *)t, "FACP", 4))
			fadt_addr = t;
		if (!memcmp((void *)t, "APIC", 4))
			madt = t;
	}
	printf("\n");
	if (fadt_addr) {
		uint32_t d32;

		memcpy(&d32, (void *)(fadt_addr + 40), 4);
		dsdt_addr = d32;
		if (table_len(fadt_addr) >= 148)
			memcpy(&dsdt_addr, (void *)(fadt_addr + 140), 8);
		if (dsdt_addr && sum8((void *)dsdt_addr, table_len(dsdt_addr)))
			bad++;
	}
	check(!bad && fadt_addr && madt && dsdt_addr, "acpi-checksums");
	printf("%d bad checksums; FADT %s, MADT %s, DSDT %s\n", bad,
	       fadt_addr ? "found" : "missing", madt ? "found" : "missing",
	       dsdt_addr ? "found" : "missing");
	if (!madt)
		return;

	const uint8_t *e = (const uint8_t *)madt + 44,
		      *end = (const uint8_t *)madt + table_len(madt);
	while (e + 2 <= end && e[1] >= 2 && e + e[1] <= end) {
		uint32_t flags;

		if (e[0] == 0 && e[1] >= 8) {
			memcpy(&flags, e + 4, 4);
			if ((flags & 1) && madt_cpus < MAX_CPUS)
				madt_apic_ids[madt_cpus++] = e[3];
		}
		e += e[1];
	}
	uint64_t want = cmdline_u64(cmdline, "probe.cpus", 0);
	check(madt_cpus && (!want || (uint64_t)madt_cpus == want), "acpi-madt");
	printf("%d enabled local APICs (expected %lu)\n", madt_cpus, want);
}

/* The first element of \_S5 in the DSDT: NameOp "_S5_" PackageOp ... */
static int find_s5_type(void)
{
	const uint8_t *d = (const uint8_t *)dsdt_addr;
	uint32_t len = dsdt_addr ? table_len(dsdt_addr) : 0;

	for (uint32_t i = 36; i + 8 < len; i++) {
		if (memcmp(d + i, "_S5_", 4) || d[i + 4] != 0x12)
			continue;
		const uint8_t *p = d + i + 5;

		p += 1 + (*p >> 6); /* PkgLength */
		p++; /* NumElements */
		if (*p == 0x0a)
			return p[1];
		return *p == 0x01 ? 1 : 0;
	}
	return -1;
}

/* The MP floating pointer and configuration table, if the VMM has one. */
static void check_mptable(void)
{
	const uint8_t *f = 0;
	uint64_t want = cmdline_u64(cmdline, "probe.cpus", 0);
	uint32_t table;
	int cpus = 0;

	for (uint64_t a = 0x9fc00; a < 0xa0000 && !f; a += 16)
		if (!memcmp((void *)a, "_MP_", 4))
			f = (const uint8_t *)a;
	for (uint64_t a = 0xf0000; a < 0x100000 && !f; a += 16)
		if (!memcmp((void *)a, "_MP_", 4))
			f = (const uint8_t *)a;
	if (!f) {
		printf("PROBE info mptable: none\n");
		return;
	}
	memcpy(&table, f + 4, 4);
	if (!table || f[11]) {
		/* A "default configuration" (MP 1.4, 4.1): no table to check. */
		check(!sum8(f, 16), "mptable");
		printf("at 0x%lx, default configuration %u\n", (uint64_t)f, f[11]);
		return;
	}
	const uint8_t *t = (const uint8_t *)(uint64_t)table, *p = t + 44;
	uint16_t len = t[4] | t[5] << 8, n = t[34] | t[35] << 8;

	/* Walk by length, as Linux does: qboot's tables say 0 entries. */
	while (p < t + len && p[0] <= 4) {
		cpus += p[0] == 0 && (p[3] & 1);
		p += p[0] == 0 ? 20 : 8;
	}
	check(!sum8(f, 16) && !memcmp(t, "PCMP", 4) && !sum8(t, len) &&
		  (!want || (uint64_t)cpus == want),
	      "mptable");
	printf("at 0x%lx, table at 0x%x (%u entries announced), %d processors (expected %lu)\n",
	       (uint64_t)f, table, n, cpus, want);
}

static void check_fadt(void)
{
	uint32_t flags = 0;
	const uint8_t *f = (const uint8_t *)fadt_addr;
	int s5 = find_s5_type();

	if (!fadt_addr)
		return;
	memcpy(&flags, f + 112, 4);
	check((flags & (1 << 20)) && table_len(fadt_addr) >= 268 && f[244] <= 1 && s5 >= 0,
	      "acpi-fadt");
	printf("hardware-reduced %s, sleep control in %s space at 0x%lx, _S5 type %d\n",
	       (flags & (1 << 20)) ? "yes" : "no", f[244] ? "I/O" : "memory",
	       *(const uint64_t *)(f + 248), s5);
}

/* CPUs ---------------------------------------------------------------- */

static uint32_t lapic_id(void)
{
	return mmio_read32(LAPIC + 0x20) >> 24;
}

/* Called on each AP in 64-bit mode, on its own stack. */
void ap_main(void)
{
	uint32_t r[4], id = lapic_id();

	cpuid(1, 0, r);
	if (r[1] >> 24 != id)
		__atomic_or_fetch(&ap_bad_mask, 1ULL << (id & 63), __ATOMIC_SEQ_CST);
	cpuid(0, 0, r);
	if (r[0] >= 0xb) {
		cpuid(0xb, 0, r);
		if (r[3] != id)
			__atomic_or_fetch(&ap_bad_mask, 1ULL << (id & 63), __ATOMIC_SEQ_CST);
	}
	__atomic_or_fetch(&ap_seen_mask, 1ULL << (id & 63), __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&ap_count, 1, __ATOMIC_SEQ_CST);
}

static void check_cpuid(void)
{
	uint32_t r[4], id = lapic_id();
	char sig[13];

	cpuid(1, 0, r);
	int hyper = (r[2] >> 31) & 1, apic_ok = (r[1] >> 24) == id;
	cpuid(0x40000000, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = 0;
	check(hyper && apic_ok && !memcmp(sig, "KVMKVMKVM", 9), "cpuid");
	printf("hypervisor bit %d, signature '%s', BSP APIC ID %u matches CPUID %s\n", hyper, sig,
	       id, apic_ok ? "yes" : "no");
}

static void wait_icr_idle(void)
{
	for (int i = 0; i < 100000 && (mmio_read32(LAPIC + 0x300) & (1 << 12)); i++)
		pause();
}

static void send_ipi(uint32_t apic_id, uint32_t low)
{
	mmio_write32(LAPIC + 0x310, apic_id << 24);
	mmio_write32(LAPIC + 0x300, low);
	wait_icr_idle();
}

static void check_smp(void)
{
	uint32_t self = lapic_id();
	int started = 0;
	uint64_t deadline;

	if (madt_cpus <= 1) {
		check(1, "smp");
		printf("single CPU\n");
		return;
	}
	if (!range_is_ram(AP_TRAMPOLINE, 4096)) {
		check(0, "smp");
		printf("no RAM at 0x%x for the AP trampoline\n", AP_TRAMPOLINE);
		return;
	}
	memcpy((void *)AP_TRAMPOLINE, ap_trampoline, ap_trampoline_end - ap_trampoline);
	mmio_write32(LAPIC + 0xf0, 0x1ff); /* software-enable the LAPIC */
	for (int i = 0; i < madt_cpus; i++) {
		uint32_t id = madt_apic_ids[i];

		if (id == self)
			continue;
		send_ipi(id, 0x4500); /* INIT, assert */
		send_ipi(id, 0x4600 | (AP_TRAMPOLINE >> 12)); /* SIPI */
		send_ipi(id, 0x4600 | (AP_TRAMPOLINE >> 12));
		started++;
	}
	/* Generous: TSC runs at a GHz or more, and an emulating host is slow. */
	deadline = rdtsc() + 20000000000ULL;
	while (__atomic_load_n(&ap_count, __ATOMIC_SEQ_CST) < (uint32_t)started &&
	       rdtsc() < deadline)
		pause();
	check(ap_count == (uint32_t)started && !ap_bad_mask, "smp");
	printf("%u of %d APs reported in (mask 0x%lx), CPUID APIC ID mismatches 0x%lx\n", ap_count,
	       started, ap_seen_mask, ap_bad_mask);
}

/* Exits ------------------------------------------------------------------ */

static void gas_write(const uint8_t *gas, uint8_t value)
{
	uint64_t addr;

	memcpy(&addr, gas + 4, 8);
	if (gas[0] == 1)
		outb(addr, value);
	else if (gas[0] == 0)
		*(volatile uint8_t *)addr = value;
}

static void acpi_poweroff(void)
{
	if (fadt_addr)
		gas_write((const uint8_t *)fadt_addr + 244, (find_s5_type() & 7) << 2 | 0x20);
}

static void do_exit(int pass)
{
	size_t len;
	const char *how = cmdline_get(cmdline, "probe.exit", &len);

	printf("PROBE RESULT %s (%d checks, %d failed)\n", pass ? "pass" : "fail", checks,
	       failures);
	if (how && len == 8 && !memcmp(how, "poweroff", 8)) {
		acpi_poweroff();
	} else if (how && len == 6 && !memcmp(how, "reboot", 6) && fadt_addr) {
		gas_write((const uint8_t *)fadt_addr + 116, ((const uint8_t *)fadt_addr)[128]);
	} else if (how && len == 9 && !memcmp(how, "kbd-reset", 9)) {
		outb(0x64, 0xfe);
	} else if (how && len == 4 && !memcmp(how, "halt", 4)) {
		for (;;) /* stay up, idle: for tests that need a running guest */
			__asm__ volatile("cli; hlt");
	} else if (how && len == 12 && !memcmp(how, "triple-fault", 12)) {
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) null_idt = { 0, 0 };

		/* ud2, not int3: kvm_pvm cannot deliver a ring-0 int3 at all. */
		__asm__ volatile("lidt %0; ud2" : : "m"(null_idt));
	}
	/* A VMM may act on the request asynchronously; give it a moment. */
	for (uint64_t end = rdtsc() + 2000000000ULL; how && rdtsc() < end;)
		pause();
	outb(0xf4, pass ? 0 : 1);
	putstr("PROBE FAIL exit: still running after the exit request\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

/*
 * Ring-3 work in rounds, one line per round: the host sees the guest make
 * progress (or not, while paused). The keyboard is polled between rounds;
 * Ctrl-Alt-Del (set 1: 1d 38 e0 53) powers off, as a guest's init would.
 */
static void run_ticks(uint64_t rounds)
{
	static const uint8_t chord[] = { 0x1d, 0x38, 0xe0, 0x53 };
	uint64_t iterations = cmdline_u64(cmdline, "probe.tick-work", 20000000);
	unsigned int matched = 0;

	for (uint64_t i = 0; i < rounds; i++) {
		struct user_result r =
		    enter_user(user_sum, iterations, user_stack + sizeof(user_stack) - 8);

		printf("PROBE tick %lu cpl %lu\n", i, r.cpl);
		while (inb(0x64) & 1) {
			uint8_t code = inb(0x60);

			matched = code == chord[matched] ? matched + 1 : code == chord[0];
			if (matched == sizeof(chord)) {
				putstr("PROBE kbd: ctrl-alt-del\n");
				acpi_poweroff();
			}
		}
	}
}

void probe_main(uint32_t mode, uint64_t info)
{
	int ok;

	outb(0x3f0, 123); /* boot marker */
	putstr("PROBE start\n");
	ok = mode == BOOT_PVH ? read_pvh(info) : read_boot_params(info);
	check(ok, "boot-info");
	printf("%s at 0x%lx\n", mode == BOOT_PVH ? "PVH hvm_start_info" : "Linux boot_params",
	       info);
	if (!ok)
		do_exit(0);
	setup_cpu_tables();
	check_cmdline();
	check_memory_map();
	check_initrd();
	check_acpi();
	check_fadt();
	check_mptable();
	check_cpuid();
	check_smp();
	check_ring3();
	if (cmdline_u64(cmdline, "probe.seccomp-test", 0))
		outb(0xf5, 1); /* kvmini test builds: forbidden syscall on this vCPU */
	check_virtio();
	for (uint64_t i = 0, n = cmdline_u64(cmdline, "probe.flood", 0); i < n; i++)
		printf("PROBE flood %08lu ..........................................\n", i);
	run_ticks(cmdline_u64(cmdline, "probe.ticks", 0));
	do_exit(failures == 0);
}
