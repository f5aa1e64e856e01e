// SPDX-License-Identifier: MIT
/*
 * Wraps a flat probe image (linked at 1 MiB, 64-bit entry at +0x200) in a
 * Linux bzImage setup header, so the probe also tests kvmini's boot
 * protocol loader. Usage: mkbzimage IMAGE.bin INIT_SIZE OUT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(unsigned char *p, unsigned long v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

int main(int argc, char **argv)
{
	unsigned char setup[1024] = { 0 };
	static unsigned char image[8 << 20];
	size_t len;
	FILE *in, *out;

	if (argc != 4) {
		fprintf(stderr, "usage: mkbzimage IMAGE.bin INIT_SIZE OUT\n");
		return 2;
	}
	in = fopen(argv[1], "rb");
	if (!in) {
		perror(argv[1]);
		return 1;
	}
	len = fread(image, 1, sizeof(image), in);
	fclose(in);
	setup[0x1f1] = 1; /* setup_sects: one sector after the boot sector */
	setup[0x1fe] = 0x55;
	setup[0x1ff] = 0xaa;
	setup[0x200] = 0xeb; /* jmp over the header, as Linux does */
	setup[0x201] = 0x66; /* header ends at 0x202 + 0x66 */
	memcpy(setup + 0x202, "HdrS", 4);
	put(setup + 0x206, 0x020f, 2); /* boot protocol 2.15 */
	setup[0x211] = 0x01; /* LOADED_HIGH */
	put(setup + 0x214, 0x100000, 4); /* code32_start */
	put(setup + 0x22c, 0x7fffffff, 4); /* initrd_addr_max */
	put(setup + 0x230, 0x200000, 4); /* kernel_alignment */
	setup[0x234] = 0; /* not relocatable: must load at pref_address */
	setup[0x236] = 0x01; /* XLF_KERNEL_64 */
	put(setup + 0x238, 2047, 4); /* cmdline_size */
	put(setup + 0x258, 0x100000, 8); /* pref_address */
	put(setup + 0x260, strtoul(argv[2], NULL, 0), 4); /* init_size */
	out = fopen(argv[3], "wb");
	if (!out || fwrite(setup, 1, sizeof(setup), out) != sizeof(setup) ||
	    fwrite(image, 1, len, out) != len || fclose(out)) {
		perror(argv[3]);
		return 1;
	}
	return 0;
}
