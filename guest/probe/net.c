// SPDX-License-Identifier: MIT
/*
 * virtio-net checks for the probe, against a tap whose host side is
 * 172.30.0.1 (tests/netns.sh): ARP, ping, a jumbo ping that needs merged
 * RX buffers, a ping with TX checksum offload, an RX flood while the guest
 * withholds buffers (the host sends 'g' on the serial line when done), and
 * with probe.net-evil=1 malformed TX frames. With probe.net-down=1 the
 * host deletes the tap instead of flooding and the link must go down.
 */
#include "probe.h"
#include "virtio.h"

#define F_NET_CSUM (1ULL << 0)
#define F_NET_GUEST_CSUM (1ULL << 1)
#define F_NET_MTU (1ULL << 3)
#define F_NET_MAC (1ULL << 5)
#define F_NET_MRG_RXBUF (1ULL << 15)
#define F_NET_STATUS (1ULL << 16)
#define HDR 12
#define RXBUF 2048
#define NRX 64
#define MY_IP 0xac1e0002 /* 172.30.0.2 */
#define HOST_IP 0xac1e0001 /* 172.30.0.1 */

static uint8_t rxbufs[NRX][RXBUF] __attribute__((aligned(16)));
static uint8_t txbuf[HDR + 9100] __attribute__((aligned(16)));
static uint8_t frame[9100];
static uint8_t my_mac[6], host_mac[6];
static struct vdev tx;
static int withhold;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* As Linux does: with EVENT_IDX, notify only when the device asked to be. */
static void post_rx(struct vdev *rx, int i)
{
	struct ring *r = rx->ring;
	uint16_t old = rx->next_avail;

	set_desc(r->desc, i, rxbufs[i], RXBUF, D_WRITE);
	r->avail.ring[rx->next_avail % rx->num] = i;
	barrier();
	r->avail.idx = ++rx->next_avail;
	barrier();
	if (!(rx->features & F_EVENT_IDX) ||
	    (uint16_t)(rx->next_avail - r->used.avail_event - 1) < (uint16_t)(rx->next_avail - old))
		wr(rx, REG_QUEUE_NOTIFY, 0);
}

/* Next frame (vnet header stripped) into frame[]; -1 on timeout. */
static int recv(struct vdev *rx, uint64_t cycles)
{
	struct ring *r = rx->ring;
	uint64_t deadline = rdtsc() + cycles;
	int len = 0, nbuf = 1;

	for (int k = 0; k < nbuf; k++) {
		uint32_t id, n;
		const uint8_t *p;

		while (*(volatile uint16_t *)&r->used.idx == rx->last_used)
			if (rdtsc() > deadline)
				return -1;
		barrier();
		id = r->used.ring[rx->last_used % rx->num].id;
		n = r->used.ring[rx->last_used % rx->num].len;
		rx->last_used++;
		if (id >= NRX || n > RXBUF)
			return -1;
		p = rxbufs[id];
		if (k == 0) {
			if (rx->features & F_NET_MRG_RXBUF)
				nbuf = p[10] | p[11] << 8;
			p += HDR;
			n -= n >= HDR ? HDR : n;
		}
		if (len + n <= sizeof(frame))
			memcpy(frame + len, p, n);
		len += n;
		if (!withhold)
			post_rx(rx, id);
	}
	return len;
}

static int send(const uint8_t *f, int len, int csum_start, int csum_offset)
{
	memset(txbuf, 0, HDR);
	if (csum_start) {
		txbuf[0] = 1; /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
		txbuf[6] = csum_start;
		txbuf[8] = csum_offset;
	}
	memcpy(txbuf + HDR, f, len);
	set_desc(tx.ring->desc, 0, txbuf, HDR + len, 0);
	return kick_and_wait(&tx, 0) < 0 ? -1 : 0;
}

