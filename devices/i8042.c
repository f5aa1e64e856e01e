// SPDX-License-Identifier: MIT
/*
 * i8042 keyboard controller: enough for Linux's probe (controller config
 * byte, self-test), the pulse-reset command that reboots the guest, and a
 * keyboard that answers Linux's atkbd probe (ACKs, its ID, a reset) and
 * can type one chord: Ctrl-Alt-Del, which the API sends so the guest
 * shuts down or reboots on its own terms.
 */
#include <pthread.h>
#include <string.h>

#include "util.h"
#include "vm.h"

#define I8042_DATA 0x60
#define I8042_CMD 0x64

#define STATUS_OBF 0x01
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08
#define STATUS_UNLOCKED 0x10 /* the keyboard is not inhibited by a keylock */

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_WRITE_OUTPUT_PORT 0xd1
#define CMD_WRITE_KBD_OUTPUT 0xd2 /* the next data byte reads back as a keystroke */
#define CMD_WRITE_AUX_OUTPUT 0xd3
#define CMD_WRITE_AUX 0xd4
#define CMD_PULSE_RESET 0xfe

#define CTR_KBD_IRQ 0x01
#define CTR_KBD_DISABLED 0x10
#define CTR_XLATE 0x40
#define KBD_IRQ 1
#define KBD_QUEUE 16

/* Commands to the keyboard itself, written to the data port. */
#define KBD_CMD_SET_LEDS 0xed
#define KBD_CMD_ECHO 0xee
#define KBD_CMD_SCANCODE_SET 0xf0
#define KBD_CMD_GET_ID 0xf2
#define KBD_CMD_TYPEMATIC 0xf3
#define KBD_CMD_RESET 0xff
#define KBD_ACK 0xfa
#define KBD_SELF_TEST_PASSED 0xaa

struct i8042 {
	pthread_mutex_t lock;
	struct vm *vm;
	uint8_t status;
	uint8_t ctr;
	uint8_t out;
	uint8_t pending_cmd;
	uint8_t kbd_cmd; /* a keyboard command waiting for its argument */
	uint8_t queue[KBD_QUEUE]; /* scancodes waiting for the output buffer */
	unsigned int head, count;
};

static void i8042_output(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->status |= STATUS_OBF;
}

/* Moves the next queued scancode into the output buffer and interrupts. */
static void i8042_feed(struct i8042 *k)
{
	if ((k->status & STATUS_OBF) || !k->count || (k->ctr & CTR_KBD_DISABLED))
		return;
	i8042_output(k, k->queue[k->head]);
	k->head = (k->head + 1) % KBD_QUEUE;
	k->count--;
	if (k->ctr & CTR_KBD_IRQ) {
		vm_irq_line(k->vm, KBD_IRQ, 1);
		vm_irq_line(k->vm, KBD_IRQ, 0);
	}
}

/* Queues a byte from the keyboard; a full queue drops it, as hardware does. */
static void kbd_send(struct i8042 *k, uint8_t v)
{
	if (k->count < KBD_QUEUE)
		k->queue[(k->head + k->count++) % KBD_QUEUE] = v;
}

static void kbd_command(struct i8042 *k, uint8_t v)
{
	if (k->kbd_cmd && v < KBD_CMD_SET_LEDS) { /* its argument: LEDs, set, rate */
		kbd_send(k, KBD_ACK);
		if (k->kbd_cmd == KBD_CMD_SCANCODE_SET && v == 0) /* which set? */
			kbd_send(k, (k->ctr & CTR_XLATE) ? 0x41 : 0x02);
		k->kbd_cmd = 0;
		return;
	}
	k->kbd_cmd = 0; /* a command byte instead of the argument starts over */
	switch (v) {
	case KBD_CMD_SET_LEDS:
	case KBD_CMD_SCANCODE_SET:
	case KBD_CMD_TYPEMATIC:
		k->kbd_cmd = v;
		kbd_send(k, KBD_ACK);
		break;
	case KBD_CMD_ECHO:
		kbd_send(k, KBD_CMD_ECHO);
		break;
	case KBD_CMD_GET_ID: /* an MF2 keyboard; the controller translates 0x83 */
		kbd_send(k, KBD_ACK);
		kbd_send(k, 0xab);
		kbd_send(k, (k->ctr & CTR_XLATE) ? 0x41 : 0x83);
		break;
	case KBD_CMD_RESET:
		k->head = k->count = 0;
		kbd_send(k, KBD_ACK);
		kbd_send(k, KBD_SELF_TEST_PASSED);
		break;
	default: /* enable, disable, defaults: nothing to keep */
		kbd_send(k, KBD_ACK);
		break;
	}
}

