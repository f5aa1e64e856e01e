/* SPDX-License-Identifier: MIT */
/*
 * Probe guest entry points, page tables, descriptor tables, the AP
 * trampoline and the ring-3 switch. Two ways in:
 *   pvh_start   (+0x000) 32-bit protected mode, %ebx = hvm_start_info
 *   startup_64  (+0x200) 64-bit Linux boot protocol, %rsi = boot_params
 */
#define KCODE64 0x08
#define KDATA 0x10
#define KCODE32 0x18
#define UDATA 0x23
#define UCODE64 0x2b
#define AP_TRAMPOLINE 0x8000
#define STACK_SIZE 16384
#define AP_STACK_SIZE 8192
#define MAX_CPUS 64

#define MSR_EFER 0xc0000080
#define EFER_LME 0x100

	.section .note.Xen, "a"
	.balign 4
	.long 4, 4, 18		/* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start

	.section .text.head, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	movl $1, boot_mode
	movl %ebx, boot_info
	lgdt gdt_desc
	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* PG | PE */
	movl %eax, %cr0
	ljmp $KCODE64, $long_entry

	.org 0x200
	.code64
	.globl startup_64
startup_64:
	cli
	cld
	movl $2, boot_mode(%rip)
	movq %rsi, boot_info(%rip)
	leaq boot_stack_top(%rip), %rsp	/* the boot protocol gives no stack */
	lgdt gdt_desc(%rip)
	leaq pml4(%rip), %rax
	movq %rax, %cr3
	pushq $KCODE64
	leaq long_entry(%rip), %rax
	pushq %rax
	lretq

long_entry:
	movw $KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	leaq boot_stack_top(%rip), %rsp
	movl boot_mode(%rip), %edi
	movq boot_info(%rip), %rsi
	call probe_main
1:	cli
	hlt
	jmp 1b

	/* APs arrive here from the trampoline in 64-bit mode. */
ap_long:
	movw $KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $1, %eax
	lock xaddl %eax, ap_next_stack(%rip)
	cmpl $MAX_CPUS, %eax
	jae 2f
	incl %eax
	imull $AP_STACK_SIZE, %eax
	leaq ap_stacks(%rip), %rsp
	addq %rax, %rsp
	call ap_main
2:	cli
	hlt
	jmp 2b

/*
 * struct user_result enter_user(uint64_t (*fn)(uint64_t), uint64_t arg,
 *                               void *stack_top)
 * Runs fn(arg) in ring 3 with IOPL 3; fn ends with ud2 carrying its
 * results in %rax and %rdx, and the #UD handler jumps to user_return.
 */
	.globl enter_user
enter_user:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, kernel_rsp(%rip)
	pushq $UDATA
	pushq %rdx
	pushq $0x3002			/* IOPL 3, interrupts off */
	pushq $UCODE64
	pushq %rdi
	movq %rsi, %rdi
	iretq

	.globl user_return
user_return:
	movq kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.altmacro
/* Exception stubs: a uniform frame (vector, error code) for the C side. */
.macro ISR n
isr\n:
	.if !(\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	pushq $0
	.endif
	pushq $\n
	jmp isr_common
.endm

	.set i, 0
	.rept 32
	ISR %i
	.set i, i + 1
	.endr

isr_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rbx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	movq %rsp, %rdi
	andq $-16, %rsp
	call exception_handler
3:	cli
	hlt
	jmp 3b

	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
.macro ISR_ADDR n
	.quad isr\n
.endm
	.set i, 0
	.rept 32
	ISR_ADDR %i
	.set i, i + 1
	.endr

/* Real-mode AP trampoline; probe_main copies it to AP_TRAMPOLINE. */
	.section .text
	.code16
	.globl ap_trampoline, ap_trampoline_end
ap_trampoline:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl ap_gdt_desc - ap_trampoline
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $KCODE32, $(AP_TRAMPOLINE + ap_32 - ap_trampoline)
	.code32
ap_32:
	movw $KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	ljmp $KCODE64, $ap_long
	.balign 4
ap_gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
ap_trampoline_end:
	.code64

	.section .data
	.balign 16
	.globl gdt
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08 kernel code, 64-bit */
	.quad 0x00cf93000000ffff	/* 0x10 kernel data */
	.quad 0x00cf9b000000ffff	/* 0x18 kernel code, 32-bit */
	.quad 0x00cff3000000ffff	/* 0x20 user data */
	.quad 0x00affb000000ffff	/* 0x28 user code, 64-bit */
	.quad 0, 0			/* 0x30 TSS, filled in by probe_main */
gdt_end:
	.balign 8
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.globl boot_mode, boot_info
boot_mode:
	.long 0
	.balign 8
boot_info:
	.quad 0
kernel_rsp:
	.quad 0
ap_next_stack:
	.long 0

/* Identity map of the low 4 GiB in 2 MiB pages, user-accessible so ring 3
 * can reach its code, data and the I/O it is allowed through IOPL. */
	.balign 4096
pml4:
	.quad pdpt + 0x7
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0007
	.quad pd + 0x1007
	.quad pd + 0x2007
	.quad pd + 0x3007
	.fill 508, 8, 0
pd:
	.set i, 0
	.rept 2048
	.quad (i << 21) | 0x87
	.set i, i + 1
	.endr

	.section .bss
	.balign 16
boot_stack:
	.skip STACK_SIZE
boot_stack_top:
	.globl ap_stacks
ap_stacks:
	.skip AP_STACK_SIZE * MAX_CPUS
