/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_EVENT_H
#define KVMINI_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h> /* EPOLLIN and EPOLLOUT, the events watched */

/*
 * The event loop every waiting thread runs: a device's I/O thread, the
 * API server and the VM's own thread. Each registration carries its own
 * callback and context, so a loop never needs to know what it serves and
 * a device may watch any number of fds and timers.
 */

struct event;
typedef void (*event_fn)(struct event *ev, uint32_t events);

struct event {
	int fd;
	uint32_t events; /* EPOLLIN and the like, while armed */
	bool armed;
	bool owns_fd; /* a timer's fd, closed by event_del() */
	/* Set while registered; an event that was never added is all zeroes. */
	event_fn fn;
	void *ctx;
	struct event_loop *loop;
};

struct event_loop {
	int epoll_fd;
	bool stop;
};

/* 0, or -1 with errno. */
int event_loop_init(struct event_loop *loop);
void event_loop_close(struct event_loop *loop);

/*
 * Watches @fd for @events (armed at once) and calls @fn(ev, revents) from
 * the loop's thread. @ev must stay where it is until event_del().
 * Returns 0, or -1 with errno.
 */
int event_add(struct event_loop *loop, struct event *ev, int fd, uint32_t events, event_fn fn,
	      void *ctx);
/*
 * Starts or stops watching, keeping the registration; 0 or -1 with errno
 * (EBADF once deleted).
 */
int event_arm(struct event *ev, bool on);
/* Watches for @events from now on (armed); 0 or -1 with errno. */
int event_set(struct event *ev, uint32_t events);
void event_del(struct event *ev);

/* A timer: a timerfd of the event's own, disarmed until event_timer_set(). */
int event_timer_add(struct event_loop *loop, struct event *ev, event_fn fn, void *ctx);
/* Fires once after @ns nanoseconds; 0 disarms. */
int event_timer_set(struct event *ev, uint64_t ns);
/* Reads a fired timer's (or an eventfd's) count, so that it stops firing. */
uint64_t event_drain(struct event *ev);

/*
 * Waits up to @timeout_ms (-1: for ever) and runs the callbacks of what
 * is ready. A callback may delete or disarm any event, and the others of
 * the batch are then skipped; the memory of an event deleted in a batch
 * must stay valid until the batch ends (events live in their owners'
 * structs, which outlive the loop). An event deleted and added again in
 * one batch may see a readiness that was its old fd's, so callbacks treat
 * readiness as a hint (EAGAIN is normal). Returns how many were ready, or
 * -1 with errno on a real error.
 */
int event_loop_run_once(struct event_loop *loop, int timeout_ms);
/* Runs until a callback calls event_loop_stop(); -1 with errno on an error. */
int event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

#endif
