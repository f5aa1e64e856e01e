// SPDX-License-Identifier: MIT
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/config.h"
#include "cli.h"
#include "util.h"

void cli_usage(FILE *out)
{
	fputs(
	    "usage: kvmini run --kernel FILE [--initrd FILE] [--cmdline STR]\n"
	    "                  [--cpus N] [--memory SIZE] [--reboot exit|restart]\n"
	    "                  [--disk "
	    "path=FILE[,ro][,root][,id=NAME][,cache=C][,io=uring|sync]]...\n"
	    "                  [--net tap=NAME|tapfd=N[,mac=MAC][,id=NAME]]... [--rng]\n"
	    "                  [--vsock cid=N,uds=PATH[,id=NAME]]\n"
	    "                  [--seccomp kill|log|off] [--jail SPEC]\n"
	    "                  [--api-sock PATH] [--console-max SIZE] [--debug-exit]\n"
	    "       kvmini run --config-file FILE [--api-sock PATH]\n"
	    "       kvmini run --api-sock PATH\n"
	    "       kvmini run --demo\n"
	    "       kvmini [--state-dir DIR] define FILE.xml | undefine NAME\n"
	    "       kvmini [--state-dir DIR] start NAME [--console] | shutdown NAME [--timeout S]\n"
	    "                    | destroy NAME | reboot NAME | suspend NAME | resume NAME\n"
	    "                    | list [--all] [--json] | dominfo NAME | dumpxml NAME\n"
	    "                    | console NAME\n"
	    "       kvmini --version\n"
	    "\n"
	    "  --kernel FILE     ELF vmlinux with a PVH note, or a bzImage\n"
	    "  --initrd FILE     initial ramdisk\n"
	    "  --cmdline STR     kernel command line (default: " SPEC_DEFAULT_BOOT_ARGS ")\n"
	    "  --cpus N          vCPUs, 1-64 (default 1)\n"
	    "  --memory SIZE     guest RAM in whole MiB: 512 or 512M, 2G (default 128M)\n"
	    "  --reboot ACTION   on guest reboot: exit (status 8) or restart\n"
	    "  --disk SPEC       a virtio-blk disk (raw file or block device); repeatable;\n"
	    "                    cache=writeback (default), unsafe (no FLUSH) or none (O_DIRECT)\n"
	    "  --net SPEC        a virtio-net NIC on a tap (created if missing); repeatable\n"
	    "  --rng             a virtio-rng device fed by getrandom()\n"
	    "  --vsock SPEC      a virtio-vsock device: the host connects to PATH and\n"
	    "                    sends \"CONNECT <port>\\n\"; guest connections to port P\n"
	    "                    reach PATH_P\n"
	    "  --seccomp MODE    per-thread syscall filters: kill (default), log, off\n"
	    "  --jail SPEC       DIR[,uid=N][,gid=N][,netns|netns=PATH][,cgroup=FILE=VALUE]...:\n"
	    "                    run in namespaces, pivot_root'ed into DIR, as uid/gid N\n"
	    "                    (default 65534), in a new or the given network namespace,\n"
	    "                    in a cgroup leaf with these limits (cgroup=pids.max=64);\n"
	    "                    with --api-sock, the socket and API paths are in DIR\n"
	    "  --api-sock PATH   serve Firecracker's REST API on this Unix socket; without\n"
	    "                    a kernel, wait for PUT /actions InstanceStart\n"
	    "  --config-file F   the whole VM as JSON, in Firecracker's --config-file format\n"
	    "  --console-sock P  also serve the serial console on this Unix socket\n"
	    "  --console-max SIZE  cap the console's output file (default 16M; 0: none):\n"
	    "                    past it, only the last half is kept\n"
	    "  --demo            boot the guest kit from guest/build.sh\n"
	    "  --debug-exit      for test guests: a write of V to port 0xf4 exits with\n"
	    "                    status (V << 1) | 1, as QEMU's isa-debug-exit\n"
	    "\n"
	    "Console: the guest's serial port is stdin/stdout; Ctrl-A x quits.\n",
	    out);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kvmini: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_BAD_INPUT;
}

