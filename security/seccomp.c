// SPDX-License-Identifier: MIT
/*
 * Per-thread seccomp allow-lists (libseccomp). The vCPU and I/O threads,
 * which handle what the guest controls, get only the syscalls and ioctls
 * their loops make; the VM's thread (console, signals) a broader list; the
 * main thread, which builds each VM and creates every thread, the union.
 */
#include <errno.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdbool.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>

#include "security/seccomp.h"
#include "util.h"

/*
 * Sanitizer builds log instead of killing by default: the ASan/LSan
 * runtime's exit-time leak check (ptrace, /proc scans) is not in any list.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
static enum seccomp_mode mode = SECCOMP_LOG;
#else
static enum seccomp_mode mode = SECCOMP_KILL;
#endif

void seccomp_set_mode(enum seccomp_mode m)
{
	mode = m;
}

/* Every thread: locking, memory (never executable: see exec_rules), signals, leaving. */
static const int common_syscalls[] = {
	SCMP_SYS(futex),
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(madvise),
	SCMP_SYS(munmap),
	SCMP_SYS(brk),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(gettid),
	SCMP_SYS(getpid),
	SCMP_SYS(tgkill),
	SCMP_SYS(sched_yield),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(newfstatat),
	SCMP_SYS(rseq),
	/* glibc runs setresuid() and friends on every thread: the jail's drop */
	SCMP_SYS(setresuid),
	SCMP_SYS(setresgid),
	SCMP_SYS(setgroups),
};

static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS, KVM_TRANSLATE, KVM_IRQ_LINE,
};

/* Every device thread: its epoll loop (eventfd reads and writes are common). */
static const int io_syscalls[] = { SCMP_SYS(epoll_wait), SCMP_SYS(epoll_ctl) };
/* blk: positioned I/O, flushes, discards, io_uring. */
static const int blk_syscalls[] = {
	SCMP_SYS(preadv),    SCMP_SYS(pwritev),	       SCMP_SYS(fdatasync),
	SCMP_SYS(fallocate), SCMP_SYS(io_uring_enter),
};
static const int rng_syscalls[] = { SCMP_SYS(getrandom), SCMP_SYS(timerfd_settime) };
/* vsock: Unix sockets only (socket() is limited to AF_UNIX in role_rules). */
static const int vsock_syscalls[] = {
	SCMP_SYS(accept4), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(connect), SCMP_SYS(close),    SCMP_SYS(shutdown),
};
static const unsigned long net_ioctls[] = { TUNSETOFFLOAD };

/* The API thread: its socket, log and metrics files, a drive's swap. */
static const int api_syscalls[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_ctl), SCMP_SYS(accept4), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto),     SCMP_SYS(close),	   SCMP_SYS(openat),  SCMP_SYS(fstat),
	SCMP_SYS(getrandom),  SCMP_SYS(fcntl),	   SCMP_SYS(lseek),
};
static const unsigned long api_ioctls[] = { BLKGETSIZE64, KVM_IRQ_LINE };

/* The VM's thread: console (stdin, the socket, the log's trim), signals, exits. */
static const int main_syscalls[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_ctl), SCMP_SYS(accept4),	SCMP_SYS(close),
	SCMP_SYS(fstat),      SCMP_SYS(lseek),	   SCMP_SYS(ftruncate), SCMP_SYS(pread64),
};
/* KVM_IRQ_LINE: console input; TC*: the terminal given back if a vCPU hangs. */
static const unsigned long main_ioctls[] = { KVM_IRQ_LINE, TCGETS, TCSETS, TCSETSW, TCSETSF };

