#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# `meson install --destdir` of this build: the three programs, both units
# (their ExecStart= naming the installed programs), the three man pages and
# the default configuration the units read, all in the configured places.
#
# Usage: test-install.sh MESON BUILD_DIR BINDIR UNITDIR MANDIR CONFDIR
set -eu

meson=$1
build=$2
bindir=$3
unitdir=$4
mandir=$5
confdir=$6

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start install-test
dest=$tmp/dest

if ! "$meson" install -C "$build" --destdir "$dest" --no-rebuild --quiet \
		>"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	die "meson install failed"
fi

[ -f "$dest$unitdir/rttq-rollup.timer" ] ||
	fail "$unitdir/rttq-rollup.timer is not installed"

echo "installed:"
(cd "$dest" && find . -type f | sort | sed 's/^\./  /')

for prog in rttq-agent rttq-api rttq; do
	[ -x "$dest$bindir/$prog" ] || fail "$bindir/$prog is not installed"
done
for unit in rttq-agent.service rttq-api.service rttq-rollup.service; do
	f="$dest$unitdir/$unit"
	if ! [ -f "$f" ]; then
		fail "$unitdir/$unit is not installed"
		continue
	fi
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$f")
	[ -x "$dest$exe" ] || fail "$unit: ExecStart=$exe is not an installed program"
	grep -q "^EnvironmentFile=-$confdir/rttq.conf\$" "$f" ||
		fail "$unit does not read $confdir/rttq.conf"
	if grep -q '@[A-Z_]*@' "$f"; then
		fail "$unit has unsubstituted @VARIABLES@"
	fi
done
for page in man8/rttq-agent.8 man8/rttq-api.8 man1/rttq.1; do
	[ -f "$dest$mandir/$page" ] || fail "$mandir/$page is not installed"
done
[ -f "$dest$confdir/rttq.conf" ] || fail "$confdir/rttq.conf is not installed"

[ "$failures" -eq 0 ] &&
	echo "ok: programs, units, man pages and rttq.conf installed"
harness_finish
