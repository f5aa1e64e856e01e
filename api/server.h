/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_API_SERVER_H
#define KVMINI_API_SERVER_H

#include <stddef.h>

#include "api/http.h"

/* A response the handler fills: status and an optional JSON body. */
struct http_response {
	int status;
	char *body; /* malloc'd, or NULL; the server frees it */
};

typedef void (*http_handler)(void *ctx, const struct http_request *req, struct http_response *resp);
typedef void (*tick_handler)(void *ctx); /* about once a second */

struct server;

/*
 * Listens on the Unix socket @path. A path held by a live server is
 * refused; a stale one is replaced. NULL after logging.
 */
struct server *server_create(const char *path, http_handler handle, tick_handler tick, void *ctx);
/* Serves clients until server_stop(); runs on its own (API) thread. */
void server_run(struct server *srv);
void server_stop(struct server *srv);
void server_destroy(struct server *srv);

#endif
