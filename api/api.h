/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_API_H
#define KVMINI_API_H

#include <jansson.h>

#include "spec.h"

struct vm;

/*
 * The Firecracker-compatible API: a server thread on a Unix socket that
 * changes the VM spec before boot and drives the VM after.
 * The main thread builds and runs the VM; these calls are its side of the
 * hand-over.
 */
struct api;

/* Serves a copy of @spec on @sock_path. NULL after logging. */
struct api *api_create(const char *sock_path, const struct vm_spec *spec);
void api_destroy(struct api *api);

/*
 * Waits for InstanceStart, then copies the spec into @spec. Returns 0, or
 * 128+N when signal N arrived on @signal_fd first.
 */
int api_wait_start(struct api *api, int signal_fd, struct vm_spec *spec);

/* The VM is running (@vm), or failed to start (NULL, exit @code). */
void api_vm_started(struct api *api, struct vm *vm, int code);
/* The guest stopped with @code; the API keeps answering. */
void api_vm_exited(struct api *api, int code);

/* For the HTTP+JSON fuzzer: one request through the router, no socket. */
struct http_request;
struct http_response;
void api_handle_request(void *api, const struct http_request *req, struct http_response *resp);
struct api *api_create_unserved(const struct vm_spec *spec);

#endif
