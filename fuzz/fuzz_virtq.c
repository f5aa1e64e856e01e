// SPDX-License-Identifier: MIT
/*
 * The virtqueue walker against a guest that controls every byte: the input
 * is the first 64 KiB of guest RAM (rings at fixed places, descriptors and
 * indirect tables wherever it points) plus the queue size. Every chain is
 * popped and completed until the ring is empty or declared broken.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "virtio/queue.h"

#define RAM (1 << 20)

static int fuzz_one(const uint8_t *data, size_t size)
{
	static uint8_t *ram_bytes;
	static struct virtq_chain chain;
	struct guest_ram ram = { .size = RAM, .low_size = RAM, .fd = -1 };
	struct virtq q = { 0 };

	if (size < 2)
		return 0;
	if (!ram_bytes)
		ram_bytes = malloc(RAM);
	memset(ram_bytes, 0, RAM);
	memcpy(ram_bytes, data + 2, size - 2 < 65536 ? size - 2 : 65536);
	ram.host = ram_bytes;
	q.num = 1 << (data[0] % 9); /* 1..256 */
	q.event_idx = data[1] & 1;
	q.desc_addr = 0x0;
	q.avail_addr = 0x4000;
	q.used_addr = 0x5000;
	if (virtq_activate(&q, &ram))
		return 0;
	for (int i = 0; i < 4096; i++) {
		int r = virtq_pop(&q, &ram, &chain);

		if (r == VIRTQ_EMPTY || r == VIRTQ_BROKEN)
			break;
		/* Touch every byte the walker handed out: they must be in RAM. */
		for (int j = 0; j < chain.nout; j++)
			if (chain.out[j].iov_len)
				((volatile uint8_t *)chain.out[j]
				     .iov_base)[chain.out[j].iov_len - 1];
		for (int j = 0; j < chain.nin; j++)
			if (chain.in[j].iov_len)
				((uint8_t *)chain.in[j].iov_base)[chain.in[j].iov_len - 1] = 0;
		virtq_push(&q, chain.head, r == VIRTQ_CHAIN ? chain.in_len : 0);
		virtq_should_notify(&q);
		virtq_arm_avail_event(&q);
	}
	return 0;
}

FUZZ_TARGET_AS(ROLE_IO_NET)
