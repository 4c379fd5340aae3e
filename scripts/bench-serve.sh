#!/usr/bin/env bash
# Serving cost, side by side with nginx: requests/s on ONE core for LL-HLS
# parts and for blocking playlist reloads (of a part that exists, so the
# answer is immediate), podium (GOMAXPROCS=1, pinned to CPU 1) versus nginx
# (one worker, pinned to CPU 1) serving the same bytes from disk. wrk runs
# pinned to CPU 0. podium serves while its demo space is live (mixer and two
# synthetic speakers running in the same process).
#
# usage: scripts/bench-serve.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-64}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
command -v nginx >/dev/null || { echo "needs nginx (apt-get install nginx)"; exit 1; }
make -s build >/dev/null
work=$(mktemp -d); chmod 755 "$work"
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.5; rm -rf "$work"' EXIT
port=18090; nport=18091
GOMAXPROCS=1 taskset -c 1 ./bin/podium demo --addr 127.0.0.1:$port --debug-addr "" --data "$work/data" >"$work/podium.out" 2>"$work/podium.err" &
for _ in $(seq 50); do grep -q 'hls/sp_' "$work/podium.out" 2>/dev/null && break; sleep 0.2; done
id=$(grep -o 'hls/sp_[a-z0-9]*' "$work/podium.out" | head -1 | cut -d/ -f2)
[ -n "$id" ] || { echo "podium did not start:"; cat "$work/podium.err"; exit 1; }
sleep 8
base=http://127.0.0.1:$port/hls/$id
host=$(grep -o 'token=[A-Za-z0-9._-]*' "$work/podium.out" | head -1 | cut -d= -f2)
curl -sf -X POST -H "Authorization: Bearer $host" -H 'Content-Type: application/json' -d '{}' \
  "http://127.0.0.1:$port/api/spaces/$id/recording/publish" >/dev/null
replay=http://127.0.0.1:$port/replay/$id/0-300.m4s
pl=$(curl -sf "$base/index.m3u8")
last=$(printf '%s\n' "$pl" | grep -o 'URI="[0-9]*\.[0-9]*\.m4s"' | tail -4 | head -1 | tr -d '"' | cut -d= -f2)
msn=${last%%.*}; rest=${last#*.}; part=${rest%%.*}
q="_HLS_msn=$msn&_HLS_part=$part"
mkdir -p "$work/www/hls/$id"
curl -sf "$base/$last" -o "$work/www/hls/$id/$last"
curl -sf "$base/index.m3u8?$q" -o "$work/www/hls/$id/index.m3u8"
curl -sf "$replay" -o "$work/www/hls/$id/0-300.m4s"
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
sleep 0.5
run() { # name url
  local out
  curl -sf -o /dev/null "$2" || { echo "$1: $2 does not answer 200"; cat "$work"/nginx.err; ls -la "$work/www/hls/$id"; exit 1; }
  out=$(taskset -c 0 wrk -t1 -c"$conns" -d"${secs}s" --latency "$2" 2>&1)
  printf "%s\n" "$out" | grep -i "non-2xx" || true
  printf '%-32s %10s req/s   p50 %8s   p99 %8s\n' "$1" \
    "$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(printf '%s\n' "$out" | awk '$1=="50%" {print $2}')" \
    "$(printf '%s\n' "$out" | awk '$1=="99%" {print $2}')"
}
echo "replay segment $(curl -sf "$replay" | wc -c) bytes (published recording of the live demo space)"
echo "part $last ($(stat -c %s "$work/www/hls/$id/$last") bytes), playlist ($(stat -c %s "$work/www/hls/$id/index.m3u8") bytes); $conns connections, ${secs}s each, server on 1 core"
run "podium part" "$base/$last"
run "nginx part" "http://127.0.0.1:$nport/hls/$id/$last"
run "podium blocking playlist" "$base/index.m3u8?$q"
run "podium replay segment (6 s)" "$replay"
run "nginx replay segment (same bytes)" "http://127.0.0.1:$nport/hls/$id/0-300.m4s"
run "nginx playlist (static file)" "http://127.0.0.1:$nport/hls/$id/index.m3u8?$q"
