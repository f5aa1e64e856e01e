// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
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

/* "cgroup=FILE=VALUE": FILE a plain interface file name such as pids.max. */
static int parse_limit(const char *tok, struct jail_config *jail)
{
	const char *eq = strchr(tok, '=');
	struct jail_cgroup_limit *l = &jail->limits[jail->nlimits];
	size_t len = eq ? (size_t)(eq - tok) : 0;

	if (jail->nlimits == JAIL_MAX_LIMITS || !len || len >= sizeof(l->file) || !eq[1] ||
	    strlen(eq + 1) >= sizeof(l->value) || !memchr(tok, '.', len) ||
	    strcspn(tok, "/") < len || tok[0] == '.')
		return -1;
	memcpy(l->file, tok, len);
	l->file[len] = 0;
	snprintf(l->value, sizeof(l->value), "%s", eq + 1);
	jail->nlimits++;
	return 0;
}

static int parse_id(const char *arg, unsigned int *id)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	/* Not 0 (root), and not (uid_t)-1, which setresuid() takes as "no change". */
	if (errno || *end || !*arg || *arg == '-' || !v || v >= 0xffffffffULL)
		return -1;
	*id = v;
	return 0;
}

/* One item of --jail: 0, or -1 when it is not one. */
static int parse_jail_item(const char *key, const char *value, struct jail_config *jail)
{
	if (!value && !jail->root[0] && key[0] == '/' && strlen(key) < sizeof(jail->root))
		snprintf(jail->root, sizeof(jail->root), "%s", key);
	else if (value && !strcmp(key, "uid"))
		return parse_id(value, &jail->uid);
	else if (value && !strcmp(key, "gid"))
		return parse_id(value, &jail->gid);
	else if (!value && !strcmp(key, "netns"))
		jail->new_netns = true;
	else if (value && !strcmp(key, "netns") && value[0] == '/' && !jail->netns_path[0] &&
		 strlen(value) < sizeof(jail->netns_path))
		snprintf(jail->netns_path, sizeof(jail->netns_path), "%s", value);
	else if (value && !strcmp(key, "cgroup"))
		return parse_limit(value, jail);
	else
		return -1;
	return 0;
}

int jail_config_parse(const char *spec, struct jail_config *jail)
{
	char *copy = strdup(spec), *items = copy, *key, *value;
	int ret = copy ? 0 : -1;

	memset(jail, 0, sizeof(*jail));
	jail->uid = jail->gid = 65534; /* nobody */
	while (!ret && option_next(&items, &key, &value))
		ret = parse_jail_item(key, value, jail); /* "cgroup=pids.max=64" keeps its '=' */
	if (!ret && (!jail->root[0] || (jail->new_netns && jail->netns_path[0])))
		ret = -1;
	if (ret)
		log_error("--jail '%s': expected /ABSOLUTE/DIR[,uid=N][,gid=N][,netns|netns=PATH]"
			  "[,cgroup=FILE=VALUE]... (uid and gid not 0, at most %d cgroup limits)",
			  spec, JAIL_MAX_LIMITS);
	free(copy);
	return ret;
}

/* The signals the waiting jailer passes on to the jailed VMM. */
static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP };

/* The VM's cgroup v2 leaf, under the cgroup kvmini was started in. */
struct jail_cgroup {
	char home[400]; /* where kvmini started, and where the jailer returns */
	char leaf[440]; /* "" when there is none */
};

#define CGROUP_ROOT "/sys/fs/cgroup"

static int write_file(const char *dir, const char *file, const char *text)
{
	char path[512];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return ret;
}

/* The cgroup v2 directory this process is in, from /proc/self/cgroup. */
static int cgroup_home(char *home, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int ret = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::/", 4)) {
			line[strcspn(line, "\n")] = 0;
			ret = snprintf(home, len, CGROUP_ROOT "%s",
				       strcmp(line + 3, "/") ? line + 3 : "") < (int)len
				  ? 0
				  : -1;
		}
	if (f)
		fclose(f);
	return ret;
}

/*
 * Without limits, a leaf is a courtesy (where cgroupfs is read-only, as in
 * a container, the VM runs without one); with limits it is required.
 */
static int cgroup_failed(const struct jail_config *jail, struct jail_cgroup *cg, const char *what)
{
	if (jail->nlimits)
		log_error("jail: %s: %s", what, strerror(errno));
	else
		log_warn("jail: %s: %s; the VM runs in kvmini's cgroup", what, strerror(errno));
	if (cg->leaf[0])
		rmdir(cg->leaf);
	cg->leaf[0] = 0;
	return jail->nlimits ? -1 : 0;
}

