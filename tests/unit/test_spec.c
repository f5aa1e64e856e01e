// SPDX-License-Identifier: MIT
/*
 * The VM spec: its defaults, in one table, and a property-style round
 * trip over many generated VMs. Each is written as CLI flags and, the
 * way a Firecracker client would, as API PUTs; the flags' spec must
 * encode to a JSON document that decodes and encodes to itself, and
 * that equals the API's GET /vm/config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/config.h"
#include "api/http.h"
#include "api/server.h"
#include "cli.h"
#include "unit.h"
#include "util.h"

static void defaults_are_one_table(void **state)
{
	struct run_options o;
	char *argv[] = { "run", "--kernel", "k", NULL };
	struct vm_spec spec;
	json_t *doc;

	(void)state;
	spec_init(&spec);
	assert_int_equal(cli_parse_run(3, argv, &o), 0);
	/* The table: every front door starts from it. */
	const struct {
		const char *what;
		long long spec, cli, want;
	} table[] = {
		{ "vcpus", spec.cpus, o.spec.cpus, 1 },
		{ "memory", spec.mem_size, o.spec.mem_size, 128 * MiB },
		{ "console_max", spec.console_max, o.spec.console_max, 16 * MiB },
		{ "on_reboot", spec.on_reboot, o.spec.on_reboot, REBOOT_EXIT },
		{ "debug_exit", spec.debug_exit, o.spec.debug_exit, 0 },
		{ "huge_pages", spec.huge_pages, o.spec.huge_pages, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].spec != table[i].want || table[i].cli != table[i].want)
			fail_msg("default %s: spec %lld, CLI %lld, want %lld", table[i].what,
				 table[i].spec, table[i].cli, table[i].want);
	}
	assert_string_equal(spec.boot_args, "console=ttyS0 reboot=k panic=1");
	assert_string_equal(o.spec.boot_args, "console=ttyS0 reboot=k panic=1");
	/* The API's document is the same spec's. */
	doc = config_from_spec(&spec);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "machine-config"),
							    "mem_size_mib")),
			 128);
	json_decref(doc);
}

/* A small deterministic generator: the same VMs on every run. */
static uint64_t rng_state;

static unsigned int pick(unsigned int n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (rng_state >> 33) % n;
}

struct generated {
	char *argv[64];
	int argc;
	char strings[64][128];
	int nstrings;
	json_t *puts; /* [[path, body], ...] in the order a client sends them */
	json_t *kvmini; /* what the flags say that Firecracker has no field for */
};

static char *str(struct generated *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *str(struct generated *g, const char *fmt, ...)
{
	char *s = g->strings[g->nstrings++];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(g->strings[0]), fmt, ap);
	va_end(ap);
	return s;
}

static void flag(struct generated *g, const char *name, char *value)
{
	g->argv[g->argc++] = (char *)name;
	if (value)
		g->argv[g->argc++] = value;
}

static void api_put(struct generated *g, const char *path, json_t *body)
{
	json_array_append_new(g->puts, json_pack("[s,o]", path, body));
}

static void gen_disk(struct generated *g, int i, bool *root_taken)
{
	static const char *const caches[] = { "writeback", "unsafe", "none" };
	const char *cache = caches[pick(3)];
	bool ro = pick(2), root = !*root_taken && pick(3) == 0, sync = pick(2);
	json_t *b;
	char *id = str(g, "d%u", pick(1000) * 10 + i);

	*root_taken |= root;
	flag(g, "--disk",
	     str(g, "path=/img/%d%s%s,id=%s,cache=%s,io=%s%s", i, ro ? ",ro" : "",
		 root ? ",root" : "", id, cache, sync ? "sync" : "uring",
		 root && pick(2) ? ",partuuid=0eaa91a0-01" : ""));
	b = json_pack("{s:s,s:s,s:b,s:b,s:s,s:s}", "drive_id", id, "path_on_host",
		      g->argv[g->argc - 1] + 5, "is_root_device", root, "is_read_only", ro,
		      "cache_type", strcmp(cache, "unsafe") ? "Writeback" : "Unsafe", "io_engine",
		      sync ? "Sync" : "Async");
	/* The path is everything up to the first comma. */
	json_object_set_new(b, "path_on_host", json_sprintf("/img/%d", i));
	if (strstr(g->argv[g->argc - 1], "partuuid"))
		json_object_set_new(b, "partuuid", json_string("0eaa91a0-01"));
	if (!strcmp(cache, "none"))
		json_object_set_new(b, "kvmini", json_pack("{s:b}", "direct", 1));
	api_put(g, str(g, "/drives/%s", id), b);
}

