// SPDX-License-Identifier: MIT
/*
 * virtio-mmio transport, version 2 (virtio 1.2, 4.2.2). Queue notifies
 * arrive on ioeventfds and interrupts leave through an irqfd, so the data
 * path never exits to the vCPU thread; an I/O thread per device runs the
 * device model.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "security/seccomp.h"
#include "util.h"
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

#define INT_USED_RING 1
#define INT_CONFIG 2

/* The I/O thread's epoll tags beyond the queues' own (0 .. VIRTIO_MAX_QUEUES - 1) */
enum {
	TAG_STOP = VIRTIO_MAX_QUEUES,
	TAG_POLL,
	TAG_RESET
};

static uint64_t offered_features(const struct virtio_dev *vdev)
{
	return vdev->features | 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_INDIRECT_DESC |
	       1ULL << VIRTIO_F_RING_EVENT_IDX | 1ULL << VIRTIO_F_RING_RESET;
}

bool virtio_has_feature(const struct virtio_dev *vdev, unsigned int bit)
{
	return vdev->driver_features & (1ULL << bit);
}

static void raise_interrupt(struct virtio_dev *vdev, uint32_t why)
{
	uint64_t one = 1;

	vdev->interrupt_status |= why;
	if (vdev->irq_fd >= 0 && write(vdev->irq_fd, &one, sizeof(one)) < 0)
		log_warn("%s: irqfd: %s", vdev->ops->name, strerror(errno));
}

void virtio_process_queue(struct virtio_dev *vdev, int queue, struct virtq_chain *chain,
			  virtio_request_fn handle, bool (*may_continue)(struct virtio_dev *))
{
	struct virtq *q = &vdev->queues[queue];
	bool pushed = false;

	for (int turns = 0;; turns++) {
		int r;

		if (may_continue && !may_continue(vdev))
			break;
		if (turns == q->num) {
			/* A ring's worth: let the I/O thread serve the rest first. */
			virtio_notify_self(vdev, queue);
			break;
		}
		r = virtq_pop(q, &vdev->vm->ram, chain);
		if (r == VIRTQ_EMPTY) {
			if (!virtq_arm_avail_event(q))
				break;
			continue;
		}
		if (r == VIRTQ_BROKEN) {
			virtio_needs_reset(vdev, "avail ring index or head out of range");
			return;
		}
		if (r == VIRTQ_BAD_CHAIN) {
			/* Fail this request only; the queue and device go on. */
			vdev->bad_chains++;
			log_guest("%s: malformed descriptor chain (head %u) completed "
				  "with length 0",
				  vdev->ops->name, chain->head);
			virtq_push(q, chain->head, 0);
		} else {
			uint32_t len = handle(vdev, chain);

			if (len == VIRTIO_DEFERRED)
				continue;
			virtq_push(q, chain->head, len);
		}
		pushed = true;
	}
	if (pushed)
		virtio_notify_used(vdev, queue);
}

void virtio_push(struct virtio_dev *vdev, int queue, uint16_t head, uint32_t len)
{
	virtq_push(&vdev->queues[queue], head, len);
}

void virtio_notify_used(struct virtio_dev *vdev, int queue)
{
	if (vdev->queues[queue].ready && virtq_should_notify(&vdev->queues[queue]))
		raise_interrupt(vdev, INT_USED_RING);
}

void virtio_poll_enable(struct virtio_dev *vdev, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = TAG_POLL };

	if (vdev->poll_enabled != on &&
	    epoll_ctl(vdev->epoll_fd, EPOLL_CTL_MOD, vdev->ops->poll_fd(vdev), &ev) == 0)
		vdev->poll_enabled = on;
}

