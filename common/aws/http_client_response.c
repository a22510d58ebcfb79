// SPDX-License-Identifier: BSD-2-Clause
/*
 * The HTTP/1.1 response parser of http_client.c: a state machine over the
 * bytes the read callback receives (status line, headers, a body by
 * Content-Length, chunks or connection close), with every line and body
 * bounded, that ends the exchange's event loop when the response is whole.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "http_client_private.h"

#define LINE_MAX_BYTES 16384 /* status line or one header */

/* ------------------------------------------------------------------------
 * Response parsing, driven by the read callback
 * ------------------------------------------------------------------------ */

/* Next CRLF-terminated line, or NULL when more bytes are needed. */
static char *next_line(struct exchange *x, struct evbuffer *in)
{
	char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF);

	if (!line && evbuffer_get_length(in) > LINE_MAX_BYTES)
		finish(x, -EPROTO, "response line too long");
	return line;
}

static void parse_status(struct exchange *x, const char *line)
{
	unsigned long code;
	char *end;

	if (strncmp(line, "HTTP/1.", 7) != 0 || !line[7] || line[8] != ' ') {
		finish(x, -EPROTO, "malformed status line");
		return;
	}
	errno = 0;
	code = strtoul(line + 9, &end, 10);
	if (errno || end != line + 12 || code < 100 || code > 599) {
		finish(x, -EPROTO, "malformed status code");
		return;
	}
	x->status = (int)code;
	x->keep_alive = line[7] == '1';
	x->chunked = false;
	x->left = UINT64_MAX; /* no Content-Length seen yet */
	x->phase = PHASE_HEADERS;
}

static bool header_is(const char *line, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	*value = line + n + 1;
	*value += strspn(*value, " \t");
	return true;
}

static void parse_header(struct exchange *x, const char *line)
{
	const char *v;
	char *end;

	if (header_is(line, "Content-Length", &v)) {
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno || end == v || *v == '-' || n > HTTP_BODY_MAX) {
			finish(x, n > HTTP_BODY_MAX ? -EMSGSIZE : -EPROTO,
			       "bad or too large Content-Length");
			return;
		}
		x->left = n;
	} else if (header_is(line, "Transfer-Encoding", &v)) {
		if (strcasestr(v, "chunked"))
			x->chunked = true;
	} else if (header_is(line, "Connection", &v)) {
		if (strcasestr(v, "close"))
			x->keep_alive = false;
		else if (strcasestr(v, "keep-alive"))
			x->keep_alive = true;
	}
}

/* Blank line after the headers: choose how the body is delimited. */
static void end_of_headers(struct exchange *x)
{
	if (x->status < 200) { /* 100 Continue and friends: another status */
		x->phase = PHASE_STATUS;
		return;
	}
	if (strcmp(x->method, "HEAD") == 0 || x->status == 204 ||
	    x->status == 304) {
		x->phase = PHASE_DONE;
	} else if (x->chunked) {
		x->phase = PHASE_CHUNK_SIZE;
	} else if (x->left != UINT64_MAX) {
		x->phase = x->left ? PHASE_BODY : PHASE_DONE;
	} else {
		x->phase = PHASE_BODY_TO_CLOSE;
		x->keep_alive = false;
	}
}

static void parse_chunk_size(struct exchange *x, const char *line)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(line, &end, 16);
	if (errno || end == line || (*end && *end != ';' && *end != ' ')) {
		finish(x, -EPROTO, "malformed chunk size");
		return;
	}
	if (n > HTTP_BODY_MAX ||
	    evbuffer_get_length(x->body) + n > HTTP_BODY_MAX) {
		finish(x, -EMSGSIZE, "response body too large");
		return;
	}
	x->left = n;
	x->phase = n ? PHASE_CHUNK_DATA : PHASE_TRAILERS;
}

/* Moves up to x->left body bytes; true when they are all here. */
static bool take_body(struct exchange *x, struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in);
	size_t n = avail < x->left ? avail : (size_t)x->left;

	if (n && evbuffer_remove_buffer(in, x->body, n) != (int)n) {
		finish(x, -ENOMEM, "out of memory");
		return false;
	}
	x->left -= n;
	return x->left == 0;
}

void http_on_read(struct bufferevent *bev, void *arg)
{
	struct exchange *x = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;

	if (evbuffer_get_length(in))
		x->got_bytes = true;
	while (!x->finished && x->phase != PHASE_DONE) {
		switch (x->phase) {
		case PHASE_STATUS:
			if (!(line = next_line(x, in)))
				return;
			parse_status(x, line);
			free(line);
			break;
		case PHASE_HEADERS:
			if (!(line = next_line(x, in)))
				return;
			if (*line)
				parse_header(x, line);
			else
				end_of_headers(x);
			free(line);
			break;
		case PHASE_BODY:
			if (evbuffer_get_length(x->body) + x->left > HTTP_BODY_MAX) {
				finish(x, -EMSGSIZE, "response body too large");
				return;
			}
			if (!take_body(x, in))
				return;
			x->phase = PHASE_DONE;
			break;
		case PHASE_BODY_TO_CLOSE:
			if (evbuffer_get_length(x->body) + evbuffer_get_length(in) >
			    HTTP_BODY_MAX) {
				finish(x, -EMSGSIZE, "response body too large");
				return;
			}
			evbuffer_add_buffer(x->body, in);
			return; /* until EOF */
		case PHASE_CHUNK_SIZE:
			if (!(line = next_line(x, in)))
				return;
			parse_chunk_size(x, line);
			free(line);
			break;
		case PHASE_CHUNK_DATA:
			if (!take_body(x, in))
				return;
			x->phase = PHASE_CHUNK_END;
			break;
		case PHASE_CHUNK_END:
			if (!(line = next_line(x, in)))
				return;
			if (*line)
				finish(x, -EPROTO, "malformed chunk end");
			else
				x->phase = PHASE_CHUNK_SIZE;
			free(line);
			break;
		case PHASE_TRAILERS:
			if (!(line = next_line(x, in)))
				return;
			if (!*line)
				x->phase = PHASE_DONE;
			free(line);
			break;
		case PHASE_DONE:
			break;
		}
	}
	if (!x->finished && x->phase == PHASE_DONE) {
		/* Bytes past the response mean we lost track: do not reuse. */
		if (evbuffer_get_length(in))
			x->keep_alive = false;
		finish(x, 0, NULL);
	}
}
