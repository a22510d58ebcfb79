// SPDX-License-Identifier: BSD-2-Clause
/*
 * Numeric addresses of common/util/netaddr.h: plain IPv4/IPv6 parsing,
 * ADDR:PORT and [IPV6]:PORT with every refusal (names, unbracketed IPv6,
 * IPv4 in brackets, ports out of range), the socket address and port of a
 * bound socket, and the text written back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "netaddr.h"

static void test_parse_ip(void)
{
	static const uint8_t v4[4] = { 10, 1, 2, 3 };
	uint8_t addr[16];
	int family = 0;

	check_section("netaddr_parse_ip");
	CHECK(netaddr_parse_ip("10.1.2.3", &family, addr) == 0 &&
	      family == AF_INET && memcmp(addr, v4, 4) == 0, "IPv4");
	CHECK(netaddr_parse_ip("fe80::1", &family, addr) == 0 &&
	      family == AF_INET6 && addr[0] == 0xfe && addr[15] == 1, "IPv6");
	CHECK(netaddr_parse_ip("::ffff:10.1.2.3", &family, addr) == 0 &&
	      family == AF_INET6, "v4-mapped IPv6");
	CHECK(netaddr_parse_ip("localhost", &family, addr) == -EINVAL, "name");
	CHECK(netaddr_parse_ip("10.1.2", &family, addr) == -EINVAL, "short");
	CHECK(netaddr_parse_ip("", &family, addr) == -EINVAL, "empty");
	CHECK(netaddr_parse_ip("[::1]", &family, addr) == -EINVAL,
	      "brackets");
}

static void test_parse_listen(void)
{
	static const char *const bad[] = {
		"9477", ":80", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
		"1.2.3.4:+80", "1.2.3.4: 80", "1.2.3.4:80x", "::1:80",
		"localhost:80", "[::1:80", "[]:80", "[1.2.3.4]:80",
		"[fe80::1%eth0]:80",
		"[0000:0000:0000:0000:0000:0000:0000:0000:0000]:80",
	};
	struct rttq_error err = { 0 };
	struct netaddr_listen l;
	size_t i;

	check_section("netaddr_parse_listen");
	CHECK(netaddr_parse_listen("127.0.0.1:9477", &l, &err) == 0 &&
	      strcmp(l.addr, "127.0.0.1") == 0 && l.port == 9477, "IPv4");
	CHECK(netaddr_parse_listen("[::1]:0", &l, &err) == 0 &&
	      strcmp(l.addr, "::1") == 0 && l.port == 0, "IPv6, port 0");
	CHECK(netaddr_parse_listen("0.0.0.0:65535", &l, NULL) == 0 &&
	      l.port == 65535, "highest port, no err");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		CHECK(netaddr_parse_listen(bad[i], &l, &err) == -EINVAL,
		      "'%s' accepted", bad[i]);
		CHECK(strstr(err.msg, bad[i]) != NULL,
		      "message does not quote '%s': %s", bad[i], err.msg);
		CHECK(netaddr_parse_listen(bad[i], &l, NULL) == -EINVAL,
		      "'%s' accepted without err", bad[i]);
	}
	netaddr_parse_listen("1.2.3.4:70000", &l, &err);
	CHECK(strstr(err.msg, "port '70000'") != NULL, "port message: %s",
	      err.msg);
}

static void test_socket(void)
{
	struct netaddr_listen l = { .addr = "127.0.0.1", .port = 0 };
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int fd, port;

	check_section("netaddr_sockaddr and netaddr_local_port");
	CHECK(netaddr_sockaddr(&l, &ss, &len) == 0 &&
	      ss.ss_family == AF_INET && len == sizeof(struct sockaddr_in),
	      "IPv4 socket address");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) == 0,
	      "bind to port 0");
	port = netaddr_local_port(fd);
	CHECK(port > 0 && port <= 65535, "bound port %d", port);
	close(fd);
	CHECK(netaddr_local_port(-1) == -EBADF, "bad fd");

	snprintf(l.addr, sizeof(l.addr), "::1");
	l.port = 8080;
	CHECK(netaddr_sockaddr(&l, &ss, &len) == 0 &&
	      ss.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6) &&
	      ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == 8080,
	      "IPv6 socket address");
	snprintf(l.addr, sizeof(l.addr), "nowhere");
	CHECK(netaddr_sockaddr(&l, &ss, &len) == -EINVAL, "not an address");
}

static void test_format(void)
{
	char buf[NETADDR_TEXT_MAX];

	check_section("netaddr_format");
	CHECK(strcmp(netaddr_format("127.0.0.1", 9477, buf, sizeof(buf)),
		     "127.0.0.1:9477") == 0, "IPv4: %s", buf);
	CHECK(strcmp(netaddr_format("::1", 0, buf, sizeof(buf)),
		     "[::1]:0") == 0, "IPv6: %s", buf);
	CHECK(strcmp(netaddr_format("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
				    65535, buf, sizeof(buf)),
		     "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535") ==
		      0, "longest: %s", buf);
}

int main(void)
{
	test_parse_ip();
	test_parse_listen();
	test_socket();
	test_format();
	return check_report();
}
