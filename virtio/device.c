// SPDX-License-Identifier: MIT
/*
 * The device side of virtio: each device's I/O thread, an event loop on
 * which the queues' notify eventfds and the model's own fds and timers
 * are registrations with their own callbacks, and the helpers a model
 * uses to serve its queues and signal the driver.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "vm.h"

bool virtio_has_feature(const struct virtio_dev *vdev, unsigned int bit)
{
	return vdev->driver_features & (1ULL << bit);
}

void virtio_raise_interrupt(struct virtio_dev *vdev, uint32_t why)
{
	uint64_t one = 1;

	vdev->interrupt_status |= why;
	if (vdev->irq_fd >= 0 && write(vdev->irq_fd, &one, sizeof(one)) < 0)
		log_warn("%s: irqfd: %s", vdev->ops->name, strerror(errno));
}

void virtio_process_queue(struct virtio_dev *vdev, int queue, struct virtq_chain *chain,
			  virtio_request_fn handle, bool (*may_continue)(struct virtio_dev *))
{
	struct virtq *q = &vdev->queues[queue];
	bool pushed = false;

	for (int turns = 0;; turns++) {
		int r;

		if (may_continue && !may_continue(vdev))
			break;
		if (turns == q->num) {
			/* A ring's worth: let the I/O thread serve the rest first. */
			virtio_notify_self(vdev, queue);
			break;
		}
		r = virtq_pop(q, &vdev->vm->ram, chain);
		if (r == VIRTQ_EMPTY) {
			if (!virtq_arm_avail_event(q))
				break;
			continue;
		}
		if (r == VIRTQ_BROKEN) {
			virtio_needs_reset(vdev, "avail ring index or head out of range");
			return;
		}
		if (r == VIRTQ_BAD_CHAIN) {
			/* Fail this request only; the queue and device go on. */
			vdev->bad_chains++;
			log_guest("%s: malformed descriptor chain (head %u) completed "
				  "with length 0",
				  vdev->ops->name, chain->head);
			virtq_push(q, chain->head, 0);
		} else {
			uint32_t len = handle(vdev, chain);

			if (len == VIRTIO_DEFERRED)
				continue;
			virtq_push(q, chain->head, len);
		}
		pushed = true;
	}
	if (pushed)
		virtio_notify_used(vdev, queue);
}

void virtio_push(struct virtio_dev *vdev, int queue, uint16_t head, uint32_t len)
{
	virtq_push(&vdev->queues[queue], head, len);
}

void virtio_notify_used(struct virtio_dev *vdev, int queue)
{
	if (vdev->queues[queue].ready && virtq_should_notify(&vdev->queues[queue]))
		virtio_raise_interrupt(vdev, VIRTIO_INT_USED_RING);
}

void virtio_config_changed(struct virtio_dev *vdev)
{
	vdev->config_generation++;
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_raise_interrupt(vdev, VIRTIO_INT_CONFIG);
}

void virtio_needs_reset(struct virtio_dev *vdev, const char *why)
{
	if (!(vdev->status & VIRTIO_STATUS_NEEDS_RESET))
		log_guest("%s at 0x%llx: %s; the device needs a reset", vdev->ops->name,
			  (unsigned long long)vdev->base, why);
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vdev->queues[i].ready = false;
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_raise_interrupt(vdev, VIRTIO_INT_CONFIG);
}

void virtio_notify_self(struct virtio_dev *vdev, int queue)
{
	uint64_t one = 1;

	if (write(vdev->notify_fd[queue], &one, sizeof(one)) < 0)
		log_warn("%s: queue %d notify: %s", vdev->ops->name, queue, strerror(errno));
}

/* A watched fd or timer is ready: the model's callback, unless paused. */
static void watch_ready(struct event *ev, uint32_t events)
{
	struct virtio_watch *w = ev->ctx;
	struct virtio_dev *vdev = w->vdev;

	(void)events;
	pthread_mutex_lock(&vdev->lock);
	if (vdev->paused)
		event_arm(ev, false); /* re-armed on resume */
	else
		w->fn(vdev, w);
	pthread_mutex_unlock(&vdev->lock);
}

static void add_watch(struct virtio_dev *vdev, struct virtio_watch *w,
		      void (*fn)(struct virtio_dev *vdev, struct virtio_watch *w))
{
	w->vdev = vdev;
	w->fn = fn;
	w->on = true;
	w->next = vdev->watches;
	vdev->watches = w;
}

int virtio_watch_fd(struct virtio_dev *vdev, struct virtio_watch *w, int fd,
		    void (*fn)(struct virtio_dev *vdev, struct virtio_watch *w))
{
	if (event_add(&vdev->loop, &w->ev, fd, EPOLLIN, watch_ready, w) < 0) {
		log_error("%s: watching fd %d: %s", vdev->ops->name, fd, strerror(errno));
		return -1;
	}
	add_watch(vdev, w, fn);
	return 0;
}

int virtio_watch_timer(struct virtio_dev *vdev, struct virtio_watch *w,
		       void (*fn)(struct virtio_dev *vdev, struct virtio_watch *w))
{
	if (event_timer_add(&vdev->loop, &w->ev, watch_ready, w) < 0) {
		log_error("%s: timerfd: %s", vdev->ops->name, strerror(errno));
		return -1;
	}
	add_watch(vdev, w, fn);
	return 0;
}

