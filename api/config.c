// SPDX-License-Identifier: MIT
/*
 * Firecracker's configuration document: field checks for every API body
 * and config-file section, and the mapping to and from struct vm_config.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/config.h"
#include "util.h"

enum field_type {
	T_STRING,
	T_INT,
	T_BOOL,
	T_UNSUPPORTED
};

struct field {
	const char *name;
	enum field_type type;
	bool required;
	long long min, max;
	const char *const *choices;
};

static const char *const huge_page_sizes[] = { "None", "2M", NULL };
static const char *const cpu_templates[] = { "None", NULL };
static const char *const cache_types[] = { "Unsafe", "Writeback", NULL };
static const char *const io_engines[] = { "Sync", "Async", NULL };
static const char *const log_levels[] = {
	"Error", "Warning", "Info", "Debug", "Trace", "Off", NULL
};

static const struct field boot_fields[] = {
	{ .name = "kernel_image_path", .type = T_STRING, .required = true },
	{ .name = "initrd_path", .type = T_STRING },
	{ .name = "boot_args", .type = T_STRING },
	{ .name = NULL },
};
static const struct field machine_fields[] = {
	{ .name = "vcpu_count", .type = T_INT, .required = true, .min = 1, .max = MAX_VCPUS },
	{ .name = "mem_size_mib", .type = T_INT, .required = true, .min = 1, .max = 1024 * 1024 },
	{ .name = "smt", .type = T_BOOL },
	{ .name = "track_dirty_pages", .type = T_BOOL },
	{ .name = "huge_pages", .type = T_STRING, .choices = huge_page_sizes },
	{ .name = "cpu_template", .type = T_STRING, .choices = cpu_templates },
	{ .name = NULL },
};
static const struct field drive_fields[] = {
	{ .name = "drive_id", .type = T_STRING, .required = true },
	{ .name = "path_on_host", .type = T_STRING, .required = true },
	{ .name = "is_root_device", .type = T_BOOL, .required = true },
	{ .name = "is_read_only", .type = T_BOOL },
	{ .name = "partuuid", .type = T_STRING },
	{ .name = "cache_type", .type = T_STRING, .choices = cache_types },
	{ .name = "io_engine", .type = T_STRING, .choices = io_engines },
	{ .name = "rate_limiter", .type = T_UNSUPPORTED },
	{ .name = "socket", .type = T_UNSUPPORTED },
	{ .name = NULL },
};
static const struct field net_fields[] = {
	{ .name = "iface_id", .type = T_STRING, .required = true },
	{ .name = "host_dev_name", .type = T_STRING, .required = true },
	{ .name = "guest_mac", .type = T_STRING },
	{ .name = "rx_rate_limiter", .type = T_UNSUPPORTED },
	{ .name = "tx_rate_limiter", .type = T_UNSUPPORTED },
	{ .name = NULL },
};
static const struct field vsock_fields[] = {
	{ .name = "guest_cid", .type = T_INT, .required = true, .min = 3, .max = 0xfffffffeLL },
	{ .name = "uds_path", .type = T_STRING, .required = true },
	{ .name = "vsock_id", .type = T_STRING },
	{ .name = NULL },
};
static const struct field entropy_fields[] = {
	{ .name = "rate_limiter", .type = T_UNSUPPORTED },
	{ .name = NULL },
};
static const struct field logger_fields[] = {
	{ .name = "log_path", .type = T_STRING },
	{ .name = "level", .type = T_STRING, .choices = log_levels },
	{ .name = "show_level", .type = T_BOOL },
	{ .name = "show_log_origin", .type = T_BOOL },
	{ .name = "module", .type = T_STRING },
	{ .name = NULL },
};
static const struct field metrics_fields[] = {
	{ .name = "metrics_path", .type = T_STRING, .required = true },
	{ .name = NULL },
};
static const struct field serial_fields[] = {
	{ .name = "serial_out_path", .type = T_STRING },
	{ .name = NULL },
};

static const struct section_desc {
	const char *key; /* in the document */
	const struct field *fields;
	const char *id_field; /* for the array sections */
} sections[] = {
	[SECTION_BOOT_SOURCE] = { "boot-source", boot_fields, NULL },
	[SECTION_MACHINE] = { "machine-config", machine_fields, NULL },
	[SECTION_DRIVE] = { "drives", drive_fields, "drive_id" },
	[SECTION_NET] = { "network-interfaces", net_fields, "iface_id" },
	[SECTION_VSOCK] = { "vsock", vsock_fields, NULL },
	[SECTION_ENTROPY] = { "entropy", entropy_fields, NULL },
	[SECTION_LOGGER] = { "logger", logger_fields, NULL },
	[SECTION_METRICS] = { "metrics", metrics_fields, NULL },
	[SECTION_SERIAL] = { "serial", serial_fields, NULL },
};

