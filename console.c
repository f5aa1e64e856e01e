// SPDX-License-Identifier: MIT
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

static struct termios saved;
static volatile sig_atomic_t raw_active;

void console_restore(void)
{
	if (raw_active) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		raw_active = 0;
	}
}

/* A crash of kvmini itself must still hand the terminal back. */
static void fatal_signal(int sig)
{
	console_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

void console_raw_mode(void)
{
	struct termios raw;
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	raw = saved;
	cfmakeraw(&raw);
	/* Keep output processing so host-side log lines stay readable. */
	raw.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return;
	raw_active = 1;
	atexit(console_restore);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal_signal);
}

long console_filter(struct console_filter *f, const uint8_t *in, size_t len, uint8_t *out)
{
	long n = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];

		if (f->escaped) {
			f->escaped = 0;
			if (c == 'x' || c == 'X')
				return -1;
			if (c != CONSOLE_ESCAPE)
				out[n++] = CONSOLE_ESCAPE;
			out[n++] = c;
		} else if (c == CONSOLE_ESCAPE) {
			f->escaped = 1;
		} else {
			out[n++] = c;
		}
	}
	return n;
}
