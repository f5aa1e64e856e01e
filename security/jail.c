// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "security/jail.h"
#include "util.h"
#include "vm.h"

#define JAIL_NOFILE 4096

int jail_config_parse(const char *spec, struct jail_config *jail)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	int ret = 0;

	memset(jail, 0, sizeof(*jail));
	jail->uid = jail->gid = 65534; /* nobody */
	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		char *end;

		if (!jail->root && tok[0] == '/') {
			jail->root = spec + (tok - copy);
		} else if (!strncmp(tok, "uid=", 4)) {
			jail->uid = strtoul(tok + 4, &end, 10);
			ret = *end || !tok[4] || !jail->uid ? -1 : 0;
		} else if (!strncmp(tok, "gid=", 4)) {
			jail->gid = strtoul(tok + 4, &end, 10);
			ret = *end || !tok[4] || !jail->gid ? -1 : 0;
		} else if (!strcmp(tok, "netns")) {
			jail->new_netns = true;
		} else {
			ret = -1;
		}
	}
	if (!ret && !jail->root)
		ret = -1;
	if (ret)
		log_error("--jail '%s': expected /ABSOLUTE/DIR[,uid=N][,gid=N][,netns] "
			  "(uid and gid not 0)",
			  spec);
	free(copy);
	return ret;
}

static char *jail_path(const struct jail_config *jail, const char *rel)
{
	size_t len = strcspn(jail->root, ",");
	char *p = malloc(len + strlen(rel) + 2);

	if (p)
		sprintf(p, "%.*s/%s", (int)len, jail->root, rel);
	return p;
}

/* A device node in the jail with the host node's numbers, for the jail uid. */
static int copy_device(const struct jail_config *jail, const char *host, const char *rel)
{
	struct stat st;
	char *path = jail_path(jail, rel);
	int ret = -1;

	if (!path)
		return -1;
	if (stat(host, &st) < 0) {
		ret = 0; /* optional: /dev/net/tun may be absent */
		goto out;
	}
	unlink(path);
	if (mknod(path, S_IFCHR | 0660, st.st_rdev) < 0 || chown(path, jail->uid, jail->gid) < 0) {
		log_error("jail: %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(path);
	return ret;
}

/* Bind-mounts each disk at /disks/N inside the jail and rewrites its path. */
static int bind_disks(const struct jail_config *jail, struct vm_config *config)
{
	for (int i = 0; i < config->ndisks; i++) {
		struct disk_config *d = &config->disks[i];
		const char *base = strrchr(d->path, '/') ? strrchr(d->path, '/') + 1 : d->path;
		char rel[32], *target;
		int fd;

		/* The guest keeps seeing the host file name as the serial. */
		if (!d->id[0])
			snprintf(d->id, sizeof(d->id), "%s", base);
		snprintf(rel, sizeof(rel), "disks/%d", i);
		target = jail_path(jail, rel);
		if (!target)
			return -1;
		fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
		if (fd < 0 || mount(d->path, target, NULL, MS_BIND, NULL) < 0) {
			log_error("jail: binding disk %s: %s", d->path, strerror(errno));
			free(target);
			return -1;
		}
		free(target);
		snprintf(d->path, sizeof(d->path), "/disks/%d", i);
	}
	return 0;
}

/* A leaf in the cgroup v2 hierarchy, when there is one we may write. */
static void join_cgroup(void)
{
	char dir[128], procs[160];
	FILE *f;

	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK))
		return;
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/kvmini-%d", getpid());
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	f = fopen(procs, "w");
	if (f) {
		fprintf(f, "%d\n", getpid());
		fclose(f);
	}
}

static int pivot(const struct jail_config *jail)
{
	char *root = jail_path(jail, ""), *old = jail_path(jail, ".old-root");
	int ret = -1;

	if (!root || !old)
		goto out;
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    (mkdir(old, 0700) < 0 && errno != EEXIST) || syscall(SYS_pivot_root, root, old) < 0 ||
	    chdir("/") < 0 || umount2("/.old-root", MNT_DETACH) < 0 || rmdir("/.old-root") < 0) {
		log_error("jail: pivot_root into %s: %s", root, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(root);
	free(old);
	return ret;
}

int jail_enter(const struct jail_config *jail, struct vm_config *config)
{
	static const char *const dirs[] = { "", "dev", "dev/net", "disks" };
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
	struct rlimit nofile = { JAIL_NOFILE, JAIL_NOFILE };
	pid_t child;
	int status;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *dir = jail_path(jail, dirs[i]);
		int err = !dir || (mkdir(dir, 0755) < 0 && errno != EEXIST);

		if (err)
			log_error("jail: creating %s: %s", dir ? dir : dirs[i], strerror(errno));
		free(dir);
		if (err)
			return EXIT_BAD_INPUT;
	}
	if (copy_device(jail, "/dev/kvm", "dev/kvm") ||
	    copy_device(jail, "/dev/net/tun", "dev/net/tun"))
		return EXIT_HOST_ERROR;
	join_cgroup();
	if (unshare(flags | (jail->new_netns ? CLONE_NEWNET : 0)) < 0) {
		log_error("jail: unshare: %s (needs root)", strerror(errno));
		return EXIT_HOST_ERROR;
	}
	/* Before any mount: nothing done in the jail propagates to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		log_error("jail: making / a slave mount: %s", strerror(errno));
		return EXIT_HOST_ERROR;
	}
	/* The new PID namespace starts with our first child, its PID 1. */
	child = fork();
	if (child < 0) {
		log_error("jail: fork: %s", strerror(errno));
		return EXIT_HOST_ERROR;
	}
	if (child > 0) {
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	if (bind_disks(jail, config) || pivot(jail))
		return EXIT_HOST_ERROR;
	sethostname("kvmini", 6);
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		log_warn("jail: RLIMIT_NOFILE: %s", strerror(errno));
	/* Disks never grow: no file may be extended beyond 1 TiB. */
	setrlimit(RLIMIT_FSIZE, &(struct rlimit){ 1ULL << 40, 1ULL << 40 });
	for (int i = 0; i < config->nnics; i++)
		if (config->nics[i].tap_fd >= 0)
			fcntl(config->nics[i].tap_fd, F_SETFD, 0);
	/* Everything but stdio and handed-over taps. */
	for (int fd = 3; fd < JAIL_NOFILE; fd++) {
		bool keep = false;

		for (int i = 0; i < config->nnics; i++)
			keep |= config->nics[i].tap_fd == fd;
		if (!keep)
			close(fd);
	}
	clearenv();
	return 0;
}

int jail_drop_privileges(const struct jail_config *jail)
{
	if (setgroups(0, NULL) < 0 || setresgid(jail->gid, jail->gid, jail->gid) < 0 ||
	    setresuid(jail->uid, jail->uid, jail->uid) < 0) {
		log_error("jail: dropping to uid %u gid %u: %s", jail->uid, jail->gid,
			  strerror(errno));
		return -1;
	}
	return 0;
}
