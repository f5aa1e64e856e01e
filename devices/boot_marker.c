// SPDX-License-Identifier: MIT
/*
 * Boot-time marker: a guest write of 123 to port 0x3f0 logs the time since
 * kvmini started. Tests and benchmarks read that line instead of guessing
 * from console output.
 */
#include "util.h"
#include "vm.h"

#define BOOT_MARKER_PORT 0x3f0
#define BOOT_MARKER_MAGIC 123

static void boot_marker_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t size)
{
	(void)offset;
	(void)size;
	if (data[0] == BOOT_MARKER_MAGIC)
		vm_boot_marker(dev);
}

static const struct device_ops boot_marker_ops = {
	.name = "boot-marker",
	.write = boot_marker_write,
};

int boot_marker_init(struct vm *vm)
{
	return bus_register(&vm->pio, BOOT_MARKER_PORT, 1, &boot_marker_ops, vm);
}
