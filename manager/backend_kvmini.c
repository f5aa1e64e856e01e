// SPDX-License-Identifier: MIT
/* The kvmini back end: a --config-file from the domain, driven by the API. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "manager/backend.h"
#include "manager/manager.h"

static int write_config(const struct domain *d, const struct domain_paths *p)
{
	json_t *doc, *drives = json_array(), *nics = json_array();
	char cmdline[2200];
	int ret;

	snprintf(cmdline, sizeof(cmdline), "%s%s", d->cmdline, d->acpi ? "" : " acpi=off");
	for (int i = 0; i < d->ndisks; i++)
		json_array_append_new(
		    drives,
		    json_pack("{s:s,s:s,s:b,s:b}", "drive_id",
			      d->disks[i].serial[0] ? d->disks[i].serial : d->disks[i].target,
			      "path_on_host", d->disks[i].path, "is_root_device", 0, "is_read_only",
			      d->disks[i].readonly));
	for (int i = 0; i < d->nnics; i++) {
		char id[16], mac[18];
		json_t *nic;

		snprintf(id, sizeof(id), "net%d", i);
		nic = json_pack("{s:s,s:s}", "iface_id", id, "host_dev_name", d->nics[i].tap);
		if (d->nics[i].has_mac) {
			const uint8_t *m = d->nics[i].mac;

			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
				 m[2], m[3], m[4], m[5]);
			json_object_set_new(nic, "guest_mac", json_string(mac));
		}
		json_array_append_new(nics, nic);
	}
	doc = json_pack("{s:{s:s,s:s},s:{s:i,s:I},s:o,s:o}", "boot-source", "kernel_image_path",
			d->kernel, "boot_args", cmdline, "machine-config", "vcpu_count", d->vcpus,
			"mem_size_mib", (json_int_t)((d->current_memory_kib + 1023) / 1024),
			"drives", drives, "network-interfaces", nics);
	if (d->initrd[0])
		json_object_set_new(json_object_get(doc, "boot-source"), "initrd_path",
				    json_string(d->initrd));
	if (d->rng)
		json_object_set_new(doc, "entropy", json_object());
	if (d->vsock_cid)
		json_object_set_new(
		    doc, "vsock",
		    json_pack("{s:i,s:s}", "guest_cid", d->vsock_cid, "uds_path", p->vsock));
	ret = json_dump_file(doc, p->config, JSON_INDENT(2));
	json_decref(doc);
	if (ret)
		fprintf(stderr, "error: cannot write %s\n", p->config);
	return ret ? -1 : 0;
}

static int kvmini_argv(const struct domain *d, const struct domain_paths *p, char **argv, int max)
{
	static char exe[4096];
	int n = 0;

	if (write_config(d, p) || max < 12 || sibling_path("kvmini", exe, sizeof(exe)))
		return -1;
	argv[n++] = exe;
	argv[n++] = "run";
	argv[n++] = "--config-file";
	argv[n++] = (char *)p->config;
	argv[n++] = "--api-sock";
	argv[n++] = (char *)p->api;
	argv[n++] = "--console-sock";
	argv[n++] = (char *)p->console;
	argv[n++] = "--reboot";
	argv[n++] = !strcmp(d->on_reboot, "restart") ? "restart" : "exit";
	argv[n] = NULL;
	return n;
}

static int api_call(const struct domain_paths *p, const char *method, const char *path,
		    const char *body, char *out, size_t size)
{
	char request[512];
	long n;

	snprintf(request, sizeof(request),
		 "%s %s HTTP/1.1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s", method,
		 path, body ? strlen(body) : 0, body ? body : "");
	n = unix_request(p->api, request, out, size, 5000, NULL);
	if (n < 12 || strncmp(out, "HTTP/1.1 2", 10))
		return -1;
	return 0;
}

static int kvmini_info(const struct domain *d, const struct domain_paths *p, struct run_info *info)
{
	char resp[2048];
	const char *body;
	json_t *j;
	const char *state;

	(void)d;
	if (api_call(p, "GET", "/", NULL, resp, sizeof(resp)) || !(body = strstr(resp, "\r\n\r\n")))
		return -1;
	j = json_loads(body + 4, 0, NULL);
	state = json_string_value(json_object_get(j, "state"));
	info->state = !state			 ? STATE_RUNNING
		      : !strcmp(state, "Paused") ? STATE_PAUSED
		      : !strcmp(state, "Exited") ? STATE_EXITED
						 : STATE_RUNNING;
	info->exit_code = json_integer_value(json_object_get(j, "exit_code"));
	json_decref(j);
	return 0;
}

static int kvmini_pause(const struct domain_paths *p, bool pause)
{
	char resp[1024];

	return api_call(p, "PATCH", "/vm",
			pause ? "{\"state\": \"Paused\"}" : "{\"state\": \"Resumed\"}", resp,
			sizeof(resp));
}

/* Ctrl-Alt-Del: the guest's init decides; with on_reboot=restart a reboot comes back. */
static int kvmini_request_shutdown(const struct domain_paths *p, bool reboot)
{
	char resp[1024];

	(void)reboot;
	return api_call(p, "PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", resp,
			sizeof(resp));
}

const struct backend_ops backend_kvmini = {
	.name = "kvmini",
	.argv = kvmini_argv,
	.info = kvmini_info,
	.pause = kvmini_pause,
	.request_shutdown = kvmini_request_shutdown,
};
