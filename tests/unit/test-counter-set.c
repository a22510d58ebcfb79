// SPDX-License-Identifier: BSD-2-Clause
/*
 * Counter sets (common/metric/counter_set.h): exact sums that refuse to
 * wrap, merge in any order to the same set, round trips through the stored
 * bytes, refusal of every kind of damaged bytes with -EBADMSG, names
 * checked as metric names, and the '*' glob of `names=`.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "counter_set.h"

static void test_add_merge(void)
{
	struct counter_set a = COUNTER_SET_INIT, b = COUNTER_SET_INIT;

	check_section("add keeps names sorted and sums exactly");
	CHECK(counter_set_add(&a, "segs.out", 10) == 0, "add");
	CHECK(counter_set_add(&a, "retrans.fast", 3) == 0, "add");
	CHECK(counter_set_add(&a, "segs.out", 5) == 0, "add again");
	CHECK(a.n == 2 && strcmp(a.v[0].name, "retrans.fast") == 0,
	      "order: %zu, %s", a.n, a.v[0].name);
	CHECK(counter_set_get(&a, "segs.out") == 15, "sum %llu",
	      (unsigned long long)counter_set_get(&a, "segs.out"));
	CHECK(counter_set_get(&a, "rst.sent") == 0, "absent is 0");

	check_section("a sum past 2^64 - 1 is refused and leaves the value");
	CHECK(counter_set_add(&a, "segs.out", UINT64_MAX - 15) == 0, "to max");
	CHECK(counter_set_add(&a, "segs.out", 1) == -EOVERFLOW, "wrap");
	CHECK(counter_set_get(&a, "segs.out") == UINT64_MAX, "unchanged");

	check_section("names outside the metric spelling are refused");
	CHECK(counter_set_add(&a, "Retrans", 1) == -EINVAL, "upper case");
	CHECK(counter_set_add(&a, "", 1) == -EINVAL, "empty");
	CHECK(counter_set_add(&a, "a..b", 1) == -EINVAL, "double dot");
	CHECK(counter_set_add(&a, ".a", 1) == -EINVAL, "leading dot");

	check_section("merge adds every counter of the source");
	CHECK(counter_set_add(&b, "drops.tcp.netfilter_drop", 7) == 0, "add");
	CHECK(counter_set_add(&b, "retrans.fast", 4) == 0, "add");
	CHECK(counter_set_merge(&b, &a) == 0, "merge");
	CHECK(b.n == 3 && counter_set_get(&b, "retrans.fast") == 7 &&
	      counter_set_get(&b, "segs.out") == UINT64_MAX,
	      "merged: %zu counters", b.n);
	counter_set_free(&a);
	counter_set_free(&b);

	CHECK(counter_set_add(&a, "x", 1) == 0 && counter_set_add(&b, "y", 2) == 0,
	      "add");
	CHECK(counter_set_merge(&a, &b) == 0 && counter_set_merge(&b, &a) == 0,
	      "merge both ways");
	CHECK(counter_set_get(&b, "x") == 1 && counter_set_get(&b, "y") == 4,
	      "b: x %llu y %llu", (unsigned long long)counter_set_get(&b, "x"),
	      (unsigned long long)counter_set_get(&b, "y"));
	counter_set_free(&a);
	counter_set_free(&b);
}

static void test_bytes(void)
{
	struct counter_set a = COUNTER_SET_INIT, back = COUNTER_SET_INIT;
	struct strbuf w = STRBUF_INIT;
	struct rttq_error err = { 0 };
	uint8_t bad[256];
	size_t i;

	check_section("encode/decode round trip, empty set included");
	CHECK(counter_set_encode(&a, &w) == 0, "encode empty");
	CHECK(counter_set_decode((const uint8_t *)w.buf, w.len, &back, &err) == 0 &&
	      back.n == 0, "decode empty: %s", err.msg);
	strbuf_release(&w);
	counter_set_add(&a, "conn.opened", 1);
	counter_set_add(&a, "drops.udp.no_socket", 200);
	counter_set_add(&a, "segs.out", UINT64_MAX);
	CHECK(counter_set_encode(&a, &w) == 0, "encode");
	CHECK(counter_set_decode((const uint8_t *)w.buf, w.len, &back, &err) == 0,
	      "decode: %s", err.msg);
	CHECK(back.n == 3 && counter_set_get(&back, "segs.out") == UINT64_MAX &&
	      counter_set_get(&back, "drops.udp.no_socket") == 200,
	      "values after round trip");

	check_section("every flipped byte and every cut is -EBADMSG");
	CHECK(w.len <= sizeof(bad), "fits");
	for (i = 0; i < w.len; i++) {
		int rc;

		memcpy(bad, w.buf, w.len);
		bad[i] ^= 0x5a;
		rc = counter_set_decode(bad, w.len, &back, &err);
		/* A flipped version byte may read as a newer version. */
		CHECK(rc == -EBADMSG || (i == 2 && rc == -ENOTSUP),
		      "byte %zu flipped: %d", i, rc);
	}
	for (i = 0; i < w.len; i++)
		CHECK(counter_set_decode((const uint8_t *)w.buf, i, &back,
					 &err) == -EBADMSG,
		      "cut at %zu", i);
	strbuf_release(&w);
	counter_set_free(&a);
	counter_set_free(&back);
}

static void test_glob(void)
{
	check_section("'*' matches any run, dots included");
	CHECK(counter_name_match("retrans.*", "retrans.fast"), "prefix");
	CHECK(!counter_name_match("retrans.*", "segs.out"), "other");
	CHECK(counter_name_match("*", "segs.out"), "all");
	CHECK(counter_name_match("drops.*.no_socket", "drops.udp.no_socket"),
	      "middle");
	CHECK(!counter_name_match("drops.*.no_socket", "drops.udp.no_socket2"),
	      "tail must match");
	CHECK(counter_name_match("segs.out", "segs.out"), "exact");
	CHECK(!counter_name_match("segs.ou", "segs.out"), "no implicit star");
}

int main(void)
{
	test_add_merge();
	test_bytes();
	test_glob();
	return check_report();
}