/* A JSON integer for a decimal number that is all digits, or NULL. */
static json_t *number(const char *s)
{
	char *end;
	long long n;

	if (!s || *s < '0' || *s > '9')
		return NULL;
	errno = 0;
	n = strtoll(s, &end, 10);
	return errno || *end ? NULL : json_integer(n);
}

/* One change to the spec, through its codec; says which flag failed. */
static int put(struct run_options *o, const char *flag, const char *arg,
	       enum config_section section, json_t *body, bool patch)
{
	struct config_error err;
	int ret = body ? config_put(&o->spec, section, body, patch, &err) : -1;

	if (!body)
		snprintf(err.msg, sizeof(err.msg), "out of memory");
	json_decref(body);
	return ret ? bad("%s %s: %s", flag, arg ? arg : "", err.msg) : 0;
}

/* A key of a device flag ("ro", "path=") and the field it sets. */
struct device_key {
	const char *key;
	const char *field; /* "kvmini.X": X in the item's "kvmini" object */
	enum {
		K_STRING,
		K_TRUE,
		K_INT,
		K_CHOICE
	} kind;
	const char *const *choices; /* K_CHOICE: CLI value, JSON value, ... */
};

struct device_flag {
	const char *flag;
	enum config_section section;
	const char *id_field, *id_prefix; /* an id is made when none is given */
	const struct device_key *keys;
	const char *usage;
};

static const char *const io_choices[] = { "uring", "Async", "sync", "Sync", NULL };
/* "none" is QEMU's: O_DIRECT, with FLUSH still offered. */
static const char *const cache_choices[] = { "writeback", "Writeback", "unsafe", "Unsafe",
					     "none",	  "Writeback", NULL };

static const struct device_key disk_keys[] = {
	{ "path", "path_on_host", K_STRING, NULL },
	{ "ro", "is_read_only", K_TRUE, NULL },
	{ "root", "is_root_device", K_TRUE, NULL },
	{ "id", "drive_id", K_STRING, NULL },
	{ "partuuid", "partuuid", K_STRING, NULL },
	{ "io", "io_engine", K_CHOICE, io_choices },
	{ "cache", "cache_type", K_CHOICE, cache_choices },
	{ NULL, NULL, 0, NULL },
};
static const struct device_key net_keys[] = {
	{ "tap", "host_dev_name", K_STRING, NULL },
	{ "tapfd", "kvmini.tap_fd", K_INT, NULL },
	{ "mac", "guest_mac", K_STRING, NULL },
	{ "id", "iface_id", K_STRING, NULL },
	{ NULL, NULL, 0, NULL },
};
static const struct device_key vsock_keys[] = {
	{ "cid", "guest_cid", K_INT, NULL },
	{ "uds", "uds_path", K_STRING, NULL },
	{ "id", "vsock_id", K_STRING, NULL },
	{ NULL, NULL, 0, NULL },
};

static const struct device_flag disk_flag = {
	"--disk",
	SECTION_DRIVE,
	"drive_id",
	"drive",
	disk_keys,
	"path=FILE[,ro][,root][,id=NAME][,partuuid=U][,cache=writeback|unsafe|none]"
	"[,io=uring|sync]"
};
static const struct device_flag net_flag = { "--net",	 SECTION_NET,
					     "iface_id", "eth",
					     net_keys,	 "tap=NAME|tapfd=N[,mac=MAC][,id=NAME]" };
static const struct device_flag vsock_flag = {
	"--vsock", SECTION_VSOCK, NULL, NULL, vsock_keys, "cid=N,uds=PATH[,id=NAME]"
};

