// SPDX-License-Identifier: BSD-2-Clause
/*
 * Numeric addresses (see netaddr.h): inet_pton() must return 1, ports go
 * through numparse, and every message quotes what the user typed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "numparse.h"

int netaddr_parse_ip(const char *text, int *family, uint8_t addr[16])
{
	if (inet_pton(AF_INET, text, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

int netaddr_parse_listen(const char *text, struct netaddr_listen *out,
			 struct rttq_error *err)
{
	const char *colon = strrchr(text, ':');
	uint8_t bin[16];
	int family, want = AF_INET;
	const char *host = text;
	size_t host_len;
	uint64_t port;
	int rc;

	if (!colon || colon == text)
		return rttq_fail(err, -EINVAL,
				 "'%s' is not ADDR:PORT or [IPV6]:PORT", text);
	host_len = (size_t)(colon - text);
	if (host[0] == '[') {
		if (host_len < 3 || host[host_len - 1] != ']')
			return rttq_fail(err, -EINVAL,
					 "'%s': an IPv6 address goes in brackets, e.g. [::1]:PORT",
					 text);
		host++;
		host_len -= 2;
		want = AF_INET6;
	}
	if (host_len >= sizeof(out->addr))
		return rttq_fail(err, -EINVAL, "'%s': address too long", text);
	memcpy(out->addr, host, host_len);
	out->addr[host_len] = '\0';
	if (netaddr_parse_ip(out->addr, &family, bin) || family != want)
		return rttq_fail(err, -EINVAL,
				 "'%s': '%s' is not a numeric %s address%s",
				 text, out->addr,
				 want == AF_INET ? "IPv4" : "IPv6",
				 want == AF_INET ? " (IPv6 goes in brackets: [::1]:PORT)" :
						   "");
	rc = numparse_uint("port", colon + 1, 0, 65535, &port, err);
	if (rc) {
		rttq_error_prefix(err, "'%s'", text);
		return rc;
	}
	out->port = (uint16_t)port;
	return 0;
}

int netaddr_sockaddr(const struct netaddr_listen *l,
		     struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, l->addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(l->port);
		*len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, l->addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(l->port);
		*len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	return 0;
}

int netaddr_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

const char *netaddr_format(const char *addr, uint16_t port, char *buf,
			   size_t size)
{
	bool v6 = strchr(addr, ':') != NULL;

	snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "", addr, v6 ? "]" : "",
		 port);
	return buf;
}

void netaddr_mapped(const struct addr_filter *f, uint8_t addr[16],
		    unsigned int *bits)
{
	memset(addr, 0, 16);
	if (f->family == AF_INET) {
		addr[10] = 0xff;
		addr[11] = 0xff;
		memcpy(addr + 12, f->addr, 4);
		*bits = f->prefix + 96;
	} else {
		memcpy(addr, f->addr, 16);
		*bits = f->prefix;
	}
}

void netaddr_prefix_mask(unsigned int bits, uint32_t mask[4])
{
	unsigned int i, b;

	for (i = 0; i < 4; i++) {
		b = bits > 32 * i ? bits - 32 * i : 0;
		if (b > 32)
			b = 32;
		/* The top @b bits set: ~0 << (32 - b), without << 32. */
		mask[i] = htonl(b ? ~0u << (32 - b) : 0);
	}
}

int netaddr_parse_cidr(const char *text, struct addr_filter *out,
		       struct rttq_error *err)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	unsigned long prefix;
	unsigned int max;
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	char *end;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(buf))
		return rttq_fail(err, -EINVAL, "address '%s': not an address",
				 text);
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (netaddr_parse_ip(buf, &out->family, out->addr)) {
		out->family = 0;
		return rttq_fail(err, -EINVAL,
				 "address '%s': not an IPv4 or IPv6 address",
				 text);
	}
	max = out->family == AF_INET ? 32 : 128;
	out->prefix = max;
	if (slash) {
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || prefix > max ||
		    slash[1] == '-' || slash[1] == '+') {
			out->family = 0;
			return rttq_fail(err, -EINVAL,
					 "address '%s': prefix length must be "
					 "0..%u", text, max);
		}
		out->prefix = (unsigned int)prefix;
	}
	return 0;
}
