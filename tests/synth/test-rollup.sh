#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# `rttq rollup` from the command line on a temporary SQLite file written by
# `rttq synth`: the first run builds every complete span of every group,
# the second builds nothing; a fleet `rttq query` answers the same before
# and after (it reads fleet records after); bad flags exit 2 naming the
# flag, a store that is not set up exits 1 saying who sets it up, and
# rttq-agent refuses the reserved host name.
#
# Usage: test-rollup.sh RTTQ RTTQ_AGENT
set -u

rttq=$1
agent=$2
# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start rollup-test
store="sqlite:$tmp/rollup.db"

expect_eq() { # what got want
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# 2 hosts x 1 day, "all" + 1 peer group, ending 2023-11-17T00:00:00Z.
end=1700179200
start=$((end - 86400))
"$rttq" synth --store "$store" --hosts 2 --days 1 --groups 1 --seed 3 \
	--end "$end" 2>/dev/null || die "rttq synth failed"

"$rttq" query --store "$store" --from "$start" --to "$((end - 60))" \
	>"$tmp/before.json" || die "rttq query failed"

# Every span of the day: 288 five-minute, 24 hours, 1 day, per group.
"$rttq" rollup --store "$store" --from "$start" --to "$((end - 1))" \
	>"$tmp/run1" || die "first rttq rollup failed"
cat "$tmp/run1"
expect_eq "first run" "$(cat "$tmp/run1")" \
	"rttq rollup: 2 groups: 0 spans built, 626 rebuilt, 0 left for the next run, 0 fresh"
"$rttq" rollup --store "$store" --from "$start" --to "$((end - 1))" \
	>"$tmp/run2" || die "second rttq rollup failed"
expect_eq "second run" "$(cat "$tmp/run2")" \
	"rttq rollup: 2 groups: 0 spans built, 0 rebuilt, 0 left for the next run, 626 fresh"

"$rttq" query --store "$store" --from "$start" --to "$((end - 60))" \
	>"$tmp/after.json" || die "rttq query failed"
count() { sed -n 's/.*"sample_count":\([0-9]*\).*/\1/p' "$1"; }
hosts() { sed -n 's/.*"hosts":\([0-9]*\).*/\1/p' "$1"; }
expect_eq "fleet sample count after rollup" "$(count "$tmp/after.json")" \
	"$(count "$tmp/before.json")"
expect_eq "fleet hosts after rollup" "$(hosts "$tmp/after.json")" 2
# The fleet's day: one record read instead of one per host.
grep -q '"records":{"1d":1,"1h":0,"5m":0,"1m":0},"records_read":1' \
	"$tmp/after.json" ||
	fail "after rollup the day is not one record: $(cat "$tmp/after.json")"
"$rttq" query --store "$store" --host '*' --from "$start" \
	--to "$((end - 60))" >/dev/null 2>"$tmp/star.err" &&
	fail "rttq query --host '*' answered"
grep -q "reserved" "$tmp/star.err" || fail "host '*': $(cat "$tmp/star.err")"

refused() { # exit-status needle args...
	want=$1
	needle=$2
	shift 2
	"$@" >/dev/null 2>"$tmp/err"
	got=$?
	expect_eq "exit status of $*" "$got" "$want"
	grep -q -- "$needle" "$tmp/err" ||
		fail "$*: no '$needle' in: $(cat "$tmp/err")"
}
refused 2 "--store is required" "$rttq" rollup
refused 2 "--grace" "$rttq" rollup --store "$store" --grace 10s
refused 2 "--grace" "$rttq" rollup --store "$store" --grace soon
refused 2 "--from" "$rttq" rollup --store "$store" --from yesterday
refused 2 "--from is after --to" "$rttq" rollup --store "$store" \
	--from "$end" --to "$start"
refused 2 "--period" "$rttq" rollup --store "$store" --period 7
refused 1 "rttq store init" "$rttq" rollup --store "sqlite:$tmp/none.db"
[ -e "$tmp/none.db" ] && fail "rttq rollup created a store"
refused 2 "reserved" "$agent" --host '*' --store "sqlite:$tmp/agent.db"

harness_finish