static void set_field(json_t *body, const char *field, json_t *v)
{
	json_t *inner;

	if (strncmp(field, "kvmini.", 7)) {
		json_object_set_new(body, field, v);
		return;
	}
	inner = json_object_get(body, "kvmini");
	if (!inner) {
		inner = json_object();
		json_object_set_new(body, "kvmini", inner);
	}
	json_object_set_new(inner, field + 7, v);
}

/* The JSON value of one key=value item, or NULL when it does not fit the key. */
static json_t *key_value(const struct device_key *k, const char *value, json_t *body)
{
	switch (k->kind) {
	case K_STRING:
		return value ? json_string(value) : NULL;
	case K_TRUE:
		return value ? NULL : json_true();
	case K_INT:
		return number(value);
	case K_CHOICE:
		for (int i = 0; value && k->choices[i]; i += 2)
			if (!strcmp(value, k->choices[i])) {
				if (k->choices == cache_choices && !strcmp(value, "none"))
					set_field(body, "kvmini.direct", json_true());
				return json_string(k->choices[i + 1]);
			}
	}
	return NULL;
}

/* The body of "--disk path=F,ro" and the like: keys → fields. NULL after saying why. */
static json_t *device_body(const struct device_flag *d, char *items)
{
	json_t *body = json_object(), *v;
	char *key, *value;

	if (d->section == SECTION_DRIVE)
		json_object_set_new(body, "is_root_device", json_false());
	while (option_next(&items, &key, &value)) {
		const struct device_key *k = d->keys;

		while (k->key && strcmp(k->key, key))
			k++;
		v = k->key ? key_value(k, value, body) : NULL;
		if (!v) {
			bad("%s: cannot parse '%s%s%s' (expected %s)", d->flag, key,
			    value ? "=" : "", value ? value : "", d->usage);
			json_decref(body);
			return NULL;
		}
		set_field(body, k->field, v);
	}
	/* A tap handed over as an fd has no name. */
	if (d->section == SECTION_NET && !json_object_get(body, "host_dev_name") &&
	    json_object_get(body, "kvmini"))
		json_object_set_new(body, "host_dev_name", json_string(""));
	return body;
}

static int parse_device(struct run_options *o, const struct device_flag *d, const char *arg)
{
	char *items = strdup(arg), id[32];
	json_t *body = items ? device_body(d, items) : NULL;
	const char *given;

	free(items);
	if (!body)
		return EXIT_BAD_INPUT;
	given = d->id_field ? json_string_value(json_object_get(body, d->id_field)) : NULL;
	if (d->id_field && !given) {
		spec_new_id(&o->spec, d->id_prefix, id, sizeof(id));
		json_object_set_new(body, d->id_field, json_string(id));
	} else if (given && (spec_disk(&o->spec, given) || spec_nic(&o->spec, given))) {
		json_decref(body);
		return bad("%s %s: id '%s' is already in use", d->flag, arg, given);
	}
	return put(o, d->flag, arg, d->section, body, false);
}

static int parse_cpus(struct run_options *o, const char *arg)
{
	json_t *n = number(arg);

	if (!n)
		return bad("--cpus '%s' is not a number", arg);
	return put(o, "--cpus", arg, SECTION_MACHINE, json_pack("{s:o}", "vcpu_count", n), true);
}

static int parse_memory(struct run_options *o, const char *arg)
{
	uint64_t bytes;

	if (parse_size(arg, &bytes))
		return bad("--memory '%s' is not a size (try 512M or 2G)", arg);
	if (bytes % MiB)
		return bad("--memory %s is not a whole number of MiB", arg);
	return put(o, "--memory", arg, SECTION_MACHINE,
		   json_pack("{s:I}", "mem_size_mib", (json_int_t)(bytes / MiB)), true);
}

static int parse_console_max(struct run_options *o, const char *arg)
{
	uint64_t bytes;

	if (parse_size(arg, &bytes) || bytes > (1ULL << 40))
		return bad("--console-max '%s' is not a size (try 16M)", arg);
	return put(o, "--console-max", arg, SECTION_KVMINI,
		   json_pack("{s:I}", "console_max", (json_int_t)bytes), true);
}

