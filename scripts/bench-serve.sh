#!/usr/bin/env bash
# Serving cost, side by side with nginx: requests/s on ONE core for an LL-HLS
# part, a blocking playlist reload (of a part that exists, so the answer is
# immediate) and a replay segment. podium runs its demo (mixer and two
# synthetic speakers in the same process) with GOMAXPROCS=1 pinned to CPU 1,
# once with admission on and once with admission.disabled; nginx (one
# worker, pinned to CPU 1) serves the same bytes from disk. The load client
# (scripts/servebench, pinned to CPU 0) asks as listeners do: keep-alive
# connections from many 127.x addresses, each sending its own listener
# ticket, so that podium checks the ticket, classifies and rate-limits every
# request. Every answer must be 200 with the expected length: anything else
# ends the script with a message and exit status 1.
#
# usage: scripts/bench-serve.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
conns=${2:-64}
command -v nginx >/dev/null || { echo "needs nginx (apt-get install nginx)"; exit 1; }
make -s build >/dev/null
work=$(mktemp -d); chmod 755 "$work"
go build -o "$work/servebench" ./scripts/servebench
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
port=18090; nport=18091

# podium MODE PORT: a demo node, admission on or off; sets id, host, base.
podium() {
  local mode=$1 p=$2 dir=$work/$1
  mkdir -p "$dir"
  local disabled=false; [ "$mode" = off ] && disabled=true
  # Joins: every benchmark address joins once, at once.
  echo "{\"admission\":{\"disabled\":$disabled,\"admit_rate\":100000,\"joins_per_ip\":1000,\"joins_per_net\":100000}}" >"$dir/config.json"
  GOMAXPROCS=1 taskset -c 1 ./bin/podium demo --config "$dir/config.json" --addr 127.0.0.1:$p --debug-addr "" --data "$dir/data" >"$dir/out" 2>"$dir/err" &
  pids+=($!); ppid=$!
  for _ in $(seq 100); do grep -q 'hls/sp_' "$dir/out" 2>/dev/null && break; sleep 0.2; done
  id=$(grep -o 'hls/sp_[a-z0-9]*' "$dir/out" | head -1 | cut -d/ -f2)
  [ -n "$id" ] || { echo "podium ($mode) did not start:"; cat "$dir/err"; exit 1; }
  host=$(grep -o 'token=[A-Za-z0-9._-]*' "$dir/out" | head -1 | cut -d= -f2)
  base=http://127.0.0.1:$p
}

