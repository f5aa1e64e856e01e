// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory.h"
#include "util.h"

void guest_ram_split(uint64_t size, uint64_t *low, uint64_t *high)
{
	*low = size < MMIO_HOLE_START ? size : MMIO_HOLE_START;
	*high = size - *low;
}

int guest_ram_create(struct guest_ram *ram, uint64_t size, bool huge)
{
	uint64_t high;

	memset(ram, 0, sizeof(*ram));
	if (huge && size % (2 * MiB)) {
		log_error("guest RAM: %llu MiB is not a whole number of 2 MiB huge pages",
			  (unsigned long long)(size / MiB));
		return -1;
	}
	ram->fd = memfd_create("kvmini-ram", MFD_CLOEXEC | (huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0));
	if (ram->fd < 0) {
		log_error("guest RAM: memfd_create: %s", strerror(errno));
		return -1;
	}
	/* hugetlbfs reserves the pages here: a host without them fails now. */
	if (huge && (ftruncate(ram->fd, size) < 0 || fallocate(ram->fd, 0, 0, size) < 0)) {
		log_error("guest RAM: cannot get %llu 2 MiB huge pages: %s (see HugePages_Free in "
			  "/proc/meminfo; raise vm.nr_hugepages)",
			  (unsigned long long)(size / (2 * MiB)), strerror(errno));
		goto fail;
	}
	if (ftruncate(ram->fd, size) < 0) {
		log_error("guest RAM: cannot size to %llu bytes: %s", (unsigned long long)size,
			  strerror(errno));
		goto fail;
	}
	/* MAP_NORESERVE: a large guest should cost only what it touches. */
	ram->host =
	    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, ram->fd, 0);
	if (ram->host == MAP_FAILED) {
		log_error("guest RAM: mmap of %llu bytes: %s", (unsigned long long)size,
			  strerror(errno));
		ram->host = NULL;
		goto fail;
	}
	/*
	 * Huge pages cut host page faults and TLB misses (and, with EPT, the
	 * guest's); shmem honours this where shmem_enabled is "advise".
	 */
	madvise(ram->host, size, MADV_HUGEPAGE);
	ram->size = size;
	guest_ram_split(size, &ram->low_size, &high);
	return 0;
fail:
	close(ram->fd);
	ram->fd = -1;
	return -1;
}

void guest_ram_destroy(struct guest_ram *ram)
{
	if (ram->host)
		munmap(ram->host, ram->size);
	if (ram->fd >= 0)
		close(ram->fd);
	memset(ram, 0, sizeof(*ram));
	ram->fd = -1;
}

void *gpa_to_host(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	uint64_t high = ram->size - ram->low_size;

	if (len > ram->size)
		return NULL;
	if (gpa < ram->low_size) {
		if (len > ram->low_size - gpa)
			return NULL;
		return ram->host + gpa;
	}
	if (gpa >= MMIO_HOLE_END && gpa - MMIO_HOLE_END < high) {
		if (len > high - (gpa - MMIO_HOLE_END))
			return NULL;
		return ram->host + ram->low_size + (gpa - MMIO_HOLE_END);
	}
	return NULL;
}
