#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# rttq-api over real HTTP (curl) against a SQLite store filled as the agent
# fills it: /quantiles must equal `rttq query` byte for byte, every
# malformed request gets its status and a JSON error, and the server is
# still answering afterwards.
#
# Usage: test-api.sh RTTQ_API RTTQ FILL_STORE
set -u

api=$1
rttq=$2
fill=$3
tmp=$(mktemp -d /tmp/rttq-api-test.XXXXXX)
store="sqlite:$tmp/api.db"
server_pid=
failures=0

cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ "$failures" -eq 0 ]; then
		rm -rf "$tmp"
	else
		echo "kept $tmp for inspection"
	fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# 2023-11-15T00:00:00Z, 5 s periods: host a for 28 h, host b for 25 h.
d1=1700006400
"$fill" "$store" a 5 $((d1 - 7200)) $((d1 + 86400 + 7200)) 8 2 \
	raddr:10.0.0.2 >/dev/null || { echo "fill a failed"; exit 1; }
"$fill" "$store" b 5 $((d1 - 1800)) $((d1 + 86400 + 1800)) 8 3 \
	>/dev/null || { echo "fill b failed"; exit 1; }

. "$(dirname "$0")/start-api.sh"
start_api "$tmp/api" "$api" --store "$store" --period 5s --max-range 30d
echo "rttq-api on port $port"

# status PATH [CURL ARGS...]: prints the status code, body in $tmp/body.
status() {
	path=$1
	shift
	curl -s -o "$tmp/body" -w '%{http_code}' --max-time 10 "$@" \
		"$base$path"
}

# expect CODE PATH [CURL ARGS...]: status and, for errors, a JSON error
# body naming something (checked by the caller through $tmp/body).
expect() {
	code=$1
	shift
	got=$(status "$@")
	if [ "$got" != "$code" ]; then
		fail "$* -> $got, expected $code: $(cat "$tmp/body")"
		return
	fi
	case $code in
	2*) ;;
	*)
		grep -q '^{"error":".*"}$' "$tmp/body" ||
			fail "$* -> body is not a JSON error: $(cat "$tmp/body")"
		;;
	esac
}

# same QUERYSTRING RTTQ-ARGS...: /quantiles body == rttq query stdout.
same() {
	qs=$1
	shift
	got=$(status "/quantiles?$qs")
	[ "$got" = 200 ] || { fail "/quantiles?$qs -> $got"; return; }
	"$rttq" query --store "$store" --period 5s "$@" >"$tmp/cli" ||
		{ fail "rttq query $* failed"; return; }
	if cmp -s "$tmp/body" "$tmp/cli"; then
		echo "same: /quantiles?$qs"
	else
		fail "/quantiles?$qs differs from rttq query $*:"
		echo "  api: $(cat "$tmp/body")"
		echo "  cli: $(cat "$tmp/cli")"
	fi
}

# --- byte-identical answers ---------------------------------------------
same "from=2023-11-14T23:00:00Z&to=2023-11-16T01:00:00Z" \
	--from 2023-11-14T23:00:00Z --to 2023-11-16T01:00:00Z
same "from=2023-11-15T00:30:00%2B01:00&to=2023-11-15T12:17:42.5Z&host=a" \
	--from 2023-11-15T00:30:00+01:00 --to 2023-11-15T12:17:42.5Z --host a
same "from=1700006400&to=1700092799&group=raddr:10.0.0.2&q=50,99.9" \
	--from 1700006400 --to 1700092799 --group raddr:10.0.0.2 --q 50,99.9
same "from=2023-11-15T06:00:00.250Z&to=2023-11-15T06:00:10Z&host=b&q=p0,p100" \
	--from 2023-11-15T06:00:00.250Z --to 2023-11-15T06:00:10Z --host b \
	--q p0,p100
# No data: sample_count 0 and empty quantiles, still 200.
same "from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z" \
	--from 2020-01-01T00:00:00Z --to 2020-01-02T00:00:00Z
grep -q '"sample_count":0,"quantiles":{}' "$tmp/body" ||
	fail "no-data answer: $(cat "$tmp/body")"
# An unencoded '+' in an offset arrives as a space and still parses.
expect 200 "/quantiles?from=2023-11-15T01:00:00+01:00&to=2023-11-15T01:00:00Z"
grep -q '"from":"2023-11-15T00:00:00Z"' "$tmp/body" ||
	fail "'+' offset: $(cat "$tmp/body")"

# The seed's shape, first keys in order.
status "/quantiles?from=2023-11-15T00:00:00Z&to=2023-11-15T23:59:55Z" >/dev/null
grep -Eq '^\{"agg_level":"5s","sample_count":[0-9]+,"quantiles":\{"p50":"[0-9]+\.[0-9]{3}","p75":"[0-9]+\.[0-9]{3}","p90":"[0-9]+\.[0-9]{3}","p95":"[0-9]+\.[0-9]{3}","p99":"[0-9]+\.[0-9]{3}"\}' \
	"$tmp/body" || fail "seed shape: $(cat "$tmp/body")"
echo "sample: $(cat "$tmp/body")"

