// SPDX-License-Identifier: MIT
/*
 * i8042 keyboard controller: enough for Linux's probe (controller config
 * byte, self-test) and for the pulse-reset command that reboots the guest.
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

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_PULSE_RESET 0xfe

struct i8042 {
	pthread_mutex_t lock;
	struct vm *vm;
	uint8_t status;
	uint8_t ctr;
	uint8_t out;
	uint8_t pending_cmd;
};

static void i8042_output(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->status |= STATUS_OBF;
}

static void i8042_read(void *dev, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct i8042 *k = dev;

	memset(data, 0, size);
	pthread_mutex_lock(&k->lock);
	if (offset == 0) {
		data[0] = k->out;
		k->status &= ~STATUS_OBF;
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
		k->status &= ~STATUS_CMD;
		if (k->pending_cmd == CMD_WRITE_CTR)
			k->ctr = v;
		k->pending_cmd = 0;
		pthread_mutex_unlock(&k->lock);
		return;
	}
	k->status |= STATUS_CMD;
	switch (v) {
	case CMD_READ_CTR:
		i8042_output(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
		k->pending_cmd = v;
		break;
	case CMD_SELF_TEST:
		i8042_output(k, 0x55);
		break;
	case CMD_KBD_TEST:
		i8042_output(k, 0x00);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= 0x10;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= ~0x10;
		break;
	case CMD_PULSE_RESET:
		pthread_mutex_unlock(&k->lock);
		vm_request_exit(k->vm, EXIT_REBOOT);
		return;
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_reset(void *dev)
{
	struct i8042 *k = dev;

	k->status = STATUS_SYS;
	k->ctr = 0x01 | 0x04 | 0x40; /* kbd IRQ, system flag, translation */
	k->out = 0;
	k->pending_cmd = 0;
}

static const struct device_ops i8042_ops = {
	.name = "i8042",
	.read = i8042_read,
	.write = i8042_write,
	.reset = i8042_reset,
};

int i8042_init(struct vm *vm)
{
	struct i8042 *k = vm_alloc_device(vm, sizeof(*k));

	if (!k)
		return -1;
	pthread_mutex_init(&k->lock, NULL);
	k->vm = vm;
	i8042_reset(k);
	/* 0x61-0x63 in between belong to the in-kernel PIT or nobody. */
	return bus_register(&vm->pio, I8042_DATA, I8042_CMD - I8042_DATA + 1, &i8042_ops, k);
}
