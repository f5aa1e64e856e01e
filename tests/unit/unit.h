/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_UNIT_H
#define KVMINI_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memory.h"

/* A guest RAM of @size bytes backed by plain heap memory, for the builders. */
struct guest_ram fake_ram(uint64_t size);
void free_fake_ram(struct guest_ram *ram);

#define UNIT_GROUPS(X) \
	X(util)        \
	X(bus)         \
	X(boot)        \
	X(acpi)        \
	X(cpuid) X(serial) X(cli) X(console) X(virtio) X(net) X(mptable) X(api) X(spec) X(event)
#define DECLARE_GROUP(name) int run_##name##_tests(void);
UNIT_GROUPS(DECLARE_GROUP)

#endif
