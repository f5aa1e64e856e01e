// SPDX-License-Identifier: MIT
/*
 * libvirt domain XML (libxml2): the subset kvmini runs, read strictly.
 * An element kvmini would silently not honour is refused by name and
 * line; the few that only describe (title, metadata, clock, ...) or that
 * libvirt adds on its own (controllers, PS/2 input) are accepted.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "manager/domain.h"
#include "util.h"

struct parse {
	char *err;
	size_t errlen;
	const char *file;
};

static int fail(struct parse *p, xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parse *p, xmlNode *n, const char *fmt, ...)
{
	va_list ap;
	int len = n ? snprintf(p->err, p->errlen, "%s:%ld: ", p->file, xmlGetLineNo(n))
		    : snprintf(p->err, p->errlen, "%s: ", p->file);

	va_start(ap, fmt);
	vsnprintf(p->err + len, p->errlen > (size_t)len ? p->errlen - len : 0, fmt, ap);
	va_end(ap);
	return -1;
}

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* The attribute, or NULL; the caller frees through attr_free(). */
static char *attr(xmlNode *n, const char *name)
{
	return (char *)xmlGetProp(n, (const xmlChar *)name);
}

static int copy_text(struct parse *p, xmlNode *n, char *out, size_t size)
{
	xmlChar *text = xmlNodeGetContent(n);
	size_t len = text ? strlen((char *)text) : 0;
	int ret = 0;

	if (!text || len >= size)
		ret = fail(p, n, "<%s> is empty or longer than %zu bytes", n->name, size - 1);
	else
		memcpy(out, text, len + 1);
	xmlFree(text);
	return ret;
}

static int copy_attr(struct parse *p, xmlNode *n, const char *name, char *out, size_t size,
		     bool required)
{
	char *v = attr(n, name);
	int ret = 0;

	if (!v && required)
		ret = fail(p, n, "<%s> needs the attribute %s", n->name, name);
	else if (v && strlen(v) >= size)
		ret = fail(p, n, "<%s %s='...'> is longer than %zu bytes", n->name, name, size - 1);
	else if (v)
		strcpy(out, v);
	xmlFree(v);
	return ret;
}

static bool attr_is(xmlNode *n, const char *name, const char *want)
{
	char *v = attr(n, name);
	bool match = v && !strcmp(v, want);

	xmlFree(v);
	return match;
}

/* <memory unit='MiB'>512</memory>, in KiB; libvirt's units. */
static int parse_memory(struct parse *p, xmlNode *n, uint64_t *kib)
{
	static const struct {
		const char *unit;
		uint64_t bytes;
	} units[] = { { "b", 1 },	   { "bytes", 1 },	  { "KB", 1000 },
		      { "k", 1024 },	   { "KiB", 1024 },	  { "MB", 1000000 },
		      { "M", 1 << 20 },	   { "MiB", 1 << 20 },	  { "GB", 1000000000 },
		      { "G", 1ULL << 30 }, { "GiB", 1ULL << 30 }, { "TB", 1000000000000ULL },
		      { "T", 1ULL << 40 }, { "TiB", 1ULL << 40 } };
	char *unit = attr(n, "unit"), text[32], *end;
	uint64_t scale = 0, value;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(unit ? unit : "KiB", units[i].unit))
			scale = units[i].bytes;
	xmlFree(unit);
	if (!scale)
		return fail(p, n, "<%s>: unknown unit", n->name);
	if (copy_text(p, n, text, sizeof(text)))
		return -1;
	value = strtoull(text, &end, 10);
	if (*end || !text[0] || value > (1ULL << 50) / scale)
		return fail(p, n, "<%s>: '%s' is not a size", n->name, text);
	*kib = value * scale / 1024;
	return 0;
}

