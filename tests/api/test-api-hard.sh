#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# rttq-api's hardening over real HTTP: --auth-token-file (401 with
# WWW-Authenticate on every path but /healthz, startup refusals, the token
# never logged), GET /metrics (exact counts; promtool check metrics when
# installed), the request limits (URI, headers, body, idle time, open
# connections) and the store going bad under a running server (503 in
# JSON on /healthz and /quantiles, no crash, answers again once the file
# is back).  promtool comes with the Debian package prometheus, which
# tools/bootstrap.sh installs: without it the test fails.
#
# Usage: test-api-hard.sh RTTQ_API FILL_STORE
set -u

api=$1
fill=$2
# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start api-hard
token="tok-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
require_command promtool "the Debian package prometheus"
require_command ss "the Debian package iproute2"

stop_server() {
	stop_pid "$server_pid"
	server_pid=
}

# start ARGS...: run rttq-api on a free port, set $base.
start() {
	start_api "$tmp/api" "$api" --period 5s "$@"
}

header_is() {
	grep -qi "^$1: $2"$'\r'"\$" "$tmp/headers" ||
		fail "header '$1: $2' missing: $(tr -d '\r' <"$tmp/headers" | tr '\n' '|')"
}

# metric NAME{LABELS}: its value in $tmp/metrics.
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$tmp/metrics"
}

# 2023-11-15T00:00:00Z, one host for 2 h at 5 s.
d1=1700006400
store="sqlite:$tmp/store/api.db"
mkdir "$tmp/store"
"$fill" "$store" a 5 "$d1" $((d1 + 7200)) 8 2 >/dev/null ||
	die "fill failed"
range="from=$d1&to=$((d1 + 7199))"

# --- startup refusals ----------------------------------------------------
for case in missing empty newline-only blank; do
	f="$tmp/token-$case"
	case $case in
	missing) ;;
	empty) : >"$f" ;;
	newline-only) echo >"$f" ;;
	blank) echo "two words" >"$f" ;;
	esac
	# timeout(1) ends a server that wrongly started (exit 124).
	timeout 5 "$api" --store "$store" --listen 127.0.0.1:0 \
		--auth-token-file "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	case $rc in
	1 | 2) ;;
	*) fail "token file $case: exit $rc, expected 1 or 2" ;;
	esac
	grep -q -- "--auth-token-file: .*$f" "$tmp/err" ||
		fail "token file $case: message does not name it: $(cat "$tmp/err")"
done
echo "startup refusals: ok"

# --- authentication ------------------------------------------------------
printf '%s\n' "$token" >"$tmp/token"
start --store "$store" --auth-token-file "$tmp/token" --timeout 2
echo "rttq-api on port $port (token required)"
good=(-H "Authorization: Bearer $token")

http_expect 200 "/healthz"
http_expect 401 "/quantiles?$range"
header_is WWW-Authenticate 'Bearer realm="rttq"'
grep -q "Authorization: Bearer" "$tmp/body" || fail "401 body: $(cat "$tmp/body")"
http_expect 401 "/quantiles?$range" -H "Authorization: Bearer ${token}x"
header_is WWW-Authenticate 'Bearer realm="rttq", error="invalid_token"'
http_expect 401 "/quantiles?$range" -H "Authorization: Bearer ${token%?}"
http_expect 401 "/quantiles?$range" -H "Authorization: Basic $token"
http_expect 401 "/quantiles?$range" -H "Authorization: $token"
http_expect 401 "/metrics"
http_expect 401 "/hosts"
http_expect 401 "/series?$range&step=1h"
http_expect 401 "/groups"
# Unknown paths and wrong methods learn nothing before the token.
http_expect 401 "/nope"
http_expect 401 "/quantiles" -X POST
http_expect 200 "/quantiles?$range" "${good[@]}"
grep -q '"sample_count":[1-9]' "$tmp/body" || fail "authorized answer: $(cat "$tmp/body")"
http_expect 200 "/quantiles?$range" -H "Authorization: bearer $token"
http_expect 404 "/nope" "${good[@]}"
http_expect 405 "/quantiles?$range" -X POST "${good[@]}"
http_expect 400 "/quantiles?from=x&to=1" "${good[@]}"
http_expect 200 "/hosts?from=$d1&to=$((d1 + 7200))" "${good[@]}"

