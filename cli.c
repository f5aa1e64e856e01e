// SPDX-License-Identifier: MIT
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "cli.h"
#include "util.h"

void cli_usage(FILE *out)
{
	fputs(
	    "usage: kvmini run --kernel FILE [--initrd FILE] [--cmdline STR]\n"
	    "                  [--cpus N] [--memory SIZE] [--reboot exit|restart]\n"
	    "                  [--disk path=FILE[,ro][,id=NAME][,cache=none|writeback]]...\n"
	    "                  [--net tap=NAME|tapfd=N[,mac=MAC]]... [--rng]\n"
	    "                  [--vsock cid=N,uds=PATH]\n"
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
	    "  --cmdline STR     kernel command line\n"
	    "  --cpus N          vCPUs, 1-64 (default 1)\n"
	    "  --memory SIZE     guest RAM: 512 or 512M (MiB), 2G (default 256M)\n"
	    "  --reboot ACTION   on guest reboot: exit (status 8) or restart\n"
	    "  --disk SPEC       a virtio-blk disk (raw file or block device); repeatable\n"
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

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "kvmini: error: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_BAD_INPUT;
}

static int parse_cpus(const char *arg, struct vm_config *vm)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-')
		return bad("--cpus '%s' is not a number", arg);
	if (n < 1 || n > MAX_VCPUS)
		return bad("--cpus %s is out of range: kvmini supports 1-64 vCPUs", arg);
	vm->cpus = n;
	return 0;
}

static int parse_memory(const char *arg, struct vm_config *vm)
{
	if (parse_size(arg, &vm->mem_size))
		return bad("--memory '%s' is not a size (try 512M or 2G)", arg);
	if (vm->mem_size < MIN_RAM_SIZE)
		return bad("--memory %s is too small: at least 4M is needed", arg);
	if (vm->mem_size > (1ULL << 40))
		return bad("--memory %s is too large: at most 1T", arg);
	if (vm->mem_size % 4096)
		return bad("--memory %s is not a whole number of 4K pages", arg);
	return 0;
}

/* The index of @arg in the NULL-terminated @names, or -1. */
static int choice(const char *arg, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(arg, names[i]))
			return i;
	return -1;
}

static int parse_reboot(const char *arg, struct vm_config *vm)
{
	static const char *const names[] = { "exit", "restart", NULL };
	int i = choice(arg, names);

	if (i < 0)
		return bad("--reboot '%s': use exit or restart", arg);
	vm->on_reboot = i ? REBOOT_RESTART : REBOOT_EXIT;
	return 0;
}

static int parse_console_max(const char *arg, struct vm_config *vm)
{
	if (parse_size(arg, &vm->console_max))
		return bad("--console-max '%s' is not a size (try 16M)", arg);
	if (vm->console_max && vm->console_max < 4 * KiB)
		return bad("--console-max %s is too small: at least 4K, or 0 for no cap", arg);
	return 0;
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

/* One option of "kvmini run": 0, or the exit status after saying why. */
static int parse_option(int c, char *arg, struct run_options *opts)
{
	switch (c) {
	case 'k':
		opts->vm.kernel = arg;
		return 0;
	case 'i':
		opts->vm.initrd = arg;
		return 0;
	case 'c':
		opts->vm.cmdline = arg;
		return 0;
	case 'n':
		return parse_cpus(arg, &opts->vm);
	case 'm':
		return parse_memory(arg, &opts->vm);
	case 'r':
		return parse_reboot(arg, &opts->vm);
	case 'D':
		if (opts->vm.ndisks == MAX_DISKS)
			return bad("--disk %s: at most 8 disks", arg);
		if (disk_config_parse(arg, &opts->vm.disks[opts->vm.ndisks]))
			return EXIT_BAD_INPUT;
		opts->vm.ndisks++;
		return 0;
	case 'V':
		return vsock_config_parse(arg, &opts->vm.vsock) ? EXIT_BAD_INPUT : 0;
	case 'R':
		opts->vm.rng = true;
		return 0;
	case 'N':
		if (opts->vm.nnics == MAX_NICS)
			return bad("--net %s: at most 4 network interfaces", arg);
		if (net_config_parse(arg, &opts->vm.nics[opts->vm.nnics]))
			return EXIT_BAD_INPUT;
		opts->vm.nnics++;
		return 0;
	case 'S':
		return parse_seccomp(arg, opts);
	case 'J':
		opts->jailed = true;
		return jail_config_parse(arg, &opts->jail) ? EXIT_BAD_INPUT : 0;
	case 'd':
		opts->demo = true;
		return 0;
	case 'A':
		opts->api_sock = arg;
		return 0;
	case 'F':
		opts->config_file = arg;
		return 0;
	case 'C':
		opts->console_sock = arg;
		return 0;
	case 'X':
		opts->vm.debug_exit = true;
		return 0;
	case 'L':
		return parse_console_max(arg, &opts->vm);
	}
	return -1;
}

int cli_parse_run(int argc, char **argv, struct run_options *opts)
{
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
	int c, ret;

	memset(opts, 0, sizeof(*opts));
	opts->seccomp = -1; /* the build's default */
	opts->vm.cpus = 1;
	opts->vm.mem_size = DEFAULT_MEM_SIZE;
	opts->vm.console_max = DEFAULT_CONSOLE_MAX;
	opts->vm.cmdline = "";
	opts->vm.console_listen_fd = -1;
	opts->vm.console_read_fd = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == 'h') {
			cli_usage(stdout);
			exit(0);
		}
		if (c == ':')
			return bad("%s needs a value", argv[optind - 1]);
		ret = parse_option(c, optarg, opts);
		if (ret < 0)
			return bad("unknown option '%s' (see kvmini --help)", argv[optind - 1]);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (opts->config_file && (opts->vm.kernel || opts->demo || opts->vm.ndisks ||
				  opts->vm.nnics || opts->vm.rng || opts->vm.vsock.enabled))
		return bad("%s", "--config-file describes the whole VM: drop --kernel, --disk, "
				 "--net, --rng, --vsock and --demo");
	if (opts->jailed && opts->api_sock && opts->api_sock[0] != '/')
		return bad("--api-sock %s: with --jail, an absolute path inside the jail",
			   opts->api_sock);
	if (opts->jailed && opts->api_sock && (opts->vm.ndisks || opts->config_file))
		return bad("%s", "with --jail and --api-sock, drives come through the API, "
				 "with paths inside the jail: drop --disk and --config-file");
	if (!opts->vm.kernel && !opts->demo && !opts->api_sock && !opts->config_file)
		return bad("%s", "no kernel given: use --kernel FILE, --config-file, --api-sock "
				 "or --demo");
	return 0;
}
