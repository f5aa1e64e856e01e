// SPDX-License-Identifier: MIT
/*
 * virtio-vsock (virtio 1.2, 5.10) over Unix sockets, in Firecracker's
 * hybrid model. The host reaches guest port P by connecting to the UDS
 * and sending "CONNECT P\n" (answered "OK <host port>\n" once the guest
 * accepts); a guest connection to host port P becomes a connection to
 * "<uds>_P". Streams only, with the spec's credit flow both ways: the
 * guest is never sent more than it has room for, and a guest that sends
 * more than kvmini advertised loses that connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"
#include "virtio/virtio.h"
#include "virtio/vsock.h"
#include "vm.h"

#define VIRTIO_ID_VSOCK 19
#define RXQ 0
#define TXQ 1
#define HOST_CID 2
#define PKT_HDR_LEN 44
#define TYPE_STREAM 1
#define MAX_CONNS 64
#define MAX_PAYLOAD 65536
#define BUF_ALLOC (256 * 1024) /* what each connection buffers for the guest */
#define MAX_ORPHAN_RSTS 64
#define FIRST_HOST_PORT (1U << 30) /* ports for host-initiated connections */

enum op {
	OP_REQUEST = 1,
	OP_RESPONSE,
	OP_RST,
	OP_SHUTDOWN,
	OP_RW,
	OP_CREDIT_UPDATE,
	OP_CREDIT_REQUEST,
};
#define SHUT_RCV_FLAG 1
#define SHUT_SEND_FLAG 2

struct pkt_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

enum conn_state {
	CONN_FREE,
	CONN_HANDSHAKE, /* host client: reading "CONNECT <port>\n" */
	CONN_CONNECTING, /* REQUEST sent to the guest, awaiting its RESPONSE */
	CONN_OPEN,
	CONN_CLOSING, /* SHUTDOWN sent, awaiting the guest's RST */
};

struct conn {
	enum conn_state state;
	int fd;
	uint32_t host_port, guest_port;
	char line[32];
	size_t line_len;
	/* The guest's receive window, and what we have sent into it. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* What the guest sent us: forwarded to the socket, and told back. */
	uint32_t fwd_cnt, fwd_reported;
	uint8_t *pending; /* guest bytes the socket has not taken yet */
	size_t pending_len;
	bool guest_shut_send, guest_shut_rcv, host_eof, shut_wr_pending;
	/* Control packets owed to the guest. */
	bool need_request, need_response, need_credit, need_shutdown, need_rst;
	struct event ev; /* in the connections' loop while it watches something */
};

struct vsock {
	struct vsock_config config;
	int listen_fd;
	/*
	 * The listening socket and the connections: one loop, nested in the
	 * I/O thread's as one watch, so that RX starvation gates them all.
	 */
	struct event_loop conns_loop;
	struct event listen_ev;
	struct virtio_watch conns_watch;
	struct conn conns[MAX_CONNS];
	/*
	 * Each connection's BUF_ALLOC bytes, reserved up front: the I/O thread
	 * must not malloc (glibc's first malloc on a thread reads /sys, which
	 * its seccomp list does not allow), and untouched pages cost nothing.
	 */
	uint8_t *buffers;
	uint32_t next_host_port;
	struct pkt_hdr orphan_rsts[MAX_ORPHAN_RSTS];
	int norphans;
	bool rx_starved;
	struct virtq_chain chain;
	uint8_t payload[MAX_PAYLOAD];
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, conns_opened, bad_packets;
};

static uint32_t peer_credit(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static bool wants_data(const struct conn *c)
{
	return c->state == CONN_OPEN && !c->host_eof && !c->guest_shut_rcv && peer_credit(c);
}

/*
 * Watches the socket for what the connection can use now, and no more. A
 * socket it has no use for leaves the set: epoll reports a hang-up even
 * with no events asked, and that would spin the I/O thread.
 */
static void conn_ready(struct event *ev, uint32_t events);

static void update_events(struct vsock *v, struct conn *c)
{
	uint32_t events = 0;

	if (c->state == CONN_HANDSHAKE || wants_data(c))
		events |= EPOLLIN;
	if (c->pending_len)
		events |= EPOLLOUT;
	if (!events)
		event_del(&c->ev);
	else if (!c->ev.loop)
		event_add(&v->conns_loop, &c->ev, c->fd, events, conn_ready, v);
	else if (events != c->ev.events)
		event_set(&c->ev, events);
}

static struct conn *new_conn(struct vsock *v, int fd)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];

		if (c->state != CONN_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->pending = v->buffers + (size_t)i * BUF_ALLOC;
		c->fd = fd;
		c->state = CONN_OPEN;
		v->conns_opened++;
		return c;
	}
	return NULL;
}

