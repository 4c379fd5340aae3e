#!/usr/bin/env bash
# Runs every fuzz target (or those named) for a while each, one worker at
# a time (-parallel 1: the machine is shared), and prints executions per
# second. A failing input is written by go test to the package's
# testdata/fuzz/FuzzX/ (commit it with the fix).
#
#   scripts/fuzz.sh              every target, 30 s each
#   FUZZTIME=2m scripts/fuzz.sh FuzzPush FuzzExport
#
# go's engine minimizes every input that reaches new code before it goes
# on, for up to -fuzzminimizetime (60 s by default); a target whose inputs
# cost a millisecond can spend a whole short run minimizing one input.
# FUZZMINIMIZE (default 5s) bounds that, so a 30 s run explores.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${FUZZTIME:-30s}
want=" $* "
fail=0
printf '%-22s %-26s %10s %8s\n' target package execs execs/s
while IFS=: read -r file name; do
	pkg=./$(dirname "$file")
	if [ $# -gt 0 ] && [[ $want != *" $name "* ]]; then continue; fi
	log=$(mktemp)
	if ! go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$time" -fuzzminimizetime "${FUZZMINIMIZE:-5s}" -parallel 1 >"$log" 2>&1; then
		if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input' "$log"; then
			# go's engine can stop at -fuzztime while minimizing and
			# report it as an error: not a finding.
			echo "note: $name: the fuzz engine stopped while minimizing (context deadline exceeded)"
		else
			fail=1
			echo "FAIL $name ($pkg):"
			grep -v '^fuzz: elapsed' "$log" || true
		fi
	fi
	line=$(grep -E '^fuzz: elapsed: [0-9]+s, execs: [0-9]+' "$log" | tail -1 || true)
	secs=$(sed -E 's/^fuzz: elapsed: ([0-9]+)s.*/\1/' <<<"$line")
	execs=$(sed -E 's/.*execs: ([0-9]+).*/\1/' <<<"$line")
	printf '%-22s %-26s %10s %8s\n' "$name" "$pkg" "${execs:-?}" "$(( ${execs:-0} / (${secs:-1} > 0 ? ${secs:-1} : 1) ))"
	rm -f "$log"
done < <(grep -rEo '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' internal | sed 's/func //')
exit $fail
