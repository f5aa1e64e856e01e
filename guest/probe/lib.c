// SPDX-License-Identifier: MIT
/* The little libc a freestanding probe needs. Output goes to COM1. */
#include "probe.h"

#define COM1 0x3f8

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (uint8_t)*a - (uint8_t)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

/*
 * Both VMMs' UARTs accept a byte at any time, so no LSR poll: each poll
 * would double the exits per character.
 */
static void putc_serial(char c)
{
	if (c == '\n')
		outb(COM1, '\r');
	outb(COM1, c);
}

void putstr(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

static void put_u64(uint64_t v, unsigned int base, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n < width && n < 24)
		buf[n++] = pad;
	while (n)
		putc_serial(buf[--n]);
}

/* %s %c %d %u %x with optional l/ll and a zero-padded width. */
void printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';

		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			putstr(va_arg(ap, const char *));
			break;
		case 'c':
			putc_serial(va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);

			if (v < 0) {
				putc_serial('-');
				v = -v;
			}
			put_u64(v, 10, width, pad);
			break;
		}
		case 'u':
			put_u64(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int), 10, width,
				pad);
			break;
		case 'x':
			put_u64(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int), 16, width,
				pad);
			break;
		default:
			putc_serial('%');
			putc_serial(*fmt);
		}
	}
	va_end(ap);
}

/* Value of "key=value" in a space-separated cmdline, not NUL-terminated. */
const char *cmdline_get(const char *cmdline, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;

			*len = 0;
			while (v[*len] && v[*len] != ' ')
				(*len)++;
			return v;
		}
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

uint64_t cmdline_u64(const char *cmdline, const char *key, uint64_t def)
{
	size_t len;
	const char *v = cmdline_get(cmdline, key, &len);
	uint64_t n = 0;

	if (!v || !len)
		return def;
	for (size_t i = 0; i < len && v[i] >= '0' && v[i] <= '9'; i++)
		n = n * 10 + (v[i] - '0');
	return n;
}
