// SPDX-License-Identifier: MIT
/*
 * A domain's process: the engine spawned detached, its pid file, where it
 * stands, and the record of why it stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/run.h"
#include "util.h"

int mgr_error(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

long unix_request(const char *path, const char *request, char *out, size_t size, int timeout_ms,
		  bool (*complete)(const char *reply))
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = 0;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	out[0] = 0;
	while (len < size - 1 && now_ns() < deadline && !(complete && complete(out))) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fd, out + len, size - 1 - len);
		if (n <= 0)
			break;
		len += n;
		out[len] = 0;
	}
	close(fd);
	return len;
}

int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n < 0 ? -1 : 0;
}

int write_text(const char *path, const char *text)
{
	char tmp[700];
	int fd;
	bool ok;

	/* Write-then-rename: a crash leaves the old file or the new, never half. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && !fsync(fd);
	if (fd >= 0)
		close(fd);
	return ok && !rename(tmp, path) ? 0 : -1;
}

const struct backend_ops *backend_of(const struct domain *d)
{
	return d->backend == BACKEND_QEMU ? &backend_qemu : &backend_kvmini;
}

/*
 * The pid of the domain's process, or 0: the pid file may be stale (a
 * host crash, a reused pid), so the process must be alive and its command
 * line must name this domain's directory.
 */
pid_t live_pid(const struct domain_paths *p)
{
	char buf[32], cmdline[8192], path[64], dir[sizeof(p->dir) + 1];
	pid_t pid;
	int fd;
	ssize_t n;

	if (read_text(p->pid, buf, sizeof(buf)) || (pid = atoi(buf)) <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, cmdline, sizeof(cmdline) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n; i++)
		if (!cmdline[i])
			cmdline[i] = ' ';
	cmdline[n] = 0;
	/* The directory as a whole path component: domain "a" is not "ab". */
	snprintf(dir, sizeof(dir), "%s/", p->dir);
	return strstr(cmdline, dir) ? pid : 0;
}

static const char *reason_of(int exit_code)
{
	switch (exit_code) {
	case 0:
		return "shutdown";
	case 8:
		return "rebooted (on_reboot destroy)";
	case 10:
		return "crashed";
	default:
		return exit_code > 128 ? "destroyed" : "exited";
	}
}

/* A zombie counts as gone: the VMM is reparented, and its reaper may be slow. */
bool alive(pid_t pid)
{
	char path[64], stat[256];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (kill(pid, 0) || read_text(path, stat, sizeof(stat)))
		return false;
	return !strstr(stat, ") Z ");
}

void wait_gone(pid_t pid, int ms)
{
	for (int i = 0; i < ms / 10 && alive(pid); i++)
		usleep(10000);
}

void stopped(const struct domain *d, const struct domain_paths *p, const char *reason)
{
	char why[160];

	snprintf(why, sizeof(why), "%s\n", reason);
	write_text(p->reason, why);
	unlink(p->pid);
	/* Taps the manager made for bridges go with the run. */
	for (int i = 0; i < d->nnics; i++) {
		struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
		int fd;

		if (!d->nics[i].bridge || (fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0)
			continue;
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", d->nics[i].tap);
		if (ioctl(fd, TUNSETIFF, &ifr) == 0)
			ioctl(fd, TUNSETPERSIST, 0);
		close(fd);
	}
}

/*
 * Where the domain stands. A process whose guest has stopped (kvmini's API
 * and QEMU's -no-shutdown keep it answering) is reaped here, with the
 * reason kept; a process that vanished is recorded as crashed.
 */
enum run_state domain_state(const struct domain *d, const struct domain_paths *p, char *reason,
			    size_t len)
{
	struct run_info info = { 0 };
	pid_t pid = live_pid(p);

	if (!pid) {
		if (!access(p->pid, F_OK))
			stopped(d, p, "crashed (the VMM process died)");
		if (read_text(p->reason, reason, len))
			snprintf(reason, len, "never started");
		reason[strcspn(reason, "\n")] = 0;
		return STATE_SHUTOFF;
	}
	if (backend_of(d)->info(d, p, &info)) {
		snprintf(reason, len, "starting");
		return STATE_RUNNING;
	}
	if (info.state != STATE_EXITED) {
		snprintf(reason, len, info.state == STATE_PAUSED ? "user" : "booted");
		return info.state;
	}
	snprintf(reason, len, "%s", reason_of(info.exit_code));
	kill(pid, SIGTERM);
	wait_gone(pid, 3000);
	stopped(d, p, reason);
	return STATE_SHUTOFF;
}

const char *state_name(enum run_state s)
{
	return s == STATE_RUNNING ? "running" : s == STATE_PAUSED ? "paused" : "shut off";
}

int make_bridge_taps(const struct domain *d)
{
	for (int i = 0; i < d->nnics; i++) {
		struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
		int fd, sock, index;

		if (!d->nics[i].bridge)
			continue;
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", d->nics[i].tap);
		if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
			if (fd >= 0)
				close(fd);
			return mgr_error("interface %s: cannot create the tap: %s", d->nics[i].tap,
					 strerror(errno));
		}
		close(fd);
		sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ioctl(sock, SIOCGIFINDEX, &ifr);
		index = ifr.ifr_ifindex;
		ioctl(sock, SIOCGIFFLAGS, &ifr);
		ifr.ifr_flags |= IFF_UP;
		ioctl(sock, SIOCSIFFLAGS, &ifr);
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", d->nics[i].source_bridge);
		ifr.ifr_ifindex = index;
		if (ioctl(sock, SIOCBRADDIF, &ifr) < 0) {
			close(sock);
			return mgr_error("interface %s: cannot add it to bridge %s: %s",
					 d->nics[i].tap, d->nics[i].source_bridge, strerror(errno));
		}
		close(sock);
	}
	return 0;
}

void print_log_tail(const char *path)
{
	char buf[4096];

	if (!read_text(path, buf, sizeof(buf)) && buf[0])
		fprintf(stderr, "%s", strlen(buf) > 1500 ? buf + strlen(buf) - 1500 : buf);
}

/* Spawns the engine detached (its own session), as a grandchild: no zombie. */
int spawn(const struct domain *d, const struct domain_paths *p)
{
	char *argv[256];
	int n = backend_of(d)->argv(d, p, argv, 256), status;
	pid_t child;

	if (n < 0)
		return mgr_error("domain '%s': cannot build the %s command line", d->name,
				 backend_of(d)->name);
	unlink(p->reason);
	child = fork();
	if (child == 0) {
		pid_t grandchild = fork();
		char pid[16];
		int log;

		if (grandchild > 0) {
			snprintf(pid, sizeof(pid), "%d\n", grandchild);
			_exit(write_text(p->pid, pid) ? 1 : 0);
		}
		if (grandchild < 0)
			_exit(1);
		setsid();
		/* The guest's console goes here: private, and capped by the VMM. */
		log = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log >= 0)
			fchmod(log, 0600);
		dup2(open("/dev/null", O_RDONLY), STDIN_FILENO);
		dup2(log, STDOUT_FILENO);
		dup2(log, STDERR_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return mgr_error("domain '%s': cannot start its process", d->name);
	return 0;
}
