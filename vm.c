// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "console.h"
#include "devices/serial.h"
#include "security/jail.h"
#include "security/seccomp.h"
#include "util.h"
#include "virtio/virtio.h"
#include "vm.h"

/* Every device of the base machine; adding one touches only this table. */
static int (*const device_inits[])(struct vm *) = {
	serial_init, i8042_init, acpi_pm_init, debug_exit_init, boot_marker_init,
};

void vm_request_exit(struct vm *vm, int code)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->lock);
	if (vm->exit_code < 0) {
		vm->exit_code = code;
		/* The requesting vCPU must not run the guest one more time. */
		__atomic_store_n(&vm->stopping, true, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&vm->pause_cond);
		if (write(vm->exit_event_fd, &one, sizeof(one)) < 0)
			abort(); /* an eventfd write cannot fail short of a bug */
	}
	pthread_mutex_unlock(&vm->lock);
}

void vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	if (kvm_irq_line(&vm->kvm, irq, level) < 0)
		log_warn("KVM_IRQ_LINE %u: %s", irq, strerror(errno));
}

int vm_add_acpi_device(struct vm *vm, const struct acpi_device *dev)
{
	if (vm->nacpi_devices == MAX_ACPI_DEVICES) {
		log_error("too many ACPI devices");
		return -1;
	}
	vm->acpi_devices[vm->nacpi_devices++] = *dev;
	return 0;
}

void *vm_alloc_device(struct vm *vm, size_t size)
{
	void *p;

	if (vm->nowned == MAX_OWNED)
		return NULL;
	p = calloc(1, size);
	if (p)
		vm->owned[vm->nowned++] = p;
	return p;
}

void vm_boot_marker(struct vm *vm)
{
	(void)vm;
	log_info("boot marker: %.3f ms since start", (now_ns() - kvmini_start_ns) / 1e6);
}

static int setup_memory(struct vm *vm)
{
	uint64_t high = vm->ram.size - vm->ram.low_size;

	bool dirty = vm->spec->track_dirty_pages;

	if (kvm_set_memory(&vm->kvm, 0, 0, vm->ram.low_size, vm->ram.host, dirty))
		return -1;
	if (high && kvm_set_memory(&vm->kvm, 1, MMIO_HOLE_END, high,
				   vm->ram.host + vm->ram.low_size, dirty))
		return -1;
	return 0;
}

static int setup_acpi(struct vm *vm)
{
	struct acpi_config config = {
		.ncpus = vm->ncpus,
		.devices = vm->acpi_devices,
		.ndevices = vm->nacpi_devices,
	};
	uint8_t *tables = gpa_to_host(&vm->ram, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE);
	uint8_t *floating = gpa_to_host(&vm->ram, MPTABLE_FLOATING_ADDR, 16);
	size_t used = tables ? acpi_build(tables, ACPI_TABLES_SIZE, ACPI_TABLES_ADDR, &config) : 0;
	uint64_t mp = ALIGN_UP(used, 16);

	/* The MP table follows the ACPI tables in the same reserved region. */
	if (!used || !floating ||
	    !mptable_build(tables + mp, ACPI_TABLES_SIZE - mp, ACPI_TABLES_ADDR + mp, vm->ncpus,
			   floating)) {
		log_error("ACPI and MP tables do not fit in %llu bytes",
			  (unsigned long long)ACPI_TABLES_SIZE);
		return -1;
	}
	return 0;
}

static int add_virtio_devices(struct vm *vm)
{
	const struct vm_spec *spec = vm->spec;
	const struct disk_config *root = spec_root_disk(spec);

	/* The root drive is vda: the command line names it so. */
	if (root && virtio_blk_add(vm, root))
		return -1;
	for (int i = 0; i < spec->ndisks; i++)
		if (&spec->disks[i] != root && virtio_blk_add(vm, &spec->disks[i]))
			return -1;
	for (int i = 0; i < spec->nnics; i++)
		if (virtio_net_add(vm, &spec->nics[i]))
			return -1;
	if (spec->rng && virtio_rng_add(vm))
		return -1;
	if (spec->vsock.enabled && virtio_vsock_add(vm, &spec->vsock))
		return -1;
	return 0;
}

