#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# `rttq sketch` as a user runs it: JSON shape and values on known input,
# batches, custom quantiles, and errors that name the bad line or flag.
set -u
rttq=$1
# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"

check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		fail "$what"
	fi
}

# 1..100000 in 100 batches: every quantile within 1 % of the exact value.
out=$(seq 1 100000 | "$rttq" sketch --batches 100 --q 50,90,99,99.9)
echo "$out"
check "count and batches" grep -q '^{"count":100000,"batches":100,"bytes_per_digest":[0-9]*,"quantiles":{' <<<"$out"
for pair in p50:50000 p90:90000 p99:99000 p99.9:99900; do
	name=${pair%%:*}
	exact=${pair#*:}
	got=$(sed -n "s/.*\"$name\":\([0-9.]*\).*/\1/p" <<<"$out")
	check "$name $got within 1 % of $exact" \
		awk -v g="$got" -v e="$exact" 'BEGIN { d = (g - e) / e; exit !(g != "" && d <= 0.01 && d >= -0.01) }'
done

# Decimal values are rounded to whole microseconds; blank lines skipped.
out=$(printf '250.4\n\n250.6\n' | "$rttq" sketch --q 0,100)
check "rounded extremes" grep -q '"quantiles":{"p0":250.000,"p100":251.000}' <<<"$out"

# Nothing in, nothing estimated.
out=$("$rttq" sketch </dev/null)
check "empty input" grep -q '"count":0,.*"quantiles":{}' <<<"$out"

# Errors name what was wrong and exit non-zero.
err=$(printf '10\n20\nfast\n' | "$rttq" sketch 2>&1 >/dev/null)
check "bad line named (exit 1)" bash -c '[ "$1" = 1 ]' _ "$(printf '10\n20\nfast\n' | "$rttq" sketch >/dev/null 2>&1; echo $?)"
check "bad line message: $err" grep -q "line 3: 'fast'" <<<"$err"
err=$(printf -- '-5\n' | "$rttq" sketch 2>&1 >/dev/null)
check "negative value refused: $err" grep -q "line 1" <<<"$err"
err=$("$rttq" sketch --batches 0 </dev/null 2>&1)
check "bad --batches: $err" grep -q -- "--batches '0'" <<<"$err"
"$rttq" sketch --compression 5 </dev/null >/dev/null 2>&1
check "bad --compression exits 2" [ $? = 2 ]
err=$("$rttq" sketch --q 50,101 </dev/null 2>&1)
check "bad --q: $err" grep -q -- "--q" <<<"$err"

harness_finish
