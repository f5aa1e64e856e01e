// SPDX-License-Identifier: MIT
/*
 * virtio-rng (virtio 1.2, 5.4): entropy from getrandom(), through a token
 * bucket so a guest cannot make the host burn CPU on randomness. When the
 * bucket is dry the queue waits on a timer for the next refill.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "util.h"
#include "virtio/virtio.h"
#include "vm.h"

#define VIRTIO_ID_RNG 4
#define RNG_RATE (1U << 20) /* bytes per second */
#define RNG_BURST (64U << 10)
#define RNG_REFILL_MS 10

struct rng {
	struct virtio_watch timer; /* the bucket's next refill */
	uint64_t tokens;
	uint64_t last_ns;
	bool waiting;
	uint64_t requests, bytes;
	struct virtq_chain chain;
	uint8_t buf[4096];
};

static void refill(struct rng *r)
{
	uint64_t now = now_ns();

	r->tokens += (now - r->last_ns) * RNG_RATE / 1000000000ULL;
	if (r->tokens > RNG_BURST)
		r->tokens = RNG_BURST;
	r->last_ns = now;
}

static bool rng_has_tokens(struct virtio_dev *vdev)
{
	struct rng *r = vdev->priv;

	refill(r);
	if (r->tokens)
		return true;
	if (!r->waiting && !virtio_watch_timer_set(&r->timer, RNG_REFILL_MS * 1000000ULL))
		r->waiting = true;
	return false;
}

static uint32_t rng_request(struct virtio_dev *vdev, struct virtq_chain *c)
{
	struct rng *r = vdev->priv;
	uint64_t want = c->in_len < r->tokens ? c->in_len : r->tokens;
	uint32_t done = 0;

	while (done < want) {
		size_t chunk = want - done < sizeof(r->buf) ? want - done : sizeof(r->buf);
		ssize_t n = getrandom(r->buf, chunk, 0);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		buf_to_iov(c->in, c->nin, done, r->buf, n);
		done += n;
	}
	r->tokens -= done;
	r->requests++;
	r->bytes += done;
	return done;
}

static void rng_notify(struct virtio_dev *vdev, int queue)
{
	struct rng *r = vdev->priv;

	virtio_process_queue(vdev, queue, &r->chain, rng_request, rng_has_tokens);
}

static void rng_timer(struct virtio_dev *vdev, struct virtio_watch *w)
{
	struct rng *r = vdev->priv;

	if (!event_drain(&w->ev))
		return;
	r->waiting = false;
	if (vdev->queues[0].ready && (vdev->status & VIRTIO_STATUS_DRIVER_OK))
		rng_notify(vdev, 0);
}

static int rng_stats(struct virtio_dev *vdev, struct metric *s)
{
	struct rng *r = vdev->priv;

	s[0] = (struct metric){ "entropy_event_count", r->requests };
	s[1] = (struct metric){ "entropy_bytes", r->bytes };
	return 2;
}

static void rng_destroy(struct virtio_dev *vdev)
{
	struct rng *r = vdev->priv;

	free(r);
}

static int rng_start(struct virtio_dev *vdev)
{
	struct rng *r = vdev->priv;

	return virtio_watch_timer(vdev, &r->timer, rng_timer);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.io_role = ROLE_IO_RNG,
	.num_queues = 1,
	.start = rng_start,
	.queue_notify = rng_notify,
	.stats = rng_stats,
	.metrics_group = "entropy",
	.destroy = rng_destroy,
};

int virtio_rng_add(struct vm *vm)
{
	struct rng *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	r->tokens = RNG_BURST;
	r->last_ns = now_ns();
	return virtio_mmio_add(vm, &rng_ops, NULL, 0, r);
}
