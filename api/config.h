/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_API_CONFIG_H
#define KVMINI_API_CONFIG_H

#include <jansson.h>
#include <stdbool.h>

#include "spec.h"

/*
 * The VM spec as Firecracker's configuration document: the body of
 * GET /vm/config and the format of --config-file, with kvmini's own
 * fields under "kvmini" keys (the whole VM's, and a drive's or an
 * interface's). Encoding and decoding lose nothing: spec → JSON → spec
 * is the same spec.
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
	SECTION_KVMINI,
};

/*
 * Checks @body against @section's fields: names, types, ranges, lengths
 * and choices. @patch allows required fields to be missing. Returns 0, or
 * -1 with a message naming the field.
 */
int config_check(enum config_section section, json_t *body, bool patch, struct config_error *err);

/*
 * Puts a body into the spec: replaces the singleton section, or the drive
 * or interface with the same id, or (@patch) merges fields into it. The
 * spec changes only if the result passes config_check() and spec_check().
 * Returns 0, or -1 with a message.
 */
int config_put(struct vm_spec *spec, enum config_section section, json_t *body, bool patch,
	       struct config_error *err);

/* One section as JSON (@id: the drive's or interface's); NULL when absent. */
json_t *config_section_json(const struct vm_spec *spec, enum config_section section,
			    const char *id);
/* The API path prefix of a Firecracker feature kvmini does not have yet, or NULL. */
const char *config_unsupported_path(const char *path);

/* The whole document. */
json_t *config_from_spec(const struct vm_spec *spec);

/*
 * A whole document (a --config-file) as a spec, from the defaults. @path
 * names it in messages. Returns 0, or -1 with a message; @spec is changed
 * only on success.
 */
int config_to_spec(json_t *file, const char *path, struct vm_spec *spec, struct config_error *err);
int config_load(const char *path, struct vm_spec *spec, struct config_error *err);

#endif
