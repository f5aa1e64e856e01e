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
#include <string.h>
#include <sys/ioctl.h>
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

/* Every thread: locking, memory, signals, leaving. */
static const int common_syscalls[] = {
	SCMP_SYS(futex),
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(madvise),
	SCMP_SYS(munmap),
	SCMP_SYS(mmap),
	SCMP_SYS(mprotect),
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

static const int io_syscalls[] = {
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(readv),
	SCMP_SYS(preadv),
	SCMP_SYS(pwritev),
	SCMP_SYS(fdatasync),
	SCMP_SYS(fsync),
	SCMP_SYS(fallocate),
	SCMP_SYS(io_uring_enter),
	SCMP_SYS(getrandom),
	SCMP_SYS(timerfd_settime),
	/* vsock: its Unix sockets */
	SCMP_SYS(accept4),
	SCMP_SYS(recvfrom),
	SCMP_SYS(sendto),
	SCMP_SYS(socket),
	SCMP_SYS(connect),
	SCMP_SYS(close),
	SCMP_SYS(shutdown),
};
static const unsigned long io_ioctls[] = { TUNSETOFFLOAD };

/* The API thread: its socket, log and metrics files, a drive's swap. */
static const int api_syscalls[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_ctl), SCMP_SYS(accept4), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto),     SCMP_SYS(close),	   SCMP_SYS(openat),  SCMP_SYS(fstat),
	SCMP_SYS(getrandom),  SCMP_SYS(fcntl),	   SCMP_SYS(lseek),
};
static const unsigned long api_ioctls[] = { BLKGETSIZE64, KVM_IRQ_LINE };

static const int main_syscalls[] = {
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(ioctl),
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
	SCMP_SYS(socket),
	SCMP_SYS(clone),
	SCMP_SYS(clone3),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(prlimit64),
	SCMP_SYS(getrandom),
	SCMP_SYS(pread64),
	SCMP_SYS(prctl),
	SCMP_SYS(dup),
	SCMP_SYS(io_uring_enter),
	SCMP_SYS(seccomp), /* threads of a restarted VM add theirs */
	SCMP_SYS(unlink), /* the API socket, on the way out */
	SCMP_SYS(accept4), /* console socket clients */
};

/* Building a VM beyond what its threads' lists hold: vsock's listener. */
static const int builder_syscalls[] = {
	SCMP_SYS(bind),
	SCMP_SYS(listen),
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
	ctx = seccomp_init(mode == SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		goto out;
	if (allow_all(ctx, common_syscalls, ARRAY_SIZE(common_syscalls)))
		goto out;
	switch (role) {
	case ROLE_VCPU:
		if (allow_ioctls(ctx, vcpu_ioctls, ARRAY_SIZE(vcpu_ioctls)))
			goto out;
		break;
	case ROLE_IO:
		if (allow_all(ctx, io_syscalls, ARRAY_SIZE(io_syscalls)) ||
		    allow_ioctls(ctx, io_ioctls, ARRAY_SIZE(io_ioctls)))
			goto out;
		break;
	case ROLE_API:
		if (allow_all(ctx, api_syscalls, ARRAY_SIZE(api_syscalls)) ||
		    allow_ioctls(ctx, api_ioctls, ARRAY_SIZE(api_ioctls)))
			goto out;
		break;
	case ROLE_MAIN:
		if (allow_all(ctx, main_syscalls, ARRAY_SIZE(main_syscalls)))
			goto out;
		break;
	case ROLE_BUILDER:
		/* main allows any ioctl (the vCPU's, the I/O and API threads'); add their syscalls. */
		if (allow_all(ctx, main_syscalls, ARRAY_SIZE(main_syscalls)) ||
		    allow_all(ctx, io_syscalls, ARRAY_SIZE(io_syscalls)) ||
		    allow_all(ctx, api_syscalls, ARRAY_SIZE(api_syscalls)) ||
		    allow_all(ctx, builder_syscalls, ARRAY_SIZE(builder_syscalls)))
			goto out;
		break;
	}
	ret = seccomp_load(ctx);
out:
	if (ret < 0)
		log_error("installing the seccomp filter: %s", strerror(errno ? errno : EINVAL));
	seccomp_release(ctx);
	return ret < 0 ? -1 : 0;
}
