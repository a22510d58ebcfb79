/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fields of a connection's record (kernel/flow_record.h) as users
 * see them: their names (the JSON keys, the table's columns, what
 * `rttq flows -s` sorts by), their order, one JSON object per record and
 * one table row.  One list, so the table, the JSON and the sort never
 * disagree on a name.
 */
#ifndef RTTQ_FLOW_FORMAT_H
#define RTTQ_FLOW_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flow_record.h"
#include "strbuf.h"

/**
 * flow_field_find() - the field called @name ("cwnd", "bytes_sent", ...).
 *
 * @return its index, or -1 when no field has that name.
 */
int flow_field_find(const char *name);

/** flow_field_names() - every field name, comma-separated, for errors. */
const char *flow_field_names(void);

/**
 * flow_compare() - order of @a and @b by field @field: numbers largest
 * first (an unknown duration last), text in byte order.
 * @ga, @gb: their group names.
 *
 * @return <0, 0, >0 as for qsort().
 */
int flow_compare(const struct flow_record *a, const char *ga,
		 const struct flow_record *b, const char *gb, int field);

/**
 * flow_json() - @r as one JSON object, no newline: every field by name
 * (duration_ms with 3 decimals, null when the connection opened before
 * rttq watched), plus "netns" (the namespace inode) and, for a closed
 * connection, "closed": true.
 * @b: receives the text.
 * @group: the group's name.
 */
void flow_json(struct strbuf *b, const struct flow_record *r,
	       const char *group);

/**
 * flow_addr_text() - address @a as the records keep it (network order,
 * IPv4 v4-mapped) in numeric text.
 * @family: AF_INET or AF_INET6.
 * @buf: receives it (INET6_ADDRSTRLEN bytes hold any).
 *
 * @return @buf, or "" when @family is neither.
 */
const char *flow_addr_text(unsigned int family, const uint8_t a[16],
			   char *buf, size_t size);

/** flow_json_string() - @s as a JSON string, quoted and escaped. */
void flow_json_string(struct strbuf *b, const char *s);

/** flow_table_header() - the column names of flow_table_row(), a line. */
void flow_table_header(FILE *out);

/** flow_table_row() - @r as one line of the table, every field. */
void flow_table_row(FILE *out, const struct flow_record *r,
		    const char *group);

#endif /* RTTQ_FLOW_FORMAT_H */
