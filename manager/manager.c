// SPDX-License-Identifier: MIT
/*
 * The manager: virsh-style commands over libvirt domain XML, with no
 * daemon. Each domain is a directory under the state directory (its XML,
 * pid file, control and console sockets, log, and why it last stopped);
 * each running domain is one kvmini or QEMU process; every command takes
 * the domain's flock, so concurrent commands serialize.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "manager/backend.h"
#include "manager/domain.h"
#include "manager/manager.h"
#include "manager/run.h"
#include "util.h"

static char state_dir[400];

static void domain_paths(const char *name, struct domain_paths *p)
{
	snprintf(p->dir, sizeof(p->dir), "%s/%s", state_dir, name);
#define PATH(field, file) snprintf(p->field, sizeof(p->field), "%s/" file, p->dir)
	PATH(xml, "domain.xml");
	PATH(pid, "pid");
	PATH(api, "api.sock");
	PATH(qmp, "qmp.sock");
	PATH(console, "console.sock");
	PATH(log, "log");
	PATH(reason, "reason");
	PATH(config, "vm.json");
	PATH(vsock, "vsock.sock");
#undef PATH
}

/* The state tree is private: domain XML, logs and sockets are the operator's. */
static int mkdirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(buf, 0700);
		*p = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* Loads a defined domain; prints virsh's complaint when there is none. */
static int load_domain(const char *name, struct domain *d, struct domain_paths *p)
{
	char xml[65536], msg[512];

	domain_paths(name, p);
	if (strchr(name, '/') || read_text(p->xml, xml, sizeof(xml)))
		return mgr_error("failed to get domain '%s'", name);
	if (domain_parse(xml, strlen(xml), p->xml, d, msg, sizeof(msg)))
		return mgr_error("%s", msg);
	return 0;
}

/* The domain's lock, held until the process exits or unlocks. */
static int lock_domain(const struct domain_paths *p)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", p->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return -1;
	return fd;
}

/*
 * Loads a domain, takes its lock (released by close(*@lock)) and reads its
 * state and reason. Returns 0, or 1 after printing why.
 */
static int open_domain(const char *name, struct domain *d, struct domain_paths *p, int *lock,
		       enum run_state *s, char *reason, size_t len)
{
	if (load_domain(name, d, p))
		return 1;
	*lock = lock_domain(p);
	*s = domain_state(d, p, reason, len);
	return 0;
}

static int cmd_start(const char *name, bool console);
static int cmd_console(const char *name);

static int cmd_define(const char *file)
{
	char xml[65536], msg[512], old_xml[65536];
	struct domain d, old;
	struct domain_paths p;
	char *out;
	int fd = open(file, O_RDONLY | O_CLOEXEC), lock;
	ssize_t n = fd >= 0 ? read(fd, xml, sizeof(xml) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return mgr_error("failed to open %s: %s", file, strerror(errno));
	if (n == sizeof(xml) - 1)
		return mgr_error("%s: larger than 64 KiB", file);
	xml[n] = 0;
	if (domain_parse(xml, n, file, &d, msg, sizeof(msg)))
		return mgr_error("%s", msg);
	domain_paths(d.name, &p);
	/* chmod: a domain directory made by an older kvmini was 0755. */
	if (mkdirs(p.dir) || chmod(p.dir, 0700))
		return mgr_error("cannot create %s: %s", p.dir, strerror(errno));
	lock = lock_domain(&p);
	/* Redefining keeps the UUID unless the XML names one. */
	if (!strstr(xml, "<uuid>") && !read_text(p.xml, old_xml, sizeof(old_xml)) &&
	    !domain_parse(old_xml, strlen(old_xml), p.xml, &old, msg, sizeof(msg)))
		strcpy(d.uuid, old.uuid);
	out = domain_format(&d);
	if (!out || write_text(p.xml, out)) {
		free(out);
		close(lock);
		return mgr_error("cannot write %s", p.xml);
	}
	free(out);
	close(lock);
	printf("Domain '%s' defined from %s\n", d.name, file);
	return 0;
}

static int cmd_undefine(const char *name)
{
	struct domain d;
	struct domain_paths p;
	char reason[128], path[800];
	DIR *dir;
	struct dirent *e;
	enum run_state s;
	int lock;

	if (open_domain(name, &d, &p, &lock, &s, reason, sizeof(reason)))
		return 1;
	if (s != STATE_SHUTOFF) {
		close(lock);
		return mgr_error("domain '%s' is active: destroy or shut it down first", name);
	}
	dir = opendir(p.dir);
	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", p.dir, e->d_name);
		unlink(path);
	}
	if (dir)
		closedir(dir);
	rmdir(p.dir);
	close(lock);
	printf("Domain '%s' has been undefined\n", name);
	return 0;
}