static void gen_nic(struct generated *g, int i)
{
	bool by_fd = pick(3) == 0, mac = pick(2);
	char *m = str(g, "02:00:00:00:%02x:%02x", i, pick(256));
	json_t *b;

	flag(g, "--net",
	     str(g, "%s=%s%d,id=n%d%s%s", by_fd ? "tapfd" : "tap", by_fd ? "" : "tap", 10 + i, i,
		 mac ? ",mac=" : "", mac ? m : ""));
	b = json_pack("{s:s,s:s}", "iface_id", str(g, "n%d", i), "host_dev_name",
		      by_fd ? "" : str(g, "tap%d", 10 + i));
	if (mac)
		json_object_set_new(b, "guest_mac", json_string(m));
	if (by_fd)
		json_object_set_new(b, "kvmini", json_pack("{s:i}", "tap_fd", 10 + i));
	api_put(g, str(g, "/network-interfaces/n%d", i), b);
}

static void generate(struct generated *g)
{
	unsigned int cpus = 1 + pick(8), mib = 4 + pick(4096), ndisks = pick(MAX_DISKS + 1);
	unsigned int nnics = pick(MAX_NICS + 1);
	bool root_taken = false, initrd = pick(2), args = pick(2);
	json_t *boot = json_pack("{s:s}", "kernel_image_path", "/boot/k");

	memset(g, 0, sizeof(*g));
	g->puts = json_array();
	g->kvmini = json_object();
	g->argv[g->argc++] = "run";
	flag(g, "--kernel", "/boot/k");
	if (initrd) {
		flag(g, "--initrd", "/boot/i");
		json_object_set_new(boot, "initrd_path", json_string("/boot/i"));
	}
	if (args) {
		flag(g, "--cmdline", str(g, "console=hvc0 quiet x=%u", pick(100)));
		json_object_set_new(boot, "boot_args", json_string(g->argv[g->argc - 1]));
	}
	api_put(g, "/boot-source", boot);
	flag(g, "--cpus", str(g, "%u", cpus));
	flag(g, "--memory", str(g, "%uM", mib));
	api_put(g, "/machine-config",
		json_pack("{s:i,s:i}", "vcpu_count", cpus, "mem_size_mib", mib));
	for (unsigned int i = 0; i < ndisks; i++)
		gen_disk(g, i, &root_taken);
	for (unsigned int i = 0; i < nnics; i++)
		gen_nic(g, i);
	if (pick(2)) {
		flag(g, "--rng", NULL);
		api_put(g, "/entropy", json_object());
	}
	if (pick(2)) {
		unsigned int cid = 3 + pick(1000);

		flag(g, "--vsock", str(g, "cid=%u,uds=/run/v.sock", cid));
		api_put(g, "/vsock",
			json_pack("{s:i,s:s}", "guest_cid", cid, "uds_path", "/run/v.sock"));
	}
	if (pick(2)) {
		flag(g, "--reboot", "restart");
		json_object_set_new(g->kvmini, "on_reboot", json_string("restart"));
	}
	if (pick(2)) {
		flag(g, "--debug-exit", NULL);
		json_object_set_new(g->kvmini, "debug_exit", json_true());
	}
	if (pick(2)) {
		unsigned int kib = 4 + pick(100000);

		flag(g, "--console-max", str(g, "%uK", kib));
		json_object_set_new(g->kvmini, "console_max", json_integer(kib * 1024LL));
	}
}

