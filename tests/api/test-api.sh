#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# rttq-api over real HTTP (curl) against a SQLite store filled as the agent
# fills it: /quantiles must equal `rttq query` byte for byte, every
# malformed request gets its status and a JSON error, and the server is
# still answering afterwards.
#
# Then the metrics beside rtt (fill-metrics): /counters equals `rttq
# counters` byte for byte with exact sums, metric= picks jitter, and a
# counter or unknown metric is a 400 naming it.
#
# Usage: test-api.sh RTTQ_API RTTQ FILL_STORE FILL_METRICS
set -u

api=$1
rttq=$2
fill=$3
fill_metrics=$4
# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start api-test
store="sqlite:$tmp/api.db"

# 2023-11-15T00:00:00Z, 5 s periods: host a for 28 h, host b for 25 h.
d1=1700006400
"$fill" "$store" a 5 $((d1 - 7200)) $((d1 + 86400 + 7200)) 8 2 \
	raddr:10.0.0.2 >/dev/null || die "fill a failed"
"$fill" "$store" b 5 $((d1 - 1800)) $((d1 + 86400 + 1800)) 8 3 \
	>/dev/null || die "fill b failed"

# No --period: the API reads the agents' 5 s base period from the store.
start_api "$tmp/api" "$api" --store "$store" --max-range 30d
echo "rttq-api on port $port"

