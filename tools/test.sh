#!/usr/bin/env bash
# `npm test`: prepares the machine if anything is missing, type-checks, lints, then runs every test
# (unit, real-broker integration, containers).
#   tools/test.sh [--integration-only]
# The unit files first, two at a time (node:test run of their own); then the rest one file at a time
# (2 cores), in one node:test run. PIPELINE_TEST_LANES=2 runs the container files in a second lane
# beside the integration files (each lane one file at a time; the container lane's output follows
# the other's): about 27 minutes instead of 33 on this machine (before the unit files ran apart), but
# the load it adds made topic-creation races in three integration files show up, one or two a run;
# those three are fixed, others may remain, so it is not the default yet.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh --check >/dev/null 2>&1 || bash tools/setup.sh

files=(test/integration/*.test.ts)
unit_status=0
if [ "${1:-}" != --integration-only ]; then
  npm run --silent build
  npm run --silent lint
  # The unit files need no external service: two at a time (as `npm run test:unit`), before the rest.
  node --import tsx --test --test-concurrency=2 --test-timeout=900000 test/unit/*.test.ts || unit_status=$?
fi
shopt -s nullglob
containers=(test/containers/*.test.ts)

run_lane() {
  node --import tsx --test --test-concurrency=1 --test-timeout=900000 "$@"
}

if [ "${#containers[@]}" -eq 0 ] || [ "${PIPELINE_TEST_LANES:-1}" != 2 ]; then
  status=0
  run_lane "${files[@]}" "${containers[@]}" || status=$?
  [ "$unit_status" -eq 0 ] || status=$unit_status
  exit "$status"
fi

lane_log=$(mktemp "${TMPDIR:-/tmp}/pipeline-container-lane.XXXXXX")
run_lane "${containers[@]}" >"$lane_log" 2>&1 &
lane=$!
# An interrupted run stops the container lane too (its tests remove their containers on the way out).
trap 'kill -INT "$lane" 2>/dev/null || true; wait "$lane" 2>/dev/null || true; rm -f "$lane_log"' EXIT
status=0
run_lane "${files[@]}" || status=$?
lane_status=0
wait "$lane" || lane_status=$?
echo "# ---- container tests (run beside the tests above) ----"
cat "$lane_log"
[ "$lane_status" -eq 0 ] || status=$lane_status
[ "$unit_status" -eq 0 ] || status=$unit_status
exit "$status"
