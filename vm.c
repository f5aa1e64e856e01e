// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "console.h"
#include "devices/serial.h"
#include "security/jail.h"
#include "security/seccomp.h"
#include "event.h"
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

/* The VM's thread waits on these: exits, signals, and the console's inputs. */
struct vm_loop {
	struct vm *vm;
	struct event_loop loop;
	struct event exit_ev, signal_ev, stdin_ev, listen_ev, client_ev, trim_ev;
	struct console_filter filter;
	int client_fd; /* the console socket's one client, or -1 */
	bool stdin_file; /* stdin is a file, which epoll cannot watch: always ready */
};

static void exit_ready(struct event *ev, uint32_t events)
{
	(void)events;
	event_loop_stop(ev->loop);
}

static void signal_ready(struct event *ev, uint32_t events)
{
	struct vm_loop *l = ev->ctx;
	struct signalfd_siginfo si;

	(void)events;
	if (read(ev->fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("stopping on signal %u", si.ssi_signo);
		vm_request_exit(l->vm, 128 + si.ssi_signo);
	}
}

/* Keyboard input from stdin, with the Ctrl-A escape filtered out. */
static void read_stdin(struct vm_loop *l)
{
	uint8_t in[256], out[512];
	ssize_t n = read(STDIN_FILENO, in, sizeof(in));
	long m;

	if (n <= 0) {
		/* EOF: the guest keeps running */
		event_del(&l->stdin_ev);
		l->stdin_file = false;
		return;
	}
	m = console_filter(&l->filter, in, n, out);
	if (m < 0)
		vm_request_exit(l->vm, EXIT_QUIT);
	else if (m)
		serial_receive(l->vm->serial, out, m);
}

static void stdin_ready(struct event *ev, uint32_t events)
{
	(void)events;
	read_stdin(ev->ctx);
}

static void detach_client(struct vm_loop *l)
{
	if (l->client_fd < 0)
		return;
	serial_attach(l->vm->serial, -1);
	event_del(&l->client_ev);
	close(l->client_fd);
	l->client_fd = -1;
}

static void client_ready(struct event *ev, uint32_t events)
{
	struct vm_loop *l = ev->ctx;
	uint8_t in[256];
	ssize_t n = read(l->client_fd, in, sizeof(in));

	(void)events;
	if (n > 0)
		serial_receive(l->vm->serial, in, n);
	else if (n == 0 || errno != EAGAIN)
		detach_client(l);
}

/*
 * The console socket (kvmini's manager attaches here): one client at a
 * time, whose bytes go to the guest raw; it detaches itself.
 */
static void listen_ready(struct event *ev, uint32_t events)
{
	static const char busy[] = "kvmini: the console is in use\r\n";
	struct vm_loop *l = ev->ctx;
	int fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)events;
	if (fd < 0)
		return;
	if (l->client_fd >= 0 ||
	    event_add(&l->loop, &l->client_ev, fd, EPOLLIN, client_ready, l) < 0) {
		if (write(fd, busy, sizeof(busy) - 1) < 0)
			log_warn("console: %s", strerror(errno));
		close(fd);
		return;
	}
	l->client_fd = fd;
	serial_attach(l->vm->serial, fd);
}

