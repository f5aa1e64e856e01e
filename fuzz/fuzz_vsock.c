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

static struct virtio_dev vdev;
static struct vsock *v;
static int peer = -1, peer_dev = -1;

static void reset_device(void *arg)
{
	(void)arg;
	vsock_reset(&(struct virtio_dev){ .priv = v });
}

/* The device's side, on the vsock I/O thread's list. */
static void run_device(void *arg)
{
	const struct fuzz_input *in = arg;
	const uint8_t *data = in->data;
	size_t size = in->size;
	struct vm *vm = fuzz_vm();
	struct conn *c = new_conn(v, peer_dev);

	c->host_port = 1000;
	c->guest_port = 2000;
	c->peer_buf_alloc = data[1] << 12;
	update_events(v, c);
	memset(vm->ram.host, 0, RING_BYTES);
	memcpy(vm->ram.host, data + 2, size - 2 < RING_BYTES ? size - 2 : RING_BYTES);
	memset(&vdev, 0, sizeof(vdev));
	vdev.ops = &vsock_ops;
	vdev.priv = v;
	vdev.vm = vm;
	vdev.irq_fd = vdev.loop.epoll_fd = -1;
	vdev.driver_features =
	    (uint64_t)(data[0] & 1) << VIRTIO_F_RING_EVENT_IDX | 1ULL << VIRTIO_F_VERSION_1;
	vdev.status = VIRTIO_STATUS_DRIVER_OK;
	fuzz_queue(&vdev.queues[RXQ], 0x0000, 1u << (data[0] >> 1 & 7), &vm->ram);
	fuzz_queue(&vdev.queues[TXQ], 0x4000, 1u << (data[0] >> 4 & 7), &vm->ram);
	vsock_notify(&vdev, TXQ);
	vsock_ready(&vdev, &v->conns_watch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t drain[65536];
	int sv[2];

	if (!v) {
		v = calloc(1, sizeof(*v));
		v->buffers = mmap(NULL, (size_t)MAX_CONNS * BUF_ALLOC, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (event_loop_init(&v->conns_loop))
			abort();
		v->listen_fd = -1;
		v->config.guest_cid = 3;
	}
	if (size < 2)
		return 0;
	/* One open connection, host port 1000 <-> guest port 2000, each input. */
	fuzz_as(ROLE_IO_VSOCK, reset_device, NULL);
	if (peer >= 0)
		close(peer);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		abort();
	peer_dev = sv[0];
	peer = sv[1];
	if (send(peer, "host data", 9, 0) != 9)
		abort();
	fuzz_as(ROLE_IO_VSOCK, run_device, &(struct fuzz_input){ data, size });
	while (recv(peer, drain, sizeof(drain), MSG_DONTWAIT) > 0)
		;
	return 0;
}
