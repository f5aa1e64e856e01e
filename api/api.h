/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_API_H
#define KVMINI_API_H

#include <jansson.h>

#include "vm.h"

/*
 * The Firecracker-compatible API: a server thread on a Unix socket that
 * edits the configuration document before boot and drives the VM after.
 * The main thread builds and runs the VM; these calls are its side of the
 * hand-over.
 */
struct api;

/* Serves @doc (taken over) on @sock_path. NULL after logging. */
struct api *api_create(const char *sock_path, json_t *doc);
void api_destroy(struct api *api);

/*
 * Waits for InstanceStart, then fills @config from the document (its
 * strings stay valid until api_destroy). Returns 0, or 128+N when signal
 * N arrived on @signal_fd first.
 */
int api_wait_start(struct api *api, int signal_fd, struct vm_config *config);

/* The VM is running (@vm), or failed to start (NULL, exit @code). */
void api_vm_started(struct api *api, struct vm *vm, int code);
/* The guest stopped with @code; the API keeps answering. */
void api_vm_exited(struct api *api, int code);

/* For the HTTP+JSON fuzzer: one request through the router, no socket. */
struct http_request;
struct http_response;
void api_handle_request(void *api, const struct http_request *req, struct http_response *resp);
struct api *api_create_unserved(json_t *doc);

#endif