# latest: the newest parts but three of the live playlist (a part leaves
# the playlist, and is no longer served, about 12 s later: each run asks for
# a fresh one); sets last and q (its blocking reload).
latest() {
  local pl
  # As the host (a verified credential: never shed; an anonymous request
  # right after a run that saturated the core would be, by design).
  pl=$(curl -sf --retry 5 -H "Authorization: Bearer $host" "$base/hls/$id/index.m3u8") || { echo "FAIL: the playlist does not answer 200"; exit 1; }
  last=$(printf '%s\n' "$pl" | grep -o 'URI="[0-9]*\.[0-9]*\.m4s"' | tail -4 | head -1 | tr -d '"' | cut -d= -f2)
  [ -n "$last" ] || { echo "FAIL: no part in the playlist"; exit 1; }
  local msn=${last%%.*} rest=${last#*.}
  q="_HLS_msn=$msn&_HLS_part=${rest%%.*}"
}

# run NAME SERVERPID URL [servebench flags]. servebench reports the CPU
# the server (nginx: master and workers) used while measured: when the
# client (one core, shared) cannot saturate the server, requests per server
# core-second is the fair comparison.
run() {
  local name=$1 spid=$2 url=$3 out; shift 3
  if ! out=$(taskset -c 0 "$work/servebench" -url "$url" -conns "$conns" -secs "$secs" \
    -pids "$(echo "$spid" $(pgrep -P "$spid") | tr ' ' ,)" "$@" 2>&1); then
    echo "FAIL $name: $url"; printf '%s\n' "$out"; exit 1
  fi
  printf '%-44s %s\n' "$name" "$(printf '%s\n' "$out" | tail -2 | tr '\n' ' ')"
}

# fetch URL FILE: must answer 200
fetch() { curl -sf -o "$2" "$1" || { echo "FAIL: $1 does not answer 200 ($(curl -s -o /dev/null -w '%{http_code}' "$1"))"; exit 1; }; }

podium on $port
sleep 8 # a few segments, and something recorded
curl -sf -X POST -H "Authorization: Bearer $host" -H 'Content-Type: application/json' -d '{}' \
  "$base/api/spaces/$id/recording/publish" >/dev/null || { echo "FAIL: publishing the recording"; exit 1; }
latest
rpl=$(curl -sf "$base/replay/$id/index.m3u8") || { echo "FAIL: the replay playlist does not answer 200"; exit 1; }
seg=$(printf '%s\n' "$rpl" | grep -v '^#' | grep m4s | head -1)
[ -n "$seg" ] || { echo "FAIL: no segment in the replay playlist:"; printf '%s\n' "$rpl"; exit 1; }
www=$work/www/hls/$id; mkdir -p "$www"
fetch "$base/hls/$id/$last" "$www/$last"
fetch "$base/hls/$id/index.m3u8?$q" "$www/index.m3u8"
fetch "$base/replay/$id/$seg" "$www/replay.m4s"
chmod -R a+rX "$work/www"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 1000000;
  types { audio/mp4 m4s; application/vnd.apple.mpegurl m3u8; }
  server {
    listen 127.0.0.1:$nport;
    root $work/www;
    add_header Cache-Control "public, max-age=31536000, immutable";
  }
}
CONF
taskset -c 1 nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!); npid=$!
sleep 0.5
ng=http://127.0.0.1:$nport/hls/$id
join=$base/api/spaces/$id/join
echo "part $last ($(stat -c %s "$www/$last") bytes), playlist ($(stat -c %s "$www/index.m3u8") bytes), replay segment $seg ($(stat -c %s "$www/replay.m4s") bytes)"
echo "$conns connections, ${secs}s each, server on 1 core (CPU 1), client on CPU 0; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
nlast=$last nq=$q
run "podium part, admission on (tickets)" "$ppid" "" -part-of "$base/hls/$id/index.m3u8" -join "$join"
run "nginx part" "$npid" "$ng/$nlast"
latest; run "podium blocking playlist, admission on" "$ppid" "$base/hls/$id/index.m3u8?$q" -join "$join" -same-length=false
run "nginx playlist (static file)" "$npid" "$ng/index.m3u8?$nq"
# The same with admission disabled (a second node; its own space).
kill -TERM "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
podium off $port
sleep 8
curl -sf -X POST -H "Authorization: Bearer $host" -H 'Content-Type: application/json' -d '{}' \
  "$base/api/spaces/$id/recording/publish" >/dev/null || { echo "FAIL: publishing the recording"; exit 1; }
latest
echo "admission disabled: part $last ($(curl -sf "$base/hls/$id/$last" | wc -c) bytes)"
run "podium part, admission disabled" "$ppid" "" -part-of "$base/hls/$id/index.m3u8"
run "nginx part" "$npid" "$ng/$nlast"
latest; run "podium blocking playlist, admission disabled" "$ppid" "$base/hls/$id/index.m3u8?$q" -same-length=false
# Replays with admission disabled only: a replay listener has no ticket (a
# published replay is public), so it is in the anonymous class, which a
# node whose one core is saturated sheds by design (503) and limits to 20
# requests/s per address; each address asks 10 times.
run "podium replay segment, admission disabled" "$ppid" "$base/replay/$id/0-300.m4s" -per-conn 10
run "nginx replay segment (same bytes)" "$npid" "$ng/replay.m4s" -per-conn 10
