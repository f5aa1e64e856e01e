/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_KVM_H
#define KVMINI_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

/* The handles of one VM: the /dev/kvm fd and the VM fd. */
struct kvm {
	int sys_fd;
	int vm_fd;
	int run_size;
	int max_vcpus;
};

/*
 * Opens @path (normally /dev/kvm), checks the API version and every
 * capability kvmini relies on, and creates the VM. Returns an EXIT_* code
 * on failure, 0 on success.
 */
int kvm_open(struct kvm *kvm, const char *path);

/*
 * The in-kernel irqchip and PIT. Call it after the memory slots exist: a
 * slot added once an irqchip exists can cost milliseconds (an SRCU grace
 * period on some hosts), which would dominate a microVM's boot.
 */
int kvm_create_irqchip(struct kvm *kvm);
void kvm_close(struct kvm *kvm);

int kvm_set_memory(struct kvm *kvm, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
		   bool log_dirty);
int kvm_irq_line(struct kvm *kvm, uint32_t irq, int level);

/* Returns the supported CPUID table (caller frees) or NULL. */
struct kvm_cpuid2 *kvm_supported_cpuid(struct kvm *kvm);

int kvm_create_vcpu(struct kvm *kvm, int index, struct kvm_run **run);

#endif