static int arp(struct vdev *rx)
{
	uint8_t f[42] = { 0 };

	memset(f, 0xff, 6);
	memcpy(f + 6, my_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1); /* request */
	memcpy(f + 22, my_mac, 6);
	put32(f + 28, MY_IP);
	put32(f + 38, HOST_IP);
	if (send(f, sizeof(f), 0, 0))
		return -1;
	for (int tries = 0; tries < 2000; tries++) {
		int n = recv(rx, 5000000000ULL);

		if (n < 0)
			return -1;
		if (n >= 42 && get16(frame + 12) == 0x0806 && get16(frame + 20) == 2 &&
		    get16(frame + 28) == (HOST_IP >> 16) &&
		    get16(frame + 30) == (HOST_IP & 0xffff)) {
			memcpy(host_mac, frame + 22, 6);
			return 0;
		}
	}
	return -1;
}

/* Echo request with @size payload bytes; 0 when the matching reply came. */
static int ping(struct vdev *rx, uint16_t seq, int size, int offload)
{
	static uint8_t f[9100];
	int len = 14 + 20 + 8 + size;
	uint8_t *ip = f + 14, *icmp = f + 34;

	memcpy(f, host_mac, 6);
	memcpy(f + 6, my_mac, 6);
	put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + size);
	put16(ip + 4, seq);
	ip[8] = 64;
	ip[9] = 1;
	put32(ip + 12, MY_IP);
	put32(ip + 16, HOST_IP);
	put16(ip + 10, csum(ip, 20));
	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, 0x4b56);
	put16(icmp + 6, seq);
	for (int i = 0; i < size; i++)
		icmp[8 + i] = (uint8_t)(i * 7 + seq);
	if (!offload)
		put16(icmp + 2, csum(icmp, 8 + size));
	if (send(f, len, offload ? 34 : 0, offload ? 2 : 0))
		return -1;
	for (int tries = 0; tries < 2000; tries++) {
		int n = recv(rx, 5000000000ULL);

		if (n < 0)
			return -2;
		if (n >= len && get16(frame + 12) == 0x0800 && frame[23] == 1 && frame[34] == 0 &&
		    get16(frame + 38) == 0x4b56 && get16(frame + 40) == seq)
			return memcmp(frame + 42, icmp + 8, size) ? -3 : 0;
	}
	return -4;
}

/* Waits for a byte on the serial line: the host's "go on". */
static int serial_wait(uint64_t cycles)
{
	uint64_t deadline = rdtsc() + cycles;

	while (rdtsc() < deadline)
		if (inb(0x3fd) & 1)
			return inb(0x3f8);
	return -1;
}

/* Benchmark (probe.net-bench=N): ring-3 loops, as many frames as fit ----- */

#define BENCH_INFLIGHT 64
static uint8_t bench_frames[BENCH_INFLIGHT][HDR + 1514] __attribute__((aligned(64)));
static struct {
	struct vdev *rx;
	uint64_t count;
	uint32_t len;
} job;

/* Keeps up to 64 frames in flight on the TX queue until @count are sent. */
static struct user_result user_tx(uint64_t unused)
{
	struct ring *r = tx.ring;
	uint64_t sent = 0, done = 0;

	(void)unused;
	while (done < job.count) {
		uint16_t old = tx.next_avail;

		while (sent < job.count && sent - done < BENCH_INFLIGHT) {
			int slot = sent % BENCH_INFLIGHT;

			set_desc(r->desc, slot, bench_frames[slot], HDR + job.len, 0);
			r->avail.ring[tx.next_avail % tx.num] = slot;
			tx.next_avail++;
			sent++;
		}
		if (tx.next_avail != old) {
			barrier();
			r->avail.idx = tx.next_avail;
			barrier();
			wr(&tx, REG_QUEUE_NOTIFY, 1);
		}
		while (*(volatile uint16_t *)&r->used.idx == tx.last_used)
			pause();
		barrier();
		while (*(volatile uint16_t *)&r->used.idx != tx.last_used) {
			tx.last_used++;
			done++;
		}
	}
	user_exit(done, 0);
	__builtin_unreachable();
}