static int parse_os(struct parse *p, xmlNode *os, struct domain *d)
{
	for (xmlNode *n = os->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is(n, "type")) {
			char type[8] = "";

			if (copy_text(p, n, type, sizeof(type)) || strcmp(type, "hvm"))
				return fail(p, n, "<os><type> must be hvm");
			if (copy_attr(p, n, "machine", d->machine, sizeof(d->machine), false))
				return -1;
			if (d->machine[0] && strcmp(d->machine, "microvm") &&
			    strncmp(d->machine, "pc", 2))
				return fail(p, n, "machine '%s' is not supported (microvm or pc)",
					    d->machine);
		} else if (is(n, "kernel")) {
			if (copy_text(p, n, d->kernel, sizeof(d->kernel)))
				return -1;
		} else if (is(n, "initrd")) {
			if (copy_text(p, n, d->initrd, sizeof(d->initrd)))
				return -1;
		} else if (is(n, "cmdline")) {
			xmlChar *text = xmlNodeGetContent(n);

			snprintf(d->cmdline, sizeof(d->cmdline), "%s", text ? (char *)text : "");
			xmlFree(text);
		} else if (!is(n, "boot")) {
			return fail(p, n, "<os><%s> is not supported (direct kernel boot only)",
				    n->name);
		}
	}
	if (!d->kernel[0])
		return fail(p, os, "<os> needs a <kernel>: kvmini boots kernels directly");
	return 0;
}

static int parse_disk(struct parse *p, xmlNode *disk, struct domain *d)
{
	struct domain_disk *k;
	char *type = attr(disk, "type"), *device = attr(disk, "device");
	bool ok = type && (!strcmp(type, "file") || !strcmp(type, "block")) &&
		  (!device || !strcmp(device, "disk"));

	if (!ok) {
		xmlFree(type);
		xmlFree(device);
		return fail(p, disk, "only <disk type='file|block' device='disk'> is supported");
	}
	if (d->ndisks == DOMAIN_MAX_DISKS)
		return fail(p, disk, "at most %d disks", DOMAIN_MAX_DISKS);
	k = &d->disks[d->ndisks++];
	k->block = !strcmp(type, "block");
	xmlFree(type);
	xmlFree(device);
	for (xmlNode *n = disk->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is(n, "driver")) {
			if (!attr_is(n, "type", "raw"))
				return fail(p, n,
					    "disk driver type must be raw (qcow2 is not "
					    "supported yet)");
		} else if (is(n, "source")) {
			if (copy_attr(p, n, k->block ? "dev" : "file", k->path, sizeof(k->path),
				      true))
				return -1;
			/* QEMU reads "json:{...}" or "nbd:..." as options, not a file. */
			if (k->path[0] != '/')
				return fail(p, n, "disk source must be an absolute path");
		} else if (is(n, "target")) {
			if (copy_attr(p, n, "dev", k->target, sizeof(k->target), true))
				return -1;
			if (!attr_is(n, "bus", "virtio"))
				return fail(p, n, "disk target bus must be virtio");
		} else if (is(n, "readonly")) {
			k->readonly = true;
		} else if (is(n, "serial")) {
			if (copy_text(p, n, k->serial, sizeof(k->serial)))
				return -1;
		} else if (!is(n, "address") && !is(n, "alias")) {
			return fail(p, n, "<disk><%s> is not supported", n->name);
		}
	}
	if (!k->path[0] || !k->target[0])
		return fail(p, disk, "<disk> needs <source> and <target>");
	return 0;
}

static int parse_interface(struct parse *p, xmlNode *iface, struct domain *d)
{
	struct domain_nic *nic;
	char *type = attr(iface, "type");
	bool ethernet = type && !strcmp(type, "ethernet"), bridge = type && !strcmp(type, "bridge");

	xmlFree(type);
	if (!ethernet && !bridge)
		return fail(p, iface, "only <interface type='ethernet|bridge'> is supported");
	if (d->nnics == DOMAIN_MAX_NICS)
		return fail(p, iface, "at most %d interfaces", DOMAIN_MAX_NICS);
	nic = &d->nics[d->nnics++];
	nic->bridge = bridge;
	for (xmlNode *n = iface->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is(n, "target")) {
			if (copy_attr(p, n, "dev", nic->tap, sizeof(nic->tap), true))
				return -1;
		} else if (is(n, "source") && bridge) {
			if (copy_attr(p, n, "bridge", nic->source_bridge,
				      sizeof(nic->source_bridge), true))
				return -1;
		} else if (is(n, "mac")) {
			char mac[18] = "";

			if (copy_attr(p, n, "address", mac, sizeof(mac), true) ||
			    mac_parse(mac, nic->mac))
				return fail(p, n,
					    "<mac address> must be a unicast aa:bb:cc:dd:ee:ff");
			nic->has_mac = true;
		} else if (is(n, "model")) {
			if (!attr_is(n, "type", "virtio"))
				return fail(p, n, "interface model must be virtio");
		} else if (!is(n, "address") && !is(n, "alias")) {
			return fail(p, n, "<interface><%s> is not supported", n->name);
		}
	}
	if (ethernet && !nic->tap[0])
		return fail(p, iface, "<interface type='ethernet'> needs <target dev='tapN'/>");
	if (bridge && !nic->source_bridge[0])
		return fail(p, iface, "<interface type='bridge'> needs <source bridge='...'/>");
	if (bridge && !nic->tap[0])
		snprintf(nic->tap, sizeof(nic->tap), "kv%.10s%c", d->name, '0' + d->nnics - 1);
	return 0;
}

