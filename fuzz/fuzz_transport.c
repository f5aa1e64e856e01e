// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio transport and its devices as the VMM runs them: blk, rng
 * and vsock are built by their own constructors, each with its I/O thread
 * under its seccomp list, and an input is a sequence of guest actions,
 * made from a thread holding the vCPU's list: register reads and writes
 * (resets and queue resets among them), notifies, and stores to guest RAM,
 * where the rings are. Each action is 8 bytes:
 *   [0] bits 0-1: 0 write, 1 read, 2 notify, 3 RAM store;
 *       bits 2-3: log2 of the access width; bits 4-7: the device
 *   [1..3] register offset (9 bits), or RAM word index (18 bits)
 *   [4..7] the value (little-endian)
 * Before each input, the host (libFuzzer's thread) opens a vsock
 * connection, so that resets find one to tear down.
 * Built with -DKVMINI_FUZZ, which stubs out the transport's two KVM ioctls
 * (irqfd, ioeventfd): the harness writes the notify eventfds itself, as
 * KVM would. Trap mode turns a forbidden syscall on any thread into a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "util.h"
#include "virtio/blk.h"
#include "virtio/virtio.h"
#include "virtio/vsock.h"
#include "vm.h"

#define REG_STATUS 0x070

static struct sockaddr_un vsock_addr = { .sun_family = AF_UNIX };

static void remove_vsock_socket(void)
{
	unlink(vsock_addr.sun_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The devices, once per process, as the builder makes them. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct vm_spec spec;
	static const struct vm_host host = { .console_read_fd = -1, .console_listen_fd = -1 };
	struct vm *vm = fuzz_vm();
	struct disk_config disk = { .id = "fuzz" };
	struct vsock_config vsock = { .enabled = true, .guest_cid = 3 };
	char path[] = "/tmp/kvmini-fuzz-transport-XXXXXX";
	int fd = mkstemp(path);

	(void)argc;
	(void)argv;
	if (fd < 0 || ftruncate(fd, 1 << 20))
		abort();
	close(fd);
	snprintf(disk.path, sizeof(disk.path), "%s", path);
	snprintf(vsock.uds, sizeof(vsock.uds), "/tmp/kvmini-fuzz-vsock-%d", getpid());
	snprintf(vsock_addr.sun_path, sizeof(vsock_addr.sun_path), "%s", vsock.uds);
	atexit(remove_vsock_socket);
	spec_init(&spec);
	vm->spec = &spec;
	vm->host = &host;
	vm->exit_code = -1;
	vm->exit_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	fuzz_seccomp_init();
	if (virtio_blk_add(vm, &disk) || virtio_rng_add(vm) || virtio_vsock_add(vm, &vsock))
		abort();
	unlink(path);
	return 0;
}

static void guest_action(struct vm *vm, const uint8_t *op)
{
	struct virtio_dev *vdev = vm->virtio[(op[0] >> 4) % vm->nvirtio];
	uint32_t width = 1u << (op[0] >> 2 & 3), where = load_le(op + 1, 3);
	uint8_t value[8] = { 0 };
	uint64_t one = 1;

	memcpy(value, op + 4, 4);
	width = width > 4 ? 4 : width;
	switch (op[0] & 3) {
	case 0:
		virtio_mmio_write(vdev, where & 0x1ff, value, width);
		break;
	case 1:
		virtio_mmio_read(vdev, where & 0x1ff, value, width);
		break;
	case 2: /* what KVM does for a QueueNotify write with an ioeventfd */
		if (write(vdev->notify_fd[value[0] % vdev->ops->num_queues], &one, sizeof(one)) < 0)
			abort();
		break;
	default:
		memcpy(vm->ram.host + (where & 0x3ffff) * 4 % FUZZ_RAM, value, 4);
	}
}

/* A reset waits for the device's I/O thread: none is busy after it. */
static void reset_devices(struct vm *vm)
{
	const uint8_t zero[4] = { 0 };

	for (int i = 0; i < vm->nvirtio; i++)
		virtio_mmio_write(vm->virtio[i], REG_STATUS, zero, 4);
}

/*
 * On the vCPU's list: the input's actions between resets, so that no
 * work of one input spills into the next.
 */
static void guest_actions(void *arg)
{
	const struct fuzz_input *in = arg;
	struct vm *vm = fuzz_vm();

	reset_devices(vm);
	memset(vm->ram.host, 0, FUZZ_RAM);
	for (size_t pos = 0; pos + 8 <= in->size; pos += 8)
		guest_action(vm, in->data + pos);
	reset_devices(vm);
}

/* The host's side: a connection to guest port 52, replacing the last one. */
static void host_connect(void)
{
	static int fd = -1;

	if (fd >= 0)
		close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* The device may refuse it (no driver yet, too many): that is fine. */
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&vsock_addr, sizeof(vsock_addr)))
		send(fd, "CONNECT 52\n", 11, MSG_NOSIGNAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	host_connect();
	fuzz_as(ROLE_VCPU, guest_actions, &(struct fuzz_input){ data, size });
	return 0;
}
