// SPDX-License-Identifier: MIT
/*
 * The Firecracker-compatible API: routes, the pre- and post-boot rules,
 * actions, pause and resume, the logger and the metrics. Field names,
 * status codes and messages follow Firecracker's swagger, so its clients
 * work unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/config.h"
#include "api/server.h"
#include "security/seccomp.h"
#include "util.h"
#include "vm.h"

#define FIRECRACKER_API_VERSION "1.7.0" /* the API kvmini speaks */
#define METRICS_PERIOD_S 60

enum api_state {
	NOT_STARTED,
	STARTING,
	RUNNING,
	PAUSED,
	EXITED
};

struct api {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vm_spec spec; /* what PUT and PATCH change, and GET /vm/config shows */
	enum api_state state;
	int exit_code;
	struct vm *vm;
	char start_error[600];
	int start_fd;
	struct server *server;
	pthread_t thread;
	bool thread_started;
	int metrics_fd, logger_fd;
	unsigned int ticks;
	uint64_t requests, errors;
};

static const char *const state_names[] = { "Not started", "Not started", "Running", "Paused",
					   "Exited" };

static int reply(struct http_response *resp, int status, json_t *body)
{
	resp->status = status;
	resp->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	return status;
}

static int reply_fault(struct http_response *resp, int status, const char *msg)
{
	return reply(resp, status, json_pack("{s:s}", "fault_message", msg));
}

static json_t *vm_metrics(struct api *api)
{
	struct timespec ts;
	struct vm_metrics vm;
	json_t *m;

	clock_gettime(CLOCK_REALTIME, &ts);
	m = json_pack("{s:I,s:{s:I,s:I},s:{s:s}}", "utc_timestamp_ms",
		      (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, "api_server",
		      "requests_count", (json_int_t)api->requests, "errors_count",
		      (json_int_t)api->errors, "vmm", "state", state_names[api->state]);
	if (!api->vm)
		return m;
	vm_read_metrics(api->vm, &vm);
	json_object_set_new(m, "vcpu",
			    json_pack("{s:I,s:I,s:I,s:I}", "exit_io_in", (json_int_t)vm.exits_io_in,
				      "exit_io_out", (json_int_t)vm.exits_io_out, "exit_mmio_read",
				      (json_int_t)vm.exits_mmio_read, "exit_mmio_write",
				      (json_int_t)vm.exits_mmio_write));
	/* One object per device ("block_rootfs"), and per kind the sums ("block"). */
	for (int i = 0; i < vm.ndevices; i++) {
		const struct vm_device_metrics *d = &vm.devices[i];
		json_t *group = json_object_get(m, d->group), *dev = json_object();
		char key[64];

		if (!group) {
			group = json_object();
			json_object_set_new(m, d->group, group);
		}
		for (int s = 0; s < d->n; s++) {
			const char *name = d->metrics[s].name;
			json_int_t sum = json_integer_value(json_object_get(group, name));

			json_object_set_new(dev, name, json_integer(d->metrics[s].value));
			if (strcmp(name, "invalid_chains_count"))
				json_object_set_new(group, name,
						    json_integer(sum + d->metrics[s].value));
		}
		snprintf(key, sizeof(key), "%s_%s", d->group, d->id);
		if (d->id[0])
			json_object_set_new(m, key, dev);
		else
			json_decref(dev);
	}
	return m;
}

/* Appends one JSON line; a full pipe or a vanished reader loses a line, not the VM. */
static int flush_metrics(struct api *api)
{
	json_t *m;
	char *line;
	int ret = 0;

	if (api->metrics_fd < 0)
		return -1;
	m = vm_metrics(api);
	line = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (!line)
		return -1;
	if (dprintf(api->metrics_fd, "%s\n", line) < 0)
		ret = -1;
	free(line);
	return ret;
}

static void api_tick(void *ctx)
{
	struct api *api = ctx;

	pthread_mutex_lock(&api->lock);
	if (++api->ticks % METRICS_PERIOD_S == 0)
		flush_metrics(api);
	pthread_mutex_unlock(&api->lock);
}

static int open_output(struct api *api, const char *path, struct http_response *resp,
		       const char *what)
{
	/* O_NONBLOCK: a FIFO with no reader must not stall the API. */
	int fd = !api->server
		     ? (errno = EPERM, -1) /* the fuzzer's: no files */
		     : open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);
	char msg[400];

	if (fd < 0) {
		snprintf(msg, sizeof(msg), "%s: cannot open %s: %s", what, path, strerror(errno));
		reply_fault(resp, 400, msg);
	}
	return fd;
}

