// SPDX-License-Identifier: MIT
/*
 * The API socket: one thread, non-blocking clients on epoll. No client
 * can hold the server: each has a bounded buffer, a deadline to finish a
 * request it began and an idle timeout, and the server takes a bounded
 * number of them at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/server.h"
#include "util.h"

#define MAX_CLIENTS 32
#define CLIENT_BUF (HTTP_MAX_HEAD + HTTP_MAX_BODY)
#define REQUEST_DEADLINE_NS (10 * 1000000000ULL) /* from a request's first byte */
#define IDLE_TIMEOUT_NS (300 * 1000000000ULL)
#define TAG_LISTEN (-1)
#define TAG_STOP (-2)

struct client {
	int fd; /* -1: slot free */
	char buf[CLIENT_BUF];
	size_t len;
	uint64_t request_start_ns; /* 0: no partial request */
	uint64_t last_active_ns;
	char *out;
	size_t out_len, out_done;
	bool close_after;
};

struct server {
	char path[108];
	int listen_fd, epoll_fd, stop_fd;
	http_handler handle;
	tick_handler tick;
	void *ctx;
	struct client clients[MAX_CLIENTS];
};

struct server *server_create(const char *path, http_handler handle, tick_handler tick, void *ctx)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!srv)
		return NULL;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	srv->handle = handle;
	srv->tick = tick;
	srv->ctx = ctx;
	for (int i = 0; i < MAX_CLIENTS; i++)
		srv->clients[i].fd = -1;
	srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	srv->stop_fd = eventfd(0, EFD_CLOEXEC);
	srv->listen_fd = unix_listen(path, "API socket");
	if (srv->epoll_fd < 0 || srv->stop_fd < 0 || srv->listen_fd < 0) {
		server_destroy(srv);
		return NULL;
	}
	ev.data.u32 = (uint32_t)TAG_LISTEN;
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &ev);
	ev.data.u32 = (uint32_t)TAG_STOP;
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->stop_fd, &ev);
	return srv;
}

static void drop_client(struct server *srv, struct client *c)
{
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

static void watch(struct server *srv, struct client *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = c - srv->clients };

	epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends what is queued; false when the client is gone. */
static bool flush_out(struct server *srv, struct client *c)
{
	while (c->out_done < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_done, c->out_len - c->out_done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EAGAIN) {
			watch(srv, c, EPOLLOUT);
			return true;
		}
		if (n <= 0)
			return false;
		c->out_done += n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_done = 0;
	if (c->close_after)
		return false;
	watch(srv, c, EPOLLIN);
	return true;
}

static bool respond(struct server *srv, struct client *c, int status, const char *body)
{
	size_t body_len = body ? strlen(body) : 0;
	int n;

	free(c->out);
	c->out = malloc(256 + body_len);
	if (!c->out)
		return false;
	n = sprintf(c->out, "HTTP/1.1 %d %s\r\nServer: kvmini\r\nContent-Length: %zu\r\n%s%s\r\n",
		    status, http_reason(status), body_len,
		    body_len ? "Content-Type: application/json\r\n" : "",
		    c->close_after ? "Connection: close\r\n" : "");
	if (body_len)
		memcpy(c->out + n, body, body_len);
	c->out_len = n + body_len;
	c->out_done = 0;
	return flush_out(srv, c);
}

static bool respond_error(struct server *srv, struct client *c, int status, const char *msg)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"fault_message\": \"%s\"}", msg);
	c->close_after = true; /* the stream cannot be trusted past a bad request */
	return respond(srv, c, status, body);
}

/* Handles every complete request in the buffer; false to drop the client. */
static bool serve(struct server *srv, struct client *c)
{
	while (c->len && !c->out) {
		struct http_request req;
		struct http_response resp = { 0 };
		long used = http_parse(c->buf, c->len, &req);
		bool ok;

		if (used < 0)
			return respond_error(srv, c, -used, http_reason(-used));
		if (!used) {
			if (!c->request_start_ns)
				c->request_start_ns = now_ns();
			return true;
		}
		c->close_after = req.close;
		srv->handle(srv->ctx, &req, &resp);
		ok = respond(srv, c, resp.status, resp.body);
		free(resp.body);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		c->request_start_ns = c->len ? now_ns() : 0;
		if (!ok)
			return false;
	}
	return true;
}

static void accept_clients(struct server *srv)
{
	for (;;) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < MAX_CLIENTS && !c; i++)
			if (srv->clients[i].fd < 0)
				c = &srv->clients[i];
		if (!c) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
						   "Content-Length: 0\r\nConnection: close\r\n\r\n";

			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_warn("API: refusing a client: %s", strerror(errno));
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->request_start_ns = 0;
		c->last_active_ns = now_ns();
		c->close_after = false;
		{
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = c - srv->clients };

			epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
		}
	}
}

static void client_event(struct server *srv, struct client *c, uint32_t events)
{
	ssize_t n;

	c->last_active_ns = now_ns();
	if (c->out) {
		if (!flush_out(srv, c) || (!c->out && !serve(srv, c)))
			drop_client(srv, c);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (c->len == sizeof(c->buf)) {
		/* A full buffer that does not parse is over some bound. */
		if (!respond_error(srv, c, 413, "request too large"))
			drop_client(srv, c);
		return;
	}
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		drop_client(srv, c);
		return;
	}
	c->len += n;
	if (!serve(srv, c))
		drop_client(srv, c);
}

static void expire_clients(struct server *srv)
{
	uint64_t now = now_ns();

	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &srv->clients[i];

		if (c->fd < 0)
			continue;
		if (c->request_start_ns && now - c->request_start_ns > REQUEST_DEADLINE_NS &&
		    !c->out) {
			if (!respond_error(srv, c, 408, "request not completed in time") || !c->out)
				drop_client(srv, c);
		} else if (now - c->last_active_ns > IDLE_TIMEOUT_NS) {
			drop_client(srv, c);
		}
	}
}

void server_run(struct server *srv)
{
	uint64_t last_tick = now_ns();

	for (;;) {
		struct epoll_event events[16];
		int n = epoll_wait(srv->epoll_fd, events, ARRAY_SIZE(events), 1000);

		if (n < 0 && errno != EINTR) {
			log_error("API: epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			int tag = (int)events[i].data.u32;

			if (tag == TAG_STOP)
				return;
			if (tag == TAG_LISTEN)
				accept_clients(srv);
			else if (srv->clients[tag].fd >= 0)
				client_event(srv, &srv->clients[tag], events[i].events);
		}
		if (now_ns() - last_tick >= 1000000000ULL) {
			last_tick = now_ns();
			expire_clients(srv);
			if (srv->tick)
				srv->tick(srv->ctx);
		}
	}
}

void server_stop(struct server *srv)
{
	uint64_t one = 1;

	if (write(srv->stop_fd, &one, sizeof(one)) < 0)
		log_warn("API: stopping the server: %s", strerror(errno));
}

void server_destroy(struct server *srv)
{
	if (!srv)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (srv->clients[i].fd >= 0)
			drop_client(srv, &srv->clients[i]);
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		unlink(srv->path);
	}
	if (srv->epoll_fd >= 0)
		close(srv->epoll_fd);
	if (srv->stop_fd >= 0)
		close(srv->stop_fd);
	free(srv);
}
