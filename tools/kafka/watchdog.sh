#!/usr/bin/env bash
# Runs a command (a Kafka JVM) for as long as its owner process lives. When the owner dies for any
# reason, even SIGKILL, the command is killed and the scratch folder removed, so an interrupted
# test run never leaves a broker or a temp dir behind.
#   watchdog.sh OWNER_PID SCRATCH_DIR LOG_FILE PID_FILE -- command args...
set -u
owner=$1 scratch=$2 log=$3 pidfile=$4
shift 5
"$@" >>"$log" 2>&1 &
child=$!
echo "$child" >"$pidfile"
# A stop request goes to the command, whose own exit code (0 after a graceful stop) becomes ours.
trap 'kill -TERM $child 2>/dev/null; wait $child; exit $?' TERM INT
while kill -0 "$owner" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
if kill -0 "$child" 2>/dev/null; then
  kill -KILL "$child" 2>/dev/null
  wait "$child" 2>/dev/null
  rm -rf "$scratch"
  exit 137
fi
wait "$child"
