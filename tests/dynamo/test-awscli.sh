#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The items rttq writes to DynamoDB are readable with the stock AWS CLI,
# as the README shows: `rttq synth` writes two hosts, then `aws dynamodb`
# describes the table, reads one hour of a host's base records (attributes
# as documented in common/store/store_dynamodb_item.c) and its 1 h rollup, and
# lists the fleet's hosts from the registry partitions, without Scan.
# The CLI's per-record counts must add up to what `rttq query` reports
# for the same hour.
# Run under with-dynalite.  Usage: test-awscli.sh RTTQ
set -euo pipefail

rttq=$1
# The CLI v2.9 in Debian 12 ignores AWS_ENDPOINT_URL_DYNAMODB: pass it.
endpoint=${AWS_ENDPOINT_URL_DYNAMODB:?run under with-dynalite}
table=rttq-awscli
store="dynamodb:$table?endpoint=$endpoint&region=us-east-1"
end=1700012400   # 2023-11-15T01:40:00Z
from=1700006400  # 2023-11-15T00:00:00Z: one whole hour of 60 s periods
to=$((from + 3600 - 60))

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_command aws "the Debian package awscli"
harness_start awscli
dir=$tmp
# No user config, no pager: only the test keys with-dynalite exported.
: >"$dir/config"
: >"$dir/credentials"
export AWS_CONFIG_FILE="$dir/config"
export AWS_SHARED_CREDENTIALS_FILE="$dir/credentials"
export AWS_PAGER="" AWS_DEFAULT_OUTPUT=json
aws --version

"$rttq" synth --store "$store" --hosts 2 --days 1 --groups 1 --period 60 \
	--end "$end" 2>"$dir/synth.log" ||
	{ cat "$dir/synth.log"; die "rttq synth failed"; }

ddb() {
	aws dynamodb "$@" --endpoint-url "$endpoint" --region us-east-1 \
		--table-name "$table" --output json
}
query_pk() { # PK FILE: every item of one partition
	ddb query --key-condition-expression "pk = :p" \
		--expression-attribute-values "{\":p\":{\"S\":\"$1\"}}" >"$2"
}

ddb describe-table >"$dir/table.json"
ddb query --key-condition-expression "pk = :p AND ts BETWEEN :a AND :b" \
	--expression-attribute-values \
	"{\":p\":{\"S\":\"d#host-1#all#60\"},\":a\":{\"N\":\"$from\"},\":b\":{\"N\":\"$to\"}}" \
	>"$dir/hour.json"
ddb get-item --key "{\"pk\":{\"S\":\"d#host-1#all#3600\"},\"ts\":{\"N\":\"$from\"}}" \
	>"$dir/rollup.json"
query_pk H "$dir/hosts.json"
query_pk 'h#all#60' "$dir/series-hosts.json"
query_pk 'g#host-1' "$dir/host-series.json"
"$rttq" query --store "$store" --from "$from" --to "$to" --host host-1 \
	>"$dir/rttq.json" 2>"$dir/query.log" ||
	{ cat "$dir/query.log"; die "rttq query failed"; }

python3 - "$dir" "$from" "$to" <<'EOF'
import base64, json, sys

d, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load = lambda name: json.load(open(f"{d}/{name}.json"))
fail = 0

def check(ok, what):
    global fail
    print(("ok: " if ok else "not ok: ") + what)
    fail |= not ok

t = load("table")["Table"]
check(t["TableStatus"] == "ACTIVE", "describe-table: table is ACTIVE")
keys = {k["AttributeName"]: k["KeyType"] for k in t["KeySchema"]}
check(keys == {"pk": "HASH", "ts": "RANGE"}, f"key schema pk/ts: {keys}")

hour = load("hour")
items = hour["Items"]
check(len(items) == 60 and "LastEvaluatedKey" not in hour,
      f"query d#host-1#all#60 over one hour: {len(items)} items (want 60)")
want = {"pk": "S", "ts": "N", "host": "S", "grp": "S", "period_s": "N",
        "periods": "N", "periods_total": "N", "count": "N", "sum_us": "N",
        "min_us": "N", "max_us": "N", "d": "B", "expires": "N"}
starts = []
for it in items:
    types = {k: next(iter(v)) for k, v in it.items()}
    if types != want:
        check(False, f"attributes {types}")
        break
    v = {k: next(iter(x.values())) for k, x in it.items()}
    ts, n = int(v["ts"]), int(v["count"])
    lo_us, hi_us = float(v["min_us"]), float(v["max_us"])
    sum_us = float(v["sum_us"])
    digest = base64.b64decode(v["d"], validate=True)
    good = (v["pk"] == "d#host-1#all#60" and v["host"] == "host-1"
            and v["grp"] == "all" and v["period_s"] == "60"
            and v["periods"] == "1" and v["periods_total"] == "1"
            and n > 0 and 0 < lo_us <= hi_us
            and n * lo_us <= sum_us <= n * hi_us
            and len(digest) > 16
            # base records are kept 14 days after their period ends
            and int(v["expires"]) == ts + 60 + 14 * 86400)
    if not good:
        check(False, f"item {v}")
        break
    starts.append(ts)
else:
    check(True, "every item has the documented attributes and values")
check(starts == list(range(lo, hi + 1, 60)), "one item per minute, in ts order")

total = sum(int(it["count"]["N"]) for it in items)
rq = load("rttq")
check(total == rq["sample_count"],
      f"sum of count over the CLI's items {total} == rttq query sample_count "
      f"{rq['sample_count']}")

roll = {k: next(iter(x.values())) for k, x in load("rollup")["Item"].items()}
check(int(roll["count"]) == total and roll["periods"] == "60",
      f"get-item d#host-1#all#3600: count {roll['count']} over "
      f"{roll['periods']} periods, the hour's 60 base records")

for name, pk in (("hosts", "H"), ("series-hosts", "h#all#60")):
    hosts = sorted(it["host"]["S"] for it in load(name)["Items"])
    check(hosts == ["host-1", "host-2"], f"registry {pk} lists hosts {hosts}")
series = sorted((it["grp"]["S"], int(it["period_s"]["N"]))
                for it in load("host-series")["Items"])
check(("all", 60) in series and ("raddr:10.0.0.1", 60) in series,
      f"registry g#host-1 lists series {series}")
sys.exit(fail)
EOF