static int cmd_start(const char *name, bool console)
{
	struct domain d;
	struct domain_paths p;
	char reason[128];
	enum run_state s;
	int lock;

	if (open_domain(name, &d, &p, &lock, &s, reason, sizeof(reason)))
		return 1;
	if (s != STATE_SHUTOFF) {
		close(lock);
		return mgr_error("Requested operation is not valid: domain '%s' is already active",
				 name);
	}
	if (make_bridge_taps(&d) || spawn(&d, &p)) {
		close(lock);
		return 1;
	}
	/* Started means its control socket answers, or it failed trying. */
	for (int i = 0; i < 250; i++) {
		struct run_info info;
		char pid[16];

		/* Before its exec the child is still "kvmini start": judge by pid. */
		if (read_text(p.pid, pid, sizeof(pid)) || !alive(atoi(pid)))
			break;
		if (!backend_of(&d)->info(&d, &p, &info))
			break;
		usleep(20000);
	}
	s = domain_state(&d, &p, reason, sizeof(reason));
	close(lock);
	if (s == STATE_SHUTOFF) {
		print_log_tail(p.log);
		return mgr_error("failed to start domain '%s' (%s); its log is %s", name, reason,
				 p.log);
	}
	printf("Domain '%s' started\n", name);
	return console ? cmd_console(name) : 0;
}

static int cmd_stop(const char *name, const char *how, int timeout_s)
{
	struct domain d;
	struct domain_paths p;
	char reason[128];
	enum run_state s;
	pid_t pid;
	int lock;
	bool force = !strcmp(how, "destroy");

	if (open_domain(name, &d, &p, &lock, &s, reason, sizeof(reason)))
		return 1;
	if (s == STATE_SHUTOFF) {
		close(lock);
		return mgr_error("Requested operation is not valid: domain '%s' is not running",
				 name);
	}
	/* 0 when the VMM ended after the state was read: kill(0) would
	 * signal the manager's own process group. */
	pid = live_pid(&p);
	if (force) {
		if (pid > 0) {
			kill(pid, SIGTERM);
			wait_gone(pid, 5000);
		}
		if (pid > 0 && alive(pid)) {
			kill(pid, SIGKILL);
			wait_gone(pid, 2000);
		}
		stopped(&d, &p, "destroyed");
		close(lock);
		printf("Domain '%s' destroyed\n", name);
		return 0;
	}
	if (backend_of(&d)->request_shutdown(&p, !strcmp(how, "reboot"))) {
		close(lock);
		return mgr_error("domain '%s' did not take the %s request", name, how);
	}
	if (!strcmp(how, "reboot")) {
		close(lock);
		printf("Domain '%s' is being rebooted\n", name);
		return 0;
	}
	for (int i = 0; i < timeout_s * 10; i++) {
		if (domain_state(&d, &p, reason, sizeof(reason)) == STATE_SHUTOFF) {
			close(lock);
			printf("Domain '%s' is being shutdown\n", name);
			return 0;
		}
		usleep(100000);
	}
	close(lock);
	return mgr_error("domain '%s' did not shut down within %d s (destroy forces it)", name,
			 timeout_s);
}