static int parse_devices(struct parse *p, xmlNode *devices, struct domain *d)
{
	for (xmlNode *n = devices->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is(n, "disk")) {
			if (parse_disk(p, n, d))
				return -1;
		} else if (is(n, "interface")) {
			if (parse_interface(p, n, d))
				return -1;
		} else if (is(n, "serial") || is(n, "console")) {
			if (!attr_is(n, "type", "pty"))
				return fail(p, n, "<%s> must be type='pty'", n->name);
			*(is(n, "serial") ? &d->serial_pty : &d->console_pty) = true;
		} else if (is(n, "rng")) {
			xmlNode *b = n->children;

			while (b && !is(b, "backend"))
				b = b->next;
			if (!attr_is(n, "model", "virtio") || !b || !attr_is(b, "model", "random"))
				return fail(p, n,
					    "<rng> must be model='virtio' with a random "
					    "backend");
			d->rng = true;
		} else if (is(n, "vsock")) {
			xmlNode *c = n->children;
			char *addr;

			while (c && !is(c, "cid"))
				c = c->next;
			addr = c ? attr(c, "address") : NULL;
			d->vsock_cid = addr ? strtoul(addr, NULL, 10) : 3;
			xmlFree(addr);
			if (d->vsock_cid < 3)
				return fail(p, n, "<vsock><cid address> must be 3 or more");
		} else if (is(n, "memballoon")) {
			if (!attr_is(n, "model", "none"))
				return fail(p, n,
					    "<memballoon> is not supported yet (use "
					    "model='none')");
		} else if (!is(n, "emulator") && !is(n, "controller") && !is(n, "input")) {
			return fail(p, n, "<devices><%s> is not supported", n->name);
		}
	}
	return 0;
}

static int parse_lifecycle(struct parse *p, xmlNode *n, char *out, size_t size,
			   const char *const *allowed)
{
	if (copy_text(p, n, out, size))
		return -1;
	for (int i = 0; allowed[i]; i++)
		if (!strcmp(out, allowed[i]))
			return 0;
	return fail(p, n, "<%s>%s</%s> is not supported", n->name, out, n->name);
}

static void make_uuid(char *out)
{
	uint8_t b[16];
	FILE *f = fopen("/dev/urandom", "re");

	if (!f || fread(b, 1, 16, f) != 16)
		memset(b, 0x42, 16);
	if (f)
		fclose(f);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		b[14], b[15]);
}

static int parse_name(struct parse *p, xmlNode *n, struct domain *d)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789-_.";

	if (copy_text(p, n, d->name, sizeof(d->name)))
		return -1;
	if (d->name[0] == '.' || strspn(d->name, allowed) != strlen(d->name))
		return fail(p, n, "<name> may hold letters, digits, '-', '_' and '.' only");
	return 0;
}

static int parse_vcpu(struct parse *p, xmlNode *n, struct domain *d)
{
	char text[8];

	if (copy_text(p, n, text, sizeof(text)))
		return -1;
	d->vcpus = atoi(text);
	if (d->vcpus < 1 || d->vcpus > 64)
		return fail(p, n, "<vcpu> must be 1 to 64");
	return 0;
}

