// SPDX-License-Identifier: MIT
/*
 * The VM spec's JSON codec, in Firecracker's configuration document:
 * the body of GET /vm/config and the format of --config-file. Every API
 * body, config-file section and CLI device flag is checked against the
 * field tables here, then decoded into the spec; the spec is encoded back
 * with nothing lost, kvmini's own fields under "kvmini" keys.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.h"
#include "util.h"

enum field_type {
	T_STRING,
	T_INT,
	T_BOOL,
	T_OBJECT,
	T_UNSUPPORTED
};

struct field {
	const char *name;
	enum field_type type;
	bool required;
	long long min, max; /* T_INT: the range; T_STRING: max is the longest length */
	const char *const *choices;
	const struct field *fields; /* T_OBJECT's */
};

static const char *const huge_page_sizes[] = { "None", "2M", NULL };
static const char *const cpu_templates[] = { "None", NULL };
static const char *const cache_types[] = { "Unsafe", "Writeback", NULL };
static const char *const io_engines[] = { "Sync", "Async", NULL };
static const char *const log_levels[] = {
	"Error", "Warning", "Info", "Debug", "Trace", "Off", NULL
};
static const char *const reboot_actions[] = { "exit", "restart", NULL };

#define PATH_LEN (SPEC_PATH_MAX - 1)

static const struct field boot_fields[] = {
	{ .name = "kernel_image_path", .type = T_STRING, .required = true, .max = PATH_LEN },
	{ .name = "initrd_path", .type = T_STRING, .max = PATH_LEN },
	{ .name = "boot_args", .type = T_STRING, .max = PATH_LEN },
	{ .name = NULL },
};
static const struct field machine_fields[] = {
	{ .name = "vcpu_count", .type = T_INT, .required = true, .min = 1, .max = MAX_VCPUS },
	{ .name = "mem_size_mib",
	  .type = T_INT,
	  .required = true,
	  .min = SPEC_MIN_MEM / MiB,
	  .max = SPEC_MAX_MEM / MiB },
	{ .name = "smt", .type = T_BOOL },
	{ .name = "track_dirty_pages", .type = T_BOOL },
	{ .name = "huge_pages", .type = T_STRING, .choices = huge_page_sizes },
	{ .name = "cpu_template", .type = T_STRING, .choices = cpu_templates },
	{ .name = NULL },
};
static const struct field drive_kvmini_fields[] = {
	{ .name = "direct", .type = T_BOOL },
	{ .name = NULL },
};
static const struct field drive_fields[] = {
	{ .name = "drive_id", .type = T_STRING, .required = true, .max = DISK_ID_MAX },
	{ .name = "path_on_host", .type = T_STRING, .required = true, .max = PATH_LEN },
	{ .name = "is_root_device", .type = T_BOOL, .required = true },
	{ .name = "is_read_only", .type = T_BOOL },
	{ .name = "partuuid", .type = T_STRING, .max = DISK_PARTUUID_MAX },
	{ .name = "cache_type", .type = T_STRING, .choices = cache_types },
	{ .name = "io_engine", .type = T_STRING, .choices = io_engines },
	{ .name = "rate_limiter", .type = T_UNSUPPORTED },
	{ .name = "socket", .type = T_UNSUPPORTED },
	{ .name = "kvmini", .type = T_OBJECT, .fields = drive_kvmini_fields },
	{ .name = NULL },
};
static const struct field net_kvmini_fields[] = {
	{ .name = "tap_fd", .type = T_INT, .min = 0, .max = 65535 },
	{ .name = NULL },
};
static const struct field net_fields[] = {
	{ .name = "iface_id", .type = T_STRING, .required = true, .max = NET_ID_MAX },
	{ .name = "host_dev_name", .type = T_STRING, .required = true, .max = IFNAMSIZ - 1 },
	{ .name = "guest_mac", .type = T_STRING, .max = 17 },
	{ .name = "rx_rate_limiter", .type = T_UNSUPPORTED },
	{ .name = "tx_rate_limiter", .type = T_UNSUPPORTED },
	{ .name = "kvmini", .type = T_OBJECT, .fields = net_kvmini_fields },
	{ .name = NULL },
};
static const struct field vsock_fields[] = {
	{ .name = "guest_cid", .type = T_INT, .required = true, .min = 3, .max = 0xfffffffeLL },
	{ .name = "uds_path", .type = T_STRING, .required = true, .max = VSOCK_UDS_MAX },
	{ .name = "vsock_id", .type = T_STRING, .max = VSOCK_ID_MAX },
	{ .name = NULL },
};
static const struct field entropy_fields[] = {
	{ .name = "rate_limiter", .type = T_UNSUPPORTED },
	{ .name = NULL },
};
static const struct field logger_fields[] = {
	{ .name = "log_path", .type = T_STRING, .max = PATH_LEN },
	{ .name = "level", .type = T_STRING, .choices = log_levels },
	{ .name = "show_level", .type = T_BOOL },
	{ .name = "show_log_origin", .type = T_BOOL },
	{ .name = "module", .type = T_STRING, .max = PATH_LEN },
	{ .name = NULL },
};
static const struct field metrics_fields[] = {
	{ .name = "metrics_path", .type = T_STRING, .required = true, .max = PATH_LEN },
	{ .name = NULL },
};
static const struct field serial_fields[] = {
	{ .name = "serial_out_path", .type = T_STRING, .max = PATH_LEN },
	{ .name = NULL },
};
static const struct field kvmini_fields[] = {
	{ .name = "on_reboot", .type = T_STRING, .choices = reboot_actions },
	{ .name = "debug_exit", .type = T_BOOL },
	{ .name = "console_max", .type = T_INT, .min = 0, .max = 1LL << 40 },
	{ .name = "console_sock", .type = T_STRING, .max = PATH_LEN },
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
	[SECTION_KVMINI] = { "kvmini", kvmini_fields, NULL },
};

