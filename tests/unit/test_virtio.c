// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "virtio/blk.h"
#include "virtio/virtio.h"
#include "vm.h"

#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000
#define DATA 0x20000
#define NUM 8

struct fixture {
	struct guest_ram ram;
	struct virtq q;
	struct virtq_chain chain;
};

static void put_desc(struct fixture *f, uint64_t table, int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t *d = f->ram.host + table + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void offer(struct fixture *f, uint16_t head)
{
	uint16_t *idx = (uint16_t *)(f->ram.host + AVAIL + 2);

	((uint16_t *)(f->ram.host + AVAIL + 4))[*idx % NUM] = head;
	(*idx)++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ram = fake_ram(16 * MiB);
	f->q.num = NUM;
	f->q.desc_addr = DESC;
	f->q.avail_addr = AVAIL;
	f->q.used_addr = USED;
	assert_int_equal(virtq_activate(&f->q, &f->ram), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free_fake_ram(&f->ram);
	free(f);
	return 0;
}

static void pops_a_chain_in_order(void **state)
{
	struct fixture *f = *state;
	uint16_t used_idx;

	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_EMPTY);
	put_desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, DATA + 512, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	put_desc(f, DESC, 2, DATA + 1024, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_CHAIN);
	assert_int_equal(f->chain.head, 0);
	assert_int_equal(f->chain.nout, 1);
	assert_int_equal(f->chain.nin, 2);
	assert_ptr_equal(f->chain.out[0].iov_base, f->ram.host + DATA);
	assert_int_equal(f->chain.in_len, 513);
	virtq_push(&f->q, 0, 513);
	memcpy(&used_idx, f->ram.host + USED + 2, 2);
	assert_int_equal(used_idx, 1);
	assert_int_equal(*(uint32_t *)(f->ram.host + USED + 8), 513);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_EMPTY);
}

static void hostile_chains_fail_alone(void **state)
{
	struct fixture *f = *state;

	/* a cycle */
	put_desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
	/* next index outside the table */
	put_desc(f, DESC, 2, DATA, 16, VIRTQ_DESC_F_NEXT, 200);
	offer(f, 2);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
	/* outside RAM, straddling its end, wrapping, 4 GiB long */
	put_desc(f, DESC, 3, 64 * MiB, 16, 0, 0);
	offer(f, 3);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
	put_desc(f, DESC, 3, 16 * MiB - 8, 16, 0, 0);
	offer(f, 3);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
	put_desc(f, DESC, 3, UINT64_MAX - 8, 16, 0, 0);
	offer(f, 3);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
	put_desc(f, DESC, 3, DATA, UINT32_MAX, 0, 0);
	offer(f, 3);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
	/* readable after writable */
	put_desc(f, DESC, 4, DATA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 5);
	put_desc(f, DESC, 5, DATA, 16, 0, 0);
	offer(f, 4);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
	/* a zero-length descriptor is legal and skipped */
	put_desc(f, DESC, 6, DATA, 0, VIRTQ_DESC_F_NEXT, 7);
	put_desc(f, DESC, 7, DATA, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 6);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_CHAIN);
	assert_int_equal(f->chain.nout + f->chain.nin, 1);
}

