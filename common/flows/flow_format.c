// SPDX-License-Identifier: BSD-2-Clause
/*
 * flow_format.h: one table of fields drives the JSON keys, the table's
 * columns and the sort.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "flow_format.h"

enum kind {
	NUM,      /* a u64 of the record */
	DURATION, /* ms, 3 decimals; unknown: null */
	ADDR,
	STATE,
	GROUP,
};

struct field {
	const char *name;
	enum kind kind;
	int width;           /* table column */
	size_t off;          /* NUM: offset of a __u64 or __u32 */
	size_t size;         /* NUM: 4 or 8 */
	int local;           /* ADDR: laddr, else raddr */
};

#define U(f, w) { #f, NUM, w, offsetof(struct flow_record, f),                \
		  sizeof(((struct flow_record *)0)->f), 0 }

/* In the order the issue lists them: who, then the kernel's, then ours. */
static const struct field fields[] = {
	{ "laddr", ADDR, 15, 0, 0, 1 },
	U(lport, 5),
	{ "raddr", ADDR, 15, 0, 0, 0 },
	U(rport, 5),
	{ "state", STATE, 11, 0, 0, 0 },
	{ "group", GROUP, 0, 0, 0, 0 },
	{ "duration_ms", DURATION, 11, 0, 0, 0 },
	U(srtt_us, 8),
	U(min_rtt_us, 8),
	U(flight_size, 6),
	U(rwnd, 8),
	U(cwnd, 6),
	U(mss, 5),
	U(retrans_packets, 7),
	U(bytes_sent, 11),
	U(bytes_received, 11),
	U(fast_retrans, 6),
	U(timeouts, 6),
	U(app_wqueue, 9),
	U(app_wqueue_max, 9),
	U(rtt_samples, 8),
	U(rtt_sum_us, 11),
	U(read_bytes, 11),
	U(write_bytes, 11),
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

int flow_field_find(const char *name)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (!strcmp(fields[i].name, name))
			return (int)i;
	return -1;
}

const char *flow_field_names(void)
{
	static char names[512];
	size_t i, n = 0;

	if (names[0])
		return names;
	for (i = 0; i < NFIELDS && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
				      i ? ", " : "", fields[i].name);
	return names;
}

static uint64_t num(const struct flow_record *r, const struct field *f)
{
	const char *p = (const char *)r + f->off;
	uint32_t v32;
	uint16_t v16;
	uint64_t v;

	switch (f->size) {
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v, p, 8);
		return v;
	}
}

/* Microseconds since the connection opened; -1: not known. */
static int64_t duration_us(const struct flow_record *r)
{
	if (!(r->flags & FLOW_F_START_KNOWN) || r->now_ns < r->start_ns)
		return -1;
	return (int64_t)((r->now_ns - r->start_ns) / 1000);
}

const char *flow_addr_text(unsigned int family, const uint8_t a[16],
			   char *buf, size_t size)
{
	const char *t;

	/* IPv4 is kept v4-mapped: its address is the last 4 bytes. */
	if (family == AF_INET)
		t = inet_ntop(AF_INET, a + 12, buf, (socklen_t)size);
	else
		t = inet_ntop(AF_INET6, a, buf, (socklen_t)size);
	return t ? t : "";
}

static const char *addr_text(const struct flow_record *r, int local,
			     char *buf, size_t size)
{
	return flow_addr_text(r->family, local ? r->laddr : r->raddr, buf,
			      size);
}

/* As ss names them (include/net/tcp_states.h order). */
static const char *state_text(unsigned int state)
{
	static const char *const names[] = {
		"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1",
		"FIN-WAIT-2", "TIME-WAIT", "CLOSE", "CLOSE-WAIT", "LAST-ACK",
		"LISTEN", "CLOSING", "NEW-SYN-RECV", "BOUND-INACTIVE",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state]
							: "UNKNOWN";
}

int flow_compare(const struct flow_record *a, const char *ga,
		 const struct flow_record *b, const char *gb, int field)
{
	const struct field *f = &fields[field];
	char ta[INET6_ADDRSTRLEN], tb[INET6_ADDRSTRLEN];
	uint64_t x, y;
	int64_t dx, dy;

	switch (f->kind) {
	case NUM:
		x = num(a, f);
		y = num(b, f);
		return x < y ? 1 : x > y ? -1 : 0;
	case DURATION:
		dx = duration_us(a);
		dy = duration_us(b);
		return dx < dy ? 1 : dx > dy ? -1 : 0;
	case ADDR:
		return strcmp(addr_text(a, f->local, ta, sizeof(ta)),
			      addr_text(b, f->local, tb, sizeof(tb)));
	case STATE:
		return strcmp(state_text(a->state), state_text(b->state));
	default:
		return strcmp(ga, gb);
	}
}

/* Group names may hold anything a path holds. */
void flow_json_string(struct strbuf *b, const char *s)
{
	strbuf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			strbuf_addf(b, "\\u%04x", (unsigned char)*s);
		else
			strbuf_addc(b, *s);
	}
	strbuf_addc(b, '"');
}

void flow_json(struct strbuf *b, const struct flow_record *r,
	       const char *group)
{
	char text[INET6_ADDRSTRLEN];
	const struct field *f;
	int64_t us;
	size_t i;

	strbuf_addc(b, '{');
	for (i = 0; i < NFIELDS; i++) {
		f = &fields[i];
		strbuf_addf(b, "%s\"%s\":", i ? "," : "", f->name);
		switch (f->kind) {
		case NUM:
			strbuf_addf(b, "%" PRIu64, num(r, f));
			break;
		case DURATION:
			us = duration_us(r);
			if (us < 0)
				strbuf_adds(b, "null");
			else
				strbuf_addf(b, "%" PRId64 ".%03d", us / 1000,
					    (int)(us % 1000));
			break;
		case ADDR:
			flow_json_string(b, addr_text(r, f->local, text,
						 sizeof(text)));
			break;
		case STATE:
			flow_json_string(b, state_text(r->state));
			break;
		case GROUP:
			flow_json_string(b, group);
			break;
		}
	}
	strbuf_addf(b, ",\"netns\":%u", (unsigned int)r->netns);
	if (r->flags & FLOW_F_CLOSED)
		strbuf_adds(b, ",\"closed\":true");
	strbuf_addc(b, '}');
}

void flow_table_header(FILE *out)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (fields[i].kind != GROUP)
			fprintf(out, "%s%*s", i ? " " : "", fields[i].width,
				fields[i].name);
	fprintf(out, " group\n");
}

void flow_table_row(FILE *out, const struct flow_record *r,
		    const char *group)
{
	char text[INET6_ADDRSTRLEN];
	const struct field *f;
	int64_t us;
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		f = &fields[i];
		if (i)
			fputc(' ', out);
		switch (f->kind) {
		case NUM:
			fprintf(out, "%*" PRIu64, f->width, num(r, f));
			break;
		case DURATION:
			us = duration_us(r);
			if (us < 0)
				fprintf(out, "%*s", f->width, "-");
			else
				fprintf(out, "%*.3f", f->width, us / 1000.0);
			break;
		case ADDR:
			fprintf(out, "%*s", f->width,
				addr_text(r, f->local, text, sizeof(text)));
			break;
		case STATE:
			fprintf(out, "%*s", f->width, state_text(r->state));
			break;
		case GROUP:
			break;
		}
	}
	fprintf(out, " %s\n", group);
}
