// SPDX-License-Identifier: MIT
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "event.h"
#include "unit.h"

static int calls[2];
static struct event evs[2];

static void count(struct event *ev, uint32_t events)
{
	(void)events;
	calls[ev - evs]++;
	event_drain(ev);
}

/* The first callback deletes the other event of the same batch. */
static void delete_other(struct event *ev, uint32_t events)
{
	count(ev, events);
	event_del(&evs[ev == &evs[0]]);
}

static void kick(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

static void callbacks_run_and_disarmed_events_wait(void **state)
{
	struct event_loop loop;
	int fd = eventfd(0, EFD_NONBLOCK);

	(void)state;
	calls[0] = 0;
	assert_int_equal(event_loop_init(&loop), 0);
	assert_int_equal(event_add(&loop, &evs[0], fd, EPOLLIN, count, NULL), 0);
	kick(fd);
	assert_int_equal(event_loop_run_once(&loop, 1000), 1);
	assert_int_equal(calls[0], 1);
	assert_int_equal(event_arm(&evs[0], false), 0);
	kick(fd);
	assert_int_equal(event_loop_run_once(&loop, 0), 0);
	assert_int_equal(calls[0], 1);
	assert_int_equal(event_arm(&evs[0], true), 0);
	assert_int_equal(event_loop_run_once(&loop, 1000), 1);
	assert_int_equal(calls[0], 2);
	event_del(&evs[0]);
	event_loop_close(&loop);
	close(fd);
}

static void a_timer_fires_once(void **state)
{
	struct event_loop loop;

	(void)state;
	calls[0] = 0;
	assert_int_equal(event_loop_init(&loop), 0);
	assert_int_equal(event_timer_add(&loop, &evs[0], count, NULL), 0);
	assert_int_equal(event_loop_run_once(&loop, 20), 0); /* disarmed until set */
	assert_int_equal(event_timer_set(&evs[0], 1000000), 0);
	assert_int_equal(event_loop_run_once(&loop, 1000), 1);
	assert_int_equal(event_loop_run_once(&loop, 20), 0);
	assert_int_equal(calls[0], 1);
	event_del(&evs[0]); /* closes the timer's own fd */
	event_loop_close(&loop);
}

static void an_event_deleted_in_its_batch_is_not_called(void **state)
{
	struct event_loop loop;
	int fds[2] = { eventfd(0, EFD_NONBLOCK), eventfd(0, EFD_NONBLOCK) };

	(void)state;
	calls[0] = calls[1] = 0;
	assert_int_equal(event_loop_init(&loop), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(event_add(&loop, &evs[i], fds[i], EPOLLIN, delete_other, NULL), 0);
		kick(fds[i]);
	}
	assert_int_equal(event_loop_run_once(&loop, 1000), 2);
	assert_int_equal(calls[0] + calls[1], 1);
	event_del(&evs[0]);
	event_del(&evs[1]);
	event_loop_close(&loop);
	close(fds[0]);
	close(fds[1]);
}

int run_event_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(callbacks_run_and_disarmed_events_wait),
		cmocka_unit_test(a_timer_fires_once),
		cmocka_unit_test(an_event_deleted_in_its_batch_is_not_called),
	};
	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