/*
 * Makes the leaf, writes the limits, moves this process into it. Limits
 * need their controller enabled in kvmini's own cgroup, which cgroup v2
 * refuses to a cgroup holding processes (kvmini is one), the root aside:
 * so limits need kvmini started in the root cgroup. Controllers enabled
 * there stay enabled (other VMs may use them).
 */
static int cgroup_create(const struct jail_config *jail, struct jail_cgroup *cg)
{
	char pid[16], want[52], what[600];

	cg->leaf[0] = 0;
	if (access(CGROUP_ROOT "/cgroup.controllers", F_OK) ||
	    cgroup_home(cg->home, sizeof(cg->home))) {
		errno = ENOENT;
		return jail->nlimits
			   ? cgroup_failed(jail, cg, "cgroup limits need cgroup v2 at " CGROUP_ROOT)
			   : 0;
	}
	if (jail->nlimits && strcmp(cg->home, CGROUP_ROOT)) {
		log_error(
		    "jail: cgroup limits need kvmini to run in the root cgroup: it runs in %s, "
		    "and cgroup v2 lets a cgroup with processes of its own give no limits to "
		    "a child",
		    cg->home);
		return -1;
	}
	snprintf(cg->leaf, sizeof(cg->leaf), "%s/kvmini-%d", cg->home, getpid());
	if (mkdir(cg->leaf, 0755) < 0) {
		cg->leaf[0] = 0;
		return cgroup_failed(jail, cg, "creating its cgroup");
	}
	for (int i = 0; i < jail->nlimits; i++) {
		const struct jail_cgroup_limit *l = &jail->limits[i];

		snprintf(want, sizeof(want), "+%.*s", (int)strcspn(l->file, "."), l->file);
		snprintf(what, sizeof(what), "cgroup=%s=%s", l->file, l->value);
		if (write_file(cg->home, "cgroup.subtree_control", want) ||
		    write_file(cg->leaf, l->file, l->value))
			return cgroup_failed(jail, cg, what);
	}
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_file(cg->leaf, "cgroup.procs", pid))
		return cgroup_failed(jail, cg, "joining its cgroup");
	return 0;
}

/* Back to kvmini's own cgroup; the leaf goes once its VMM has. */
static void cgroup_remove(struct jail_cgroup *cg)
{
	char pid[16];

	if (!cg->leaf[0])
		return;
	snprintf(pid, sizeof(pid), "%d", getpid());
	write_file(cg->home, "cgroup.procs", pid);
	/* The VMM's last threads (io_uring's workers) may leave after it is reaped. */
	for (int i = 0; rmdir(cg->leaf) < 0; i++) {
		if (errno != EBUSY || i == 1000) {
			log_warn("jail: removing the cgroup %s: %s", cg->leaf, strerror(errno));
			break;
		}
		usleep(10000);
	}
	cg->leaf[0] = 0;
}

