// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "util.h"

/* Addresses in the MMIO hole that KVM needs for its real-mode emulation. */
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000ULL
#define KVM_TSS_ADDR 0xfeffd000ULL

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

int kvm_open(struct kvm *kvm, const char *path)
{
	int version;

	memset(kvm, 0, sizeof(*kvm));
	kvm->vm_fd = -1;
	kvm->sys_fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		int err = errno;

		log_error("cannot open %s: %s%s", path, strerror(err),
			  err == EACCES	  ? " (add yourself to the kvm group or run as root)"
			  : err == ENOENT ? " (load the kvm module; is virtualization enabled?)"
					  : "");
		return EXIT_NO_KVM;
	}
	version = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		log_error("%s: KVM API version %d, kvmini needs %d", path, version,
			  KVM_API_VERSION);
		goto no_kvm;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			log_error("%s lacks %s", path, required_caps[i].name);
			goto no_kvm;
		}
	}
	kvm->run_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	kvm->max_vcpus = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (kvm->run_size <= 0 || kvm->max_vcpus <= 0) {
		log_error("%s: cannot query vCPU limits", path);
		goto no_kvm;
	}
	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0) {
		log_error("KVM_CREATE_VM: %s", strerror(errno));
		goto no_kvm;
	}
	return 0;
no_kvm:
	kvm_close(kvm);
	return EXIT_NO_KVM;
}

int kvm_create_irqchip(struct kvm *kvm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity_map = KVM_IDENTITY_MAP_ADDR;

	/*
	 * Some backends (nested or software KVM) do not emulate real mode and
	 * refuse these; the guest never runs real mode with a TSS then, so a
	 * refusal is harmless.
	 */
	if (ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0 && errno != EINVAL)
		log_warn("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0 && errno != EINVAL)
		log_warn("KVM_SET_TSS_ADDR: %s", strerror(errno));
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		log_error("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -1;
	}
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		log_error("KVM_CREATE_PIT2: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void kvm_close(struct kvm *kvm)
{
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	kvm->vm_fd = kvm->sys_fd = -1;
}

int kvm_set_memory(struct kvm *kvm, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
		   bool log_dirty)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		log_error("KVM_SET_USER_MEMORY_REGION slot %u: %s", slot, strerror(errno));
		return -1;
	}
	return 0;
}

int kvm_irq_line(struct kvm *kvm, uint32_t irq, int level)
{
	struct kvm_irq_level line = { .irq = irq, .level = level };

	return ioctl(kvm->vm_fd, KVM_IRQ_LINE, &line);
}

struct kvm_cpuid2 *kvm_supported_cpuid(struct kvm *kvm)
{
	/* Grow until the kernel stops answering E2BIG. */
	for (int n = 256; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *cpuid =
		    calloc(1, sizeof(*cpuid) + n * sizeof(struct kvm_cpuid_entry2));

		if (!cpuid)
			return NULL;
		cpuid->nent = n;
		if (ioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			return cpuid;
		free(cpuid);
		if (errno != E2BIG) {
			log_error("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return NULL;
		}
	}
	log_error("KVM_GET_SUPPORTED_CPUID: table too large");
	return NULL;
}

int kvm_create_vcpu(struct kvm *kvm, int index, struct kvm_run **run)
{
	int fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, index);

	if (fd < 0) {
		log_error("KVM_CREATE_VCPU %d: %s", index, strerror(errno));
		return -1;
	}
	*run = mmap(NULL, kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*run == MAP_FAILED) {
		log_error("mmap of vCPU %d run area: %s", index, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
