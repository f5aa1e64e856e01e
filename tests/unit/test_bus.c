// SPDX-License-Identifier: MIT
#include <string.h>

#include "devices/bus.h"
#include "unit.h"

struct recorder {
	uint64_t offset;
	uint32_t size;
	int writes;
};

static void rec_read(void *dev, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct recorder *r = dev;

	r->offset = offset;
	r->size = size;
	memset(data, 0xab, size);
}

static void rec_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t size)
{
	struct recorder *r = dev;

	(void)data;
	r->offset = offset;
	r->size = size;
	r->writes++;
}

static const struct device_ops rec_ops = { .name = "rec", .read = rec_read, .write = rec_write };

static void bus_dispatches_by_offset(void **state)
{
	struct bus bus = { .name = "test" };
	struct recorder a = { 0 }, b = { 0 };
	uint8_t data[4] = { 0 };

	(void)state;
	assert_int_equal(bus_register(&bus, 0x3f8, 8, &rec_ops, &a), 0);
	assert_int_equal(bus_register(&bus, 0x60, 5, &rec_ops, &b), 0);
	assert_true(bus_access(&bus, 0x3fd, data, 1, false));
	assert_int_equal(a.offset, 5);
	assert_int_equal(data[0], 0xab);
	assert_true(bus_access(&bus, 0x64, data, 1, true));
	assert_int_equal(b.offset, 4);
	assert_int_equal(b.writes, 1);
}

static void bus_rejects_overlap(void **state)
{
	struct bus bus = { .name = "test" };
	struct recorder a = { 0 };

	(void)state;
	assert_int_equal(bus_register(&bus, 0x100, 0x10, &rec_ops, &a), 0);
	assert_int_equal(bus_register(&bus, 0x10f, 1, &rec_ops, &a), -1);
	assert_int_equal(bus_register(&bus, 0xf0, 0x11, &rec_ops, &a), -1);
	assert_int_equal(bus_register(&bus, 0x110, 1, &rec_ops, &a), 0);
	assert_int_equal(bus_register(&bus, UINT64_MAX, 2, &rec_ops, &a), -1); /* wraps */
	assert_int_equal(bus_register(&bus, 0x200, 0, &rec_ops, &a), -1);
}

static void bus_unclaimed_reads_all_ones(void **state)
{
	struct bus bus = { .name = "test" };
	struct recorder a = { 0 };
	uint8_t data[4] = { 0 };

	(void)state;
	assert_int_equal(bus_register(&bus, 0x100, 4, &rec_ops, &a), 0);
	assert_false(bus_access(&bus, 0x80, data, 4, false));
	assert_int_equal(data[0] & data[1] & data[2] & data[3], 0xff);
	/* A 4-byte access at the region's last byte straddles it: unclaimed. */
	assert_false(bus_access(&bus, 0x103, data, 4, true));
	assert_int_equal(a.writes, 0);
	assert_int_equal(bus.unclaimed, 2);
}

int run_bus_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bus_dispatches_by_offset),
		cmocka_unit_test(bus_rejects_overlap),
		cmocka_unit_test(bus_unclaimed_reads_all_ones),
	};
	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