/* What Firecracker has and kvmini does not yet: refused by name, in a file or the API. */
static const struct {
	const char *section, *path;
} unsupported[] = {
	{ "balloon", "/balloon" },   { "mmds-config", "/mmds" }, { "cpu-config", "/cpu-config" },
	{ "snapshot", "/snapshot" }, { NULL, "/hotplug" },
};

const char *config_unsupported_path(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
		if (!strncmp(path, unsupported[i].path, strlen(unsupported[i].path)))
			return unsupported[i].path;
	return NULL;
}

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
	return t == T_STRING ? "a string"
	       : t == T_INT  ? "an integer"
	       : t == T_BOOL ? "a boolean"
			     : "an object";
}

static int check_object(const struct field *fields, json_t *body, const char *where, bool patch,
			struct config_error *err);

static int check_string(const struct field *f, json_t *v, const char *where,
			struct config_error *err)
{
	const char *s = json_string_value(v);

	if (strlen(s) != json_string_length(v))
		return fail(err, "%s: field '%s' holds a NUL byte", where, f->name);
	if (f->max && strlen(s) > (size_t)f->max)
		return fail(err, "%s: field '%s' is longer than %lld bytes", where, f->name,
			    f->max);
	if (!f->choices)
		return 0;
	for (int i = 0; f->choices[i]; i++)
		if (!strcmp(s, f->choices[i]))
			return 0;
	return fail(err, "%s: field '%s' cannot be \"%.64s\"%s", where, f->name, s,
		    f->choices == cpu_templates ? " (CPU templates are not supported yet)" : "");
}

static int check_field(const struct field *f, json_t *v, const char *where,
		       struct config_error *err)
{
	char inner[96];

