// SPDX-License-Identifier: MIT
/* 16550A UART, as much as Linux's 8250 driver and early printk use. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/serial.h"
#include "util.h"
#include "vm.h"

#define UART_RX 0 /* in: receive buffer */
#define UART_TX 0 /* out: transmit holding */
#define UART_IER 1
#define UART_IIR 2 /* in */
#define UART_FCR 2 /* out */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & 1) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NO_INT;
}

static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->vm)
			vm_irq_line(s->vm, s->irq, level);
	}
}

static void rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count == SERIAL_RX_FIFO) {
		s->rx_dropped++;
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO] = c;
	s->rx_count++;
}

static void serial_read(void *dev, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct serial *s = dev;
	uint8_t v = 0;

	memset(data, 0, size);
	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case UART_RX:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
		} else if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO;
			s->rx_count--;
		}
		break;
	case UART_IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR:
		v = serial_iir(s);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			s->thri_pending = 0;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
		break;
	case UART_MSR:
		if (s->mcr & MCR_LOOP) /* modem outputs wired back to inputs */
			v = ((s->mcr & 0x0c) << 4) | ((s->mcr & 0x02) << 3) |
			    ((s->mcr & 0x01) << 5);
		else
			v = MSR_DCD | MSR_DSR | MSR_CTS;
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	data[0] = v;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* One byte to the output file, within its cap: a guest must not fill the disk. */
static void serial_output(struct serial *s, uint8_t v)
{
	uint64_t one = 1;

	if (s->out_fd < 0)
		return;
	/* Past twice the cap the VM thread is behind: drop, do not grow. */
	if (s->out_max && s->out_size >= 2 * s->out_max) {
		s->out_dropped++;
		return;
	}
	/* A closed or full stdout must not stop the guest. */
	if (write(s->out_fd, &v, 1) < 0) {
		s->out_fd = -1;
		return;
	}
	if (s->out_max && ++s->out_size >= s->out_max && !s->trim_pending) {
		s->trim_pending = true;
		if (write(s->trim_event_fd, &one, sizeof(one)) < 0)
			s->out_max = 0; /* an eventfd write fails only on overflow */
	}
}

static void serial_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t size)
{
	struct serial *s = dev;
	uint8_t v = data[0];

	(void)size;
	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case UART_TX:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else if (s->mcr & MCR_LOOP) {
			rx_push(s, v);
			s->thri_pending = 1;
		} else {
			serial_output(s, v);
			if (s->client_fd >= 0 && write(s->client_fd, &v, 1) < 0 && errno != EAGAIN)
				s->client_fd = -1; /* gone; the main loop closes it */
			s->thri_pending = 1;
		}
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI with the transmitter empty raises it at once. */
			if (!(s->ier & IER_THRI) && (v & IER_THRI))
				s->thri_pending = 1;
			s->ier = v & 0x0f;
		}
		break;
	case UART_FCR:
		s->fcr = v & 0xc9;
		if (v & 0x02) { /* clear receive FIFO */
			s->rx_count = 0;
			s->rx_head = 0;
		}
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct device_ops serial_ops = {
	.name = "serial",
	.read = serial_read,
	.write = serial_write,
};

void serial_setup(struct serial *s, struct vm *vm, int out_fd, unsigned int irq)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->vm = vm;
	s->out_fd = out_fd;
	s->trim_event_fd = -1;
	s->client_fd = -1;
	s->irq = irq;
}

int serial_limit_log(struct serial *s, uint64_t max, int read_fd)
{
	struct stat st;

	if (!max || read_fd < 0 || fstat(s->out_fd, &st) || !S_ISREG(st.st_mode))
		return -1;
	s->read_fd = read_fd;
	s->trim_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->trim_event_fd < 0)
		return -1;
	s->out_max = max;
	s->out_size = st.st_size;
	return s->trim_event_fd;
}

/* Reads exactly @len bytes at @offset; false on a short file or an error. */
static bool read_at(int fd, uint8_t *buf, size_t len, off_t offset)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, offset);

		if (n <= 0)
			return false;
		buf += n;
		len -= n;
		offset += n;
	}
	return true;
}

static bool write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

void serial_trim_log(struct serial *s)
{
	uint64_t count, keep;
	uint8_t *tail = NULL;
	char mark[160];
	struct stat st;
	int n;

	/* A cue from a vCPU, or the VM thread's periodic look (kvmini's own log
	 * lines may share the file and grow it too). */
	if (read(s->trim_event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->out_fd < 0)
		goto out;
	if (fstat(s->out_fd, &st))
		goto fail;
	if ((uint64_t)st.st_size < s->out_max) {
		s->out_size = st.st_size;
		goto out;
	}
	/* The file as it is: kvmini's own log lines may share it. */
	keep = (uint64_t)st.st_size < s->out_max / 2 ? (uint64_t)st.st_size : s->out_max / 2;
	tail = malloc(keep ? keep : 1);
	if (!tail || !read_at(s->read_fd, tail, keep, st.st_size - keep))
		goto fail;
	s->out_dropped += st.st_size - keep;
	n = snprintf(mark, sizeof(mark),
		     "[kvmini: %" PRIu64 " bytes of console output dropped so far, "
		     "to keep this log under %" PRIu64 " KiB]\n",
		     s->out_dropped, s->out_max >> 10);
	/* An O_APPEND file appends at its new end, 0; any other from offset 0. */
	if (ftruncate(s->out_fd, 0) || lseek(s->out_fd, 0, SEEK_SET) < 0 ||
	    !write_all(s->out_fd, mark, n) || !write_all(s->out_fd, tail, keep))
		goto fail;
	s->out_size = n + keep;
	goto out;
fail:
	/* A log that cannot be cut down is not written to: the disk comes first. */
	log_warn("console output: cutting it down to %" PRIu64 " KiB failed (%s); no more is "
		 "written",
		 s->out_max >> 10, strerror(errno));
	s->out_fd = -1;
out:
	s->trim_pending = false;
	pthread_mutex_unlock(&s->lock);
	free(tail);
}

void serial_attach(struct serial *s, int fd)
{
	pthread_mutex_lock(&s->lock);
	s->client_fd = fd;
	pthread_mutex_unlock(&s->lock);
}

void serial_receive(struct serial *s, const uint8_t *data, size_t len)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < len; i++)
		rx_push(s, data[i]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

int serial_init(struct vm *vm)
{
	struct serial *s = vm_alloc_device(vm, sizeof(*s));
	struct acpi_device acpi = {
		.name = "COM1",
		.hid = "PNP0501",
		.io = { { SERIAL_COM1_PORT, 8 } },
		.irq = SERIAL_COM1_IRQ,
	};

	if (!s)
		return -1;
	serial_setup(s, vm, STDOUT_FILENO, SERIAL_COM1_IRQ);
	serial_limit_log(s, vm->spec->console_max, vm->host->console_read_fd);
	vm->serial = s;
	if (bus_register(&vm->pio, SERIAL_COM1_PORT, 8, &serial_ops, s))
		return -1;
	return vm_add_acpi_device(vm, &acpi);
}
