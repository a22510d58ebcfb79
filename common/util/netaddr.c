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
