// SPDX-License-Identifier: MIT
/*
 * ACPI tables for a hardware-reduced platform: no PM1 blocks or SCI, just
 * the sleep control/status registers for power-off and a reset register.
 * Layouts follow the ACPI 6.4 specification, chapter 5.
 */
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "util.h"

#define OEM_ID "KVMINI"
#define OEM_TABLE_ID "KVMINIVM"

/* A bounded writer; once it overflows, every later write is dropped. */
struct writer {
	uint8_t *buf;
	size_t len;
	size_t pos;
	int overflow;
};

static uint8_t *reserve(struct writer *w, size_t n)
{
	uint8_t *p;

	if (w->overflow || w->pos > w->len || n > w->len - w->pos) {
		w->overflow = 1;
		return NULL;
	}
	p = w->buf + w->pos;
	memset(p, 0, n);
	w->pos += n;
	return p;
}

uint8_t acpi_checksum(const uint8_t *data, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *data++;
	return sum;
}

static uint8_t *table_begin(struct writer *w, const char *sig, uint8_t revision)
{
	uint8_t *t;

	w->pos = ALIGN_UP(w->pos, 16);
	t = reserve(w, 36);
	if (!t)
		return NULL;
	memcpy(t, sig, 4);
	t[8] = revision;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	store_le(t + 24, 4, 1);
	memcpy(t + 28, "KVMN", 4);
	store_le(t + 32, 4, 1);
	return t;
}

static void table_end(struct writer *w, uint8_t *t)
{
	if (w->overflow)
		return;
	store_le(t + 4, 4, w->buf + w->pos - t);
	t[9] = 0;
	t[9] = -acpi_checksum(t, w->buf + w->pos - t);
}

/* AML ------------------------------------------------------------------ */

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT_PREFIX 0x5b
#define AML_DEVICE 0x82

static void aml_bytes(struct writer *w, const void *data, size_t n)
{
	uint8_t *p = reserve(w, n);

	if (p)
		memcpy(p, data, n);
}

static void aml_byte(struct writer *w, uint8_t b)
{
	aml_bytes(w, &b, 1);
}

/* Opens an object whose PkgLength is patched in by aml_close(). */
static size_t aml_open(struct writer *w, const uint8_t *op, size_t oplen)
{
	aml_bytes(w, op, oplen);
	return w->pos;
}

/*
 * PkgLength counts itself, so the encoding width depends on the total; the
 * body is moved right to make room once its size is known.
 */
static void aml_close(struct writer *w, size_t start)
{
	size_t body = w->pos - start, total;
	int extra;
	uint8_t enc[4];

	if (w->overflow)
		return;
	if (body + 1 < 0x40)
		extra = 0;
	else if (body + 2 < 0x1000)
		extra = 1;
	else if (body + 3 < 0x100000)
		extra = 2;
	else
		extra = 3;
	total = body + 1 + extra;
	if (!reserve(w, 1 + extra))
		return;
	memmove(w->buf + start + 1 + extra, w->buf + start, body);
	if (!extra) {
		enc[0] = total;
	} else {
		enc[0] = (extra << 6) | (total & 0xf);
		for (int i = 1; i <= extra; i++)
			enc[i] = total >> (4 + 8 * (i - 1));
	}
	memcpy(w->buf + start, enc, 1 + extra);
}