/* The index of @arg in the NULL-terminated @names, or -1. */
static int choice(const char *arg, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(arg, names[i]))
			return i;
	return -1;
}

static int parse_seccomp(const char *arg, struct run_options *opts)
{
	static const char *const names[] = { "kill", "log", "off", NULL };
	static const int modes[] = { SECCOMP_KILL, SECCOMP_LOG, SECCOMP_OFF };
	int i = choice(arg, names);

	if (i < 0)
		return bad("--seccomp '%s': use kill, log or off", arg);
	opts->seccomp = modes[i];
	return 0;
}

/* What the flags say that is set in one piece at the end. */
struct boot_flags {
	const char *kernel, *initrd, *cmdline;
	bool cpus, devices;
};

/* One option of "kvmini run": 0, or the exit status after saying why. */
static int parse_option(int c, char *arg, struct run_options *o, struct boot_flags *b)
{
	b->devices |= strchr("kicDNRVd", c) != NULL;
	switch (c) {
	case 'k':
		b->kernel = arg;
		return 0;
	case 'i':
		b->initrd = arg;
		return 0;
	case 'c':
		b->cmdline = arg;
		return 0;
	case 'n':
		b->cpus = true;
		return parse_cpus(o, arg);
	case 'm':
		return parse_memory(o, arg);
	case 'r':
		return put(o, "--reboot", arg, SECTION_KVMINI, json_pack("{s:s}", "on_reboot", arg),
			   true);
	case 'D':
		return parse_device(o, &disk_flag, arg);
	case 'N':
		return parse_device(o, &net_flag, arg);
	case 'V':
		return parse_device(o, &vsock_flag, arg);
	case 'R':
		return put(o, "--rng", NULL, SECTION_ENTROPY, json_object(), false);
	case 'S':
		return parse_seccomp(arg, o);
	case 'J':
		o->jailed = true;
		return jail_config_parse(arg, &o->jail) ? EXIT_BAD_INPUT : 0;
	case 'd':
		o->demo = true;
		return 0;
	case 'A':
		o->api_sock = arg;
		return 0;
	case 'F':
		return 0; /* read before the other flags */
	case 'C':
		return put(o, "--console-sock", arg, SECTION_KVMINI,
			   json_pack("{s:s}", "console_sock", arg), true);
	case 'X':
		return put(o, "--debug-exit", NULL, SECTION_KVMINI,
			   json_pack("{s:b}", "debug_exit", 1), true);
	case 'L':
		return parse_console_max(o, arg);
	}
	return -1;
}

/*
 * --demo boots the guest kit that "make guest" builds: the minimal kernel
 * and the busybox initramfs, under $KVMINI_CACHE (make sets it to
 * build/cache) or ~/.cache/kvmini, on 2 vCPUs unless told otherwise.
 */
static int demo_boot(struct run_options *o, struct boot_flags *b)
{
	static char kernel[600], initrd[600];
	const char *cache = getenv("KVMINI_CACHE"), *home = getenv("HOME");

	if (cache)
		snprintf(kernel, sizeof(kernel), "%s/kernel-vmlinux", cache);
	else
		snprintf(kernel, sizeof(kernel), "%s/.cache/kvmini/kernel-vmlinux",
			 home ? home : "/root");
	snprintf(initrd, sizeof(initrd), "%.*s/initramfs.cpio.gz",
		 (int)(strrchr(kernel, '/') - kernel), kernel);
	if (access(kernel, R_OK) || access(initrd, R_OK))
		return bad("the demo guest is not built (no %s); run: make guest", kernel);
	b->kernel = kernel;
	b->initrd = initrd;
	if (!b->cmdline)
		b->cmdline = "console=ttyS0 panic=-1 quiet";
	return b->cpus ? 0 : parse_cpus(o, "2");
}

