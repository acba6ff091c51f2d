#!/usr/bin/env bash
# `npm test`: prepares the machine if anything is missing, type-checks, lints, then runs every test
# (unit, real-broker integration, containers) in one node:test run so there is one summary.
#   tools/test.sh [--integration-only]
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh --check >/dev/null 2>&1 || bash tools/setup.sh

files=()
if [ "${1:-}" != --integration-only ]; then
  npm run --silent build
  npm run --silent lint
  files+=(test/unit/*.test.ts)
fi
files+=(test/integration/*.test.ts)
shopt -s nullglob
files+=(test/containers/*.test.ts)

# One test file at a time: each starts its own brokers and 2 cores are all there is.
exec node --import tsx --test --test-concurrency=1 --test-timeout=900000 "${files[@]}"
