#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# test-fallback-build.sh: build all of rttq with libbpf and yajl from the
# subprojects/ wraps (meson --wrap-mode=forcefallback), as on a system
# without them, and check that every compile took their headers from the
# subprojects (BPF object included), the programs carry them linked in,
# and the unit and build suites of that build pass.  Needs Debian's
# archive on the network the first time (subprojects/packagecache after).
#
# usage: test-fallback-build.sh MESON NINJA SOURCE_DIR
set -euo pipefail

meson=$1
ninja=$2
src=$3

build=$(mktemp -d "${TMPDIR:-/tmp}/rttq-fallback.XXXXXX")
trap 'rm -rf "$build"' EXIT

step() {
	echo "== $* ($SECONDS s)"
}
fail() {
	echo "FAIL $*" >&2
	exit 1
}

step "meson setup --wrap-mode=forcefallback"
"$meson" setup --wrap-mode=forcefallback "$build" "$src"
subprojects=$("$meson" introspect --projectinfo "$build")
for p in libbpf yajl; do
	grep -q "\"name\": \"$p\"" <<<"$subprojects" ||
		fail "$p is not a subproject of the build: $subprojects"
done

step "meson compile"
"$meson" compile -C "$build"

step "headers"
# Every header each compile read (C and BPF alike), from ninja's log.
deps=$("$ninja" -C "$build" -t deps)
if grep -E '^ +/usr/(local/)?include/(bpf|yajl)/' <<<"$deps"; then
	fail "compiles above read system libbpf or yajl headers"
fi
for h in libbpf-[0-9.]*/public/bpf/libbpf.h \
	libbpf-[0-9.]*/public/bpf/bpf_helpers.h \
	yajl-[0-9.]*/include/yajl/yajl_tree.h; do
	# Paths are relative to the build directory, or absolute.
	grep -qE "^ +($build/)?subprojects/$h\$" <<<"$deps" ||
		fail "no compile read subprojects/$h"
done

step "programs"
for exe in agent/rttq-agent api/rttq-api tools/rttq; do
	if ldd "$build/$exe" | grep -E 'libbpf|libyajl'; then
		fail "$exe loads a shared libbpf or yajl (above)"
	fi
done
# Linked in: the agent defines libbpf's and the API yajl's entry points.
nm "$build/agent/rttq-agent" >"$build/nm-agent"
grep -qE ' T bpf_object__open_skeleton$' "$build/nm-agent" ||
	fail "rttq-agent has no libbpf linked in"
nm "$build/api/rttq-api" >"$build/nm-api"
grep -qE ' T yajl_tree_parse$' "$build/nm-api" ||
	fail "rttq-api has no yajl linked in"

step "meson test --suite unit --suite build"
"$meson" test -C "$build" --suite unit --suite build --print-errorlogs

step "done"