/* Counts received frames, reposting buffers, until the host's end marker
 * (ethertype 0x88b6) or a long silence. */
static struct user_result user_rx(uint64_t unused)
{
	struct vdev *rx = job.rx;
	struct ring *r = rx->ring;
	uint64_t frames = 0, bytes = 0;
	uint64_t silence = rdtsc() + 30000000000ULL;

	(void)unused;
	for (;;) {
		if (*(volatile uint16_t *)&r->used.idx == rx->last_used) {
			if (rdtsc() > silence)
				break;
			pause();
			continue;
		}
		barrier();
		uint32_t id = r->used.ring[rx->last_used % rx->num].id;
		uint32_t len = r->used.ring[rx->last_used % rx->num].len;
		const uint8_t *f = rxbufs[id % NRX] + HDR;

		rx->last_used++;
		if (len >= HDR + 14 && f[12] == 0x88 && f[13] == 0xb6)
			break;
		frames++;
		bytes += len - HDR;
		set_desc(r->desc, id % NRX, rxbufs[id % NRX], RXBUF, D_WRITE);
		r->avail.ring[rx->next_avail % rx->num] = id % NRX;
		rx->next_avail++;
		if (!(rx->next_avail % 8)) { /* refill in batches of 8 */
			barrier();
			r->avail.idx = rx->next_avail;
			barrier();
			wr(rx, REG_QUEUE_NOTIFY, 0);
		}
		silence = rdtsc() + 30000000000ULL;
	}
	user_exit(frames, bytes);
	__builtin_unreachable();
}

static void net_bench(struct vdev *rx)
{
	uint64_t scale = cmdline_u64(cmdline, "probe.net-bench", 1);
	static const uint32_t sizes[] = { 64, 1500 };

	for (int i = 0; i < 2; i++) {
		uint32_t len = sizes[i] - 4; /* the FCS is not ours */

		for (int k = 0; k < BENCH_INFLIGHT; k++) {
			uint8_t *f = bench_frames[k];

			memset(f, 0, HDR + len);
			/* To a MAC nobody has: the host counts and drops it. */
			memcpy(f + HDR, "\x02\x00\x00\x00\x00\x99", 6);
			memcpy(f + HDR + 6, my_mac, 6);
			put16(f + HDR + 12, 0x88b5);
		}
		job.count = 20000 * scale;
		job.len = len;
		printf("PROBE bench-begin tx-%u\n", sizes[i]);
		uint64_t done = enter_user(user_tx, 0, USER_STACK_TOP).value;
		printf("PROBE bench-end tx-%u %lu\n", sizes[i], done);
	}
	job.rx = rx;
	putstr("PROBE bench-rx-ready\n");
	struct user_result res = enter_user(user_rx, 0, USER_STACK_TOP);
	printf("PROBE bench-rx %lu %lu\n", res.value, res.cpl);
}

/* A frame shorter than its header, then one of 70000 bytes: both complete, ping still works. */
static void check_malformed(struct vdev *rx)
{
	int r, r2;

	set_desc(tx.ring->desc, 0, txbuf, 8, 0);
	r = kick_and_wait(&tx, 0) >= 0;
	set_desc(tx.ring->desc, 0, (void *)0x4000000, 70000, 0);
	r += kick_and_wait(&tx, 0) >= 0;
	r2 = ping(rx, 5, 56, 0);
	check(r == 2 && r2 == 0, "virtio-net-malformed");
	printf("short and oversize frames completed: %d of 2, ping after: %d\n", r, r2);
}