# same QUERYSTRING RTTQ-ARGS...: /quantiles body == rttq query stdout.
same() {
	qs=$1
	shift
	got=$(http_status "/quantiles?$qs")
	[ "$got" = 200 ] || { fail "/quantiles?$qs -> $got"; return; }
	"$rttq" query --store "$store" "$@" >"$tmp/cli" ||
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
# ... and says why.
grep -q '"no_data":"out_of_range"' "$tmp/body" ||
	fail "no-data reason: $(cat "$tmp/body")"
same "from=1700006400&to=1700092799&host=c" \
	--from 1700006400 --to 1700092799 --host c
grep -q '"no_data":"no_such_host"' "$tmp/body" ||
	fail "no such host: $(cat "$tmp/body")"
same "from=1700006400&to=1700092799&host=b&group=raddr:10.0.0.2" \
	--from 1700006400 --to 1700092799 --host b --group raddr:10.0.0.2
grep -q '"no_data":"no_such_group"' "$tmp/body" ||
	fail "no such group: $(cat "$tmp/body")"
# period is a filter: the agents wrote 5 s periods, none of 1 minute.
same "from=1700006400&to=1700092799&period=1m" \
	--from 1700006400 --to 1700092799 --period 1m
grep -q '"sample_count":0,.*"no_data":"no_such_period"' "$tmp/body" ||
	fail "period filter: $(cat "$tmp/body")"
same "from=1700006400&to=1700092799&period=5s" \
	--from 1700006400 --to 1700092799 --period 5s
grep -q '"agg_level":"5s","sample_count":[1-9]' "$tmp/body" ||
	fail "period=5s: $(cat "$tmp/body")"
# An unencoded '+' in an offset arrives as a space and still parses.
http_expect 200 "/quantiles?from=2023-11-15T01:00:00+01:00&to=2023-11-15T01:00:00Z"
grep -q '"from":"2023-11-15T00:00:00Z"' "$tmp/body" ||
	fail "'+' offset: $(cat "$tmp/body")"

# The seed's shape, first keys in order.
http_status "/quantiles?from=2023-11-15T00:00:00Z&to=2023-11-15T23:59:55Z" >/dev/null
grep -Eq '^\{"agg_level":"5s","sample_count":[0-9]+,"quantiles":\{"p50":"[0-9]+\.[0-9]{3}","p75":"[0-9]+\.[0-9]{3}","p90":"[0-9]+\.[0-9]{3}","p95":"[0-9]+\.[0-9]{3}","p99":"[0-9]+\.[0-9]{3}"\}' \
	"$tmp/body" || fail "seed shape: $(cat "$tmp/body")"
echo "sample: $(cat "$tmp/body")"

# --- other endpoints ----------------------------------------------------
http_expect 200 "/hosts?from=1700000000&to=1700100000"
[ "$(cat "$tmp/body")" = '{"hosts":["a","b"],"metrics":{"a":["rtt"],"b":["rtt"]}}' ] ||
	fail "/hosts: $(cat "$tmp/body")"
http_expect 200 "/groups?host=a&from=1700000000&to=1700100000"
[ "$(cat "$tmp/body")" = '{"groups":["all","raddr:10.0.0.2"],"metrics":{"all":["rtt"],"raddr:10.0.0.2":["rtt"]}}' ] ||
	fail "/groups?host=a: $(cat "$tmp/body")"
http_expect 200 "/groups?host=b&from=1700000000&to=1700100000"
[ "$(cat "$tmp/body")" = '{"groups":["all"],"metrics":{"all":["rtt"]}}' ] ||
	fail "/groups?host=b: $(cat "$tmp/body")"
http_expect 200 "/hosts"
http_expect 200 "/healthz"
[ "$(cat "$tmp/body")" = '{"status":"ok"}' ] || fail "/healthz body"
http_expect 200 "/series?from=2023-11-15T00:00:00Z&to=2023-11-15T23:59:59Z&step=1h&host=a"
[ "$(grep -o '"t":' "$tmp/body" | wc -l)" -eq 24 ] ||
	fail "/series: not 24 points: $(head -c 300 "$tmp/body")"
http_expect 200 "/series?from=2023-11-15T00:00:00Z&to=2023-11-15T00:09:59Z&step=1m&q=50"
[ "$(grep -o '"t":' "$tmp/body" | wc -l)" -eq 10 ] ||
	fail "/series 1m: not 10 points"
http_expect 200 "/quantiles?from=1700006400&to=1700006400" -I

# --- malformed requests -------------------------------------------------
q="/quantiles"
http_expect 400 "$q"
grep -q "'from'" "$tmp/body" || fail "missing from not named"
http_expect 400 "$q?from=2023-11-15T00:00:00Z"
grep -q "'to'" "$tmp/body" || fail "missing to not named"
http_expect 400 "$q?from=yesterday&to=1700006400"
http_expect 400 "$q?from=2023-02-30T00:00:00Z&to=1700006400"
http_expect 400 "$q?from=2023-11-15T24:00:00Z&to=1700006400"
http_expect 400 "$q?from=2023-11-15T00:00:00&to=1700006400"
http_expect 400 "$q?from=2023-11-15T00:00:00Zjunk&to=1700006400"
http_expect 400 "$q?from=1700006400&to=1700006400x"
http_expect 400 "$q?from=1700092800&to=1700006400"
grep -q "after" "$tmp/body" || fail "from > to message"
http_expect 400 "$q?from=1600000000&to=1700006400"
grep -q "max-range" "$tmp/body" || fail "max-range message"
http_expect 400 "$q?from=1700006400&to=1700092800&q=50,abc"
grep -q "'q'" "$tmp/body" || fail "bad q not named"
http_expect 400 "$q?from=1700006400&to=1700092800&q=100.5"
http_expect 400 "$q?from=1700006400&to=1700092800&q=50,50"
http_expect 400 "$q?from=1700006400&to=1700092800&q="
http_expect 400 "$q?from=1700006400&to=1700092800&host="
http_expect 400 "$q?from=1700006400&to=1700092800&period=7"
grep -q "'period'" "$tmp/body" || fail "bad period not named"
http_expect 400 "$q?from=1700006400&to=1700092800&frm=1"
http_expect 400 "$q?from=1700006400&from=1700006400&to=1700092800"
http_expect 400 "$q?from=1700006400&to=1700092800&junk"
http_expect 400 "/series?from=1700006400&to=1700092800"
http_expect 400 "/series?from=1700006400&to=1700092800&step=7m"
grep -q "'step'" "$tmp/body" || fail "bad step not named"
http_expect 400 "/series?from=1600006400&to=1602092800&step=1m"
http_expect 400 "/groups?from=1700006400&to=1600092800"
http_expect 400 "/healthz?x=1"
http_expect 404 "/nope"
http_expect 404 "/quantiles/"
http_expect 404 "/nope/deeper" # "/" is the dashboard page (api/dashboard.c)
http_expect 405 "$q?from=1700006400&to=1700092800" -X POST
http_expect 405 "/healthz" -X DELETE
http_expect 405 "/hosts" -X PUT -d 'x=1'
# Oversized header and URI: refused, the server carries on.
big=$(head -c 10000 /dev/zero | tr '\0' a)
got=$(http_status "/healthz" -H "X-Big: $big")
case $got in
4*) ;;
000) ;; # evhttp may just close the connection
*) fail "oversized header -> $got" ;;
esac
got=$(http_status "/quantiles?from=1&to=2&host=$big")
case $got in
4*) ;;
000) ;;
*) fail "oversized URI -> $got" ;;
esac
# A client that connects and sends half a request, then goes away.
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' |
	curl -s --max-time 2 "telnet://127.0.0.1:$port" >/dev/null 2>&1