/* Firecracker's sections of later waves: refused by name until they land. */
static const char *const later_sections[] = { "balloon", "mmds-config", "cpu-config", "snapshot",
					      NULL };

static int fail(struct config_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct config_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *str_or(json_t *obj, const char *key, const char *otherwise)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : otherwise;
}

static const char *type_name(enum field_type t)
{
	return t == T_STRING ? "a string" : t == T_INT ? "an integer" : "a boolean";
}

static int check_field(const struct field *f, json_t *v, const char *where,
		       struct config_error *err)
{
	if (f->type == T_UNSUPPORTED) {
		if (json_is_null(v))
			return 0;
		return fail(err, "%s: field '%s' is not supported yet", where, f->name);
	}
	if ((f->type == T_STRING && !json_is_string(v)) ||
	    (f->type == T_INT && !json_is_integer(v)) || (f->type == T_BOOL && !json_is_boolean(v)))
		return fail(err, "%s: field '%s' must be %s", where, f->name, type_name(f->type));
	if (f->type == T_STRING) {
		const char *s = json_string_value(v);

		if (strlen(s) != json_string_length(v) || strlen(s) >= DISK_PATH_MAX)
			return fail(err, "%s: field '%s' holds a NUL byte or is too long", where,
				    f->name);
		if (f->choices) {
			for (int i = 0; f->choices[i]; i++)
				if (!strcmp(s, f->choices[i]))
					return 0;
			return fail(err, "%s: field '%s' cannot be \"%s\"%s", where, f->name, s,
				    f->choices == cpu_templates ? " (CPU templates are not "
								  "supported yet)"
								: "");
		}
	}
	if (f->type == T_INT && f->max &&
	    (json_integer_value(v) < f->min || json_integer_value(v) > f->max))
		return fail(err, "%s: field '%s' must be between %lld and %lld", where, f->name,
			    f->min, f->max);
	return 0;
}

int config_check(enum config_section section, json_t *body, bool patch, struct config_error *err)
{
	const struct section_desc *desc = &sections[section];
	const char *key;
	json_t *v;

	if (!json_is_object(body))
		return fail(err, "%s: the body must be a JSON object", desc->key);
	json_object_foreach(body, key, v)
	{
		const struct field *f = desc->fields;

		while (f->name && strcmp(f->name, key))
			f++;
		if (!f->name)
			return fail(err, "%s: unknown field '%s'", desc->key, key);
		if (check_field(f, v, desc->key, err))
			return -1;
	}
	for (const struct field *f = desc->fields; !patch && f->name; f++)
		if (f->required && !json_object_get(body, f->name))
			return fail(err, "%s: missing field '%s'", desc->key, f->name);
	if (section == SECTION_MACHINE && json_is_true(json_object_get(body, "smt")))
		return fail(err, "machine-config: field 'smt' cannot be true (SMT topology is not "
				 "supported yet)");
	if (section == SECTION_NET && json_object_get(body, "guest_mac")) {
		uint8_t mac[6];

		if (net_parse_mac(json_string_value(json_object_get(body, "guest_mac")), mac))
			return fail(err, "network-interfaces: field 'guest_mac' is not a unicast "
					 "MAC address like AA:FC:00:00:00:01");
	}
	if (section == SECTION_NET && strlen(str_or(body, "host_dev_name", "")) >= IFNAMSIZ)
		return fail(err,
			    "network-interfaces: field 'host_dev_name' is longer than %d bytes",
			    IFNAMSIZ - 1);
	if (section == SECTION_VSOCK && strlen(str_or(body, "uds_path", "")) > VSOCK_UDS_MAX)
		return fail(err, "vsock: field 'uds_path' is longer than %d bytes", VSOCK_UDS_MAX);
	if (section == SECTION_DRIVE && strlen(str_or(body, "drive_id", "")) > DISK_ID_MAX)
		return fail(err, "drives: field 'drive_id' is longer than %d bytes", DISK_ID_MAX);
	return 0;
}