	if (f->type == T_UNSUPPORTED) {
		if (json_is_null(v))
			return 0;
		return fail(err, "%s: field '%s' is not supported yet", where, f->name);
	}
	if ((f->type == T_STRING && !json_is_string(v)) ||
	    (f->type == T_INT && !json_is_integer(v)) ||
	    (f->type == T_BOOL && !json_is_boolean(v)) ||
	    (f->type == T_OBJECT && !json_is_object(v)))
		return fail(err, "%s: field '%s' must be %s", where, f->name, type_name(f->type));
	if (f->type == T_STRING)
		return check_string(f, v, where, err);
	if (f->type == T_OBJECT) {
		snprintf(inner, sizeof(inner), "%s.%s", where, f->name);
		return check_object(f->fields, v, inner, false, err);
	}
	if (f->type == T_INT && (json_integer_value(v) < f->min || json_integer_value(v) > f->max))
		return fail(err, "%s: field '%s' must be between %lld and %lld", where, f->name,
			    f->min, f->max);
	return 0;
}

static int check_object(const struct field *fields, json_t *body, const char *where, bool patch,
			struct config_error *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(body))
		return fail(err, "%s: the body must be a JSON object", where);
	json_object_foreach(body, key, v)
	{
		const struct field *f = fields;

		while (f->name && strcmp(f->name, key))
			f++;
		if (!f->name)
			return fail(err, "%s: unknown field '%.64s'", where, key);
		if (check_field(f, v, where, err))
			return -1;
	}
	for (const struct field *f = fields; !patch && f->name; f++)
		if (f->required && !json_object_get(body, f->name))
			return fail(err, "%s: missing field '%s'", where, f->name);
	return 0;
}

int config_check(enum config_section section, json_t *body, bool patch, struct config_error *err)
{
	const char *mac;
	uint8_t bytes[6];

	if (check_object(sections[section].fields, body, sections[section].key, patch, err))
		return -1;
	if (section == SECTION_MACHINE && json_is_true(json_object_get(body, "smt")))
		return fail(err, "machine-config: field 'smt' cannot be true (SMT topology is not "
				 "supported yet)");
	mac = json_string_value(json_object_get(body, "guest_mac"));
	if (section == SECTION_NET && mac && mac_parse(mac, bytes))
		return fail(err, "network-interfaces: field 'guest_mac' is not a unicast "
				 "MAC address like AA:FC:00:00:00:01");
	return 0;
}

/* Encoding: one section of the spec as JSON; NULL when the spec has none. */

static json_t *drive_json(const struct disk_config *d)
{
	json_t *j = json_pack("{s:s,s:s,s:b,s:b,s:s,s:s}", "drive_id", d->id, "path_on_host",
			      d->path, "is_root_device", d->is_root, "is_read_only", d->read_only,
			      "cache_type", d->no_flush ? "Unsafe" : "Writeback", "io_engine",
			      d->sync_io ? "Sync" : "Async");

	if (d->partuuid[0])
		json_object_set_new(j, "partuuid", json_string(d->partuuid));
	if (d->direct)
		json_object_set_new(j, "kvmini", json_pack("{s:b}", "direct", 1));
	return j;
}

static json_t *net_json(const struct net_config *n)
{
	json_t *j = json_pack("{s:s,s:s}", "iface_id", n->id, "host_dev_name", n->tap);
	char mac[18];

	if (n->has_mac) {
		mac_format(n->mac, mac);
		json_object_set_new(j, "guest_mac", json_string(mac));
	}
	if (n->tap_fd >= 0)
		json_object_set_new(j, "kvmini", json_pack("{s:i}", "tap_fd", n->tap_fd));
	return j;
}

static json_t *vsock_json(const struct vsock_config *v)
{
	json_t *j;

	if (!v->enabled)
		return NULL;
	j = json_pack("{s:I,s:s}", "guest_cid", (json_int_t)v->guest_cid, "uds_path", v->uds);
	if (v->id[0])
		json_object_set_new(j, "vsock_id", json_string(v->id));
	return j;
}

static json_t *boot_json(const struct vm_spec *spec)
{
	json_t *j;

	if (!spec->kernel[0])
		return NULL;
	j = json_pack("{s:s,s:s}", "kernel_image_path", spec->kernel, "boot_args", spec->boot_args);
	if (spec->initrd[0])
		json_object_set_new(j, "initrd_path", json_string(spec->initrd));
	return j;
}

