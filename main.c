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
#include "cli.h"
#include "manager/manager.h"
#include "console.h"
#include "security/jail.h"
#include "security/seccomp.h"
#include "util.h"
#include "vm.h"

uint64_t kvmini_start_ns;

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

static void free_images(struct vm_host *host)
{
	free((void *)host->kernel);
	free((void *)host->initrd);
	host->kernel = host->initrd = NULL;
	host->kernel_len = host->initrd_len = 0;
}

/*
 * A console output that is a regular file is capped (--console-max): the
 * VM's thread cuts it down, which takes reading it, and stdout is often
 * write-only. So it is opened again for reading, now, before any jail or
 * seccomp list. -1 (no cap, with a warning) if it cannot be.
 */
static int console_read_fd = -1;

static int open_console_for_reading(const struct vm_spec *spec)
{
	struct stat st;
	int fd;

	if (!spec->console_max || fstat(STDOUT_FILENO, &st) || !S_ISREG(st.st_mode))
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
static int load_images(const struct vm_spec *spec, struct vm_host *host)
{
	uint8_t *kernel, *initrd = NULL;

	if (spec->serial_out[0] && redirect_serial(spec->serial_out))
		return EXIT_BAD_INPUT;
	/* Once for stdout, before any jail; again for each serial_out_path. */
	if (spec->serial_out[0]) {
		if (console_read_fd >= 0)
			close(console_read_fd);
		console_read_fd = open_console_for_reading(spec);
	}
	host->console_read_fd = console_read_fd;
	kernel = read_file(spec->kernel, "kernel", &host->kernel_len);
	if (!kernel)
		return EXIT_BAD_INPUT;
	host->kernel = kernel;
	if (!spec->initrd[0])
		return 0;
	initrd = read_file(spec->initrd, "initrd", &host->initrd_len);
	host->initrd = initrd;
	if (initrd && host->initrd_len < spec->mem_size)
		return 0;
	if (initrd)
		log_error("initrd %s (%zu bytes) is larger than guest RAM; raise the memory",
			  spec->initrd, host->initrd_len);
	free_images(host);
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
	if (vm->host->jail)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	return (int)(intptr_t)code;
}

/*
 * Boots @spec, again on each reboot if it asks for restarts, until the
 * guest stops for good. Sets *@started once a VM ran. Returns the exit code.
 */
static int boot(const struct vm_spec *spec, const struct vm_host *host, struct api *api,
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
		code = vm_create(vm, spec, host);
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
		if (code != EXIT_REBOOT || spec->on_reboot != REBOOT_RESTART)
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
static int serve_api(struct run_options *opts, struct vm_host *host)
{
	struct api *api = api_create(opts->api_sock, &opts->spec);
	int signal_fd = vm_signal_fd(), code = 0;
	bool ready = opts->spec.kernel[0], started = false;
	struct vm_spec *spec = malloc(sizeof(*spec));

	if (!api || signal_fd < 0 || !spec) {
		code = EXIT_HOST_ERROR;
		goto out;
	}
	*spec = opts->spec;
	while (!started) {
		if (!ready && (code = api_wait_start(api, signal_fd, spec)))
			break;
		code = load_images(spec, host);
		if (code)
			api_vm_started(api, NULL, code);
		else
			code = boot(spec, host, api, &started);
		free_images(host);
		if (ready)
			break;
	}
	if (code < 128 && started) {
		struct signalfd_siginfo si;

		log_info("guest stopped (exit status %d); the API answers until SIGTERM", code);
		while (read(signal_fd, &si, sizeof(si)) != sizeof(si) && errno == EINTR)
			;
	}
out:
	if (signal_fd >= 0)
		close(signal_fd);
	api_destroy(api);
	free(spec);
	return code;
}

/*
 * As with Firecracker's jailer: the API socket, and every path the API is
 * given (kernel, drives, sockets), lie inside the jail; the host reaches
 * the socket at <jail>/<path>.
 */
static int enter_jail_for_api(struct run_options *opts, struct vm_host *host)
{
	char dir[SPEC_PATH_MAX];
	int code = jail_enter(&opts->jail, &opts->spec, host);

	if (code)
		return code;
	host->jail = &opts->jail;
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

static int run_without_api(struct run_options *opts, struct vm_host *host)
{
	bool started;
	int code = load_images(&opts->spec, host);

	if (!code && opts->jailed) {
		/* The kernel and initrd are read before, the disks moved in by, the jail. */
		code = jail_enter(&opts->jail, &opts->spec, host);
		host->jail = &opts->jail;
	}
	if (!code)
		code = boot(&opts->spec, host, NULL, &started);
	free_images(host);
	return code;
}

static int cmd_run(int argc, char **argv)
{
	struct run_options *opts = malloc(sizeof(*opts));
	struct vm_host host = { .console_read_fd = -1, .console_listen_fd = -1 };
	int code = opts ? cli_parse_run(argc, argv, opts) : EXIT_HOST_ERROR;

	if (code)
		goto out;
	if ((int)opts->seccomp >= 0)
		seccomp_set_mode(opts->seccomp);
	if (vm_block_signals()) {
		code = EXIT_HOST_ERROR;
		goto out;
	}
	console_read_fd = open_console_for_reading(&opts->spec);
	if (opts->spec.console_sock[0]) {
		host.console_listen_fd = unix_listen(opts->spec.console_sock, "console socket");
		if (host.console_listen_fd < 0) {
			code = EXIT_BAD_INPUT;
			goto out;
		}
	}
	if (opts->api_sock) {
		code = opts->jailed ? enter_jail_for_api(opts, &host) : 0;
		if (!code)
			code = serve_api(opts, &host);
	} else {
		code = run_without_api(opts, &host);
	}
	if (host.console_listen_fd >= 0) {
		close(host.console_listen_fd);
		unlink(opts->spec.console_sock);
	}
out:
	free(opts);
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
