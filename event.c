// SPDX-License-Identifier: MIT
/* The event loop: epoll, with each registration's callback in its data. */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "event.h"

#define EVENTS_PER_WAIT 16

int event_loop_init(struct event_loop *loop)
{
	loop->stop = false;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return loop->epoll_fd < 0 ? -1 : 0;
}

void event_loop_close(struct event_loop *loop)
{
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->epoll_fd = -1;
}

int event_add(struct event_loop *loop, struct event *ev, int fd, uint32_t events, event_fn fn,
	      void *ctx)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	/* Filled in only once registered: a failed add leaves no half-event. */
	ev->loop = NULL;
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &e) < 0)
		return -1;
	ev->fd = fd;
	ev->events = events;
	ev->fn = fn;
	ev->ctx = ctx;
	ev->loop = loop;
	ev->armed = true;
	ev->owns_fd = false;
	return 0;
}

/*
 * Disarming takes the fd out of the set, rather than asking for no
 * events: epoll reports a hang-up or an error even then, and that would
 * spin the loop on an fd that is meant to wait.
 */
int event_arm(struct event *ev, bool on)
{
	struct epoll_event e = { .events = ev->events, .data.ptr = ev };

	if (!ev->loop) {
		errno = EBADF;
		return -1;
	}
	if (ev->armed == on)
		return 0;
	if (epoll_ctl(ev->loop->epoll_fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, ev->fd,
		      on ? &e : NULL) < 0)
		return -1;
	ev->armed = on;
	return 0;
}

int event_set(struct event *ev, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	if (!ev->loop) {
		errno = EBADF;
		return -1;
	}
	ev->events = events;
	if (!ev->armed)
		return event_arm(ev, true);
	return epoll_ctl(ev->loop->epoll_fd, EPOLL_CTL_MOD, ev->fd, &e);
}

void event_del(struct event *ev)
{
	if (!ev->loop)
		return;
	if (ev->armed)
		epoll_ctl(ev->loop->epoll_fd, EPOLL_CTL_DEL, ev->fd, NULL);
	if (ev->owns_fd)
		close(ev->fd);
	ev->loop = NULL;
	ev->armed = false;
	ev->fd = -1;
}

int event_timer_add(struct event_loop *loop, struct event *ev, event_fn fn, void *ctx)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -1;
	if (event_add(loop, ev, fd, EPOLLIN, fn, ctx) < 0) {
		close(fd);
		return -1;
	}
	ev->owns_fd = true;
	return 0;
}

int event_timer_set(struct event *ev, uint64_t ns)
{
	struct itimerspec t = { .it_value = { .tv_sec = ns / 1000000000,
					      .tv_nsec = ns % 1000000000 } };

	return timerfd_settime(ev->fd, 0, &t, NULL);
}

uint64_t event_drain(struct event *ev)
{
	uint64_t count = 0;

	if (read(ev->fd, &count, sizeof(count)) != sizeof(count))
		return 0;
	return count;
}

int event_loop_run_once(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event ready[EVENTS_PER_WAIT];
	int n = epoll_wait(loop->epoll_fd, ready, EVENTS_PER_WAIT, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n && !loop->stop; i++) {
		struct event *ev = ready[i].data.ptr;

		/* An earlier callback of this batch may have deleted or disarmed it. */
		if (ev->loop == loop && ev->armed)
			ev->fn(ev, ready[i].events);
	}
	return n;
}

int event_loop_run(struct event_loop *loop)
{
	while (!loop->stop)
		if (event_loop_run_once(loop, -1) < 0)
			return -1;
	return 0;
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stop = true;
}
