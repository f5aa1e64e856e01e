/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_X86_MPTABLE_H
#define KVMINI_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

/* Where the floating pointer goes: the top KiB of base memory, which Linux
 * scans second (after the first KiB), so the search stops at once. */
#define MPTABLE_FLOATING_ADDR 0x9fc00ULL

/*
 * Intel MultiProcessor Specification 1.4 tables: the configuration table
 * (processors, ISA bus, IOAPIC, ISA interrupts, LINT0/LINT1) into @buf,
 * which the guest sees at @base, and the 16-byte floating pointer pointing
 * at it into @floating. Returns the table's size, or 0 if @len is short.
 */
size_t mptable_build(uint8_t *buf, size_t len, uint64_t base, unsigned int ncpus,
		     uint8_t floating[16]);

#endif
