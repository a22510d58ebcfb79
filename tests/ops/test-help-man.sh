#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Every long option a program's --help prints is in its man page, and every
# long option the man page names is in --help: rttq-agent(8), rttq-api(8),
# and rttq(1), where each command listed by `rttq --help` has its own
# ".SS rttq COMMAND" section compared with `rttq COMMAND --help`.  A long
# option is a "--word" token (--[a-z][a-z0-9-]*); in roff it is written
# \-\-word, possibly inside \fB...\fR.  Exceptions: none.  The pages must
# also format without groff warnings.
#
# Usage: test-help-man.sh DOC_DIR RTTQ_AGENT RTTQ_API RTTQ
set -eu

doc=$1
agent=$2
api=$3
rttq=$4

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start help-man

long_options() {
	grep -o -e '--[a-z][a-z0-9-]*' | sort -u
}

# Roff to plain words: drop comments, turn \- into -, drop font changes.
roff_text() {
	sed -e '/^\.\\"/d' -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g'
}

# compare NAME HELP_FILE MAN_FILE: both lists of options, one per line.
compare() {
	comm -23 "$2" "$3" >"$tmp/only-help"
	comm -13 "$2" "$3" >"$tmp/only-man"
	if [ -s "$tmp/only-help" ]; then
		fail "$1: in --help but not in the man page:" $(cat "$tmp/only-help")
	fi
	if [ -s "$tmp/only-man" ]; then
		fail "$1: in the man page but not in --help:" $(cat "$tmp/only-man")
	fi
	if [ ! -s "$tmp/only-help" ] && [ ! -s "$tmp/only-man" ]; then
		echo "ok: $1: $(wc -l <"$2") long options match"
	fi
}

# help_of OUT CMD...: CMD --help must succeed; its long options into OUT.
help_of() {
	out=$1
	shift
	if ! "$@" --help >"$tmp/help-text" 2>&1; then
		fail "$* --help did not exit 0"
	fi
	long_options <"$tmp/help-text" >"$out"
}

for page in rttq-agent.8 rttq-api.8 rttq.1; do
	[ -f "$doc/$page" ] || die "$doc/$page is missing"
	warnings=$(groff -man -ww -z "$doc/$page" 2>&1)
	if [ -n "$warnings" ]; then
		fail "groff warns about $page: $warnings"
	fi
done

help_of "$tmp/agent-help" "$agent"
roff_text <"$doc/rttq-agent.8" | long_options >"$tmp/agent-man"
compare rttq-agent "$tmp/agent-help" "$tmp/agent-man"

help_of "$tmp/api-help" "$api"
roff_text <"$doc/rttq-api.8" | long_options >"$tmp/api-man"
compare rttq-api "$tmp/api-help" "$tmp/api-man"

# rttq(1): the part outside the command sections against `rttq --help`.
awk '/^\.S[SH]/ { in_cmd = ($0 ~ /^\.SS "?rttq [a-z]+"?$/) } !in_cmd' \
	"$doc/rttq.1" | roff_text | long_options >"$tmp/rttq-man"
help_of "$tmp/rttq-help" "$rttq"
compare rttq "$tmp/rttq-help" "$tmp/rttq-man"

"$rttq" --help | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }' \
	| sort >"$tmp/commands"
sed -n 's/^\.SS "\{0,1\}rttq \([a-z]*\)"\{0,1\}$/\1/p' "$doc/rttq.1" | sort \
	>"$tmp/man-commands"
if [ ! -s "$tmp/commands" ]; then
	fail "no commands found in 'rttq --help'"
fi
# (A pipeline's loop runs in a subshell: its fail calls are not counted
# here, the cmp after it is.)
comm -23 "$tmp/commands" "$tmp/man-commands" | while read -r c; do
	echo "FAIL: rttq $c has no '.SS rttq $c' section in rttq.1"
done
comm -13 "$tmp/commands" "$tmp/man-commands" | while read -r c; do
	echo "FAIL: rttq.1 documents 'rttq $c', which 'rttq --help' does not list"
done
if ! cmp -s "$tmp/commands" "$tmp/man-commands"; then
	fail "the commands of 'rttq --help' and rttq.1 differ (above)"
fi

for c in $(cat "$tmp/commands"); do
	awk -v want="$c" '/^\.S[SH]/ {
		t = $0; gsub(/"/, "", t)
		in_cmd = (t == ".SS rttq " want)
		next
	} in_cmd' "$doc/rttq.1" | roff_text | long_options >"$tmp/cmd-man"
	help_of "$tmp/cmd-help" "$rttq" "$c"
	compare "rttq $c" "$tmp/cmd-help" "$tmp/cmd-man"
done
harness_finish
