/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_X86_CPU_H
#define KVMINI_X86_CPU_H

#include <linux/kvm.h>

#include "arch/x86/boot.h"
#include "memory.h"

/*
 * Rewrites a copy of KVM's supported CPUID for vCPU @index of @ncpus:
 * APIC IDs and topology, the hypervisor bit, and the KVM leaves that turn
 * on kvm-clock and the paravirt features. Pure, so it is unit-tested.
 */
void x86_cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, unsigned int index, unsigned int ncpus);

/* Per-vCPU state every vCPU needs: CPUID and the LAPIC's LINT pins. */
int x86_init_vcpu(int vcpu_fd, const struct kvm_cpuid2 *cpuid);

/* The boot CPU's registers for @setup; writes GDT and page tables to RAM. */
int x86_init_boot_cpu(int vcpu_fd, const struct guest_ram *ram, const struct boot_setup *setup);

/* Writes the boot GDT (and, for 64-bit entry, identity page tables). */
int x86_write_boot_tables(const struct guest_ram *ram, enum boot_mode mode);

#endif
