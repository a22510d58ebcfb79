// SPDX-License-Identifier: BSD-2-Clause
/*
 * The fields of a connection as `rttq flows` prints them
 * (common/flows/flow_format.h): one JSON object with every field by the
 * issue's names, IPv4 and IPv6 addresses, a duration in ms with 3
 * decimals or null when the open was not seen, the closed flag, a group
 * name escaped; the sort order of numbers, text and durations; field
 * names found and refused.
 */
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "flow_format.h"
#include "strbuf.h"

/* 10.0.0.1:40000 -> 10.0.0.2:443, opened 1.5 s before the read. */
static struct flow_record sample(void)
{
	struct flow_record r;

	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.laddr[10] = r.laddr[11] = 0xff;
	r.laddr[12] = 10;
	r.laddr[15] = 1;
	r.raddr[10] = r.raddr[11] = 0xff;
	r.raddr[12] = 10;
	r.raddr[15] = 2;
	r.lport = 40000;
	r.rport = 443;
	r.state = 1;
	r.flags = FLOW_F_START_KNOWN;
	r.start_ns = 1000000000ull;
	r.now_ns = 2500123456ull;
	r.netns = 4026531840u;
	r.flight_size = 3;
	r.rwnd = 65536;
	r.cwnd = 10;
	r.mss = 1448;
	r.retrans_packets = 2;
	r.srtt_us = 250;
	r.min_rtt_us = 200;
	r.bytes_sent = 5000000000ull;
	r.bytes_received = 1234;
	r.fast_retrans = 1;
	r.timeouts = 1;
	r.app_wqueue = 100;
	r.app_wqueue_max = 4096;
	r.rtt_samples = 7;
	r.rtt_sum_us = 1750;
	r.read_bytes = 1200;
	r.write_bytes = 4999999999ull;
	return r;
}

static void test_json(void)
{
	struct strbuf b = STRBUF_INIT;
	struct flow_record r = sample();

	check_section("every field by name, ms with 3 decimals");
	flow_json(&b, &r, "raddr:10.0.0.2");
	CHECK_STR(b.buf,
		  "{\"laddr\":\"10.0.0.1\",\"lport\":40000,\"raddr\":\"10.0.0.2\","
		  "\"rport\":443,\"state\":\"ESTAB\",\"group\":\"raddr:10.0.0.2\","
		  "\"duration_ms\":1500.123,\"srtt_us\":250,\"min_rtt_us\":200,"
		  "\"flight_size\":3,\"rwnd\":65536,\"cwnd\":10,\"mss\":1448,"
		  "\"retrans_packets\":2,\"bytes_sent\":5000000000,"
		  "\"bytes_received\":1234,\"fast_retrans\":1,\"timeouts\":1,"
		  "\"app_wqueue\":100,\"app_wqueue_max\":4096,\"rtt_samples\":7,"
		  "\"rtt_sum_us\":1750,\"read_bytes\":1200,"
		  "\"write_bytes\":4999999999,\"netns\":4026531840}");

	check_section("an open not seen is null; closed says so; IPv6; escapes");
	r.flags = FLOW_F_CLOSED;
	r.family = AF_INET6;
	memset(r.raddr, 0, sizeof(r.raddr));
	r.raddr[0] = 0xfd;
	r.raddr[15] = 2;
	r.state = 9;
	b.len = 0;
	flow_json(&b, &r, "cgroup:/a\"b\\c");
	CHECK_CONTAINS(b.buf, "\"raddr\":\"fd00::2\"");
	CHECK_CONTAINS(b.buf, "\"state\":\"LAST-ACK\"");
	CHECK_CONTAINS(b.buf, "\"duration_ms\":null,");
	CHECK_CONTAINS(b.buf, "\"group\":\"cgroup:/a\\\"b\\\\c\"");
	CHECK_CONTAINS(b.buf, ",\"closed\":true}");
	strbuf_release(&b);
}

static void test_sort(void)
{
	struct flow_record a = sample(), b = sample();
	int f;

	check_section("numbers largest first, text in order, unknown duration last");
	b.cwnd = 20;
	f = flow_field_find("cwnd");
	REQUIRE_CMP(f, >=, 0);
	CHECK_CMP(flow_compare(&a, "x", &b, "x", f), >, 0);
	CHECK_CMP(flow_compare(&b, "x", &a, "x", f), <, 0);
	CHECK_CMP(flow_compare(&a, "x", &a, "x", f), ==, 0);
	f = flow_field_find("group");
	CHECK_CMP(flow_compare(&a, "all", &b, "raddr:1", f), <, 0);
	f = flow_field_find("raddr");
	b.raddr[15] = 1;
	CHECK_CMP(flow_compare(&a, "x", &b, "x", f), >, 0);
	f = flow_field_find("duration_ms");
	b.flags = 0;
	CHECK_CMP(flow_compare(&a, "x", &b, "x", f), <, 0);
	CHECK_CMP(flow_compare(&b, "x", &a, "x", f), >, 0);

	check_section("field names");
	CHECK_CMP(flow_field_find("write_bytes"), >=, 0);
	CHECK_CMP(flow_field_find("netns"), ==, -1);
	CHECK_CMP(flow_field_find(""), ==, -1);
	CHECK_CONTAINS(flow_field_names(), "laddr, lport, raddr");
	CHECK_CONTAINS(flow_field_names(), "read_bytes, write_bytes");
}

int main(void)
{
	test_json();
	test_sort();
	return check_report();
}
