// SPDX-License-Identifier: MIT
/*
 * MP tables. Linux prefers the MADT, but without one (acpi=off) it falls
 * back to these, and every boot scans for them: a missing table costs a
 * 64 KiB search of the BIOS area, seconds on an emulating KVM.
 */
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "util.h"

#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_INTSRC 3
#define MP_LINTSRC 4
#define MP_IRQ_INT 0
#define MP_IRQ_NMI 1
#define MP_IRQ_EXTINT 3
#define ISA_IRQS 16

size_t mptable_build(uint8_t *buf, size_t len, uint64_t base, unsigned int ncpus,
		     uint8_t floating[16])
{
	size_t size = 44 + 20 * ncpus + 8 + 8 + 8 * ISA_IRQS + 8 * 2;
	unsigned int ioapic_id = ncpus; /* after the LAPIC IDs, as MP 1.4 wants */
	uint8_t *p = buf + 44;
	uint16_t entries = 0;

	if (len < size)
		return 0;
	memset(buf, 0, size);
	for (unsigned int i = 0; i < ncpus; i++, p += 20, entries++) {
		p[0] = MP_PROCESSOR;
		p[1] = i; /* LAPIC ID */
		p[2] = 0x14; /* LAPIC version */
		p[3] = 1 | (i == 0 ? 2 : 0); /* enabled, BSP */
		store_le(p + 4, 4, 0x600); /* CPU signature: family 6 */
		store_le(p + 8, 4, 0x201); /* features: FPU, APIC */
	}
	p[0] = MP_BUS;
	memcpy(p + 2, "ISA   ", 6);
	p += 8, entries++;
	p[0] = MP_IOAPIC;
	p[1] = ioapic_id;
	p[2] = 0x11;
	p[3] = 1;
	store_le(p + 4, 4, IOAPIC_ADDR);
	p += 8, entries++;
	for (int irq = 0; irq < ISA_IRQS; irq++, p += 8, entries++) {
		p[0] = MP_INTSRC;
		p[1] = MP_IRQ_INT;
		p[4] = 0; /* ISA */
		p[5] = irq;
		p[6] = ioapic_id;
		p[7] = irq; /* the in-kernel IOAPIC wires ISA IRQ n to pin n */
	}
	for (int lint = 0; lint < 2; lint++, p += 8, entries++) {
		p[0] = MP_LINTSRC;
		p[1] = lint ? MP_IRQ_NMI : MP_IRQ_EXTINT;
		p[6] = 0xff; /* every LAPIC */
		p[7] = lint;
	}
	memcpy(buf, "PCMP", 4);
	store_le(buf + 4, 2, size);
	buf[6] = 4; /* spec 1.4 */
	memcpy(buf + 8, "KVMINI  ", 8);
	memcpy(buf + 16, "KVMINI VM   ", 12);
	store_le(buf + 34, 2, entries);
	store_le(buf + 36, 4, LAPIC_ADDR);
	buf[7] = -acpi_checksum(buf, size);

	memset(floating, 0, 16);
	memcpy(floating, "_MP_", 4);
	store_le(floating + 4, 4, base);
	floating[8] = 1; /* length in 16-byte units */
	floating[9] = 4;
	floating[10] = -acpi_checksum(floating, 16);
	return size;
}