static void free_conn(struct conn *c)
{
	event_del(&c->ev);
	close(c->fd);
	madvise(c->pending, BUF_ALLOC, MADV_DONTNEED); /* back to the host */
	c->state = CONN_FREE;
}

static struct conn *find_conn(struct vsock *v, uint32_t host_port, uint32_t guest_port)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];

		if (c->state != CONN_FREE && c->state != CONN_HANDSHAKE &&
		    c->host_port == host_port && c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

/* A reset for a packet that matches no connection. */
static void orphan_rst(struct vsock *v, const struct pkt_hdr *to)
{
	if (to->op == OP_RST || v->norphans == MAX_ORPHAN_RSTS)
		return;
	v->orphan_rsts[v->norphans++] = (struct pkt_hdr){
		.src_port = to->dst_port,
		.dst_port = to->src_port,
		.op = OP_RST,
	};
}

/* Writes what the guest sent to the socket, as far as the socket takes it. */
static void flush_pending(struct vsock *v, struct conn *c)
{
	while (c->pending_len) {
		ssize_t n = send(c->fd, c->pending, c->pending_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			c->need_rst = true; /* the host end is gone */
			c->pending_len = 0;
			break;
		}
		memmove(c->pending, c->pending + n, c->pending_len - n);
		c->pending_len -= n;
		c->fwd_cnt += n;
	}
	if (!c->pending_len && c->shut_wr_pending) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr_pending = false;
	}
	/*
	 * Tell the guest about freed room before it runs out (it can also
	 * ask): once half the window is free again that it does not know of.
	 */
	if (c->fwd_cnt - c->fwd_reported >= BUF_ALLOC / 2)
		c->need_credit = true;
	update_events(v, c);
}

static void guest_request(struct vsock *v, const struct pkt_hdr *h)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct conn *c;
	int fd;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s_%u", v->config.uds, h->dst_port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    !(c = new_conn(v, fd))) {
		if (fd >= 0)
			close(fd);
		orphan_rst(v, h);
		return;
	}
	c->host_port = h->dst_port;
	c->guest_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->need_response = true;
}

static void guest_shutdown(struct vsock *v, struct conn *c, uint32_t flags)
{
	c->guest_shut_send |= !!(flags & SHUT_SEND_FLAG);
	c->guest_shut_rcv |= !!(flags & SHUT_RCV_FLAG);
	if (c->guest_shut_send && c->guest_shut_rcv) {
		flush_pending(v, c);
		c->need_rst = true;
	} else if (c->guest_shut_send) {
		c->shut_wr_pending = true;
		flush_pending(v, c);
	}
}

static void guest_data(struct vsock *v, struct conn *c, const struct pkt_hdr *h,
		       struct virtq_chain *chain)
{
	if (c->state != CONN_OPEN || c->guest_shut_send || c->pending_len + h->len > BUF_ALLOC) {
		/* Data it had no credit for, or after its own shutdown. */
		log_guest("virtio-vsock: port %u sent past its credit; resetting", h->src_port);
		c->need_rst = true;
		return;
	}
	iov_to_buf(chain->out, chain->nout, PKT_HDR_LEN, c->pending + c->pending_len, h->len);
	c->pending_len += h->len;
	v->tx_bytes += h->len;
	flush_pending(v, c);
}

