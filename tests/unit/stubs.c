// SPDX-License-Identifier: MIT
/* What main.c provides to the core, for the unit-test binary. */
#include <stdint.h>

uint64_t kvmini_start_ns;