void check_net(struct vdev *rx, struct ring *tx_ring)
{
	uint64_t want = F_NET_CSUM | F_NET_GUEST_CSUM | F_NET_MTU | F_NET_MAC | F_NET_MRG_RXBUF |
			F_NET_STATUS | F_EVENT_IDX;
	uint16_t status, mtu, want_mtu = cmdline_u64(cmdline, "probe.net-mtu", 0);
	int r, r2, go;

	tx = *rx;
	tx.qidx = 1;
	tx.ring = tx_ring;
	if (init_begin(rx, want) || setup_queue(rx) || setup_queue(&tx)) {
		check(0, "virtio-net-init");
		printf("device refused the driver\n");
		return;
	}
	tx.features = rx->features;
	init_end(rx);
	for (int i = 0; i < 6; i++)
		my_mac[i] = *(volatile uint8_t *)(rx->base + REG_CONFIG + i);
	status = rd(rx, REG_CONFIG + 4) >> 16;
	mtu = rd(rx, REG_CONFIG + 8) >> 16;
	check((status & 1) && (!want_mtu || mtu == want_mtu), "virtio-net-init");
	printf("mac %02x:%02x:%02x:%02x:%02x:%02x, link %s, mtu %u, features 0x%lx\n", my_mac[0],
	       my_mac[1], my_mac[2], my_mac[3], my_mac[4], my_mac[5], status & 1 ? "up" : "down",
	       mtu, rx->features);
	for (int i = 0; i < NRX; i++)
		post_rx(rx, i);

	r = arp(rx);
	check(r == 0, "virtio-net-arp");
	printf("host MAC %02x:%02x:%02x:%02x:%02x:%02x\n", host_mac[0], host_mac[1], host_mac[2],
	       host_mac[3], host_mac[4], host_mac[5]);
	if (r)
		return;
	if (cmdline_u64(cmdline, "probe.net-bench", 0)) {
		net_bench(rx);
		return;
	}
	r = ping(rx, 1, 56, 0);
	check(r == 0, "virtio-net-ping");
	printf("56-byte echo: %d\n", r);
	r = ping(rx, 2, 8000, 0);
	check(r == 0, "virtio-net-jumbo-mrg");
	printf("8000-byte echo through %d-byte merged buffers: %d\n", RXBUF, r);
	r = ping(rx, 3, 1000, 1);
	check(r == 0, "virtio-net-tx-csum-offload");
	printf("echo with the checksum left to the host: %d\n", r);

	/* Flood: hold every buffer back until the host says it is done. */
	withhold = 1;
	putstr("PROBE net-withhold\n");
	go = serial_wait(60000000000ULL);
	withhold = 0;
	while (*(volatile uint16_t *)&rx->ring->used.idx != rx->last_used) {
		post_rx(rx, rx->ring->used.ring[rx->last_used % rx->num].id);
		rx->last_used++;
	}
	if (cmdline_u64(cmdline, "probe.net-down", 0)) {
		/* The host deleted the tap: the next frame must find the link down. */
		uint64_t deadline = rdtsc() + 5000000000ULL;

		arp(rx);
		while ((rd(rx, REG_CONFIG + 4) >> 16) & 1 && rdtsc() < deadline)
			pause();
		status = rd(rx, REG_CONFIG + 4) >> 16;
		check(go == 'g' && !(status & 1) && (rd(rx, REG_INTERRUPT_STATUS) & 2),
		      "virtio-net-link-down");
		printf("status %u after the tap went away, config interrupt %u\n", status,
		       (rd(rx, REG_INTERRUPT_STATUS) >> 1) & 1);
		return;
	}
	/* The flood's tail may still be queued ahead of the ARP reply. */
	for (int tries = 0; tries < 5 && (r = arp(rx)); tries++)
		;
	r2 = ping(rx, 4, 56, 0);
	check(go == 'g' && r == 0 && r2 == 0, "virtio-net-rx-recovery");
	printf("after the flood: serial '%c', arp %d, ping %d\n", go > 0 ? go : '?', r, r2);

	if (cmdline_u64(cmdline, "probe.net-evil", 0))
		check_malformed(rx);
}