int i8042_send_ctrl_alt_del(struct i8042 *k)
{
	/* Scan code set 2, or set 1 where the controller translates. */
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
					0x71, 0xf0, 0x11, 0xf0, 0x14 };
	const uint8_t *codes;
	size_t n;
	int ret = -1;

	pthread_mutex_lock(&k->lock);
	codes = (k->ctr & CTR_XLATE) ? set1 : set2;
	n = (k->ctr & CTR_XLATE) ? sizeof(set1) : sizeof(set2);
	if (k->count + n <= KBD_QUEUE) {
		for (size_t i = 0; i < n; i++)
			k->queue[(k->head + k->count++) % KBD_QUEUE] = codes[i];
		i8042_feed(k);
		ret = 0;
	}
	pthread_mutex_unlock(&k->lock);
	return ret;
}

static void i8042_read(void *dev, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct i8042 *k = dev;

	memset(data, 0, size);
	pthread_mutex_lock(&k->lock);
	if (offset == 0) {
		data[0] = k->out;
		k->status &= ~STATUS_OBF;
		i8042_feed(k);
	} else if (offset == I8042_CMD - I8042_DATA) {
		data[0] = k->status;
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t size)
{
	struct i8042 *k = dev;
	uint8_t v = data[0];

	(void)size;
	if (offset != 0 && offset != I8042_CMD - I8042_DATA)
		return;
	pthread_mutex_lock(&k->lock);
	if (offset == 0) {
		/* A controller command's data byte, else a keyboard command.
		 * There is no AUX port: its bytes go nowhere, so Linux's loop
		 * and test commands time out and it registers none. */
		k->status &= ~STATUS_CMD;
		if (k->pending_cmd == CMD_WRITE_CTR)
			k->ctr = v;
		else if (k->pending_cmd == CMD_WRITE_KBD_OUTPUT)
			kbd_send(k, v);
		else if (!k->pending_cmd)
			kbd_command(k, v);
		k->pending_cmd = 0;
		i8042_feed(k);
		pthread_mutex_unlock(&k->lock);
		return;
	}
	k->status |= STATUS_CMD;
	switch (v) {
	case CMD_READ_CTR:
		i8042_output(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPUT_PORT:
	case CMD_WRITE_KBD_OUTPUT:
	case CMD_WRITE_AUX_OUTPUT:
	case CMD_WRITE_AUX:
		k->pending_cmd = v;
		break;
	case CMD_SELF_TEST:
		i8042_output(k, 0x55);
		break;
	case CMD_KBD_TEST:
		i8042_output(k, 0x00);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBD_DISABLED;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= ~CTR_KBD_DISABLED;
		i8042_feed(k);
		break;
	case CMD_PULSE_RESET:
		pthread_mutex_unlock(&k->lock);
		vm_request_exit(k->vm, EXIT_REBOOT);
		return;
	}
	pthread_mutex_unlock(&k->lock);
}

/* The state at power-on; a VM that reboots is built anew. */
static void i8042_power_on(struct i8042 *k)
{
	k->status = STATUS_SYS | STATUS_UNLOCKED;
	k->ctr = CTR_KBD_IRQ | 0x04 | CTR_XLATE; /* 0x04: the system flag */
	k->out = 0;
	k->pending_cmd = 0;
	k->kbd_cmd = 0;
	k->head = k->count = 0;
}

static const struct device_ops i8042_ops = {
	.name = "i8042",
	.read = i8042_read,
	.write = i8042_write,
};

int i8042_init(struct vm *vm)
{
	struct i8042 *k = vm_alloc_device(vm, sizeof(*k));
	/* Without it in the DSDT, Linux finds the controller by probing, but
	 * cannot request legacy IRQ 1 on a hardware-reduced ACPI machine. */
	struct acpi_device acpi = {
		.name = "PS2K",
		.hid = "PNP0303",
		.io = { { I8042_DATA, 1 }, { I8042_CMD, 1 } },
		.irq = KBD_IRQ,
	};

	if (!k)
		return -1;
	pthread_mutex_init(&k->lock, NULL);
	k->vm = vm;
	i8042_power_on(k);
	vm->i8042 = k;
	/* 0x61-0x63 in between belong to the in-kernel PIT or nobody. */
	if (bus_register(&vm->pio, I8042_DATA, I8042_CMD - I8042_DATA + 1, &i8042_ops, k))
		return -1;
	return vm_add_acpi_device(vm, &acpi);
}