static void indirect_tables(void **state)
{
	struct fixture *f = *state;
	uint64_t table = DATA + 0x1000;

	put_desc(f, table, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, table, 1, DATA + 16, 1, VIRTQ_DESC_F_WRITE, 0);
	put_desc(f, DESC, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_CHAIN);
	assert_int_equal(f->chain.out_len, 16);
	assert_int_equal(f->chain.in_len, 1);
	/* size not a multiple of 16 */
	put_desc(f, DESC, 0, table, 24, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
	/* INDIRECT together with NEXT */
	put_desc(f, DESC, 0, table, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
	/* an indirect table inside an indirect table */
	put_desc(f, table, 1, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(f, DESC, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
	/* a cycle inside the table */
	put_desc(f, table, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BAD_CHAIN);
}

static void corrupt_ring_is_broken(void **state)
{
	struct fixture *f = *state;
	uint16_t jump = NUM + 1;

	memcpy(f->ram.host + AVAIL + 2, &jump, 2);
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BROKEN);
	virtq_reset(&f->q);
	f->q =
	    (struct virtq){ .num = NUM, .desc_addr = DESC, .avail_addr = AVAIL, .used_addr = USED };
	memset(f->ram.host + AVAIL, 0, 0x100);
	assert_int_equal(virtq_activate(&f->q, &f->ram), 0);
	offer(f, NUM + 3); /* head out of the table */
	assert_int_equal(virtq_pop(&f->q, &f->ram, &f->chain), VIRTQ_BROKEN);
}

static void activate_checks_rings(void **state)
{
	struct fixture *f = *state;
	struct virtq q = { .num = 6, .desc_addr = DESC, .avail_addr = AVAIL, .used_addr = USED };

	(void)state;
	assert_int_equal(virtq_activate(&q, &f->ram), -1); /* not a power of 2 */
	q.num = 512;
	assert_int_equal(virtq_activate(&q, &f->ram), -1); /* above QueueNumMax */
	q.num = 8;
	q.desc_addr = DESC + 8;
	assert_int_equal(virtq_activate(&q, &f->ram), -1); /* misaligned */
	q.desc_addr = 16 * MiB - 64;
	assert_int_equal(virtq_activate(&q, &f->ram), -1); /* past RAM */
	q.desc_addr = DESC;
	q.used_addr = UINT64_MAX - 3;
	assert_int_equal(virtq_activate(&q, &f->ram), -1);
}

static void event_idx_suppression(void **state)
{
	struct fixture *f = *state;
	uint16_t *used_event = (uint16_t *)(f->ram.host + AVAIL + 4 + 2 * NUM);

	f->q.event_idx = true;
	*used_event = 0;
	virtq_push(&f->q, 0, 0);
	assert_true(virtq_should_notify(&f->q)); /* first is always signalled */
	*used_event = 5; /* the driver wants an interrupt after entry 5 */
	virtq_push(&f->q, 0, 0);
	assert_false(virtq_should_notify(&f->q));
	for (int i = 0; i < 4; i++)
		virtq_push(&f->q, 0, 0);
	assert_true(virtq_should_notify(&f->q)); /* used_idx went 2 -> 6 past 5 */
	f->q.event_idx = false;
	*(uint16_t *)(f->ram.host + AVAIL) = 1; /* VIRTQ_AVAIL_F_NO_INTERRUPT */
	assert_false(virtq_should_notify(&f->q));
}

/* blk request path ---------------------------------------------------- */

struct blk_req {
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} hdr;
	uint8_t data[4096];
	uint8_t status;
};

static uint32_t submit(struct blk *b, struct blk_req *r, size_t out_data, size_t in_data)
{
	struct virtq_chain *c = calloc(1, sizeof(*c));
	uint32_t used;

	c->out[c->nout++] = (struct iovec){ &r->hdr, sizeof(r->hdr) };
	c->out_len = sizeof(r->hdr);
	if (out_data) {
		c->out[c->nout++] = (struct iovec){ r->data, out_data };
		c->out_len += out_data;
	}
	if (in_data)
		c->in[c->nin++] = (struct iovec){ r->data, in_data };
	c->in[c->nin++] = (struct iovec){ &r->status, 1 };
	c->in_len = in_data + 1;
	r->status = 0xee;
	used = blk_handle(b, c, true);
	free(c);
	return used;
}

static struct blk *temp_disk(char *path, bool ro, size_t size)
{
	struct disk_config cfg = { .read_only = ro, .id = "serial-1234" };
	int fd = mkstemp(path);

	strcpy(cfg.path, path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
	return blk_open(&cfg);
}

static void blk_read_write_flush(void **state)
{
	char path[] = "/tmp/kvmini-blk-XXXXXX";
	struct blk *b = temp_disk(path, false, 64 * 1024);
	struct blk_req r = { 0 };

	(void)state;
	assert_non_null(b);
	r.hdr.type = VIRTIO_BLK_T_OUT;
	r.hdr.sector = 3;
	memset(r.data, 0xa5, 1024);
	assert_int_equal(submit(b, &r, 1024, 0), 1);
	assert_int_equal(r.status, VIRTIO_BLK_S_OK);
	memset(r.data, 0, sizeof(r.data));
	r.hdr.type = VIRTIO_BLK_T_IN;
	assert_int_equal(submit(b, &r, 0, 1024), 1025);
	assert_int_equal(r.status, VIRTIO_BLK_S_OK);
	assert_int_equal(r.data[0], 0xa5);
	assert_int_equal(r.data[1023], 0xa5);
	r.hdr.type = VIRTIO_BLK_T_FLUSH;
	submit(b, &r, 0, 0);
	assert_int_equal(r.status, VIRTIO_BLK_S_OK);
	r.hdr.type = VIRTIO_BLK_T_GET_ID;
	assert_int_equal(submit(b, &r, 0, 20), 1 + 20); /* NUL-padded to 20 */
	assert_memory_equal(r.data, "serial-1234", 11);

	/* WRITE_ZEROES over what we wrote, then read zeroes back */
	struct {
		uint64_t sector;
		uint32_t num, flags;
	} seg = { 3, 2, 0 };
	r.hdr.type = VIRTIO_BLK_T_WRITE_ZEROES;
	memcpy(r.data, &seg, sizeof(seg));
	submit(b, &r, sizeof(seg), 0);
	assert_int_equal(r.status, VIRTIO_BLK_S_OK);
	r.hdr.type = VIRTIO_BLK_T_IN;
	submit(b, &r, 0, 1024);
	assert_int_equal(r.data[0] | r.data[1023], 0);
	r.hdr.type = VIRTIO_BLK_T_DISCARD;
	memcpy(r.data, &seg, sizeof(seg));
	submit(b, &r, sizeof(seg), 0);
	assert_int_equal(r.status, VIRTIO_BLK_S_OK);
	blk_close(b);
	unlink(path);
}

static void blk_rejects_bad_requests(void **state)
{
	char path[] = "/tmp/kvmini-blk-XXXXXX";
	struct blk *b = temp_disk(path, false, 64 * 1024);
	struct blk_req r = { 0 };
	struct virtq_chain *c = calloc(1, sizeof(*c));

	(void)state;
	r.hdr.type = VIRTIO_BLK_T_IN;
	r.hdr.sector = 127; /* the last sector: 1024 bytes run past the end */
	assert_int_equal(submit(b, &r, 0, 1024), 1);
	assert_int_equal(r.status, VIRTIO_BLK_S_IOERR);
	r.hdr.sector = UINT64_MAX / 256; /* sector * 512 would overflow */
	submit(b, &r, 0, 512);
	assert_int_equal(r.status, VIRTIO_BLK_S_IOERR);
	r.hdr.sector = 0;
	submit(b, &r, 0, 100); /* not a whole sector */
	assert_int_equal(r.status, VIRTIO_BLK_S_IOERR);
	r.hdr.type = 0x77;
	submit(b, &r, 0, 0);
	assert_int_equal(r.status, VIRTIO_BLK_S_UNSUPP);
	/* short header: 8 bytes */
	c->out[c->nout++] = (struct iovec){ &r.hdr, 8 };
	c->out_len = 8;
	c->in[c->nin++] = (struct iovec){ &r.status, 1 };
	c->in_len = 1;
	assert_int_equal(blk_handle(b, c, true), 1);
	assert_int_equal(r.status, VIRTIO_BLK_S_IOERR);
	/* no writable status byte at all: nothing to answer, nothing written */
	c->nin = 0;
	c->in_len = 0;
	assert_int_equal(blk_handle(b, c, true), 0);
	free(c);
	blk_close(b);
	unlink(path);

	strcpy(path, "/tmp/kvmini-blk-XXXXXX");
	b = temp_disk(path, true, 64 * 1024);
	r.hdr.type = VIRTIO_BLK_T_OUT;
	r.hdr.sector = 0;
	submit(b, &r, 512, 0);
	assert_int_equal(r.status, VIRTIO_BLK_S_IOERR); /* read-only */
	blk_close(b);
	unlink(path);
}

/* mmio transport -------------------------------------------------------- */

static void noop_notify(struct virtio_dev *vdev, int queue)
{
	(void)vdev;
	(void)queue;
}

static const struct virtio_dev_ops test_ops = {
	.name = "test",
	.device_id = 42,
	.num_queues = 2,
	.queue_notify = noop_notify,
};

static uint32_t reg(struct virtio_dev *v, uint64_t off)
{
	uint8_t d[4];

	virtio_mmio_read(v, off, d, 4);
	return load_le(d, 4);
}

static void set(struct virtio_dev *v, uint64_t off, uint32_t val)
{
	uint8_t d[4];

	store_le(d, 4, val);
	virtio_mmio_write(v, off, d, 4);
}

/* A device whose driver negotiated features and made queue 0 live. */
static struct virtio_dev *live_device(struct fixture *f, struct vm *vm)
{
	struct virtio_dev *v = calloc(1, sizeof(*v));

	vm->ram = f->ram;
	v->vm = vm;
	v->ops = &test_ops;
	v->features = 1ULL << 5;
	v->irq_fd = -1;
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		v->notify_fd[i] = -1;
	pthread_mutex_init(&v->lock, NULL);
	set(v, 0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	set(v, 0x024, 1);
	set(v, 0x020, 1);
	set(v, 0x024, 0);
	set(v, 0x020, (1U << 5) | (1U << VIRTIO_F_RING_EVENT_IDX));
	set(v, 0x070, 0x0b);
	set(v, 0x030, 0);
	set(v, 0x038, NUM);
	set(v, 0x080, DESC);
	set(v, 0x090, AVAIL);
	set(v, 0x0a0, USED);
	set(v, 0x044, 1);
	set(v, 0x070, 0x0f);
	return v;
}

static void mmio_registers_and_state_machine(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = calloc(1, sizeof(*vm));
	struct virtio_dev *v = calloc(1, sizeof(*v));
	uint8_t byte;

	vm->ram = f->ram;
	v->vm = vm;
	v->ops = &test_ops;
	v->features = 1ULL << 5;
	v->irq_fd = -1;
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		v->notify_fd[i] = -1;
	pthread_mutex_init(&v->lock, NULL);
	assert_int_equal(reg(v, 0x000), 0x74726976);
	assert_int_equal(reg(v, 0x004), 2);
	assert_int_equal(reg(v, 0x008), 42);
	virtio_mmio_read(v, 0x000, &byte, 1); /* wrong width reads as 0 */
	assert_int_equal(byte, 0);
	set(v, 0x014, 1);
	assert_int_equal(reg(v, 0x010) & 1, 1); /* VERSION_1 is bit 32 */

	/* FEATURES_OK only for a subset of the offer that includes VERSION_1 */
	set(v, 0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	set(v, 0x024, 0);
	set(v, 0x020, 1U << 6); /* not offered */
	set(v, 0x024, 1);
	set(v, 0x020, 1);
	set(v, 0x070, 0x0b);
	assert_int_equal(reg(v, 0x070) & VIRTIO_STATUS_FEATURES_OK, 0);
	set(v, 0x024, 0);
	set(v, 0x020, (1U << 5) | (1U << VIRTIO_F_RING_EVENT_IDX));
	set(v, 0x070, 0x0b);
	assert_int_equal(reg(v, 0x070) & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);

	/* configure queue 0 and make it live */
	set(v, 0x030, 0);
	assert_int_equal(reg(v, 0x034), VIRTQ_MAX_SIZE);
	set(v, 0x038, NUM);
	set(v, 0x080, DESC);
	set(v, 0x090, AVAIL);
	set(v, 0x0a0, USED);
	set(v, 0x044, 1);
	assert_int_equal(reg(v, 0x044), 1);
	set(v, 0x070, 0x0f); /* DRIVER_OK */
	/* now locked: a hostile rewrite of the size and rings is ignored */
	set(v, 0x038, 2);
	set(v, 0x080, 0x7000);
	set(v, 0x0a4, 1);
	assert_int_equal(v->queues[0].num, NUM);
	assert_int_equal(v->queues[0].desc_addr, DESC);
	assert_int_equal(v->queues[0].used_addr, USED);
	/* a queue beyond num_queues has no registers */
	set(v, 0x030, 7);
	assert_int_equal(reg(v, 0x034), 0);
	set(v, 0x044, 1);
	/* a notify for a not-ready queue is ignored */
	set(v, 0x050, 1);
	set(v, 0x050, 1000);
	/* status 0 resets everything */
	set(v, 0x070, 0);
	assert_int_equal(reg(v, 0x070), 0);
	assert_false(v->queues[0].ready);
	assert_int_equal(v->driver_features, 0);
	free(v);
	free(vm);
}

/* The transport's snapshot: onto a fresh device, the same registers. */
static void mmio_state_saves_and_restores(void **state)
{
	struct fixture *f = *state;
	struct vm *vm = calloc(1, sizeof(*vm));
	struct virtio_dev *v = live_device(f, vm);
	struct virtio_dev *w = calloc(1, sizeof(*w));
	struct virtio_dev_state st;

	*w = (struct virtio_dev){ .vm = vm, .ops = &test_ops, .features = 1ULL << 5 };
	pthread_mutex_init(&w->lock, NULL);
	v->queues[0].last_avail = 3;
	v->queues[0].used_idx = 2;
	virtio_dev_save(v, &st);
	assert_int_equal(virtio_dev_restore(w, &st), 0);
	for (uint64_t off = 0; off < 0x100; off += 4)
		assert_int_equal(reg(w, off), reg(v, off));
	assert_int_equal(w->queues[0].last_avail, 3);
	assert_int_equal(w->queues[0].used_idx, 2);
	assert_true(w->queues[0].ready && w->queues[0].desc != NULL);
	/* a corrupt snapshot is refused, not trusted: a queue the device lacks */
	st.queues[3].ready = true;
	assert_int_equal(virtio_dev_restore(w, &st), -1);
	st.queues[3].ready = false;
	/* or rings outside RAM */
	st.queues[0].desc_addr = f->ram.size;
	assert_int_equal(virtio_dev_restore(w, &st), -1);
	assert_false(w->queues[0].ready);
	assert_int_equal(reg(w, 0x070), 0);
	free(w);
	free(v);
	free(vm);
}

int run_virtio_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pops_a_chain_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_chains_fail_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(indirect_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_ring_is_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(activate_checks_rings, setup, teardown),
		cmocka_unit_test_setup_teardown(event_idx_suppression, setup, teardown),
		cmocka_unit_test(blk_read_write_flush),
		cmocka_unit_test(blk_rejects_bad_requests),
		cmocka_unit_test_setup_teardown(mmio_registers_and_state_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(mmio_state_saves_and_restores, setup, teardown),
	};
	return cmocka_run_group_tests_name("virtio", tests, NULL, NULL);
}
