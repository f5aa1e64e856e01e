/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_X86_ACPI_H
#define KVMINI_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* A device as the DSDT describes it; an io[].len or mmio_len may be zero. */
struct acpi_device {
	char name[5]; /* four-character AML name, e.g. "COM1" */
	const char *hid; /* "PNP0501" is EISA-encoded, anything else a string */
	uint32_t uid;
	struct {
		uint16_t base, len;
	} io[2]; /* the i8042 has two: data and command */
	uint64_t mmio_base;
	uint32_t mmio_len;
	int irq; /* -1 for none */
};

/* The fixed I/O ports of kvmini's ACPI power-management block. */
#define ACPI_PM_PORT 0x600
#define ACPI_SLEEP_CONTROL (ACPI_PM_PORT + 0)
#define ACPI_SLEEP_STATUS (ACPI_PM_PORT + 1)
#define ACPI_RESET_REG (ACPI_PM_PORT + 2)
#define ACPI_PM_LEN 3
#define ACPI_RESET_VALUE 0x1
#define ACPI_S5_TYPE 5 /* SLP_TYP that _S5 announces */

struct acpi_config {
	unsigned int ncpus;
	const struct acpi_device *devices;
	int ndevices;
};

/*
 * Builds RSDP, XSDT, FADT (hardware-reduced), MADT and DSDT into @buf,
 * which the guest sees at @base; the RSDP is first. Returns the bytes
 * used, or 0 if @len is too small.
 */
size_t acpi_build(uint8_t *buf, size_t len, uint64_t base, const struct acpi_config *config);

uint8_t acpi_checksum(const uint8_t *data, size_t len);

#endif
