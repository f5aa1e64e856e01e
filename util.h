/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_UTIL_H
#define KVMINI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Process exit codes. Odd values 1..127 are reserved for the test device,
 * which mirrors QEMU's isa-debug-exit: a guest write of v exits with
 * (v << 1) | 1, so one probe guest gives the same status under both VMMs.
 */
enum kvmini_exit {
	EXIT_POWEROFF = 0,
	EXIT_BAD_INPUT = 2, /* bad argument, kernel, initrd or config */
	EXIT_HOST_ERROR = 4, /* a host syscall failed */
	EXIT_NO_KVM = 6, /* /dev/kvm missing, inaccessible or lacking a capability */
	EXIT_REBOOT = 8, /* guest asked for a reset (default --reboot=exit) */
	EXIT_CRASH = 10, /* triple fault, KVM internal error or failed entry */
	EXIT_QUIT = 12, /* the user typed the console escape (Ctrl-A x) */
};

#define KVMINI_VERSION "0.1.0"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))
#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

/* Little-endian loads and stores of 1 to 8 bytes: guest-visible layouts. */
static inline uint64_t load_le(const uint8_t *data, uint32_t size)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < size && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

static inline void store_le(uint8_t *data, uint32_t size, uint64_t v)
{
	for (uint32_t i = 0; i < size && i < 8; i++)
		data[i] = v >> (8 * i);
}

/* One named counter of the metrics. */
struct metric {
	const char *name;
	uint64_t value;
};

enum log_level {
	LOG_OFF,
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG
};

/* Where log lines go (an fd, stderr by default) and from which level. */
void log_configure(int fd, enum log_level level, bool show_level);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last error logged, whatever the level: for the API's fault messages. */
const char *log_last_error(void);
/*
 * A warning the guest can provoke at will: at most a burst of 10, then 5 a
 * second, with a count of the ones it suppressed.
 */
void log_guest(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole file; NULL with a logged error naming @what on failure. */
uint8_t *read_file(const char *path, const char *what, size_t *len);

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t now_ns(void);

/*
 * A listening, non-blocking Unix socket at @path. A socket file left by a
 * dead process is replaced; a live server's, or any other file, is not
 * touched. Returns the fd, or -1 after logging with @what.
 */
int unix_listen(const char *path, const char *what);

/* Parses "512", "512M", "2G", "1024K" into bytes; -1 when malformed. */
int parse_size(const char *s, uint64_t *bytes);

/* Parses a unicast "aa:bb:cc:dd:ee:ff"; -1 when malformed or multicast. */
int mac_parse(const char *s, uint8_t mac[6]);
/* Writes "aa:bb:cc:dd:ee:ff" and its NUL into @out. */
void mac_format(const uint8_t mac[6], char out[18]);

/*
 * Splits the next "key=value" or "flag" item off a comma-separated option
 * string (the CLI's --disk path=F,ro and the like) in place. Returns false
 * at the end; *@value is NULL for a flag.
 */
bool option_next(char **cursor, char **key, char **value);

#endif