static int put_logger(struct api *api, json_t *body, struct http_response *resp)
{
	static const char *const levels[] = { "Off", "Error", "Warning", "Info", "Debug" };
	const char *level = json_string_value(json_object_get(body, "level"));
	const char *path = json_string_value(json_object_get(body, "log_path"));
	enum log_level l = LOG_INFO;
	int fd = STDERR_FILENO;

	if (api->logger_fd >= 0)
		return reply_fault(resp, 400, "Reinitialization of logger not allowed.");
	for (size_t i = 0; level && i < ARRAY_SIZE(levels); i++)
		if (!strcmp(level, levels[i]))
			l = i;
	if (level && !strcmp(level, "Trace"))
		l = LOG_DEBUG;
	if (path && (fd = open_output(api, path, resp, "logger")) < 0)
		return resp->status;
	api->logger_fd = fd;
	log_configure(fd, l, json_is_true(json_object_get(body, "show_level")));
	return reply(resp, 204, NULL);
}

static int put_metrics(struct api *api, json_t *body, struct http_response *resp)
{
	const char *path = json_string_value(json_object_get(body, "metrics_path"));

	if (api->metrics_fd >= 0)
		return reply_fault(resp, 400, "Reinitialization of metrics not allowed.");
	api->metrics_fd = open_output(api, path, resp, "metrics");
	return api->metrics_fd >= 0 ? reply(resp, 204, NULL) : resp->status;
}

static int instance_start(struct api *api, struct http_response *resp)
{
	char msg[700];
	uint64_t one = 1;

	if (!api->spec.kernel[0])
		return reply_fault(
		    resp, 400, "no boot source: PUT /boot-source with a kernel_image_path first");
	if (!api->server)
		return reply_fault(resp, 400, "InstanceStart: this API has no VMM to start");
	api->state = STARTING;
	api->start_error[0] = 0;
	if (write(api->start_fd, &one, sizeof(one)) < 0)
		abort(); /* an eventfd write fails only on a bug */
	while (api->state == STARTING)
		pthread_cond_wait(&api->cond, &api->lock);
	if (api->state == RUNNING)
		return reply(resp, 204, NULL);
	snprintf(msg, sizeof(msg), "Start microVM error: %s", api->start_error);
	return reply_fault(resp, 400, msg);
}

static int put_action(struct api *api, json_t *body, struct http_response *resp)
{
	const char *type = json_string_value(json_object_get(body, "action_type"));
	char msg[128];

	if (!json_is_object(body) || !type ||
	    json_object_size(body) != 1 + !!json_object_get(body, "payload"))
		return reply_fault(resp, 400, "actions: the body must be {\"action_type\": ...}");
	if (!strcmp(type, "FlushMetrics")) {
		if (flush_metrics(api))
			return reply_fault(resp, 400,
					   "FlushMetrics: metrics are not configured "
					   "(PUT /metrics first)");
		return reply(resp, 204, NULL);
	}
	if (!strcmp(type, "InstanceStart")) {
		if (api->state != NOT_STARTED)
			return reply_fault(resp, 400, "The microVM is already started.");
		return instance_start(api, resp);
	}
	if (!strcmp(type, "SendCtrlAltDel")) {
		if (api->state != RUNNING && api->state != PAUSED) {
			snprintf(msg, sizeof(msg), "SendCtrlAltDel: the microVM is %s",
				 state_names[api->state]);
			return reply_fault(resp, 400, msg);
		}
		if (vm_send_ctrl_alt_del(api->vm))
			return reply_fault(resp, 400,
					   "SendCtrlAltDel: the keyboard buffer is full");
		return reply(resp, 204, NULL);
	}
	snprintf(msg, sizeof(msg), "actions: unknown action_type '%.60s'", type);
	return reply_fault(resp, 400, msg);
}