static int parse_features(struct parse *p, xmlNode *n, struct domain *d)
{
	for (xmlNode *f = n->children; f; f = f->next) {
		if (is(f, "acpi"))
			d->acpi = true;
		else if (f->type == XML_ELEMENT_NODE && !is(f, "apic") && !is(f, "pae"))
			return fail(p, f, "<features><%s> is not supported", f->name);
	}
	return 0;
}

/* One child of <domain>; what kvmini does not model but may describe is skipped. */
static int parse_element(struct parse *p, xmlNode *n, struct domain *d)
{
	static const char *const poweroff[] = { "destroy", NULL };
	static const char *const reboot[] = { "restart", "destroy", NULL };
	static const char *const crash[] = { "destroy", "preserve", NULL };
	static const char *const described[] = { "title",    "description", "metadata",
						 "clock",    "pm",	    "resource",
						 "seclabel", "cpu",	    "on_lockfailure",
						 NULL };

	if (is(n, "name"))
		return parse_name(p, n, d);
	if (is(n, "uuid"))
		return copy_text(p, n, d->uuid, sizeof(d->uuid));
	if (is(n, "memory"))
		return parse_memory(p, n, &d->memory_kib);
	if (is(n, "currentMemory"))
		return parse_memory(p, n, &d->current_memory_kib);
	if (is(n, "vcpu"))
		return parse_vcpu(p, n, d);
	if (is(n, "os"))
		return parse_os(p, n, d);
	if (is(n, "features"))
		return parse_features(p, n, d);
	if (is(n, "on_poweroff"))
		return parse_lifecycle(p, n, d->on_poweroff, sizeof(d->on_poweroff), poweroff);
	if (is(n, "on_reboot"))
		return parse_lifecycle(p, n, d->on_reboot, sizeof(d->on_reboot), reboot);
	if (is(n, "on_crash"))
		return parse_lifecycle(p, n, d->on_crash, sizeof(d->on_crash), crash);
	if (is(n, "devices"))
		return parse_devices(p, n, d);
	for (int i = 0; described[i]; i++)
		if (is(n, described[i]))
			return 0;
	return fail(p, n, "<%s> is not supported", n->name);
}

static int parse_domain(struct parse *p, xmlNode *root, struct domain *d)
{
	char *type = attr(root, "type");
	bool known;

	if (!root || !is(root, "domain"))
		return fail(p, root, "the root element must be <domain>");
	known = type && (!strcmp(type, "kvm") || !strcmp(type, "qemu"));
	d->backend = type && !strcmp(type, "qemu") ? BACKEND_QEMU : BACKEND_KVMINI;
	xmlFree(type);
	if (!known)
		return fail(p, root, "<domain type> must be 'kvm' (kvmini) or 'qemu' (QEMU)");
	d->vcpus = 1;
	d->acpi = false;
	strcpy(d->on_poweroff, "destroy");
	strcpy(d->on_reboot, "restart");
	strcpy(d->on_crash, "destroy");
	for (xmlNode *n = root->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && parse_element(p, n, d))
			return -1;
	if (!d->name[0] || !d->memory_kib || !d->kernel[0])
		return fail(p, root, "a domain needs <name>, <memory> and <os><kernel>");
	if (!d->current_memory_kib || d->current_memory_kib > d->memory_kib)
		d->current_memory_kib = d->memory_kib;
	if (d->current_memory_kib < 4096)
		return fail(p, root, "<memory> must be at least 4 MiB");
	if (!d->uuid[0])
		make_uuid(d->uuid);
	return 0;
}

int domain_parse(const char *xml, size_t len, const char *filename, struct domain *d, char *err,
		 size_t errlen)
{
	struct parse p = { err, errlen, filename };
	xmlDoc *doc;
	int ret;

	memset(d, 0, sizeof(*d));
	doc = xmlReadMemory(xml, len, filename, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlGetLastError();

		snprintf(err, errlen, "%s:%d: %s", filename, e ? e->line : 0,
			 e && e->message ? e->message : "not well-formed XML\n");
		err[strcspn(err, "\n")] = 0;
		return -1;
	}
	ret = parse_domain(&p, xmlDocGetRootElement(doc), d);
	xmlFreeDoc(doc);
	return ret;
}

static xmlNode *child(xmlNode *parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}

static void set(xmlNode *n, const char *name, const char *value)
{
	xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value);
}

