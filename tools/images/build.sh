#!/usr/bin/env bash
# Builds the local images the container tests run, because no container registry is reachable here:
#
#   pipeline/debian-base:bookworm     debootstrap --variant=minbase, loaded with `docker import`
#   pipeline/kafka:<kafka version>    apache/kafka's layout (/opt/kafka, appuser, /var/lib/kafka/data)
#   pipeline/node-base:<node major>   this machine's Node.js binary; BASE_IMAGE of services/Dockerfile
#   pipeline/prometheus:<version>     the Debian prometheus package's binary, prom/prometheus's layout
#   pipeline/services-deps:<hash>     the host's `npm ci` result, services/Dockerfile's DEPS_IMAGE; also tagged
#                                     :latest, the name Pulumi.ci.yaml gives (only when asked for)
#   pipeline/services:<inputs hash>   services/Dockerfile on pipeline/node-base (only when asked for)
#
# Each image carries the sha256 of its inputs (this script, its Dockerfile folder, versions, the ID of
# the image it builds on) in the label pipeline.inputs-sha256 and is rebuilt only when that changes.
#
#   tools/images/build.sh [--install|--check] [base|kafka|node|prometheus|services-deps|services]...
#     no image named: the four base images (not the services ones, whose inputs change with every edit)
#     --check: build nothing, exit 1 and name what is missing or stale
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache="$root/.cache/images"
label=pipeline.inputs-sha256
suite=bookworm
export DOCKER_BUILDKIT=0 # only the classic builder exists here (no buildx)

mode=install
targets=()
for arg in "$@"; do
  case "$arg" in
    --install) mode=install ;;
    --check) mode=check ;;
    base | kafka | node | prometheus | services-deps | services) targets+=("$arg") ;;
    *) echo "images: unknown argument '$arg' (known: --install, --check, base, kafka, node, prometheus, services-deps, services)" >&2; exit 2 ;;
  esac
done
[ "${#targets[@]}" -gt 0 ] || targets=(base kafka node prometheus)

say() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }
stale=0

docker info >/dev/null 2>&1 || {
  [ "$mode" = check ] && { say "missing: a running Docker engine"; exit 1; }
  die "the Docker engine is not reachable (run tools/setup.sh, which starts dockerd)"
}

sha() { sha256sum | cut -d' ' -f1; }
# The hash of everything an image is made of: this script, the files of its folder, extra strings.
inputs_of() {
  local dir=$1; shift
  {
    cat "$0"
    if [ -n "$dir" ]; then (cd "$dir" && find . -type f | LC_ALL=C sort | xargs -r sha256sum); fi
    printf '%s\n' "$@"
  } | sha
}
image_label() { docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null || true; }
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || die "image $1 is missing"; }

# ensure TAG HASH BUILD_FUNCTION: skip when TAG already carries HASH; in --check mode only report.
ensure() {
  local tag=$1 hash=$2 build=$3
  if [ "$(image_label "$tag")" = "$hash" ]; then say "$tag is up to date"; return; fi
  if [ "$mode" = check ]; then say "missing: image $tag (tools/images/build.sh builds it)"; stale=1; return; fi
  say "building $tag"
  "$build" "$tag" "$hash"
  [ "$(image_label "$tag")" = "$hash" ] || die "$tag was built but does not carry $label=$hash"
}

# --- Debian base ------------------------------------------------------------------------------
# The mirror is whatever apt on this machine uses (never written into the repository).
apt_mirror() {
  local uri
  uri=$(
    {
      grep -hsE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '$3 ~ /^'"$suite"'$/ {print $2}'
      for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$suite" 'BEGIN{RS=""} $0 ~ "Suites:[^\n]*(^|[ \t])" suite "([ \t]|\n|$)" {
          if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u } }' "$f"
      done
    } | grep -v -- '-security' | head -n1
  )
  [ -n "$uri" ] || die "no apt source for Debian $suite in /etc/apt/sources.list or /etc/apt/sources.list.d/ to debootstrap from"
  printf '%s\n' "$uri"
}