void virtio_watch_arm(struct virtio_watch *w, bool on)
{
	/* Unregistered (a fuzzer's model, or before start): nothing to watch. */
	if (!w->vdev)
		return;
	w->on = on;
	if (event_arm(&w->ev, on && !w->vdev->paused) < 0)
		log_warn("%s: epoll_ctl: %s", w->vdev->ops->name, strerror(errno));
}

int virtio_watch_timer_set(struct virtio_watch *w, uint64_t ns)
{
	if (!w->vdev)
		return -1;
	if (event_timer_set(&w->ev, ns) < 0) {
		log_warn("%s: timerfd_settime: %s", w->vdev->ops->name, strerror(errno));
		return -1;
	}
	return 0;
}

void virtio_dev_pause(struct virtio_dev *vdev, bool pause)
{
	pthread_mutex_lock(&vdev->lock);
	vdev->paused = pause;
	if (!pause) {
		/* Replayed through the I/O thread, which alone runs the model. */
		for (int q = 0; q < VIRTIO_MAX_QUEUES; q++)
			if (vdev->held_notifies & (1u << q))
				virtio_notify_self(vdev, q);
		vdev->held_notifies = 0;
		for (struct virtio_watch *w = vdev->watches; w; w = w->next)
			event_arm(&w->ev, w->on);
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* A queue's notify eventfd (KVM's ioeventfd, or virtio_notify_self()). */
static void notify_ready(struct event *ev, uint32_t events)
{
	struct virtio_dev *vdev = ev->ctx;
	int q = ev - vdev->notify_ev;

	(void)events;
	pthread_mutex_lock(&vdev->lock);
	if (!event_drain(ev))
		; /* nothing to do */
	else if (vdev->paused)
		vdev->held_notifies |= 1u << q;
	else if (vdev->queues[q].ready && (vdev->status & VIRTIO_STATUS_DRIVER_OK))
		vdev->ops->queue_notify(vdev, q);
	pthread_mutex_unlock(&vdev->lock);
}

static void reset_ready(struct event *ev, uint32_t events)
{
	struct virtio_dev *vdev = ev->ctx;

	(void)events;
	pthread_mutex_lock(&vdev->lock);
	virtio_serve_resets(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

static void stop_ready(struct event *ev, uint32_t events)
{
	(void)events;
	event_loop_stop(ev->loop);
}

static void *io_thread(void *arg)
{
	struct virtio_dev *vdev = arg;

	if (seccomp_apply(vdev->ops->io_role)) {
		vm_request_exit(vdev->vm, EXIT_HOST_ERROR);
	} else if (event_loop_run(&vdev->loop) < 0) {
		/* A device without its thread cannot serve even a reset: stop. */
		log_error("%s: epoll_wait: %s", vdev->ops->name, strerror(errno));
		vm_request_exit(vdev->vm, EXIT_HOST_ERROR);
	}
	/* It serves a last reset on the way out, so that no vCPU waits on. */
	pthread_mutex_lock(&vdev->lock);
	virtio_serve_resets(vdev);
	vdev->io_running = false;
	pthread_cond_broadcast(&vdev->reset_done);
	pthread_mutex_unlock(&vdev->lock);
	return NULL;
}

static int register_events(struct virtio_dev *vdev)
{
	if (event_loop_init(&vdev->loop) < 0)
		return -1;
	for (int i = 0; i < vdev->ops->num_queues; i++)
		if (event_add(&vdev->loop, &vdev->notify_ev[i], vdev->notify_fd[i], EPOLLIN,
			      notify_ready, vdev) < 0)
			return -1;
	if (event_add(&vdev->loop, &vdev->stop_ev, vdev->stop_fd, EPOLLIN, stop_ready, vdev) < 0 ||
	    event_add(&vdev->loop, &vdev->reset_ev, vdev->reset_fd, EPOLLIN, reset_ready, vdev) < 0)
		return -1;
	return 0;
}

int virtio_io_start(struct virtio_dev *vdev)
{
	char name[16];
	int err;

	if (register_events(vdev)) {
		log_error("%s: the I/O thread's events: %s", vdev->ops->name, strerror(errno));
		return -1;
	}
	if (vdev->ops->start && vdev->ops->start(vdev))
		return -1;
	vdev->io_running = true;
	err = pthread_create(&vdev->thread, NULL, io_thread, vdev);
	if (err) {
		vdev->io_running = false;
		log_error("%s: starting I/O thread: %s", vdev->ops->name, strerror(err));
		return -1;
	}
	vdev->thread_started = true;
	snprintf(name, sizeof(name), "io-%s", vdev->ops->name + 7); /* skip "virtio-" */
	pthread_setname_np(vdev->thread, name);
	return 0;
}

void virtio_io_stop(struct virtio_dev *vdev)
{
	uint64_t one = 1;

	if (vdev->thread_started) {
		if (write(vdev->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(vdev->thread, NULL);
		vdev->thread_started = false;
	}
	for (struct virtio_watch *w = vdev->watches; w; w = w->next) {
		event_del(&w->ev); /* a timer's fd is the watch's own */
		w->vdev = NULL; /* arming it now does nothing */
	}
	vdev->watches = NULL;
	event_loop_close(&vdev->loop);
}