json_t *config_new(void)
{
	return json_pack("{s:{s:i,s:i,s:b,s:b,s:s},s:[],s:[]}", "machine-config", "vcpu_count", 1,
			 "mem_size_mib", 128, "smt", 0, "track_dirty_pages", 0, "huge_pages",
			 "None", "drives", "network-interfaces");
}

static json_t *find_by_id(json_t *array, const char *id_field, const char *id, size_t *index)
{
	size_t i;
	json_t *item;

	json_array_foreach(array, i, item)
	{
		if (!strcmp(json_string_value(json_object_get(item, id_field)), id)) {
			*index = i;
			return item;
		}
	}
	return NULL;
}

/* Rules across entries: one root drive, no tap or MAC used twice. */
static int check_unique(json_t *array, const char *id_field, const char *id, json_t *item,
			const char *field, const char *what, struct config_error *err)
{
	json_t *mine = json_object_get(item, field), *other;
	size_t i;

	if (!mine || json_is_false(mine))
		return 0;
	json_array_foreach(array, i, other)
	{
		if (!strcmp(json_string_value(json_object_get(other, id_field)), id))
			continue;
		if (json_equal(json_object_get(other, field), mine))
			return fail(err, "%s", what);
	}
	return 0;
}

int config_put(json_t *doc, enum config_section section, json_t *body, bool patch,
	       struct config_error *err)
{
	const struct section_desc *desc = &sections[section];
	json_t *array, *old, *item;
	const char *id;
	size_t index;

	if (!desc->id_field) {
		old = json_object_get(doc, desc->key);
		if (patch && !old)
			return fail(err, "%s: nothing to PATCH; PUT it first", desc->key);
		item = json_deep_copy(patch ? old : body);
		if (patch)
			json_object_update(item, body);
		if (config_check(section, item, false, err)) {
			json_decref(item);
			return -1;
		}
		json_object_set_new(doc, desc->key, item);
		return 0;
	}
	array = json_object_get(doc, desc->key);
	id = json_string_value(json_object_get(body, desc->id_field));
	if (!id)
		return fail(err, "%s: missing field '%s'", desc->key, desc->id_field);
	old = find_by_id(array, desc->id_field, id, &index);
	if (patch && !old)
		return fail(err, "%s: no %s '%s' to PATCH", desc->key, desc->id_field, id);
	item = json_deep_copy(patch ? old : body);
	if (patch)
		json_object_update(item, body);
	if ((section == SECTION_DRIVE &&
	     check_unique(array, "drive_id", id, item, "is_root_device",
			  "drives: only one drive can be the root device", err)) ||
	    (section == SECTION_NET &&
	     (check_unique(array, "iface_id", id, item, "guest_mac",
			   "network-interfaces: that guest_mac is in use by another interface",
			   err) ||
	      check_unique(array, "iface_id", id, item, "host_dev_name",
			   "network-interfaces: that host_dev_name is in use by another "
			   "interface",
			   err)))) {
		json_decref(item);
		return -1;
	}
	if (old) {
		json_array_set_new(array, index, item);
	} else if (json_array_size(array) >= (section == SECTION_DRIVE ? MAX_DISKS : MAX_NICS)) {
		json_decref(item);
		return fail(err, "%s: at most %d", desc->key,
			    section == SECTION_DRIVE ? MAX_DISKS : MAX_NICS);
	} else {
		json_array_append_new(array, item);
	}
	return 0;
}

