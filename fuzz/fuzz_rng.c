// SPDX-License-Identifier: MIT
/*
 * virtio-rng's request path against a hostile driver: the input fills the
 * ring and descriptors in guest RAM; every chain is answered with at most
 * what the bucket holds, and only into its writable buffers.
 */
#include "../virtio/rng.c"

#define RAM (1 << 20)
#define RING_BYTES 0x6000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm *vm;
	static struct virtio_dev vdev;
	static struct rng r;
	struct virtq *q = &vdev.queues[0];

	if (!vm) {
		vm = calloc(1, sizeof(*vm));
		vm->ram.size = vm->ram.low_size = RAM;
		vm->ram.host = calloc(1, RAM);
		vm->ram.fd = -1;
	}
	if (size < 2)
		return 0;
	memset(vm->ram.host, 0, RING_BYTES);
	memcpy(vm->ram.host, data + 2, size - 2 < RING_BYTES ? size - 2 : RING_BYTES);
	memset(&vdev, 0, sizeof(vdev));
	memset(&r, 0, sizeof(r));
	r.timer_fd = -1;
	r.tokens = (uint64_t)data[1] << 10;
	r.last_ns = now_ns();
	vdev.ops = &rng_ops;
	vdev.priv = &r;
	vdev.vm = vm;
	vdev.irq_fd = vdev.epoll_fd = -1;
	vdev.driver_features =
	    (uint64_t)(data[0] & 1) << VIRTIO_F_RING_EVENT_IDX | 1ULL << VIRTIO_F_VERSION_1;
	vdev.status = VIRTIO_STATUS_DRIVER_OK;
	q->num = 1u << (data[0] >> 5 & 7);
	q->desc_addr = 0;
	q->avail_addr = 0x1000;
	q->used_addr = 0x2000;
	virtq_activate(q, &vm->ram);
	q->ready = true;
	virtio_process_queue(&vdev, 0, &r.chain, rng_request, rng_has_tokens);
	return 0;
}
