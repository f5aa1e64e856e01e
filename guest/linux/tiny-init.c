// SPDX-License-Identifier: MIT
/*
 * A 1 KiB /init for kernel-level boot tests: says it runs, then powers the
 * VM off. It replaces busybox where only reaching init matters, because
 * unpacking a 2 MiB initramfs takes a minute on an emulating KVM host.
 * Built freestanding: gcc -static -nostdlib -Os.
 */
#define SYS_write 1
#define SYS_reboot 169
#define LINUX_REBOOT_MAGIC1 0xfee1dead
#define LINUX_REBOOT_MAGIC2 672274793
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedc

static long syscall3(long n, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static long syscall4(long n, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

void _start(void)
{
	static const char msg[] = "kvmini tiny init: userspace runs\n";

	syscall3(SYS_write, 1, (long)msg, sizeof(msg) - 1);
	syscall4(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF,
		 0);
	for (;;)
		;
}
