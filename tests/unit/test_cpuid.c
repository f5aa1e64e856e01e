// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "unit.h"

static struct kvm_cpuid2 *fake_supported(void)
{
	static const struct kvm_cpuid_entry2 leaves[] = {
		{ .function = 0, .eax = 0x1f },
		{ .function = 1, .ebx = 0xff000800, .edx = 1 << 28 },
		{ .function = 4, .index = 0, .eax = 0xfc004121 }, /* L1d */
		{ .function = 4, .index = 3, .eax = 0xfc03c163 }, /* L3 */
		{ .function = 6, .eax = 0x77 },
		{ .function = 0xa, .eax = 0x07300805 },
		{ .function = 0xb, .index = 0 },
		{ .function = 0xb, .index = 1 },
		{ .function = 0xb, .index = 2 },
		{ .function = 0x40000000, .eax = 0x40000001 },
		{ .function = 0x40000001, .eax = 0x1 },
		{ .function = 0x80000008, .ecx = 0x7007 },
	};
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(leaves));

	c->nent = sizeof(leaves) / sizeof(leaves[0]);
	memcpy(c->entries, leaves, sizeof(leaves));
	return c;
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	fail();
	return NULL;
}

static void apic_ids_and_topology(void **state)
{
	(void)state;
	for (unsigned int ncpus = 1; ncpus <= 64; ncpus *= 4) {
		for (unsigned int cpu = 0; cpu < ncpus; cpu += 3) {
			struct kvm_cpuid2 *c = fake_supported();

			x86_cpuid_for_vcpu(c, cpu, ncpus);
			assert_int_equal(leaf(c, 1, 0)->ebx >> 24, cpu);
			assert_int_equal((leaf(c, 1, 0)->ebx >> 16) & 0xff, ncpus);
			assert_int_equal(!!(leaf(c, 1, 0)->edx & (1 << 28)), ncpus > 1);
			assert_true(leaf(c, 1, 0)->ecx & (1U << 31)); /* hypervisor */
			assert_int_equal(leaf(c, 0xb, 0)->edx, cpu);
			assert_int_equal(leaf(c, 0xb, 0)->ebx, 1);
			assert_int_equal(leaf(c, 0xb, 1)->ebx, ncpus);
			assert_true((1U << leaf(c, 0xb, 1)->eax) >= ncpus);
			assert_int_equal((leaf(c, 0xb, 1)->ecx >> 8) & 0xff, 2); /* core level */
			assert_int_equal((leaf(c, 0xb, 2)->ecx >> 8) & 0xff, 0); /* invalid */
			assert_int_equal(leaf(c, 4, 0)->eax >> 26, ncpus - 1);
			assert_int_equal((leaf(c, 4, 0)->eax >> 14) & 0xfff, 0); /* L1 private */
			assert_int_equal((leaf(c, 4, 3)->eax >> 14) & 0xfff,
					 ncpus - 1); /* L3 shared */
			assert_int_equal(leaf(c, 0x80000008, 0)->ecx & 0xff, ncpus - 1);
			free(c);
		}
	}
}

static void kvm_leaves_and_pmu(void **state)
{
	struct kvm_cpuid2 *c = fake_supported();
	char sig[13] = { 0 };
	const struct kvm_cpuid_entry2 *kvm;

	(void)state;
	x86_cpuid_for_vcpu(c, 0, 1);
	kvm = leaf(c, 0x40000000, 0);
	memcpy(sig, &kvm->ebx, 4);
	memcpy(sig + 4, &kvm->ecx, 4);
	memcpy(sig + 8, &kvm->edx, 4);
	assert_string_equal(sig, "KVMKVMKVM");
	assert_true(kvm->eax >= 0x40000001);
	assert_int_equal(leaf(c, 0x40000001, 0)->eax, 1); /* features kept */
	assert_int_equal(leaf(c, 0xa, 0)->eax, 0); /* no vPMU advertised */
	assert_int_equal(leaf(c, 6, 0)->eax, 0);
	free(c);
}

int run_cpuid_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(apic_ids_and_topology),
		cmocka_unit_test(kvm_leaves_and_pmu),
	};
	return cmocka_run_group_tests_name("cpuid", tests, NULL, NULL);
}
