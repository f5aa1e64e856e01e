// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "console.h"
#include "security/jail.h"
#include "security/seccomp.h"
#include "util.h"
#include "vm.h"

#define KVMINI_VERSION "0.1.0"

uint64_t kvmini_start_ns;

/* Workarounds an instruction-emulating KVM (kvm_pvm) needs; see README. */
#define EMULATED_HOST_CMDLINE                                                     \
	"console=ttyS0 noxsave clearcpuid=popcnt,smap no_int3_selftest panic=-1 " \
	"reboot=t"

static int host_kvm_is_emulated(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

/* Points the demo at the guest kit that "make guest" builds. */
static int demo_config(struct run_options *opts, char *kernel, char *initrd, size_t len)
{
	const char *cache = getenv("KVMINI_CACHE");
	const char *home = getenv("HOME");
	char dir[512];

	if (cache)
		snprintf(dir, sizeof(dir), "%s", cache);
	else
		snprintf(dir, sizeof(dir), "%s/.cache/kvmini", home ? home : "/root");
	/*
	 * Where KVM emulates ring 0, unpacking busybox takes a minute and its
	 * userspace cannot run anyway: boot the 10 KiB init instead.
	 */
	snprintf(kernel, len, "%s/kernel-vmlinux", dir);
	snprintf(initrd, len, "%s/%s", dir,
		 host_kvm_is_emulated() ? "tiny-initramfs.cpio" : "initramfs.cpio.gz");
	if (access(kernel, R_OK) || access(initrd, R_OK)) {
		log_error("the demo guest is not built (no %s); run: make guest", kernel);
		return EXIT_BAD_INPUT;
	}
	opts->vm.kernel = kernel;
	opts->vm.initrd = initrd;
	if (opts->vm.cpus == 1)
		opts->vm.cpus = 2;
	if (!*opts->vm.cmdline) {
		if (host_kvm_is_emulated()) {
			log_info("this host's KVM emulates guest ring 0 (kvm_pvm): the demo "
				 "boots Linux to \"Run /init\"; userspace needs hardware KVM");
			opts->vm.cmdline = EMULATED_HOST_CMDLINE;
		} else {
			opts->vm.cmdline = "console=ttyS0 panic=-1";
		}
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct run_options opts;
	char demo_kernel[600], demo_initrd[600];
	uint8_t *kernel, *initrd = NULL;
	size_t kernel_len, initrd_len = 0;
	int code = cli_parse_run(argc, argv, &opts);

	if (code)
		return code;
	if ((int)opts.seccomp >= 0)
		seccomp_set_mode(opts.seccomp);
	if (opts.demo) {
		code = demo_config(&opts, demo_kernel, demo_initrd, sizeof(demo_kernel));
		if (code)
			return code;
	}
	kernel = read_file(opts.vm.kernel, "kernel", &kernel_len);
	if (!kernel)
		return EXIT_BAD_INPUT;
	if (opts.vm.initrd) {
		initrd = read_file(opts.vm.initrd, "initrd", &initrd_len);
		code = !initrd ? EXIT_BAD_INPUT : 0;
		if (initrd && initrd_len >= opts.vm.mem_size) {
			log_error("initrd %s (%zu bytes) is larger than guest RAM; raise --memory",
				  opts.vm.initrd, initrd_len);
			code = EXIT_BAD_INPUT;
		}
		if (code)
			goto out;
	}
	if (opts.jailed) {
		/* Kernel and initrd are in memory already; disks move in. */
		code = jail_enter(&opts.jail, &opts.vm);
		if (code)
			goto out;
		opts.vm.jail = &opts.jail;
	}
	if (vm_block_signals()) {
		code = EXIT_HOST_ERROR;
		goto out;
	}
	console_raw_mode();
	for (;;) {
		struct vm *vm = calloc(1, sizeof(*vm));

		if (!vm) {
			code = EXIT_HOST_ERROR;
			break;
		}
		code = vm_create(vm, &opts.vm, kernel, kernel_len, initrd, initrd_len);
		if (!code)
			code = vm_run(vm);
		console_restore();
		if (vm->crash_report[0])
			fprintf(stderr, "kvmini: %s\n", vm->crash_report);
		vm_destroy(vm);
		free(vm);
		if (code != EXIT_REBOOT || opts.vm.on_reboot != REBOOT_RESTART)
			break;
		log_info("guest rebooted; restarting it");
		console_raw_mode();
	}
	if (code == EXIT_REBOOT)
		log_info("guest rebooted (exit status %d)", code);
out:
	free(kernel);
	free(initrd);
	return code;
}

int main(int argc, char **argv)
{
	kvmini_start_ns = now_ns();
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_BAD_INPUT : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("kvmini " KVMINI_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	log_error("unknown command '%s' (see kvmini --help)", argv[1]);
	return EXIT_BAD_INPUT;
}
