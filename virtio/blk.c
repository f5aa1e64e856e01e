// SPDX-License-Identifier: MIT
/*
 * virtio-blk (virtio 1.2, 5.2) over a raw file or block device. Requests
 * are served on the device's I/O thread with positioned vector I/O straight
 * between the host file and guest memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"
#include "virtio/blk.h"
#include "virtio/virtio.h"
#include "vm.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1

#define SECTOR 512ULL
#define SIZE_MAX_BYTES (1U << 20)
#define SEG_MAX (VIRTQ_MAX_SIZE - 2) /* header and status take two */
#define MAX_DISCARD_SECTORS (1U << 22) /* 2 GiB per segment */
#define ID_BYTES 20
#define HDR_BYTES 16 /* struct virtio_blk_outhdr */

#define QUEUE_DEPTH 64
#define SLOT_IOV (SEG_MAX + 2)

/* A request in flight on io_uring. */
struct blk_slot {
	uint16_t head;
	bool busy;
	uint8_t *status;
	uint32_t used;
	size_t expect;
	off_t offset;
	bool write;
	uint32_t generation;
	int niov;
	struct iovec iov[SLOT_IOV];
};

struct blk {
	int fd;
	uint64_t sectors;
	bool read_only;
	char id[ID_BYTES];
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_IOV];
	void *bounce; /* aligned buffer for O_DIRECT when guest buffers are not */

	/* io_uring engine; without it every request is served synchronously. */
	bool uring_ok;
	struct io_uring ring;
	int ring_event_fd;
	struct virtio_watch completions; /* on ring_event_fd */
	unsigned int inflight, queued;
	uint32_t generation; /* bumped on device reset: late completions drop */
	struct blk_slot slots[QUEUE_DEPTH];

	uint64_t reads, read_bytes, writes, write_bytes, flushes, invalid;
};

struct blk *blk_open(const struct disk_config *disk)
{
	struct blk *b = calloc(1, sizeof(*b));
	const char *path = disk->path;
	struct stat st;
	uint64_t bytes;

	if (!b)
		return NULL;
	b->read_only = disk->read_only;
	/* O_NONBLOCK: a FIFO must not hang the caller (the API thread, under
	 * its lock, for PATCH /drives); it is refused below. */
	b->fd = open(path, (disk->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK |
			       (disk->direct ? O_DIRECT : 0));
	if (b->fd < 0 && errno == EINVAL && disk->direct) {
		/* cache=none promises no host page cache: refuse, do not fall back. */
		log_error("disk %s: cache=none needs O_DIRECT, which this file system refuses "
			  "(tmpfs before Linux 6.6); use cache=writeback or another file system",
			  path);
		goto fail;
	}
	if (b->fd < 0) {
		log_error("disk %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(b->fd, &st) < 0 || fcntl(b->fd, F_SETFL, disk->direct ? O_DIRECT : 0) < 0)
		goto fail_errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &bytes) < 0)
			goto fail_errno;
	} else if (S_ISREG(st.st_mode)) {
		bytes = st.st_size;
	} else {
		log_error("disk %s: not a regular file or block device", path);
		goto fail;
	}
	if (bytes % SECTOR)
		log_warn("disk %s: size is not a multiple of 512; the last %llu bytes are hidden",
			 path, (unsigned long long)(bytes % SECTOR));
	b->sectors = bytes / SECTOR;
	/* The serial is 20 bytes, NUL-padded, not necessarily terminated. */
	memcpy(b->id, disk->id, strnlen(disk->id, ID_BYTES));
	if (disk->direct && posix_memalign(&b->bounce, 4096, SIZE_MAX_BYTES))
		goto fail;
	return b;
fail_errno:
	log_error("disk %s: %s", path, strerror(errno));
fail:
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	return NULL;
}

void blk_close(struct blk *b)
{
	if (!b)
		return;
	if (b->uring_ok) {
		io_uring_queue_exit(&b->ring);
		close(b->ring_event_fd);
	}
	close(b->fd);
	free(b->bounce);
	free(b);
}