json_t *config_load(const char *path, struct config_error *err)
{
	json_error_t jerr;
	json_t *file = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (!file) {
		fail(err, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	return config_from_file(file, path, err);
}

json_t *config_from_file(json_t *file, const char *path, struct config_error *err)
{
	json_t *doc, *v;
	const char *key;

	doc = config_new();
	if (!json_is_object(file)) {
		fail(err, "%s: the top level must be a JSON object", path);
		goto bad;
	}
	json_object_foreach(file, key, v)
	{
		size_t s = 0, i;
		json_t *item;

		for (int l = 0; later_sections[l]; l++)
			if (!strcmp(key, later_sections[l]) && !json_is_null(v)) {
				fail(err, "%s: section '%s' is not supported yet", path, key);
				goto bad;
			}
		while (s < ARRAY_SIZE(sections) && strcmp(sections[s].key, key))
			s++;
		if (s == ARRAY_SIZE(sections)) {
			if (json_is_null(v))
				continue;
			fail(err, "%s: unknown section '%s'", path, key);
			goto bad;
		}
		if (json_is_null(v))
			continue;
		if (!sections[s].id_field) {
			if (config_check(s, v, false, err) || config_put(doc, s, v, false, err))
				goto bad;
			continue;
		}
		if (!json_is_array(v)) {
			fail(err, "%s: section '%s' must be an array", path, key);
			goto bad;
		}
		json_array_foreach(v, i, item)
		{
			if (config_check(s, item, false, err) ||
			    config_put(doc, s, item, false, err))
				goto bad;
		}
	}
	json_decref(file);
	return doc;
bad:
	json_decref(file);
	json_decref(doc);
	return NULL;
}

static const char *get_str(json_t *obj, const char *key)
{
	return str_or(obj, key, NULL);
}

static void drive_to_disk(json_t *drive, struct disk_config *disk)
{
	memset(disk, 0, sizeof(*disk));
	snprintf(disk->path, sizeof(disk->path), "%s", get_str(drive, "path_on_host"));
	snprintf(disk->id, sizeof(disk->id), "%s", get_str(drive, "drive_id"));
	disk->read_only = json_is_true(json_object_get(drive, "is_read_only"));
	disk->sync_io = !strcmp(str_or(drive, "io_engine", ""), "Sync");
	disk->no_flush = !strcmp(str_or(drive, "cache_type", "Unsafe"), "Unsafe");
}

int config_to_vm(json_t *doc, struct vm_config *vm, char *cmdline_buf, size_t cmdline_len,
		 struct config_error *err)
{
	json_t *boot = json_object_get(doc, "boot-source");
	json_t *machine = json_object_get(doc, "machine-config");
	json_t *drives = json_object_get(doc, "drives"), *item;
	json_t *nics = json_object_get(doc, "network-interfaces");
	const char *args = get_str(boot, "boot_args");
	json_t *root = NULL;
	size_t i;
	int n;

	memset(vm, 0, sizeof(*vm));
	vm->console_listen_fd = -1;
	vm->console_read_fd = -1;
	if (!boot)
		return fail(err, "no boot source: PUT /boot-source with a kernel_image_path first");
	vm->kernel = get_str(boot, "kernel_image_path");
	vm->initrd = get_str(boot, "initrd_path");
	vm->cpus = json_integer_value(json_object_get(machine, "vcpu_count"));
	vm->mem_size = json_integer_value(json_object_get(machine, "mem_size_mib")) * MiB;
	vm->huge_pages = !strcmp(str_or(machine, "huge_pages", ""), "2M");
	vm->track_dirty_pages = json_is_true(json_object_get(machine, "track_dirty_pages"));
	/* The root drive is vda, and Firecracker names it in the cmdline. */
	json_array_foreach(drives, i, item)
	{
		if (json_is_true(json_object_get(item, "is_root_device"))) {
			root = item;
			drive_to_disk(item, &vm->disks[vm->ndisks++]);
		}
	}
	json_array_foreach(drives, i, item)
	{
		if (item != root)
			drive_to_disk(item, &vm->disks[vm->ndisks++]);
	}
	n = snprintf(cmdline_buf, cmdline_len, "%s",
		     args ? args : "console=ttyS0 reboot=k panic=1");
	if (root && (size_t)n < cmdline_len)
		n += snprintf(cmdline_buf + n, cmdline_len - n, " root=%s%s %s",
			      get_str(root, "partuuid") ? "PARTUUID=" : "/dev/vda",
			      str_or(root, "partuuid", ""), vm->disks[0].read_only ? "ro" : "rw");
	if ((size_t)n >= cmdline_len)
		return fail(err, "boot-source: boot_args is too long");
	vm->cmdline = cmdline_buf;
	json_array_foreach(nics, i, item)
	{
		struct net_config *net = &vm->nics[vm->nnics++];

		memset(net, 0, sizeof(*net));
		net->tap_fd = -1;
		snprintf(net->tap, sizeof(net->tap), "%s", get_str(item, "host_dev_name"));
		snprintf(net->id, sizeof(net->id), "%s", get_str(item, "iface_id"));
		net->has_mac = get_str(item, "guest_mac") &&
			       !net_parse_mac(get_str(item, "guest_mac"), net->mac);
	}
	vm->rng = json_object_get(doc, "entropy") != NULL;
	if (json_object_get(doc, "vsock")) {
		json_t *vsock = json_object_get(doc, "vsock");

		vm->vsock.enabled = true;
		vm->vsock.guest_cid = json_integer_value(json_object_get(vsock, "guest_cid"));
		snprintf(vm->vsock.uds, sizeof(vm->vsock.uds), "%s", get_str(vsock, "uds_path"));
	}
	vm->serial_out = get_str(json_object_get(doc, "serial"), "serial_out_path");
	return 0;
}

json_t *config_from_vm(const struct vm_config *vm)
{
	json_t *doc = config_new();
	json_t *drives = json_object_get(doc, "drives");
	json_t *nics = json_object_get(doc, "network-interfaces");

	if (vm->kernel) {
		json_t *boot = json_pack("{s:s}", "kernel_image_path", vm->kernel);

		if (vm->initrd)
			json_object_set_new(boot, "initrd_path", json_string(vm->initrd));
		if (vm->cmdline)
			json_object_set_new(boot, "boot_args", json_string(vm->cmdline));
		json_object_set_new(doc, "boot-source", boot);
	}
	json_object_set_new(json_object_get(doc, "machine-config"), "vcpu_count",
			    json_integer(vm->cpus));
	json_object_set_new(json_object_get(doc, "machine-config"), "mem_size_mib",
			    json_integer(vm->mem_size / MiB));
	for (int i = 0; i < vm->ndisks; i++) {
		const struct disk_config *d = &vm->disks[i];
		char id[32];

		snprintf(id, sizeof(id), "%s", d->id[0] ? d->id : "");
		if (!id[0])
			snprintf(id, sizeof(id), "drive%d", i);
		json_array_append_new(
		    drives, json_pack("{s:s,s:s,s:b,s:b,s:s,s:s}", "drive_id", id, "path_on_host",
				      d->path, "is_root_device", 0, "is_read_only", d->read_only,
				      "cache_type", d->no_flush ? "Unsafe" : "Writeback",
				      "io_engine", d->sync_io ? "Sync" : "Async"));
	}
	for (int i = 0; i < vm->nnics; i++) {
		const struct net_config *n = &vm->nics[i];
		char id[24], mac[18];
		json_t *nic;

		snprintf(id, sizeof(id), "%s", n->id);
		if (!id[0])
			snprintf(id, sizeof(id), "eth%d", i);
		nic = json_pack("{s:s,s:s}", "iface_id", id, "host_dev_name", n->tap);
		if (n->has_mac) {
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0],
				 n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
			json_object_set_new(nic, "guest_mac", json_string(mac));
		}
		json_array_append_new(nics, nic);
	}
	if (vm->rng)
		json_object_set_new(doc, "entropy", json_object());
	if (vm->vsock.enabled)
		json_object_set_new(doc, "vsock",
				    json_pack("{s:I,s:s}", "guest_cid",
					      (json_int_t)vm->vsock.guest_cid, "uds_path",
					      vm->vsock.uds));
	return doc;
}
