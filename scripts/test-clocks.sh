#!/usr/bin/env bash
# The time-sensitive tests under two pinned system clocks, a Sunday and a Tuesday (libfaketime):
# no test may depend on the machine's clock. Both runs must pass.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v faketime >/dev/null 2>&1; then
  echo "faketime not found: apt-get install faketime" >&2
  exit 1
fi

files=(
  src/calendar
  src/mock
  src/doctor/doctor.test.ts
  src/proxy/proxy.stoqey.test.ts
  src/daemon/daemon.process.test.ts
  src/pool/pool.test.ts
  src/pacing/pacer.mock.test.ts
  src/registry/store.test.ts
  examples/examples.test.ts
)
for instant in "2026-12-06 15:00:00" "2026-12-08 15:00:00"; do
  echo "== the system clock pinned at $instant UTC" >&2
  TZ=UTC faketime "$instant" npx vitest run "${files[@]}"
done