static json_t *api_document(struct generated *g)
{
	struct vm_spec spec;
	struct api *api;
	struct http_response resp = { 0 };
	struct http_request req = { .method = "GET", .path = "/vm/config" };
	json_t *item, *doc;
	size_t i;

	spec_init(&spec);
	/* As main() does: the flags' own fields first, then the API's. */
	if (config_put(&spec, SECTION_KVMINI, g->kvmini, true, &(struct config_error){ 0 }))
		fail_msg("the kvmini section was refused");
	api = api_create_unserved(&spec);
	json_array_foreach(g->puts, i, item)
	{
		char *body = json_dumps(json_array_get(item, 1), JSON_COMPACT);
		struct http_request put = { .method = "PUT",
					    .body = body,
					    .body_len = strlen(body) };

		snprintf(put.path, sizeof(put.path), "%s",
			 json_string_value(json_array_get(item, 0)));
		memset(&resp, 0, sizeof(resp));
		api_handle_request(api, &put, &resp);
		if (resp.status != 204)
			fail_msg("PUT %s %s: %d %s", put.path, body, resp.status, resp.body);
		free(resp.body);
		free(body);
	}
	memset(&resp, 0, sizeof(resp));
	api_handle_request(api, &req, &resp);
	doc = json_loads(resp.body, 0, NULL);
	free(resp.body);
	api_destroy(api);
	return doc;
}

/* The document's entry for one PUT path: "/drives/x" is the drive with id x. */
static json_t *entry(json_t *doc, const char *path)
{
	static const char *const arrays[][3] = { { "/drives/", "drives", "drive_id" },
						 { "/network-interfaces/", "network-interfaces",
						   "iface_id" } };
	json_t *item;
	size_t i;

	for (size_t a = 0; a < ARRAY_SIZE(arrays); a++) {
		size_t n = strlen(arrays[a][0]);

		if (strncmp(path, arrays[a][0], n))
			continue;
		json_array_foreach(json_object_get(doc, arrays[a][1]), i, item)
		{
			if (!strcmp(json_string_value(json_object_get(item, arrays[a][2])),
				    path + n))
				return item;
		}
		return NULL;
	}
	return json_object_get(doc, path + 1);
}

/* Every field each PUT set is in the document, with the value it was given. */
static void puts_are_kept(json_t *doc, struct generated *g, int vm)
{
	json_t *put, *value;
	const char *key;
	size_t i;

	json_array_foreach(g->puts, i, put)
	{
		const char *path = json_string_value(json_array_get(put, 0));
		json_t *have = entry(doc, path);

		json_object_foreach(json_array_get(put, 1), key, value)
		{
			if (!have || !json_equal(json_object_get(have, key), value))
				fail_msg("VM %d: PUT %s field %s was lost", vm, path, key);
		}
	}
}

static void cli_json_and_api_agree(void **state)
{
	(void)state;
	rng_state = 12345;
	for (int n = 0; n < 300; n++) {
		struct generated g;
		struct run_options o;
		struct vm_spec again;
		struct config_error err;
		json_t *once, *twice, *api;
		char *a, *b;

		generate(&g);
		if (cli_parse_run(g.argc, g.argv, &o))
			fail_msg("VM %d: the CLI refused its flags", n);
		once = config_from_spec(&o.spec);
		if (config_to_spec(once, "once", &again, &err))
			fail_msg("VM %d: %s", n, err.msg);
		twice = config_from_spec(&again);
		api = api_document(&g);
		puts_are_kept(api, &g, n);
		a = json_dumps(once, JSON_SORT_KEYS);
		b = json_dumps(twice, JSON_SORT_KEYS);
		assert_string_equal(a, b); /* CLI → spec → JSON → spec → JSON: a fixed point */
		free(b);
		b = json_dumps(api, JSON_SORT_KEYS);
		assert_string_equal(a, b); /* and the same as the API's PUTs */
		free(a);
		free(b);
		json_decref(once);
		json_decref(twice);
		json_decref(api);
		json_decref(g.puts);
		json_decref(g.kvmini);
	}
}

int run_spec_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_one_table),
		cmocka_unit_test(cli_json_and_api_agree),
	};
	return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}
