#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# `rttq query` gives the same answers from DynamoDB (dynalite) as from
# SQLite for the same records: `rttq synth` writes one synthetic fleet to
# both with the same seed, then fleet, host and group queries over edges,
# whole hours and whole days are compared byte for byte.
# Run under with-dynalite.  Usage: test-rttq-query.sh RTTQ
set -euo pipefail

rttq=$1
# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start query
dir=$tmp
lite="sqlite:$dir/ref.db"
dyn="dynamodb:rttq-query-$$"
end=1700012400 # 2023-11-15T01:40:00Z: a day boundary + 1 h 40 min

for store in "$lite" "$dyn"; do
	"$rttq" synth --store "$store" --hosts 3 --days 2 --groups 1 \
		--seed 7 --samples 200 --end "$end" --jobs 3 2>"$dir/synth.log" ||
		{ cat "$dir/synth.log"; die "rttq synth --store $store failed"; }
done

check() {
	local a b
	a=$("$rttq" query --store "$lite" "$@")
	b=$("$rttq" query --store "$dyn" "$@")
	if [ "$a" != "$b" ]; then
		fail "rttq query $*"
		echo "  SQLite:   $a"
		echo "  DynamoDB: $b"
	else
		echo "ok: rttq query $* -> $b"
	fi
}

day=$((end / 86400 * 86400))
check --from $((day - 86400)) --to $((day - 60))                 # a whole day
check --from $((day - 86400 - 3540)) --to $((end - 60))          # edges + day + hours
check --from $((day - 7200)) --to $((day + 3599)) --host host-2  # one host
check --from $((day - 7200 + 120)) --to $((day + 600)) --group raddr:10.0.0.1
check --from $((day - 172800)) --to $((end))                     # everything
check --from 0 --to 60                                           # nothing
harness_finish
