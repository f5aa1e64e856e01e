// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
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
	/* Readable too: a capped log is cut down by reading its tail. */
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		log_error("serial output %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The options only the command line sets, over a config from JSON. */
static void keep_cli_options(struct vm_config *config, const struct vm_config *cli)
{
	config->on_reboot = cli->on_reboot;
	config->debug_exit = cli->debug_exit;
	config->console_max = cli->console_max;
	config->console_listen_fd = cli->console_listen_fd;
	config->jail = cli->jail;
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

/*
 * A console output that is a regular file is capped (--console-max): the
 * VM's thread cuts it down, which takes reading it, and stdout is often
 * write-only. So it is opened again for reading, now, before any jail or
 * seccomp list. -1 (no cap, with a warning) if it cannot be.
 */
static int console_read_fd = -1;

static int open_console_for_reading(const struct vm_config *config)
{
	struct stat st;
	int fd;

	if (!config->console_max || fstat(STDOUT_FILENO, &st) || !S_ISREG(st.st_mode))
		return -1;
	if ((fcntl(STDOUT_FILENO, F_GETFL) & O_ACCMODE) == O_RDWR)
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
	else
		fd = open("/proc/self/fd/1", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		log_warn("console output: cannot open it for reading (%s), so it is not capped",
			 strerror(errno));
	return fd;
}

/* Reads the kernel and initrd, and points the console where asked. */
static int load_images(struct vm_config *config, struct images *img)
{
	memset(img, 0, sizeof(*img));
	if (config->serial_out && redirect_serial(config->serial_out))
		return EXIT_BAD_INPUT;
	/* Once for stdout, before any jail; again for each serial_out_path. */
	if (config->serial_out) {
		if (console_read_fd >= 0)
			close(console_read_fd);
		console_read_fd = open_console_for_reading(config);
	}
	config->console_read_fd = console_read_fd;
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
	/*
	 * The jail's uid drop cleared every thread's parent-death signal and
	 * the VM's thread, which set it again, is gone: this one outlives it.
	 */
	if (vm->config->jail)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
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
			keep_cli_options(&config, &opts->vm);
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

/*
 * As with Firecracker's jailer: the API socket, and every path the API is
 * given (kernel, drives, sockets), lie inside the jail; the host reaches
 * the socket at <jail>/<path>. Disks given on the command line are bound
 * in as without the API.
 */
static int enter_jail_for_api(struct run_options *opts)
{
	char dir[DISK_PATH_MAX];
	int code = jail_enter(&opts->jail, &opts->vm);

	if (code)
		return code;
	opts->vm.jail = &opts->jail;
	snprintf(dir, sizeof(dir), "%s", opts->api_sock);
	for (char *p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			log_error("--api-sock %s: creating %s in the jail: %s", opts->api_sock, dir,
				  strerror(errno));
			return EXIT_HOST_ERROR;
		}
		*p = '/';
	}
	return 0;
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
		struct vm_config cli = opts.vm;

		doc = config_load(opts.config_file, &err);
		if (!doc || config_to_vm(doc, &opts.vm, cmdline, sizeof(cmdline), &err)) {
			log_error("%s", err.msg);
			json_decref(doc);
			return EXIT_BAD_INPUT;
		}
		keep_cli_options(&opts.vm, &cli);
	} else if (opts.api_sock) {
		doc = config_from_vm(&opts.vm);
	}
	if (vm_block_signals()) {
		json_decref(doc);
		return EXIT_HOST_ERROR;
	}
	console_read_fd = open_console_for_reading(&opts.vm);
	if (opts.console_sock) {
		opts.vm.console_listen_fd = unix_listen(opts.console_sock, "--console-sock");
		if (opts.vm.console_listen_fd < 0) {
			json_decref(doc);
			return EXIT_BAD_INPUT;
		}
	}
	if (opts.api_sock) {
		code = opts.jailed ? enter_jail_for_api(&opts) : 0;
		if (!code)
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