/*
 * Every virtio device is in the DSDT (LNRO0005), where any ACPI kernel,
 * Debian's included, finds it. A kernel told acpi=off gets them as
 * virtio_mmio.device= instead: announcing both ways at once makes Linux
 * probe each device twice and log the second probe's -EBUSY.
 */
static char *build_cmdline(const struct vm *vm)
{
	size_t spec_len = SPEC_PATH_MAX + 128;
	char *cmdline = malloc(spec_len + vm->nvirtio * 48), *p;

	if (!cmdline)
		return NULL;
	if (spec_kernel_cmdline(vm->spec, cmdline, spec_len)) {
		log_error("the kernel command line is too long");
		free(cmdline);
		return NULL;
	}
	p = cmdline + strlen(cmdline);
	for (int i = 0; strstr(cmdline, "acpi=off") && i < vm->nvirtio; i++)
		p += sprintf(p, "%svirtio_mmio.device=4K@0x%llx:%u", p == cmdline ? "" : " ",
			     (unsigned long long)vm->virtio[i]->base, vm->virtio[i]->irq);
	return cmdline;
}

static int setup_vcpus(struct vm *vm)
{
	struct kvm_cpuid2 *supported = kvm_supported_cpuid(&vm->kvm);
	size_t cpuid_size;
	struct kvm_cpuid2 *cpuid;
	int ret = -1;

	if (!supported)
		return -1;
	cpuid_size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	cpuid = malloc(cpuid_size);
	if (!cpuid)
		goto out;
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		vcpu->vm = vm;
		vcpu->index = i;
		vcpu->fd = kvm_create_vcpu(&vm->kvm, i, &vcpu->run);
		if (vcpu->fd < 0)
			goto out;
		memcpy(cpuid, supported, cpuid_size);
		x86_cpuid_for_vcpu(cpuid, i, vm->ncpus);
		if (x86_init_vcpu(vcpu->fd, cpuid))
			goto out;
	}
	ret = 0;
out:
	free(cpuid);
	free(supported);
	return ret;
}

int vm_create(struct vm *vm, const struct vm_spec *spec, const struct vm_host *host)
{
	struct boot_args args = {
		.kernel = host->kernel,
		.kernel_len = host->kernel_len,
		.initrd = host->initrd,
		.initrd_len = host->initrd_len,
		.rsdp_addr = ACPI_TABLES_ADDR,
	};
	struct boot_setup setup;
	char *cmdline;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->spec = spec;
	vm->host = host;
	vm->ncpus = spec->cpus;
	vm->exit_code = -1;
	vm->ram.fd = -1;
	vm->kvm.sys_fd = vm->kvm.vm_fd = -1;
	vm->pio.name = "I/O port";
	vm->mmio.name = "MMIO";
	for (unsigned int i = 0; i < MAX_VCPUS; i++)
		vm->vcpus[i].fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->exit_event_fd = eventfd(0, EFD_CLOEXEC);
	if (vm->exit_event_fd < 0) {
		log_error("eventfd: %s", strerror(errno));
		return EXIT_HOST_ERROR;
	}

	ret = kvm_open(&vm->kvm, "/dev/kvm");
	if (ret)
		return ret;
	if (vm->ncpus > (unsigned int)vm->kvm.max_vcpus) {
		log_error("--cpus %u: this host's KVM allows at most %d vCPUs", vm->ncpus,
			  vm->kvm.max_vcpus);
		return EXIT_BAD_INPUT;
	}
	if (guest_ram_create(&vm->ram, spec->mem_size, spec->huge_pages) || setup_memory(vm))
		return EXIT_HOST_ERROR;
	if (kvm_create_irqchip(&vm->kvm))
		return EXIT_NO_KVM;
	for (size_t i = 0; i < ARRAY_SIZE(device_inits); i++)
		if (device_inits[i](vm))
			return EXIT_HOST_ERROR;
	if (add_virtio_devices(vm))
		return EXIT_BAD_INPUT;
	if (setup_acpi(vm))
		return EXIT_HOST_ERROR;
	cmdline = build_cmdline(vm);
	if (!cmdline)
		return EXIT_BAD_INPUT;
	args.cmdline = cmdline;
	ret = x86_load_kernel(&vm->ram, &args, &setup);
	free(cmdline);
	if (ret)
		return EXIT_BAD_INPUT;
	if (setup_vcpus(vm) || x86_init_boot_cpu(vm->vcpus[0].fd, &vm->ram, &setup))
		return EXIT_HOST_ERROR;
	return 0;
}

