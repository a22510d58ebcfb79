#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# systemd-analyze verify on the rttq units (copies whose ExecStart= points
# at this build's binaries).  Any output is a failure: verify prints
# unknown keys, bad values, missing executables and man pages it cannot
# open.  The man pages come from doc/ through a temporary MANPATH, so the
# units' Documentation= entries are checked against the real pages.
#
# Usage: test-units.sh SYSTEMD_ANALYZE DOC_DIR UNIT...
set -eu

analyze=$1
doc=$2
shift 2

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start units
mkdir -p "$tmp/man/man1" "$tmp/man/man8"
ln -s "$doc/rttq.1" "$tmp/man/man1/rttq.1"
ln -s "$doc/rttq-agent.8" "$tmp/man/man8/rttq-agent.8"
ln -s "$doc/rttq-api.8" "$tmp/man/man8/rttq-api.8"

for unit in "$@"; do
	if ! MANPATH="$tmp/man" "$analyze" verify "$unit" >"$tmp/out" 2>&1 ||
	    [ -s "$tmp/out" ]; then
		fail "systemd-analyze verify $unit:"
		cat "$tmp/out"
	else
		echo "ok: $(basename "$unit") verifies cleanly"
	fi
done
harness_finish
