/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_VIRTIO_BLK_H
#define KVMINI_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct virtio_dev;
struct virtq_chain;

#define DISK_PATH_MAX 4096
#define DISK_ID_MAX 20 /* the virtio-blk serial's length */
#define DISK_PARTUUID_MAX 36

struct disk_config {
	char path[DISK_PATH_MAX];
	char id[DISK_ID_MAX + 1]; /* the API's drive_id, and the serial GET_ID returns */
	bool read_only;
	bool is_root; /* vda, named in the kernel's command line */
	char partuuid[DISK_PARTUUID_MAX + 1]; /* root=PARTUUID= instead of /dev/vda */
	bool no_flush; /* cache_type Unsafe: offer no FLUSH, the guest's flushes cost nothing */
	bool direct; /* O_DIRECT: bypass the host page cache */
	bool sync_io; /* serve requests with preadv/pwritev instead of io_uring */
};

int virtio_blk_add(struct vm *vm, const struct disk_config *disk);
/* Swaps drive @id's backing file for @path, live; the guest sees the new size. */
int virtio_blk_replace(struct vm *vm, const char *id, const char *path);

/* The request path, exposed for unit tests and fuzzing. */
struct blk;
struct blk *blk_open(const struct disk_config *disk);
void blk_close(struct blk *blk);
uint32_t blk_handle(struct blk *blk, struct virtq_chain *chain, bool flush_negotiated);

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#endif