# --- /metrics -------------------------------------------------------------
http_expect 200 "/metrics" "${good[@]}"
header_is Content-Type 'text/plain; version=0.0.4; charset=utf-8'
cp "$tmp/body" "$tmp/metrics"
for want in \
	'rttq_api_requests_total{path="/quantiles",code="401"} 6' \
	'rttq_api_requests_total{path="/quantiles",code="200"} 2' \
	'rttq_api_requests_total{path="/quantiles",code="405"} 1' \
	'rttq_api_requests_total{path="/quantiles",code="400"} 1' \
	'rttq_api_requests_total{path="/healthz",code="200"} 1' \
	'rttq_api_requests_total{path="/metrics",code="401"} 1' \
	'rttq_api_requests_total{path="other",code="401"} 1' \
	'rttq_api_requests_total{path="other",code="404"} 1' \
	'rttq_api_requests_total{path="/hosts",code="200"} 1' \
	'rttq_api_request_duration_seconds_count{path="/quantiles"} 10' \
	'rttq_api_request_duration_seconds_bucket{path="/quantiles",le="+Inf"} 10' \
	'rttq_api_request_duration_seconds_count{path="/metrics"} 1' \
	'rttq_api_store_errors_total 0'; do
	grep -qxF "$want" "$tmp/metrics" || fail "/metrics lacks '$want'"
done
# Two /quantiles answers over 2 h of 5 s records: 1440 records each,
# or fewer through hourly rollups.
read_total=$(metric rttq_api_records_read_total)
[ -n "$read_total" ] && [ "$read_total" -gt 0 ] && [ "$read_total" -le 2880 ] ||
	fail "records_read_total '$read_total' not in 1..2880"
# Buckets are cumulative: never decreasing, ending at _count.
awk -F'[ {,"]+' '/^rttq_api_request_duration_seconds_bucket/ {
		if ($3 == prev && $NF + 0 < last + 0) bad = 1
		prev = $3; last = $NF }
	END { exit bad }' "$tmp/metrics" || fail "buckets not cumulative"
if promtool check metrics <"$tmp/metrics" >"$tmp/promtool" 2>&1; then
	echo "promtool check metrics: ok"
else
	fail "promtool check metrics: $(cat "$tmp/promtool")"
fi

# --- limits ---------------------------------------------------------------
big=$(head -c 5000 /dev/zero | tr '\0' a)
http_expect 414 "/quantiles?$range&host=$big" "${good[@]}"
# Headers beyond 8 KiB: evhttp refuses (400 or 431) or closes.
got=$(http_status "/healthz" -H "X-Big: $big$big")
case $got in
4*) ;;
000) ;;
*) fail "oversized header -> $got" ;;
esac
# A body over 4 KiB: 413 from evhttp before any handler runs.
got=$(http_status "/quantiles" -X POST --data-binary "$big" "${good[@]}")
[ "$got" = 413 ] || fail "5000-byte body -> $got, expected 413"
# An idle client is cut off after --timeout 2 s.
start_s=$(date +%s%N)
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&3
timeout 10 cat <&3 >/dev/null
exec 3<&-
idle_ms=$((($(date +%s%N) - start_s) / 1000000))
if [ "$idle_ms" -lt 1500 ] || [ "$idle_ms" -gt 6000 ]; then
	fail "half a request held $idle_ms ms, expected about 2000"
else
	echo "idle connection closed after $idle_ms ms"
fi
http_expect 200 "/healthz"

# --- the token is never logged ---------------------------------------------
if grep -qF "$token" "$tmp/api.out" "$tmp/api.err"; then
	fail "the token appears in rttq-api's output"
fi
stop_server

# --- --max-connections ------------------------------------------------------
start --store "$store" --max-connections 2 --timeout 10
for _ in $(seq 40); do
	http_status "/healthz" >/dev/null
done
http_status "/metrics" >/dev/null
cp "$tmp/body" "$tmp/metrics"
# Only the /metrics request itself is open: closed ones were counted out.
[ "$(metric rttq_api_connections)" = 1 ] ||
	fail "connections gauge $(metric rttq_api_connections) after 40 closed"
[ "$(metric rttq_api_connections_total)" = 41 ] ||
	fail "connections_total $(metric rttq_api_connections_total), expected 41"