/* One packet from the guest's TX queue. */
static uint32_t tx_request(struct virtio_dev *vdev, struct virtq_chain *chain)
{
	struct vsock *v = vdev->priv;
	struct pkt_hdr h;
	struct conn *c;

	if (iov_to_buf(chain->out, chain->nout, 0, &h, PKT_HDR_LEN) != PKT_HDR_LEN ||
	    h.len > MAX_PAYLOAD || h.len > chain->out_len - PKT_HDR_LEN) {
		v->bad_packets++;
		log_guest("virtio-vsock: malformed packet (%llu bytes) dropped",
			  (unsigned long long)chain->out_len);
		return 0;
	}
	v->tx_packets++;
	if (h.src_cid != v->config.guest_cid || h.dst_cid != HOST_CID || h.type != TYPE_STREAM) {
		v->bad_packets++;
		orphan_rst(v, &h);
		return 0;
	}
	c = find_conn(v, h.dst_port, h.src_port);
	if (h.op == OP_REQUEST) {
		if (c)
			c->need_rst = true;
		else
			guest_request(v, &h);
		return 0;
	}
	if (!c) {
		orphan_rst(v, &h);
		return 0;
	}
	c->peer_buf_alloc = h.buf_alloc;
	c->peer_fwd_cnt = h.fwd_cnt;
	switch (h.op) {
	case OP_RESPONSE:
		if (c->state != CONN_CONNECTING) {
			c->need_rst = true;
			break;
		}
		c->state = CONN_OPEN;
		c->pending_len = snprintf((char *)c->pending, 32, "OK %u\n", c->host_port);
		c->fwd_cnt -= c->pending_len; /* not guest bytes: keep the count true */
		flush_pending(v, c);
		break;
	case OP_RST:
		free_conn(c);
		return 0;
	case OP_SHUTDOWN:
		guest_shutdown(v, c, h.flags);
		break;
	case OP_RW:
		guest_data(v, c, &h, chain);
		break;
	case OP_CREDIT_REQUEST:
		c->need_credit = true;
		break;
	case OP_CREDIT_UPDATE:
		break;
	default:
		v->bad_packets++;
		c->need_rst = true;
	}
	update_events(v, c);
	return 0;
}

static void fill_hdr(struct vsock *v, struct conn *c, struct pkt_hdr *h, uint16_t op)
{
	*h = (struct pkt_hdr){
		.src_cid = HOST_CID,
		.dst_cid = v->config.guest_cid,
		.src_port = c->host_port,
		.dst_port = c->guest_port,
		.type = TYPE_STREAM,
		.op = op,
		.buf_alloc = BUF_ALLOC,
		.fwd_cnt = c->fwd_cnt,
	};
	c->fwd_reported = c->fwd_cnt;
}

/*
 * Builds the next packet @c owes the guest into @h (and v->payload).
 * Returns the payload length, 0 for a control packet, -1 for nothing.
 */
static int next_packet(struct vsock *v, struct conn *c, struct pkt_hdr *h, size_t room)
{
	ssize_t n;

	if (c->need_rst) {
		fill_hdr(v, c, h, OP_RST);
		return 0;
	}
	if (c->need_request || c->need_response || c->need_shutdown || c->need_credit) {
		uint16_t op = c->need_request	 ? OP_REQUEST
			      : c->need_response ? OP_RESPONSE
			      : c->need_shutdown ? OP_SHUTDOWN
						 : OP_CREDIT_UPDATE;

		fill_hdr(v, c, h, op);
		if (op == OP_SHUTDOWN)
			h->flags = SHUT_RCV_FLAG | SHUT_SEND_FLAG;
		c->need_request = c->need_response = false;
		c->need_shutdown = c->need_credit = false;
		return 0;
	}
	if (!wants_data(c) || !room)
		return -1;
	if (room > peer_credit(c))
		room = peer_credit(c);
	n = recv(c->fd, v->payload, room < MAX_PAYLOAD ? room : MAX_PAYLOAD, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n <= 0) {
		/* The host closed: both directions end; the guest answers RST. */
		c->host_eof = true;
		c->state = CONN_CLOSING;
		fill_hdr(v, c, h, OP_SHUTDOWN);
		h->flags = SHUT_RCV_FLAG | SHUT_SEND_FLAG;
		return 0;
	}
	fill_hdr(v, c, h, OP_RW);
	h->len = n;
	c->tx_cnt += n;
	return n;
}