# --- still alive --------------------------------------------------------
http_expect 200 "/healthz"
kill -0 "$server_pid" 2>/dev/null || fail "rttq-api died"
same "from=2023-11-14T23:00:00Z&to=2023-11-16T01:00:00Z" \
	--from 2023-11-14T23:00:00Z --to 2023-11-16T01:00:00Z

# --- metrics beside rtt -------------------------------------------------
# Host a, 2023-11-15T00:00Z, 120 periods of 60 s: counters and jitter.
"$fill_metrics" "$store" a "$d1" 120 || die "fill-metrics failed"
# Exact sums, computed here the way fill-metrics.c makes them.
fast=0 timeout=0 k=0
while [ $k -lt 120 ]; do
	fast=$((fast + k % 5))
	[ $((k % 7)) -eq 0 ] && timeout=$((timeout + 1))
	k=$((k + 1))
done
cq="from=2023-11-15T00:00:00Z&to=2023-11-15T01:59:00Z&host=a"
http_expect 200 "/counters?$cq&names=retrans.*,segs.out"
want="{\"from\":\"2023-11-15T00:00:00Z\",\"to\":\"2023-11-15T01:59:00Z\",\"host\":\"a\",\"group\":\"all\",\"hosts\":1,\"seconds\":7200,\"counters\":{\"retrans.fast\":$fast,\"retrans.timeout\":$timeout,\"segs.out\":12000},\"per_second\":{\"retrans.fast\":0.0333333333,\"retrans.timeout\":0.0025,\"segs.out\":1.66666667}}"
[ "$(cat "$tmp/body")" = "$want" ] ||
	fail "/counters: $(cat "$tmp/body") (want $want)"
"$rttq" counters --store "$store" --from 2023-11-15T00:00:00Z \
	--to 2023-11-15T01:59:00Z --host a --names 'retrans.*,segs.out' \
	>"$tmp/cli" || fail "rttq counters failed"
cmp -s "$tmp/body" "$tmp/cli" ||
	fail "/counters differs from rttq counters: $(cat "$tmp/cli")"
# The fleet, every counter, per hour: the same sums split in two.
http_expect 200 "/counters?from=2023-11-15T00:00:00Z&to=2023-11-15T01:59:00Z&step=1h"
grep -q '"hosts":1,"seconds":7200,"counters":{"drops.tcp.netfilter_drop":240,' \
	"$tmp/body" || fail "/counters fleet: $(cat "$tmp/body")"