# Two idle clients take both slots once rttq-api has accepted them (none
# left in its listen queue): the third waits in the backlog...
# shellcheck disable=SC2317  # run by wait_until
listen_queue_empty() {
	[ "$(ss -Hltn "sport = :$port" | awk '{ print $2; exit }')" = 0 ]
}
exec 4<>"/dev/tcp/127.0.0.1/$port"
exec 5<>"/dev/tcp/127.0.0.1/$port"
wait_until 5 "rttq-api accepting two idle connections" listen_queue_empty
got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$base/healthz")
[ "$got" = 000 ] || fail "third connection over --max-connections 2 -> $got"
# ...and is served as soon as one of them leaves.
exec 4<&-
got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/healthz")
[ "$got" = 200 ] || fail "after a slot freed -> $got, expected 200"
exec 5<&-
echo "--max-connections 2: third client waited, then served"
stop_server

# --- store goes bad, then comes back ----------------------------------------
start --store "$store"
db="$tmp/store/api.db"
http_expect 200 "/healthz"
http_expect 200 "/quantiles?$range"
cp "$db" "$tmp/db.good"
cp "$tmp/body" "$tmp/answer.good"
# Garbage over the file in place (the server holds it open), and over the
# WAL index so SQLite does not trust its cached pages.
size=$(stat -c %s "$db")
yes 'not a database' | head -c "$size" | dd of="$db" conv=notrunc status=none
if [ -e "$db-shm" ]; then
	yes 'garbage' | head -c "$(stat -c %s "$db-shm")" |
		dd of="$db-shm" conv=notrunc status=none
fi
# healthz_becomes CODE: /healthz reads the last of the pings sent every
# second, so it shows a change within about one.
healthz_becomes() {
	for _ in $(seq 30); do
		[ "$(http_status /healthz)" = "$1" ] && return 0
		sleep 0.1
	done
	fail "/healthz did not become $1 within 3 s: $(cat "$tmp/body")"
}
healthz_becomes 503
grep -q "store" "$tmp/body" || fail "/healthz 503 body does not say 'store': $(cat "$tmp/body")"
# A worker's SQLite connection may still answer from pages it cached
# before the damage (the WAL it checks is unchanged); what must hold is a
# JSON 503 naming the store for every read that reaches the file, never a
# crash or a wrong status.
store_503=0
for path in "/quantiles?$range" "/series?$range&step=1h" \
	"/hosts?from=$d1&to=$((d1 + 7200))"; do
	got=$(http_status "$path")
	case $got in
	503)
		store_503=$((store_503 + 1))
		grep -q "store" "$tmp/body" ||
			fail "503 body does not say 'store': $(cat "$tmp/body")"
		;;
	200) echo "$path answered from a connection's cache" ;;
	*) fail "$path -> $got on a damaged store" ;;
	esac
done
[ "$store_503" -ge 1 ] || fail "no query saw the damaged store"
kill -0 "$server_pid" 2>/dev/null || fail "rttq-api died on a bad store"
http_expect 400 "/quantiles?from=x&to=1" # bad input is still the client's fault
http_status "/metrics" >/dev/null
cp "$tmp/body" "$tmp/metrics"
# One per 503 answer: the queries' and the first /healthz probe that saw
# the ping fail (earlier probes in healthz_becomes got 200).
[ "$(metric rttq_api_store_errors_total)" = $((store_503 + 1)) ] ||
	fail "store_errors_total $(metric rttq_api_store_errors_total), expected $((store_503 + 1))"
grep -qxF 'rttq_api_requests_total{path="/healthz",code="503"} 1' "$tmp/metrics" ||
	fail "no 503 counted for /healthz"
# Put the file back; a zeroed WAL index makes SQLite rebuild it.
dd if="$tmp/db.good" of="$db" conv=notrunc status=none
if [ -e "$db-shm" ]; then
	head -c "$(stat -c %s "$db-shm")" /dev/zero |
		dd of="$db-shm" conv=notrunc status=none
fi
healthz_becomes 200
http_expect 200 "/quantiles?$range"
cmp -s "$tmp/body" "$tmp/answer.good" ||
	fail "answer after recovery differs: $(cat "$tmp/body")"
echo "store unreachable -> 503, recovered"

# --- SIGTERM: clean exit ----------------------------------------------------
kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=
[ "$rc" -eq 0 ] || fail "rttq-api exited $rc on SIGTERM"

harness_finish