/* Moves owed packets and host data into the guest's RX buffers. */
static void rx_pump(struct virtio_dev *vdev)
{
	struct vsock *v = vdev->priv;
	struct virtq *q = &vdev->queues[RXQ];
	bool pushed = false, progress = true, no_room = false;

	/* Not live: nothing to watch until the transport replays a notify. */
	if (!q->ready || !(vdev->status & VIRTIO_STATUS_DRIVER_OK)) {
		virtio_watch_arm(&v->conns_watch, false);
		return;
	}
	v->rx_starved = false;
	for (int passes = 0; progress; passes++) {
		if (passes == MAX_CONNS) {
			/* Bounded: the I/O thread serves its other events first. */
			virtio_notify_self(vdev, RXQ);
			goto out;
		}
		progress = false;
		for (int i = -1; i < MAX_CONNS; i++) {
			struct conn *c = i >= 0 ? &v->conns[i] : NULL;
			struct pkt_hdr h;
			int r, len;

			if (c && (c->state == CONN_FREE || c->state == CONN_HANDSHAKE))
				continue;
			if (!c && !v->norphans)
				continue;
			r = virtq_pop(q, &vdev->vm->ram, &v->chain);
			if (r == VIRTQ_BROKEN) {
				virtio_needs_reset(vdev,
						   "RX avail ring index or head out of range");
				return;
			}
			if (r == VIRTQ_EMPTY) {
				if (virtq_arm_avail_event(q)) {
					progress = true;
					continue;
				}
				v->rx_starved = true;
				goto out;
			}
			if (r == VIRTQ_BAD_CHAIN || v->chain.in_len < PKT_HDR_LEN) {
				virtq_push(q, v->chain.head, 0);
				pushed = progress = true;
				continue;
			}
			if (!c) {
				h = v->orphan_rsts[--v->norphans];
				h.src_cid = HOST_CID;
				h.dst_cid = v->config.guest_cid;
				h.type = TYPE_STREAM;
				len = 0;
			} else {
				len = next_packet(v, c, &h, v->chain.in_len - PKT_HDR_LEN);
			}
			if (len < 0) {
				virtq_unpop(q, 1);
				/* A header-only buffer cannot carry this connection's data. */
				no_room |= c && v->chain.in_len == PKT_HDR_LEN && wants_data(c);
				continue;
			}
			buf_to_iov(v->chain.in, v->chain.nin, 0, &h, PKT_HDR_LEN);
			buf_to_iov(v->chain.in, v->chain.nin, PKT_HDR_LEN, v->payload, len);
			virtq_push(q, v->chain.head, PKT_HDR_LEN + len);
			v->rx_packets++;
			v->rx_bytes += len;
			pushed = progress = true;
			if (c && h.op == OP_RST)
				free_conn(c);
			else if (c)
				update_events(v, c);
		}
	}
	/* Data waits and no buffer can take it: as starved as an empty ring. */
	v->rx_starved = no_room && !virtq_arm_avail_event(q);
out:
	if (pushed)
		virtio_notify_used(vdev, RXQ);
	/* Without RX buffers, sockets are not worth watching until a refill. */
	virtio_watch_arm(&v->conns_watch, !v->rx_starved);
}

static void accept_host(struct vsock *v)
{
	for (;;) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return;
		c = new_conn(v, fd);
		if (!c) {
			log_warn("virtio-vsock: %d connections open; refusing another", MAX_CONNS);
			close(fd);
			continue;
		}
		c->state = CONN_HANDSHAKE;
		update_events(v, c);
	}
}

