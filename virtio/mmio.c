// SPDX-License-Identifier: MIT
/*
 * virtio-mmio transport, version 2 (virtio 1.2, 4.2.2). Queue notifies
 * arrive on ioeventfds and interrupts leave through an irqfd, so the data
 * path never exits to the vCPU thread; an I/O thread per device
 * (virtio/device.c) runs the device model.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "security/seccomp.h"
#include "util.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "vm.h"

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_VENDOR_ID 0x00c
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4
#define REG_SHM_SEL 0x0ac
#define REG_SHM_LEN_LOW 0x0b0
#define REG_SHM_LEN_HIGH 0x0b4
#define REG_SHM_BASE_LOW 0x0b8
#define REG_SHM_BASE_HIGH 0x0bc
#define REG_QUEUE_RESET 0x0c0
#define REG_CONFIG_GENERATION 0x0fc
#define REG_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */
#define VIRTIO_VENDOR_ID 0x4e4d564b /* "KVMN" */
#define VIRTIO_F_RING_RESET 40

static uint64_t offered_features(const struct virtio_dev *vdev)
{
	return vdev->features | 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_INDIRECT_DESC |
	       1ULL << VIRTIO_F_RING_EVENT_IDX | 1ULL << VIRTIO_F_RING_RESET;
}

#define RESET_DEVICE (1u << VIRTIO_MAX_QUEUES)

/* On the I/O thread (or where there is none, in tests), lock held. */
static void do_reset(struct virtio_dev *vdev, uint32_t what)
{
	if (what & RESET_DEVICE) {
		vdev->status = 0;
		vdev->driver_features = 0;
		vdev->device_features_sel = vdev->driver_features_sel = vdev->queue_sel = 0;
		vdev->interrupt_status = 0;
		for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
			virtq_reset(&vdev->queues[i]);
		if (vdev->ops->reset)
			vdev->ops->reset(vdev);
		return;
	}
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (!(what & (1u << i)))
			continue;
		virtq_reset(&vdev->queues[i]);
		if (vdev->ops->queue_reset)
			vdev->ops->queue_reset(vdev, i);
	}
}

/*
 * From the vCPU, lock held: has the I/O thread do the reset and waits for
 * it, so the register write completes only once the reset has.
 */
static void request_reset(struct virtio_dev *vdev, uint32_t what)
{
	uint64_t one = 1;

	if (!vdev->io_running) {
		do_reset(vdev, what);
		return;
	}
	vdev->reset_pending |= what;
	if (write(vdev->reset_fd, &one, sizeof(one)) < 0)
		log_warn("%s: waking the I/O thread for a reset: %s", vdev->ops->name,
			 strerror(errno));
	while (vdev->reset_pending && vdev->io_running)
		pthread_cond_wait(&vdev->reset_done, &vdev->lock);
}

