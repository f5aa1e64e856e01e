// SPDX-License-Identifier: MIT
/*
 * virtio-net (virtio 1.2, 5.1) over a Linux tap with IFF_VNET_HDR, so the
 * virtio header and its offloads pass straight through. Receive never
 * stalls the device: the tap is polled only while the guest has posted
 * buffers, and anything the guest cannot take is dropped, by the tap's own
 * queue or by us, never blocked on.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"
#include "virtio/net.h"
#include "virtio/virtio.h"
#include "vm.h"

#define VIRTIO_ID_NET 1
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_MTU 3
#define F_MAC 5
#define F_GUEST_TSO4 7
#define F_GUEST_TSO6 8
#define F_HOST_TSO4 11
#define F_HOST_TSO6 12
#define F_MRG_RXBUF 15
#define F_STATUS 16

#define NET_FEATURES                                                                               \
	(1ULL << F_CSUM | 1ULL << F_GUEST_CSUM | 1ULL << F_MTU | 1ULL << F_MAC |                   \
	 1ULL << F_GUEST_TSO4 | 1ULL << F_GUEST_TSO6 | 1ULL << F_HOST_TSO4 | 1ULL << F_HOST_TSO6 | \
	 1ULL << F_MRG_RXBUF | 1ULL << F_STATUS)

#define RXQ 0
#define TXQ 1
#define NET_HDR_LEN 12 /* struct virtio_net_hdr_v1, num_buffers included */
#define MAX_FRAME 65535
#define LINK_UP 1

struct net {
	int tap_fd;
	struct virtio_watch tap; /* off while RX has no buffers */
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	uint16_t mtu;
	bool link_up;
	bool offloads_set;
	bool pending; /* frame holds a packet read but not yet delivered */
	size_t pending_len;
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, rx_dropped, tx_dropped;
	struct virtq_chain chain;
	uint8_t frame[NET_HDR_LEN + MAX_FRAME + 1];
};

static void link_down(struct virtio_dev *vdev, const char *why)
{
	struct net *n = vdev->priv;

	if (!n->link_up)
		return;
	log_warn("virtio-net %s: %s; link is down", n->ifname, why);
	n->link_up = false;
	virtio_watch_arm(&n->tap, false);
	virtio_config_changed(vdev);
}

