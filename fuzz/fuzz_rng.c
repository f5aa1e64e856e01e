// SPDX-License-Identifier: MIT
/*
 * virtio-rng's request path against a hostile driver: the input fills the
 * ring and descriptors in guest RAM; every chain is answered with at most
 * what the bucket holds, and only into its writable buffers.
 */
#include "../virtio/rng.c"
#include "fuzz/fuzz.h"

#define RING_BYTES 0x6000

static int fuzz_one(const uint8_t *data, size_t size)
{
	struct vm *vm = fuzz_vm();
	static struct virtio_dev vdev;
	static struct rng r;
	struct virtq *q = &vdev.queues[0];

	if (size < 2)
		return 0;
	memset(vm->ram.host, 0, RING_BYTES);
	memcpy(vm->ram.host, data + 2, size - 2 < RING_BYTES ? size - 2 : RING_BYTES);
	memset(&vdev, 0, sizeof(vdev));
	memset(&r, 0, sizeof(r));
	r.tokens = (uint64_t)data[1] << 10;
	r.last_ns = now_ns();
	vdev.ops = &rng_ops;
	vdev.priv = &r;
	vdev.vm = vm;
	vdev.irq_fd = vdev.loop.epoll_fd = -1;
	vdev.driver_features =
	    (uint64_t)(data[0] & 1) << VIRTIO_F_RING_EVENT_IDX | 1ULL << VIRTIO_F_VERSION_1;
	vdev.status = VIRTIO_STATUS_DRIVER_OK;
	fuzz_queue(q, 0, 1u << (data[0] >> 5 & 7), &vm->ram);
	virtio_process_queue(&vdev, 0, &r.chain, rng_request, rng_has_tokens);
	return 0;
}

FUZZ_TARGET_AS(ROLE_IO_RNG)
