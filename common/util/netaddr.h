/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Numeric IP addresses as users type them: "10.1.2.3" or "fe80::1" alone,
 * and ADDR:PORT or [IPV6]:PORT for a server to listen on (rttq-agent
 * --metrics, rttq-api --listen).  Only numbers: a name would need a
 * resolver and could mean several addresses.  Also the reverse: an
 * address and port written back the way they are typed; and CIDR
 * prefixes (--raddr, peer maps, /flows?raddr=) compared as the kernel
 * keeps addresses, IPv4 v4-mapped.
 */
#ifndef RTTQ_NETADDR_H
#define RTTQ_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest numeric address text plus its NUL (INET6_ADDRSTRLEN). */
#define NETADDR_ADDR_MAX 46
/* Longest "[IPV6]:PORT" plus its NUL. */
#define NETADDR_TEXT_MAX (NETADDR_ADDR_MAX + 8)

/* Where a server listens. */
struct netaddr_listen {
	char addr[NETADDR_ADDR_MAX]; /* numeric IPv4 or IPv6, no brackets */
	uint16_t port;               /* 0: any free port */
};

/**
 * netaddr_parse_ip() - parse a numeric IPv4 ("10.1.2.3") or IPv6
 * ("fe80::1") address, IPv4 first.
 * @text: the address alone (no brackets, port or prefix).
 * @family: receives AF_INET or AF_INET6.
 * @addr: receives the address in network byte order: 4 bytes for IPv4,
 *        16 for IPv6.
 *
 * @return 0, -EINVAL (not a numeric address; @family and @addr may be
 *         changed).
 */
RTTQ_API int netaddr_parse_ip(const char *text, int *family,
			      uint8_t addr[16]);

/**
 * netaddr_parse_listen() - parse "127.0.0.1:9477", "[::1]:8080" or
 * "0.0.0.0:0": an IPv4 address, or an IPv6 one in brackets, then a port
 * 0..65535.
 * @text: the option value.
 * @out: receives address and port.
 * @err: receives a message quoting @text and naming the bad part (the
 *       caller adds the flag's name); may be NULL.
 *
 * @return 0, -EINVAL.
 */
RTTQ_API int netaddr_parse_listen(const char *text, struct netaddr_listen *out,
				  struct rttq_error *err);

/**
 * netaddr_sockaddr() - the socket address of @l.
 * @l: a parsed address and port.
 * @ss: receives a sockaddr_in or sockaddr_in6.
 * @len: receives its length.
 *
 * @return 0, -EINVAL (@l->addr is not a numeric address).
 */
RTTQ_API int netaddr_sockaddr(const struct netaddr_listen *l,
			      struct sockaddr_storage *ss, socklen_t *len);

/**
 * netaddr_local_port() - the port a bound socket got (after port 0).
 * @fd: a bound IPv4 or IPv6 socket.
 *
 * @return the port, or a negative errno of getsockname().
 */
RTTQ_API int netaddr_local_port(int fd);

/**
 * netaddr_format() - "ADDR:PORT", with brackets around an IPv6 address.
 * @addr: numeric address, as in struct netaddr_listen.
 * @port: the port.
 * @buf: receives the text, cut short if needed; NETADDR_TEXT_MAX bytes
 *       always suffice.
 * @size: size of @buf.
 *
 * @return the text (that is, @buf), so a call can be a printf argument.
 */
RTTQ_API const char *netaddr_format(const char *addr, uint16_t port,
				    char *buf, size_t size);

/*
 * An address filter: IPv4 (family AF_INET) or IPv6, with a CIDR prefix.
 * The kernel compares IPv4 peers as ::ffff:a.b.c.d, so an IPv4 filter also
 * matches v4-mapped IPv6 sockets, and ::/0 matches every peer.
 */
struct addr_filter {
	int family;          /* 0: filter off; AF_INET or AF_INET6 */
	uint8_t addr[16];    /* network byte order; IPv4 in the first 4 */
	unsigned int prefix; /* prefix length in bits */
};

/**
 * netaddr_parse_cidr() - parse "10.0.0.0/8", "fe80::1", "10.1.2.3".
 * @text: the option value.
 * @out: receives the filter (family 0 on failure).
 * @err: names the bad text; may be NULL.
 *
 * @return 0, -EINVAL.
 */
RTTQ_API int netaddr_parse_cidr(const char *text,
				struct addr_filter *out,
				struct rttq_error *err);

/**
 * netaddr_mapped() - @f's address as the kernel compares it: 16
 * bytes, IPv4 v4-mapped (::ffff:a.b.c.d), and its prefix length counted
 * over those 128 bits (an IPv4 /24 is a /120).
 * @f: a parsed address (family AF_INET or AF_INET6).
 * @addr: receives the 16 bytes, network order.
 * @bits: receives the prefix length, 0..128.
 */
RTTQ_API void netaddr_mapped(const struct addr_filter *f, uint8_t addr[16],
			     unsigned int *bits);

/**
 * netaddr_prefix_mask() - the top @bits bits of 128 as four
 * network-order words.
 * @bits: 0..128.
 * @mask: receives the words.
 */
RTTQ_API void netaddr_prefix_mask(unsigned int bits, uint32_t mask[4]);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_NETADDR_H */
