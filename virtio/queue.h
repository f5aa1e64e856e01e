/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_VIRTIO_QUEUE_H
#define KVMINI_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "memory.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

#define VIRTQ_MAX_SIZE 256 /* QueueNumMax kvmini offers */
#define VIRTQ_MAX_INDIRECT 1024 /* largest indirect table accepted */
#define VIRTQ_MAX_IOV (VIRTQ_MAX_INDIRECT + VIRTQ_MAX_SIZE)

/*
 * A split virtqueue (virtio 1.2, 2.7). Its rings live in guest memory and
 * every index and address read from them is untrusted.
 */
struct virtq {
	uint16_t num;
	bool ready;
	bool event_idx;
	uint64_t desc_addr, avail_addr, used_addr;
	/* Host pointers, valid while ready. */
	volatile uint8_t *desc, *avail, *used;
	uint16_t last_avail; /* next avail entry to consume */
	uint16_t avail_seen; /* the driver's avail->idx as the last pop read it */
	uint16_t used_idx; /* our copy of used->idx */
	uint16_t signalled_used; /* used_idx at the last interrupt */
	bool signalled_valid;
};

/* One request: its head index and the host iovecs it names, readable first. */
struct virtq_chain {
	uint16_t head;
	int nout, nin;
	struct iovec out[VIRTQ_MAX_IOV];
	struct iovec in[VIRTQ_MAX_IOV];
	uint64_t out_len, in_len;
};

enum virtq_pop_result {
	VIRTQ_EMPTY = 0,
	VIRTQ_CHAIN = 1,
	VIRTQ_BAD_CHAIN = -1, /* consumed; complete it with length 0 */
	VIRTQ_BROKEN = -2, /* the ring itself is corrupt: device needs reset */
};

/*
 * Checks the ring addresses against RAM and alignment and maps them.
 * Returns 0, or -1 (the queue stays not ready).
 */
int virtq_activate(struct virtq *q, const struct guest_ram *ram);
void virtq_reset(struct virtq *q);

int virtq_pop(struct virtq *q, const struct guest_ram *ram, struct virtq_chain *chain);
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* Gives back the last @n popped chains, e.g. when a frame did not fit. */
void virtq_unpop(struct virtq *q, uint16_t n);
/* Are there chains the driver made available that we have not popped? */

/* Does the driver want an interrupt for what was pushed since the last? */
bool virtq_should_notify(struct virtq *q);

/*
 * Before a device waits for buffers: with EVENT_IDX, asks the driver to
 * notify as soon as it adds one past those the last pop saw (the device
 * may have consumed fewer). True if one arrived meanwhile: look again.
 */
bool virtq_arm_avail_event(struct virtq *q);

/* Copies between iovecs and a flat buffer; return bytes copied. */
size_t iov_to_buf(const struct iovec *iov, int n, size_t skip, void *buf, size_t len);
size_t buf_to_iov(const struct iovec *iov, int n, size_t skip, const void *buf, size_t len);
/* The host address of byte @off of an iovec list (NULL past its end). */
uint8_t *iov_byte(const struct iovec *iov, int n, size_t off);
/* The [skip, skip + len) part of @src as a new list in @dst; returns its length. */
int iov_slice(const struct iovec *src, int n, size_t skip, size_t len, struct iovec *dst);

#endif