static void stop_vcpus(struct vm *vm)
{
	struct timespec deadline;

	pthread_mutex_lock(&vm->lock);
	__atomic_store_n(&vm->stopping, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->pause_cond); /* parked vCPUs leave too */
	for (unsigned int i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].running)
			vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_unlock(&vm->lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		if (!vm->vcpus[i].running)
			continue;
		/* A vCPU that will not stop must not keep the process alive. */
		if (pthread_timedjoin_np(vm->vcpus[i].thread, NULL, &deadline)) {
			log_error("vCPU %u did not stop; exiting anyway", i);
			console_restore();
			_exit(EXIT_HOST_ERROR);
		}
		vm->vcpus[i].running = false;
	}
}

static void exit_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

int vm_block_signals(void)
{
	sigset_t set;

	exit_signals(&set);
	sigaddset(&set, SIGUSR1); /* the vCPU kick; vCPU threads unblock it */
	signal(SIGPIPE, SIG_IGN);
	return pthread_sigmask(SIG_BLOCK, &set, NULL) ? -1 : 0;
}

/*
 * The console socket (kvmini's manager attaches here): one client at a
 * time, whose bytes go to the guest raw; it detaches itself.
 */
static void console_socket_event(struct vm *vm, struct pollfd *fds)
{
	if (fds[3].fd >= 0 && (fds[3].revents & POLLIN)) {
		int fd = accept4(fds[3].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0 && fds[4].fd >= 0) {
			static const char busy[] = "kvmini: the console is in use\r\n";

			if (write(fd, busy, sizeof(busy) - 1) < 0)
				log_warn("console: %s", strerror(errno));
			close(fd);
		} else if (fd >= 0) {
			fds[4].fd = fd;
			serial_attach(vm->serial, fd);
		}
	}
	if (fds[4].fd >= 0 && (fds[4].revents & (POLLIN | POLLHUP | POLLERR))) {
		uint8_t in[256];
		ssize_t n = read(fds[4].fd, in, sizeof(in));

		if (n > 0) {
			serial_receive(vm->serial, in, n);
		} else if (n == 0 || errno != EAGAIN) {
			serial_attach(vm->serial, -1);
			close(fds[4].fd);
			fds[4].fd = -1;
		}
	}
}

/* Keyboard input from stdin, with the Ctrl-A escape filtered out. */
static void console_input_event(struct vm *vm, struct console_filter *filter, struct pollfd *pfd)
{
	uint8_t in[256], out[512];
	ssize_t n = read(STDIN_FILENO, in, sizeof(in));
	long m;

	if (n <= 0) {
		pfd->fd = -1; /* EOF: the guest keeps running */
		return;
	}
	m = console_filter(filter, in, n, out);
	if (m < 0)
		vm_request_exit(vm, EXIT_QUIT);
	else if (m)
		serial_receive(vm->serial, out, m);
}

int vm_signal_fd(void)
{
	sigset_t set;
	int fd;

	exit_signals(&set);
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (fd < 0)
		log_error("signalfd: %s", strerror(errno));
	return fd;
}