/* Building a VM, creating its threads, and tearing it down. */
static const int builder_syscalls[] = {
	SCMP_SYS(openat),
	SCMP_SYS(close),
	SCMP_SYS(fcntl),
	SCMP_SYS(fstat),
	SCMP_SYS(lseek),
	SCMP_SYS(memfd_create),
	SCMP_SYS(ftruncate),
	SCMP_SYS(eventfd2),
	SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(timerfd_create),
	SCMP_SYS(signalfd4),
	SCMP_SYS(io_uring_setup),
	SCMP_SYS(io_uring_register),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(prlimit64),
	SCMP_SYS(pread64),
	SCMP_SYS(prctl),
	SCMP_SYS(dup),
	SCMP_SYS(dup2), /* serial_out_path, again on a retried InstanceStart */
	SCMP_SYS(dup3),
	SCMP_SYS(seccomp),
	SCMP_SYS(unlink),
	SCMP_SYS(bind),
	SCMP_SYS(listen),
};
static const unsigned long builder_ioctls[] = {
	KVM_GET_API_VERSION,
	KVM_CHECK_EXTENSION,
	KVM_GET_VCPU_MMAP_SIZE,
	KVM_CREATE_VM,
	KVM_SET_IDENTITY_MAP_ADDR,
	KVM_SET_TSS_ADDR,
	KVM_CREATE_IRQCHIP,
	KVM_CREATE_PIT2,
	KVM_SET_USER_MEMORY_REGION,
	KVM_GET_SUPPORTED_CPUID,
	KVM_CREATE_VCPU,
	KVM_GET_LAPIC,
	KVM_SET_LAPIC,
	KVM_GET_MSRS,
	KVM_SET_MSRS,
	KVM_SET_CPUID2,
	KVM_SET_SREGS,
	KVM_SET_REGS,
	KVM_IRQFD,
	KVM_IOEVENTFD,
	TUNGETIFF,
	TUNSETIFF,
	TUNSETVNETHDRSZ,
	SIOCGIFMTU,
	TCGETS,
	TCSETS,
	TCSETSW,
	TCSETSF,
};

#define LIST(a) a, ARRAY_SIZE(a)

struct role_list {
	const char *name;
	const int *syscalls;
	size_t nsyscalls;
	const unsigned long *ioctls;
	size_t nioctls;
	bool io; /* a device thread: io_syscalls too */
};

static const struct role_list role_lists[] = {
	[ROLE_BUILDER] = { "builder", LIST(builder_syscalls), LIST(builder_ioctls), false },
	[ROLE_MAIN] = { "main", LIST(main_syscalls), LIST(main_ioctls), false },
	[ROLE_VCPU] = { "vcpu", NULL, 0, LIST(vcpu_ioctls), false },
	[ROLE_IO_BLK] = { "blk", LIST(blk_syscalls), NULL, 0, true },
	[ROLE_IO_NET] = { "net", NULL, 0, LIST(net_ioctls), true },
	[ROLE_IO_RNG] = { "rng", LIST(rng_syscalls), NULL, 0, true },
	[ROLE_IO_VSOCK] = { "vsock", LIST(vsock_syscalls), NULL, 0, true },
	[ROLE_API] = { "api", LIST(api_syscalls), LIST(api_ioctls), false },
};

static int allow_all(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0) < 0)
			return -1;
	return 0;
}

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* ioctl(fd, request, ...): argument 1 is the request number. */
		struct scmp_arg_cmp cmp = { .arg = 1, .op = SCMP_CMP_EQ, .datum_a = reqs[i] };

		if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &cmp) < 0)
			return -1;
	}
	return 0;
}

static int allow_role(scmp_filter_ctx ctx, const struct role_list *l)
{
	return allow_all(ctx, l->syscalls, l->nsyscalls) ||
	       allow_ioctls(ctx, l->ioctls, l->nioctls) ||
	       (l->io && allow_all(ctx, io_syscalls, ARRAY_SIZE(io_syscalls)));
}

/* Allows @call when argument @arg, masked with @mask, equals @value. */
static int allow_if(scmp_filter_ctx ctx, int call, unsigned int arg, uint64_t mask, uint64_t value)
{
	struct scmp_arg_cmp cmp = {
		.arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask, .datum_b = value
	};

	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, call, 1, &cmp) < 0 ? -1 : 0;
}