rootfs_tar="$cache/debian-$suite-minbase.tar"
build_base() {
  local tag=$1 hash=$2
  if [ ! -f "$rootfs_tar" ]; then
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    local mirror dir
    mirror=$(apt_mirror)
    dir=$(mktemp -d "$cache/rootfs.XXXXXX")
    say "debootstrap --variant=minbase $suite (about a minute)"
    debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$cache/debootstrap.log" 2>&1 \
      || { rm -rf "$dir"; die "debootstrap failed; see $cache/debootstrap.log"; }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$dir"
  fi
  docker import --change "LABEL $label=$hash" --change 'CMD ["/bin/bash"]' "$rootfs_tar" "$tag" >/dev/null
}

# --- images built from a Dockerfile folder ------------------------------------------------------
# docker_build TAG HASH CONTEXT [--build-arg ...]
docker_build() {
  local tag=$1 hash=$2 context=$3; shift 3
  local name=${tag%%:*}
  local log="$cache/build-${name##*/}.log"
  docker build --label "$label=$hash" -t "$tag" "$@" "$context" >"$log" 2>&1 \
    || { tail -n 40 "$log" >&2; die "docker build of $tag failed; full output in $log"; }
}

fresh_context() { local d="$cache/context/$1"; rm -rf "$d"; mkdir -p "$d"; printf '%s\n' "$d"; }