static json_t *kvmini_json(const struct vm_spec *spec)
{
	json_t *j =
	    json_pack("{s:s,s:b,s:I}", "on_reboot", reboot_actions[spec->on_reboot], "debug_exit",
		      spec->debug_exit, "console_max", (json_int_t)spec->console_max);

	if (spec->console_sock[0])
		json_object_set_new(j, "console_sock", json_string(spec->console_sock));
	return j;
}

json_t *config_section_json(const struct vm_spec *spec, enum config_section section, const char *id)
{
	switch (section) {
	case SECTION_BOOT_SOURCE:
		return boot_json(spec);
	case SECTION_MACHINE:
		return json_pack("{s:i,s:I,s:b,s:b,s:s}", "vcpu_count", spec->cpus, "mem_size_mib",
				 (json_int_t)(spec->mem_size / MiB), "smt", 0, "track_dirty_pages",
				 spec->track_dirty_pages, "huge_pages",
				 spec->huge_pages ? "2M" : "None");
	case SECTION_DRIVE:
		for (int i = 0; i < spec->ndisks; i++)
			if (!strcmp(spec->disks[i].id, id))
				return drive_json(&spec->disks[i]);
		return NULL;
	case SECTION_NET:
		for (int i = 0; i < spec->nnics; i++)
			if (!strcmp(spec->nics[i].id, id))
				return net_json(&spec->nics[i]);
		return NULL;
	case SECTION_VSOCK:
		return vsock_json(&spec->vsock);
	case SECTION_ENTROPY:
		return spec->rng ? json_object() : NULL;
	case SECTION_SERIAL:
		return spec->serial_out[0] ? json_pack("{s:s}", "serial_out_path", spec->serial_out)
					   : NULL;
	case SECTION_KVMINI:
		return kvmini_json(spec);
	case SECTION_LOGGER:
	case SECTION_METRICS:
		break;
	}
	return NULL;
}

json_t *config_from_spec(const struct vm_spec *spec)
{
	json_t *doc = json_object(), *drives = json_array(), *nics = json_array();

	for (size_t s = 0; s < ARRAY_SIZE(sections); s++) {
		json_t *v = sections[s].id_field ? NULL : config_section_json(spec, s, NULL);

		if (v)
			json_object_set_new(doc, sections[s].key, v);
	}
	for (int i = 0; i < spec->ndisks; i++)
		json_array_append_new(drives, drive_json(&spec->disks[i]));
	for (int i = 0; i < spec->nnics; i++)
		json_array_append_new(nics, net_json(&spec->nics[i]));
	json_object_set_new(doc, "drives", drives);
	json_object_set_new(doc, "network-interfaces", nics);
	return doc;
}

/* Decoding: a checked, whole body of one section into the spec. */

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static int decode_drive(struct vm_spec *spec, json_t *b, struct config_error *err)
{
	const char *id = str_or(b, "drive_id", "");
	struct disk_config *d = spec_disk(spec, id);

	if (!d && spec->ndisks == MAX_DISKS)
		return fail(err, "drives: at most %d", MAX_DISKS);
	if (!d)
		d = &spec->disks[spec->ndisks++];
	disk_config_init(d);
	copy(d->id, sizeof(d->id), id);
	copy(d->path, sizeof(d->path), str_or(b, "path_on_host", ""));
	copy(d->partuuid, sizeof(d->partuuid), str_or(b, "partuuid", ""));
	d->is_root = json_is_true(json_object_get(b, "is_root_device"));
	d->read_only = json_is_true(json_object_get(b, "is_read_only"));
	d->no_flush = !strcmp(str_or(b, "cache_type", "Writeback"), "Unsafe");
	d->sync_io = !strcmp(str_or(b, "io_engine", "Async"), "Sync");
	d->direct = json_is_true(json_object_get(json_object_get(b, "kvmini"), "direct"));
	return 0;
}

