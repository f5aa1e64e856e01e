// SPDX-License-Identifier: MIT
/*
 * Test exit device at port 0xf4, compatible with QEMU's isa-debug-exit: a
 * write of v ends the VM with status (v << 1) | 1, so the same probe guest
 * reports the same result under kvmini and under QEMU. Only --debug-exit
 * turns it on: otherwise the guest would choose kvmini's exit status, and
 * 129-255 read as "killed by a signal" to a manager.
 */
#include "util.h"
#include "vm.h"

#define DEBUG_EXIT_PORT 0xf4

#ifdef KVMINI_TEST_HOOKS
#include <sys/socket.h>
#endif

static void debug_exit_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t size)
{
	struct vm *vm = dev;

#ifdef KVMINI_TEST_HOOKS
	/* Test builds only: port 0xf5 makes this vCPU thread make a syscall
	 * its seccomp filter forbids, to prove the filter is there. */
	if (offset == 1) {
		socket(AF_INET, SOCK_STREAM, 0);
		return;
	}
#endif
	if (offset != 0)
		return;
	if (!vm->spec->debug_exit) {
		log_guest("debug-exit: the guest wrote 0x%llx to port 0x%x; ignored "
			  "(enable it with --debug-exit)",
			  (unsigned long long)load_le(data, size), DEBUG_EXIT_PORT);
		return;
	}
	vm_request_exit(vm, ((load_le(data, size) << 1) | 1) & 0xff);
}

static const struct device_ops debug_exit_ops = {
	.name = "debug-exit",
	.write = debug_exit_write,
};

int debug_exit_init(struct vm *vm)
{
	return bus_register(&vm->pio, DEBUG_EXIT_PORT, 4, &debug_exit_ops, vm);
}
