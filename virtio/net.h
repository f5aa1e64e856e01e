/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_VIRTIO_NET_H
#define KVMINI_VIRTIO_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

struct net_config {
	char tap[IFNAMSIZ]; /* attach to, or create, this tap */
	int tap_fd; /* or use this open tap fd (-1 if none) */
	uint8_t mac[6];
	bool has_mac;
	char id[24]; /* the API's iface_id; empty: ethN */
};

/* Parses "tap=NAME[,mac=MAC]" or "tapfd=N[,mac=MAC]". */
int net_config_parse(const char *spec, struct net_config *net);
/* Parses a unicast "aa:bb:cc:dd:ee:ff"; -1 when malformed or multicast. */
int net_parse_mac(const char *s, uint8_t mac[6]);
int virtio_net_add(struct vm *vm, const struct net_config *net);

#endif
