// SPDX-License-Identifier: MIT
/*
 * The QEMU back end: the same domain on qemu-system-x86_64 (microvm or
 * pc; KVM for type='kvm' hosts without kvmini, TCG for type='qemu'),
 * driven over QMP. -no-shutdown keeps a powered-off guest's QEMU around,
 * as kvmini's API does, so the reason can be read before it is reaped.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "manager/backend.h"

/*
 * A value inside one of QEMU's option strings, with each comma doubled:
 * a single comma would start a new option ("file=a,snapshot=on"). The
 * domain's strings are shorter than DOMAIN_PATH_MAX, so nothing is cut.
 */
static const char *qemu_value(const char *s)
{
	static char ring[4][2 * DOMAIN_PATH_MAX];
	static unsigned int next;
	char *out = ring[next++ % 4], *w = out;

	for (; *s && w < out + sizeof(ring[0]) - 2; s++) {
		if (*s == ',')
			*w++ = ',';
		*w++ = *s;
	}
	*w = 0;
	return out;
}

static int qemu_argv(const struct domain *d, const struct domain_paths *p, char **argv, int max)
{
	static char buf[16384];
	bool microvm = !d->machine[0] || !strcmp(d->machine, "microvm");
	const char *dev = microvm ? "device" : "pci";
	char *w = buf;
	int n = 0;

#define ARG(...)                                                          \
	do {                                                              \
		if (n >= max - 1 || w >= buf + sizeof(buf) - 1)           \
			return -1;                                        \
		argv[n++] = w;                                            \
		w += snprintf(w, buf + sizeof(buf) - w, __VA_ARGS__) + 1; \
		if (w > buf + sizeof(buf))                                \
			return -1;                                        \
	} while (0)

	ARG("qemu-system-x86_64");
	ARG("-name");
	ARG("%s", qemu_value(d->name));
	ARG("-uuid");
	ARG("%s", d->uuid);
	ARG("-machine");
	ARG("%s%s", microvm ? "microvm" : qemu_value(d->machine),
	    microvm ? (d->acpi ? ",acpi=on" : ",acpi=off") : "");
	ARG("-accel");
	ARG("%s", d->backend == BACKEND_QEMU ? "tcg" : "kvm");
	ARG("-cpu");
	ARG("%s", d->backend == BACKEND_QEMU ? "max" : "host");
	ARG("-m");
	ARG("%llu", (unsigned long long)(d->current_memory_kib + 1023) / 1024);
	ARG("-smp");
	ARG("%u", d->vcpus);
	ARG("-nodefaults");
	ARG("-no-user-config");
	ARG("-nographic");
	ARG("-no-shutdown");
	if (strcmp(d->on_reboot, "restart"))
		ARG("-no-reboot");
	ARG("-kernel");
	ARG("%s", d->kernel);
	if (d->initrd[0]) {
		ARG("-initrd");
		ARG("%s", d->initrd);
	}
	ARG("-append");
	ARG("%s%s", d->cmdline, d->acpi || !microvm ? "" : " acpi=off");
	ARG("-chardev");
	ARG("socket,id=con,path=%s,server=on,wait=off,logfile=%s,logappend=on",
	    qemu_value(p->console), qemu_value(p->log));
	ARG("-serial");
	ARG("chardev:con");
	ARG("-qmp");
	ARG("unix:%s,server=on,wait=off", qemu_value(p->qmp));
	for (int i = 0; i < d->ndisks; i++) {
		ARG("-drive");
		ARG("file=%s,format=raw,if=none,id=disk%d%s", qemu_value(d->disks[i].path), i,
		    d->disks[i].readonly ? ",readonly=on" : "");
		ARG("-device");
		ARG("virtio-blk-%s,drive=disk%d%s%s", dev, i,
		    d->disks[i].serial[0] ? ",serial=" : "", qemu_value(d->disks[i].serial));
	}
	for (int i = 0; i < d->nnics; i++) {
		const uint8_t *m = d->nics[i].mac;

		ARG("-netdev");
		ARG("tap,id=net%d,ifname=%s,script=no,downscript=no,vhost=off", i,
		    qemu_value(d->nics[i].tap));
		ARG("-device");
		if (d->nics[i].has_mac)
			ARG("virtio-net-%s,netdev=net%d,mac=%02x:%02x:%02x:%02x:%02x:%02x", dev, i,
			    m[0], m[1], m[2], m[3], m[4], m[5]);
		else
			ARG("virtio-net-%s,netdev=net%d", dev, i);
	}
	if (d->rng) {
		ARG("-object");
		ARG("rng-random,id=rng0,filename=/dev/urandom");
		ARG("-device");
		ARG("virtio-rng-%s,rng=rng0", dev);
	}
	if (d->vsock_cid) {
		ARG("-device");
		ARG("vhost-vsock-%s,guest-cid=%u", dev, d->vsock_cid);
	}
#undef ARG
	argv[n] = NULL;
	return n;
}

static bool qmp_complete(const char *reply)
{
	const char *first = strstr(reply, "\"return\"");

	return strstr(reply, "\"error\"") || (first && strstr(first + 1, "\"return\""));
}

/* One QMP command after the handshake; 0 when it returns without error. */
static int qmp(const struct domain_paths *p, const char *command, char *out, size_t size)
{
	char request[256];
	long n;

	snprintf(request, sizeof(request),
		 "{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"%s\"}\n", command);
	n = unix_request(p->qmp, request, out, size, 5000, qmp_complete);
	if (n <= 0)
		return -1;
	/* The second "return" answers the command; an "error" fails it. */
	{
		const char *first = strstr(out, "\"return\"");

		if (!first || strstr(out, "\"error\"") || !strstr(first + 1, "\"return\""))
			return -1;
	}
	return 0;
}

static int qemu_info(const struct domain *d, const struct domain_paths *p, struct run_info *info)
{
	char out[4096];

	(void)d;
	if (qmp(p, "query-status", out, sizeof(out)))
		return -1;
	info->exit_code = 0;
	if (strstr(out, "\"status\": \"paused\""))
		info->state = STATE_PAUSED;
	else if (strstr(out, "\"status\": \"shutdown\""))
		info->state = STATE_EXITED;
	else if (strstr(out, "\"status\": \"guest-panicked\"") ||
		 strstr(out, "\"status\": \"internal-error\"")) {
		info->state = STATE_EXITED;
		info->exit_code = 10;
	} else {
		info->state = STATE_RUNNING;
	}
	return 0;
}

static int qemu_pause(const struct domain_paths *p, bool pause)
{
	char out[2048];

	return qmp(p, pause ? "stop" : "cont", out, sizeof(out));
}

static int qemu_request_shutdown(const struct domain_paths *p, bool reboot)
{
	char out[2048];

	return qmp(p, reboot ? "system_reset" : "system_powerdown", out, sizeof(out));
}

const struct backend_ops backend_qemu = {
	.name = "qemu",
	.argv = qemu_argv,
	.info = qemu_info,
	.pause = qemu_pause,
	.request_shutdown = qemu_request_shutdown,
};
