// SPDX-License-Identifier: MIT
/*
 * The QEMU back end: the same domain on qemu-system-x86_64 (microvm or
 * pc; KVM for type='kvm' hosts without kvmini, TCG for type='qemu'),
 * driven over QMP. -no-shutdown keeps a powered-off guest's QEMU around,
 * as kvmini's API does, so the reason can be read before it is reaped.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "manager/backend.h"
#include "util.h"

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

/* A command line built into one static buffer; @full once anything overflowed. */
struct cmdline {
	char **argv;
	int n, max;
	char *w, *end;
	bool full;
};

static void arg(struct cmdline *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void arg(struct cmdline *c, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (c->full || c->n >= c->max - 1 || c->w >= c->end) {
		c->full = true;
		return;
	}
	va_start(ap, fmt);
	len = vsnprintf(c->w, c->end - c->w, fmt, ap);
	va_end(ap);
	if (len < 0 || len >= c->end - c->w) {
		c->full = true;
		return;
	}
	c->argv[c->n++] = c->w;
	c->w += len + 1;
}

static void machine_args(struct cmdline *c, const struct domain *d, const struct domain_paths *p,
			 bool microvm)
{
	bool tcg = d->backend == BACKEND_QEMU;

	arg(c, "qemu-system-x86_64");
	arg(c, "-name");
	arg(c, "%s", qemu_value(d->name));
	arg(c, "-uuid");
	arg(c, "%s", d->uuid);
	arg(c, "-machine");
	arg(c, "%s%s", microvm ? "microvm" : qemu_value(d->machine),
	    microvm ? (d->acpi ? ",acpi=on" : ",acpi=off") : "");
	arg(c, "-accel");
	arg(c, "%s", tcg ? "tcg" : "kvm");
	arg(c, "-cpu");
	arg(c, "%s", tcg ? "max" : "host");
	arg(c, "-m");
	arg(c, "%llu", (unsigned long long)(d->current_memory_kib + 1023) / 1024);
	arg(c, "-smp");
	arg(c, "%u", d->vcpus);
	arg(c, "-nodefaults");
	arg(c, "-no-user-config");
	arg(c, "-nographic");
	arg(c, "-no-shutdown");
	if (strcmp(d->on_reboot, "restart"))
		arg(c, "-no-reboot");
	arg(c, "-kernel");
	arg(c, "%s", d->kernel);
	if (d->initrd[0]) {
		arg(c, "-initrd");
		arg(c, "%s", d->initrd);
	}
	arg(c, "-append");
	arg(c, "%s%s", d->cmdline, d->acpi || !microvm ? "" : " acpi=off");
	arg(c, "-chardev");
	arg(c, "socket,id=con,path=%s,server=on,wait=off,logfile=%s,logappend=on",
	    qemu_value(p->console), qemu_value(p->log));
	arg(c, "-serial");
	arg(c, "chardev:con");
	arg(c, "-qmp");
	arg(c, "unix:%s,server=on,wait=off", qemu_value(p->qmp));
}

/* @bus: "device" on microvm (virtio-mmio), "pci" on pc and q35. */
static void device_args(struct cmdline *c, const struct domain *d, const char *bus)
{
	for (int i = 0; i < d->ndisks; i++) {
		arg(c, "-drive");
		arg(c, "file=%s,format=raw,if=none,id=disk%d%s", qemu_value(d->disks[i].path), i,
		    d->disks[i].readonly ? ",readonly=on" : "");
		arg(c, "-device");
		arg(c, "virtio-blk-%s,drive=disk%d%s%s", bus, i,
		    d->disks[i].serial[0] ? ",serial=" : "", qemu_value(d->disks[i].serial));
	}
	for (int i = 0; i < d->nnics; i++) {
		char mac[18];

		mac_format(d->nics[i].mac, mac);
		arg(c, "-netdev");
		arg(c, "tap,id=net%d,ifname=%s,script=no,downscript=no,vhost=off", i,
		    qemu_value(d->nics[i].tap));
		arg(c, "-device");
		if (d->nics[i].has_mac)
			arg(c, "virtio-net-%s,netdev=net%d,mac=%s", bus, i, mac);
		else
			arg(c, "virtio-net-%s,netdev=net%d", bus, i);
	}
	if (d->rng) {
		arg(c, "-object");
		arg(c, "rng-random,id=rng0,filename=/dev/urandom");
		arg(c, "-device");
		arg(c, "virtio-rng-%s,rng=rng0", bus);
	}
	if (d->vsock_cid) {
		arg(c, "-device");
		arg(c, "vhost-vsock-%s,guest-cid=%u", bus, d->vsock_cid);
	}
}

static int qemu_argv(const struct domain *d, const struct domain_paths *p, char **argv, int max)
{
	static char buf[16384];
	struct cmdline c = { .argv = argv, .max = max, .w = buf, .end = buf + sizeof(buf) };
	bool microvm = !d->machine[0] || !strcmp(d->machine, "microvm");

	machine_args(&c, d, p, microvm);
	device_args(&c, d, microvm ? "device" : "pci");
	if (c.full)
		return -1;
	argv[c.n] = NULL;
	return c.n;
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
