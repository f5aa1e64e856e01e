// SPDX-License-Identifier: MIT
/*
 * virtio-vsock's packet paths against a hostile driver: the input fills
 * the TX and RX rings in guest RAM with packets for a connection kvmini
 * holds open to a socketpair, and with packets for none; TX is processed,
 * then RX pumped. vsock.c is included whole to reach its statics.
 */
#include <sys/socket.h>

#include "../virtio/vsock.c"
#include "fuzz/fuzz.h"

#define RING_BYTES 0x8000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm *vm = fuzz_vm();
	static struct virtio_dev vdev;
	static struct vsock *v;
	static int peer = -1;
	uint8_t drain[65536];

	if (!v) {
		v = calloc(1, sizeof(*v));
		v->buffers = mmap(NULL, (size_t)MAX_CONNS * BUF_ALLOC, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		v->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
		v->listen_fd = -1;
		v->config.guest_cid = 3;
	}
	if (size < 2)
		return 0;
	/* One open connection, host port 1000 <-> guest port 2000, each input. */
	vsock_reset(&(struct virtio_dev){ .priv = v });
	if (peer >= 0)
		close(peer);
	{
		int sv[2];
		struct conn *c;

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
			abort();
		c = new_conn(v, sv[0]);
		c->host_port = 1000;
		c->guest_port = 2000;
		c->peer_buf_alloc = data[1] << 12;
		peer = sv[1];
		if (send(peer, "host data", 9, 0) != 9)
			abort();
		update_events(v, c);
	}
	memset(vm->ram.host, 0, RING_BYTES);
	memcpy(vm->ram.host, data + 2, size - 2 < RING_BYTES ? size - 2 : RING_BYTES);
	memset(&vdev, 0, sizeof(vdev));
	vdev.ops = &vsock_ops;
	vdev.priv = v;
	vdev.vm = vm;
	vdev.irq_fd = vdev.epoll_fd = -1;
	vdev.driver_features =
	    (uint64_t)(data[0] & 1) << VIRTIO_F_RING_EVENT_IDX | 1ULL << VIRTIO_F_VERSION_1;
	vdev.status = VIRTIO_STATUS_DRIVER_OK;
	fuzz_queue(&vdev.queues[RXQ], 0x0000, 1u << (data[0] >> 1 & 7), &vm->ram);
	fuzz_queue(&vdev.queues[TXQ], 0x4000, 1u << (data[0] >> 4 & 7), &vm->ram);
	vsock_notify(&vdev, TXQ);
	vsock_ready(&vdev);
	while (recv(peer, drain, sizeof(drain), MSG_DONTWAIT) > 0)
		;
	return 0;
}