/* On the I/O thread, lock held: the resets the vCPUs asked for. */
void virtio_serve_resets(struct virtio_dev *vdev)
{
	uint64_t count;

	if (read(vdev->reset_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_warn("%s: reset eventfd: %s", vdev->ops->name, strerror(errno));
	if (!vdev->reset_pending)
		return;
	do_reset(vdev, vdev->reset_pending);
	vdev->reset_pending = 0;
	pthread_cond_broadcast(&vdev->reset_done);
}

static struct virtq *selected_queue(struct virtio_dev *vdev)
{
	return vdev->queue_sel < vdev->ops->num_queues ? &vdev->queues[vdev->queue_sel] : NULL;
}

/*
 * Queue registers are frozen while the queue is live, and after DRIVER_OK
 * unless this queue was reset on its own (VIRTIO_F_RING_RESET).
 */
static bool queue_locked(const struct virtio_dev *vdev, const struct virtq *q)
{
	return q->ready || ((vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
			    !virtio_has_feature(vdev, VIRTIO_F_RING_RESET));
}

static uint32_t read_reg(struct virtio_dev *vdev, uint64_t offset)
{
	struct virtq *q = selected_queue(vdev);

	switch (offset) {
	case REG_MAGIC:
		return VIRTIO_MMIO_MAGIC;
	case REG_VERSION:
		return 2;
	case REG_DEVICE_ID:
		return vdev->ops->device_id;
	case REG_VENDOR_ID:
		return VIRTIO_VENDOR_ID;
	case REG_DEVICE_FEATURES:
		return vdev->device_features_sel > 1
			   ? 0
			   : offered_features(vdev) >> (32 * vdev->device_features_sel);
	case REG_QUEUE_NUM_MAX:
		return q ? VIRTQ_MAX_SIZE : 0;
	case REG_QUEUE_READY:
		return q && q->ready;
	case REG_INTERRUPT_STATUS:
		return vdev->interrupt_status;
	case REG_STATUS:
		return vdev->status;
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case REG_QUEUE_RESET:
		return 0; /* a reset completes before the write returns */
	case REG_CONFIG_GENERATION:
		return vdev->config_generation;
	default:
		return 0;
	}
}

static void set_addr_half(uint64_t *addr, bool high, uint32_t v)
{
	if (high)
		*addr = (*addr & 0xffffffffULL) | (uint64_t)v << 32;
	else
		*addr = (*addr & ~0xffffffffULL) | v;
}

/*
 * The device goes live: a notify for each ready queue, so that the model
 * looks at rings (and restarts the polling it stopped) that the driver
 * filled before DRIVER_OK, when notifies are ignored.
 */
static void replay_notifies(struct virtio_dev *vdev)
{
	for (int q = 0; q < vdev->ops->num_queues && vdev->io_running; q++)
		if (vdev->queues[q].ready)
			virtio_notify_self(vdev, q);
}

static void write_status(struct virtio_dev *vdev, uint32_t v)
{
	if (v == 0) {
		request_reset(vdev, RESET_DEVICE);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* Only a subset of what we offered, and only modern drivers. */
		if ((vdev->driver_features & ~offered_features(vdev)) ||
		    !virtio_has_feature(vdev, VIRTIO_F_VERSION_1))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(vdev->status & VIRTIO_STATUS_DRIVER_OK))
		replay_notifies(vdev);
	vdev->status = v | (vdev->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void write_queue_reg(struct virtio_dev *vdev, struct virtq *q, uint64_t offset, uint32_t v)
{
	if (offset == REG_QUEUE_RESET) {
		if (v == 1 && virtio_has_feature(vdev, VIRTIO_F_RING_RESET))
			request_reset(vdev, 1u << (q - vdev->queues));
		return;
	}
	if (queue_locked(vdev, q))
		return;
	switch (offset) {
	case REG_QUEUE_NUM:
		q->num = v > VIRTQ_MAX_SIZE ? 0 : v;
		break;
	case REG_QUEUE_READY:
		if (v != 1)
			break;
		q->event_idx = virtio_has_feature(vdev, VIRTIO_F_RING_EVENT_IDX);
		if (virtq_activate(q, &vdev->vm->ram))
			log_guest("%s: queue %u rejected: bad size or ring address",
				  vdev->ops->name, vdev->queue_sel);
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		set_addr_half(&q->desc_addr, offset == REG_QUEUE_DESC_HIGH, v);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		set_addr_half(&q->avail_addr, offset == REG_QUEUE_DRIVER_HIGH, v);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		set_addr_half(&q->used_addr, offset == REG_QUEUE_DEVICE_HIGH, v);
		break;
	}
}

static void write_reg(struct virtio_dev *vdev, uint64_t offset, uint32_t v)
{
	struct virtq *q = selected_queue(vdev);

	switch (offset) {
	case REG_DEVICE_FEATURES_SEL:
		vdev->device_features_sel = v;
		break;
	case REG_DRIVER_FEATURES:
		/* Frozen once the driver claimed FEATURES_OK. */
		if (vdev->driver_features_sel <= 1 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
			int shift = 32 * vdev->driver_features_sel;

			vdev->driver_features &= ~(0xffffffffULL << shift);
			vdev->driver_features |= (uint64_t)v << shift;
		}
		break;
	case REG_DRIVER_FEATURES_SEL:
		vdev->driver_features_sel = v;
		break;
	case REG_QUEUE_SEL:
		vdev->queue_sel = v;
		break;
	case REG_QUEUE_NOTIFY: {
		uint64_t one = 1;

		/*
		 * KVM's ioeventfd normally takes these. Should one arrive here,
		 * it goes the same way: device work belongs on the I/O thread,
		 * never on a vCPU, whose seccomp list has no device syscalls.
		 */
		if (v < vdev->ops->num_queues && vdev->notify_fd[v] >= 0 &&
		    write(vdev->notify_fd[v], &one, sizeof(one)) < 0)
			log_warn("%s: queue notify: %s", vdev->ops->name, strerror(errno));
		break;
	}
	case REG_INTERRUPT_ACK:
		vdev->interrupt_status &= ~v;
		break;
	case REG_STATUS:
		write_status(vdev, v);
		break;
	case REG_SHM_SEL:
		break;
	case REG_QUEUE_NUM:
	case REG_QUEUE_READY:
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
	case REG_QUEUE_RESET:
		if (q)
			write_queue_reg(vdev, q, offset, v);
		break;
	}
}

void virtio_mmio_read(void *dev, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct virtio_dev *vdev = dev;

	memset(data, 0, size);
	pthread_mutex_lock(&vdev->lock);
	if (offset >= REG_CONFIG) {
		uint8_t config[VIRTIO_MAX_CONFIG] = { 0 };
		uint32_t len = vdev->ops->config_space ? vdev->ops->config_space(vdev, config) : 0;

		offset -= REG_CONFIG;
		if (offset < len && size <= len - offset)
			memcpy(data, config + offset, size);
	} else if (size == 4 && !(offset & 3)) {
		/* Registers take aligned 32-bit accesses only; others read 0. */
		store_le(data, 4, read_reg(vdev, offset));
	}
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_mmio_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t size)
{
	struct virtio_dev *vdev = dev;

	/* No device here has a writable config field: config writes are dropped. */
	if (offset >= REG_CONFIG || size != 4 || (offset & 3))
		return;
	pthread_mutex_lock(&vdev->lock);
	write_reg(vdev, offset, load_le(data, 4));
	pthread_mutex_unlock(&vdev->lock);
}

/* The registers a snapshot keeps, by name in struct virtio_dev and its state. */
/* clang-format off */
#define TRANSPORT_REGS(X) \
	X(status) X(queue_sel) X(device_features_sel) X(driver_features_sel) \
	X(interrupt_status) X(config_generation) X(driver_features)
/* clang-format on */

void virtio_dev_save(struct virtio_dev *vdev, struct virtio_dev_state *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&vdev->lock);
#define SAVE_REG(field) st->field = vdev->field;
	TRANSPORT_REGS(SAVE_REG)
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		const struct virtq *q = &vdev->queues[i];

		st->queues[i] = (struct virtio_queue_state){
			.num = q->num,
			.last_avail = q->last_avail,
			.used_idx = q->used_idx,
			.ready = q->ready,
			.event_idx = q->event_idx,
			.desc_addr = q->desc_addr,
			.avail_addr = q->avail_addr,
			.used_addr = q->used_addr,
		};
	}
	pthread_mutex_unlock(&vdev->lock);
}

static int restore_queue(struct virtio_dev *vdev, struct virtq *q,
			 const struct virtio_queue_state *s)
{
	virtq_reset(q);
	q->num = s->num;
	q->event_idx = s->event_idx;
	q->desc_addr = s->desc_addr;
	q->avail_addr = s->avail_addr;
	q->used_addr = s->used_addr;
	if (!s->ready)
		return 0;
	if (virtq_activate(q, &vdev->vm->ram))
		return -1;
	q->last_avail = q->avail_seen = s->last_avail;
	q->used_idx = s->used_idx;
	return 0;
}

int virtio_dev_restore(struct virtio_dev *vdev, const struct virtio_dev_state *st)
{
	int ret = 0;

	pthread_mutex_lock(&vdev->lock);
	for (int i = vdev->ops->num_queues; i < VIRTIO_MAX_QUEUES; i++)
		if (st->queues[i].ready)
			ret = -1; /* a queue this device does not have */
	if (st->driver_features & ~offered_features(vdev))
		ret = -1;
	if (ret)
		goto out;
#define LOAD_REG(field) vdev->field = st->field;
	TRANSPORT_REGS(LOAD_REG)
	for (int i = 0; i < VIRTIO_MAX_QUEUES && !ret; i++)
		ret = restore_queue(vdev, &vdev->queues[i], &st->queues[i]);
	/* Rings the driver filled before the snapshot are looked at again. */
	if (!ret && (vdev->status & VIRTIO_STATUS_DRIVER_OK))
		replay_notifies(vdev);
out:
	if (ret) {
		log_error("%s: the snapshot's transport state does not fit this device or RAM",
			  vdev->ops->name);
		do_reset(vdev, RESET_DEVICE); /* as the driver's reset: nothing half-restored */
	}
	pthread_mutex_unlock(&vdev->lock);
	return ret;
}

static const struct device_ops virtio_mmio_ops = {
	.name = "virtio-mmio",
	.read = virtio_mmio_read,
	.write = virtio_mmio_write,
};

#ifdef KVMINI_FUZZ
/* Fuzz builds have no KVM: the harness writes the notify eventfds itself. */
#define vm_ioctl(vdev, request, arg) ((void)(arg), 0)
#else
#define vm_ioctl(vdev, request, arg) ioctl((vdev)->vm->kvm.vm_fd, request, arg)
#endif

static int setup_eventfds(struct virtio_dev *vdev)
{
	struct kvm_irqfd irqfd = { .gsi = vdev->irq };

	vdev->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vdev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vdev->reset_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vdev->irq_fd < 0 || vdev->stop_fd < 0 || vdev->reset_fd < 0)
		return -1;
	irqfd.fd = vdev->irq_fd;
	if (vm_ioctl(vdev, KVM_IRQFD, &irqfd) < 0)
		return -1;
	for (int i = 0; i < vdev->ops->num_queues; i++) {
		struct kvm_ioeventfd ioev = {
			.datamatch = i,
			.addr = vdev->base + REG_QUEUE_NOTIFY,
			.len = 4,
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};

		vdev->notify_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->notify_fd[i] < 0)
			return -1;
		ioev.fd = vdev->notify_fd[i];
		if (vm_ioctl(vdev, KVM_IOEVENTFD, &ioev) < 0)
			return -1;
	}
	return 0;
}

int virtio_mmio_add(struct vm *vm, const struct virtio_dev_ops *ops, const char *id,
		    uint64_t features, void *priv)
{
	struct virtio_dev *vdev;
	struct acpi_device acpi = { .hid = "LNRO0005", .mmio_len = VIRTIO_MMIO_SIZE };
	int index = vm->nvirtio;

	vdev = index < MAX_VIRTIO_DEVICES ? vm_alloc_device(vm, sizeof(*vdev)) : NULL;
	if (!vdev) {
		/* We own @priv from here on, whatever happens. */
		struct virtio_dev orphan = { .ops = ops, .priv = priv };

		log_error("%s: too many virtio devices (at most %d)", ops->name,
			  MAX_VIRTIO_DEVICES);
		if (ops->destroy)
			ops->destroy(&orphan);
		return -1;
	}
	vdev->ops = ops;
	vdev->priv = priv;
	snprintf(vdev->id, sizeof(vdev->id), "%s", id ? id : "");
	vdev->features = features;
	vdev->vm = vm;
	vdev->base = VIRTIO_MMIO_BASE + index * VIRTIO_MMIO_SIZE;
	vdev->irq = VIRTIO_IRQ_BASE + index;
	vdev->irq_fd = vdev->stop_fd = vdev->reset_fd = vdev->loop.epoll_fd = -1;
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vdev->notify_fd[i] = -1;
	pthread_mutex_init(&vdev->lock, NULL);
	pthread_cond_init(&vdev->reset_done, NULL);
	vm->virtio[vm->nvirtio++] = vdev;
	if (setup_eventfds(vdev)) {
		log_error("%s: setting up ioeventfd/irqfd: %s", ops->name, strerror(errno));
		return -1;
	}
	if (bus_register(&vm->mmio, vdev->base, VIRTIO_MMIO_SIZE, &virtio_mmio_ops, vdev))
		return -1;
	memcpy(acpi.name, "VR", 2);
	acpi.name[2] = '0' + index / 10;
	acpi.name[3] = '0' + index % 10;
	acpi.uid = index;
	acpi.mmio_base = vdev->base;
	acpi.irq = vdev->irq;
	if (vm_add_acpi_device(vm, &acpi))
		return -1;
	return virtio_io_start(vdev);
}

void virtio_mmio_stop(struct virtio_dev *vdev)
{
	virtio_io_stop(vdev);
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		if (vdev->notify_fd[i] >= 0)
			close(vdev->notify_fd[i]);
	if (vdev->irq_fd >= 0)
		close(vdev->irq_fd);
	if (vdev->stop_fd >= 0)
		close(vdev->stop_fd);
	if (vdev->reset_fd >= 0)
		close(vdev->reset_fd);
	if (vdev->ops->destroy)
		vdev->ops->destroy(vdev);
}