build_kafka() {
  local libs="$root/.cache/kafka/$kafka_version/libs" ctx
  [ -f "$libs/.complete" ] || die "Kafka $kafka_version jars are not in $libs (run tools/setup.sh)"
  ctx=$(fresh_context kafka)
  cp -r "$here/kafka/." "$ctx/"
  mkdir -p "$ctx/libs" && cp "$libs"/*.jar "$ctx/libs/"
  docker_build "$1" "$2" "$ctx" --build-arg BASE_IMAGE=pipeline/debian-base:$suite
}

build_node() {
  local node_bin npm_dir ctx
  node_bin=$(readlink -f "$(command -v node)")
  npm_dir=$(cd "$(dirname "$node_bin")/../lib/node_modules/npm" 2>/dev/null && pwd) \
    || die "npm is not installed next to $node_bin"
  ctx=$(fresh_context node-base)
  cp -r "$here/node-base/." "$ctx/"
  cp "$node_bin" "$ctx/node"
  cp -r "$npm_dir" "$ctx/npm"
  docker_build "$1" "$2" "$ctx" --build-arg BASE_IMAGE=pipeline/debian-base:$suite
}

build_prometheus() {
  local ctx
  ctx=$(fresh_context prometheus)
  cp -r "$here/prometheus/." "$ctx/"
  cp /usr/bin/prometheus /usr/bin/promtool "$ctx/"
  cp -r /usr/share/prometheus/web "$ctx/web"
  docker_build "$1" "$2" "$ctx" --build-arg BASE_IMAGE=pipeline/debian-base:$suite
}

# Containers on this machine cannot reach the npm registry (only the host can), so services/Dockerfile
# gets its node_modules from an image of the host's own `npm ci` result instead of running npm ci.
build_services_deps() {
  local ctx
  [ -f "$root/node_modules/.package-lock.json" ] || die "node_modules is missing or not from npm ci (run npm ci)"
  ctx=$(fresh_context services-deps)
  cp -r "$here/services-deps/." "$ctx/"
  # realpath: in a git worktree node_modules may be a symlink to the main tree's.
  cp -a "$(realpath "$root/node_modules")" "$ctx/node_modules"
  docker_build "$1" "$2" "$ctx" --build-arg BASE_IMAGE="$node_tag"
}

build_services() {
  docker_build "$1" "$2" "$root" -f "$root/services/Dockerfile" --build-arg BASE_IMAGE="$node_tag" \
    --build-arg DEPS_IMAGE="$deps_tag"
}

mkdir -p "$cache"
# Two builds at once (setup and a test file, say) would share the context folders: one at a time.
if [ "$mode" = install ]; then exec 9>"$cache/.build.lock"; flock 9; fi
kafka_version=$(node -p 'require(process.argv[1]).config.kafkaVersion' "$root/package.json")
node_version=$(node --version)
node_tag="pipeline/node-base:$(node -p 'process.versions.node.split(".")[0]')"
base_tag="pipeline/debian-base:$suite"

want() { local t; for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }
# A derived image is only as fresh as its base: in --check mode a stale base makes it stale too.
base_ref() { if [ "$(image_label "$1")" = "$2" ]; then image_id "$1"; else echo "stale:$1"; fi; }

base_hash=$(inputs_of "" "debootstrap --variant=minbase $suite")
if want base || want kafka || want node || want prometheus || want services-deps || want services; then
  ensure "$base_tag" "$base_hash" build_base
fi
base_id=$(base_ref "$base_tag" "$base_hash")

if want kafka; then
  # The jar set changes when setup re-resolves them (a pinned dependency, say): that is an input too.
  jars=$(ls "$root/.cache/kafka/$kafka_version/libs" 2>/dev/null | sha)
  ensure "pipeline/kafka:$kafka_version" "$(inputs_of "$here/kafka" "kafka $kafka_version" "jars $jars" "$base_id")" build_kafka
fi
if want node || want services-deps || want services; then
  node_hash=$(inputs_of "$here/node-base" "node $node_version" "$base_id")
  ensure "$node_tag" "$node_hash" build_node
fi
if want prometheus; then
  command -v prometheus >/dev/null || die "the Debian prometheus package is not installed (tools/setup.sh installs it)"
  prom_version=$(dpkg-query -W -f '${Version}' prometheus)
  # Docker tags allow no '+' or '~': the upstream version names the image, the full one is hashed.
  prom_tag="pipeline/prometheus:$(printf '%s' "$prom_version" | sed -E 's/^[0-9]+://; s/[+~-].*$//')"
  ensure "$prom_tag" "$(inputs_of "$here/prometheus" "prometheus $prom_version" "$base_id")" build_prometheus
fi
if want services-deps || want services; then
  lock_sha=$(cd "$root" && cat package-lock.json node_modules/.package-lock.json 2>/dev/null | sha)
  deps_hash=$(inputs_of "$here/services-deps" "lockfiles $lock_sha" "$(base_ref "$node_tag" "$node_hash")")
  deps_tag="pipeline/services-deps:${deps_hash:0:12}"
  ensure "$deps_tag" "$deps_hash" build_services_deps
  # A name without a hash, for stack files (Pulumi.ci.yaml's services.buildArgs.DEPS_IMAGE).
  [ "$mode" = check ] || docker tag "$deps_tag" pipeline/services-deps:latest
fi
if want services; then
  [ -f "$root/services/Dockerfile" ] || die "services/Dockerfile is missing"
  # The context is what .dockerignore lets through; hash those files as they are in the work tree.
  services_hash=$(
    cd "$root" && {
      echo "$deps_hash"
      git ls-files --cached --others --exclude-standard -- services package.json package-lock.json tsconfig.json .dockerignore | LC_ALL=C sort | xargs -r sha256sum
      base_ref "$node_tag" "$node_hash"
    } | sha
  )
  services_tag="pipeline/services:${services_hash:0:12}"
  ensure "$services_tag" "$services_hash" build_services
  [ "$mode" = check ] || docker tag "$services_tag" pipeline/services:latest
  printf '%s\n' "$services_tag"
fi
# A rebuild moves the tag and leaves the previous image dangling; hash-tagged images leave their
# old tags behind: remove both (ours only).
if [ "$mode" = install ]; then
  if want services; then
    { docker images --format '{{.Repository}}:{{.Tag}}' pipeline/services; docker images --format '{{.Repository}}:{{.Tag}}' pipeline/services-deps; } \
      | grep -vxF -e "$services_tag" -e "$deps_tag" -e pipeline/services:latest -e pipeline/services-deps:latest | xargs -r docker rmi >/dev/null 2>&1 || true
  fi
  docker image prune -f --filter "label=$label" >/dev/null
fi
exit "$stale"
