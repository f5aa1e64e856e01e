// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api/api.h"
#include "api/config.h"
#include "cli.h"
#include "manager/manager.h"
#include "console.h"
#include "security/jail.h"
#include "security/seccomp.h"
#include "util.h"
#include "vm.h"

uint64_t kvmini_start_ns;

/*
 * Points the demo at the guest kit that "make guest" builds: the minimal
 * kernel and the busybox initramfs, under $KVMINI_CACHE (make sets it to
 * build/cache) or ~/.cache/kvmini.
 */
static int demo_config(struct run_options *opts, char *kernel, char *initrd, size_t len)
{
	const char *cache = getenv("KVMINI_CACHE");
	const char *home = getenv("HOME");
	char dir[512];

	if (cache)
		snprintf(dir, sizeof(dir), "%s", cache);
	else
		snprintf(dir, sizeof(dir), "%s/.cache/kvmini", home ? home : "/root");
	snprintf(kernel, len, "%s/kernel-vmlinux", dir);
	snprintf(initrd, len, "%s/initramfs.cpio.gz", dir);
	if (access(kernel, R_OK) || access(initrd, R_OK)) {
		log_error("the demo guest is not built (no %s); run: make guest", kernel);
		return EXIT_BAD_INPUT;
	}
	opts->vm.kernel = kernel;
	opts->vm.initrd = initrd;
	if (opts->vm.cpus == 1)
		opts->vm.cpus = 2;
	if (!*opts->vm.cmdline)
		opts->vm.cmdline = "console=ttyS0 panic=-1 quiet";
	return 0;
}

