// SPDX-License-Identifier: MIT
/*
 * The HTTP/1.1 request parser of the API socket. It is the most exposed
 * code in kvmini, so it accepts only what the API needs: a request line, a
 * few headers, and a body sized by Content-Length, each within a fixed
 * bound. Everything else gets a status, never a guess.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/http.h"

static const char *find_crlf(const char *p, const char *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return p;
	return NULL;
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return false;
	for (*value = line + n + 1; *value < line + len && (**value == ' ' || **value == '\t');)
		(*value)++;
	return true;
}

static bool value_is(const char *value, const char *end, const char *token)
{
	size_t n = strlen(token);

	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return (size_t)(end - value) == n && !strncasecmp(value, token, n);
}

static long parse_request_line(const char *p, const char *eol, struct http_request *req)
{
	const char *sp1 = memchr(p, ' ', eol - p), *sp2;
	size_t n;

	if (!sp1 || sp1 == p || (size_t)(sp1 - p) >= sizeof(req->method))
		return -400;
	sp2 = memchr(sp1 + 1, ' ', eol - sp1 - 1);
	if (!sp2 || sp2 == sp1 + 1 || sp1[1] != '/')
		return -400;
	n = sp2 - sp1 - 1;
	if (n >= sizeof(req->path))
		return -414;
	for (const char *m = p; m < sp1; m++)
		if (*m < 'A' || *m > 'Z')
			return -400;
	memcpy(req->method, p, sp1 - p);
	req->method[sp1 - p] = 0;
	memcpy(req->path, sp1 + 1, n);
	req->path[n] = 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)req->path[i] <= ' ' || req->path[i] == 0x7f)
			return -400;
	if ((size_t)(eol - sp2 - 1) != 8 || strncmp(sp2 + 1, "HTTP/", 5) || sp2[7] != '.' ||
	    sp2[6] < '0' || sp2[6] > '9' || sp2[8] < '0' || sp2[8] > '9')
		return -400;
	if (sp2[6] != '1' || (sp2[8] != '1' && sp2[8] != '0'))
		return -505;
	req->close = sp2[8] == '0';
	return 0;
}

long http_parse(const char *buf, size_t len, struct http_request *req)
{
	const char *end = buf + (len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD);
	const char *p = buf, *eol, *value;
	bool has_length = false;
	unsigned long length = 0;
	long err;

	memset(req, 0, sizeof(*req));
	/* Leading blank lines are allowed between keep-alive requests. */
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	eol = find_crlf(p, end);
	if (!eol)
		return len >= HTTP_MAX_HEAD ? -431 : 0;
	err = parse_request_line(p, eol, req);
	if (err)
		return err;
	for (p = eol + 2;; p = eol + 2) {
		eol = find_crlf(p, end);
		if (!eol)
			return len >= HTTP_MAX_HEAD ? -431 : 0;
		if (eol == p)
			break;
		if (*p == ' ' || *p == '\t')
			return -400; /* obsolete line folding */
		if (header_is(p, eol - p, "Content-Length", &value)) {
			char digits[16];
			size_t n = eol - value;
			char *stop;

			while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
				n--;
			if (has_length || !n || n >= sizeof(digits))
				return n >= sizeof(digits) ? -413 : -400;
			memcpy(digits, value, n);
			digits[n] = 0;
			if (digits[0] < '0' || digits[0] > '9')
				return -400;
			length = strtoul(digits, &stop, 10);
			if (*stop)
				return -400;
			has_length = true;
		} else if (header_is(p, eol - p, "Transfer-Encoding", &value)) {
			return -501;
		} else if (header_is(p, eol - p, "Connection", &value)) {
			if (value_is(value, eol, "close"))
				req->close = true;
			else if (value_is(value, eol, "keep-alive"))
				req->close = false;
		} else if (!memchr(p, ':', eol - p)) {
			return -400;
		}
	}
	if (length > HTTP_MAX_BODY)
		return -413;
	if (!has_length && (!strcmp(req->method, "PUT") || !strcmp(req->method, "PATCH")))
		return -411;
	p = eol + 2;
	if ((size_t)(buf + len - p) < length)
		return 0;
	req->body = p;
	req->body_len = length;
	return p + length - buf;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}
