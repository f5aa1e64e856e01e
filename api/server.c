// SPDX-License-Identifier: MIT
/*
 * The API socket: one thread, non-blocking clients on its event loop. No client
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
#include "event.h"
#include "util.h"

#define MAX_CLIENTS 32
#define CLIENT_BUF (HTTP_MAX_HEAD + HTTP_MAX_BODY)
#define REQUEST_DEADLINE_NS (10 * 1000000000ULL) /* from a request's first byte */
#define IDLE_TIMEOUT_NS (300 * 1000000000ULL)
struct client {
	int fd; /* -1: slot free */
	struct event ev;
	struct server *srv;
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
	int listen_fd, stop_fd;
	struct event_loop loop;
	struct event listen_ev, stop_ev;
	http_handler handle;
	tick_handler tick;
	void *ctx;
	struct client clients[MAX_CLIENTS];
};

static void accept_clients(struct event *ev, uint32_t events);

static void stop_ready(struct event *ev, uint32_t events)
{
	(void)events;
	event_loop_stop(ev->loop);
}

struct server *server_create(const char *path, http_handler handle, tick_handler tick, void *ctx)
{
	struct server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	srv->handle = handle;
	srv->tick = tick;
	srv->ctx = ctx;
	for (int i = 0; i < MAX_CLIENTS; i++)
		srv->clients[i].fd = -1;
	srv->loop.epoll_fd = -1;
	srv->stop_fd = eventfd(0, EFD_CLOEXEC);
	srv->listen_fd = unix_listen(path, "API socket");
	if (event_loop_init(&srv->loop) < 0 || srv->stop_fd < 0 || srv->listen_fd < 0 ||
	    event_add(&srv->loop, &srv->listen_ev, srv->listen_fd, EPOLLIN, accept_clients, srv) ||
	    event_add(&srv->loop, &srv->stop_ev, srv->stop_fd, EPOLLIN, stop_ready, srv)) {
		server_destroy(srv);
		return NULL;
	}
	return srv;
}

static void drop_client(struct client *c)
{
	event_del(&c->ev);
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

/* Sends what is queued; false when the client is gone. */
static bool flush_out(struct client *c)
{
	while (c->out_done < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_done, c->out_len - c->out_done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EAGAIN) {
			event_set(&c->ev, EPOLLOUT);
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
	event_set(&c->ev, EPOLLIN);
	return true;
}

static bool respond(struct client *c, int status, const char *body)
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
	return flush_out(c);
}

static bool respond_error(struct client *c, int status, const char *msg)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"fault_message\": \"%s\"}", msg);
	c->close_after = true; /* the stream cannot be trusted past a bad request */
	return respond(c, status, body);
}

/* Handles every complete request in the buffer; false to drop the client. */
static bool serve(struct client *c)
{
	struct server *srv = c->srv;

	while (c->len && !c->out) {
		struct http_request req;
		struct http_response resp = { 0 };
		long used = http_parse(c->buf, c->len, &req);
		bool ok;

		if (used < 0)
			return respond_error(c, -used, http_reason(-used));
		if (!used) {
			if (!c->request_start_ns)
				c->request_start_ns = now_ns();
			return true;
		}
		c->close_after = req.close;
		srv->handle(srv->ctx, &req, &resp);
		ok = respond(c, resp.status, resp.body);
		free(resp.body);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		c->request_start_ns = c->len ? now_ns() : 0;
		if (!ok)
			return false;
	}
	return true;
}

static void client_event(struct event *ev, uint32_t events);

static void accept_clients(struct event *ev, uint32_t events)
{
	struct server *srv = ev->ctx;

	(void)events;
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
		c->srv = srv;
		if (event_add(&srv->loop, &c->ev, fd, EPOLLIN, client_event, c) < 0) {
			log_warn("API: watching a client: %s", strerror(errno));
			close(fd);
			c->fd = -1;
		}
	}
}

static void client_event(struct event *ev, uint32_t events)
{
	struct client *c = ev->ctx;
	ssize_t n;

	c->last_active_ns = now_ns();
	if (c->out) {
		if (!flush_out(c) || (!c->out && !serve(c)))
			drop_client(c);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (c->len == sizeof(c->buf)) {
		/* A full buffer that does not parse is over some bound. */
		if (!respond_error(c, 413, "request too large"))
			drop_client(c);
		return;
	}
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		drop_client(c);
		return;
	}
	c->len += n;
	if (!serve(c))
		drop_client(c);
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
			if (!respond_error(c, 408, "request not completed in time") || !c->out)
				drop_client(c);
		} else if (now - c->last_active_ns > IDLE_TIMEOUT_NS) {
			drop_client(c);
		}
	}
}

void server_run(struct server *srv)
{
	uint64_t last_tick = now_ns();

	while (!srv->loop.stop) {
		if (event_loop_run_once(&srv->loop, 1000) < 0) {
			log_error("API: epoll_wait: %s", strerror(errno));
			return;
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
			drop_client(&srv->clients[i]);
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		unlink(srv->path);
	}
	event_loop_close(&srv->loop);
	if (srv->stop_fd >= 0)
		close(srv->stop_fd);
	free(srv);
}