static int put_boot_source(struct run_options *o, struct boot_flags *b)
{
	json_t *body;

	if (o->demo && demo_boot(o, b))
		return EXIT_BAD_INPUT;
	if (!b->kernel && (b->initrd || b->cmdline))
		return bad("%s", "--initrd and --cmdline need --kernel");
	if (!b->kernel)
		return 0;
	body = json_pack("{s:s}", "kernel_image_path", b->kernel);
	if (b->initrd)
		json_object_set_new(body, "initrd_path", json_string(b->initrd));
	if (b->cmdline)
		json_object_set_new(body, "boot_args", json_string(b->cmdline));
	return put(o, "--kernel", b->kernel, SECTION_BOOT_SOURCE, body, false);
}

static int check_combinations(const struct run_options *o, const struct boot_flags *b)
{
	if (o->config_file && b->devices)
		return bad("%s", "--config-file describes the whole VM: drop --kernel, --initrd, "
				 "--cmdline, --disk, --net, --rng, --vsock and --demo");
	if (o->jailed && o->api_sock && o->api_sock[0] != '/')
		return bad("--api-sock %s: with --jail, an absolute path inside the jail",
			   o->api_sock);
	if (o->jailed && o->api_sock && (o->spec.ndisks || o->config_file))
		return bad("%s", "with --jail and --api-sock, drives come through the API, "
				 "with paths inside the jail: drop --disk and --config-file");
	if (!o->spec.kernel[0] && !o->api_sock && o->config_file)
		return bad("%s: no boot source: the VM needs a boot-source with a "
			   "kernel_image_path",
			   o->config_file);
	if (!o->spec.kernel[0] && !o->api_sock)
		return bad("%s", "no kernel given: use --kernel FILE, --config-file, --api-sock "
				 "or --demo");
	return 0;
}

static const struct option longopts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "cpus", required_argument, NULL, 'n' },
	{ "memory", required_argument, NULL, 'm' },
	{ "reboot", required_argument, NULL, 'r' },
	{ "disk", required_argument, NULL, 'D' },
	{ "rng", no_argument, NULL, 'R' },
	{ "vsock", required_argument, NULL, 'V' },
	{ "net", required_argument, NULL, 'N' },
	{ "seccomp", required_argument, NULL, 'S' },
	{ "jail", required_argument, NULL, 'J' },
	{ "demo", no_argument, NULL, 'd' },
	{ "api-sock", required_argument, NULL, 'A' },
	{ "config-file", required_argument, NULL, 'F' },
	{ "console-sock", required_argument, NULL, 'C' },
	{ "debug-exit", no_argument, NULL, 'X' },
	{ "console-max", required_argument, NULL, 'L' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The config file comes first, whatever its place: the flags change what it says. */
static int load_config_file(int argc, char **argv, struct run_options *o)
{
	struct config_error err;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1)
		if (c == 'F')
			o->config_file = optarg;
	if (o->config_file && config_load(o->config_file, &o->spec, &err))
		return bad("%s", err.msg);
	return 0;
}

int cli_parse_run(int argc, char **argv, struct run_options *opts)
{
	struct boot_flags boot = { 0 };
	int c, ret;

	memset(opts, 0, sizeof(*opts));
	opts->seccomp = -1; /* the build's default */
	spec_init(&opts->spec);
	if (load_config_file(argc, argv, opts))
		return EXIT_BAD_INPUT;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == 'h') {
			cli_usage(stdout);
			exit(0);
		}
		if (c == ':')
			return bad("%s needs a value", argv[optind - 1]);
		ret = parse_option(c, optarg, opts, &boot);
		if (ret < 0)
			return bad("unknown option '%s' (see kvmini --help)", argv[optind - 1]);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	ret = put_boot_source(opts, &boot);
	return ret ? ret : check_combinations(opts, &boot);
}
