// SPDX-License-Identifier: MIT
#include <string.h>

#include "arch/x86/acpi.h"
#include "unit.h"

#define BASE 0xe0000

static const struct acpi_device com1 = {
	.name = "COM1",
	.hid = "PNP0501",
	.io = { { 0x3f8, 8 } },
	.irq = 4,
};

static const uint8_t *table_at(const uint8_t *buf, uint64_t gpa)
{
	return buf + (gpa - BASE);
}

static uint32_t len32(const uint8_t *t)
{
	uint32_t v;

	memcpy(&v, t + 4, 4);
	return v;
}

/* Finds a table by signature through RSDP -> XSDT, checking every checksum. */
static const uint8_t *find_table(const uint8_t *buf, const char *sig)
{
	uint64_t xsdt_addr, entry;
	const uint8_t *xsdt;

	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(buf, 20), 0);
	assert_int_equal(acpi_checksum(buf, 36), 0);
	memcpy(&xsdt_addr, buf + 24, 8);
	xsdt = table_at(buf, xsdt_addr);
	assert_memory_equal(xsdt, "XSDT", 4);
	assert_int_equal(acpi_checksum(xsdt, len32(xsdt)), 0);
	for (uint32_t off = 36; off < len32(xsdt); off += 8) {
		const uint8_t *t;

		memcpy(&entry, xsdt + off, 8);
		t = table_at(buf, entry);
		assert_int_equal(acpi_checksum(t, len32(t)), 0);
		if (!memcmp(t, sig, 4))
			return t;
	}
	return NULL;
}

static void madt_lists_every_cpu(void **state)
{
	static uint8_t buf[0x20000];
	const unsigned int counts[] = { 1, 2, 4, 64 };

	(void)state;
	for (size_t c = 0; c < 4; c++) {
		struct acpi_config config = { .ncpus = counts[c], .devices = &com1, .ndevices = 1 };
		const uint8_t *madt, *e;
		unsigned int lapics = 0, ioapics = 0;

		assert_true(acpi_build(buf, sizeof(buf), BASE, &config) > 0);
		madt = find_table(buf, "APIC");
		assert_non_null(madt);
		for (e = madt + 44; e < madt + len32(madt); e += e[1]) {
			assert_true(e[1] >= 2);
			if (e[0] == 0) {
				assert_int_equal(e[3], lapics); /* APIC ID */
				assert_int_equal(e[4] & 1, 1); /* enabled */
				lapics++;
			} else if (e[0] == 1) {
				ioapics++;
			}
		}
		assert_int_equal(lapics, counts[c]);
		assert_int_equal(ioapics, 1);
	}
}

static void fadt_is_hardware_reduced(void **state)
{
	static uint8_t buf[0x20000];
	struct acpi_config config = { .ncpus = 2, .devices = &com1, .ndevices = 1 };
	const uint8_t *fadt, *dsdt;
	uint32_t flags;
	uint64_t dsdt_addr;

	(void)state;
	assert_true(acpi_build(buf, sizeof(buf), BASE, &config) > 0);
	fadt = find_table(buf, "FACP");
	assert_non_null(fadt);
	assert_int_equal(len32(fadt), 276);
	memcpy(&flags, fadt + 112, 4);
	assert_true(flags & (1 << 20));
	assert_int_equal(fadt[244], 1); /* sleep control in I/O space */
	assert_int_equal(fadt[248] | fadt[249] << 8, ACPI_SLEEP_CONTROL);
	assert_int_equal(fadt[116 + 4] | fadt[116 + 5] << 8, ACPI_RESET_REG);
	memcpy(&dsdt_addr, fadt + 140, 8);
	dsdt = table_at(buf, dsdt_addr);
	assert_memory_equal(dsdt, "DSDT", 4);
	assert_int_equal(acpi_checksum(dsdt, len32(dsdt)), 0);
	/* _S5_ package with SLP_TYP 5, and the COM1 device with its EISA _HID */
	assert_non_null(memmem(dsdt, len32(dsdt), "_S5_\x12\x05\x02\x0a\x05\x00", 10));
	assert_non_null(memmem(dsdt, len32(dsdt), "COM1", 4));
	assert_non_null(memmem(dsdt, len32(dsdt), "_HID\x0c\x41\xd0\x05\x01", 9));
}

