/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_API_CONFIG_H
#define KVMINI_API_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "vm.h"

/*
 * The whole-VM configuration as Firecracker writes it: the body of
 * GET /vm/config and the format of --config-file. The API, the config
 * file and the CLI flags all end up in one such document, and the VM is
 * built from it by config_to_vm().
 */

struct config_error {
	char msg[512];
};

/* The sections of the document, named as in Firecracker's API. */
enum config_section {
	SECTION_BOOT_SOURCE,
	SECTION_MACHINE,
	SECTION_DRIVE,
	SECTION_NET,
	SECTION_VSOCK,
	SECTION_ENTROPY,
	SECTION_LOGGER,
	SECTION_METRICS,
	SECTION_SERIAL,
};

/* An empty document with Firecracker's default machine (1 vCPU, 128 MiB). */
json_t *config_new(void);

/*
 * Checks @body against @section's fields: names, types, ranges and
 * choices. @patch allows required fields to be missing. Returns 0, or -1
 * with a message naming the field.
 */
int config_check(enum config_section section, json_t *body, bool patch, struct config_error *err);

/*
 * Puts a checked body into the document: replaces the singleton section,
 * or the drive / interface with the same id, or (@patch) merges fields.
 * Returns 0, or -1 when a rule across sections fails (a second root
 * drive, a MAC or tap used twice, a PATCH of an id not there).
 */
int config_put(json_t *doc, enum config_section section, json_t *body, bool patch,
	       struct config_error *err);

/* Loads a --config-file; NULL with a message naming the problem. */
json_t *config_load(const char *path, struct config_error *err);
/* The same for a parsed document, which it releases; @path names it. */
json_t *config_from_file(json_t *file, const char *path, struct config_error *err);

/*
 * Fills @vm from @doc. Strings point into @doc, which must outlive @vm
 * (the cmdline is built in @cmdline_buf). Returns 0, or -1 with a message.
 */
int config_to_vm(json_t *doc, struct vm_config *vm, char *cmdline_buf, size_t cmdline_len,
		 struct config_error *err);

/* The document that the CLI flags in @vm describe. */
json_t *config_from_vm(const struct vm_config *vm);

#endif
