/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_MEMORY_H
#define KVMINI_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Guest RAM is one shared mapping of one memfd: the first low_size bytes
 * sit at guest-physical 0, the rest at 4 GiB, leaving the 32-bit MMIO hole
 * free. One fd means a snapshot can map or copy it whole.
 */
struct guest_ram {
	uint8_t *host;
	uint64_t size;
	uint64_t low_size;
	int fd;
};

#define MMIO_HOLE_START 0xc0000000ULL
#define MMIO_HOLE_END 0x100000000ULL

/* Splits @size bytes of RAM around the MMIO hole. */
void guest_ram_split(uint64_t size, uint64_t *low, uint64_t *high);

/* @huge: 2 MiB hugetlbfs pages, which the host must have reserved. */
int guest_ram_create(struct guest_ram *ram, uint64_t size, bool huge);
void guest_ram_destroy(struct guest_ram *ram);

/*
 * Host pointer for [gpa, gpa + len), or NULL unless the whole range is RAM
 * in one piece. Every guest-supplied address goes through here.
 */
void *gpa_to_host(const struct guest_ram *ram, uint64_t gpa, uint64_t len);

#endif