static void trim_ready(struct event *ev, uint32_t events)
{
	struct vm_loop *l = ev->ctx;

	(void)events;
	serial_trim_log(l->vm->serial);
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

static int watch_vm(struct vm_loop *l, int signal_fd)
{
	struct vm *vm = l->vm;

	if (event_loop_init(&l->loop) < 0 ||
	    event_add(&l->loop, &l->exit_ev, vm->exit_event_fd, EPOLLIN, exit_ready, l) < 0 ||
	    event_add(&l->loop, &l->signal_ev, signal_fd, EPOLLIN, signal_ready, l) < 0)
		return -1;
	/* A file (kvmini < input) is read on every turn; /dev/null is no input. */
	if (event_add(&l->loop, &l->stdin_ev, STDIN_FILENO, EPOLLIN, stdin_ready, l) < 0) {
		int err = errno;
		struct stat st;

		l->stdin_file = err == EPERM && !fstat(STDIN_FILENO, &st) && S_ISREG(st.st_mode);
		if (err != EPERM)
			log_warn("console input: %s; the guest gets none", strerror(err));
	}
	if (vm->host->console_listen_fd >= 0 &&
	    event_add(&l->loop, &l->listen_ev, vm->host->console_listen_fd, EPOLLIN, listen_ready,
		      l) < 0)
		return -1;
	if (vm->serial->trim_event_fd >= 0 &&
	    event_add(&l->loop, &l->trim_ev, vm->serial->trim_event_fd, EPOLLIN, trim_ready, l) < 0)
		return -1;
	return 0;
}

static void start_vcpus(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		int err = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		char name[16];

		if (err) {
			log_error("starting vCPU %u: %s", i, strerror(err));
			vm_request_exit(vm, EXIT_HOST_ERROR);
			break;
		}
		snprintf(name, sizeof(name), "vcpu%u", i);
		pthread_setname_np(vm->vcpus[i].thread, name);
		vm->vcpus[i].running = true;
	}
}

int vm_run(struct vm *vm)
{
	struct vm_loop l = { .vm = vm, .client_fd = -1, .loop.epoll_fd = -1 };
	int signal_fd = vm_signal_fd(), code;

	if (signal_fd < 0 || watch_vm(&l, signal_fd) ||
	    (vm->host->jail && jail_drop_privileges(vm->host->jail))) {
		event_loop_close(&l.loop);
		if (signal_fd >= 0)
			close(signal_fd);
		return EXIT_HOST_ERROR;
	}
	start_vcpus(vm);
	/* Setup is done: from here the VM's thread only runs its loop. */
	if (seccomp_apply(ROLE_MAIN))
		vm_request_exit(vm, EXIT_HOST_ERROR);
	while (!l.loop.stop) {
		/* A capped console log is looked at every 10 s, too. */
		int timeout = l.stdin_file ? 0 : vm->serial->trim_event_fd >= 0 ? 10000 : -1;
		int ready = event_loop_run_once(&l.loop, timeout);

		if (l.stdin_file)
			read_stdin(&l);
		else if (ready == 0)
			serial_trim_log(vm->serial);
		if (ready < 0) {
			log_error("epoll_wait: %s", strerror(errno));
			vm_request_exit(vm, EXIT_HOST_ERROR);
			break;
		}
	}
	detach_client(&l);
	stop_vcpus(vm);
	event_loop_close(&l.loop);
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

void vm_read_metrics(struct vm *vm, struct vm_metrics *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		out->exits_io_in += __atomic_load_n(&v->exits_io_in, __ATOMIC_RELAXED);
		out->exits_io_out += __atomic_load_n(&v->exits_io_out, __ATOMIC_RELAXED);
		out->exits_mmio_read += __atomic_load_n(&v->exits_mmio_read, __ATOMIC_RELAXED);
		out->exits_mmio_write += __atomic_load_n(&v->exits_mmio_write, __ATOMIC_RELAXED);
	}
	for (int i = 0; i < vm->nvirtio; i++) {
		struct virtio_dev *vdev = vm->virtio[i];
		struct vm_device_metrics *d = &out->devices[out->ndevices];

		if (!vdev->ops->stats)
			continue;
		d->group = vdev->ops->metrics_group;
		d->id = vdev->id;
		pthread_mutex_lock(&vdev->lock);
		d->n = vdev->ops->stats(vdev, d->metrics);
		d->metrics[d->n++] = (struct metric){ "invalid_chains_count", vdev->bad_chains };
		pthread_mutex_unlock(&vdev->lock);
		out->ndevices++;
	}
}

int vm_send_ctrl_alt_del(struct vm *vm)
{
	return i8042_send_ctrl_alt_del(vm->i8042);
}

int vm_replace_drive(struct vm *vm, const char *id, const char *path)
{
	return virtio_blk_replace(vm, id, path);
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
		virtio_dev_pause(vm->virtio[i], true);
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
		virtio_dev_pause(vm->virtio[i], false);
	pthread_mutex_lock(&vm->lock);
	__atomic_store_n(&vm->paused, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}
