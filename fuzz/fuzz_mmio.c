// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio register interface: the input is a sequence of
 * (offset, width, value, read/write) accesses from a hostile driver to a
 * two-queue device, with its rings anywhere the input says.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "virtio/virtio.h"
#include "vm.h"

static void notify(struct virtio_dev *vdev, int queue)
{
	static struct virtq_chain chain;

	while (virtq_pop(&vdev->queues[queue], &vdev->vm->ram, &chain) == VIRTQ_CHAIN)
		virtq_push(&vdev->queues[queue], chain.head, 0);
}

static uint32_t config_space(struct virtio_dev *vdev, uint8_t *config)
{
	(void)vdev;
	memset(config, 0x5a, 16);
	return 16;
}

static const struct virtio_dev_ops ops = {
	.name = "fuzz",
	.device_id = 2,
	.num_queues = 2,
	.config_space = config_space,
	.queue_notify = notify,
};

static int fuzz_one(const uint8_t *data, size_t size)
{
	struct vm *vm = fuzz_vm();
	static struct virtio_dev vdev;

	memset(&vdev, 0, sizeof(vdev));
	vdev.ops = &ops;
	vdev.features = 0xffff;
	vdev.vm = vm;
	vdev.irq_fd = -1;
	pthread_mutex_init(&vdev.lock, NULL);
	for (size_t i = 0; i + 7 <= size; i += 7) {
		uint64_t offset = (data[i] | data[i + 1] << 8) & 0x1ff;
		uint32_t width = 1 << (data[i + 2] & 3), value;
		uint8_t buf[8] = { 0 };

		memcpy(&value, data + i + 3, 4);
		memcpy(buf, &value, 4);
		if (data[i + 2] & 4)
			virtio_mmio_read(&vdev, offset, buf, width > 4 ? 4 : width);
		else
			virtio_mmio_write(&vdev, offset, buf, width > 4 ? 4 : width);
	}
	return 0;
}

FUZZ_TARGET_AS(ROLE_VCPU)
