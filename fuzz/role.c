// SPDX-License-Identifier: MIT
/*
 * The fuzz targets run kvmini's code on a thread holding the seccomp list
 * of the thread that runs it in the VMM, in trap mode: a syscall outside
 * the list raises SIGSYS, which is reported as a crash of libFuzzer's own
 * thread, so the input that caused it is saved like any other.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/futex.h>

#include "fuzz/fuzz.h"
#include "security/seccomp.h"

struct role_worker {
	pthread_t thread;
	enum thread_role role;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void (*fn)(void *);
	void *arg;
	bool busy;
};

static pthread_t fuzzer_thread;
static struct role_worker workers[ROLE_API + 1];

static void forbidden_syscall(int sig, siginfo_t *si, void *ctx)
{
	static int never;
	char msg[128];
	int n;

	(void)sig;
	(void)ctx;
	n = snprintf(msg, sizeof(msg),
		     "==kvmini fuzz: seccomp: syscall %d is not in the list of thread %ld\n",
		     si->si_syscall, (long)syscall(SYS_gettid));
	if (write(STDERR_FILENO, msg, n) < 0)
		n = 0;
	/* libFuzzer's thread reports the crash; this one waits for the end. */
	pthread_kill(fuzzer_thread, SIGABRT);
	for (;;)
		syscall(SYS_futex, &never, FUTEX_WAIT, 0, NULL, NULL, 0);
}

static void *worker_main(void *arg)
{
	struct role_worker *w = arg;

	if (seccomp_apply(w->role))
		abort();
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->busy)
			pthread_cond_wait(&w->cond, &w->lock);
		w->fn(w->arg);
		w->busy = false;
		pthread_cond_broadcast(&w->cond);
	}
	return NULL;
}

/* The first call sets trap mode and the SIGSYS handler, for every thread after it. */
void fuzz_seccomp_init(void)
{
	struct sigaction sa = { .sa_sigaction = forbidden_syscall, .sa_flags = SA_SIGINFO };

	if (fuzzer_thread)
		return;
	fuzzer_thread = pthread_self();
	seccomp_set_mode(SECCOMP_TRAP);
	sigaction(SIGSYS, &sa, NULL);
}

void fuzz_as(enum thread_role role, void (*fn)(void *), void *arg)
{
	struct role_worker *w = &workers[role];

	fuzz_seccomp_init();
	if (!w->fn) {
		w->role = role;
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->cond, NULL);
		w->fn = fn;
		if (pthread_create(&w->thread, NULL, worker_main, w))
			abort();
	}
	pthread_mutex_lock(&w->lock);
	w->fn = fn;
	w->arg = arg;
	w->busy = true;
	pthread_cond_broadcast(&w->cond);
	while (w->busy)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}
