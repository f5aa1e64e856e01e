// SPDX-License-Identifier: MIT
/*
 * virtio-net's TX and RX paths against a hostile driver and hostile
 * frames: the input fills the rings and descriptors in guest RAM (TX queue
 * and RX queue) and supplies frames "from the tap" (a datagram socketpair
 * standing in for it). net.c is included whole to reach its statics.
 */
#include <sys/socket.h>

#include "../virtio/net.c"
#include "fuzz/fuzz.h"

#define RING_BYTES 0x6000

static struct virtio_dev vdev;
static struct net *n;
static int peer;

/* The device's side, on the net I/O thread's list: TX, then RX. */
static void transmit(void *arg)
{
	(void)arg;
	net_notify(&vdev, TXQ);
}

static void receive(void *arg)
{
	(void)arg;
	net_tap_ready(&vdev, &n->tap);
	net_notify(&vdev, RXQ);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm *vm = fuzz_vm();
	uint8_t drain[70000];

	if (!n) {
		int sv[2];

		n = calloc(1, sizeof(*n));
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv))
			abort();
		n->tap_fd = sv[0];
		peer = sv[1];
		strcpy(n->ifname, "fuzz");
	}
	if (size < 2)
		return 0;
	memset(vm->ram.host, 0, RING_BYTES);
	memcpy(vm->ram.host, data + 2, size - 2 < RING_BYTES ? size - 2 : RING_BYTES);
	memset(&vdev, 0, sizeof(vdev));
	vdev.ops = &net_ops;
	vdev.priv = n;
	vdev.vm = vm;
	vdev.irq_fd = vdev.loop.epoll_fd = -1;
	vdev.features = NET_FEATURES;
	vdev.driver_features = (uint64_t)data[0] << 8 | 1ULL << VIRTIO_F_VERSION_1;
	vdev.status = VIRTIO_STATUS_DRIVER_OK;
	pthread_mutex_init(&vdev.lock, NULL);
	n->link_up = true;
	n->offloads_set = true;
	n->pending = false;
	fuzz_queue(&vdev.queues[RXQ], 0x0000, 1 << ((data[1] & 3) + 1), &vm->ram);
	fuzz_queue(&vdev.queues[TXQ], 0x3000, 1 << (data[1] >> 4 & 7), &vm->ram);

	fuzz_as(ROLE_IO_NET, transmit, NULL);
	/* The host's side of the tap, on libFuzzer's thread. */
	while (recv(peer, drain, sizeof(drain), 0) > 0)
		;
	/* Frames from the tap: whatever follows the rings, in 1.5 KiB slices. */
	for (size_t off = 2 + RING_BYTES; off < size; off += 1514)
		send(peer, data + off, size - off < 1514 ? size - off : 1514, 0);
	fuzz_as(ROLE_IO_NET, receive, NULL);
	while (recv(n->tap_fd, drain, sizeof(drain), 0) > 0)
		;
	return 0;
}
