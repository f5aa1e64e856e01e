/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_SPEC_H
#define KVMINI_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio/vsock.h"

/*
 * The VM spec: everything that describes one VM, and the only thing
 * vm_create() is built from. Every front door changes it: the CLI flags
 * and --config-file, the API's PUT and PATCH, and the manager, which
 * writes it as a config file. api/config.c is its JSON codec, and loses
 * nothing: Firecracker's sections, plus kvmini's own fields under one
 * "kvmini" key.
 */

#define MAX_VCPUS 64
#define MAX_DISKS 8
#define MAX_NICS 4
#define SPEC_PATH_MAX 4096
#define SPEC_MIN_MEM (4 * 1024 * 1024ULL)
#define SPEC_MAX_MEM (1ULL << 40)

enum reboot_action {
	REBOOT_EXIT,
	REBOOT_RESTART,
};

struct vm_spec {
	/* "boot-source" */
	char kernel[SPEC_PATH_MAX];
	char initrd[SPEC_PATH_MAX]; /* "": none */
	char boot_args[SPEC_PATH_MAX];
	/* "machine-config" */
	unsigned int cpus;
	uint64_t mem_size; /* bytes; a whole number of MiB */
	bool huge_pages; /* back RAM with 2 MiB hugetlbfs pages */
	bool track_dirty_pages; /* KVM dirty logging on every slot */
	/* "drives", "network-interfaces", "entropy", "vsock" */
	struct disk_config disks[MAX_DISKS];
	int ndisks;
	struct net_config nics[MAX_NICS];
	int nnics;
	bool rng;
	struct vsock_config vsock;
	/* "serial" */
	char serial_out[SPEC_PATH_MAX]; /* the console's output file; "": stdout */
	/* "kvmini": what Firecracker has no field for */
	enum reboot_action on_reboot;
	bool debug_exit; /* port 0xf4 ends the VM with the guest's status */
	uint64_t console_max; /* cap on the console's output file; 0: none */
	char console_sock[SPEC_PATH_MAX]; /* also serve the console here; "": no */
};

/* The defaults, one table for every front door (spec.c). */
#define SPEC_DEFAULT_CPUS 1
#define SPEC_DEFAULT_MEM (128 * 1024 * 1024ULL)
#define SPEC_DEFAULT_BOOT_ARGS "console=ttyS0 reboot=k panic=1"
#define SPEC_DEFAULT_CONSOLE_MAX (16 * 1024 * 1024ULL)

/* A spec holding only the defaults: no kernel, no device. */
void spec_init(struct vm_spec *spec);
/* A fresh disk or NIC: no field set, no fd. */
void disk_config_init(struct disk_config *disk);
void net_config_init(struct net_config *net);

/* An id "<prefix>N" that no disk and no NIC of @spec has, N from 0. */
void spec_new_id(const struct vm_spec *spec, const char *prefix, char *id, size_t len);

/* The disk or NIC with this id, or NULL. */
struct disk_config *spec_disk(struct vm_spec *spec, const char *id);
struct net_config *spec_nic(struct vm_spec *spec, const char *id);

/*
 * The rules across fields and devices: one root drive, ids, taps and MACs
 * each used once, the memory's size. Returns 0, or -1 with a message.
 */
int spec_check(const struct vm_spec *spec, char *msg, size_t len);

/* The root drive (it becomes vda), or NULL. */
const struct disk_config *spec_root_disk(const struct vm_spec *spec);

/*
 * The kernel's command line: boot_args, and for a root drive Firecracker's
 * "root=/dev/vda rw" (or its PARTUUID). -1 when it does not fit in @len.
 */
int spec_kernel_cmdline(const struct vm_spec *spec, char *buf, size_t len);

#endif
