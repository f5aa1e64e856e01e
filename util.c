// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/*
 * The console may be in raw mode, where a bare "\n" does not return the
 * carriage; every log line ends in "\r\n" so it reads right either way.
 */
static struct {
	int fd;
	enum log_level level;
	bool show_level;
	pthread_mutex_t guest_lock;
	double guest_tokens;
	uint64_t guest_last_ns, guest_suppressed;
	char last_error[256];
} logger = { .fd = STDERR_FILENO,
	     .level = LOG_INFO,
	     .guest_tokens = 10,
	     .guest_lock = PTHREAD_MUTEX_INITIALIZER };

const char *log_last_error(void)
{
	return logger.last_error;
}

void log_configure(int fd, enum log_level level, bool show_level)
{
	logger.fd = fd;
	logger.level = level;
	logger.show_level = show_level;
}

static void log_line(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = { "", "error: ", "warning: ", "", "debug: " };
	static const char *const name[] = { "", "[Error] ", "[Warning] ", "[Info] ", "[Debug] " };
	char buf[1024];
	int n;

	if (level == LOG_ERROR) {
		va_list copy;

		va_copy(copy, ap);
		pthread_mutex_lock(&logger.guest_lock);
		vsnprintf(logger.last_error, sizeof(logger.last_error), fmt, copy);
		pthread_mutex_unlock(&logger.guest_lock);
		va_end(copy);
	}
	if (level > logger.level)
		return;
	n = snprintf(buf, sizeof(buf), "kvmini: %s%s", logger.show_level ? name[level] : "",
		     logger.show_level ? "" : prefix[level]);
	n += vsnprintf(buf + n, sizeof(buf) - n - 2, fmt, ap);
	if (n > (int)sizeof(buf) - 3)
		n = sizeof(buf) - 3;
	memcpy(buf + n, "\r\n", 2);
	if (write(logger.fd, buf, n + 2) < 0)
		return; /* nowhere left to say it */
}

#define DEFINE_LOG(fn, level)             \
	void fn(const char *fmt, ...)     \
	{                                 \
		va_list ap;               \
                                          \
		va_start(ap, fmt);        \
		log_line(level, fmt, ap); \
		va_end(ap);               \
	}
DEFINE_LOG(log_error, LOG_ERROR)
DEFINE_LOG(log_warn, LOG_WARN)
DEFINE_LOG(log_info, LOG_INFO)

void log_guest(const char *fmt, ...)
{
	uint64_t now = now_ns(), suppressed = 0;
	bool allowed;
	va_list ap;

	pthread_mutex_lock(&logger.guest_lock);
	logger.guest_tokens += (now - logger.guest_last_ns) / 1e9 * 5;
	if (logger.guest_tokens > 10)
		logger.guest_tokens = 10;
	logger.guest_last_ns = now;
	allowed = logger.guest_tokens >= 1;
	if (allowed) {
		logger.guest_tokens--;
		suppressed = logger.guest_suppressed;
		logger.guest_suppressed = 0;
	} else {
		logger.guest_suppressed++;
	}
	pthread_mutex_unlock(&logger.guest_lock);
	if (!allowed)
		return;
	if (suppressed)
		log_warn("(%llu guest-triggered messages suppressed)",
			 (unsigned long long)suppressed);
	va_start(ap, fmt);
	log_line(LOG_WARN, fmt, ap);
	va_end(ap);
}

uint8_t *read_file(const char *path, const char *what, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_error("%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("%s %s: not a regular file", what, path);
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		log_error("%s %s: out of memory", what, path);
		close(fd);
		return NULL;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n <= 0) {
			log_error("%s %s: %s", what, path, n < 0 ? strerror(errno) : "short read");
			free(buf);
			close(fd);
			return NULL;
		}
		done += n;
	}
	close(fd);
	*len = done;
	return buf;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;
	uint64_t mult = MiB;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = KiB;
		end++;
		break;
	case 'm':
	case 'M':
		end++;
		break;
	case 'g':
	case 'G':
		mult = GiB;
		end++;
		break;
	case 't':
	case 'T':
		mult = 1024 * GiB;
		end++;
		break;
	default:
		return -1;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || v > UINT64_MAX / mult)
		return -1;
	*bytes = v * mult;
	return 0;
}

int unix_listen(const char *path, const char *what)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("%s %s: path longer than %zu bytes", what, path,
			  sizeof(addr.sun_path) - 1);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("%s %s: exists and is not a socket", what, path);
			close(fd);
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 || errno == EAGAIN) {
			log_error("%s %s: another VMM is serving it", what, path);
			close(fd);
			return -1;
		}
		unlink(path); /* left by a VMM that died */
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	log_error("%s %s: %s", what, path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int m[6];

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = m[i];
	return (mac[0] & 1) ? -1 : 0; /* a multicast address cannot be a NIC's */
}

void mac_format(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

bool option_next(char **cursor, char **key, char **value)
{
	char *item = *cursor, *eq;

	if (!item)
		return false;
	*cursor = strchr(item, ',');
	if (*cursor)
		*(*cursor)++ = 0;
	if (!*item && !*cursor)
		return false; /* the end, or a trailing comma; "a,,b" yields an empty key */
	eq = strchr(item, '=');
	if (eq)
		*eq++ = 0;
	*key = item;
	*value = eq;
	return true;
}