static int cmd_pause(const char *name, bool pause)
{
	struct domain d;
	struct domain_paths p;
	char reason[128];
	enum run_state s;
	int lock, ret;

	if (open_domain(name, &d, &p, &lock, &s, reason, sizeof(reason)))
		return 1;
	if (s == STATE_SHUTOFF || (s == STATE_PAUSED) == pause) {
		close(lock);
		return mgr_error("Requested operation is not valid: domain '%s' is %s", name,
				 state_name(s));
	}
	ret = backend_of(&d)->pause(&p, pause);
	close(lock);
	if (ret)
		return mgr_error("domain '%s' did not %s", name, pause ? "pause" : "resume");
	printf("Domain '%s' %s\n", name, pause ? "suspended" : "resumed");
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_list(bool all, bool as_json)
{
	DIR *dir = opendir(state_dir);
	char *names[1024];
	int n = 0;
	struct dirent *e;
	json_t *list = json_array();

	while (dir && (e = readdir(dir)) && n < 1024)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	if (dir)
		closedir(dir);
	qsort(names, n, sizeof(names[0]), compare_names);
	if (!as_json)
		printf(" %-7s %-24s %s\n--------------------------------------------------\n", "Id",
		       "Name", "State");
	for (int i = 0; i < n; i++) {
		struct domain d;
		struct domain_paths p;
		char reason[128], id[16], msg[512], xml[65536];
		enum run_state s;
		int lock;

		domain_paths(names[i], &p);
		if (read_text(p.xml, xml, sizeof(xml)) ||
		    domain_parse(xml, strlen(xml), p.xml, &d, msg, sizeof(msg)))
			continue;
		lock = lock_domain(&p);
		s = domain_state(&d, &p, reason, sizeof(reason));
		close(lock);
		if (s == STATE_SHUTOFF && !all)
			continue;
		snprintf(id, sizeof(id), "%d", live_pid(&p));
		if (as_json)
			json_array_append_new(
			    list, json_pack("{s:s,s:s,s:s,s:s,s:s,s:i}", "name", d.name, "uuid",
					    d.uuid, "state", state_name(s), "reason", reason,
					    "backend", backend_of(&d)->name, "pid", live_pid(&p)));
		else
			printf(" %-7s %-24s %s%s%s%s\n", s == STATE_SHUTOFF ? "-" : id, d.name,
			       state_name(s), s == STATE_SHUTOFF ? " (" : "",
			       s == STATE_SHUTOFF ? reason : "", s == STATE_SHUTOFF ? ")" : "");
	}
	if (as_json) {
		char *text = json_dumps(list, JSON_INDENT(2));

		puts(text);
		free(text);
	}
	json_decref(list);
	for (int i = 0; i < n; i++)
		free(names[i]);
	return 0;
}

static int cmd_dominfo(const char *name)
{
	struct domain d;
	struct domain_paths p;
	char reason[128], id[16];
	enum run_state s;
	int lock;

	if (open_domain(name, &d, &p, &lock, &s, reason, sizeof(reason)))
		return 1;
	close(lock);
	snprintf(id, sizeof(id), "%d", live_pid(&p));
	printf("Id:             %s\n", s == STATE_SHUTOFF ? "-" : id);
	printf("Name:           %s\nUUID:           %s\nOS Type:        hvm\n"
	       "State:          %s\nReason:         %s\nCPU(s):         %u\n"
	       "Max memory:     %llu KiB\nUsed memory:    %llu KiB\nPersistent:     yes\n"
	       "Autostart:      disable\nBackend:        %s%s\nLog:            %s\n",
	       d.name, d.uuid, state_name(s), reason, d.vcpus, (unsigned long long)d.memory_kib,
	       (unsigned long long)d.current_memory_kib, backend_of(&d)->name,
	       d.backend == BACKEND_QEMU ? " (TCG)" : "", p.log);
	return 0;
}

static int cmd_dumpxml(const char *name)
{
	struct domain d;
	struct domain_paths p;
	char *xml;

	if (load_domain(name, &d, &p))
		return 1;
	xml = domain_format(&d);
	fputs(xml, stdout);
	free(xml);
	return 0;
}

/* Relays the terminal and the console socket until Ctrl-] or the VM goes. */
static int cmd_console(const char *name)
{
	struct domain d;
	struct domain_paths p;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO);
	int fd;

	if (load_domain(name, &d, &p))
		return 1;
	if (strlen(p.console) >= sizeof(addr.sun_path))
		return mgr_error("%s: path too long for a socket", p.console);
	memcpy(addr.sun_path, p.console, strlen(p.console) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (fd >= 0)
			close(fd);
		return mgr_error("domain '%s' has no console to attach to (is it running?)", name);
	}
	fprintf(stderr, "Connected to domain '%s'\nEscape character is ^] (Ctrl + ])\n", name);
	if (tty) {
		tcgetattr(STDIN_FILENO, &saved);
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	for (;;) {
		struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
					 { .fd = fd, .events = POLLIN } };
		char buf[4096];
		ssize_t n;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0 || write(STDOUT_FILENO, buf, n) != n)
				break;
		}
		if (fds[0].revents) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0)
				break;
			esc = memchr(buf, 0x1d, n);
			if (esc)
				n = esc - buf;
			if (n && write(fd, buf, n) != n)
				break;
			if (esc)
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(fd);
	fputc('\n', stderr);
	return 0;
}