# --- other endpoints ----------------------------------------------------
expect 200 "/hosts?from=1700000000&to=1700100000"
[ "$(cat "$tmp/body")" = '{"hosts":["a","b"]}' ] ||
	fail "/hosts: $(cat "$tmp/body")"
expect 200 "/groups?host=a&from=1700000000&to=1700100000"
[ "$(cat "$tmp/body")" = '{"groups":["all","raddr:10.0.0.2"]}' ] ||
	fail "/groups?host=a: $(cat "$tmp/body")"
expect 200 "/groups?host=b&from=1700000000&to=1700100000"
[ "$(cat "$tmp/body")" = '{"groups":["all"]}' ] ||
	fail "/groups?host=b: $(cat "$tmp/body")"
expect 200 "/hosts"
expect 200 "/healthz"
[ "$(cat "$tmp/body")" = '{"status":"ok"}' ] || fail "/healthz body"
expect 200 "/series?from=2023-11-15T00:00:00Z&to=2023-11-15T23:59:59Z&step=1h&host=a"
[ "$(grep -o '"t":' "$tmp/body" | wc -l)" -eq 24 ] ||
	fail "/series: not 24 points: $(head -c 300 "$tmp/body")"
expect 200 "/series?from=2023-11-15T00:00:00Z&to=2023-11-15T00:09:59Z&step=1m&q=50"
[ "$(grep -o '"t":' "$tmp/body" | wc -l)" -eq 10 ] ||
	fail "/series 1m: not 10 points"
expect 200 "/quantiles?from=1700006400&to=1700006400" -I

# --- malformed requests -------------------------------------------------
q="/quantiles"
expect 400 "$q"
grep -q "'from'" "$tmp/body" || fail "missing from not named"
expect 400 "$q?from=2023-11-15T00:00:00Z"
grep -q "'to'" "$tmp/body" || fail "missing to not named"
expect 400 "$q?from=yesterday&to=1700006400"
expect 400 "$q?from=2023-02-30T00:00:00Z&to=1700006400"
expect 400 "$q?from=2023-11-15T24:00:00Z&to=1700006400"
expect 400 "$q?from=2023-11-15T00:00:00&to=1700006400"
expect 400 "$q?from=2023-11-15T00:00:00Zjunk&to=1700006400"
expect 400 "$q?from=1700006400&to=1700006400x"
expect 400 "$q?from=1700092800&to=1700006400"
grep -q "after" "$tmp/body" || fail "from > to message"
expect 400 "$q?from=1600000000&to=1700006400"
grep -q "max-range" "$tmp/body" || fail "max-range message"
expect 400 "$q?from=1700006400&to=1700092800&q=50,abc"
grep -q "'q'" "$tmp/body" || fail "bad q not named"
expect 400 "$q?from=1700006400&to=1700092800&q=100.5"
expect 400 "$q?from=1700006400&to=1700092800&q=50,50"
expect 400 "$q?from=1700006400&to=1700092800&q="
expect 400 "$q?from=1700006400&to=1700092800&host="
expect 400 "$q?from=1700006400&to=1700092800&frm=1"
expect 400 "$q?from=1700006400&from=1700006400&to=1700092800"
expect 400 "$q?from=1700006400&to=1700092800&junk"
expect 400 "/series?from=1700006400&to=1700092800"
expect 400 "/series?from=1700006400&to=1700092800&step=7m"
grep -q "'step'" "$tmp/body" || fail "bad step not named"
expect 400 "/series?from=1600006400&to=1602092800&step=1m"
expect 400 "/groups?from=1700006400&to=1600092800"
expect 400 "/healthz?x=1"
expect 404 "/nope"
expect 404 "/quantiles/"
expect 404 "/nope/deeper" # "/" is the dashboard page (api/dashboard.c)
expect 405 "$q?from=1700006400&to=1700092800" -X POST
expect 405 "/healthz" -X DELETE
expect 405 "/hosts" -X PUT -d 'x=1'
# Oversized header and URI: refused, the server carries on.
big=$(head -c 10000 /dev/zero | tr '\0' a)
got=$(status "/healthz" -H "X-Big: $big")
case $got in
4*) ;;
000) ;; # evhttp may just close the connection
*) fail "oversized header -> $got" ;;
esac
got=$(status "/quantiles?from=1&to=2&host=$big")
case $got in
4*) ;;
000) ;;
*) fail "oversized URI -> $got" ;;
esac
# A client that connects and sends half a request, then goes away.
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' |
	curl -s --max-time 2 "telnet://127.0.0.1:$port" >/dev/null 2>&1

# --- still alive --------------------------------------------------------
expect 200 "/healthz"
kill -0 "$server_pid" 2>/dev/null || fail "rttq-api died"
same "from=2023-11-14T23:00:00Z&to=2023-11-16T01:00:00Z" \
	--from 2023-11-14T23:00:00Z --to 2023-11-16T01:00:00Z

# --- SIGTERM: clean exit ------------------------------------------------
kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=
[ "$rc" -eq 0 ] || fail "rttq-api exited $rc on SIGTERM"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
