// SPDX-License-Identifier: MIT
/*
 * The hardware-reduced ACPI registers the FADT points at: sleep control
 * (power-off when the OS enters S5), sleep status, and the reset register.
 */
#include "arch/x86/acpi.h"
#include "util.h"
#include "vm.h"

#define SLP_EN 0x20
#define SLP_TYP(v) (((v) >> 2) & 7)

static void acpi_pm_read(void *dev, uint64_t offset, uint8_t *data, uint32_t size)
{
	(void)dev;
	(void)offset;
	/* Sleep status: WAK_STS never set, since we never resume from S5. */
	store_le(data, size, 0);
}

static void acpi_pm_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t size)
{
	struct vm *vm = dev;
	uint8_t v = data[0];

	(void)size;
	if (offset == ACPI_SLEEP_CONTROL - ACPI_PM_PORT && (v & SLP_EN) &&
	    SLP_TYP(v) == ACPI_S5_TYPE)
		vm_request_exit(vm, EXIT_POWEROFF);
	else if (offset == ACPI_RESET_REG - ACPI_PM_PORT && v == ACPI_RESET_VALUE)
		vm_request_exit(vm, EXIT_REBOOT);
}

static const struct device_ops acpi_pm_ops = {
	.name = "acpi-pm",
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

int acpi_pm_init(struct vm *vm)
{
	return bus_register(&vm->pio, ACPI_PM_PORT, ACPI_PM_LEN, &acpi_pm_ops, vm);
}