/* Reads "CONNECT <port>\n" a byte at a time: what follows is the guest's. */
static void handshake(struct vsock *v, struct conn *c)
{
	while (c->line_len < sizeof(c->line) - 1) {
		unsigned long port;
		char *end;
		ssize_t n = recv(c->fd, c->line + c->line_len, 1, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			break;
		if (c->line[c->line_len++] != '\n')
			continue;
		c->line[c->line_len - 1] = 0;
		if (strncmp(c->line, "CONNECT ", 8))
			break;
		port = strtoul(c->line + 8, &end, 10);
		if (*end || !c->line[8] || port > UINT32_MAX)
			break;
		c->guest_port = port;
		do
			c->host_port = v->next_host_port++;
		while (find_conn(v, c->host_port, c->guest_port) || c->host_port < FIRST_HOST_PORT);
		c->state = CONN_CONNECTING;
		c->need_request = true;
		update_events(v, c);
		return;
	}
	free_conn(c); /* not the protocol */
}

static void conn_ready(struct event *ev, uint32_t events)
{
	struct vsock *v = ev->ctx;
	struct conn *c = container_of(ev, struct conn, ev);

	if (c->state == CONN_HANDSHAKE)
		handshake(v, c);
	else if (c->state != CONN_FREE && (events & EPOLLOUT))
		flush_pending(v, c);
}

static void listen_ready(struct event *ev, uint32_t events)
{
	(void)events;
	accept_host(ev->ctx);
}

/* Sockets are ready: accepts, handshakes and writes, then data for the guest. */
static void vsock_ready(struct virtio_dev *vdev, struct virtio_watch *w)
{
	struct vsock *v = vdev->priv;

	(void)w;
	event_loop_run_once(&v->conns_loop, 0);
	rx_pump(vdev);
}

static void vsock_notify(struct virtio_dev *vdev, int queue)
{
	struct vsock *v = vdev->priv;

	if (queue == TXQ)
		virtio_process_queue(vdev, TXQ, &v->chain, tx_request, NULL);
	/* Either a refill, or TX left packets owed: both feed RX. */
	if (queue == TXQ || queue == RXQ)
		rx_pump(vdev);
}

static void vsock_reset(struct virtio_dev *vdev)
{
	struct vsock *v = vdev->priv;

	for (int i = 0; i < MAX_CONNS; i++)
		if (v->conns[i].state != CONN_FREE)
			free_conn(&v->conns[i]);
	v->norphans = 0;
}

static uint32_t vsock_config_space(struct virtio_dev *vdev, uint8_t *config)
{
	struct vsock *v = vdev->priv;

	store_le(config, 8, v->config.guest_cid);
	return 8;
}

static int vsock_start(struct virtio_dev *vdev)
{
	struct vsock *v = vdev->priv;

	return virtio_watch_fd(vdev, &v->conns_watch, v->conns_loop.epoll_fd, vsock_ready);
}

static int vsock_stats(struct virtio_dev *vdev, struct metric *s)
{
	struct vsock *v = vdev->priv;
	const struct metric val[] = {
		{ "rx_packets_count", v->rx_packets }, { "rx_bytes_count", v->rx_bytes },
		{ "tx_packets_count", v->tx_packets }, { "tx_bytes_count", v->tx_bytes },
		{ "conns_added", v->conns_opened },    { "bad_packets_count", v->bad_packets },
	};

	memcpy(s, val, sizeof(val));
	return ARRAY_SIZE(val);
}

static void vsock_destroy(struct virtio_dev *vdev)
{
	struct vsock *v = vdev->priv;

	if (!v)
		return;
	vsock_reset(vdev);
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->config.uds);
	}
	event_loop_close(&v->conns_loop);
	munmap(v->buffers, (size_t)MAX_CONNS * BUF_ALLOC);
	free(v);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.io_role = ROLE_IO_VSOCK,
	.num_queues = 3, /* rx, tx, event (kept for the transport reset a restore sends) */
	.start = vsock_start,
	.config_space = vsock_config_space,
	.queue_notify = vsock_notify,
	.reset = vsock_reset,
	.stats = vsock_stats,
	.metrics_group = "vsock",
	.destroy = vsock_destroy,
};

int virtio_vsock_add(struct vm *vm, const struct vsock_config *config)
{
	struct vsock *v = calloc(1, sizeof(*v));
	int loop;

	if (!v)
		return -1;
	v->config = *config;
	v->next_host_port = FIRST_HOST_PORT;
	loop = event_loop_init(&v->conns_loop);
	v->listen_fd = unix_listen(config->uds, "--vsock uds=");
	v->buffers = mmap(NULL, (size_t)MAX_CONNS * BUF_ALLOC, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->buffers == MAP_FAILED || loop < 0 || v->listen_fd < 0 ||
	    event_add(&v->conns_loop, &v->listen_ev, v->listen_fd, EPOLLIN, listen_ready, v) < 0) {
		if (v->listen_fd >= 0) {
			log_error("--vsock uds=%s: %s", config->uds, strerror(errno));
			close(v->listen_fd);
			unlink(config->uds);
		}
		if (loop == 0)
			event_loop_close(&v->conns_loop);
		if (v->buffers != MAP_FAILED)
			munmap(v->buffers, (size_t)MAX_CONNS * BUF_ALLOC);
		free(v);
		return -1;
	}
	return virtio_mmio_add(vm, &vsock_ops, config->id[0] ? config->id : NULL, 0, v);
}
