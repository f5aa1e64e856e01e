/* SPDX-License-Identifier: MIT */
#ifndef PROBE_H
#define PROBE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void pause(void)
{
	__asm__ volatile("pause");
}

/* probe.c */
struct user_result {
	uint64_t value, cpl;
};
extern const char *cmdline;
extern uint64_t dsdt_addr;
extern uint8_t user_stack[16384];
void check(int ok, const char *name);
uint32_t table_len(uint64_t table);
/* Runs fn(arg) in ring 3 and returns what it hands back with ud2. */
struct user_result enter_user(struct user_result (*fn)(uint64_t), uint64_t arg, void *stack);
#define USER_STACK_TOP (user_stack + sizeof(user_stack) - 8)
#define user_exit(a, d) __asm__ volatile("ud2" : : "a"((uint64_t)(a)), "d"((uint64_t)(d)))

/* virtio.c */
void check_virtio(void);

/* lib.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
void putstr(const char *s);
void printf(const char *fmt, ...);
const char *cmdline_get(const char *cmdline, const char *key, size_t *len);
uint64_t cmdline_u64(const char *cmdline, const char *key, uint64_t def);

#endif
