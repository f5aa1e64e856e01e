// SPDX-License-Identifier: MIT
/*
 * A virtio-mmio driver for the probe, written from the virtio 1.2 spec and
 * negotiating the way Linux's drivers do. It finds devices in the DSDT
 * (LNRO0005), so it works under kvmini and QEMU microvm alike, and polls
 * the used ring instead of taking interrupts, checking InterruptStatus.
 *
 * cmdline: probe.virtio=1 turns it on; probe.disk-sectors=N and
 * probe.disk-id=ID are what the first writable disk must report;
 * probe.virtio-evil=1 adds the hostile-driver tests (kvmini only);
 * probe.records=1 runs the data-safety workload instead of the checks.
 */
#include "probe.h"
#include "virtio.h"

struct ring rings[MAX_DEVS + 3] __attribute__((aligned(4096)));
static struct desc indirect[64] __attribute__((aligned(16)));
static struct vdev devs[MAX_DEVS];
static int ndevs;
static uint8_t data[CHUNK] __attribute__((aligned(4096)));
static struct {
	uint32_t type, reserved;
	uint64_t sector;
} hdr;
static volatile uint8_t status;

uint32_t rd(struct vdev *d, uint32_t off)
{
	return mmio_read32(d->base + off);
}

void wr(struct vdev *d, uint32_t off, uint32_t v)
{
	mmio_write32(d->base + off, v);
}

void barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* LNRO0005 devices in the DSDT: Memory32Fixed gives the base. */
static void discover(void)
{
	const uint8_t *t = (const uint8_t *)dsdt_addr;
	uint32_t len = dsdt_addr ? table_len(dsdt_addr) : 0;

	for (uint32_t i = 36; i + 8 < len && ndevs < MAX_DEVS; i++) {
		if (memcmp(t + i, "LNRO0005", 8))
			continue;
		for (uint32_t j = i + 8; j + 12 < len && j < i + 96; j++) {
			if (t[j] != 0x86 || t[j + 1] != 9 || t[j + 2] != 0)
				continue;
			uint32_t base;

			memcpy(&base, t + j + 4, 4);
			devs[ndevs].base = base;
			devs[ndevs].ring = &rings[ndevs];
			if (rd(&devs[ndevs], REG_MAGIC) == 0x74726976 &&
			    rd(&devs[ndevs], REG_VERSION) == 2) {
				devs[ndevs].id = rd(&devs[ndevs], REG_DEVICE_ID);
				if (devs[ndevs].id)
					ndevs++;
			}
			break;
		}
	}
}

/* Linux's order: reset, ACK, DRIVER, features, FEATURES_OK, queues, DRIVER_OK. */
int init_begin(struct vdev *d, uint64_t want)
{
	uint64_t offered;

	wr(d, REG_STATUS, 0);
	wr(d, REG_STATUS, S_ACK);
	wr(d, REG_STATUS, S_ACK | S_DRIVER);
	wr(d, REG_DEVICE_FEATURES_SEL, 0);
	offered = rd(d, REG_DEVICE_FEATURES);
	wr(d, REG_DEVICE_FEATURES_SEL, 1);
	offered |= (uint64_t)rd(d, REG_DEVICE_FEATURES) << 32;
	d->features = offered & (want | F_VERSION_1);
	wr(d, REG_DRIVER_FEATURES_SEL, 0);
	wr(d, REG_DRIVER_FEATURES, d->features);
	wr(d, REG_DRIVER_FEATURES_SEL, 1);
	wr(d, REG_DRIVER_FEATURES, d->features >> 32);
	wr(d, REG_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(rd(d, REG_STATUS) & S_FEATURES_OK) || !(d->features & F_VERSION_1))
		return -1;
	return 0;
}

