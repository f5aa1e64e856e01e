/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_VIRTIO_H
#define KVMINI_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "security/seccomp.h"
#include "virtio/queue.h"

#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_MAX_QUEUES 4
#define VIRTIO_MAX_STATS 8
#define VIRTIO_MAX_CONFIG 64

struct vm;
struct virtio_dev;

/*
 * The device contract: what a device model (blk, net, rng, vsock) gives
 * the transport, and on which thread each op runs. Every op but start and
 * destroy runs with vdev->lock held.
 */
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	enum thread_role io_role; /* the seccomp list of the device's I/O thread */
	uint16_t num_queues;
	/*
	 * Builder thread, before the I/O thread starts: registers the model's
	 * own fds and timers (a tap, io_uring's eventfd, a refill timer) with
	 * virtio_watch_fd() and virtio_watch_timer(). 0, or -1 after logging.
	 */
	int (*start)(struct virtio_dev *vdev);
	/*
	 * vCPU thread: the device's whole config space, written into @buf
	 * (room for VIRTIO_MAX_CONFIG bytes); returns its length. The
	 * transport serves the guest's reads from it, bounds-checked once.
	 */
	uint32_t (*config_space)(struct virtio_dev *vdev, uint8_t *buf);
	/* I/O thread: the driver notified @queue (live, and the device DRIVER_OK). */
	void (*queue_notify)(struct virtio_dev *vdev, int queue);
	/*
	 * I/O thread: the driver reset the device (status 0), or one queue
	 * (QueueReset; may be NULL), while the vCPU that asked waits. Work in
	 * flight must be finished or dropped before they return, so that
	 * nothing lands in a re-armed ring.
	 */
	void (*reset)(struct virtio_dev *vdev);
	void (*queue_reset)(struct virtio_dev *vdev, int queue);
	/*
	 * Snapshots, with the VM paused: the model's state beyond the
	 * transport's (virtio_dev_save() holds that), written into @buf of
	 * @len bytes; returns the length used, or 0 if it does not fit.
	 * restore takes it back on a model built from the same spec: 0 or -1.
	 * NULL: the model keeps no state a snapshot needs.
	 */
	size_t (*save)(struct virtio_dev *vdev, uint8_t *buf, size_t len);
	int (*restore)(struct virtio_dev *vdev, const uint8_t *buf, size_t len);
	/*
	 * API thread: up to VIRTIO_MAX_STATS counters for the metrics, named
	 * as in Firecracker's; returns how many.
	 */
	int (*stats)(struct virtio_dev *vdev, struct metric *stats);
	const char *metrics_group; /* "block", "net", "entropy" */
	/* Releases the model's host resources; the I/O thread has stopped. */
	void (*destroy)(struct virtio_dev *vdev);
};

/*
 * One of a model's own fds or timers, watched by its I/O thread. The
 * callback runs there, lock held; while the VM is paused it is held back
 * and runs after resume.
 */
struct virtio_watch {
	struct event ev;
	struct virtio_dev *vdev;
	void (*fn)(struct virtio_dev *vdev, struct virtio_watch *w);
	bool on; /* the model wants it watched */
	struct virtio_watch *next;
};

/*
 * Handles one request and returns the bytes it wrote into the chain's
 * writable buffers (the used length).
 */
typedef uint32_t (*virtio_request_fn)(struct virtio_dev *vdev, struct virtq_chain *chain);

/* A handler's answer for a request it completes later with virtio_push(). */
#define VIRTIO_DEFERRED UINT32_MAX

/*
 * One virtio-mmio device: its transport registers, queues, ioeventfds and
 * irqfd, and the I/O thread that runs the device model.
 */
struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;
	uint64_t features; /* device-specific bits offered; the transport adds its own */
	struct vm *vm;
	uint64_t base;
	unsigned int irq;
	pthread_mutex_t lock;

	uint32_t status;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint64_t driver_features;
	uint32_t interrupt_status;
	uint32_t config_generation;
	struct virtq queues[VIRTIO_MAX_QUEUES];

	int irq_fd;
	int notify_fd[VIRTIO_MAX_QUEUES];
	int stop_fd;
	struct event_loop loop; /* the I/O thread's */
	struct event notify_ev[VIRTIO_MAX_QUEUES], stop_ev, reset_ev;
	struct virtio_watch *watches;
	/*
	 * Resets run on the I/O thread (its seccomp list allows what a model
	 * needs to drop its work), handed over by the vCPU: RESET_DEVICE or
	 * one bit per queue in reset_pending, reset_fd to wake the thread, and
	 * reset_done to wake the vCPU when the bits are clear.
	 */
	int reset_fd;
	uint32_t reset_pending;
	pthread_cond_t reset_done;
	bool io_running;
	bool paused;
	uint32_t held_notifies; /* queues notified while paused */
	pthread_t thread;
	bool thread_started;
	uint64_t bad_chains;
	char id[24]; /* the drive or interface id the metrics use */
};

