/* SPDX-License-Identifier: MIT */
/* What the device fuzz targets share: a guest RAM and a queue in it. */
#ifndef KVMINI_FUZZ_H
#define KVMINI_FUZZ_H

#include <stdlib.h>
#include <string.h>

#include "security/seccomp.h"
#include "virtio/queue.h"
#include "vm.h"

/*
 * Runs fn(arg) on a thread holding @role's seccomp list in trap mode
 * (fuzz/role.c), and waits: a forbidden syscall is reported as a crash.
 */
void fuzz_as(enum thread_role role, void (*fn)(void *), void *arg);
/* Trap mode and the SIGSYS report, before any thread installs a list. */
void fuzz_seccomp_init(void);

/* An input, for fuzz_as()'s callbacks. */
struct fuzz_input {
	const uint8_t *data;
	size_t size;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Defines LLVMFuzzerTestOneInput as the target's fuzz_one(), run as @role. */
#define FUZZ_TARGET_AS(role)                                                         \
	static void fuzz_one_as_role(void *arg)                                      \
	{                                                                            \
		const struct fuzz_input *in = arg;                                   \
                                                                                     \
		fuzz_one(in->data, in->size);                                        \
	}                                                                            \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                 \
	{                                                                            \
		fuzz_as(role, fuzz_one_as_role, &(struct fuzz_input){ data, size }); \
		return 0;                                                            \
	}

#define FUZZ_RAM (1 << 20)

/* A VM whose 1 MiB of RAM is plain heap memory; made once per process. */
static inline struct vm *fuzz_vm(void)
{
	static struct vm *vm;

	if (!vm) {
		vm = calloc(1, sizeof(*vm));
		vm->ram.size = vm->ram.low_size = FUZZ_RAM;
		vm->ram.host = calloc(1, FUZZ_RAM);
		vm->ram.fd = -1;
	}
	return vm;
}

/* A queue of @num entries with its rings at @base, +4 KiB and +8 KiB; ready if they fit. */
static inline void fuzz_queue(struct virtq *q, uint64_t base, uint16_t num,
			      const struct guest_ram *ram)
{
	memset(q, 0, sizeof(*q));
	q->num = num;
	q->desc_addr = base;
	q->avail_addr = base + 0x1000;
	q->used_addr = base + 0x2000;
	virtq_activate(q, ram);
}

#endif
