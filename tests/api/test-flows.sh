#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# GET /flows over real HTTP (curl, jq) against a SQLite store holding
# closed-flow records as rttq-agent --flow-log writes them (fill-flows):
# newest first with the flow fields, host and raddr filters, limit, the
# range reaching the end of 'to's second, bad parameters answered 400
# naming the parameter, and a store of schema 3 (before flow records)
# answering an empty array.
#
# Usage: test-flows.sh RTTQ_API FILL_FLOWS
set -u

api=$1
fill=$2
# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start flows-test
command -v jq >/dev/null || die "jq is needed (tools/bootstrap.sh)"
store="sqlite:$tmp/flows.db"

# 2023-11-15T00:00:00Z = 1700006400 s.
t=1700006400000
"$fill" "$store" "a,$((t + 1000)),10.0.0.2,443,100" \
	"a,$((t + 2000)),10.0.1.9,80,200" \
	"b,$((t + 3000)),fe80::2,22,300" \
	"a,$((t + 4500)),10.0.0.3,443,400" ||
	die "fill-flows failed"

start_api "$tmp/api" "$api" --store "$store"
echo "rttq-api on port $port"

# body_is JQ WANT WHAT: jq -c JQ of the body equals WANT.
body_is() {
	got=$(jq -c "$1" "$tmp/body" 2>&1)
	[ "$got" = "$2" ] || fail "$3: got $got, want $2"
}

range="from=1700006400&to=1700006404"
http_expect 200 "/flows?$range"
body_is '[.[] | .bytes_sent]' '[400,300,200,100]' "newest first, every host"
body_is '.[0] | [.host, .time, .raddr, .rport, .laddr, .lport]' \
	'["a","2023-11-15T00:00:04.500Z","10.0.0.3",443,"127.0.0.1",5000]' \
	"first record's fields"
body_is '.[0] | [.bytes_received, .duration_ms, .state, .group, .closed]' \
	'[800,250,"FIN-WAIT-2","all",true]' "first record's counters"
body_is '.[1] | [.host, .raddr, .rport]' '["b","fe80::2",22]' \
	"the IPv6 record"

http_expect 200 "/flows?$range&host=a"
body_is '[.[] | .bytes_sent]' '[400,200,100]' "host=a"
http_expect 200 "/flows?$range&raddr=10.0.0.0/24"
body_is '[.[] | .raddr]' '["10.0.0.3","10.0.0.2"]' "raddr=10.0.0.0/24"
http_expect 200 "/flows?$range&raddr=fe80::/10"
body_is '[.[] | .raddr]' '["fe80::2"]' "raddr=fe80::/10"
http_expect 200 "/flows?$range&raddr=10.0.0.2"
body_is '[.[] | .raddr]' '["10.0.0.2"]' "raddr of one address"
http_expect 200 "/flows?$range&limit=2"
body_is '[.[] | .bytes_sent]' '[400,300]' "limit=2"
http_expect 200 "/flows?$range&limit=1&raddr=10.0.0.0/16"
body_is '[.[] | .bytes_sent]' '[400]' "limit after the raddr filter"
# 'to' covers its whole second: 00:00:04.500 is in to=...04.
http_expect 200 "/flows?from=1700006404&to=1700006404"
body_is '[.[] | .time]' '["2023-11-15T00:00:04.500Z"]' "to's whole second"
http_expect 200 "/flows?from=2020-01-01T00:00:00Z&to=2020-01-01T01:00:00Z"
body_is '.' '[]' "no records in range"

# --- bad parameters: 400 naming the parameter ---------------------------
bad() {
	http_expect 400 "/flows?$1"
	grep -q "$2" "$tmp/body" || fail "/flows?$1: $(cat "$tmp/body")"
}
bad "to=1700006404" "'from'"
bad "from=1700006400" "'to'"
bad "from=1700006404&to=1700006400" "'from' is after 'to'"
bad "$range&limit=0" "parameter 'limit'"
bad "$range&limit=10001" "parameter 'limit'"
bad "$range&limit=ten" "parameter 'limit'"
bad "$range&raddr=10.0.0.0/33" "parameter 'raddr'"
bad "$range&raddr=host.example" "parameter 'raddr'"
bad "$range&raddr=" "raddr"
bad "$range&host=" "host"
bad "$range&group=all" "group"

kill -TERM "$server_pid"
wait "$server_pid"

# --- a store before flow records (schema 3): empty, not an error --------
"$fill" "sqlite:$tmp/old.db" "a,$t,10.0.0.2,443,1" || die "fill old failed"
"$fill" --schema3 "$tmp/old.db" || die "fill-flows --schema3 failed"
start_api "$tmp/api-old" "$api" --store "sqlite:$tmp/old.db"
http_expect 200 "/flows?$range"
body_is '.' '[]' "schema 3 store"
[ "$("$fill" --version "$tmp/old.db")" = 3 ] ||
	fail "rttq-api changed the schema 3 file"
kill -TERM "$server_pid"
wait "$server_pid"

harness_finish
