// SPDX-License-Identifier: MIT
/*
 * The API's request path, socket aside: hostile bytes through the HTTP
 * parser, each complete request through the JSON checks and the router of
 * a VM that was never started (no files are opened, nothing boots).
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/config.h"
#include "api/http.h"
#include "api/server.h"
#include "fuzz/fuzz.h"

struct api_input {
	struct api *api;
	const uint8_t *data;
	size_t size;
};

/* On the API thread's list: parsing and routing, as the served API does. */
static void handle_requests(void *arg)
{
	struct api_input *in = arg;
	const char *p = (const char *)in->data;
	size_t size = in->size;

	while (size) {
		struct http_request req;
		struct http_response resp = { 0 };
		long used = http_parse(p, size, &req);

		if (used <= 0)
			break;
		api_handle_request(in->api, &req, &resp);
		if (resp.status < 200 || resp.status > 599)
			abort();
		free(resp.body);
		p += used;
		size -= used;
	}
}

/* The API is made and destroyed by the main thread in the VMM, too. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_spec spec;
	struct api_input in = { NULL, data, size };

	spec_init(&spec);
	in.api = api_create_unserved(&spec);

	fuzz_as(ROLE_API, handle_requests, &in);
	api_destroy(in.api);
	return 0;
}
