// SPDX-License-Identifier: BSD-2-Clause
/*
 * Group names from kernel group keys (group_name.h): each field as
 * "NAME:VALUE", addresses as inet_ntop writes them (IPv4 for v4-mapped
 * keys), appended in a fixed order.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "collector.h"
#include "group_name.h"

/* @a as text, with "/N" when the address is grouped by a prefix. */
static void format_addr(const uint8_t a[16], unsigned int prefix4,
			unsigned int prefix6, char *buf, size_t size)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	bool v4 = !memcmp(a, mapped, sizeof(mapped));
	unsigned int prefix = v4 ? prefix4 : prefix6;
	size_t n;

	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? a + 12 : a, buf, size);
	n = strlen(buf);
	if (prefix)
		snprintf(buf + n, size - n, "/%u", prefix);
}

/* @path, or its tail after "..." from a '/' when it is too long. */
static const char *cgroup_tail(const char *path, char *buf, size_t size)
{
	size_t len = strlen(path);
	const char *tail, *slash;

	if (len <= GROUP_NAME_CGROUP_MAX)
		return path;
	tail = path + len - (GROUP_NAME_CGROUP_MAX - 3);
	slash = strchr(tail, '/');
	snprintf(buf, size, "...%s", slash ? slash : tail);
	return buf;
}

/* Appends "[,]NAME:VALUE" to @buf (NUL-terminated, @size bytes). */
static void append_field(char *buf, size_t size, const char *field,
			 const char *value)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s%s:%s", n ? "," : "", field, value);
}

/* "laddr:A,raddr:B,lport:N,rport:M,peer:L,port:P,cgroup:/C", the fields
 * of n->group_by only. */
void group_name_format(struct group_naming *n, const struct rttq_key *k,
		       char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN + 8], cut[GROUP_NAME_CGROUP_MAX + 1];
	const char *path;

	buf[0] = '\0';
	if (n->group_by & COLLECTOR_BY_LADDR) {
		format_addr(k->laddr, n->laddr_prefix4, n->laddr_prefix6, text,
			    sizeof(text));
		append_field(buf, size, "laddr", text);
	}
	if (n->group_by & COLLECTOR_BY_RADDR) {
		format_addr(k->raddr, n->raddr_prefix4, n->raddr_prefix6, text,
			    sizeof(text));
		append_field(buf, size, "raddr", text);
	}
	if (n->group_by & COLLECTOR_BY_LPORT) {
		snprintf(text, sizeof(text), "%u", (unsigned int)k->lport);
		append_field(buf, size, "lport", text);
	}
	if (n->group_by & COLLECTOR_BY_RPORT) {
		snprintf(text, sizeof(text), "%u",
			 (unsigned int)ntohs(k->rport));
		append_field(buf, size, "rport", text);
	}
	if (n->group_by & COLLECTOR_BY_PEER)
		append_field(buf, size, "peer", peer_map_label(n->peers,
							       k->peer));
	if (n->group_by & COLLECTOR_BY_PORT) {
		snprintf(text, sizeof(text), "%u", (unsigned int)k->port);
		append_field(buf, size, "port", text);
	}
	if (n->group_by & COLLECTOR_BY_CGROUP) {
		path = cgroup_names_path(n->cgroups, k->cgroup);
		if (!path) {
			snprintf(text, sizeof(text), "id-%llu",
				 (unsigned long long)k->cgroup);
			path = text;
		}
		append_field(buf, size, "cgroup",
			     cgroup_tail(path, cut, sizeof(cut)));
	}
}