int setup_queue(struct vdev *d)
{
	struct ring *r = d->ring;

	memset(r, 0, sizeof(*r));
	wr(d, REG_QUEUE_SEL, d->qidx);
	d->num = rd(d, REG_QUEUE_NUM_MAX);
	if (!d->num)
		return -1;
	if (d->num > QSIZE)
		d->num = QSIZE;
	wr(d, REG_QUEUE_NUM, d->num);
	wr(d, REG_QUEUE_DESC, (uint64_t)r->desc);
	wr(d, REG_QUEUE_DESC + 4, 0);
	wr(d, REG_QUEUE_DRIVER, (uint64_t)&r->avail);
	wr(d, REG_QUEUE_DRIVER + 4, 0);
	wr(d, REG_QUEUE_DEVICE, (uint64_t)&r->used);
	wr(d, REG_QUEUE_DEVICE + 4, 0);
	wr(d, REG_QUEUE_READY, 1);
	if (rd(d, REG_QUEUE_READY) != 1)
		return -1;
	d->next_avail = d->last_used = 0;
	return 0;
}

void init_end(struct vdev *d)
{
	wr(d, REG_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

static int init_dev(struct vdev *d, uint64_t want)
{
	if (init_begin(d, want) || setup_queue(d))
		return -1;
	init_end(d);
	return 0;
}

/*
 * Makes descriptor 0 the head of a chain already written, publishes it and
 * notifies as EVENT_IDX says, then waits for it. Returns the used length,
 * or -1 on timeout.
 */
int64_t kick_and_wait(struct vdev *d, uint16_t head)
{
	struct ring *r = d->ring;
	uint16_t old = d->next_avail, event;
	uint64_t deadline;
	uint32_t len;

	r->avail.ring[d->next_avail % d->num] = head;
	if (d->features & F_EVENT_IDX)
		r->avail.used_event = d->last_used; /* interrupt me for this one */
	barrier();
	r->avail.idx = ++d->next_avail;
	barrier();
	event = r->used.avail_event;
	if (!(d->features & F_EVENT_IDX) ||
	    (uint16_t)(d->next_avail - event - 1) < (uint16_t)(d->next_avail - old))
		wr(d, REG_QUEUE_NOTIFY, d->qidx);
	deadline = rdtsc() + 10000000000ULL;
	while (*(volatile uint16_t *)&r->used.idx == d->last_used) {
		if (rdtsc() > deadline)
			return -1;
		pause();
	}
	barrier();
	len = r->used.ring[d->last_used % d->num].len;
	d->last_used++;
	/*
	 * The device must raise its used-ring interrupt. It may do so just
	 * after the used index becomes visible (QEMU's iothread does), so
	 * give it a moment before counting a miss.
	 */
	deadline = rdtsc() + 100000000ULL;
	while (!(rd(d, REG_INTERRUPT_STATUS) & 1) && rdtsc() < deadline)
		pause();
	if (!(rd(d, REG_INTERRUPT_STATUS) & 1))
		d->irq_misses++;
	wr(d, REG_INTERRUPT_ACK, 1); /* config-change stays for whoever checks it */
	return len;
}

void set_desc(struct desc *t, int i, const volatile void *addr, uint32_t len, uint16_t flags)
{
	t[i] = (struct desc){ (uint64_t)addr, len, flags, (uint16_t)(i + 1) };
}

/*
 * One blk request: header, @len bytes of data at @buf in @segs pieces
 * (through an indirect table when @use_indirect), status. Returns the
 * status byte, or 0xff if the device never answered.
 */
static int blk_rw(struct vdev *d, uint32_t type, uint64_t sector, void *buf, uint32_t len, int segs,
		  int use_indirect)
{
	struct desc *t = use_indirect ? indirect : d->ring->desc;
	uint16_t dflag = (type == 0 || type == 8) ? D_WRITE : 0;
	int n = 0;

	hdr.type = type;
	hdr.reserved = 0;
	hdr.sector = sector;
	status = 0xee;
	set_desc(t, n++, &hdr, sizeof(hdr), D_NEXT);
	for (int s = 0; len && s < segs; s++)
		set_desc(t, n++, (uint8_t *)buf + s * (len / segs), len / segs, D_NEXT | dflag);
	set_desc(t, n++, &status, 1, D_WRITE);
	t[n - 1].next = 0;
	if (use_indirect)
		set_desc(d->ring->desc, 0, indirect, n * sizeof(struct desc), D_INDIRECT);
	if (kick_and_wait(d, 0) < 0)
		return 0xff;
	return status;
}

/* Pattern fill and check, in ring 3: a 4 MiB disk is half a million words. */
static struct {
	uint64_t *buf;
	uint64_t words;
	uint64_t first_word;
	uint64_t seed;
} job;

static uint64_t pattern(uint64_t word, uint64_t seed)
{
	return (word * 0x9e3779b97f4a7c15ULL) ^ seed;
}

static struct user_result user_fill(uint64_t verify)
{
	uint64_t bad = 0;

	for (uint64_t i = 0; i < job.words; i++) {
		uint64_t want = job.seed ? pattern(job.first_word + i, job.seed) : 0;

		if (verify)
			bad += job.buf[i] != want;
		else
			job.buf[i] = want;
	}
	user_exit(bad, 0);
	__builtin_unreachable();
}

static uint64_t fill(uint64_t sector, uint64_t seed, int verify)
{
	job.buf = (uint64_t *)data;
	job.words = CHUNK / 8;
	job.first_word = sector * SECTOR / 8;
	job.seed = seed;
	return enter_user(user_fill, verify, USER_STACK_TOP).value;
}

/* Writes @seed's pattern over the whole disk, then reads and checks it. */
static int whole_disk(struct vdev *d, uint64_t sectors, uint64_t seed, int segs, int indir,
		      int write)
{
	for (uint64_t s = 0; write && s + CHUNK / SECTOR <= sectors; s += CHUNK / SECTOR) {
		fill(s, seed, 0);
		if (blk_rw(d, 1, s, data, CHUNK, segs, indir) != 0)
			return -1;
	}
	for (uint64_t s = 0; s + CHUNK / SECTOR <= sectors; s += CHUNK / SECTOR) {
		memset(data, 0, 64); /* a stale buffer must not pass */
		if (blk_rw(d, 0, s, data, CHUNK, segs, indir) != 0 || fill(s, seed, 1))
			return -2;
	}
	return 0;
}

static uint64_t capacity(struct vdev *d)
{
	return rd(d, REG_CONFIG) | (uint64_t)rd(d, REG_CONFIG + 4) << 32;
}

/* Discard sectors 0-7 and write zeroes over 8-15: all 16 must read as zero. */
static void check_blk_discard(struct vdev *d)
{
	struct {
		uint64_t sector;
		uint32_t num, flags;
	} seg = { 0, 8, 0 };
	int st, st2, ret;

	if (!(d->features & F_BLK_DISCARD) || !(d->features & F_BLK_WRITE_ZEROES)) {
		printf("PROBE info virtio-blk-discard: not offered\n");
		return;
	}
	memcpy(data, &seg, sizeof(seg));
	st = blk_rw(d, 11, 0, data, sizeof(seg), 1, 0);
	seg.sector = 8;
	memcpy(data, &seg, sizeof(seg));
	st2 = blk_rw(d, 13, 0, data, sizeof(seg), 1, 0);
	memset(data, 0xff, CHUNK);
	blk_rw(d, 0, 0, data, CHUNK, 1, 0);
	job.words = 16 * SECTOR / 8;
	job.buf = (uint64_t *)data;
	job.seed = 0;
	ret = enter_user(user_fill, 1, USER_STACK_TOP).value;
	check(st == 0 && st2 == 0 && ret == 0, "virtio-blk-discard");
	printf("discard 0-7: %d, write-zeroes 8-15: %d, %d nonzero words\n", st, st2, ret);
}

static void check_blk(struct vdev *d)
{
	uint64_t want_features = F_BLK_SIZE_MAX | F_BLK_SEG_MAX | F_BLK_RO | F_BLK_BLK_SIZE |
				 F_BLK_FLUSH | F_BLK_DISCARD | F_BLK_WRITE_ZEROES;
	uint64_t sectors, want = cmdline_u64(cmdline, "probe.disk-sectors", 0);
	size_t idlen;
	const char *id = cmdline_get(cmdline, "probe.disk-id", &idlen);
	int ret, st, st2;

	if (init_dev(d, want_features)) {
		check(0, "virtio-blk-init");
		printf("device at 0x%lx refused the driver\n", d->base);
		return;
	}
	sectors = capacity(d);
	if (d->features & F_BLK_RO) {
		memset(data, 0, SECTOR);
		st = blk_rw(d, 1, 0, data, SECTOR, 1, 0);
		st2 = blk_rw(d, 0, 0, data, SECTOR, 1, 0);
		check(st == 1 && st2 == 0, "virtio-blk-read-only");
		printf("write to a read-only disk: status %d (IOERR is 1), read: %d\n", st, st2);
		return;
	}
	check(!want || sectors == want, "virtio-blk-init");
	printf("at 0x%lx: %lu sectors (expected %lu), features 0x%lx\n", d->base, sectors, want,
	       d->features);

	ret = whole_disk(d, sectors, 0x1111, 1, 0, 1);
	check(ret == 0, "virtio-blk-write-read");
	printf("pattern over the whole disk, direct descriptors, no EVENT_IDX: %d\n", ret);

	/* Renegotiate the way a newer driver would: indirect + EVENT_IDX. */
	if (init_dev(d, want_features | F_INDIRECT | F_EVENT_IDX) || !(d->features & F_INDIRECT) ||
	    !(d->features & F_EVENT_IDX)) {
		check(0, "virtio-blk-indirect-event-idx");
		printf("features 0x%lx\n", d->features);
		return;
	}
	ret = whole_disk(d, sectors, 0x1111, 16, 1, 0);
	if (!ret)
		ret = whole_disk(d, sectors, 0x2222, 16, 1, 1);
	check(ret == 0, "virtio-blk-indirect-event-idx");
	printf("after reset, read back, then rewrite in 16-segment indirect chains: %d\n", ret);

	st = blk_rw(d, 4, 0, 0, 0, 0, 0);
	check(st == 0, "virtio-blk-flush");
	printf("status %d\n", st);

	check_blk_discard(d);

	memset(data, 0, 32);
	st = blk_rw(d, 8, 0, data, 20, 1, 0);
	check(st == 0 && (!id || (idlen <= 20 && !memcmp(data, id, idlen))), "virtio-blk-get-id");
	printf("status %d, id '%s'\n", st, (char *)data);

	st = blk_rw(d, 0, sectors, data, SECTOR, 1, 0);
	st2 = blk_rw(d, 0, sectors - 1, data, 2 * SECTOR, 1, 0);
	check(st == 1 && st2 == 1, "virtio-blk-out-of-range");
	printf("read at the end: %d, across the end: %d (IOERR is 1)\n", st, st2);

	check(d->irq_misses == 0, "virtio-blk-interrupts");
	printf("%d completions without InterruptStatus bit 0\n", d->irq_misses);
}

static void check_rng(struct vdev *d)
{
	uint8_t a[64], b[64];
	int64_t n1, n2;

	if (init_dev(d, 0)) {
		check(0, "virtio-rng");
		printf("device refused the driver\n");
		return;
	}
	memset(data, 0, 128);
	set_desc(d->ring->desc, 0, data, 64, D_WRITE);
	n1 = kick_and_wait(d, 0);
	memcpy(a, data, 64);
	set_desc(d->ring->desc, 0, data + 64, 64, D_WRITE);
	n2 = kick_and_wait(d, 0);
	memcpy(b, data + 64, 64);
	check(n1 > 0 && n2 > 0 && memcmp(a, b, 64) && memcmp(a, data + 100, 16), "virtio-rng");
	printf("two reads of %ld and %ld bytes, different\n", n1, n2);
}

/* Hostile driver (kvmini only) ---------------------------------------- */

/* Publishes a raw chain at head 0 and waits: the device must complete it. */
static int64_t evil(struct vdev *d, struct desc *chain, int n)
{
	for (int i = 0; i < n; i++)
		d->ring->desc[i] = chain[i];
	return kick_and_wait(d, 0);
}

static void check_evil(struct vdev *d, struct vdev *other)
{
	struct desc bad[3];
	int survived = 0, cases = 0, st;
	uint64_t ram_end = cmdline_u64(cmdline, "probe.mem", 0) << 20;

	init_dev(d, F_INDIRECT);
	/* 1: a two-descriptor cycle */
	bad[0] = (struct desc){ (uint64_t)&hdr, 16, D_NEXT, 1 };
	bad[1] = (struct desc){ (uint64_t)&status, 1, D_NEXT | D_WRITE, 0 };
	cases++, survived += evil(d, bad, 2) == 0;
	/* 2: an address outside RAM, 3: one straddling its end */
	bad[0] = (struct desc){ 0x200000000ULL, 16, D_NEXT, 1 };
	bad[1] = (struct desc){ (uint64_t)&status, 1, D_WRITE, 0 };
	cases++, survived += evil(d, bad, 2) == 0;
	bad[0].addr = ram_end - 8;
	cases++, survived += evil(d, bad, 2) == 0;
	/* 4: length 0 header (a malformed request: IOERR), 5: a 4 GiB length */
	bad[0] = (struct desc){ (uint64_t)&hdr, 0, D_NEXT, 1 };
	status = 0;
	cases++, survived += evil(d, bad, 2) == 1 && status == 1;
	bad[0].len = 0xffffffff;
	cases++, survived += evil(d, bad, 2) == 0;
	/* 6: an indirect table inside an indirect table */
	indirect[0] = (struct desc){ (uint64_t)indirect, 32, D_INDIRECT, 0 };
	bad[0] = (struct desc){ (uint64_t)indirect, 16, D_INDIRECT, 0 };
	cases++, survived += evil(d, bad, 1) == 0;
	/* The queue still serves good requests. */
	st = blk_rw(d, 0, 0, data, SECTOR, 1, 0);
	cases++, survived += st == 0;

	/* 7: rewriting the queue after DRIVER_OK must change nothing. */
	wr(d, REG_QUEUE_NUM, 2);
	wr(d, REG_QUEUE_DESC, 0x1000);
	wr(d, REG_QUEUE_DEVICE, 0x2000);
	st = blk_rw(d, 0, 0, data, SECTOR, 1, 0);
	cases++, survived += st == 0;

	/* 8: notifies for queues that do not exist or are not ready */
	wr(d, REG_QUEUE_NOTIFY, 1);
	wr(d, REG_QUEUE_NOTIFY, 0xffff);
	/* 9: an avail index far past the ring: the device wants a reset */
	d->ring->avail.idx = d->next_avail + QSIZE + 5;
	wr(d, REG_QUEUE_NOTIFY, 0);
	for (uint64_t end = rdtsc() + 2000000000ULL;
	     !(rd(d, REG_STATUS) & S_NEEDS_RESET) && rdtsc() < end;)
		pause();
	cases++, survived += (rd(d, REG_STATUS) & S_NEEDS_RESET) != 0;
	/* ...and works again after one. */
	init_dev(d, 0);
	st = blk_rw(d, 0, 0, data, SECTOR, 1, 0);
	cases++, survived += st == 0;
	check(survived == cases, "virtio-evil");
	printf("%d of %d hostile cases handled\n", survived, cases);

	if (other) {
		init_dev(other, 0);
		st = blk_rw(other, 0, 0, data, SECTOR, 1, 0);
		check(st == 0, "virtio-evil-other-disk");
		printf("the other disk reads with status %d\n", st);
	}
}

/*
 * Data-safety workload: numbered records, one per sector, with a flush
 * after every 8. "PROBE flushed N" goes out only after the flush of
 * records 0..N completed, so the host may kill us at any point and then
 * demand all of them from the file.
 */
static void write_records(struct vdev *d)
{
	uint64_t sectors;

	if (init_dev(d, F_BLK_FLUSH) || !(d->features & F_BLK_FLUSH))
		return;
	sectors = capacity(d);
	for (uint64_t i = 0; i < sectors; i++) {
		uint64_t *rec = (uint64_t *)data;

		rec[0] = 0x4b564d494e495245ULL; /* "KVMINIRE" */
		rec[1] = i;
		rec[2] = pattern(i, 0x5afe);
		if (blk_rw(d, 1, i, data, SECTOR, 1, 0) != 0)
			return;
		if (i % 8 == 7 && blk_rw(d, 4, 0, 0, 0, 0, 0) == 0)
			printf("PROBE flushed %lu\n", i);
	}
	putstr("PROBE records done\n");
}

/* Benchmark (probe.bench=1): runs in ring 3 ------------------------------ */

#define BENCH_QD 32
#define BENCH_BUF 0x4000000ULL /* 64 MiB: 32 x 1 MiB of request buffers */

static struct {
	uint32_t type, reserved;
	uint64_t sector;
} bhdr[BENCH_QD];
static volatile uint8_t bstatus[BENCH_QD];
static uint64_t rng_state = 88172645463325252ULL;

static uint64_t xorshift(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Fills request slot @i: three descriptors at 3 * i. */
static void bench_prepare(struct vdev *d, int i, uint32_t type, uint64_t sector, uint32_t len)
{
	struct desc *t = d->ring->desc;
	uint8_t *buf = (uint8_t *)(BENCH_BUF + (uint64_t)i * (1 << 20));

	bhdr[i].type = type;
	bhdr[i].sector = sector;
	t[3 * i] = (struct desc){ (uint64_t)&bhdr[i], 16, D_NEXT, (uint16_t)(3 * i + 1) };
	t[3 * i + 1] = (struct desc){ (uint64_t)buf, len, (uint16_t)(D_NEXT | (type ? 0 : D_WRITE)),
				      (uint16_t)(3 * i + 2) };
	t[3 * i + 2] = (struct desc){ (uint64_t)&bstatus[i], 1, D_WRITE, 0 };
	d->ring->avail.ring[d->next_avail % d->num] = 3 * i;
	d->next_avail++;
}

static void bench_publish(struct vdev *d, uint16_t old)
{
	struct ring *r = d->ring;

	r->avail.used_event = d->last_used;
	barrier();
	r->avail.idx = d->next_avail;
	barrier();
	if ((uint16_t)(d->next_avail - r->used.avail_event - 1) < (uint16_t)(d->next_avail - old))
		wr(d, REG_QUEUE_NOTIFY, 0);
}

/* @count requests of @len bytes at queue depth @qd; random or sequential. */
static int bench_phase(struct vdev *d, const char *name, uint32_t type, uint32_t len, int qd,
		       int random, uint64_t count, uint64_t sectors)
{
	uint64_t submitted = 0, done = 0, next_seq = 0, span = sectors - len / SECTOR;
	uint64_t errors = 0;

	for (uint16_t old = d->next_avail; submitted < count && submitted < (uint64_t)qd;) {
		uint64_t s = random ? (xorshift() % span) & ~7ULL : next_seq;

		next_seq = (next_seq + len / SECTOR) % span;
		bench_prepare(d, submitted++, type, s, len);
		if (submitted == (uint64_t)qd || submitted == count)
			bench_publish(d, old);
	}
	while (done < count) {
		uint16_t old = d->next_avail;
		int added = 0;

		while (*(volatile uint16_t *)&d->ring->used.idx == d->last_used)
			pause();
		barrier();
		while (*(volatile uint16_t *)&d->ring->used.idx != d->last_used) {
			int slot = d->ring->used.ring[d->last_used % d->num].id / 3;

			d->last_used++;
			done++;
			errors += bstatus[slot] != 0;
			if (submitted < count) {
				uint64_t s = random ? (xorshift() % span) & ~7ULL : next_seq;

				next_seq = (next_seq + len / SECTOR) % span;
				bench_prepare(d, slot, type, s, len);
				submitted++;
				added++;
			}
		}
		if (added)
			bench_publish(d, old);
	}
	(void)name;
	return errors ? -1 : 0;
}

static const struct bench_spec {
	const char *name;
	uint32_t type, len;
	int qd, random;
	uint64_t count;
} bench_specs[] = {
	{ "randread-4k-qd1", 0, 4096, 1, 1, 4000 },
	{ "randwrite-4k-qd1", 1, 4096, 1, 1, 4000 },
	{ "randread-4k-qd32", 0, 4096, 32, 1, 16000 },
	{ "randwrite-4k-qd32", 1, 4096, 32, 1, 16000 },
	{ "seqread-1m-qd1", 0, 1 << 20, 1, 0, 100 },
	{ "seqwrite-1m-qd1", 1, 1 << 20, 1, 0, 100 },
	{ "seqread-1m-qd32", 0, 1 << 20, 32, 0, 400 },
	{ "seqwrite-1m-qd32", 1, 1 << 20, 32, 0, 400 },
};
static struct vdev *bench_dev;
static uint64_t bench_scale;

/* One phase in ring 3, where polling runs natively (and port I/O cannot). */
static struct user_result user_bench(uint64_t index)
{
	const struct bench_spec *b = &bench_specs[index];
	int err = bench_phase(bench_dev, b->name, b->type, b->len, b->qd, b->random,
			      b->count * bench_scale, capacity(bench_dev));

	user_exit(err, 0);
	__builtin_unreachable();
}

static void run_bench(struct vdev *d)
{
	int failed = 0;

	bench_scale = cmdline_u64(cmdline, "probe.bench", 1);
	if (init_dev(d, F_BLK_FLUSH | F_EVENT_IDX | F_BLK_SEG_MAX | F_BLK_SIZE_MAX) ||
	    d->num < 3 * BENCH_QD) {
		check(0, "virtio-blk-bench");
		printf("queue of %u entries is too small\n", d->num);
		return;
	}
	bench_dev = d;
	for (uint64_t i = 0; i < sizeof(bench_specs) / sizeof(bench_specs[0]); i++) {
		printf("PROBE bench-begin %s\n", bench_specs[i].name);
		failed += enter_user(user_bench, i, USER_STACK_TOP).value != 0;
		printf("PROBE bench-end %s %lu\n", bench_specs[i].name,
		       bench_specs[i].count * bench_scale);
	}
	check(!failed, "virtio-blk-bench");
	printf("%d phases had I/O errors\n", failed);
}

void check_virtio(void)
{
	struct vdev *rw = 0, *other = 0;
	int nblk = 0, nrng = 0, nnet = 0, nvsock = 0;

	if (!cmdline_u64(cmdline, "probe.virtio", 0))
		return;
	discover();
	if (cmdline_u64(cmdline, "probe.bench", 0)) {
		for (int i = 0; i < ndevs; i++)
			if (devs[i].id == 2) {
				run_bench(&devs[i]);
				break;
			}
		return;
	}
	if (cmdline_u64(cmdline, "probe.records", 0)) {
		for (int i = 0; i < ndevs; i++)
			if (devs[i].id == 2)
				write_records(&devs[i]);
		return;
	}
	for (int i = 0; i < ndevs; i++) {
		if (devs[i].id == 2) {
			nblk++;
			check_blk(&devs[i]);
			if (!(devs[i].features & F_BLK_RO)) {
				if (rw)
					other = &devs[i];
				else
					rw = &devs[i];
			} else if (!other) {
				other = &devs[i];
			}
		} else if (devs[i].id == 4) {
			nrng++;
			check_rng(&devs[i]);
		} else if (devs[i].id == 1) {
			nnet++;
			check_net(&devs[i], &rings[MAX_DEVS]);
		} else if (devs[i].id == 19) {
			nvsock++;
			check_vsock(&devs[i], &rings[MAX_DEVS + 1], &rings[MAX_DEVS + 2]);
		}
	}
	check(nblk + nrng + nnet + nvsock > 0, "virtio-discovery");
	printf("%d devices in the DSDT: %d blk, %d rng, %d net, %d vsock\n", ndevs, nblk, nrng,
	       nnet, nvsock);
	if (rw && cmdline_u64(cmdline, "probe.virtio-evil", 0))
		check_evil(rw, other);
}