void virtio_mmio_pause(struct virtio_dev *vdev, bool pause)
{
	pthread_mutex_lock(&vdev->lock);
	vdev->paused = pause;
	if (!pause) {
		/* Replayed through the I/O thread, which alone runs the model. */
		for (int q = 0; q < VIRTIO_MAX_QUEUES; q++)
			if (vdev->held_notifies & (1u << q))
				virtio_notify_self(vdev, q);
		if (vdev->poll_held)
			virtio_poll_enable(vdev, true);
		vdev->held_notifies = 0;
		vdev->poll_held = false;
	}
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_config_changed(struct virtio_dev *vdev)
{
	vdev->config_generation++;
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		raise_interrupt(vdev, INT_CONFIG);
}

void virtio_needs_reset(struct virtio_dev *vdev, const char *why)
{
	if (!(vdev->status & VIRTIO_STATUS_NEEDS_RESET))
		log_guest("%s at 0x%llx: %s; the device needs a reset", vdev->ops->name,
			  (unsigned long long)vdev->base, why);
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vdev->queues[i].ready = false;
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		raise_interrupt(vdev, INT_CONFIG);
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
static void serve_resets(struct virtio_dev *vdev)
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

void virtio_notify_self(struct virtio_dev *vdev, int queue)
{
	uint64_t one = 1;

	if (write(vdev->notify_fd[queue], &one, sizeof(one)) < 0)
		log_warn("%s: queue %d notify: %s", vdev->ops->name, queue, strerror(errno));
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

static const struct device_ops virtio_mmio_ops = {
	.name = "virtio-mmio",
	.read = virtio_mmio_read,
	.write = virtio_mmio_write,
};

/* The I/O thread ends: it serves a last reset, so that no vCPU waits on. */
static void *io_thread_exit(struct virtio_dev *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	serve_resets(vdev);
	vdev->io_running = false;
	pthread_cond_broadcast(&vdev->reset_done);
	pthread_mutex_unlock(&vdev->lock);
	return NULL;
}

static void *io_thread(void *arg)
{
	struct virtio_dev *vdev = arg;
	struct epoll_event events[VIRTIO_MAX_QUEUES + 3];

	if (seccomp_apply(vdev->ops->io_role)) {
		vm_request_exit(vdev->vm, EXIT_HOST_ERROR);
		return io_thread_exit(vdev);
	}
	for (;;) {
		int n = epoll_wait(vdev->epoll_fd, events, ARRAY_SIZE(events), -1);

		if (n < 0 && errno != EINTR) {
			/* A device without its thread cannot serve even a reset: stop. */
			log_error("%s: epoll_wait: %s", vdev->ops->name, strerror(errno));
			vm_request_exit(vdev->vm, EXIT_HOST_ERROR);
			return io_thread_exit(vdev);
		}
		for (int i = 0; i < n; i++) {
			int tag = events[i].data.u32;
			uint64_t count;

			if (tag == TAG_STOP)
				return io_thread_exit(vdev);
			pthread_mutex_lock(&vdev->lock);
			if (tag == TAG_RESET) {
				serve_resets(vdev);
			} else if (vdev->paused && tag == TAG_POLL) {
				vdev->poll_held = true;
				virtio_poll_enable(vdev, false);
			} else if (vdev->paused) {
				if (read(vdev->notify_fd[tag], &count, sizeof(count)) > 0)
					vdev->held_notifies |= 1u << tag;
			} else if (tag == TAG_POLL) {
				vdev->ops->poll_ready(vdev);
			} else if (read(vdev->notify_fd[tag], &count, sizeof(count)) > 0 &&
				   vdev->queues[tag].ready &&
				   (vdev->status & VIRTIO_STATUS_DRIVER_OK)) {
				vdev->ops->queue_notify(vdev, tag);
			}
			pthread_mutex_unlock(&vdev->lock);
		}
	}
}

#ifdef KVMINI_FUZZ
/* Fuzz builds have no KVM: the harness writes the notify eventfds itself. */
#define vm_ioctl(vdev, request, arg) ((void)(arg), 0)
#else
#define vm_ioctl(vdev, request, arg) ioctl((vdev)->vm->kvm.vm_fd, request, arg)
#endif

static int watch(int epoll_fd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup_eventfds(struct virtio_dev *vdev)
{
	struct kvm_irqfd irqfd = { .gsi = vdev->irq };

	vdev->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vdev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vdev->reset_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vdev->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (vdev->irq_fd < 0 || vdev->stop_fd < 0 || vdev->reset_fd < 0 || vdev->epoll_fd < 0)
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
		if (vm_ioctl(vdev, KVM_IOEVENTFD, &ioev) < 0 ||
		    watch(vdev->epoll_fd, vdev->notify_fd[i], i))
			return -1;
	}
	if (watch(vdev->epoll_fd, vdev->stop_fd, TAG_STOP) ||
	    watch(vdev->epoll_fd, vdev->reset_fd, TAG_RESET))
		return -1;
	if (vdev->ops->poll_fd && vdev->ops->poll_fd(vdev) >= 0) {
		if (watch(vdev->epoll_fd, vdev->ops->poll_fd(vdev), TAG_POLL))
			return -1;
		vdev->poll_enabled = true;
	}
	return 0;
}

int virtio_mmio_add(struct vm *vm, const struct virtio_dev_ops *ops, const char *id,
		    uint64_t features, void *priv)
{
	struct virtio_dev *vdev;
	struct acpi_device acpi = { .hid = "LNRO0005", .mmio_len = VIRTIO_MMIO_SIZE };
	int index = vm->nvirtio, err;

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
	vdev->irq_fd = vdev->stop_fd = vdev->reset_fd = vdev->epoll_fd = -1;
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
	vdev->io_running = true;
	err = pthread_create(&vdev->thread, NULL, io_thread, vdev);
	if (err) {
		vdev->io_running = false;
		log_error("%s: starting I/O thread: %s", ops->name, strerror(err));
		return -1;
	}
	vdev->thread_started = true;
	{
		char name[16];

		snprintf(name, sizeof(name), "io-%s", ops->name + 7); /* skip "virtio-" */
		pthread_setname_np(vdev->thread, name);
	}
	return 0;
}

void virtio_mmio_stop(struct virtio_dev *vdev)
{
	uint64_t one = 1;

	if (vdev->thread_started) {
		if (write(vdev->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(vdev->thread, NULL);
		vdev->thread_started = false;
	}
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		if (vdev->notify_fd[i] >= 0)
			close(vdev->notify_fd[i]);
	if (vdev->irq_fd >= 0)
		close(vdev->irq_fd);
	if (vdev->stop_fd >= 0)
		close(vdev->stop_fd);
	if (vdev->reset_fd >= 0)
		close(vdev->reset_fd);
	if (vdev->epoll_fd >= 0)
		close(vdev->epoll_fd);
	if (vdev->ops->destroy)
		vdev->ops->destroy(vdev);
}
