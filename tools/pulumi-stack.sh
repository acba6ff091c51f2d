#!/usr/bin/env bash
# `npm run up|preview|destroy [-- STACK]`: runs the Pulumi CLI on a stack (default: dev), creating
# the stack on the local file backend the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:?usage: pulumi-stack.sh up|preview|destroy [stack]}
stack=${2:-${PULUMI_STACK:-dev}}

command -v pulumi >/dev/null || { echo "pulumi CLI not found: install it (https://www.pulumi.com/docs/install/) and retry" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "cannot reach a Docker engine: start Docker (or set DOCKER_HOST) and retry" >&2; exit 1; }

# A stack on locally built images (the ci stack: a Docker host that reaches no registry) gets them
# built first, the services' dependencies included: Pulumi.ci.yaml names them without a hash.
if [ "$action" != destroy ] && grep -q 'pipeline/' "Pulumi.$stack.yaml" 2>/dev/null; then
  bash tools/images/build.sh base kafka node prometheus services-deps
fi

# A local backend unless the user already chose one.
if [ -z "${PULUMI_BACKEND_URL:-}" ] && ! pulumi whoami >/dev/null 2>&1; then pulumi login --local; fi
pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"

case "$action" in
  up) pulumi up --yes --stack "$stack" ;;
  preview) pulumi preview --stack "$stack" ;;
  destroy) pulumi destroy --yes --stack "$stack" ;;
  *) echo "unknown action '$action' (up, preview, destroy)" >&2; exit 2 ;;
esac