static int patch_vm(struct api *api, json_t *body, struct http_response *resp)
{
	const char *state = json_string_value(json_object_get(body, "state"));

	if (!json_is_object(body) || !state || json_object_size(body) != 1)
		return reply_fault(resp, 400,
				   "vm: the body must be {\"state\": \"Paused\"|\"Resumed\"}");
	if (api->state != RUNNING && api->state != PAUSED)
		return reply_fault(resp, 400, "vm: the microVM is not running");
	if (!strcmp(state, "Paused")) {
		if (vm_pause(api->vm))
			return reply_fault(resp, 400, "vm: the microVM is stopping");
		api->state = PAUSED;
	} else if (!strcmp(state, "Resumed")) {
		if (vm_resume(api->vm))
			return reply_fault(resp, 400, "vm: the microVM is stopping");
		api->state = RUNNING;
	} else {
		return reply_fault(resp, 400,
				   "vm: field 'state' must be \"Paused\" or \"Resumed\"");
	}
	return reply(resp, 204, NULL);
}

/* After boot, a drive's PATCH may only swap its backing file. */
static int patch_drive_live(struct api *api, const char *id, json_t *body,
			    struct http_response *resp)
{
	const char *path = json_string_value(json_object_get(body, "path_on_host"));
	struct config_error err;
	char msg[96];

	if (api->state != RUNNING && api->state != PAUSED) {
		snprintf(msg, sizeof(msg), "drives: the microVM is %s", state_names[api->state]);
		return reply_fault(resp, 400, msg);
	}
	if (json_object_get(body, "rate_limiter"))
		return reply_fault(resp, 400, "drives: field 'rate_limiter' is not supported yet");
	if (!path)
		return reply(resp, 204, NULL);
	if (vm_replace_drive(api->vm, id, path))
		return reply_fault(resp, 400, "drives: cannot swap the backing file; see the log");
	if (config_put(&api->spec, SECTION_DRIVE, body, true, &err))
		log_warn("API: %s", err.msg);
	return reply(resp, 204, NULL);
}

struct route {
	const char *path; /* a trailing '/' takes an id */
	const char *methods;
	int section; /* -1: not a config section */
};

static const struct route routes[] = {
	{ "/machine-config", "GET PUT PATCH", SECTION_MACHINE },
	{ "/boot-source", "PUT", SECTION_BOOT_SOURCE },
	{ "/drives/", "PUT PATCH", SECTION_DRIVE },
	{ "/network-interfaces/", "PUT PATCH", SECTION_NET },
	{ "/vsock", "PUT", SECTION_VSOCK },
	{ "/entropy", "PUT", SECTION_ENTROPY },
	{ "/logger", "PUT", SECTION_LOGGER },
	{ "/metrics", "PUT", SECTION_METRICS },
	{ "/serial", "PUT", SECTION_SERIAL },
	{ "/actions", "PUT", -1 },
	{ "/vm", "PATCH", -1 },
	{ "/vm/config", "GET", -1 },
	{ "/", "GET", -1 },
	{ "/version", "GET", -1 },
};

