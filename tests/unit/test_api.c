// SPDX-License-Identifier: MIT
#include <string.h>

#include "api/config.h"
#include "api/http.h"
#include "unit.h"

static long parse(const char *text, struct http_request *req)
{
	return http_parse(text, strlen(text), req);
}

static void http_parses_requests(void **state)
{
	const char *two = "PUT /drives/root HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
			  "GET / HTTP/1.1\r\n\r\n";
	struct http_request req;

	(void)state;
	assert_int_equal(parse(two, &req), strlen(two) - strlen("GET / HTTP/1.1\r\n\r\n"));
	assert_string_equal(req.method, "PUT");
	assert_string_equal(req.path, "/drives/root");
	assert_int_equal(req.body_len, 2);
	assert_memory_equal(req.body, "{}", 2);
	assert_false(req.close);
	assert_int_equal(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &req), 37);
	assert_true(req.close);
	/* Incomplete: headers, then body. */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x", &req), 0);
	assert_int_equal(parse("PUT /vm HTTP/1.1\r\nContent-Length: 5\r\n\r\n{}", &req), 0);
}

static void http_rejects_what_it_does_not_serve(void **state)
{
	char big[HTTP_MAX_HEAD + 16];
	struct http_request req;

	(void)state;
	assert_int_equal(parse("PUT /vm HTTP/1.1\r\n\r\n", &req), -411);
	assert_int_equal(parse("PUT /vm HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &req),
			 -501);
	assert_int_equal(parse("PUT /vm HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", &req), -413);
	assert_int_equal(
	    parse("PUT /vm HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", &req),
	    -400);
	assert_int_equal(parse("PUT /vm HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &req), -400);
	assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &req), -505);
	assert_int_equal(parse("get / HTTP/1.1\r\n\r\n", &req), -400);
	assert_int_equal(http_parse("\0ET / HTTP/1.1\r\n\r\n", 18, &req), -400);
	assert_int_equal(parse("GET /a b HTTP/1.1\r\n\r\n", &req), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\n folded\r\n\r\n", &req), -400);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(http_parse(big, sizeof(big), &req), -431);
}

static json_t *body(const char *text)
{
	return json_loads(text, 0, NULL);
}

static void config_checks_name_the_field(void **state)
{
	struct config_error err;
	json_t *b;

	(void)state;
	b = body("{\"vcpu_count\": 2, \"mem_size_mib\": true}");
	assert_int_equal(config_check(SECTION_MACHINE, b, false, &err), -1);
	assert_non_null(strstr(err.msg, "mem_size_mib"));
	json_decref(b);
	b = body("{\"vcpu_count\": 2}");
	assert_int_equal(config_check(SECTION_MACHINE, b, false, &err), -1);
	assert_non_null(strstr(err.msg, "missing field 'mem_size_mib'"));
	assert_int_equal(config_check(SECTION_MACHINE, b, true, &err), 0); /* PATCH */
	json_decref(b);
	b = body("{\"iface_id\": \"e\", \"host_dev_name\": \"t\", \"guest_mac\": "
		 "\"01:00:00:00:00:01\"}");
	assert_int_equal(config_check(SECTION_NET, b, false, &err), -1); /* multicast */
	json_decref(b);
	b = body("{\"drive_id\": \"d\", \"path_on_host\": \"/x\", \"is_root_device\": false, "
		 "\"rate_limiter\": {\"bandwidth\": {}}}");
	assert_int_equal(config_check(SECTION_DRIVE, b, false, &err), -1);
	assert_non_null(strstr(err.msg, "not supported yet"));
	json_decref(b);
}

static void config_builds_the_spec(void **state)
{
	struct config_error err;
	struct vm_spec spec;
	char cmdline[512];
	json_t *b;

	(void)state;
	spec_init(&spec);
	b = body("{\"kernel_image_path\": \"/k\", \"boot_args\": \"console=ttyS0\"}");
	assert_int_equal(config_put(&spec, SECTION_BOOT_SOURCE, b, false, &err), 0);
	json_decref(b);
	b = body("{\"drive_id\": \"data\", \"path_on_host\": \"/d\", \"is_root_device\": false}");
	assert_int_equal(config_put(&spec, SECTION_DRIVE, b, false, &err), 0);
	json_decref(b);
	b = body("{\"drive_id\": \"root\", \"path_on_host\": \"/r\", \"is_root_device\": true, "
		 "\"is_read_only\": true, \"io_engine\": \"Sync\"}");
	assert_int_equal(config_put(&spec, SECTION_DRIVE, b, false, &err), 0);
	json_decref(b);
	b = body("{\"drive_id\": \"two\", \"path_on_host\": \"/r\", \"is_root_device\": true}");
	assert_int_equal(config_put(&spec, SECTION_DRIVE, b, false, &err), -1); /* a second root */
	assert_non_null(strstr(err.msg, "only one drive"));
	json_decref(b);
	b = body("{\"vcpu_count\": 3}");
	assert_int_equal(config_put(&spec, SECTION_MACHINE, b, true, &err), 0);
	json_decref(b);
	b = body("{\"drive_id\": \"nope\", \"path_on_host\": \"/x\"}");
	assert_int_equal(config_put(&spec, SECTION_DRIVE, b, true, &err), -1);
	assert_non_null(strstr(err.msg, "no drive_id 'nope' to PATCH"));
	json_decref(b);
	assert_int_equal(spec.cpus, 3);
	assert_int_equal(spec.mem_size, 128 << 20);
	assert_int_equal(spec.ndisks, 2);
	assert_string_equal(spec_root_disk(&spec)->path, "/r");
	assert_true(spec.disks[1].read_only && spec.disks[1].sync_io);
	assert_string_equal(spec.disks[0].id, "data");
	assert_int_equal(spec_kernel_cmdline(&spec, cmdline, sizeof(cmdline)), 0);
	assert_string_equal(cmdline, "console=ttyS0 root=/dev/vda ro");
}

int run_api_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http_parses_requests),
		cmocka_unit_test(http_rejects_what_it_does_not_serve),
		cmocka_unit_test(config_checks_name_the_field),
		cmocka_unit_test(config_builds_the_spec),
	};
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
