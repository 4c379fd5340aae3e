#!/usr/bin/env bash
# Every overload scenario of docs/BENCHMARKS.md, protections on and off,
# one after the other (about 15 minutes on 2 cores). Reports land in
# ${OUT:-bench-out}/SCENARIO-on|off/.
set -uo pipefail
cd "$(dirname "$0")/.."
b=scripts/bench-overload.sh
full='{"admission":{"max_listeners":1000}}'
# Capacity: no max_listeners, so the steps measure the node, not its cap.
set -e
$b on capacity --from 500 --step 500 --to 4000 --step-duration 8s --duration 120s >/dev/null
for m in on off; do
  PODIUM_BENCH_CONFIG=$full $b $m joinstorm --listeners 500 --rate 1000 --storm-duration 10s --duration 30s >/dev/null
  $b $m flood --listeners 100 --times 20 --duration 30s >/dev/null
  PODIUM_BENCH_CONFIG='{"max_conns":4000,"admission":{"max_listeners":1000}}' $b $m slow --listeners 500 --conns 3000 --duration 45s >/dev/null
  $b $m retrystorm --listeners 500 --outage 30s >/dev/null
  PODIUM_BENCH_CONFIG=$full $b $m ramp --from 500 --to 5000 --duration 60s >/dev/null
done
$b on reloads --conns 10000 --parts 5 >/dev/null
OUT=${OUT:-bench-out}/4000 $b on reloads --conns 4000 --parts 5 >/dev/null
echo all done