#define VIRTIO_MMIO_BASE 0xd0000000ULL
#define VIRTIO_MMIO_SIZE 0x1000
#define VIRTIO_IRQ_BASE 5

/*
 * Registers a virtio-mmio device with the VM: MMIO region, ioeventfds,
 * irqfd, ACPI entry and I/O thread, named @id (the spec's drive or
 * interface id; NULL: none) in the metrics. Takes ownership of @priv
 * (released through ops->destroy) even when it fails. Returns 0 or -1.
 */
int virtio_mmio_add(struct vm *vm, const struct virtio_dev_ops *ops, const char *id,
		    uint64_t features, void *priv);
void virtio_mmio_stop(struct virtio_dev *vdev);

/* The transport's share of a snapshot: the registers and each queue's place. */
struct virtio_queue_state {
	uint16_t num, last_avail, used_idx;
	bool ready, event_idx;
	uint64_t desc_addr, avail_addr, used_addr;
};
struct virtio_dev_state {
	uint32_t status, queue_sel, device_features_sel, driver_features_sel;
	uint32_t interrupt_status, config_generation;
	uint64_t driver_features;
	struct virtio_queue_state queues[VIRTIO_MAX_QUEUES];
};
/*
 * With the VM paused: the transport's state. A snapshot holds it next to
 * what the model's ops->save wrote (the snapshot code calls both).
 */
void virtio_dev_save(struct virtio_dev *vdev, struct virtio_dev_state *st);
/*
 * Onto a device built from the same spec: a ready queue's rings are
 * checked against guest RAM again, as when the driver set them, so a
 * corrupt snapshot is refused (-1) instead of trusted. 0 on success.
 */
int virtio_dev_restore(struct virtio_dev *vdev, const struct virtio_dev_state *st);

/* virtio/device.c: the I/O thread, and the helpers device models use. */

/*
 * Stops (or restarts) the device model taking requests: notifies and
 * watched events that arrive while paused are held and replayed on resume.
 */
void virtio_dev_pause(struct virtio_dev *vdev, bool pause);
/* Registers the I/O thread's events, runs ops->start, starts the thread. */
int virtio_io_start(struct virtio_dev *vdev);
/* Stops the I/O thread and drops every watch. */
void virtio_io_stop(struct virtio_dev *vdev);

/*
 * For device models: pops every available chain of @queue and hands it to
 * @handle, completing malformed chains with length 0, until the queue is
 * empty (or @handle's model says stop by returning without budget, see
 * rng). Then interrupts the driver if it wants one.
 */
void virtio_process_queue(struct virtio_dev *vdev, int queue, struct virtq_chain *chain,
			  virtio_request_fn handle, bool (*may_continue)(struct virtio_dev *));
/* Completes a deferred request; then virtio_notify_used() after a batch. */
void virtio_push(struct virtio_dev *vdev, int queue, uint16_t head, uint32_t len);
/* The I/O thread comes back to @queue later, as if the driver had notified. */
void virtio_notify_self(struct virtio_dev *vdev, int queue);
void virtio_notify_used(struct virtio_dev *vdev, int queue);

/* From ops->start: watch @fd for input, or a timer of the watch's own. 0 or -1. */
int virtio_watch_fd(struct virtio_dev *vdev, struct virtio_watch *w, int fd,
		    void (*fn)(struct virtio_dev *vdev, struct virtio_watch *w));
int virtio_watch_timer(struct virtio_dev *vdev, struct virtio_watch *w,
		       void (*fn)(struct virtio_dev *vdev, struct virtio_watch *w));
/* Starts or stops watching (e.g. a tap while RX has no buffers). */
void virtio_watch_arm(struct virtio_watch *w, bool on);
/* A timer fires once, @ns from now; 0, or -1 when it will not. */
int virtio_watch_timer_set(struct virtio_watch *w, uint64_t ns);
/* Device config changed (e.g. link status): bump the generation, interrupt. */
void virtio_config_changed(struct virtio_dev *vdev);

/* The device hit a guest error it cannot continue from. */
void virtio_needs_reset(struct virtio_dev *vdev, const char *why);
bool virtio_has_feature(const struct virtio_dev *vdev, unsigned int bit);

/* The MMIO register interface, exposed for unit tests and fuzzing. */
void virtio_mmio_read(void *dev, uint64_t offset, uint8_t *data, uint32_t size);
void virtio_mmio_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t size);

#endif