grep -q '"step":"1h","points":\[{"t":"2023-11-15T00:00:00Z","counters":{"drops.tcp.netfilter_drop":120,' \
	"$tmp/body" || fail "/counters points: $(cat "$tmp/body")"
"$rttq" counters --store "$store" --from 2023-11-15T00:00:00Z \
	--to 2023-11-15T01:59:00Z --step 1h >"$tmp/cli" ||
	fail "rttq counters --step failed"
cmp -s "$tmp/body" "$tmp/cli" ||
	fail "/counters step differs from rttq counters: $(cat "$tmp/cli")"
http_expect 400 "/counters?$cq&names=Retrans"
grep -q "'names'" "$tmp/body" || fail "bad names not named"
http_expect 400 "/counters?$cq&step=7m"
http_expect 400 "/counters?$cq&q=50"
# jitter: 1 + 2 + ... + 120 samples of 300 us, apart from rtt.
same "$cq&metric=jitter&q=50" --from 2023-11-15T00:00:00Z \
	--to 2023-11-15T01:59:00Z --host a --metric jitter --q 50
grep -q '^{"agg_level":"1m","sample_count":7260,"quantiles":{"p50":"0.300"},.*"group":"all","metric":"jitter","unit":"ms","hosts":1,' \
	"$tmp/body" || fail "metric=jitter: $(cat "$tmp/body")"
# sndbuf: in per cent with 3 decimals, as the answer says ("unit").
same "$cq&metric=sndbuf&q=50" --from 2023-11-15T00:00:00Z \
	--to 2023-11-15T01:59:00Z --host a --metric sndbuf --q 50
grep -q '^{"agg_level":"1m","sample_count":240,"quantiles":{"p50":"32.100"},.*"group":"all","metric":"sndbuf","unit":"%","hosts":1,"min_pct":"32.100","max_pct":"32.100","mean_pct":"32.100",' \
	"$tmp/body" || fail "metric=sndbuf: $(cat "$tmp/body")"
http_expect 200 "/series?$cq&step=1h&metric=sndbuf&q=50"
grep -q '"metric":"sndbuf","unit":"%",.*"points":\[{"t":"2023-11-15T00:00:00Z","count":120,"quantiles":{"p50":"32.100"}' \
	"$tmp/body" || fail "/series metric=sndbuf: $(cat "$tmp/body")"
# No metric: rtt, the answer as before (no "metric" key).
same "$cq&q=50" --from 2023-11-15T00:00:00Z --to 2023-11-15T01:59:00Z \
	--host a --q 50
grep -q '"metric"\|"unit"' "$tmp/body" && fail "rtt answer names a metric"
grep -q '"sample_count":0,' "$tmp/body" && fail "rtt answer lost its samples"
http_expect 200 "/series?$cq&step=1h&metric=jitter&q=50"
grep -q '"points":\[{"t":"2023-11-15T00:00:00Z","count":1830,' "$tmp/body" ||
	fail "/series metric=jitter: $(cat "$tmp/body")"
http_expect 400 "/quantiles?$cq&metric=counters"
grep -q "metric 'counters'" "$tmp/body" || fail "metric=counters message"
http_expect 400 "/series?$cq&step=1h&metric=nosuch"
grep -q "unknown metric 'nosuch'" "$tmp/body" || fail "unknown metric message"
http_expect 200 "/groups?host=a&from=1700000000&to=1700100000"
[ "$(cat "$tmp/body")" = '{"groups":["all","raddr:10.0.0.2"],"metrics":{"all":["counters","jitter","rtt","sndbuf"],"raddr:10.0.0.2":["rtt"]}}' ] ||
	fail "/groups with metrics: $(cat "$tmp/body")"

# --- SIGTERM: clean exit ------------------------------------------------
kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
[ "$rc" -eq 0 ] || fail "rttq-api exited $rc on SIGTERM"

harness_finish
