// SPDX-License-Identifier: MIT
/* The kvmini back end: a --config-file from the domain, driven by the API. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.h"
#include "util.h"

#include "manager/backend.h"
#include "manager/manager.h"

/* Copies @src into @dst, or sets *@too_long when it does not fit. */
static void copy(char *dst, size_t len, const char *src, bool *too_long)
{
	size_t n = strlen(src);

	*too_long |= n >= len;
	memcpy(dst, src, n < len ? n + 1 : 0);
}

/* The domain as a VM spec, written through the VMM's own codec. */
static int domain_to_spec(const struct domain *d, const struct domain_paths *p,
			  struct vm_spec *spec)
{
	bool too_long = false;

	spec_init(spec);
	copy(spec->kernel, sizeof(spec->kernel), d->kernel, &too_long);
	copy(spec->initrd, sizeof(spec->initrd), d->initrd, &too_long);
	snprintf(spec->boot_args, sizeof(spec->boot_args), "%s%s", d->cmdline,
		 d->acpi ? "" : " acpi=off");
	spec->cpus = d->vcpus;
	spec->mem_size = (d->current_memory_kib + 1023) / 1024 * MiB;
	for (int i = 0; i < d->ndisks && i < MAX_DISKS; i++) {
		struct disk_config *disk = &spec->disks[spec->ndisks++];

		disk_config_init(disk);
		copy(disk->id, sizeof(disk->id),
		     d->disks[i].serial[0] ? d->disks[i].serial : d->disks[i].target, &too_long);
		copy(disk->path, sizeof(disk->path), d->disks[i].path, &too_long);
		disk->read_only = d->disks[i].readonly;
	}
	for (int i = 0; i < d->nnics && i < MAX_NICS; i++) {
		struct net_config *nic = &spec->nics[spec->nnics++];

		net_config_init(nic);
		snprintf(nic->id, sizeof(nic->id), "net%d", i);
		copy(nic->tap, sizeof(nic->tap), d->nics[i].tap, &too_long);
		nic->has_mac = d->nics[i].has_mac;
		memcpy(nic->mac, d->nics[i].mac, 6);
	}
	spec->rng = d->rng;
	spec->vsock.enabled = d->vsock_cid != 0;
	spec->vsock.guest_cid = d->vsock_cid;
	copy(spec->vsock.uds, sizeof(spec->vsock.uds), p->vsock, &too_long);
	spec->on_reboot = !strcmp(d->on_reboot, "restart") ? REBOOT_RESTART : REBOOT_EXIT;
	copy(spec->console_sock, sizeof(spec->console_sock), p->console, &too_long);
	return too_long ? -1 : 0;
}

static int write_config(const struct domain *d, const struct domain_paths *p)
{
	struct vm_spec *spec = malloc(sizeof(*spec));
	char msg[512];
	json_t *doc;
	int ret = -1;

	if (!spec)
		return -1;
	if (domain_to_spec(d, p, spec)) {
		fprintf(stderr, "error: domain %s: a path or name is too long\n", d->name);
		goto out;
	}
	if (spec_check(spec, msg, sizeof(msg))) {
		fprintf(stderr, "error: domain %s: %s\n", d->name, msg);
		goto out;
	}
	doc = config_from_spec(spec);
	ret = json_dump_file(doc, p->config, JSON_INDENT(2));
	json_decref(doc);
	if (ret)
		fprintf(stderr, "error: cannot write %s\n", p->config);
out:
	free(spec);
	return ret ? -1 : 0;
}

static int kvmini_argv(const struct domain *d, const struct domain_paths *p, char **argv, int max)
{
	static char exe[4096];
	int n = 0;

	if (write_config(d, p) || max < 8 || sibling_path("kvmini", exe, sizeof(exe)))
		return -1;
	argv[n++] = exe;
	argv[n++] = "run";
	argv[n++] = "--config-file";
	argv[n++] = (char *)p->config;
	argv[n++] = "--api-sock";
	argv[n++] = (char *)p->api;
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
