#!/usr/bin/env bash
# Runs one `podium loadtest` scenario against a fresh node, the way the
# figures in docs/BENCHMARKS.md were taken: the node pinned to CPU 1 with
# GOMAXPROCS=1, the load tool pinned to CPU 0.
#
#   scripts/bench-overload.sh on|off SCENARIO [loadtest flags...]
#
# "on" is the node's default protections plus PODIUM_BENCH_CONFIG (a JSON
# object merged into the config, e.g. '{"admission":{"max_listeners":1000}}');
# "off" adds admission.disabled. The report lands in
# ${OUT:-bench-out}/SCENARIO-on|off/.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=$1 scenario=$2
shift 2
[ -x bin/podium ] || make build >/dev/null
port=${PORT:-18300}
data=$(mktemp -d /tmp/podium-bench.XXXXXX)
extra=${PODIUM_BENCH_CONFIG:-'{}'}
disabled=false
[ "$mode" = off ] && disabled=true
python3 - "$extra" "$disabled" "$port" >"$data/config.json" <<'PY'
import json, sys
cfg = json.loads(sys.argv[1])
cfg.setdefault("admission", {})["disabled"] = sys.argv[2] == "true"
cfg["addr"] = "127.0.0.1:" + sys.argv[3]
cfg["debug_addr"] = "127.0.0.1:" + str(int(sys.argv[3]) + 1)
print(json.dumps(cfg))
PY
ulimit -n 20000 2>/dev/null || true
GOMAXPROCS=1 taskset -c 1 bin/podium serve --config "$data/config.json" --data "$data" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do [ -s "$data/operator.token" ] && curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
out=${OUT:-bench-out}/$scenario-$mode
rm -rf "$out"; mkdir -p "$(dirname "$out")"
taskset -c 0 bin/podium loadtest "$scenario" --url "http://127.0.0.1:$port" --create --token "$(cat "$data/operator.token")" \
  --pid "$pid" --metrics "http://127.0.0.1:$((port + 1))/metrics" --out "$out" "$@" 2>"$out.progress" | tee "$out.summary"
# The report must show the node serving, not only refusing: a run whose
# every request was refused (or that made none) measured nothing.
python3 - "$out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r.get("counters", {})
req = c.get("requests", 0)
refused = c.get("status_4xx", 0) + c.get("status_5xx", 0) + c.get("net_errors", 0)
if req == 0 or refused >= req:
    sys.exit(f"FAIL: {sys.argv[1]}: {req} requests, {refused} of them refused or failed: the run measured refusals, not service")
PY
