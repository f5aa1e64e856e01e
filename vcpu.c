// SPDX-License-Identifier: MIT
/*
 * The vCPU thread: KVM_RUN in a loop, with every I/O exit dispatched
 * through the VM's buses. Devices never appear here.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "security/seccomp.h"
#include "util.h"
#include "vm.h"

static const char *exit_reason_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_SHUTDOWN:
		return "triple fault (KVM_EXIT_SHUTDOWN)";
	case KVM_EXIT_INTERNAL_ERROR:
		return "KVM internal error";
	case KVM_EXIT_FAIL_ENTRY:
		return "VM entry failed";
	case KVM_EXIT_UNKNOWN:
		return "unknown hardware exit";
	case KVM_EXIT_EXCEPTION:
		return "unhandled exception";
	default:
		return "unexpected exit";
	}
}

/*
 * Writes what a person needs to see why the guest died: the exit, the
 * registers that locate it and the instruction bytes at RIP.
 */
static void report_crash(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	char *p = vm->crash_report;
	size_t left = sizeof(vm->crash_report);
	int n;

#define APPEND(...)                                 \
	do {                                        \
		n = snprintf(p, left, __VA_ARGS__); \
		if (n > 0 && (size_t)n < left) {    \
			p += n;                     \
			left -= n;                  \
		}                                   \
	} while (0)

	APPEND("guest crashed on vCPU %d: %s (exit reason %u)", vcpu->index,
	       exit_reason_name(run->exit_reason), run->exit_reason);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		APPEND(", suberror %u", run->internal.suberror);
		for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++)
			APPEND("%s0x%llx", i ? " " : ", data ",
			       (unsigned long long)run->internal.data[i]);
	} else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY) {
		APPEND(", hardware reason 0x%llx",
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	}
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return;
	/*
	 * On AMD, KVM reinitialises the vCPU after a shutdown intercept (the
	 * VMCB is undefined then), so what reads back is the reset state.
	 */
	if (run->exit_reason == KVM_EXIT_SHUTDOWN && regs.rip == 0xfff0 &&
	    sregs.cs.selector == 0xf000) {
		APPEND("\n  registers lost: KVM reset the vCPU on the shutdown (AMD SVM), "
		       "so the faulting state cannot be shown");
		return;
	}
	APPEND("\n  rip=0x%llx rsp=0x%llx rflags=0x%llx cs=0x%x cr0=0x%llx cr3=0x%llx "
	       "cr4=0x%llx efer=0x%llx",
	       (unsigned long long)regs.rip, (unsigned long long)regs.rsp,
	       (unsigned long long)regs.rflags, sregs.cs.selector, (unsigned long long)sregs.cr0,
	       (unsigned long long)sregs.cr3, (unsigned long long)sregs.cr4,
	       (unsigned long long)sregs.efer);

	struct kvm_translation tr = { .linear_address = sregs.cs.base + regs.rip };
	uint8_t *code;

	if (ioctl(vcpu->fd, KVM_TRANSLATE, &tr) == 0 && tr.valid &&
	    (code = gpa_to_host(&vm->ram, tr.physical_address, 16))) {
		APPEND("\n  code at rip:");
		for (int i = 0; i < 16; i++)
			APPEND(" %02x", code[i]);
	} else {
		APPEND("\n  code at rip: not in guest RAM");
	}
#undef APPEND
}

static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint8_t *data = (uint8_t *)run + run->io.data_offset;

		__atomic_fetch_add(run->io.direction == KVM_EXIT_IO_OUT ? &vcpu->exits_io_out
									: &vcpu->exits_io_in,
				   1, __ATOMIC_RELAXED);

		for (uint32_t i = 0; i < run->io.count; i++) {
			bus_access(&vm->pio, run->io.port, data, run->io.size,
				   run->io.direction == KVM_EXIT_IO_OUT);
			data += run->io.size;
		}
		return true;
	}
	case KVM_EXIT_MMIO:
		__atomic_fetch_add(run->mmio.is_write ? &vcpu->exits_mmio_write
						      : &vcpu->exits_mmio_read,
				   1, __ATOMIC_RELAXED);
		if (run->mmio.len > 8)
			return true;
		bus_access(&vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			   run->mmio.is_write);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_request_exit(vm, run->system_event.type == KVM_SYSTEM_EVENT_RESET
					? EXIT_REBOOT
					: EXIT_POWEROFF);
		return false;
	case KVM_EXIT_HLT:
		/* Only reachable without an in-kernel LAPIC: treat as power-off. */
		vm_request_exit(vm, EXIT_POWEROFF);
		return false;
	default:
		pthread_mutex_lock(&vm->lock);
		if (vm->exit_code < 0)
			report_crash(vcpu);
		pthread_mutex_unlock(&vm->lock);
		vm_request_exit(vm, EXIT_CRASH);
		return false;
	}
}

static void kick_handler(int sig)
{
	(void)sig;
}

void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t kick;

	/* No SA_RESTART: the kick must make KVM_RUN return EINTR. */
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	if (seccomp_apply(ROLE_VCPU)) {
		vm_request_exit(vm, EXIT_HOST_ERROR);
		return NULL;
	}

	while (!__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&vm->paused, __ATOMIC_ACQUIRE)) {
			vcpu_park(vcpu);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_error("KVM_RUN on vCPU %d: %s", vcpu->index, strerror(errno));
			vm_request_exit(vm, EXIT_HOST_ERROR);
			break;
		}
		if (!handle_exit(vcpu))
			break;
	}
	return NULL;
}

void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm->paused && !vm->stopping)
		pthread_cond_wait(&vm->pause_cond, &vm->lock);
	vm->parked--;
	/*
	 * Cleared under the lock that vm_pause() kicks under: a pause that
	 * follows either finds paused set at the loop's top or this flag set.
	 */
	vcpu->run->immediate_exit = 0;
	pthread_mutex_unlock(&vm->lock);
}

void vcpu_kick(struct vcpu *vcpu)
{
	/* immediate_exit covers a kick that lands before KVM_RUN is entered. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(vcpu->thread, SIGUSR1);
}
