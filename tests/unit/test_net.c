// SPDX-License-Identifier: MIT
/*
 * virtio-net's receive path, driven as a guest driver would drive it: the
 * rings live in a fake guest RAM, and a datagram socketpair stands in for
 * the tap. net.c is included whole to reach its statics (the unit binary
 * links every other object).
 */
#include <sys/socket.h>

#include "unit.h"
#include "virtio/net.c"

#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000
#define DATA 0x20000
#define NUM 8

struct net_fixture {
	struct vm vm;
	struct virtio_dev vdev;
	struct net net;
	int peer;
};

static void put_desc(struct net_fixture *f, int i, uint64_t addr, uint32_t len)
{
	uint8_t *d = f->vm.ram.host + DESC + 16 * i;
	uint16_t flags = VIRTQ_DESC_F_WRITE, next = 0;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void offer(struct net_fixture *f, uint16_t head)
{
	uint16_t *idx = (uint16_t *)(f->vm.ram.host + AVAIL + 2);

	((uint16_t *)(f->vm.ram.host + AVAIL + 4))[*idx % NUM] = head;
	(*idx)++;
}

static uint16_t used_idx(struct net_fixture *f)
{
	return *(uint16_t *)(f->vm.ram.host + USED + 2);
}

/* Used entry @i as id << 32 | len. */
static uint64_t used_entry(struct net_fixture *f, int i)
{
	uint32_t *e = (uint32_t *)(f->vm.ram.host + USED + 4 + 8 * (i % NUM));

	return (uint64_t)e[0] << 32 | e[1];
}

static int net_setup(void **state)
{
	struct net_fixture *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	f->vm.ram = fake_ram(16 * MiB);
	f->net.tap_fd = sv[0];
	f->peer = sv[1];
	f->net.link_up = f->net.offloads_set = true;
	f->vdev.ops = &net_ops;
	f->vdev.priv = &f->net;
	f->vdev.vm = &f->vm;
	f->vdev.irq_fd = f->vdev.loop.epoll_fd = -1;
	f->vdev.features = NET_FEATURES;
	f->vdev.driver_features = 1ULL << F_MRG_RXBUF | 1ULL << VIRTIO_F_VERSION_1;
	f->vdev.status = VIRTIO_STATUS_DRIVER_OK;
	pthread_mutex_init(&f->vdev.lock, NULL);
	f->vdev.queues[RXQ].num = NUM;
	f->vdev.queues[RXQ].desc_addr = DESC;
	f->vdev.queues[RXQ].avail_addr = AVAIL;
	f->vdev.queues[RXQ].used_addr = USED;
	assert_int_equal(virtq_activate(&f->vdev.queues[RXQ], &f->vm.ram), 0);
	*state = f;
	return 0;
}

static int net_teardown(void **state)
{
	struct net_fixture *f = *state;

	close(f->net.tap_fd);
	close(f->peer);
	pthread_mutex_destroy(&f->vdev.lock);
	free_fake_ram(&f->vm.ram);
	free(f);
	return 0;
}

/*
 * A 312-byte frame meets buffer A (100 bytes), then B, whose address is
 * outside RAM, then an empty ring. Later C (1000 bytes) arrives. Each
 * chain must be completed exactly once: B empty, then A and C holding the
 * frame with num_buffers 2. (B was completed at once, then the rewind for
 * the empty ring went back one entry too few: B completed twice, A lost.)
 */
static void bad_chain_mid_frame_completes_each_once(void **state)
{
	struct net_fixture *f = *state;
	uint8_t frame[312] = { 0 };
	uint8_t *a = f->vm.ram.host + DATA;

	for (size_t i = NET_HDR_LEN; i < sizeof(frame); i++)
		frame[i] = i;
	put_desc(f, 0, DATA, 100);
	put_desc(f, 1, 64 * MiB, 100); /* B: outside RAM */
	put_desc(f, 2, DATA + 0x1000, 1000);
	offer(f, 0);
	offer(f, 1);
	assert_int_equal(send(f->peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	net_tap_ready(&f->vdev, NULL);
	assert_int_equal(used_idx(f), 0); /* nothing placed, nothing completed */

	offer(f, 2);
	net_notify(&f->vdev, RXQ);
	assert_int_equal(used_idx(f), 3);
	assert_true(used_entry(f, 0) == ((uint64_t)1 << 32 | 0));
	assert_true(used_entry(f, 1) == ((uint64_t)0 << 32 | 100));
	assert_true(used_entry(f, 2) == ((uint64_t)2 << 32 | 212));
	assert_int_equal(a[10] | a[11] << 8, 2);
	assert_memory_equal(a + NET_HDR_LEN, frame + NET_HDR_LEN, 100 - NET_HDR_LEN);
	assert_memory_equal(f->vm.ram.host + DATA + 0x1000, frame + 100, 212);
	assert_false(f->net.pending);
}

/* Bad chains with no frame placed yet are completed at once, and only once. */
static void lone_bad_chain_completes_once(void **state)
{
	struct net_fixture *f = *state;
	uint8_t frame[64] = { 0 };

	put_desc(f, 1, 64 * MiB, 100);
	put_desc(f, 2, DATA + 0x1000, 1000);
	offer(f, 1);
	assert_int_equal(send(f->peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	net_tap_ready(&f->vdev, NULL);
	assert_int_equal(used_idx(f), 1);
	offer(f, 2);
	net_notify(&f->vdev, RXQ);
	assert_int_equal(used_idx(f), 2);
	assert_true(used_entry(f, 0) == ((uint64_t)1 << 32 | 0));
	assert_true(used_entry(f, 1) == ((uint64_t)2 << 32 | 64));
}

int run_net_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bad_chain_mid_frame_completes_each_once, net_setup,
						net_teardown),
		cmocka_unit_test_setup_teardown(lone_bad_chain_completes_once, net_setup,
						net_teardown),
	};
	return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
