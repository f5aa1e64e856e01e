// SPDX-License-Identifier: MIT
#include <unistd.h>

#include "devices/serial.h"
#include "unit.h"

static uint8_t rd(struct serial *s, int reg)
{
	uint8_t v;

	serial_ops.read(s, reg, &v, 1);
	return v;
}

static void wr(struct serial *s, int reg, uint8_t v)
{
	serial_ops.write(s, reg, &v, 1);
}

static void transmit_reaches_fd(void **state)
{
	struct serial s;
	int p[2];
	char out[8] = { 0 };

	(void)state;
	assert_int_equal(pipe(p), 0);
	serial_setup(&s, NULL, p[1], 4);
	wr(&s, 0, 'h');
	wr(&s, 0, 'i');
	assert_int_equal(read(p[0], out, sizeof(out)), 2);
	assert_string_equal(out, "hi");
	assert_int_equal(rd(&s, 5) & 0x60, 0x60); /* THRE and TEMT: always ready */
	close(p[0]);
	close(p[1]);
}

static void divisor_latch_hides_data_registers(void **state)
{
	struct serial s;

	(void)state;
	serial_setup(&s, NULL, -1, 4);
	wr(&s, 3, 0x80); /* DLAB */
	wr(&s, 0, 0x01);
	wr(&s, 1, 0x02);
	assert_int_equal(rd(&s, 0), 0x01);
	assert_int_equal(rd(&s, 1), 0x02);
	wr(&s, 3, 0x03); /* 8N1, DLAB off */
	assert_int_equal(rd(&s, 1), 0); /* IER untouched */
	wr(&s, 7, 0x5a);
	assert_int_equal(rd(&s, 7), 0x5a);
}

static void thr_empty_interrupt(void **state)
{
	struct serial s;

	(void)state;
	serial_setup(&s, NULL, -1, 4);
	assert_int_equal(rd(&s, 2) & 0x0f, 0x01); /* no interrupt */
	wr(&s, 1, 0x02); /* enable THRI: the transmitter is empty, so it fires */
	assert_int_equal(s.irq_level, 1);
	assert_int_equal(rd(&s, 2) & 0x0f, 0x02);
	assert_int_equal(rd(&s, 2) & 0x0f, 0x01); /* reading IIR acknowledged it */
	assert_int_equal(s.irq_level, 0);
	wr(&s, 0, 'x');
	assert_int_equal(s.irq_level, 1);
}

static void receive_path_and_priority(void **state)
{
	struct serial s;

	(void)state;
	serial_setup(&s, NULL, -1, 4);
	wr(&s, 2, 0x01); /* FIFO on */
	wr(&s, 1, 0x03); /* RDI and THRI */
	serial_receive(&s, (const uint8_t *)"ab", 2);
	assert_int_equal(rd(&s, 2), 0xc4); /* FIFO bits, RX data has priority */
	assert_int_equal(rd(&s, 5) & 1, 1);
	assert_int_equal(rd(&s, 0), 'a');
	assert_int_equal(rd(&s, 0), 'b');
	assert_int_equal(rd(&s, 5) & 1, 0);
	assert_int_equal(rd(&s, 0), 0); /* empty FIFO reads zero, no underflow */
	assert_int_equal(rd(&s, 2) & 0x0f, 0x02);
}

static void receive_overflow_drops(void **state)
{
	struct serial s;
	uint8_t junk[SERIAL_RX_FIFO + 10] = { 0 };

	(void)state;
	serial_setup(&s, NULL, -1, 4);
	serial_receive(&s, junk, sizeof(junk));
	assert_int_equal(s.rx_count, SERIAL_RX_FIFO);
	assert_int_equal(s.rx_dropped, 10);
	wr(&s, 2, 0x03); /* FIFO reset */
	assert_int_equal(s.rx_count, 0);
}

static void loopback_mirrors_modem_lines(void **state)
{
	struct serial s;

	(void)state;
	serial_setup(&s, NULL, -1, 4);
	wr(&s, 4, 0x1a); /* LOOP | OUT2 | RTS, as Linux's autoconfig writes */
	assert_int_equal(rd(&s, 6) & 0xf0, 0x90);
	wr(&s, 0, 0x42);
	assert_int_equal(rd(&s, 0), 0x42); /* transmit loops back to receive */
	wr(&s, 4, 0x00);
	assert_int_equal(rd(&s, 6) & 0xb0, 0xb0);
}

int run_serial_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transmit_reaches_fd),
		cmocka_unit_test(divisor_latch_hides_data_registers),
		cmocka_unit_test(thr_empty_interrupt),
		cmocka_unit_test(receive_path_and_priority),
		cmocka_unit_test(receive_overflow_drops),
		cmocka_unit_test(loopback_mirrors_modem_lines),
	};
	return cmocka_run_group_tests_name("serial", tests, NULL, NULL);
}
