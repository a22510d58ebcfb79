#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# rttq synth into a temporary SQLite file, read back with `rttq query`:
# record and sample counts match what synth reports, whole days come from
# 1d records, cut ranges from 1h, 5m and 1m ones, the data has a daily cycle, the same seed gives the same
# data, and bad flags are refused naming the flag (exit 2).
#
# Usage: test-synth.sh RTTQ
set -u

rttq=$1
# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start synth-test
store="sqlite:$tmp/synth.db"

expect_eq() { # what got want
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# 2 hosts x 2 days x 2 peer groups, ending 2023-11-17T00:00:00Z.
end=1700179200
start=$((end - 2 * 86400))
"$rttq" synth --store "$store" --hosts 2 --days 2 --groups 2 --seed 7 \
	--end "$end" 2>"$tmp/synth.err" || {
	cat "$tmp/synth.err"
	die "rttq synth failed"
}
cat "$tmp/synth.err"
summary=$(tail -n 1 "$tmp/synth.err")
records=$(echo "$summary" | sed -n 's/.*wrote \([0-9]*\) records.*/\1/p')
base=$(echo "$summary" | sed -n 's/.*(\([0-9]*\) base.*/\1/p')
rollups=$(echo "$summary" | sed -n 's/.* \([0-9]*\) rollups.*/\1/p')
samples=$(echo "$summary" | sed -n 's/.*), \([0-9]*\) samples in "all".*/\1/p')
peer_samples=$(echo "$summary" | sed -n 's/.* \([0-9]*\) in peer groups.*/\1/p')
[ -n "$samples" ] && [ "$samples" -gt 0 ] ||
	die "no sample count in: $summary"
# Every group has samples in every minute: 2 x 2 x 1440 x 3 base records;
# 576 five-minute spans + 48 hours + 2 days of rollups per host and group.
expect_eq "base records" "$base" $((2 * 2 * 1440 * 3))
expect_eq "rollup records" "$rollups" $((2 * 3 * (576 + 48 + 2)))
expect_eq "records" "$records" $((base + rollups))
grep -q "$(printf '\r')" "$tmp/synth.err" &&
	fail "progress written to a non-terminal"

field() { # json name -> value of a number or string field
	echo "$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([0-9.]*\).*/\1/p"
}

query() { # from to [--host H] [--group G] -> JSON
	from=$1
	to=$2
	shift 2
	"$rttq" query --store "$store" --from "$from" --to "$to" "$@"
}

# The whole range, fleet-wide: every sample, from 1d records only.
last=$((end - 60))
whole=$(query "$start" "$last")
expect_eq "whole range count" "$(field "$whole" sample_count)" "$samples"
echo "$whole" | grep -q '"records":{"1d":4,"1h":0,"5m":0,"1m":0}' ||
	fail "whole range not from 4 day records: $whole"
p50=$(field "$whole" p50)
p99=$(field "$whole" p99)
awk -v a="$p50" -v b="$p99" 'BEGIN { exit !(a > 0.1 && a < 100 && b > a) }' ||
	fail "implausible quantiles p50 $p50 ms p99 $p99 ms"

# Each day, fleet-wide, from its two 1d records; together every sample.
day1=$(query "$start" $((start + 86400 - 60)))
day2=$(query $((start + 86400)) "$last")
echo "$day1" | grep -q '"records":{"1d":2,"1h":0,"5m":0,"1m":0}' ||
	fail "day 1 not from 2 day records: $day1"
expect_eq "day 1 + day 2 count" \
	$(($(field "$day1" sample_count) + $(field "$day2" sample_count))) \
	"$samples"

# Per host and per peer group, the parts add up.
h1=$(field "$(query "$start" "$last" --host host-1)" sample_count)
h2=$(field "$(query "$start" "$last" --host host-2)" sample_count)
expect_eq "host-1 + host-2 count" $((h1 + h2)) "$samples"
g1=$(field "$(query "$start" "$last" --group raddr:10.0.0.1)" sample_count)
g2=$(field "$(query "$start" "$last" --group raddr:10.0.0.2)" sample_count)
expect_eq "peer group counts" $((g1 + g2)) "$peer_samples"

# A range cut inside hours uses hour, 5-minute and base records (4 of
# them per host: 05:02..05:04 and 03:30); its count still adds up across
# hosts.
cut_from=$((start + 5 * 3600 + 120))
cut_to=$((start + 86400 + 3 * 3600 + 1800))
cut=$(query "$cut_from" "$cut_to")
c1=$(field "$(query "$cut_from" "$cut_to" --host host-1)" sample_count)
c2=$(field "$(query "$cut_from" "$cut_to" --host host-2)" sample_count)
expect_eq "cut range count" "$(field "$cut" sample_count)" $((c1 + c2))
echo "$cut" | grep -q '"1d":0,"1h":[1-9][0-9]*,"5m":[1-9][0-9]*,"1m":8}' ||
	fail "cut range should use hours, 5 minutes and 8 minutes: $cut"

# A daily cycle: host-1's hourly medians differ by at least 10 %.
lo=
hi=
h=0
while [ $h -lt 24 ]; do
	t=$((start + h * 3600))
	m=$(field "$(query "$t" $((t + 3540)) --host host-1)" p50)
	lo=$(awk -v a="$lo" -v b="$m" 'BEGIN { print (a == "" || b < a) ? b : a }')
	hi=$(awk -v a="$hi" -v b="$m" 'BEGIN { print (a == "" || b > a) ? b : a }')
	h=$((h + 1))
done
awk -v a="$lo" -v b="$hi" 'BEGIN { exit !(b >= 1.1 * a) }' ||
	fail "no daily cycle: hourly p50 between $lo and $hi ms"

# Same seed, same data (one writer, another file).
"$rttq" synth --store "sqlite:$tmp/again.db" --hosts 2 --days 2 --groups 2 \
	--seed 7 --end "$end" --jobs 1 2>/dev/null || fail "second synth failed"
again=$("$rttq" query --store "sqlite:$tmp/again.db" --from "$start" \
	--to "$last")
expect_eq "same seed, same answer" "$again" "$whole"

# Bad flags: exit 2, and the message names the flag.
expect_usage() { # flag-named-in-message args...
	flag=$1
	shift
	"$rttq" synth "$@" >/dev/null 2>"$tmp/usage.err"
	rc=$?
	[ $rc -eq 2 ] || fail "synth $*: exit $rc, expected 2"
	grep -q -- "$flag" "$tmp/usage.err" ||
		fail "synth $*: message does not name $flag: $(cat "$tmp/usage.err")"
}
s="--store sqlite:$tmp/bad.db"
expect_usage --store --hosts 1 --days 1
expect_usage --hosts $s --days 1
expect_usage --days $s --hosts 1
expect_usage --hosts $s --hosts 0 --days 1
expect_usage --hosts $s --hosts 12x --days 1
expect_usage --days $s --hosts 1 --days -1
expect_usage --groups $s --hosts 1 --days 1 --groups 65
expect_usage --period $s --hosts 1 --days 1 --period 7
expect_usage --period $s --hosts 1 --days 1 --period 2h
expect_usage --end $s --hosts 1 --days 1 --end yesterday
expect_usage --jobs $s --hosts 1 --days 1 --jobs 0
expect_usage --bogus $s --hosts 1 --days 1 --bogus
[ -e "$tmp/bad.db" ] && fail "a refused synth created its store"

echo "$records records, $samples samples"
harness_finish
