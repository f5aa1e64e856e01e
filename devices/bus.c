// SPDX-License-Identifier: MIT
#include <string.h>

#include "devices/bus.h"
#include "util.h"

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct device_ops *ops,
		 void *dev)
{
	int i;

	if (!len || base + len < base) {
		log_error("%s bus: %s: empty or wrapping region", bus->name, ops->name);
		return -1;
	}
	if (bus->count == BUS_MAX_REGIONS) {
		log_error("%s bus: too many devices for %s", bus->name, ops->name);
		return -1;
	}
	for (i = 0; i < bus->count; i++) {
		const struct bus_region *r = &bus->regions[i];

		if (base < r->base + r->len && r->base < base + len) {
			log_error("%s bus: %s at 0x%llx overlaps %s", bus->name, ops->name,
				  (unsigned long long)base, r->ops->name);
			return -1;
		}
		if (base < r->base)
			break;
	}
	memmove(&bus->regions[i + 1], &bus->regions[i], (bus->count - i) * sizeof(bus->regions[0]));
	bus->regions[i] = (struct bus_region){ .base = base, .len = len, .ops = ops, .dev = dev };
	bus->count++;
	return 0;
}

const struct bus_region *bus_find(const struct bus *bus, uint64_t addr, uint32_t size)
{
	int lo = 0, hi = bus->count - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct bus_region *r = &bus->regions[mid];

		if (addr < r->base) {
			hi = mid - 1;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			/* An access straddling the region's end belongs to nobody. */
			return size <= r->len - (addr - r->base) ? r : NULL;
		}
	}
	return NULL;
}

bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t size, bool is_write)
{
	const struct bus_region *r = bus_find(bus, addr, size);

	if (!r) {
		__atomic_add_fetch(&bus->unclaimed, 1, __ATOMIC_RELAXED);
		if (!is_write)
			memset(data, 0xff, size);
		return false;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->dev, addr - r->base, data, size);
	} else if (r->ops->read) {
		r->ops->read(r->dev, addr - r->base, data, size);
	} else {
		memset(data, 0xff, size);
	}
	return true;
}
