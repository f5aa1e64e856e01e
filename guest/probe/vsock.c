// SPDX-License-Identifier: MIT
/*
 * virtio-vsock checks for the probe, against tests/vsock_peer.py on the
 * host side of the VMM's Unix sockets. In order:
 *   malformed packets (short, oversize, unknown op, wrong type) must not
 *     stop the device, and a packet for no connection gets a RST;
 *   g2h: the guest connects to host port 5000, streams a pattern, half-
 *     closes, and receives the host's pattern back (the host sends it only
 *     if ours arrived intact);
 *   h2g + credit: the host connects to guest port 1234 and streams while
 *     the guest advertises 4 KiB and withholds credit updates: the VMM
 *     must stall, never overrun, and resume on each update;
 *   peer close: the host drops guest port 1235 mid-stream;
 *   many: 32 connections to host port 5001 at once, each echoed.
 */
#include "probe.h"
#include "virtio.h"

#define HDR 44
#define NRX 32
#define RXBUF (HDR + 4096)
#define STREAM_LEN (64 * 1024)
#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RST 3
#define OP_SHUTDOWN 4
#define OP_RW 5
#define OP_CREDIT_UPDATE 6
#define OP_CREDIT_REQUEST 7
#define HOST_CID 2
#define NMANY 32

struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

static uint8_t rxbufs[NRX][RXBUF] __attribute__((aligned(16)));
static uint8_t txbuf[HDR + 4096] __attribute__((aligned(16)));
static struct vdev rx, tx, ev;
static uint64_t my_cid;
static int orphan_rsts;

static uint8_t pattern(uint32_t i, int seed)
{
	return (uint8_t)(i * 131 + seed * 17 + (i >> 9));
}

static void post_rx(int i)
{
	struct ring *r = rx.ring;

	set_desc(r->desc, i, rxbufs[i], RXBUF, D_WRITE);
	r->avail.ring[rx.next_avail % rx.num] = i;
	barrier();
	r->avail.idx = ++rx.next_avail;
	barrier();
	wr(&rx, REG_QUEUE_NOTIFY, 0);
}

/* Sends one packet; the VMM takes TX packets as they come. */
static int send(uint32_t my_port, uint32_t peer_port, uint16_t op, uint32_t flags,
		uint32_t buf_alloc, uint32_t fwd_cnt, const void *data, uint32_t len)
{
	struct hdr h = {
		my_cid, HOST_CID, my_port, peer_port, len, 1, op, flags, buf_alloc, fwd_cnt
	};

	memcpy(txbuf, &h, HDR);
	if (len)
		memcpy(txbuf + HDR, data, len);
	set_desc(tx.ring->desc, 0, txbuf, HDR + len, 0);
	return kick_and_wait(&tx, 0) < 0 ? -1 : 0;
}

/* A data packet whose payload stays where it is (ring 0 copies cost here). */
static int send_zero_copy(uint32_t my_port, uint32_t peer_port, uint32_t fwd_cnt, const void *data,
			  uint32_t len)
{
	struct hdr h = { my_cid, HOST_CID, my_port, peer_port, len, 1, OP_RW, 0, 1 << 20, fwd_cnt };

	memcpy(txbuf, &h, HDR);
	set_desc(tx.ring->desc, 0, txbuf, HDR, D_NEXT);
	set_desc(tx.ring->desc, 1, data, len, 0);
	return kick_and_wait(&tx, 0) < 0 ? -1 : 0;
}

static int send_raw(uint32_t len)
{
	set_desc(tx.ring->desc, 0, txbuf, len, 0);
	return kick_and_wait(&tx, 0) < 0 ? -1 : 0;
}

/*
 * Next packet from the host into @h and @data (up to 4096 bytes); -1 on
 * timeout. Orphan RSTs (host port 0 here) are counted and skipped.
 */
static int recv(struct hdr *h, uint8_t *data, uint64_t cycles)
{
	struct ring *r = rx.ring;
	uint64_t deadline = rdtsc() + cycles;

	for (;;) {
		uint32_t id, n;

		while (*(volatile uint16_t *)&r->used.idx == rx.last_used)
			if (rdtsc() > deadline)
				return -1;
		barrier();
		id = r->used.ring[rx.last_used % rx.num].id;
		n = r->used.ring[rx.last_used % rx.num].len;
		rx.last_used++;
		wr(&rx, REG_INTERRUPT_ACK, 1);
		if (id >= NRX || n < HDR || n > RXBUF)
			return -1;
		memcpy(h, rxbufs[id], HDR);
		if (data && h->len <= 4096)
			memcpy(data, rxbufs[id] + HDR, h->len);
		post_rx(id);
		if (h->op == OP_RST && h->dst_port == 4242) {
			orphan_rsts++;
			continue;
		}
		return 0;
	}
}

static const uint64_t SECOND = 3000000000ULL; /* TSC cycles, roughly */

