// SPDX-License-Identifier: MIT
/*
 * The virtio-blk request parser: the input is split into up to eight
 * readable and writable buffers of the lengths its first bytes choose, and
 * handed to blk_handle() against a 64 KiB scratch disk.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "virtio/blk.h"
#include "virtio/queue.h"

static struct blk *blk;

/* The scratch disk, opened as the VMM's builder would, before any role's list. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/kvmini-fuzz-blk-XXXXXX";
	int fd = mkstemp(path);
	struct disk_config cfg = { .id = "fuzz" };

	(void)argc;
	(void)argv;
	strcpy(cfg.path, path);
	if (fd < 0 || ftruncate(fd, 65536))
		abort();
	close(fd);
	blk = blk_open(&cfg);
	unlink(path);
	if (!blk)
		abort();
	return 0;
}

static int fuzz_one(const uint8_t *data, size_t size)
{
	static struct virtq_chain chain;
	static uint8_t in_bytes[65536 * 2];
	static uint8_t out_bytes[65536 * 2];
	size_t used_in = 0, used_out = 0, pos = 8;

	if (size < 8)
		return 0;
	memset(&chain, 0, sizeof(chain));
	for (int i = 0; i < 8; i++) {
		size_t len = data[i] * 64 + (data[i] & 7);
		bool writable = data[i] & 0x80;

		if (writable) {
			if (used_in + len > sizeof(in_bytes))
				break;
			chain.in[chain.nin++] = (struct iovec){ in_bytes + used_in, len };
			chain.in_len += len;
			used_in += len;
		} else {
			if (used_out + len > sizeof(out_bytes))
				break;
			memcpy(out_bytes + used_out, data + pos,
			       pos < size ? (size - pos < len ? size - pos : len) : 0);
			pos += len;
			chain.out[chain.nout++] = (struct iovec){ out_bytes + used_out, len };
			chain.out_len += len;
			used_out += len;
		}
	}
	blk_handle(blk, &chain, data[0] & 1);
	return 0;
}

FUZZ_TARGET_AS(ROLE_IO_BLK)