int vm_run(struct vm *vm)
{
	struct console_filter filter = { 0 };
	struct pollfd fds[6];
	int signal_fd = vm_signal_fd(), code;

	if (signal_fd < 0)
		return EXIT_HOST_ERROR;
	if (vm->host->jail && jail_drop_privileges(vm->host->jail)) {
		close(signal_fd);
		return EXIT_HOST_ERROR;
	}
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		int err = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		char name[16];

		if (!err) {
			snprintf(name, sizeof(name), "vcpu%u", i);
			pthread_setname_np(vm->vcpus[i].thread, name);
		}
		if (err) {
			log_error("starting vCPU %u: %s", i, strerror(err));
			vm_request_exit(vm, EXIT_HOST_ERROR);
			break;
		}
		vm->vcpus[i].running = true;
	}
	/* Setup is done: from here the main thread only runs the loop below. */
	if (seccomp_apply(ROLE_MAIN))
		vm_request_exit(vm, EXIT_HOST_ERROR);
	fds[0] = (struct pollfd){ .fd = vm->exit_event_fd, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = signal_fd, .events = POLLIN };
	fds[2] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	fds[3] = (struct pollfd){ .fd = vm->host->console_listen_fd, .events = POLLIN };
	fds[4] = (struct pollfd){ .fd = -1, .events = POLLIN };
	fds[5] = (struct pollfd){ .fd = vm->serial->trim_event_fd, .events = POLLIN };
	while (!(fds[0].revents & POLLIN)) {
		/* A capped console log is looked at every 10 s, too. */
		int ready = poll(fds, ARRAY_SIZE(fds), fds[5].fd >= 0 ? 10000 : -1);

		if (ready == 0)
			serial_trim_log(vm->serial);
		if (ready < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			vm_request_exit(vm, EXIT_HOST_ERROR);
			break;
		}
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(signal_fd, &si, sizeof(si)) == sizeof(si)) {
				log_info("stopping on signal %u", si.ssi_signo);
				vm_request_exit(vm, 128 + si.ssi_signo);
			}
		}
		if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
			console_input_event(vm, &filter, &fds[2]);
		console_socket_event(vm, fds);
		if (fds[5].revents & POLLIN)
			serial_trim_log(vm->serial);
	}
	if (fds[4].fd >= 0) {
		serial_attach(vm->serial, -1);
		close(fds[4].fd);
	}
	stop_vcpus(vm);
	close(signal_fd);
	pthread_mutex_lock(&vm->lock);
	code = vm->exit_code;
	pthread_mutex_unlock(&vm->lock);
	return code;
}

void vm_destroy(struct vm *vm)
{
	for (int i = 0; i < vm->nvirtio; i++)
		virtio_mmio_stop(vm->virtio[i]);
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].fd < 0)
			continue;
		munmap(vm->vcpus[i].run, vm->kvm.run_size);
		close(vm->vcpus[i].fd);
	}
	kvm_close(&vm->kvm);
	guest_ram_destroy(&vm->ram);
	if (vm->serial && vm->serial->trim_event_fd >= 0)
		close(vm->serial->trim_event_fd);
	for (int i = 0; i < vm->nowned; i++)
		free(vm->owned[i]);
	if (vm->exit_event_fd >= 0)
		close(vm->exit_event_fd);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->lock);
}

static unsigned int running_vcpus(const struct vm *vm)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < vm->ncpus; i++)
		n += vm->vcpus[i].running;
	return n;
}

int vm_pause(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->paused || vm->stopping) {
		ret = vm->stopping ? -1 : 0;
		pthread_mutex_unlock(&vm->lock);
		return ret;
	}
	__atomic_store_n(&vm->paused, true, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].running)
			vcpu_kick(&vm->vcpus[i]);
	while (vm->parked < running_vcpus(vm) && !vm->stopping)
		pthread_cond_wait(&vm->pause_cond, &vm->lock);
	ret = vm->stopping ? -1 : 0;
	pthread_mutex_unlock(&vm->lock);
	for (int i = 0; i < vm->nvirtio; i++)
		virtio_mmio_pause(vm->virtio[i], true);
	return ret;
}

int vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->paused || vm->stopping) {
		pthread_mutex_unlock(&vm->lock);
		return vm->stopping ? -1 : 0;
	}
	pthread_mutex_unlock(&vm->lock);
	for (int i = 0; i < vm->nvirtio; i++)
		virtio_mmio_pause(vm->virtio[i], false);
	pthread_mutex_lock(&vm->lock);
	__atomic_store_n(&vm->paused, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}
