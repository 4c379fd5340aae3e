#!/usr/bin/env bash
# Installs the Debian packages podium's tests need, only those missing, so
# a fresh Debian 12 machine can run `make test`.
set -euo pipefail
pkgs=(chromium firefox-esr ffmpeg nginx sox espeak-ng stress-ng)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