/* The tap may hand us what the guest said it can take, and no more. */
static void set_offloads(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;
	unsigned int off = 0;

	if (virtio_has_feature(vdev, F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (virtio_has_feature(vdev, F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (virtio_has_feature(vdev, F_GUEST_TSO6))
			off |= TUN_F_TSO6;
	}
	if (ioctl(n->tap_fd, TUNSETOFFLOAD, off) < 0)
		log_warn("virtio-net %s: TUNSETOFFLOAD: %s", n->ifname, strerror(errno));
	n->offloads_set = true;
}

static uint32_t tx_request(struct virtio_dev *vdev, struct virtq_chain *c)
{
	struct net *n = vdev->priv;

	/* A frame needs its header; a giant one is a broken or hostile driver. */
	if (c->out_len < NET_HDR_LEN || c->out_len > NET_HDR_LEN + MAX_FRAME || c->nout > 1024 ||
	    !n->link_up) {
		n->tx_dropped++;
		return 0;
	}
	if (writev(n->tap_fd, c->out, c->nout) < 0) {
		n->tx_dropped++;
		if (errno != EAGAIN && errno != ENOBUFS && errno != EINVAL)
			link_down(vdev, strerror(errno));
	} else {
		n->tx_packets++;
		n->tx_bytes += c->out_len - NET_HDR_LEN;
	}
	return 0;
}

static void flush_bad(struct virtq *q, const uint16_t *heads, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		virtq_push(q, heads[i], 0);
}

/*
 * Copies the pending frame into as many RX chains as it needs (one
 * without MRG_RXBUF). Returns false, having consumed nothing, if the
 * guest has not posted enough. Unusable chains met on the way are
 * completed empty, but only once the frame is placed and before its
 * chains, which must be consecutive: until then a rewind covers them too,
 * so no chain is completed twice or skipped.
 */
static bool deliver(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;
	struct virtq *q = &vdev->queues[RXQ];
	bool mrg = virtio_has_feature(vdev, F_MRG_RXBUF);
	size_t done = 0;
	uint16_t used = 0, nbad = 0, pops = 0, heads[64], bad[64];
	uint32_t lens[64];
	uint8_t *num_buffers[2] = { NULL, NULL };

	while (done < n->pending_len) {
		size_t chunk;
		int r;

		if (used + nbad == 64 && !used) {
			/* Bad chains alone: completing them now rewinds nothing. */
			flush_bad(q, bad, nbad);
			virtio_notify_used(vdev, RXQ);
			nbad = 0;
		} else if (used + nbad == 64) {
			/* More than 64 chains for one frame: drop it, reuse them. */
			virtq_unpop(q, used + nbad);
			n->rx_dropped++;
			n->pending = false;
			return true;
		}
		/* At most a ring's worth per call: a guest recycling bad chains
		 * as fast as they are completed must not keep this thread here. */
		r = pops++ < q->num ? virtq_pop(q, &vdev->vm->ram, &n->chain) : VIRTQ_EMPTY;
		if (r == VIRTQ_BROKEN) {
			virtio_needs_reset(vdev, "RX avail ring index or head out of range");
			return false;
		}
		if (r == VIRTQ_EMPTY && !used && nbad) {
			/* Nothing of the frame placed: the bad ones can go now. */
			flush_bad(q, bad, nbad);
			virtio_notify_used(vdev, RXQ);
			return false;
		}
		if (r == VIRTQ_EMPTY) {
			virtq_unpop(q, used + nbad);
			return false;
		}
		if (r == VIRTQ_BAD_CHAIN || n->chain.in_len < (used ? 1 : NET_HDR_LEN)) {
			bad[nbad++] = n->chain.head;
			continue;
		}
		if (!mrg && n->chain.in_len < n->pending_len) {
			/* It can never fit this driver's buffers: drop the frame. */
			virtq_unpop(q, 1);
			n->rx_dropped++;
			n->pending = false;
			break;
		}
		chunk = n->pending_len - done;
		if (chunk > n->chain.in_len)
			chunk = n->chain.in_len;
		buf_to_iov(n->chain.in, n->chain.nin, 0, n->frame + done, chunk);
		if (!used) {
			num_buffers[0] = iov_byte(n->chain.in, n->chain.nin, 10);
			num_buffers[1] = iov_byte(n->chain.in, n->chain.nin, 11);
		}
		heads[used] = n->chain.head;
		lens[used++] = chunk;
		done += chunk;
	}
	flush_bad(q, bad, nbad);
	if (!n->pending)
		return true; /* dropped */
	/* The header's num_buffers: how many chains this frame took. */
	*num_buffers[0] = used;
	*num_buffers[1] = used >> 8;
	for (uint16_t i = 0; i < used; i++)
		virtq_push(q, heads[i], lens[i]);
	n->rx_packets++;
	n->rx_bytes += n->pending_len - NET_HDR_LEN;
	n->pending = false;
	return true;
}

/* Moves frames from the tap to the guest until one side runs dry. */
static void rx_pump(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;
	bool pushed = false;
	int budget = 256;

	/* Not live: stop watching the tap until the transport replays a notify. */
	if (!n->link_up || !vdev->queues[RXQ].ready || !(vdev->status & VIRTIO_STATUS_DRIVER_OK)) {
		virtio_watch_arm(&n->tap, false);
		return;
	}
	if (!n->offloads_set)
		set_offloads(vdev);
	while (budget-- > 0) {
		if (!n->pending) {
			ssize_t len = read(n->tap_fd, n->frame, sizeof(n->frame));

			if (len < 0) {
				if (errno != EAGAIN && errno != EINTR)
					link_down(vdev, strerror(errno));
				break;
			}
			if (len < NET_HDR_LEN || len > NET_HDR_LEN + MAX_FRAME) {
				n->rx_dropped++;
				continue;
			}
			n->pending = true;
			n->pending_len = len;
		}
		if (!deliver(vdev)) {
			if (virtq_arm_avail_event(&vdev->queues[RXQ]))
				continue;
			/* No buffers: stop polling until the driver refills. */
			virtio_watch_arm(&n->tap, false);
			break;
		}
		pushed = true;
	}
	if (pushed)
		virtio_notify_used(vdev, RXQ);
	if (budget < 0 && n->pending)
		virtio_notify_self(vdev, RXQ); /* budget spent, not starved */
	if (!n->pending && n->link_up)
		virtio_watch_arm(&n->tap, true);
}

static void net_notify(struct virtio_dev *vdev, int queue)
{
	struct net *n = vdev->priv;

	if (!n->offloads_set)
		set_offloads(vdev);
	if (queue == TXQ) {
		virtio_process_queue(vdev, TXQ, &n->chain, tx_request, NULL);
	} else if (queue == RXQ) {
		/* The driver refilled: resume receiving. */
		rx_pump(vdev);
		if (n->link_up && !n->pending)
			virtio_watch_arm(&n->tap, true);
	}
}

static void net_tap_ready(struct virtio_dev *vdev, struct virtio_watch *w)
{
	(void)w;
	rx_pump(vdev);
}

static int net_start(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;

	return virtio_watch_fd(vdev, &n->tap, n->tap_fd, net_tap_ready);
}

static void net_reset(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;

	n->offloads_set = false;
	n->pending = false;
}

static uint32_t net_config_space(struct virtio_dev *vdev, uint8_t *config)
{
	struct net *n = vdev->priv;

	memcpy(config, n->mac, 6);
	config[6] = n->link_up ? LINK_UP : 0;
	config[8] = 1; /* max_virtqueue_pairs */
	config[10] = n->mtu;
	config[11] = n->mtu >> 8;
	return 12;
}

static int net_stats(struct virtio_dev *vdev, struct metric *s)
{
	struct net *n = vdev->priv;
	const struct metric v[] = {
		{ "rx_packets_count", n->rx_packets }, { "rx_bytes_count", n->rx_bytes },
		{ "tx_packets_count", n->tx_packets }, { "tx_bytes_count", n->tx_bytes },
		{ "rx_dropped_count", n->rx_dropped }, { "tx_dropped_count", n->tx_dropped },
	};

	memcpy(s, v, sizeof(v));
	return ARRAY_SIZE(v);
}

static void net_destroy(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;

	if (n) {
		if (n->tap_fd >= 0)
			close(n->tap_fd);
		free(n);
	}
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.io_role = ROLE_IO_NET,
	.num_queues = 2,
	.start = net_start,
	.config_space = net_config_space,
	.queue_notify = net_notify,
	.reset = net_reset,
	.stats = net_stats,
	.metrics_group = "net",
	.destroy = net_destroy,
};

static int open_tap(struct net *n, const struct net_config *cfg)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr = NET_HDR_LEN, sock;

	if (cfg->tap_fd >= 0) {
		n->tap_fd = fcntl(cfg->tap_fd, F_DUPFD_CLOEXEC, 3);
		if (n->tap_fd < 0 || ioctl(n->tap_fd, TUNGETIFF, &ifr) < 0) {
			log_error("--net tapfd=%d: not a tap: %s", cfg->tap_fd, strerror(errno));
			return -1;
		}
		if (!(ifr.ifr_flags & IFF_VNET_HDR)) {
			log_error("--net tapfd=%d: the tap lacks IFF_VNET_HDR", cfg->tap_fd);
			return -1;
		}
	} else {
		n->tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		memcpy(ifr.ifr_name, cfg->tap, IFNAMSIZ);
		if (n->tap_fd < 0 || ioctl(n->tap_fd, TUNSETIFF, &ifr) < 0) {
			log_error("--net tap=%s: %s", cfg->tap, strerror(errno));
			return -1;
		}
	}
	memcpy(n->ifname, ifr.ifr_name, IFNAMSIZ);
	if (fcntl(n->tap_fd, F_SETFL, fcntl(n->tap_fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    ioctl(n->tap_fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		log_error("--net %s: %s", n->ifname, strerror(errno));
		return -1;
	}
	n->mtu = 1500;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock >= 0) {
		if (ioctl(sock, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68 && ifr.ifr_mtu <= 65535)
			n->mtu = ifr.ifr_mtu;
		close(sock);
	}
	return 0;
}

int virtio_net_add(struct vm *vm, const struct net_config *cfg)
{
	struct net *n = calloc(1, sizeof(*n));

	if (!n)
		return -1;
	n->tap_fd = -1;
	if (open_tap(n, cfg)) {
		net_destroy(&(struct virtio_dev){ .priv = n });
		return -1;
	}
	if (cfg->has_mac) {
		memcpy(n->mac, cfg->mac, 6);
	} else {
		/* Locally administered, stable for the tap's name. */
		uint32_t h = 2166136261u;

		for (const char *p = n->ifname; *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		n->mac[0] = 0x02;
		n->mac[1] = 0x4b;
		memcpy(n->mac + 2, &h, 4);
	}
	n->link_up = true;
	return virtio_mmio_add(vm, &net_ops, cfg->id, NET_FEATURES, n);
}