static void check_malformed(void)
{
	struct hdr h = { 0 };
	int before = orphan_rsts;

	memset(txbuf, 0, sizeof(txbuf));
	send_raw(10); /* a header cut short */
	h = (struct hdr){ my_cid, HOST_CID, 4242, 5000, 1000, 1, OP_RW, 0, 0, 0 };
	memcpy(txbuf, &h, HDR);
	send_raw(HDR); /* claims 1000 bytes it does not carry */
	send(4242, 5000, 99, 0, 0, 0, 0, 0); /* unknown op, no connection */
	h.op = OP_REQUEST;
	h.type = 2; /* SEQPACKET: not offered */
	h.len = 0;
	memcpy(txbuf, &h, HDR);
	send_raw(HDR);
	recv(&h, 0, SECOND / 4); /* collect the RSTs */
	check(orphan_rsts > before, "vsock-malformed");
	printf("short, oversize, unknown-op and wrong-type packets sent; %d RSTs back\n",
	       orphan_rsts - before);
}

/* Guest to host and back, on one connection the guest opens. */
static void check_g2h(void)
{
	static uint8_t data[4096];
	uint32_t sent = 0, got = 0, bad = 0, credit = 0, host_fwd = 0;
	struct hdr h;
	int ok;

	send(5555, 5000, OP_REQUEST, 0, 256 * 1024, 0, 0, 0);
	ok = !recv(&h, 0, SECOND) && h.op == OP_RESPONSE && h.src_port == 5000;
	credit = h.buf_alloc;
	while (ok && sent < STREAM_LEN) {
		uint32_t n = STREAM_LEN - sent < 4096 ? STREAM_LEN - sent : 4096;

		if (sent + n - host_fwd > credit) {
			/* Out of the host's credit: ask, and wait for its update. */
			send(5555, 5000, OP_CREDIT_REQUEST, 0, 256 * 1024, got, 0, 0);
			if (recv(&h, 0, SECOND)) {
				ok = 0;
				break;
			}
			host_fwd = h.fwd_cnt;
			credit = h.buf_alloc;
			continue;
		}
		for (uint32_t i = 0; i < n; i++)
			data[i] = pattern(sent + i, 1);
		send(5555, 5000, OP_RW, 0, 256 * 1024, got, data, n);
		sent += n;
	}
	send(5555, 5000, OP_SHUTDOWN, 2, 256 * 1024, got, 0, 0); /* no more from us */
	while (ok && !recv(&h, data, 5 * SECOND)) {
		if (h.op == OP_RW) {
			for (uint32_t i = 0; i < h.len; i++)
				bad += data[i] != pattern(got + i, 2);
			got += h.len;
		} else if (h.op == OP_SHUTDOWN || h.op == OP_RST) {
			break;
		}
	}
	if (ok && h.op == OP_SHUTDOWN)
		send(5555, 5000, OP_RST, 0, 0, got, 0, 0);
	check(ok && got == STREAM_LEN && !bad, "vsock-g2h");
	printf("%u bytes sent, the host verified them and sent %u back (%u wrong)\n", sent, got,
	       bad);
}

/* Waits for the host's REQUEST to @port and accepts it with @buf_alloc. */
static uint32_t accept(uint32_t port, uint32_t buf_alloc)
{
	struct hdr h;

	if (recv(&h, 0, 10 * SECOND) || h.op != OP_REQUEST || h.dst_port != port)
		return 0;
	send(port, h.src_port, OP_RESPONSE, 0, buf_alloc, 0, 0, 0);
	return h.src_port;
}

static void check_h2g_credit(void)
{
	static uint8_t data[4096];
	uint32_t host_port = accept(1234, 4096), got = 0, fwd = 0, bad = 0, over = 0, stalls = 0;
	struct hdr h;

	while (host_port && got < STREAM_LEN && !recv(&h, data, 5 * SECOND)) {
		if (h.op != OP_RW)
			continue;
		for (uint32_t i = 0; i < h.len; i++)
			bad += data[i] != pattern(got + i, 3);
		got += h.len;
		over += got - fwd > 4096;
		if (got - fwd == 4096) {
			/* Window full: nothing may come until we say so. */
			if (recv(&h, 0, SECOND / 20))
				stalls++;
			else if (h.op == OP_RW)
				over++;
			fwd = got;
			send(1234, host_port, OP_CREDIT_UPDATE, 0, 4096, fwd, 0, 0);
		}
	}
	send(1234, host_port, OP_RW, 0, 4096, fwd, "DONE", 4);
	while (host_port && !recv(&h, 0, 5 * SECOND) && h.op != OP_SHUTDOWN)
		;
	send(1234, host_port, OP_RST, 0, 0, fwd, 0, 0);
	check(host_port >= (1U << 30) && got == STREAM_LEN && !bad && !over && stalls > 8,
	      "vsock-h2g-credit");
	printf("host port %u, %u bytes (%u wrong) through a 4 KiB window: %u stalls, %u "
	       "overruns\n",
	       host_port, got, bad, stalls, over);
}

