/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_VIRTIO_VSOCK_H
#define KVMINI_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Leaves room for "_4294967295" after the path in a sockaddr_un. */
#define VSOCK_UDS_MAX 96
#define VSOCK_ID_MAX 23

struct vsock_config {
	bool enabled;
	uint32_t guest_cid;
	char uds[VSOCK_UDS_MAX + 1];
	char id[VSOCK_ID_MAX + 1]; /* Firecracker's optional vsock_id */
};
int virtio_vsock_add(struct vm *vm, const struct vsock_config *vsock);

#endif
