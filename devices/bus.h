/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_BUS_H
#define KVMINI_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/*
 * What every device implements. Offsets are relative to the region the
 * device registered; sizes are the access width in bytes (1, 2, 4 or 8).
 */
struct device_ops {
	const char *name;
	void (*read)(void *dev, uint64_t offset, uint8_t *data, uint32_t size);
	void (*write)(void *dev, uint64_t offset, const uint8_t *data, uint32_t size);
};

struct bus_region {
	uint64_t base;
	uint64_t len;
	const struct device_ops *ops;
	void *dev;
};

#define BUS_MAX_REGIONS 64

/* A sorted set of non-overlapping regions; fixed before the vCPUs start. */
struct bus {
	const char *name;
	struct bus_region regions[BUS_MAX_REGIONS];
	int count;
	uint64_t unclaimed;
};

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct device_ops *ops,
		 void *dev);
const struct bus_region *bus_find(const struct bus *bus, uint64_t addr, uint32_t size);

/*
 * Routes one access. Reads of unclaimed addresses return all ones, as on
 * an empty ISA bus; writes there are dropped. Returns false if unclaimed.
 */
bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t size, bool is_write);

#endif
