#!/usr/bin/env bash
# Runs the Go suite (the command of `make test-go`) while stress-ng keeps
# both cores busy, and exits with the suite's status. The tests must pass on
# a loaded machine: CI never retries.
#
#   scripts/test-under-load.sh [stress-ng --cpu-load percent, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
load=${1:-50}
if ! command -v stress-ng >/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: stress-ng"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends stress-ng >/dev/null
fi
make -s build
go vet ./...
cpus=$(nproc)
# stress-ng runs in its own process group so that it and every worker it
# forks are stopped together, whatever way this script ends.
setsid stress-ng --cpu "$cpus" --cpu-load "$load" --timeout 2h --quiet &
stress=$!
trap 'kill -TERM -- -$stress 2>/dev/null || true; wait $stress 2>/dev/null || true' EXIT
echo "stress-ng: $cpus workers at $load% load; running the Go suite"
status=0
PODIUM_BIN=$PWD/bin/podium go test -race -count=1 -p 1 -timeout 30m ./... || status=$?
echo "Go suite under load: exit $status"
exit $status
