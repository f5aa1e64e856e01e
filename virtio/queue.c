// SPDX-License-Identifier: MIT
/*
 * Split virtqueue processing. The guest owns the rings and may change them
 * under our feet, so every field is read once, bounds-checked, and never
 * trusted twice: a cycle or an overlong chain ends at the cap, addresses
 * go through gpa_to_host(), and indices wrap only modulo the queue size.
 */
#include <string.h>

#include "virtio/queue.h"

/* Ring layout offsets. */
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_IDX 2
#define USED_RING 4

static uint16_t load16(volatile const uint8_t *p)
{
	uint16_t v;

	v = __atomic_load_n((volatile const uint16_t *)p, __ATOMIC_ACQUIRE);
	return v;
}

static void store16(volatile uint8_t *p, uint16_t v)
{
	__atomic_store_n((volatile uint16_t *)p, v, __ATOMIC_RELEASE);
}

static size_t avail_size(uint16_t num)
{
	return AVAIL_RING + 2 * num + 2; /* flags, idx, ring, used_event */
}

static size_t used_size(uint16_t num)
{
	return USED_RING + 8 * num + 2; /* flags, idx, ring, avail_event */
}

int virtq_activate(struct virtq *q, const struct guest_ram *ram)
{
	if (!q->num || q->num > VIRTQ_MAX_SIZE || (q->num & (q->num - 1)))
		return -1;
	if ((q->desc_addr & 15) || (q->avail_addr & 1) || (q->used_addr & 3))
		return -1;
	q->desc = gpa_to_host(ram, q->desc_addr, 16 * q->num);
	q->avail = gpa_to_host(ram, q->avail_addr, avail_size(q->num));
	q->used = gpa_to_host(ram, q->used_addr, used_size(q->num));
	if (!q->desc || !q->avail || !q->used)
		return -1;
	q->last_avail = 0;
	q->avail_seen = 0;
	q->used_idx = 0;
	q->signalled_valid = false;
	q->ready = true;
	return 0;
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static void read_desc(volatile const uint8_t *table, uint16_t i, struct desc *d)
{
	/* One copy: the guest may rewrite the entry while we look at it. */
	memcpy(d, (const uint8_t *)table + 16 * (size_t)i, sizeof(*d));
}

static int add_iov(struct virtq_chain *c, const struct guest_ram *ram, const struct desc *d)
{
	void *p;

	if (d->len == 0)
		return 0;
	p = gpa_to_host(ram, d->addr, d->len);
	if (!p)
		return -1;
	if (d->flags & VIRTQ_DESC_F_WRITE) {
		if (c->nin == VIRTQ_MAX_IOV)
			return -1;
		c->in[c->nin++] = (struct iovec){ p, d->len };
		c->in_len += d->len;
	} else {
		/* Readable descriptors must all come before writable ones. */
		if (c->nin || c->nout == VIRTQ_MAX_IOV)
			return -1;
		c->out[c->nout++] = (struct iovec){ p, d->len };
		c->out_len += d->len;
	}
	return 0;
}

/* Walks a table of @max descriptors from @i; at most @max steps. */
static int walk(struct virtq_chain *c, const struct guest_ram *ram, volatile const uint8_t *table,
		uint32_t max, uint16_t i, bool indirect)
{
	for (uint32_t steps = 0;; steps++) {
		struct desc d;

		if (steps == max || i >= max)
			return -1; /* a cycle, or an index out of the table */
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			volatile const uint8_t *sub;

			if (indirect || (d.flags & VIRTQ_DESC_F_NEXT) || !d.len || d.len % 16 ||
			    d.len / 16 > VIRTQ_MAX_INDIRECT)
				return -1;
			sub = gpa_to_host(ram, d.addr, d.len);
			if (!sub)
				return -1;
			return walk(c, ram, sub, d.len / 16, 0, true);
		}
		if (add_iov(c, ram, &d))
			return -1;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, const struct guest_ram *ram, struct virtq_chain *chain)
{
	uint16_t avail_idx, head;

	if (!q->ready)
		return VIRTQ_EMPTY;
	avail_idx = load16(q->avail + AVAIL_IDX);
	q->avail_seen = avail_idx;
	if (avail_idx == q->last_avail)
		return VIRTQ_EMPTY;
	/* More new entries than the ring holds: the driver lost its mind. */
	if ((uint16_t)(avail_idx - q->last_avail) > q->num)
		return VIRTQ_BROKEN;
	head = load16(q->avail + AVAIL_RING + 2 * (q->last_avail % q->num));
	q->last_avail++;
	if (head >= q->num)
		return VIRTQ_BROKEN; /* cannot even be completed */
	chain->head = head;
	chain->nout = chain->nin = 0;
	chain->out_len = chain->in_len = 0;
	if (walk(chain, ram, q->desc, q->num, head, false))
		return VIRTQ_BAD_CHAIN;
	return VIRTQ_CHAIN;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	volatile uint8_t *elem;
	uint32_t id = head;

	/* A late completion after a reset has no ring to go to. */
	if (!q->ready)
		return;
	elem = q->used + USED_RING + 8 * (q->used_idx % q->num);
	memcpy((uint8_t *)elem, &id, 4);
	memcpy((uint8_t *)elem + 4, &len, 4);
	q->used_idx++;
	store16(q->used + USED_IDX, q->used_idx);
}

void virtq_unpop(struct virtq *q, uint16_t n)
{
	q->last_avail -= n;
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled_used, now = q->used_idx, event;
	bool valid = q->signalled_valid;

	/* The used index must be visible before we read the driver's wishes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->signalled_used = now;
	q->signalled_valid = true;
	if (!q->event_idx)
		return !(load16(q->avail) & 1); /* VIRTQ_AVAIL_F_NO_INTERRUPT */
	event = load16(q->avail + AVAIL_RING + 2 * q->num);
	/* vring_need_event(): did now pass event since old? */
	return !valid || (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

bool virtq_arm_avail_event(struct virtq *q)
{
	if (!q->ready)
		return false;
	/* The index the last pop saw, not a fresh one: a buffer added since
	 * came from a driver that read the old event index and did not
	 * notify, and the look below must find it. */
	if (q->event_idx)
		store16(q->used + USED_RING + 8 * q->num, q->avail_seen);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(q->avail + AVAIL_IDX) != q->avail_seen;
}

/* Copies between @buf and the bytes [skip, skip + len) of an iovec list. */
static size_t iov_copy(const struct iovec *iov, int n, size_t skip, void *buf, size_t len,
		       bool to_iov)
{
	size_t done = 0;

	for (int i = 0; i < n && done < len; i++) {
		size_t chunk;
		uint8_t *at;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		chunk = iov[i].iov_len - skip;
		if (chunk > len - done)
			chunk = len - done;
		at = (uint8_t *)iov[i].iov_base + skip;
		if (to_iov)
			memcpy(at, (uint8_t *)buf + done, chunk);
		else
			memcpy((uint8_t *)buf + done, at, chunk);
		done += chunk;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, int n, size_t skip, void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, false);
}

size_t buf_to_iov(const struct iovec *iov, int n, size_t skip, const void *buf, size_t len)
{
	return iov_copy(iov, n, skip, (void *)buf, len, true);
}

uint8_t *iov_byte(const struct iovec *iov, int n, size_t off)
{
	for (int i = 0; i < n; i++) {
		if (off < iov[i].iov_len)
			return (uint8_t *)iov[i].iov_base + off;
		off -= iov[i].iov_len;
	}
	return NULL;
}

/* The [skip, skip + len) part of @src as a new iovec list in @dst. */
int iov_slice(const struct iovec *src, int n, size_t skip, size_t len, struct iovec *dst)
{
	int out = 0;

	for (int i = 0; i < n && len; i++) {
		size_t chunk;

		if (skip >= src[i].iov_len) {
			skip -= src[i].iov_len;
			continue;
		}
		chunk = src[i].iov_len - skip;
		if (chunk > len)
			chunk = len;
		dst[out++] = (struct iovec){ (uint8_t *)src[i].iov_base + skip, chunk };
		len -= chunk;
		skip = 0;
	}
	return out;
}
