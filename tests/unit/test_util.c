// SPDX-License-Identifier: MIT
#include "unit.h"
#include "util.h"

static void parse_size_accepts_units(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("512", &v), 0);
	assert_int_equal(v, 512 * MiB);
	assert_int_equal(parse_size("2G", &v), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(parse_size("1024K", &v), 0);
	assert_int_equal(v, MiB);
	assert_int_equal(parse_size("64MiB", &v), 0);
	assert_int_equal(v, 64 * MiB);
}

static void parse_size_rejects_garbage(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("", &v), -1);
	assert_int_equal(parse_size("abc", &v), -1);
	assert_int_equal(parse_size("-5", &v), -1);
	assert_int_equal(parse_size("12X", &v), -1);
	assert_int_equal(parse_size("99999999999999999999", &v), -1);
	assert_int_equal(parse_size("18446744073709551615G", &v), -1);
}

static void gpa_to_host_bounds(void **state)
{
	struct guest_ram ram = fake_ram(64 * MiB);

	(void)state;
	assert_ptr_equal(gpa_to_host(&ram, 0, 16), ram.host);
	assert_non_null(gpa_to_host(&ram, 64 * MiB - 16, 16));
	assert_null(gpa_to_host(&ram, 64 * MiB - 15, 16)); /* straddles the end */
	assert_null(gpa_to_host(&ram, 64 * MiB, 1));
	assert_null(gpa_to_host(&ram, UINT64_MAX - 4, 16)); /* wraps */
	assert_null(gpa_to_host(&ram, 0, UINT64_MAX));
	free_fake_ram(&ram);
}

static void gpa_to_host_high_memory(void **state)
{
	/* Fake 3 GiB + 8 KiB split: only the layout matters, not the bytes. */
	struct guest_ram ram = { .host = (uint8_t *)0x1000, .size = MMIO_HOLE_START + 8192 };
	uint64_t high;

	(void)state;
	guest_ram_split(ram.size, &ram.low_size, &high);
	assert_int_equal(ram.low_size, MMIO_HOLE_START);
	assert_int_equal(high, 8192);
	assert_null(gpa_to_host(&ram, MMIO_HOLE_START, 1)); /* the hole */
	assert_ptr_equal(gpa_to_host(&ram, MMIO_HOLE_END, 8192), ram.host + MMIO_HOLE_START);
	assert_null(gpa_to_host(&ram, MMIO_HOLE_END + 4096, 8192));
	assert_null(gpa_to_host(&ram, MMIO_HOLE_START - 4, 8)); /* runs into the hole */
}

int run_util_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_size_accepts_units),
		cmocka_unit_test(parse_size_rejects_garbage),
		cmocka_unit_test(gpa_to_host_bounds),
		cmocka_unit_test(gpa_to_host_high_memory),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