/*
 * The rules with arguments. No thread maps or makes memory executable
 * once its list is in (kvmini loads no code after startup). Only the
 * builder makes threads, and only threads: clone() must carry
 * CLONE_THREAD, and clone3(), whose flags a filter cannot see, fails with
 * ENOSYS so that glibc falls back to clone(). Sockets: Unix ones for vsock
 * and the builder, which also takes an AF_INET one for a tap's MTU.
 */
static int role_rules(scmp_filter_ctx ctx, enum thread_role role)
{
	if (allow_if(ctx, SCMP_SYS(mmap), 2, PROT_EXEC, 0) ||
	    allow_if(ctx, SCMP_SYS(mprotect), 2, PROT_EXEC, 0))
		return -1;
	if (role == ROLE_IO_VSOCK || role == ROLE_BUILDER)
		if (allow_if(ctx, SCMP_SYS(socket), 0, ~0ULL, AF_UNIX))
			return -1;
	if (role != ROLE_BUILDER)
		return 0;
	return allow_if(ctx, SCMP_SYS(socket), 0, ~0ULL, AF_INET) ||
	       allow_if(ctx, SCMP_SYS(clone), 0, CLONE_THREAD, CLONE_THREAD) ||
	       seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0;
}

#ifdef KVMINI_TEST_HOOKS
/*
 * Test builds only: KVMINI_TEST_SECCOMP=ROLE makes that role's thread, once
 * its list is in, make a call the list forbids, to prove it is enforced.
 */
static void test_violation(enum thread_role role)
{
	const char *want = getenv("KVMINI_TEST_SECCOMP");

	if (!want || strcmp(want, role_lists[role].name))
		return;
	if (role == ROLE_MAIN || role == ROLE_API)
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else if (role == ROLE_BUILDER)
		socket(AF_PACKET, SOCK_RAW, 0);
	else if (role == ROLE_IO_VSOCK)
		socket(AF_INET, SOCK_STREAM, 0);
	else
		socket(AF_UNIX, SOCK_STREAM, 0);
}
#endif

static uint32_t default_action(void)
{
	switch (mode) {
	case SECCOMP_LOG:
		return SCMP_ACT_LOG;
	case SECCOMP_TRAP:
		return SCMP_ACT_TRAP;
	default:
		return SCMP_ACT_KILL_PROCESS;
	}
}

int seccomp_apply(enum thread_role role)
{
	static bool builder_done;
	scmp_filter_ctx ctx;
	int ret = -1;

	/*
	 * Filters stack, are inherited by the threads a thread creates, and
	 * cannot be removed. The main thread lives across restarts and
	 * installs its list once; every other thread is new and installs its
	 * own, under the builder's, which holds it.
	 */
	if (mode == SECCOMP_OFF || (role == ROLE_BUILDER && builder_done))
		return 0;
	if (role == ROLE_BUILDER)
		builder_done = true;
	ctx = seccomp_init(default_action());
	if (!ctx)
		goto out;
	if (allow_all(ctx, common_syscalls, ARRAY_SIZE(common_syscalls)) || role_rules(ctx, role))
		goto out;
	if (role != ROLE_BUILDER) {
		if (allow_role(ctx, &role_lists[role]))
			goto out;
	} else {
		/* The builder makes every other thread: it holds all their lists. */
		for (size_t i = 0; i < ARRAY_SIZE(role_lists); i++)
			if (allow_role(ctx, &role_lists[i]))
				goto out;
	}
	ret = seccomp_load(ctx);
out:
	if (ret < 0)
		log_error("installing the seccomp filter: %s", strerror(errno ? errno : EINVAL));
	seccomp_release(ctx);
#ifdef KVMINI_TEST_HOOKS
	if (!ret)
		test_violation(role);
#endif
	return ret < 0 ? -1 : 0;
}
