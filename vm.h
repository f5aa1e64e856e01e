/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_VM_H
#define KVMINI_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/acpi.h"
#include "arch/x86/boot.h"
#include "devices/bus.h"
#include "kvm/kvm.h"
#include "memory.h"
#include "spec.h"

#define MAX_OWNED 64
#define MAX_VIRTIO_DEVICES 16
#define MAX_ACPI_DEVICES (MAX_VIRTIO_DEVICES + 2) /* COM1 and the i8042 */

/* What the process prepared for a VM, beyond its spec: files and fds. */
struct vm_host {
	const uint8_t *kernel, *initrd; /* the images, read before any jail */
	size_t kernel_len, initrd_len;
	int console_read_fd; /* the console's output file for reading, to cap it; or -1 */
	int console_listen_fd; /* the socket serving the console (spec's console_sock), or -1 */
	const struct jail_config *jail; /* drop to its uid before the first KVM_RUN */
};

struct vm;
struct jail_config;

struct vcpu {
	struct vm *vm;
	int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool running;
	/* Exit counts for the metrics; relaxed atomics. */
	uint64_t exits_io_in, exits_io_out, exits_mmio_read, exits_mmio_write;
};

struct vm {
	const struct vm_spec *spec;
	const struct vm_host *host;
	struct kvm kvm;
	struct guest_ram ram;
	struct bus pio;
	struct bus mmio;
	unsigned int ncpus;
	struct vcpu vcpus[MAX_VCPUS];
	struct acpi_device acpi_devices[MAX_ACPI_DEVICES];
	int nacpi_devices;
	struct serial *serial;
	struct i8042 *i8042;
	struct virtio_dev *virtio[MAX_VIRTIO_DEVICES];
	int nvirtio;
	void *owned[MAX_OWNED];
	int nowned;

	pthread_mutex_t lock;
	int exit_code; /* -1 while running; first request wins */
	bool stopping;
	bool paused;
	unsigned int parked; /* vCPUs waiting in vcpu_park() */
	pthread_cond_t pause_cond;
	int exit_event_fd;
	char crash_report[2048];
};

/* Builds the whole machine from @spec alone; returns 0 or an EXIT_* code. */
int vm_create(struct vm *vm, const struct vm_spec *spec, const struct vm_host *host);
/* Runs until the guest or the user ends it; returns the exit code. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

/*
 * Parks every vCPU outside KVM_RUN and stops the devices from taking new
 * requests; resume continues exactly where the guest was. Thread-safe;
 * return 0, or -1 when the VM is stopping.
 */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);

/*
 * For the API: what it reads and asks of a running VM, without reaching
 * into it. Thread-safe.
 */
#define VM_MAX_DEVICE_METRICS 9
struct vm_device_metrics {
	const char *group; /* "block", "net", "entropy", "vsock" */
	const char *id; /* "": the device has none */
	struct metric metrics[VM_MAX_DEVICE_METRICS];
	int n;
};
struct vm_metrics {
	uint64_t exits_io_in, exits_io_out, exits_mmio_read, exits_mmio_write;
	struct vm_device_metrics devices[MAX_VIRTIO_DEVICES];
	int ndevices;
};
void vm_read_metrics(struct vm *vm, struct vm_metrics *out);
/* Types Ctrl-Alt-Del on the keyboard; -1 if its queue is full. */
int vm_send_ctrl_alt_del(struct vm *vm);
/* Swaps drive @id's backing file for @path, live; 0, or -1 after logging. */
int vm_replace_drive(struct vm *vm, const char *id, const char *path);

/* For devices. */
void vm_request_exit(struct vm *vm, int code);
void vm_irq_line(struct vm *vm, unsigned int irq, int level);
int vm_add_acpi_device(struct vm *vm, const struct acpi_device *dev);
void *vm_alloc_device(struct vm *vm, size_t size);
void vm_boot_marker(struct vm *vm);

/* The vCPU thread body, in vcpu.c. */
void *vcpu_thread(void *arg);
void vcpu_kick(struct vcpu *vcpu);
/* Called by a vCPU thread that saw vm->paused; returns once resumed. */
void vcpu_park(struct vcpu *vcpu);

/* Legacy devices, each in devices/. */
int serial_init(struct vm *vm);
int i8042_init(struct vm *vm);
int acpi_pm_init(struct vm *vm);
int debug_exit_init(struct vm *vm);
int boot_marker_init(struct vm *vm);
int virtio_rng_add(struct vm *vm);
struct i8042;
/* Types Ctrl-Alt-Del on the keyboard; -1 if its queue is full. */
int i8042_send_ctrl_alt_del(struct i8042 *k);

/* Blocks the signals the main loop reads; call before any thread starts. */
int vm_block_signals(void);
/* A signalfd for the signals that end the VMM (SIGINT, SIGTERM, SIGHUP). */
int vm_signal_fd(void);

extern uint64_t kvmini_start_ns;

#endif
