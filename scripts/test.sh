#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine, then runs them.
# redis-server: the Redis lease store is tested against a real server.
# chromium: the dashboard is tested in a real browser (Debian's build; no downloaded browsers).
# faketime: the time-sensitive tests run again under a pinned Sunday and Tuesday.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v faketime >/dev/null 2>&1 || need+=(faketime)
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing: ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
npm test
bash scripts/test-clocks.sh