static void dsdt_pkglength_multibyte(void **state)
{
	/* Enough devices that the _SB_ scope needs a 2-byte PkgLength. */
	static uint8_t buf[0x20000];
	struct acpi_device devs[12];
	struct acpi_config config = { .ncpus = 1, .devices = devs, .ndevices = 12 };
	const uint8_t *dsdt, *fadt;
	uint64_t dsdt_addr;
	size_t body;

	(void)state;
	for (int i = 0; i < 12; i++) {
		devs[i] = (struct acpi_device){ .hid = "LNRO0005",
						.uid = i,
						.mmio_len = 0x1000,
						.mmio_base = 0xd0000000 + i * 0x1000,
						.irq = 5 + i };
		memcpy(devs[i].name, "VR00", 5);
		devs[i].name[3] = 'A' + i;
	}
	assert_true(acpi_build(buf, sizeof(buf), BASE, &config) > 0);
	fadt = find_table(buf, "FACP");
	memcpy(&dsdt_addr, fadt + 140, 8);
	dsdt = table_at(buf, dsdt_addr);
	assert_int_equal(dsdt[36], 0x10); /* ScopeOp */
	assert_int_equal(dsdt[37] >> 6, 1); /* two-byte PkgLength */
	body = (dsdt[37] & 0xf) | dsdt[38] << 4;
	assert_memory_equal(dsdt + 39, "_SB_", 4);
	/* The scope ends exactly where the _S5_ name begins. */
	assert_memory_equal(dsdt + 37 + body, "\x08_S5_", 5);
	assert_non_null(memmem(dsdt, len32(dsdt), "LNRO0005", 8));
}

static void build_fails_cleanly_when_short(void **state)
{
	static uint8_t buf[0x20000];
	struct acpi_config config = { .ncpus = 64, .devices = &com1, .ndevices = 1 };
	size_t need = acpi_build(buf, sizeof(buf), BASE, &config);

	(void)state;
	assert_true(need > 0);
	for (size_t len = 0; len < need; len += 7)
		assert_int_equal(acpi_build(buf, len, BASE, &config), 0);
	assert_int_equal(acpi_build(buf, need, BASE, &config), need);
}

int run_acpi_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(madt_lists_every_cpu),
		cmocka_unit_test(fadt_is_hardware_reduced),
		cmocka_unit_test(dsdt_pkglength_multibyte),
		cmocka_unit_test(build_fails_cleanly_when_short),
	};
	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}

/* MP tables ------------------------------------------------------------- */
#include "arch/x86/mptable.h"

static void mptable_lists_cpus_and_checksums(void **state)
{
	static uint8_t buf[4096];
	uint8_t floating[16];
	const unsigned int counts[] = { 1, 4, 64 };

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		size_t size = mptable_build(buf, sizeof(buf), 0xe8000, counts[c], floating);
		unsigned int cpus = 0, entries;
		const uint8_t *p;
		uint32_t ptr;

		assert_true(size > 0);
		assert_memory_equal(floating, "_MP_", 4);
		assert_int_equal(acpi_checksum(floating, 16), 0);
		memcpy(&ptr, floating + 4, 4);
		assert_int_equal(ptr, 0xe8000);
		assert_memory_equal(buf, "PCMP", 4);
		assert_int_equal(buf[4] | buf[5] << 8, size);
		assert_int_equal(acpi_checksum(buf, size), 0);
		entries = buf[34] | buf[35] << 8;
		p = buf + 44;
		for (unsigned int i = 0; i < entries; i++) {
			if (p[0] == 0) {
				assert_int_equal(p[1], cpus); /* LAPIC ID */
				assert_int_equal(!!(p[3] & 2), cpus == 0); /* BSP flag */
				cpus++;
			}
			p += p[0] == 0 ? 20 : 8;
		}
		assert_int_equal(p - buf, size);
		assert_int_equal(cpus, counts[c]);
	}
	assert_int_equal(mptable_build(buf, 100, 0xe8000, 4, floating), 0);
}

int run_mptable_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mptable_lists_cpus_and_checksums),
	};
	return cmocka_run_group_tests_name("mptable", tests, NULL, NULL);
}
