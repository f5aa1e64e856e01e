// SPDX-License-Identifier: MIT
/* 16550A UART, as much as Linux's 8250 driver and early printk use. */
#include <errno.h>
#include <string.h>
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
			/* A closed or full stdout must not stop the guest. */
			if (s->out_fd >= 0 && write(s->out_fd, &v, 1) < 0)
				s->out_fd = -1;
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

static void serial_reset(void *dev)
{
	struct serial *s = dev;

	pthread_mutex_lock(&s->lock);
	s->ier = s->lcr = s->mcr = s->scr = s->fcr = s->dll = s->dlm = 0;
	s->thri_pending = 0;
	s->rx_head = s->rx_count = 0;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct device_ops serial_ops = {
	.name = "serial",
	.read = serial_read,
	.write = serial_write,
	.reset = serial_reset,
};

void serial_setup(struct serial *s, struct vm *vm, int out_fd, unsigned int irq)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->vm = vm;
	s->out_fd = out_fd;
	s->client_fd = -1;
	s->irq = irq;
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
	vm->serial = s;
	if (bus_register(&vm->pio, SERIAL_COM1_PORT, 8, &serial_ops, s))
		return -1;
	return vm_add_acpi_device(vm, &acpi);
}
