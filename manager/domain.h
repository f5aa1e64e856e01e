/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_DOMAIN_H
#define KVMINI_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOMAIN_PATH_MAX 1024
#define DOMAIN_MAX_DISKS 8
#define DOMAIN_MAX_NICS 4

enum domain_backend {
	BACKEND_KVMINI,
	BACKEND_QEMU
};

struct domain_disk {
	char path[DOMAIN_PATH_MAX];
	bool block; /* type='block' */
	bool readonly;
	char target[16]; /* vda */
	char serial[21];
};

struct domain_nic {
	bool bridge; /* type='bridge': a tap the manager creates and enslaves */
	char tap[16]; /* target dev */
	char source_bridge[16];
	uint8_t mac[6];
	bool has_mac;
};

/* What kvmini takes from a libvirt domain XML. */
struct domain {
	enum domain_backend backend; /* <domain type='kvm'> or 'qemu' */
	char name[64];
	char uuid[37];
	uint64_t memory_kib, current_memory_kib;
	unsigned int vcpus;
	char machine[16]; /* <type machine=...>: microvm (default) or pc */
	char kernel[DOMAIN_PATH_MAX], initrd[DOMAIN_PATH_MAX], cmdline[2048];
	bool acpi;
	char on_poweroff[16], on_reboot[16], on_crash[16];
	struct domain_disk disks[DOMAIN_MAX_DISKS];
	int ndisks;
	struct domain_nic nics[DOMAIN_MAX_NICS];
	int nnics;
	bool serial_pty, console_pty;
	bool rng;
	uint32_t vsock_cid; /* 0: no vsock */
};

/*
 * Parses a domain XML document. Returns 0, or -1 with @err naming the
 * problem and, where it has one, its line.
 */
int domain_parse(const char *xml, size_t len, const char *filename, struct domain *d, char *err,
		 size_t errlen);
/* The domain as libvirt-valid XML (malloc'd), as dumpxml prints it. */
char *domain_format(const struct domain *d);

#endif
