/* SPDX-License-Identifier: MIT */
/* The probe's virtio-mmio driver core, shared by its device checks. */
#ifndef PROBE_VIRTIO_H
#define PROBE_VIRTIO_H

#include <stdint.h>

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC 0x080
#define REG_QUEUE_DRIVER 0x090
#define REG_QUEUE_DEVICE 0x0a0
#define REG_CONFIG 0x100

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40

#define F_BLK_SIZE_MAX (1ULL << 1)
#define F_BLK_SEG_MAX (1ULL << 2)
#define F_BLK_RO (1ULL << 5)
#define F_BLK_BLK_SIZE (1ULL << 6)
#define F_BLK_FLUSH (1ULL << 9)
#define F_BLK_DISCARD (1ULL << 13)
#define F_BLK_WRITE_ZEROES (1ULL << 14)
#define F_INDIRECT (1ULL << 28)
#define F_EVENT_IDX (1ULL << 29)
#define F_VERSION_1 (1ULL << 32)

#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4

#define QSIZE 128
#define MAX_DEVS 8
#define CHUNK 65536
#define SECTOR 512

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct ring {
	struct desc desc[QSIZE] __attribute__((aligned(16)));
	struct {
		uint16_t flags, idx, ring[QSIZE], used_event;
	} avail __attribute__((aligned(2)));
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[QSIZE];
		uint16_t avail_event;
	} used __attribute__((aligned(4)));
};

struct vdev {
	uint64_t base;
	uint32_t id;
	uint32_t qidx; /* the queue this handle drives */
	uint64_t features;
	uint16_t num;
	uint16_t next_avail, last_used;
	struct ring *ring;
	int irq_misses;
};

uint32_t rd(struct vdev *d, uint32_t off);
void wr(struct vdev *d, uint32_t off, uint32_t v);
void barrier(void);
int init_begin(struct vdev *d, uint64_t want);
int setup_queue(struct vdev *d);
void init_end(struct vdev *d);
int64_t kick_and_wait(struct vdev *d, uint16_t head);
void set_desc(struct desc *t, int i, const volatile void *addr, uint32_t len, uint16_t flags);

/* net.c */
void check_net(struct vdev *rx, struct ring *tx_ring);
/* vsock.c */
void check_vsock(struct vdev *dev, struct ring *tx_ring, struct ring *ev_ring);

#endif
