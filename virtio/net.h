/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_VIRTIO_NET_H
#define KVMINI_VIRTIO_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

#define NET_ID_MAX 23

struct net_config {
	char tap[IFNAMSIZ]; /* attach to, or create, this tap */
	int tap_fd; /* or use this open tap fd (-1 if none) */
	uint8_t mac[6];
	bool has_mac;
	char id[NET_ID_MAX + 1]; /* the API's iface_id */
};
int virtio_net_add(struct vm *vm, const struct net_config *net);

#endif
