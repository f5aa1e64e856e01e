// SPDX-License-Identifier: MIT
/* The VM spec's defaults, device ids and the rules across its fields. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spec.h"
#include "util.h"

void spec_init(struct vm_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->cpus = SPEC_DEFAULT_CPUS;
	spec->mem_size = SPEC_DEFAULT_MEM;
	snprintf(spec->boot_args, sizeof(spec->boot_args), "%s", SPEC_DEFAULT_BOOT_ARGS);
	spec->on_reboot = REBOOT_EXIT;
	spec->console_max = SPEC_DEFAULT_CONSOLE_MAX;
}

void disk_config_init(struct disk_config *disk)
{
	memset(disk, 0, sizeof(*disk));
}

void net_config_init(struct net_config *net)
{
	memset(net, 0, sizeof(*net));
	net->tap_fd = -1;
}

static bool id_taken(const struct vm_spec *spec, const char *id)
{
	for (int i = 0; i < spec->ndisks; i++)
		if (!strcmp(spec->disks[i].id, id))
			return true;
	for (int i = 0; i < spec->nnics; i++)
		if (!strcmp(spec->nics[i].id, id))
			return true;
	return false;
}

void spec_new_id(const struct vm_spec *spec, const char *prefix, char *id, size_t len)
{
	for (int n = 0;; n++) {
		snprintf(id, len, "%s%d", prefix, n);
		if (!id_taken(spec, id))
			return;
	}
}

struct disk_config *spec_disk(struct vm_spec *spec, const char *id)
{
	for (int i = 0; i < spec->ndisks; i++)
		if (!strcmp(spec->disks[i].id, id))
			return &spec->disks[i];
	return NULL;
}

struct net_config *spec_nic(struct vm_spec *spec, const char *id)
{
	for (int i = 0; i < spec->nnics; i++)
		if (!strcmp(spec->nics[i].id, id))
			return &spec->nics[i];
	return NULL;
}

const struct disk_config *spec_root_disk(const struct vm_spec *spec)
{
	for (int i = 0; i < spec->ndisks; i++)
		if (spec->disks[i].is_root)
			return &spec->disks[i];
	return NULL;
}

static int refuse(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_disks(const struct vm_spec *spec, char *msg, size_t len)
{
	int roots = 0;

	for (int i = 0; i < spec->ndisks; i++) {
		const struct disk_config *d = &spec->disks[i];

		if (!d->id[0] || !d->path[0])
			return refuse(msg, len, "drives: drive %d has no %s", i,
				      d->id[0] ? "path_on_host" : "drive_id");
		for (int j = 0; j < i; j++)
			if (!strcmp(spec->disks[j].id, d->id))
				return refuse(msg, len, "drives: drive_id '%s' is used twice",
					      d->id);
		roots += d->is_root;
		if (d->partuuid[0] && !d->is_root)
			return refuse(msg, len,
				      "drives: '%s' has a partuuid but is not the root device",
				      d->id);
	}
	if (roots > 1)
		return refuse(msg, len, "drives: only one drive can be the root device");
	return 0;
}

static int check_nics(const struct vm_spec *spec, char *msg, size_t len)
{
	for (int i = 0; i < spec->nnics; i++) {
		const struct net_config *n = &spec->nics[i];

		if (!n->id[0] || (!n->tap[0] && n->tap_fd < 0))
			return refuse(msg, len, "network-interfaces: interface %d has no %s", i,
				      n->id[0] ? "host_dev_name or tap_fd" : "iface_id");
		if (spec_disk((struct vm_spec *)spec, n->id))
			return refuse(msg, len,
				      "network-interfaces: iface_id '%s' is a drive's id too",
				      n->id);
		for (int j = 0; j < i; j++) {
			const struct net_config *o = &spec->nics[j];

			if (!strcmp(o->id, n->id))
				return refuse(msg, len,
					      "network-interfaces: iface_id '%s' is used twice",
					      n->id);
			if (n->tap[0] && !strcmp(o->tap, n->tap))
				return refuse(msg, len,
					      "network-interfaces: that host_dev_name is in use "
					      "by another interface");
			if (n->has_mac && o->has_mac && !memcmp(o->mac, n->mac, 6))
				return refuse(msg, len,
					      "network-interfaces: that guest_mac is in use by "
					      "another interface");
		}
	}
	return 0;
}

int spec_check(const struct vm_spec *spec, char *msg, size_t len)
{
	if (spec->cpus < 1 || spec->cpus > MAX_VCPUS)
		return refuse(msg, len, "machine-config: vcpu_count must be 1-%d", MAX_VCPUS);
	if (spec->mem_size < SPEC_MIN_MEM || spec->mem_size > SPEC_MAX_MEM || spec->mem_size % MiB)
		return refuse(msg, len,
			      "machine-config: mem_size_mib must be a whole number of MiB, "
			      "from 4 to 1048576");
	if (spec->ndisks > MAX_DISKS || spec->nnics > MAX_NICS)
		return refuse(msg, len, "at most %d drives and %d network interfaces", MAX_DISKS,
			      MAX_NICS);
	if (spec->console_max && spec->console_max < 4 * KiB)
		return refuse(msg, len, "kvmini: console_max must be 0 (no cap) or at least 4K");
	return check_disks(spec, msg, len) || check_nics(spec, msg, len) ? -1 : 0;
}

int spec_kernel_cmdline(const struct vm_spec *spec, char *buf, size_t len)
{
	const struct disk_config *root = spec_root_disk(spec);
	int n;

	if (root)
		n = snprintf(buf, len, "%s%sroot=%s%s %s", spec->boot_args,
			     spec->boot_args[0] ? " " : "", root->partuuid[0] ? "PARTUUID=" : "",
			     root->partuuid[0] ? root->partuuid : "/dev/vda",
			     root->read_only ? "ro" : "rw");
	else
		n = snprintf(buf, len, "%s", spec->boot_args);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