static void format_disks_and_nics(xmlNode *devices, const struct domain *d)
{
	char buf[64];
	xmlNode *n;

	for (int i = 0; i < d->ndisks; i++) {
		const struct domain_disk *k = &d->disks[i];
		xmlNode *disk = child(devices, "disk", NULL);

		set(disk, "type", k->block ? "block" : "file");
		set(disk, "device", "disk");
		n = child(disk, "driver", NULL);
		set(n, "name", "qemu");
		set(n, "type", "raw");
		set(child(disk, "source", NULL), k->block ? "dev" : "file", k->path);
		n = child(disk, "target", NULL);
		set(n, "dev", k->target);
		set(n, "bus", "virtio");
		if (k->readonly)
			child(disk, "readonly", NULL);
		if (k->serial[0])
			child(disk, "serial", k->serial);
	}
	for (int i = 0; i < d->nnics; i++) {
		const struct domain_nic *c = &d->nics[i];
		xmlNode *iface = child(devices, "interface", NULL);

		set(iface, "type", c->bridge ? "bridge" : "ethernet");
		if (c->has_mac) {
			mac_format(c->mac, buf);
			set(child(iface, "mac", NULL), "address", buf);
		}
		if (c->bridge)
			set(child(iface, "source", NULL), "bridge", c->source_bridge);
		set(child(iface, "target", NULL), "dev", c->tap);
		set(child(iface, "model", NULL), "type", "virtio");
	}
}

static void format_devices(xmlNode *devices, const struct domain *d)
{
	char buf[16];
	xmlNode *n;

	format_disks_and_nics(devices, d);
	if (d->serial_pty) {
		n = child(devices, "serial", NULL);
		set(n, "type", "pty");
		set(child(n, "target", NULL), "port", "0");
	}
	if (d->console_pty) {
		n = child(devices, "console", NULL);
		set(n, "type", "pty");
		n = child(n, "target", NULL);
		set(n, "type", "serial");
		set(n, "port", "0");
	}
	if (d->rng) {
		n = child(devices, "rng", NULL);
		set(n, "model", "virtio");
		set(child(n, "backend", "/dev/urandom"), "model", "random");
	}
	if (d->vsock_cid) {
		n = child(devices, "vsock", NULL);
		set(n, "model", "virtio");
		n = child(n, "cid", NULL);
		set(n, "auto", "no");
		snprintf(buf, sizeof(buf), "%u", d->vsock_cid);
		set(n, "address", buf);
	}
}

char *domain_format(const struct domain *d)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = xmlNewNode(NULL, (const xmlChar *)"domain"), *os, *n;
	char buf[64];
	xmlChar *out;
	int len;
	char *ret;

	xmlDocSetRootElement(doc, root);
	set(root, "type", d->backend == BACKEND_QEMU ? "qemu" : "kvm");
	child(root, "name", d->name);
	child(root, "uuid", d->uuid);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)d->memory_kib);
	set(child(root, "memory", buf), "unit", "KiB");
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)d->current_memory_kib);
	set(child(root, "currentMemory", buf), "unit", "KiB");
	snprintf(buf, sizeof(buf), "%u", d->vcpus);
	set(child(root, "vcpu", buf), "placement", "static");
	os = child(root, "os", NULL);
	n = child(os, "type", "hvm");
	set(n, "arch", "x86_64");
	if (d->machine[0])
		set(n, "machine", d->machine);
	child(os, "kernel", d->kernel);
	if (d->initrd[0])
		child(os, "initrd", d->initrd);
	if (d->cmdline[0])
		child(os, "cmdline", d->cmdline);
	if (d->acpi)
		child(child(root, "features", NULL), "acpi", NULL);
	child(root, "on_poweroff", d->on_poweroff);
	child(root, "on_reboot", d->on_reboot);
	child(root, "on_crash", d->on_crash);
	format_devices(child(root, "devices", NULL), d);
	xmlDocDumpFormatMemory(doc, &out, &len, 1);
	/* Without the XML declaration, as virsh dumpxml prints it. */
	ret = strdup(strstr((char *)out, "<domain") ? strstr((char *)out, "<domain") : (char *)out);
	xmlFree(out);
	xmlFreeDoc(doc);
	return ret;
}
