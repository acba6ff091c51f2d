#!/usr/bin/env bash
# Removes every container, network and volume of one test run once the owning Node process is gone,
# however it ended (even SIGKILL). A clean teardown stops this script with SIGTERM first.
#   reaper.sh OWNER_PID LABEL=VALUE
set -u
owner=$1 label=$2
trap 'exit 0' TERM INT
while kill -0 "$owner" 2>/dev/null; do sleep 0.5; done
docker ps -aq --filter "label=$label" | xargs -r docker rm -f -v >/dev/null 2>&1
docker network ls -q --filter "label=$label" | xargs -r docker network rm >/dev/null 2>&1
docker volume ls -q --filter "label=$label" | xargs -r docker volume rm -f >/dev/null 2>&1
exit 0
