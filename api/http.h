/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_HTTP_H
#define KVMINI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Bounds on what one client may send: a request line and headers, a body. */
#define HTTP_MAX_HEAD 8192
#define HTTP_MAX_BODY 51200 /* Firecracker's payload limit */
#define HTTP_MAX_PATH 256

struct http_request {
	char method[8];
	char path[HTTP_MAX_PATH];
	const char *body; /* points into the parsed buffer; not terminated */
	size_t body_len;
	bool close; /* "Connection: close", or HTTP/1.0 without keep-alive */
};

/*
 * Parses one HTTP/1.1 request from the start of @buf. Returns the bytes it
 * spans when it is complete, 0 when more bytes are needed, or minus the
 * status to answer with when it is malformed (400), too large (413, 431),
 * lacks a Content-Length where it has a body (411), or uses a transfer
 * coding (501) or protocol version (505) kvmini does not serve.
 */
long http_parse(const char *buf, size_t len, struct http_request *req);

const char *http_reason(int status);

#endif