static void check_peer_close(void)
{
	uint32_t host_port = accept(1235, 256 * 1024), got = 0;
	struct hdr h;
	int shutdown = 0;

	while (host_port && !recv(&h, 0, 5 * SECOND)) {
		if (h.op == OP_RW)
			got += h.len;
		if (h.op == OP_SHUTDOWN) {
			shutdown = 1;
			send(1235, host_port, OP_RST, 0, 0, got, 0, 0);
			break;
		}
	}
	check(shutdown && got > 0 && got < STREAM_LEN, "vsock-peer-close");
	printf("%u bytes, then the host's close arrived as SHUTDOWN\n", got);
}

static void check_many(void)
{
	static uint8_t data[4096];
	int opened = 0, echoed = 0, closed = 0;
	struct hdr h;

	for (int i = 0; i < NMANY; i++)
		send(6000 + i, 5001, OP_REQUEST, 0, 65536, 0, 0, 0);
	while ((opened < NMANY || closed < NMANY) && !recv(&h, data, 5 * SECOND)) {
		uint32_t i = h.dst_port - 6000;
		char msg[8] = { 'c', 'o', 'n', 'n', '0' + i / 10, '0' + i % 10, '!', '\n' };

		if (i >= NMANY)
			continue;
		if (h.op == OP_RESPONSE) {
			opened++;
			send(h.dst_port, 5001, OP_RW, 0, 65536, 0, msg, 8);
		} else if (h.op == OP_RW) {
			echoed += h.len == 8 && !memcmp(data, msg, 8);
		} else if (h.op == OP_SHUTDOWN || h.op == OP_RST) {
			closed++;
			if (h.op == OP_SHUTDOWN)
				send(h.dst_port, 5001, OP_RST, 0, 0, 8, 0, 0);
		}
	}
	check(opened == NMANY && echoed == NMANY && closed == NMANY, "vsock-many");
	printf("%d of %d connections opened, %d echoed, %d closed by the host\n", opened, NMANY,
	       echoed, closed);
}

/*
 * Throughput for bench/vsock.py, on one connection to host port 5002: the
 * host streams @bytes in, then the guest streams @bytes out in 64 KiB
 * packets. No checks here: the host side times and counts.
 */
static void vsock_bench(uint64_t bytes)
{
	static uint8_t chunk[65536];
	uint64_t got = 0, sent = 0, fwd = 0, credit = 0, host_fwd = 0;
	struct hdr h;

	send(7000, 5002, OP_REQUEST, 0, 1 << 20, 0, 0, 0);
	if (recv(&h, 0, SECOND) || h.op != OP_RESPONSE)
		return;
	credit = h.buf_alloc;
	while (got < bytes && !recv(&h, 0, 10 * SECOND)) {
		if (h.op != OP_RW)
			continue;
		got += h.len;
		if (got - fwd >= 256 * 1024) {
			fwd = got;
			send(7000, 5002, OP_CREDIT_UPDATE, 0, 1 << 20, fwd, 0, 0);
		}
	}
	while (sent < bytes) {
		uint32_t n = bytes - sent < sizeof(chunk) ? bytes - sent : sizeof(chunk);

		if (sent + n - host_fwd > credit) {
			/* Every packet carries the host's credit: read what came first. */
			while (!recv(&h, 0, 0)) {
				host_fwd = h.fwd_cnt;
				credit = h.buf_alloc;
			}
			if (sent + n - host_fwd <= credit)
				continue;
			send(7000, 5002, OP_CREDIT_REQUEST, 0, 1 << 20, got, 0, 0);
			if (recv(&h, 0, 10 * SECOND))
				break;
			host_fwd = h.fwd_cnt;
			credit = h.buf_alloc;
			continue;
		}
		send_zero_copy(7000, 5002, got, chunk, n);
		sent += n;
	}
	send(7000, 5002, OP_SHUTDOWN, 3, 1 << 20, got, 0, 0);
	printf("PROBE info vsock-bench: %lu bytes in, %lu bytes out\n", got, sent);
}

void check_vsock(struct vdev *dev, struct ring *tx_ring, struct ring *ev_ring)
{
	rx = *dev;
	tx = *dev;
	ev = *dev;
	tx.qidx = 1;
	tx.ring = tx_ring;
	ev.qidx = 2;
	ev.ring = ev_ring;
	if (init_begin(&rx, 0) || setup_queue(&rx) || setup_queue(&tx) || setup_queue(&ev)) {
		check(0, "vsock-init");
		printf("device refused the driver\n");
		return;
	}
	init_end(&rx);
	my_cid = rd(&rx, REG_CONFIG) | (uint64_t)rd(&rx, REG_CONFIG + 4) << 32;
	check(my_cid == cmdline_u64(cmdline, "probe.vsock-cid", 3), "vsock-init");
	printf("guest cid %lu, 3 queues\n", my_cid);
	for (int i = 0; i < NRX; i++)
		post_rx(i);
	if (cmdline_u64(cmdline, "probe.vsock-bench", 0)) {
		vsock_bench(cmdline_u64(cmdline, "probe.vsock-bench", 0));
		return;
	}
	check_malformed();
	check_g2h();
	check_h2g_credit();
	check_peer_close();
	check_many();
}