static void default_state_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		snprintf(state_dir, sizeof(state_dir), "/var/lib/kvmini");
	else if (xdg && *xdg)
		snprintf(state_dir, sizeof(state_dir), "%s/kvmini", xdg);
	else
		snprintf(state_dir, sizeof(state_dir), "%s/.local/state/kvmini",
			 home ? home : "/tmp");
}

int manager_main(int argc, char **argv)
{
	const char *cmd, *arg = NULL;
	bool all = false, as_json = false, console = false;
	int timeout_s = 60;

	default_state_dir();
	if (argc >= 2 && !strcmp(argv[0], "--state-dir")) {
		snprintf(state_dir, sizeof(state_dir), "%s", argv[1]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 1)
		return mgr_error("a command is needed (see kvmini --help)");
	cmd = argv[0];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all"))
			all = true;
		else if (!strcmp(argv[i], "--json"))
			as_json = true;
		else if (!strcmp(argv[i], "--console"))
			console = true;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_s = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--state-dir") && i + 1 < argc)
			snprintf(state_dir, sizeof(state_dir), "%s", argv[++i]);
		else if (argv[i][0] == '-' || arg)
			return mgr_error("%s: unexpected argument '%s'", cmd, argv[i]);
		else
			arg = argv[i];
	}
	if (mkdirs(state_dir))
		return mgr_error("cannot create the state directory %s: %s", state_dir,
				 strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "list"))
		return cmd_list(all, as_json);
	if (!arg)
		return mgr_error("%s: which domain? (kvmini %s %s)", cmd, cmd,
				 !strcmp(cmd, "define") ? "FILE.xml" : "NAME");
	if (!strcmp(cmd, "define"))
		return cmd_define(arg);
	if (!strcmp(cmd, "undefine"))
		return cmd_undefine(arg);
	if (!strcmp(cmd, "start"))
		return cmd_start(arg, console);
	if (!strcmp(cmd, "shutdown") || !strcmp(cmd, "destroy") || !strcmp(cmd, "reboot"))
		return cmd_stop(arg, cmd, timeout_s);
	if (!strcmp(cmd, "suspend") || !strcmp(cmd, "resume"))
		return cmd_pause(arg, !strcmp(cmd, "suspend"));
	if (!strcmp(cmd, "dominfo"))
		return cmd_dominfo(arg);
	if (!strcmp(cmd, "dumpxml"))
		return cmd_dumpxml(arg);
	if (!strcmp(cmd, "console"))
		return cmd_console(arg);
	return mgr_error("unknown command '%s'", cmd);
}
