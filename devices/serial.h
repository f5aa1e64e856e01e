/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_SERIAL_H
#define KVMINI_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"

#define SERIAL_COM1_PORT 0x3f8
#define SERIAL_COM1_IRQ 4
#define SERIAL_RX_FIFO 1024

struct vm;

/* An 8250/16550A UART: transmit goes straight to out_fd (and a console client). */
struct serial {
	pthread_mutex_t lock;
	struct vm *vm;
	unsigned int irq;
	int out_fd;
	/*
	 * A regular file as out_fd is capped at out_max bytes (0: no cap):
	 * past it, the VM thread cuts the file down to its last out_max / 2.
	 */
	uint64_t out_max, out_size, out_dropped;
	int trim_event_fd; /* the VM thread's cue to trim, or -1 */
	int read_fd; /* out_fd's file, opened for reading (the caller's) */
	bool trim_pending;
	int client_fd; /* an attached console (non-blocking), or -1 */
	int irq_level;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	int thri_pending;
	uint8_t rx[SERIAL_RX_FIFO];
	size_t rx_head, rx_count;
	uint64_t rx_dropped;
};

extern const struct device_ops serial_ops;
void serial_setup(struct serial *s, struct vm *vm, int out_fd, unsigned int irq);
/* Copies output to @fd too (-1: detach); bytes it cannot take are dropped. */
void serial_attach(struct serial *s, int fd);
/*
 * Caps out_fd at @max bytes if it is a regular file, which @read_fd reads
 * (it stays the caller's); returns an eventfd
 * that becomes readable when serial_trim_log() is due, or -1 (no cap).
 */
int serial_limit_log(struct serial *s, uint64_t max, int read_fd);
/*
 * On the VM thread, when the eventfd fires and every few seconds: past the
 * cap, keeps the log's last max / 2 bytes, counting the rest.
 */
void serial_trim_log(struct serial *s);
/* Console input for the guest, from the main thread. */
void serial_receive(struct serial *s, const uint8_t *data, size_t len);

#endif
