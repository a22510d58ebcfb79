// SPDX-License-Identifier: BSD-2-Clause
/*
 * Hex and percent-encoding of common/util/urlcode.h: lowercase hex, the
 * SigV4 rule for what is left unencoded, decoding in both cases of hex,
 * the '+' and stray-'%' flags, escapes cut off by the length given, and
 * every byte value surviving an encode/decode round trip.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "urlcode.h"

static void test_hex(void)
{
	static const unsigned char bytes[] = { 0x00, 0x0f, 0xa5, 0xff, 0x10 };
	char out[2 * sizeof(bytes) + 1];

	check_section("hex is lowercase, two digits a byte, NUL-terminated");
	memset(out, 'x', sizeof(out));
	urlcode_hex_encode(bytes, sizeof(bytes), out);
	CHECK(strcmp(out, "000fa5ff10") == 0, "got \"%s\"", out);
	urlcode_hex_encode(bytes, 0, out);
	CHECK(out[0] == '\0', "no bytes did not give \"\"");
}

/* @s[0..@n) encoded with @flags equals @want. */
static void check_encode(const char *s, size_t n, unsigned int flags,
			 const char *want)
{
	struct strbuf b = STRBUF_INIT;

	urlcode_encode(&b, s, n, flags);
	CHECK(!b.oom && b.len == strlen(want) &&
	      memcmp(b.buf ? b.buf : "", want, b.len) == 0,
	      "encode \"%.*s\" flags %u: \"%s\", want \"%s\"", (int)n, s, flags,
	      b.buf ? b.buf : "", want);
	strbuf_release(&b);
}

static void test_encode(void)
{
	check_section("encoding keeps unreserved bytes, uppercase %XX the rest");
	check_encode("AZaz09-._~", 10, 0, "AZaz09-._~");
	check_encode("a b/c", 5, 0, "a%20b%2Fc");
	check_encode("a b/c", 5, URLCODE_KEEP_SLASH, "a%20b/c");
	check_encode("+=&%#?", 6, 0, "%2B%3D%26%25%23%3F");
	check_encode("\xe1\x88\xb4", 3, 0, "%E1%88%B4");
	check_encode("a\0b", 3, 0, "a%00b");
	check_encode("", 0, 0, "");
}

/* @s decoded with @flags returns @ret and, when 0, the @want_len bytes
 * @want. */
static void check_decode(const char *s, unsigned int flags, int ret,
			 const char *want, size_t want_len)
{
	struct strbuf b = STRBUF_INIT;
	int got = urlcode_decode(&b, s, strlen(s), flags);

	CHECK(got == ret, "decode \"%s\" flags %u returned %d, want %d", s,
	      flags, got, ret);
	if (!ret)
		CHECK(!b.oom && b.len == want_len &&
		      memcmp(b.buf ? b.buf : "", want, want_len) == 0,
		      "decode \"%s\" flags %u: \"%s\" (%zu bytes), want \"%s\"",
		      s, flags, b.buf ? b.buf : "", b.len, want);
	strbuf_release(&b);
}

static void test_decode(void)
{
	const unsigned int form = URLCODE_PLUS_SPACE | URLCODE_STRICT;

	check_section("decoding: either case of hex, '+' and stray '%' by flag");
	check_decode("%7e%7E%41%e1", 0, 0, "~~A\xe1", 4);
	check_decode("a+b%20c", 0, 0, "a+b c", 5);
	check_decode("a+b%20c", URLCODE_PLUS_SPACE, 0, "a b c", 5);
	check_decode("%zz%4%", 0, 0, "%zz%4%", 6);
	check_decode("%2B", form, 0, "+", 1);
	check_decode("a%00b", 0, 0, "a\0b", 3);
	check_decode("", form, 0, "", 0);
	check_decode("%zz", URLCODE_STRICT, -EINVAL, NULL, 0);
	check_decode("ab%4", URLCODE_STRICT, -EINVAL, NULL, 0);
	check_decode("ab%", form, -EINVAL, NULL, 0);
	check_decode("%g1", form, -EINVAL, NULL, 0);
}

static void test_decode_length(void)
{
	struct strbuf b = STRBUF_INIT;

	check_section("an escape cut off by the length given is not decoded");
	/* "x%41" but only 3 bytes of it: the escape lacks a digit. */
	CHECK(urlcode_decode(&b, "x%41", 3, 0) == 0 && b.len == 3 &&
	      memcmp(b.buf, "x%4", 3) == 0, "lenient: \"%s\"", b.buf);
	strbuf_release(&b);
	CHECK(urlcode_decode(&b, "x%41", 3, URLCODE_STRICT) == -EINVAL,
	      "strict decode of a cut escape succeeded");
	strbuf_release(&b);
	CHECK(urlcode_decode(&b, "%41", 3, URLCODE_STRICT) == 0 &&
	      b.len == 1 && b.buf[0] == 'A', "escape ending the input");
	strbuf_release(&b);
}

static void test_round_trip(void)
{
	struct strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;
	char all[256];
	int i;

	check_section("every byte value survives encode then decode");
	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	urlcode_encode(&enc, all, sizeof(all), 0);
	CHECK(!enc.oom && urlcode_decode(&dec, enc.buf, enc.len,
					 URLCODE_STRICT) == 0,
	      "strict decode of an encoding failed");
	CHECK(dec.len == sizeof(all) && memcmp(dec.buf, all, sizeof(all)) == 0,
	      "round trip: %zu bytes back", dec.len);
	strbuf_release(&enc);
	strbuf_release(&dec);
}

int main(void)
{
	test_hex();
	test_encode();
	test_decode();
	test_decode_length();
	test_round_trip();
	return check_report();
}
