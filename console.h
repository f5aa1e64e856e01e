/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_CONSOLE_H
#define KVMINI_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

/* Raw mode for a terminal stdin, restored on every exit path. */
void console_raw_mode(void);
void console_restore(void);

/*
 * Filters typed input: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A.
 * Copies the bytes meant for the guest to @out and returns their count, or
 * -1 when the user asked to quit.
 */
struct console_filter {
	int escaped;
};
long console_filter(struct console_filter *f, const uint8_t *in, size_t len, uint8_t *out);

#endif