static int decode_net(struct vm_spec *spec, json_t *b, struct config_error *err)
{
	const char *id = str_or(b, "iface_id", "");
	struct net_config *n = spec_nic(spec, id);
	json_t *fd = json_object_get(json_object_get(b, "kvmini"), "tap_fd");

	if (!n && spec->nnics == MAX_NICS)
		return fail(err, "network-interfaces: at most %d", MAX_NICS);
	if (!n)
		n = &spec->nics[spec->nnics++];
	net_config_init(n);
	copy(n->id, sizeof(n->id), id);
	copy(n->tap, sizeof(n->tap), str_or(b, "host_dev_name", ""));
	n->has_mac = json_object_get(b, "guest_mac") != NULL;
	if (n->has_mac)
		mac_parse(str_or(b, "guest_mac", ""), n->mac);
	if (fd)
		n->tap_fd = json_integer_value(fd);
	return 0;
}

static void decode_machine(struct vm_spec *spec, json_t *b)
{
	spec->cpus = json_integer_value(json_object_get(b, "vcpu_count"));
	spec->mem_size = json_integer_value(json_object_get(b, "mem_size_mib")) * MiB;
	spec->huge_pages = !strcmp(str_or(b, "huge_pages", "None"), "2M");
	spec->track_dirty_pages = json_is_true(json_object_get(b, "track_dirty_pages"));
}

static void decode_kvmini(struct vm_spec *spec, json_t *b)
{
	json_t *max = json_object_get(b, "console_max");

	spec->on_reboot =
	    !strcmp(str_or(b, "on_reboot", "exit"), "restart") ? REBOOT_RESTART : REBOOT_EXIT;
	spec->debug_exit = json_is_true(json_object_get(b, "debug_exit"));
	spec->console_max = max ? (uint64_t)json_integer_value(max) : SPEC_DEFAULT_CONSOLE_MAX;
	copy(spec->console_sock, sizeof(spec->console_sock), str_or(b, "console_sock", ""));
}

static int decode(struct vm_spec *spec, enum config_section section, json_t *b,
		  struct config_error *err)
{
	switch (section) {
	case SECTION_BOOT_SOURCE:
		copy(spec->kernel, sizeof(spec->kernel), str_or(b, "kernel_image_path", ""));
		copy(spec->initrd, sizeof(spec->initrd), str_or(b, "initrd_path", ""));
		copy(spec->boot_args, sizeof(spec->boot_args),
		     str_or(b, "boot_args", SPEC_DEFAULT_BOOT_ARGS));
		return 0;
	case SECTION_MACHINE:
		decode_machine(spec, b);
		return 0;
	case SECTION_DRIVE:
		return decode_drive(spec, b, err);
	case SECTION_NET:
		return decode_net(spec, b, err);
	case SECTION_VSOCK:
		spec->vsock.enabled = true;
		spec->vsock.guest_cid = json_integer_value(json_object_get(b, "guest_cid"));
		copy(spec->vsock.uds, sizeof(spec->vsock.uds), str_or(b, "uds_path", ""));
		copy(spec->vsock.id, sizeof(spec->vsock.id), str_or(b, "vsock_id", ""));
		return 0;
	case SECTION_ENTROPY:
		spec->rng = true;
		return 0;
	case SECTION_SERIAL:
		copy(spec->serial_out, sizeof(spec->serial_out), str_or(b, "serial_out_path", ""));
		return 0;
	case SECTION_KVMINI:
		decode_kvmini(spec, b);
		return 0;
	case SECTION_LOGGER:
	case SECTION_METRICS:
		break;
	}
	return fail(err, "%s: not part of the VM's spec", sections[section].key);
}

/* Decodes @item into a copy of @spec; commits the copy only if every rule holds. */
static int put_checked(struct vm_spec *spec, enum config_section section, json_t *item,
		       struct config_error *err)
{
	struct vm_spec *next = malloc(sizeof(*next));
	int ret = -1;

	if (!next)
		return fail(err, "%s: out of memory", sections[section].key);
	*next = *spec;
	if (!config_check(section, item, false, err) && !decode(next, section, item, err)) {
		ret = spec_check(next, err->msg, sizeof(err->msg));
		if (!ret)
			*spec = *next;
	}
	free(next);
	return ret;
}