static void aml_integer(struct writer *w, uint32_t v)
{
	if (v == 0) {
		aml_byte(w, AML_ZERO);
	} else if (v == 1) {
		aml_byte(w, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(w, AML_BYTE_PREFIX);
		aml_byte(w, v);
	} else {
		uint8_t d[5] = { AML_DWORD_PREFIX };

		store_le(d + 1, 4, v);
		aml_bytes(w, d, 5);
	}
}

static void aml_name(struct writer *w, const char *name)
{
	aml_byte(w, AML_NAME);
	aml_bytes(w, name, 4);
}

/* EISA IDs pack three letters in 5 bits each and four hex digits. */
static uint32_t eisa_id(const char *id)
{
	uint32_t v =
	    ((id[0] - '@') & 0x1f) << 10 | ((id[1] - '@') & 0x1f) << 5 | ((id[2] - '@') & 0x1f);
	uint32_t digits = 0;

	for (int i = 3; i < 7; i++)
		digits = digits << 4 | (id[i] <= '9' ? id[i] - '0' : (id[i] | 0x20) - 'a' + 10);
	v = v << 16 | digits;
	/* Stored big-endian within the little-endian DWORD. */
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

static int is_eisa_id(const char *hid)
{
	if (strlen(hid) != 7)
		return 0;
	for (int i = 0; i < 3; i++)
		if (hid[i] < 'A' || hid[i] > 'Z')
			return 0;
	return 1;
}

static void aml_hid(struct writer *w, const char *hid)
{
	aml_name(w, "_HID");
	if (is_eisa_id(hid)) {
		uint8_t d[5] = { AML_DWORD_PREFIX };

		store_le(d + 1, 4, eisa_id(hid));
		aml_bytes(w, d, 5);
	} else {
		aml_byte(w, AML_STRING_PREFIX);
		aml_bytes(w, hid, strlen(hid) + 1);
	}
}

static void aml_crs(struct writer *w, const struct acpi_device *dev)
{
	uint8_t res[64];
	size_t n = 0, start;

	for (size_t i = 0; i < ARRAY_SIZE(dev->io) && dev->io[i].len; i++) {
		/* I/O port descriptor, 16-bit decode */
		uint8_t io[8] = { 0x47, 0x01 };

		store_le(io + 2, 2, dev->io[i].base);
		store_le(io + 4, 2, dev->io[i].base);
		io[6] = 1;
		io[7] = dev->io[i].len;
		memcpy(res + n, io, 8);
		n += 8;
	}
	if (dev->mmio_len) {
		/* Memory32Fixed, read/write */
		uint8_t mem[12] = { 0x86, 9, 0, 1 };

		store_le(mem + 4, 4, dev->mmio_base);
		store_le(mem + 8, 4, dev->mmio_len);
		memcpy(res + n, mem, 12);
		n += 12;
	}
	if (dev->irq >= 0) {
		/* Extended Interrupt: consumer, edge-triggered, active high */
		uint8_t irq[9] = { 0x89, 6, 0, 0x03, 1 };

		store_le(irq + 5, 4, dev->irq);
		memcpy(res + n, irq, 9);
		n += 9;
	}
	res[n++] = 0x79; /* end tag; checksum 0 means "not checked" */
	res[n++] = 0;

	aml_name(w, "_CRS");
	start = aml_open(w, (const uint8_t[]){ AML_BUFFER }, 1);
	aml_integer(w, n);
	aml_bytes(w, res, n);
	aml_close(w, start);
}

static void build_dsdt(struct writer *w, const struct acpi_config *config)
{
	uint8_t *t = table_begin(w, "DSDT", 2);
	size_t scope, pkg;

	scope = aml_open(w, (const uint8_t[]){ AML_SCOPE }, 1);
	aml_bytes(w, "_SB_", 4);
	for (int i = 0; i < config->ndevices; i++) {
		const struct acpi_device *dev = &config->devices[i];
		size_t d = aml_open(w, (const uint8_t[]){ AML_EXT_PREFIX, AML_DEVICE }, 2);

		aml_bytes(w, dev->name, 4);
		aml_hid(w, dev->hid);
		aml_name(w, "_UID");
		aml_integer(w, dev->uid);
		aml_crs(w, dev);
		aml_close(w, d);
	}
	aml_close(w, scope);

	/* _S5: the SLP_TYP values the OS writes to the sleep control register. */
	aml_name(w, "_S5_");
	pkg = aml_open(w, (const uint8_t[]){ AML_PACKAGE }, 1);
	aml_byte(w, 2);
	aml_integer(w, ACPI_S5_TYPE);
	aml_integer(w, 0);
	aml_close(w, pkg);
	table_end(w, t);
}

/* Generic Address Structure for a byte-wide I/O port. */
static void put_gas_io(uint8_t *p, uint16_t port)
{
	p[0] = 1; /* system I/O */
	p[1] = 8;
	p[2] = 0;
	p[3] = 1; /* byte access */
	store_le(p + 4, 8, port);
}

#define FADT_HW_REDUCED (1U << 20)
#define FADT_RESET_REG_SUP (1U << 10)
#define FADT_PWR_BUTTON (1U << 4) /* set: no fixed power button */
#define FADT_SLP_BUTTON (1U << 5)
#define FADT_WBINVD (1U << 0)
#define BOOT_ARCH_8042 (1U << 1)
#define BOOT_ARCH_VGA_NOT_PRESENT (1U << 2)
#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT (1U << 5)

static void build_fadt(struct writer *w, uint64_t dsdt)
{
	uint8_t *t = table_begin(w, "FACP", 6);

	if (!reserve(w, 276 - 36))
		return;
	store_le(t + 109, 2,
		 BOOT_ARCH_8042 | BOOT_ARCH_VGA_NOT_PRESENT | BOOT_ARCH_CMOS_RTC_NOT_PRESENT);
	store_le(t + 112, 4,
		 FADT_HW_REDUCED | FADT_RESET_REG_SUP | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
		     FADT_WBINVD);
	put_gas_io(t + 116, ACPI_RESET_REG);
	t[128] = ACPI_RESET_VALUE;
	t[131] = 4; /* FADT minor version: ACPI 6.4 */
	store_le(t + 140, 8, dsdt);
	put_gas_io(t + 244, ACPI_SLEEP_CONTROL);
	put_gas_io(t + 256, ACPI_SLEEP_STATUS);
	memcpy(t + 268, "KVMINI  ", 8);
	table_end(w, t);
}

static void build_madt(struct writer *w, unsigned int ncpus)
{
	uint8_t *t = table_begin(w, "APIC", 5);
	uint8_t *p = reserve(w, 8);

	if (!p)
		return;
	store_le(p, 4, LAPIC_ADDR);
	store_le(p + 4, 4, 1); /* PCAT_COMPAT: the in-kernel irqchip has 8259s */
	for (unsigned int i = 0; i < ncpus; i++) {
		p = reserve(w, 8);
		if (!p)
			return;
		p[0] = 0; /* processor local APIC */
		p[1] = 8;
		p[2] = i; /* ACPI processor UID */
		p[3] = i; /* APIC ID */
		store_le(p + 4, 4, 1); /* enabled */
	}
	p = reserve(w, 12);
	if (!p)
		return;
	p[0] = 1; /* I/O APIC */
	p[1] = 12;
	p[2] = 0; /* I/O APIC ID */
	store_le(p + 4, 4, IOAPIC_ADDR);
	store_le(p + 8, 4, 0); /* GSI base */
	p = reserve(w, 6);
	if (!p)
		return;
	p[0] = 4; /* local APIC NMI: LINT1 of every processor */
	p[1] = 6;
	p[2] = 0xff;
	store_le(p + 3, 2, 0);
	p[5] = 1;
	table_end(w, t);
}

size_t acpi_build(uint8_t *buf, size_t len, uint64_t base, const struct acpi_config *config)
{
	struct writer w = { buf, len, 0, 0 };
	uint8_t *rsdp = reserve(&w, 36), *xsdt;
	size_t dsdt, fadt, madt;

	if (!rsdp)
		return 0;
	dsdt = ALIGN_UP(w.pos, 16);
	build_dsdt(&w, config);
	fadt = ALIGN_UP(w.pos, 16);
	build_fadt(&w, base + dsdt);
	madt = ALIGN_UP(w.pos, 16);
	build_madt(&w, config->ncpus);
	xsdt = table_begin(&w, "XSDT", 1);
	if (xsdt) {
		uint8_t *entries = reserve(&w, 16);

		if (entries) {
			store_le(entries, 8, base + fadt);
			store_le(entries + 8, 8, base + madt);
		}
		table_end(&w, xsdt);
	}
	if (w.overflow)
		return 0;

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, OEM_ID, 6);
	rsdp[15] = 2; /* ACPI 2.0+ RSDP */
	store_le(rsdp + 20, 4, 36);
	store_le(rsdp + 24, 8, base + (xsdt - buf));
	rsdp[8] = -acpi_checksum(rsdp, 20);
	rsdp[32] = -acpi_checksum(rsdp, 36);
	return w.pos;
}
