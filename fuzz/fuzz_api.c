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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api *api = api_create_unserved(config_new());
	const char *p = (const char *)data;

	while (size) {
		struct http_request req;
		struct http_response resp = { 0 };
		long used = http_parse(p, size, &req);

		if (used <= 0)
			break;
		api_handle_request(api, &req, &resp);
		if (resp.status < 200 || resp.status > 599)
			abort();
		free(resp.body);
		p += used;
		size -= used;
	}
	api_destroy(api);
	return 0;
}
