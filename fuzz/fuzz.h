/* SPDX-License-Identifier: MIT */
/* What the device fuzz targets share: a guest RAM and a queue in it. */
#ifndef KVMINI_FUZZ_H
#define KVMINI_FUZZ_H

#include <stdlib.h>
#include <string.h>

#include "virtio/queue.h"
#include "vm.h"

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