int config_put(struct vm_spec *spec, enum config_section section, json_t *body, bool patch,
	       struct config_error *err)
{
	const struct section_desc *desc = &sections[section];
	const char *id = NULL;
	json_t *item;
	int ret;

	if (!json_is_object(body))
		return fail(err, "%s: the body must be a JSON object", desc->key);
	if (desc->id_field) {
		id = json_string_value(json_object_get(body, desc->id_field));
		if (!id)
			return fail(err, "%s: missing field '%s'", desc->key, desc->id_field);
	}
	if (!patch)
		return put_checked(spec, section, body, err);
	item = config_section_json(spec, section, id);
	if (!item && id)
		return fail(err, "%s: no %s '%.64s' to PATCH", desc->key, desc->id_field, id);
	if (!item)
		return fail(err, "%s: nothing to PATCH; PUT it first", desc->key);
	json_object_update(item, body);
	ret = put_checked(spec, section, item, err);
	json_decref(item);
	return ret;
}

/* Every key of a config file names a section kvmini has, or is null. */
static int check_file_keys(json_t *file, const char *path, struct config_error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(file, key, v)
	{
		size_t s = 0;

		for (size_t u = 0; u < ARRAY_SIZE(unsupported); u++)
			if (unsupported[u].section && !strcmp(key, unsupported[u].section) &&
			    !json_is_null(v))
				return fail(err, "%s: section '%s' is not supported yet", path,
					    key);
		while (s < ARRAY_SIZE(sections) && strcmp(sections[s].key, key))
			s++;
		if (s == ARRAY_SIZE(sections) && !json_is_null(v))
			return fail(err, "%s: unknown section '%.64s'", path, key);
		if ((s == SECTION_LOGGER || s == SECTION_METRICS) && !json_is_null(v))
			return fail(err,
				    "%s: section '%s' is set through the API (PUT /%s), not in "
				    "a config file",
				    path, key, key);
		if (s < ARRAY_SIZE(sections) && sections[s].id_field && !json_is_null(v) &&
		    !json_is_array(v))
			return fail(err, "%s: section '%s' must be an array", path, key);
	}
	return 0;
}

static int put_file_section(struct vm_spec *spec, enum config_section s, json_t *v,
			    const char *path, struct config_error *err)
{
	size_t i;
	json_t *item;

	if (!sections[s].id_field)
		return config_put(spec, s, v, false, err);
	json_array_foreach(v, i, item)
	{
		const char *id = json_string_value(json_object_get(item, sections[s].id_field));

		if (id &&
		    (s == SECTION_DRIVE ? (void *)spec_disk(spec, id) : (void *)spec_nic(spec, id)))
			return fail(err, "%s: %s '%.64s' appears twice", path, sections[s].id_field,
				    id);
		if (config_put(spec, s, item, false, err))
			return -1;
	}
	return 0;
}

int config_to_spec(json_t *file, const char *path, struct vm_spec *spec, struct config_error *err)
{
	struct vm_spec *next = malloc(sizeof(*next));
	int ret = -1;

	if (!next)
		return fail(err, "%s: out of memory", path);
	spec_init(next);
	if (!json_is_object(file)) {
		fail(err, "%s: the top level must be a JSON object", path);
		goto out;
	}
	if (check_file_keys(file, path, err))
		goto out;
	/* In the table's order: the devices before "kvmini", whatever the file's. */
	for (size_t s = 0; s < ARRAY_SIZE(sections); s++) {
		json_t *v = json_object_get(file, sections[s].key);

		if (v && !json_is_null(v) && put_file_section(next, s, v, path, err))
			goto out;
	}
	*spec = *next;
	ret = 0;
out:
	free(next);
	return ret;
}

int config_load(const char *path, struct vm_spec *spec, struct config_error *err)
{
	json_error_t jerr;
	json_t *file = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	int ret;

	if (!file)
		return fail(err, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	ret = config_to_spec(file, path, spec, err);
	json_decref(file);
	return ret;
}
