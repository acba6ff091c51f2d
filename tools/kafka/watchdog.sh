#!/usr/bin/env bash
# Runs a command (a Kafka JVM, a service) for as long as its owner process lives. When the owner dies
# for any reason, even SIGKILL, the command is killed and the scratch folder removed, so an
# interrupted test run never leaves a broker or a temp dir behind.
#   watchdog.sh OWNER_PID SCRATCH_DIR LOG_FILE PID_FILE -- command args...
# The watchdog exits the moment the command does, with its exit code: the benchmarks time our
# services to the watchdog's exit, and a poll here (it was every 0.5 s) added up to half a second.
set -u
owner=$1 scratch=$2 log=$3 pidfile=$4
shift 5
"$@" >>"$log" 2>&1 &
child=$!
echo "$child" >"$pidfile"
# The owner is watched beside the command: when the owner is gone, the command is killed (wait below
# then returns 137) and the scratch folder removed.
(
  while kill -0 "$owner" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
  if kill -0 "$child" 2>/dev/null; then
    kill -KILL "$child" 2>/dev/null
    rm -rf "$scratch"
  fi
) &
guard=$!
# A stop request goes to the command, whose own exit code (0 after a graceful stop) becomes ours.
trap 'kill -TERM $child 2>/dev/null; wait $child; status=$?; kill $guard 2>/dev/null; exit $status' TERM INT
wait "$child"
status=$?
# An owner that is gone means the guard killed the command: let it finish removing the scratch folder.
if kill -0 "$owner" 2>/dev/null; then kill "$guard" 2>/dev/null; else wait "$guard"; fi
exit "$status"