static bool method_allowed(const char *methods, const char *method)
{
	size_t n = strlen(method);

	if (!n)
		return false;
	for (const char *p = methods; (p = strstr(p, method)); p += n)
		if ((p == methods || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static int handle_section(struct api *api, const struct route *r, const char *method,
			  const char *id, json_t *body, struct http_response *resp)
{
	const struct {
		int section;
		const char *field;
	} ids[] = { { SECTION_DRIVE, "drive_id" }, { SECTION_NET, "iface_id" } };
	bool patch = !strcmp(method, "PATCH");
	struct config_error err;
	char msg[400];

	if (!strcmp(method, "GET"))
		return reply(resp, 200, config_section_json(&api->spec, SECTION_MACHINE, NULL));
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		const char *body_id;

		if (ids[i].section != r->section)
			continue;
		body_id = json_string_value(json_object_get(body, ids[i].field));
		if (json_is_object(body) && !json_object_get(body, ids[i].field))
			json_object_set_new(body, ids[i].field, json_string(id));
		else if (!body_id || strcmp(body_id, id)) {
			snprintf(msg, sizeof(msg),
				 "The id from the path [%.64s] does not match the id from the body",
				 id);
			return reply_fault(resp, 400, msg);
		}
	}
	if (config_check(r->section, body, patch, &err))
		return reply_fault(resp, 400, err.msg);
	if (api->state != NOT_STARTED) {
		if (r->section == SECTION_DRIVE && patch)
			return patch_drive_live(api, id, body, resp);
		if (r->section == SECTION_NET && patch)
			return reply_fault(resp, 400,
					   "network-interfaces: only rate limiters may "
					   "change after boot, and they are not "
					   "supported yet");
		if (r->section != SECTION_LOGGER && r->section != SECTION_METRICS)
			return reply_fault(resp, 400,
					   "The requested operation is not supported "
					   "after starting the microVM.");
	}
	if (r->section == SECTION_LOGGER)
		return put_logger(api, body, resp);
	if (r->section == SECTION_METRICS)
		return put_metrics(api, body, resp);
	if (config_put(&api->spec, r->section, body, patch, &err))
		return reply_fault(resp, 400, err.msg);
	return reply(resp, 204, NULL);
}

static int route(struct api *api, const struct http_request *req, json_t *body,
		 struct http_response *resp)
{
	char path[HTTP_MAX_PATH];
	const struct route *r = NULL;
	const char *id = NULL;
	char msg[400];

	snprintf(path, sizeof(path), "%.*s", (int)strcspn(req->path, "?"), req->path);
	if (config_unsupported_path(path)) {
		snprintf(msg, sizeof(msg), "%s is not supported yet",
			 config_unsupported_path(path));
		return reply_fault(resp, 400, msg);
	}
	for (size_t i = 0; i < ARRAY_SIZE(routes) && !r; i++) {
		size_t n = strlen(routes[i].path);
		bool takes_id = n > 1 && routes[i].path[n - 1] == '/';

		if (takes_id && !strncmp(path, routes[i].path, n) && path[n] &&
		    !strchr(path + n, '/')) {
			r = &routes[i];
			id = path + n;
		} else if (!takes_id && !strcmp(path, routes[i].path)) {
			r = &routes[i];
		}
	}
	if (!r || !method_allowed(r->methods, req->method)) {
		snprintf(msg, sizeof(msg), "Invalid request method and/or path: %s %.100s",
			 req->method, path);
		return reply_fault(resp, 400, msg);
	}
	if (strcmp(req->method, "GET") && !body)
		return reply_fault(resp, 400, "the request needs a JSON body");
	if (r->section >= 0)
		return handle_section(api, r, req->method, id, body, resp);
	if (!strcmp(r->path, "/actions"))
		return put_action(api, body, resp);
	if (!strcmp(r->path, "/vm"))
		return patch_vm(api, body, resp);
	if (!strcmp(r->path, "/vm/config"))
		return reply(resp, 200, config_from_spec(&api->spec));
	if (!strcmp(r->path, "/version"))
		return reply(resp, 200,
			     json_pack("{s:s,s:s}", "firecracker_version", FIRECRACKER_API_VERSION,
				       "kvmini_version", KVMINI_VERSION));
	body =
	    json_pack("{s:s,s:s,s:s,s:s}", "id", "anonymous-instance", "state",
		      state_names[api->state], "vmm_version", KVMINI_VERSION, "app_name", "kvmini");
	if (api->state == EXITED) /* kvmini's addition: why the guest stopped */
		json_object_set_new(body, "exit_code", json_integer(api->exit_code));
	return reply(resp, 200, body);
}

void api_handle_request(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct api *api = ctx;
	json_t *body = NULL;
	json_error_t jerr;
	char msg[300];

	pthread_mutex_lock(&api->lock);
	api->requests++;
	if (req->body_len) {
		body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
		if (!body) {
			snprintf(msg, sizeof(msg), "malformed JSON at line %d, column %d: %s",
				 jerr.line, jerr.column, jerr.text);
			reply_fault(resp, 400, msg);
		}
	}
	if (!req->body_len || body)
		route(api, req, body, resp);
	if (resp->status >= 400)
		api->errors++;
	pthread_mutex_unlock(&api->lock);
	json_decref(body);
}

static void *api_thread(void *arg)
{
	struct api *api = arg;

	if (seccomp_apply(ROLE_API))
		log_error("API: seccomp filter not installed; serving anyway");
	server_run(api->server);
	return NULL;
}

struct api *api_create_unserved(const struct vm_spec *spec)
{
	struct api *api = calloc(1, sizeof(*api));

	if (!api)
		return NULL;
	pthread_mutex_init(&api->lock, NULL);
	pthread_cond_init(&api->cond, NULL);
	api->spec = *spec;
	api->metrics_fd = api->logger_fd = -1;
	api->start_fd = eventfd(0, EFD_CLOEXEC);
	return api;
}

struct api *api_create(const char *sock_path, const struct vm_spec *spec)
{
	struct api *api = api_create_unserved(spec);
	int err;

	if (!api)
		return NULL;
	api->server = server_create(sock_path, api_handle_request, api_tick, api);
	if (!api->server || api->start_fd < 0) {
		api_destroy(api);
		return NULL;
	}
	err = pthread_create(&api->thread, NULL, api_thread, api);
	if (err) {
		log_error("API: starting its thread: %s", strerror(err));
		api_destroy(api);
		return NULL;
	}
	pthread_setname_np(api->thread, "api");
	api->thread_started = true;
	return api;
}

void api_destroy(struct api *api)
{
	if (!api)
		return;
	if (api->thread_started) {
		server_stop(api->server);
		pthread_join(api->thread, NULL);
	}
	server_destroy(api->server);
	pthread_mutex_lock(&api->lock);
	if (api->metrics_fd >= 0) {
		flush_metrics(api);
		close(api->metrics_fd);
	}
	pthread_mutex_unlock(&api->lock);
	if (api->logger_fd > STDERR_FILENO) {
		log_configure(STDERR_FILENO, LOG_INFO, false);
		close(api->logger_fd);
	}
	if (api->start_fd >= 0)
		close(api->start_fd);
	pthread_cond_destroy(&api->cond);
	pthread_mutex_destroy(&api->lock);
	free(api);
}

int api_wait_start(struct api *api, int signal_fd, struct vm_spec *spec)
{
	for (;;) {
		struct pollfd fds[2] = { { .fd = api->start_fd, .events = POLLIN },
					 { .fd = signal_fd, .events = POLLIN } };
		struct signalfd_siginfo si;
		uint64_t n;

		if (poll(fds, 2, -1) < 0)
			continue;
		if ((fds[1].revents & POLLIN) && read(signal_fd, &si, sizeof(si)) == sizeof(si))
			return 128 + si.ssi_signo;
		if (!(fds[0].revents & POLLIN) || read(api->start_fd, &n, sizeof(n)) != sizeof(n))
			continue;
		pthread_mutex_lock(&api->lock);
		*spec = api->spec;
		pthread_mutex_unlock(&api->lock);
		return 0;
	}
}

void api_vm_started(struct api *api, struct vm *vm, int code)
{
	pthread_mutex_lock(&api->lock);
	api->vm = vm;
	api->state = vm ? RUNNING : NOT_STARTED;
	if (!vm)
		snprintf(api->start_error, sizeof(api->start_error), "%s (exit status %d)",
			 log_last_error(), code);
	pthread_cond_broadcast(&api->cond);
	pthread_mutex_unlock(&api->lock);
}

void api_vm_exited(struct api *api, int code)
{
	pthread_mutex_lock(&api->lock);
	api->state = EXITED;
	api->exit_code = code;
	flush_metrics(api);
	api->vm = NULL;
	pthread_mutex_unlock(&api->lock);
}