/* The console's output goes to the API's serial_out_path when one is set. */
static int redirect_serial(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		log_error("serial output %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

struct images {
	uint8_t *kernel, *initrd;
	size_t kernel_len, initrd_len;
};

static void free_images(struct images *img)
{
	free(img->kernel);
	free(img->initrd);
	memset(img, 0, sizeof(*img));
}

/* Reads the kernel and initrd, and points the console where asked. */
static int load_images(const struct vm_config *config, struct images *img)
{
	memset(img, 0, sizeof(*img));
	if (config->serial_out && redirect_serial(config->serial_out))
		return EXIT_BAD_INPUT;
	img->kernel = read_file(config->kernel, "kernel", &img->kernel_len);
	if (!img->kernel)
		return EXIT_BAD_INPUT;
	if (!config->initrd)
		return 0;
	img->initrd = read_file(config->initrd, "initrd", &img->initrd_len);
	if (img->initrd && img->initrd_len < config->mem_size)
		return 0;
	if (img->initrd)
		log_error("initrd %s (%zu bytes) is larger than guest RAM; raise the memory",
			  config->initrd, img->initrd_len);
	free_images(img);
	return EXIT_BAD_INPUT;
}

/*
 * Each VM runs on a thread of its own, which installs the VM thread's
 * seccomp list (ROLE_MAIN) over the builder's that this thread holds:
 * filters are inherited and stack, so the thread that builds the next VM
 * on a restart, and creates its threads, must not hold that narrower one.
 */
static void *vm_run_thread(void *arg)
{
	struct vm *vm = arg;

	return (void *)(intptr_t)vm_run(vm);
}

static int run_vm(struct vm *vm)
{
	pthread_t thread;
	void *code;
	int err = pthread_create(&thread, NULL, vm_run_thread, vm);

	if (err) {
		log_error("starting the VM's thread: %s", strerror(err));
		return EXIT_HOST_ERROR;
	}
	pthread_setname_np(thread, "vmm");
	pthread_join(thread, &code);
	return (int)(intptr_t)code;
}

/*
 * Boots @config, again on each reboot if it asks for restarts, until the
 * guest stops for good. Sets *@started once a VM ran. Returns the exit code.
 */
static int boot(const struct vm_config *config, const struct images *img, struct api *api,
		bool *started)
{
	int code = 0;

	*started = false;
	if (seccomp_apply(ROLE_BUILDER))
		return EXIT_HOST_ERROR;
	console_raw_mode();
	while (!code) {
		struct vm *vm = calloc(1, sizeof(*vm));

		if (!vm) {
			code = EXIT_HOST_ERROR;
			break;
		}
		code = vm_create(vm, config, img->kernel, img->kernel_len, img->initrd,
				 img->initrd_len);
		if (api)
			api_vm_started(api, code ? NULL : vm, code);
		if (!code) {
			*started = true;
			code = run_vm(vm);
			if (api)
				api_vm_exited(api, code);
		}
		console_restore();
		if (vm->crash_report[0])
			fprintf(stderr, "kvmini: %s\n", vm->crash_report);
		vm_destroy(vm);
		free(vm);
		if (code != EXIT_REBOOT || config->on_reboot != REBOOT_RESTART)
			break;
		log_info("guest rebooted; restarting it");
		console_raw_mode();
		code = 0;
	}
	console_restore();
	if (code == EXIT_REBOOT)
		log_info("guest rebooted (exit status %d)", code);
	return code;
}

/*
 * With --api-sock: boots at once when the VM is fully described (flags or
 * --config-file), else on InstanceStart, retrying after a failed start.
 * After the guest stops the API keeps answering until a signal.
 */
static int serve_api(struct run_options *opts, json_t *doc, bool ready)
{
	struct api *api = api_create(opts->api_sock, doc);
	int signal_fd = vm_signal_fd(), code = 0;
	struct vm_config config = opts->vm;
	bool started = false;

	if (!api || signal_fd < 0) {
		api_destroy(api);
		if (signal_fd >= 0)
			close(signal_fd);
		return EXIT_HOST_ERROR;
	}
	while (!started) {
		if (!ready) {
			code = api_wait_start(api, signal_fd, &config);
			if (code)
				break;
			config.on_reboot = opts->vm.on_reboot;
			config.console_listen_fd = opts->vm.console_listen_fd;
		}
		{
			struct images img;

			code = load_images(&config, &img);
			if (code)
				api_vm_started(api, NULL, code);
			else
				code = boot(&config, &img, api, &started);
			free_images(&img);
		}
		if (ready)
			break;
	}
	if (code < 128 && started) {
		struct signalfd_siginfo si;

		log_info("guest stopped (exit status %d); the API answers until SIGTERM", code);
		while (read(signal_fd, &si, sizeof(si)) != sizeof(si) && errno == EINTR)
			;
	}
	close(signal_fd);
	api_destroy(api);
	return code;
}

static int cmd_run(int argc, char **argv)
{
	struct run_options opts;
	char demo_kernel[600], demo_initrd[600], cmdline[DISK_PATH_MAX + 256];
	struct config_error err;
	struct images img;
	json_t *doc = NULL;
	bool started;
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
	if (opts.config_file) {
		enum reboot_action on_reboot = opts.vm.on_reboot;

		doc = config_load(opts.config_file, &err);
		if (!doc || config_to_vm(doc, &opts.vm, cmdline, sizeof(cmdline), &err)) {
			log_error("%s", err.msg);
			json_decref(doc);
			return EXIT_BAD_INPUT;
		}
		opts.vm.on_reboot = on_reboot;
	} else if (opts.api_sock) {
		doc = config_from_vm(&opts.vm);
	}
	if (vm_block_signals()) {
		json_decref(doc);
		return EXIT_HOST_ERROR;
	}
	if (opts.console_sock) {
		opts.vm.console_listen_fd = unix_listen(opts.console_sock, "--console-sock");
		if (opts.vm.console_listen_fd < 0) {
			json_decref(doc);
			return EXIT_BAD_INPUT;
		}
	}
	if (opts.api_sock) {
		code = serve_api(&opts, doc, opts.vm.kernel != NULL);
		goto out;
	}
	code = load_images(&opts.vm, &img);
	if (!code && opts.jailed) {
		/* The kernel and initrd are read before, the disks moved in by, the jail. */
		code = jail_enter(&opts.jail, &opts.vm);
		opts.vm.jail = &opts.jail;
	}
	if (!code)
		code = boot(&opts.vm, &img, NULL, &started);
	free_images(&img);
	json_decref(doc);
out:
	if (opts.console_sock) {
		close(opts.vm.console_listen_fd);
		unlink(opts.console_sock);
	}
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
	if (manager_command(argv[1]))
		return manager_exec(argv);
	log_error("unknown command '%s' (see kvmini --help)", argv[1]);
	return EXIT_BAD_INPUT;
}
