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
	    "                  [--seccomp kill|log|off] [--jail DIR[,uid=N][,gid=N][,netns]]\n"
	    "                  [--api-sock PATH]\n"
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
	    "  --jail SPEC       run in namespaces, pivot_root'ed into DIR, as uid/gid N\n"
	    "                    (default 65534), optionally in a new network namespace\n"
	    "  --api-sock PATH   serve Firecracker's REST API on this Unix socket; without\n"
	    "                    a kernel, wait for PUT /actions InstanceStart\n"
	    "  --config-file F   the whole VM as JSON, in Firecracker's --config-file format\n"
	    "  --console-sock P  also serve the serial console on this Unix socket\n"
	    "  --demo            boot the guest kit from guest/build.sh\n"
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->seccomp = -1; /* the build's default */
	opts->vm.cpus = 1;
	opts->vm.mem_size = DEFAULT_MEM_SIZE;
	opts->vm.cmdline = "";
	opts->vm.console_listen_fd = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		char *end;
		unsigned long n;

		switch (c) {
		case 'k':
			opts->vm.kernel = optarg;
			break;
		case 'i':
			opts->vm.initrd = optarg;
			break;
		case 'c':
			opts->vm.cmdline = optarg;
			break;
		case 'n':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-')
				return bad("--cpus '%s' is not a number", optarg);
			if (n < 1 || n > MAX_VCPUS)
				return bad("--cpus %s is out of range: kvmini supports 1-64 vCPUs",
					   optarg);
			opts->vm.cpus = n;
			break;
		case 'm':
			if (parse_size(optarg, &opts->vm.mem_size))
				return bad("--memory '%s' is not a size (try 512M or 2G)", optarg);
			if (opts->vm.mem_size < MIN_RAM_SIZE)
				return bad("--memory %s is too small: at least 4M is needed",
					   optarg);
			if (opts->vm.mem_size > (1ULL << 40))
				return bad("--memory %s is too large: at most 1T", optarg);
			if (opts->vm.mem_size % 4096)
				return bad("--memory %s is not a whole number of 4K pages", optarg);
			break;
		case 'r':
			if (!strcmp(optarg, "exit"))
				opts->vm.on_reboot = REBOOT_EXIT;
			else if (!strcmp(optarg, "restart"))
				opts->vm.on_reboot = REBOOT_RESTART;
			else
				return bad("--reboot '%s': use exit or restart", optarg);
			break;
		case 'D':
			if (opts->vm.ndisks == MAX_DISKS)
				return bad("--disk %s: at most 8 disks", optarg);
			if (disk_config_parse(optarg, &opts->vm.disks[opts->vm.ndisks]))
				return EXIT_BAD_INPUT;
			opts->vm.ndisks++;
			break;
		case 'V':
			if (vsock_config_parse(optarg, &opts->vm.vsock))
				return EXIT_BAD_INPUT;
			break;
		case 'R':
			opts->vm.rng = true;
			break;
		case 'N':
			if (opts->vm.nnics == MAX_NICS)
				return bad("--net %s: at most 4 network interfaces", optarg);
			if (net_config_parse(optarg, &opts->vm.nics[opts->vm.nnics]))
				return EXIT_BAD_INPUT;
			opts->vm.nnics++;
			break;
		case 'S':
			if (!strcmp(optarg, "kill"))
				opts->seccomp = SECCOMP_KILL;
			else if (!strcmp(optarg, "log"))
				opts->seccomp = SECCOMP_LOG;
			else if (!strcmp(optarg, "off"))
				opts->seccomp = SECCOMP_OFF;
			else
				return bad("--seccomp '%s': use kill, log or off", optarg);
			break;
		case 'J':
			if (jail_config_parse(optarg, &opts->jail))
				return EXIT_BAD_INPUT;
			opts->jailed = true;
			break;
		case 'd':
			opts->demo = true;
			break;
		case 'A':
			opts->api_sock = optarg;
			break;
		case 'F':
			opts->config_file = optarg;
			break;
		case 'C':
			opts->console_sock = optarg;
			break;
		case 'h':
			cli_usage(stdout);
			exit(0);
		case ':':
			return bad("%s needs a value", argv[optind - 1]);
		default:
			return bad("unknown option '%s' (see kvmini --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (opts->config_file && (opts->vm.kernel || opts->demo || opts->vm.ndisks ||
				  opts->vm.nnics || opts->vm.rng || opts->vm.vsock.enabled))
		return bad("%s", "--config-file describes the whole VM: drop --kernel, --disk, "
				 "--net, --rng, --vsock and --demo");
	if (opts->jailed && opts->api_sock)
		return bad("%s", "--jail with --api-sock is not supported yet");
	if (!opts->vm.kernel && !opts->demo && !opts->api_sock && !opts->config_file)
		return bad("%s", "no kernel given: use --kernel FILE, --config-file, --api-sock "
				 "or --demo");
	return 0;
}
