// SPDX-License-Identifier: MIT
#include "console.h"
#include "unit.h"

static void escape_sequences(void **state)
{
	struct console_filter f = { 0 };
	uint8_t out[16];

	(void)state;
	assert_int_equal(console_filter(&f, (const uint8_t *)"ls\r", 3, out), 3);
	assert_memory_equal(out, "ls\r", 3);
	assert_int_equal(console_filter(&f, (const uint8_t *)"\x01\x01", 2, out), 1);
	assert_int_equal(out[0], 0x01);
	assert_int_equal(console_filter(&f, (const uint8_t *)"\x01q", 2, out), 2);
	assert_memory_equal(out, "\x01q", 2);
	/* The escape may arrive in one read and the command in the next. */
	assert_int_equal(console_filter(&f, (const uint8_t *)"a\x01", 2, out), 1);
	assert_int_equal(console_filter(&f, (const uint8_t *)"x", 1, out), -1);
}

int run_console_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_sequences),
	};
	return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
