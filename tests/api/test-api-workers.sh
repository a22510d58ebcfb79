#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# rttq-api reads the store on its query workers, never on the event loop:
# while heavy fleet /series queries keep the one worker (--workers 1)
# busy, /healthz and /metrics still answer 200; a full queue
# (--max-queue 1) answers 503 with Retry-After and a JSON error, the
# queries that got in answer 200, and the server stays up.  With
# --timeout 1 and far more than a second of queued work, the queries past
# it are answered 504 with a JSON error (never a closed connection), the
# metrics count them, and their work is cancelled: the worker is free for
# the next query at once.  Latencies are printed, not asserted (bench/
# measures them).
#
# Usage: test-api-workers.sh RTTQ_API RTTQ
set -u

api=$1
rttq=$2
. "$(dirname "$0")/../support/harness.sh"
harness_start api-workers

# 20 hosts over 2 days: a fleet /series at 1-minute steps reads ~38,000
# base records, a few hundred ms of work for the one worker.
now=$(date -u +%s)
"$rttq" synth --store "sqlite:$tmp/s.db" --hosts 20 --days 2 --groups 1 \
	--seed 1 --end "$now" >"$tmp/synth.out" 2>&1 ||
	die "rttq synth: $(cat "$tmp/synth.out")"
start_api "$tmp/api" "$api" --store "sqlite:$tmp/s.db" --workers 1 \
	--max-queue 1
heavy="$base/series?from=$((now - 31 * 3600))&to=$now&step=1m"

# Eight heavy queries at once, and /healthz and /metrics meanwhile.
query_pids=
for i in 1 2 3 4 5 6 7 8; do
	curl -s -o "$tmp/q$i.body" -D "$tmp/q$i.headers" \
		-w '%{http_code}\n' --max-time 60 "$heavy" >"$tmp/q$i.code" &
	query_pids="$query_pids $!"
done
: >"$tmp/health"
for i in $(seq 20); do
	for path in /healthz /metrics; do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
			--max-time 10 "$base$path" >>"$tmp/health"
	done
done
# shellcheck disable=SC2086 # one pid a word
wait $query_pids

grep -qv '^200 ' "$tmp/health" &&
	fail "/healthz or /metrics did not answer 200 while queries ran: $(sort "$tmp/health" | uniq -c | head -5)"
echo "/healthz and /metrics during the queries: slowest $(sort -k2 -n "$tmp/health" | tail -1 | cut -d' ' -f2) s of 40"

ok=0
busy=0
for i in 1 2 3 4 5 6 7 8; do
	code=$(cat "$tmp/q$i.code")
	case "$code" in
	200)
		ok=$((ok + 1))
		grep -q '"points":\[' "$tmp/q$i.body" ||
			fail "query $i: 200 without points"
		;;
	503)
		busy=$((busy + 1))
		grep -qi '^Retry-After: 1' "$tmp/q$i.headers" ||
			fail "query $i: 503 without Retry-After"
		grep -q '"error":"server busy' "$tmp/q$i.body" ||
			fail "query $i: 503 body $(cat "$tmp/q$i.body")"
		;;
	*)
		fail "query $i: status $code"
		;;
	esac
done
echo "eight concurrent heavy queries on one worker and a queue of one: $ok answered, $busy refused with 503"
[ "$ok" -ge 1 ] || fail "no query answered"
[ "$busy" -ge 1 ] || fail "a queue of one took eight queries"

# The server is still up, answers a query again and counted the 503s.
http_expect 200 "/series?from=$((now - 31 * 3600))&to=$now&step=1m" \
	--max-time 60
curl -s "$base/metrics" >"$tmp/metrics"
grep -q 'rttq_api_requests_total{path="/series",code="503"}' \
	"$tmp/metrics" || fail "/metrics does not count the 503s"
stop_pid "$server_pid"

# --- --timeout: 504, and the work stops ---------------------------------------
# Sixteen heavy queries on one worker: several seconds of work if each ran
# to the end, queued behind each other, against a one-second limit.
start_api "$tmp/api2" "$api" --store "sqlite:$tmp/s.db" --workers 1 \
	--max-queue 32 --timeout 1
heavy="$base/series?from=$((now - 31 * 3600))&to=$now&step=1m"
query_pids=
for i in $(seq 16); do
	curl -s -o "$tmp/t$i.body" -w '%{http_code}\n' --max-time 60 \
		"$heavy" >"$tmp/t$i.code" &
	query_pids="$query_pids $!"
done
# shellcheck disable=SC2086 # one pid a word
wait $query_pids
ok=0
late=0
for i in $(seq 16); do
	code=$(cat "$tmp/t$i.code")
	case "$code" in
	200) ok=$((ok + 1)) ;;
	504)
		late=$((late + 1))
		grep -q '^{"error":"query took longer than the server.s --timeout of 1 s and was cancelled' \
			"$tmp/t$i.body" || fail "query $i: 504 body $(cat "$tmp/t$i.body")"
		;;
	000) fail "query $i: connection closed without an answer" ;;
	*) fail "query $i: status $code, expected 200 or 504" ;;
	esac
done
echo "sixteen heavy queries on one worker with --timeout 1: $ok answered, $late answered 504"
[ "$late" -ge 1 ] || fail "no query was answered 504"
# Cancelled work ends at once: the worker takes the next query straight
# away and answers it within the same one-second limit, where the
# abandoned queries' remaining work would take seconds.
http_expect 200 "/series?from=$((now - 31 * 3600))&to=$now&step=1m" \
	--max-time 60
curl -s "$base/metrics" >"$tmp/metrics"
grep -qxF "rttq_api_requests_total{path=\"/series\",code=\"504\"} $late" \
	"$tmp/metrics" || fail "/metrics does not count $late 504s: $(grep 'code="504"' "$tmp/metrics")"

harness_finish