/* The jailer's whole life after the fork: forward signals, reap, clean up. */
static void __attribute__((noreturn))
wait_for_jailed(pid_t child, const sigset_t *waited, struct jail_cgroup *cg)
{
	char pid[16];
	siginfo_t si;
	int status = 0;

	/* The jailer itself stays out of the VM's limits. */
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (cg->leaf[0])
		write_file(cg->home, "cgroup.procs", pid);
	for (;;) {
		if (sigwaitinfo(waited, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD)
			kill(child, si.si_signo);
		else if (waitpid(child, &status, WNOHANG) == child)
			break;
	}
	cgroup_remove(cg);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Opens @name under @dir, refusing symlinks anywhere and paths leaving @dir. */
static int open_beneath(int dir, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
	};

	return syscall(SYS_openat2, dir, name, &how, sizeof(how));
}

/* A directory @name under @dir, made if missing; its fd, or -1 after logging. */
/* Ours, and writable by nobody else: no one can plant anything there. */
static bool private_dir(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       !(st.st_mode & 022);
}

static int jail_subdir(int dir, const char *name)
{
	int fd;

	if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
		fd = -1;
	else
		fd = open_beneath(dir, name, O_DIRECTORY | O_RDONLY, 0);
	if (fd < 0) {
		log_error("jail: %s: %s (a symlink is never followed)", name, strerror(errno));
	} else if (!private_dir(fd)) {
		log_error("jail: %s is not ours alone: refused, as another user could write there",
			  name);
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * The jail directory, made if missing. It must be ours and writable by
 * nobody else: whoever can write there could plant a symlink that the
 * jail's setup, running as root, would otherwise follow.
 */
static int open_jail_root(const struct jail_config *jail)
{
	struct stat st;
	int fd;

	if (mkdir(jail->root, 0755) < 0 && errno != EEXIST)
		fd = -1;
	else
		fd = open(jail->root, O_DIRECTORY | O_NOFOLLOW | O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_error("jail: %s: %s", jail->root, strerror(errno));
	} else if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		log_error("jail: %s is owned by uid %u with mode %03o: refused, as another user "
			  "could write there",
			  jail->root, st.st_uid, st.st_mode & 0777);
	} else {
		return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

/* A device node in the jail with the host node's numbers, for the jail uid. */
static int copy_device(const struct jail_config *jail, int dir, const char *host, const char *name)
{
	struct stat st;

	if (stat(host, &st) < 0)
		return 0; /* optional: /dev/net/tun may be absent */
	if ((unlinkat(dir, name, 0) < 0 && errno != ENOENT) ||
	    mknodat(dir, name, S_IFCHR | 0660, st.st_rdev) < 0 ||
	    fchownat(dir, name, jail->uid, jail->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		log_error("jail: the jail's copy of %s: %s", host, strerror(errno));
		return -1;
	}
	return 0;
}

static int make_devices(const struct jail_config *jail, int root)
{
	int dev = jail_subdir(root, "dev"), net = dev >= 0 ? jail_subdir(dev, "net") : -1;
	int ret = net < 0 || copy_device(jail, dev, "/dev/kvm", "kvm") ||
		  copy_device(jail, net, "/dev/net/tun", "tun");

	if (dev >= 0)
		close(dev);
	if (net >= 0)
		close(net);
	return ret ? -1 : 0;
}

/*
 * Bind-mounts each disk at /disks/N inside the jail and rewrites its path.
 * The target is opened beneath the jail first and mounted on through
 * /proc/self/fd, so no symlink in the jail can redirect the mount.
 */
static int bind_disks(int root, struct vm_spec *spec)
{
	int dir = jail_subdir(root, "disks"), ret = dir < 0 ? -1 : 0;

	for (int i = 0; i < spec->ndisks && !ret; i++) {
		struct disk_config *d = &spec->disks[i];
		char name[16], target[48];
		int fd;

		snprintf(name, sizeof(name), "%d", i);
		fd = open_beneath(dir, name, O_CREAT | O_RDONLY, 0600);
		snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
		if (fd < 0 || mount(d->path, target, NULL, MS_BIND, NULL) < 0) {
			log_error(
			    "jail: binding disk %s at disks/%s: %s (a symlink is never followed)",
			    d->path, name, strerror(errno));
			ret = -1;
		}
		if (fd >= 0)
			close(fd);
		snprintf(d->path, sizeof(d->path), "/disks/%d", i);
	}
	if (dir >= 0)
		close(dir);
	return ret;
}

/* pivot_root(".", "."): the old root ends up stacked on the new, then goes. */
static int pivot(const struct jail_config *jail, int checked)
{
	struct stat now, then;

	if (mount(jail->root, jail->root, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    chdir(jail->root) < 0) {
		log_error("jail: pivot_root into %s: %s", jail->root, strerror(errno));
		return -1;
	}
	/* The path is looked up again: it must still lead to the checked directory. */
	if (stat(".", &now) || fstat(checked, &then) || now.st_dev != then.st_dev ||
	    now.st_ino != then.st_ino) {
		log_error("jail: %s changed while the jail was being set up", jail->root);
		return -1;
	}
	if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
	    chdir("/") < 0) {
		log_error("jail: pivot_root into %s: %s", jail->root, strerror(errno));
		return -1;
	}
	return 0;
}

/* Every fd but stdio, handed-over taps and the console socket. */
static void close_other_fds(const struct vm_spec *spec, const struct vm_host *host)
{
	for (int i = 0; i < spec->nnics; i++)
		if (spec->nics[i].tap_fd >= 0)
			fcntl(spec->nics[i].tap_fd, F_SETFD, 0);
	for (int fd = 3; fd < JAIL_NOFILE; fd++) {
		bool keep = fd == host->console_listen_fd || fd == host->console_read_fd;

		for (int i = 0; i < spec->nnics; i++)
			keep |= spec->nics[i].tap_fd == fd;
		if (!keep)
			close(fd);
	}
}

/*
 * The namespaces the jailer and the VMM share; the mount namespace is the
 * VMM's alone (enter_mount_namespace), so that its pivot_root leaves the
 * jailer the host's view, where it cleans up the cgroup.
 */
static int enter_namespaces(const struct jail_config *jail)
{
	int flags = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
	int fd;

	if (jail->netns_path[0]) {
		fd = open(jail->netns_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
			log_error("jail: joining the network namespace %s: %s", jail->netns_path,
				  strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	if (unshare(flags | (jail->new_netns ? CLONE_NEWNET : 0)) < 0) {
		log_error("jail: unshare: %s (needs root)", strerror(errno));
		return -1;
	}
	return 0;
}

static int enter_mount_namespace(void)
{
	if (unshare(CLONE_NEWNS) < 0) {
		log_error("jail: unshare: %s", strerror(errno));
		return -1;
	}
	/* Before any mount: nothing done in the jail propagates to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		log_error("jail: making / a slave mount: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The jail directory again, from inside the new mount namespace: an fd
 * opened before it names a mount of the old one, which mount(2) refuses
 * as a target. It must still be the directory that was checked.
 */
static int reopen_root(const struct jail_config *jail, int checked)
{
	int fd = open(jail->root, O_DIRECTORY | O_NOFOLLOW | O_RDONLY | O_CLOEXEC);
	struct stat now, then;

	if (fd >= 0 && !fstat(fd, &now) && !fstat(checked, &then) && now.st_dev == then.st_dev &&
	    now.st_ino == then.st_ino) {
		close(checked);
		return fd;
	}
	log_error("jail: %s changed while the jail was being set up", jail->root);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The jailed child, PID 1 of its namespace: into the jail, as the caller. */
static int enter_as_child(const struct jail_config *jail, struct vm_spec *spec,
			  const struct vm_host *host, int root, const sigset_t *mask)
{
	struct rlimit nofile = { JAIL_NOFILE, JAIL_NOFILE };

	/* A jailer that dies (even by SIGKILL) takes its VMM with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (enter_mount_namespace())
		return EXIT_HOST_ERROR;
	root = reopen_root(jail, root);
	if (root < 0 || bind_disks(root, spec) || pivot(jail, root))
		return EXIT_HOST_ERROR;
	close(root);
	sethostname("kvmini", 6);
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		log_warn("jail: RLIMIT_NOFILE: %s", strerror(errno));
	/* Disks never grow: no file may be extended beyond 1 TiB. */
	setrlimit(RLIMIT_FSIZE, &(struct rlimit){ 1ULL << 40, 1ULL << 40 });
	close_other_fds(spec, host);
	clearenv();
	return 0;
}

int jail_enter(const struct jail_config *jail, struct vm_spec *spec, const struct vm_host *host)
{
	struct jail_cgroup cg = { 0 };
	sigset_t waited, old;
	int root = open_jail_root(jail);
	pid_t child;

	if (root < 0)
		return EXIT_BAD_INPUT;
	if (make_devices(jail, root) || cgroup_create(jail, &cg) || enter_namespaces(jail))
		goto fail;
	/* Blocked before the fork: the waiting parent takes them with sigwaitinfo. */
	sigemptyset(&waited);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(&waited, forwarded[i]);
	sigaddset(&waited, SIGCHLD);
	sigprocmask(SIG_BLOCK, &waited, &old);
	/* The new PID namespace starts with our first child, its PID 1. */
	child = fork();
	if (child < 0) {
		log_error("jail: fork: %s", strerror(errno));
		goto fail;
	}
	if (child > 0)
		wait_for_jailed(child, &waited, &cg);
	return enter_as_child(jail, spec, host, root, &old);
fail:
	cgroup_remove(&cg);
	close(root);
	return EXIT_HOST_ERROR;
}

int jail_drop_privileges(const struct jail_config *jail)
{
	if (setgroups(0, NULL) < 0 || setresgid(jail->gid, jail->gid, jail->gid) < 0 ||
	    setresuid(jail->uid, jail->uid, jail->uid) < 0) {
		log_error("jail: dropping to uid %u gid %u: %s", jail->uid, jail->gid,
			  strerror(errno));
		return -1;
	}
	/* A change of credentials clears the parent-death signal: set it again. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	return 0;
}