/* Positioned vector I/O to completion, in IOV_MAX batches. */
static int rw_all(int fd, struct iovec *iov, int n, off_t off, bool write)
{
	while (n > 0) {
		int batch = n > 1024 ? 1024 : n;
		ssize_t done = write ? pwritev(fd, iov, batch, off) : preadv(fd, iov, batch, off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return done < 0 ? -errno : -EIO; /* a short read past EOF is an error */
		off += done;
		while (n > 0 && (size_t)done >= iov->iov_len) {
			done -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return 0;
}

/*
 * O_DIRECT wants aligned buffers; Linux guests give them, other drivers
 * may not, so an EINVAL retries through the aligned bounce buffer.
 */
static int blk_rw(struct blk *b, struct iovec *iov, int n, off_t off, size_t len, bool write)
{
	int ret = rw_all(b->fd, iov, n, off, write);

	if (ret != -EINVAL || !b->bounce)
		return ret;
	for (size_t done = 0; done < len;) {
		size_t chunk = len - done > SIZE_MAX_BYTES ? SIZE_MAX_BYTES : len - done;
		struct iovec bounce = { b->bounce, chunk };

		if (write)
			iov_to_buf(iov, n, done, b->bounce, chunk);
		ret = rw_all(b->fd, &bounce, 1, off + done, write);
		if (ret)
			return ret;
		if (!write)
			buf_to_iov(iov, n, done, b->bounce, chunk);
		done += chunk;
	}
	return 0;
}

static bool in_range(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t count = bytes / SECTOR;

	return sector <= b->sectors && count <= b->sectors - sector;
}

/*
 * Write-zeroes where the file system can neither zero a range nor punch a
 * hole (e.g. tmpfs before Linux 6.6 has no FALLOC_FL_ZERO_RANGE, and a
 * block device may have neither): write them. The buffer is aligned for
 * O_DIRECT.
 */
static int write_zeroes(int fd, off_t off, off_t len)
{
	static uint8_t zero[1 << 16] __attribute__((aligned(4096)));

	while (len > 0) {
		struct iovec iov = { zero, len < (off_t)sizeof(zero) ? (size_t)len : sizeof(zero) };
		ssize_t n = pwritev(fd, &iov, 1, off);

		if (n <= 0)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

static uint8_t discard(struct blk *b, const struct virtq_chain *c, size_t data_len, bool zeroes)
{
	struct {
		uint64_t sector;
		uint32_t num_sectors;
		uint32_t flags;
	} seg;
	off_t off, len;
	int mode;

	/* One segment per request: max_discard_seg is 1. */
	if (data_len != sizeof(seg) ||
	    iov_to_buf(c->out, c->nout, HDR_BYTES, &seg, sizeof(seg)) != sizeof(seg))
		return VIRTIO_BLK_S_UNSUPP;
	if (b->read_only || seg.num_sectors > MAX_DISCARD_SECTORS ||
	    !in_range(b, seg.sector, (uint64_t)seg.num_sectors * SECTOR) ||
	    (seg.flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
		return VIRTIO_BLK_S_IOERR;
	off = seg.sector * SECTOR;
	len = (off_t)seg.num_sectors * SECTOR;
	mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	if (zeroes && !(seg.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) &&
	    fallocate(b->fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE, off, len) == 0)
		return VIRTIO_BLK_S_OK;
	if (fallocate(b->fd, mode, off, len) == 0)
		return VIRTIO_BLK_S_OK;
	/* Punching is optional for a discard; for write-zeroes it is not. */
	if (!zeroes)
		return VIRTIO_BLK_S_OK;
	return write_zeroes(b->fd, off, len) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

/* The status byte: the last byte of the writable buffers. */
static uint8_t *status_byte(const struct virtq_chain *c)
{
	for (int i = c->nin - 1; i >= 0; i--)
		if (c->in[i].iov_len)
			return (uint8_t *)c->in[i].iov_base + c->in[i].iov_len - 1;
	return NULL;
}

/* A request, parsed and checked once; the sync and io_uring paths execute it. */
struct blk_req {
	const struct virtq_chain *chain;
	bool has_header; /* false: too short to hold one */
	uint32_t type;
	uint8_t status; /* VIRTIO_BLK_S_OK, or the answer parsing decided */
	uint8_t *status_byte; /* NULL: no writable byte, so no answer at all */
	uint64_t offset; /* bytes, for reads and writes */
	size_t len; /* data bytes: read, written, a discard's segment, GET_ID's */
};

static void parse_request(const struct blk *b, const struct virtq_chain *c, struct blk_req *r)
{
	struct {
		uint32_t type;
		uint32_t reserved;
		uint64_t sector;
	} hdr;

	memset(r, 0, sizeof(*r));
	r->chain = c;
	if (c->in_len < 1 || c->in_len > UINT32_MAX)
		return;
	r->status_byte = status_byte(c);
	if (iov_to_buf(c->out, c->nout, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		r->status = VIRTIO_BLK_S_IOERR;
		return;
	}
	r->has_header = true;
	r->type = hdr.type;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		r->len = hdr.type == VIRTIO_BLK_T_IN ? c->in_len - 1 : c->out_len - HDR_BYTES;
		if ((hdr.type == VIRTIO_BLK_T_OUT && b->read_only) || r->len % SECTOR ||
		    !in_range(b, hdr.sector, r->len))
			r->status = VIRTIO_BLK_S_IOERR;
		else
			r->offset = hdr.sector * SECTOR; /* in range: no overflow */
		break;
	case VIRTIO_BLK_T_GET_ID:
		r->len = c->in_len - 1 < ID_BYTES ? c->in_len - 1 : ID_BYTES;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		r->len = c->out_len - HDR_BYTES;
		break;
	case VIRTIO_BLK_T_FLUSH:
		break;
	default:
		r->status = VIRTIO_BLK_S_UNSUPP;
	}
}

/* The synchronous engine: every request, including each that fails. */
static uint32_t execute_sync(struct blk *b, struct blk_req *r, bool flush_negotiated)
{
	const struct virtq_chain *c = r->chain;
	uint32_t used = 1;
	int n;

	if (!r->status_byte)
		return 0;
	if (r->status != VIRTIO_BLK_S_OK)
		goto done;
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		n = iov_slice(c->in, c->nin, 0, r->len, b->iov);
		if (blk_rw(b, b->iov, n, r->offset, r->len, false))
			r->status = VIRTIO_BLK_S_IOERR;
		else
			used += r->len;
		break;
	case VIRTIO_BLK_T_OUT:
		n = iov_slice(c->out, c->nout, HDR_BYTES, r->len, b->iov);
		if (blk_rw(b, b->iov, n, r->offset, r->len, true))
			r->status = VIRTIO_BLK_S_IOERR;
		/* A driver that cannot flush gets write-through. */
		else if (!flush_negotiated && fdatasync(b->fd))
			r->status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (!b->read_only && fdatasync(b->fd))
			r->status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		used += buf_to_iov(c->in, c->nin, 0, b->id, r->len);
		break;
	default: /* discard, write-zeroes */
		r->status = discard(b, c, r->len, r->type == VIRTIO_BLK_T_WRITE_ZEROES);
	}
done:
	*r->status_byte = r->status;
	return used;
}

uint32_t blk_handle(struct blk *b, struct virtq_chain *c, bool flush_negotiated)
{
	struct blk_req r;

	parse_request(b, c, &r);
	return execute_sync(b, &r, flush_negotiated);
}

/* io_uring engine -------------------------------------------------------- */

static bool uring_init(struct blk *b)
{
	b->ring_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->ring_event_fd < 0)
		return false;
	if (io_uring_queue_init(QUEUE_DEPTH, &b->ring, 0) < 0) {
		close(b->ring_event_fd);
		return false;
	}
	if (io_uring_register_eventfd(&b->ring, b->ring_event_fd) < 0) {
		io_uring_queue_exit(&b->ring);
		close(b->ring_event_fd);
		return false;
	}
	return true;
}

static struct blk_slot *free_slot(struct blk *b)
{
	for (int i = 0; i < QUEUE_DEPTH; i++)
		if (!b->slots[i].busy)
			return &b->slots[i];
	return NULL;
}

/*
 * Queues a well-formed read, write or flush on io_uring. Anything else,
 * and every request that must fail, takes the synchronous path, which owns
 * all the error handling. Returns false if it did not take the request.
 */
static bool submit_async(struct blk *b, const struct blk_req *r, bool flush_negotiated)
{
	const struct virtq_chain *c = r->chain;
	bool rw = r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT;
	struct io_uring_sqe *sqe;
	struct blk_slot *slot;

	if (r->status != VIRTIO_BLK_S_OK || !r->status_byte ||
	    (rw && (!r->len || (r->type == VIRTIO_BLK_T_IN ? c->nin : c->nout) > SLOT_IOV)) ||
	    (r->type == VIRTIO_BLK_T_OUT && !flush_negotiated) ||
	    (!rw && (r->type != VIRTIO_BLK_T_FLUSH || b->read_only)))
		return false;
	slot = free_slot(b);
	sqe = slot ? io_uring_get_sqe(&b->ring) : NULL;
	if (!sqe)
		return false;
	slot->write = r->type == VIRTIO_BLK_T_OUT;
	slot->expect = rw ? r->len : 0;
	slot->used = r->type == VIRTIO_BLK_T_IN ? 1 + r->len : 1;
	slot->niov = 0;
	if (r->type == VIRTIO_BLK_T_IN) {
		slot->niov = iov_slice(c->in, c->nin, 0, r->len, slot->iov);
		io_uring_prep_readv(sqe, b->fd, slot->iov, slot->niov, r->offset);
	} else if (slot->write) {
		slot->niov = iov_slice(c->out, c->nout, HDR_BYTES, r->len, slot->iov);
		io_uring_prep_writev(sqe, b->fd, slot->iov, slot->niov, r->offset);
	} else {
		/* A flush covers every write completed before it: drain first. */
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		sqe->flags |= IOSQE_IO_DRAIN;
	}
	io_uring_sqe_set_data(sqe, slot);
	slot->offset = r->offset;
	slot->head = c->head;
	slot->status = r->status_byte;
	slot->generation = b->generation;
	slot->busy = true;
	b->inflight++;
	b->queued++;
	return true;
}

static void count_request(struct blk *b, const struct blk_req *r)
{
	if (!r->status_byte || !r->has_header) {
		b->invalid++;
	} else if (r->type == VIRTIO_BLK_T_IN) {
		b->reads++;
		b->read_bytes += r->len;
	} else if (r->type == VIRTIO_BLK_T_OUT) {
		b->writes++;
		b->write_bytes += r->len;
	} else if (r->type == VIRTIO_BLK_T_FLUSH) {
		b->flushes++;
	}
}

static int blk_stats(struct virtio_dev *vdev, struct metric *s)
{
	struct blk *b = vdev->priv;
	const struct metric v[] = {
		{ "read_count", b->reads },    { "read_bytes", b->read_bytes },
		{ "write_count", b->writes },  { "write_bytes", b->write_bytes },
		{ "flush_count", b->flushes }, { "invalid_reqs_count", b->invalid },
	};

	memcpy(s, v, sizeof(v));
	return ARRAY_SIZE(v);
}

static uint32_t blk_request(struct virtio_dev *vdev, struct virtq_chain *chain)
{
	struct blk *b = vdev->priv;
	bool flush = virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH);
	struct blk_req r;

	parse_request(b, chain, &r);
	count_request(b, &r);
	if (b->uring_ok && submit_async(b, &r, flush))
		return VIRTIO_DEFERRED;
	return execute_sync(b, &r, flush);
}

static bool blk_has_slot(struct virtio_dev *vdev)
{
	struct blk *b = vdev->priv;

	return !b->uring_ok || b->inflight < QUEUE_DEPTH;
}

static void blk_notify(struct virtio_dev *vdev, int queue)
{
	struct blk *b = vdev->priv;

	virtio_process_queue(vdev, queue, &b->chain, blk_request, blk_has_slot);
	/* One submit for everything this notify brought: the batching. */
	if (b->queued) {
		io_uring_submit(&b->ring);
		b->queued = 0;
	}
}

static void complete_slot(struct blk *b, struct blk_slot *slot, int res)
{
	uint8_t status = VIRTIO_BLK_S_OK;

	/* O_DIRECT refused unaligned guest buffers: bounce them, synchronously. */
	if (res == -EINVAL && b->bounce && slot->expect)
		res = blk_rw(b, slot->iov, slot->niov, slot->offset, slot->expect, slot->write)
			  ? -EIO
			  : (int)slot->expect;
	if (res < 0 || (size_t)res != slot->expect)
		status = VIRTIO_BLK_S_IOERR;
	if (status != VIRTIO_BLK_S_OK && slot->used > 1)
		slot->used = 1;
	*slot->status = status;
}

static void blk_completions(struct virtio_dev *vdev)
{
	struct blk *b = vdev->priv;
	struct io_uring_cqe *cqe;
	uint64_t count;
	bool pushed = false;

	if (read(b->ring_event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	while (io_uring_peek_cqe(&b->ring, &cqe) == 0) {
		struct blk_slot *slot = io_uring_cqe_get_data(cqe);

		if (slot->generation == b->generation) {
			complete_slot(b, slot, cqe->res);
			virtio_push(vdev, 0, slot->head, slot->used);
			pushed = true;
		}
		slot->busy = false;
		b->inflight--;
		io_uring_cqe_seen(&b->ring, cqe);
	}
	if (pushed)
		virtio_notify_used(vdev, 0);
	/* Requests may have waited for a free slot. */
	if (vdev->queues[0].ready && (vdev->status & VIRTIO_STATUS_DRIVER_OK))
		blk_notify(vdev, 0);
}

static void blk_completions_ready(struct virtio_dev *vdev, struct virtio_watch *w)
{
	(void)w;
	blk_completions(vdev);
}

static int blk_start(struct virtio_dev *vdev)
{
	struct blk *b = vdev->priv;

	if (!b->uring_ok)
		return 0;
	return virtio_watch_fd(vdev, &b->completions, b->ring_event_fd, blk_completions_ready);
}

/* A reset must not let old requests complete into the new rings. */
static void blk_reset(struct virtio_dev *vdev)
{
	struct blk *b = vdev->priv;
	struct io_uring_cqe *cqe;

	b->generation++;
	while (b->uring_ok && b->inflight && io_uring_wait_cqe(&b->ring, &cqe) == 0) {
		struct blk_slot *slot = io_uring_cqe_get_data(cqe);

		slot->busy = false;
		b->inflight--;
		io_uring_cqe_seen(&b->ring, cqe);
	}
}

/* blk has one queue: its reset drains the same in-flight requests. */
static void blk_queue_reset(struct virtio_dev *vdev, int queue)
{
	(void)queue;
	blk_reset(vdev);
}

static uint32_t blk_config_space(struct virtio_dev *vdev, uint8_t *config)
{
	struct blk *b = vdev->priv;

	store_le(config + 0, 8, b->sectors);
	store_le(config + 8, 4, SIZE_MAX_BYTES);
	store_le(config + 12, 4, SEG_MAX);
	store_le(config + 20, 4, SECTOR); /* blk_size */
	store_le(config + 34, 2, 1); /* num_queues */
	store_le(config + 36, 4, MAX_DISCARD_SECTORS);
	store_le(config + 40, 4, 1); /* max_discard_seg */
	store_le(config + 44, 4, 8); /* discard_sector_alignment: 4 KiB */
	store_le(config + 48, 4, MAX_DISCARD_SECTORS);
	store_le(config + 52, 4, 1); /* max_write_zeroes_seg */
	config[56] = 1; /* write_zeroes_may_unmap */
	return 60;
}

static void blk_destroy(struct virtio_dev *vdev)
{
	blk_close(vdev->priv);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.io_role = ROLE_IO_BLK,
	.num_queues = 1,
	.start = blk_start,
	.config_space = blk_config_space,
	.queue_notify = blk_notify,
	.reset = blk_reset,
	.queue_reset = blk_queue_reset,
	.stats = blk_stats,
	.metrics_group = "block",
	.destroy = blk_destroy,
};

int virtio_blk_replace(struct vm *vm, const char *id, const char *path)
{
	for (int i = 0; i < vm->nvirtio; i++) {
		struct virtio_dev *vdev = vm->virtio[i];
		struct blk *b = vdev->priv, *fresh;
		struct disk_config disk = { 0 };
		int old_fd;

		if (vdev->ops != &blk_ops || strcmp(vdev->id, id))
			continue;
		snprintf(disk.path, sizeof(disk.path), "%s", path);
		disk.read_only = b->read_only;
		disk.direct = b->bounce != NULL;
		fresh = blk_open(&disk);
		if (!fresh)
			return -1;
		/* In-flight io_uring requests hold their own reference to the old file. */
		pthread_mutex_lock(&vdev->lock);
		old_fd = b->fd;
		b->fd = fresh->fd;
		fresh->fd = old_fd;
		b->sectors = fresh->sectors;
		virtio_config_changed(vdev);
		pthread_mutex_unlock(&vdev->lock);
		blk_close(fresh);
		log_info("drive %s: now backed by %s", id, path);
		return 0;
	}
	log_error("drive %s: no such drive", id);
	return -1;
}

int virtio_blk_add(struct vm *vm, const struct disk_config *disk)
{
	struct blk *b = blk_open(disk);
	uint64_t features;

	if (!b)
		return -1;
	b->uring_ok = !disk->sync_io && uring_init(b);
	if (!b->uring_ok && !disk->sync_io)
		log_warn("disk %s: io_uring unavailable; using synchronous I/O", disk->path);
	features = 1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_SEG_MAX |
		   1ULL << VIRTIO_BLK_F_BLK_SIZE;
	if (!disk->no_flush)
		features |= 1ULL << VIRTIO_BLK_F_FLUSH;
	if (disk->read_only)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	else
		features |= 1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	return virtio_mmio_add(vm, &blk_ops, disk->id, features, b);
}
