#!/usr/bin/env bash
# Prepares this machine for the whole test suite, idempotently. Everything it fetches is cached
# under .cache/ (git-ignored); a second run only checks and takes seconds.
#
#   tools/setup.sh            install what is missing, start dockerd if it is not running
#   tools/setup.sh --check    exit 0 when everything is ready, 1 otherwise (installs nothing)
#   tools/setup.sh --no-docker   skip docker.io, dockerd and debootstrap (unit + broker tests only)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache"
mode=install
want_docker=1
for arg in "$@"; do
  case "$arg" in
    --check) mode=check ;;
    --no-docker) want_docker=0 ;;
    *) echo "setup: unknown option '$arg' (known: --check, --no-docker)" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
missing=0
need() { # record a missing piece; in --check mode that is the answer
  if [ "$mode" = check ]; then say "missing: $*"; missing=1; return 1; fi
  return 0
}

kafka_version=$(node -p 'require(process.argv[1]).config.kafkaVersion' "$root/package.json") \
  || die "cannot read config.kafkaVersion from package.json (is Node.js 20 installed?)"

# --- Node.js --------------------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))"
if [ ! -d "$root/node_modules/kafkajs" ]; then
  need "node_modules (npm ci)" && (cd "$root" && npm ci --no-audit --no-fund)
fi

# --- Java and the Kafka jars ----------------------------------------------------------------
command -v java >/dev/null || die "Java 17 or newer is required to run the Kafka broker (apt-get install openjdk-17-jre-headless)"
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
[ "${java_major:-0}" -ge 17 ] 2>/dev/null || die "Java 17 or newer is required (found java.specification.version=${java_major:-unknown})"

libs="$cache/kafka/$kafka_version/libs"
# The stamp is the pom's hash: editing the pom (a pinned dependency, say) re-resolves the jars.
stamp=$(sha256sum "$root/tools/kafka/pom.xml" | cut -c1-64)
if [ "$(cat "$libs/.complete" 2>/dev/null)" != "$stamp" ]; then
  if need "Kafka $kafka_version jars in $libs"; then
    command -v mvn >/dev/null || die "Maven is required to resolve Apache Kafka $kafka_version (apt-get install maven)"
    say "resolving Apache Kafka $kafka_version with Maven into $libs"
    # Resolve beside the old jars and swap at the end, so brokers starting meanwhile still find theirs.
    fresh="$libs.new"
    rm -rf "$fresh" && mkdir -p "$fresh"
    mvn -q -B -f "$root/tools/kafka/pom.xml" -Dkafka.version="$kafka_version" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$fresh" \
      || die "Maven could not resolve org.apache.kafka:kafka_2.13:$kafka_version (see the output above)"
    ls "$fresh"/kafka_2.13-"$kafka_version".jar >/dev/null || die "kafka_2.13-$kafka_version.jar missing after Maven ran"
    rm -rf "$libs" && mv "$fresh" "$libs"
    echo "$stamp" >"$libs/.complete"
  fi
fi

# --- The benchmark's Kafka Streams peer -------------------------------------------------------
# bench/streams-peer (kafka-streams at the same version, with RocksDB), built into the cache: its
# jar and every runtime dependency in .cache/streams-peer/<version>/libs. Rebuilt when its pom or a
# source file changes.
peer_libs="$cache/streams-peer/$kafka_version/libs"
peer_dir="$root/bench/streams-peer"
peer_stamp=$( (cd "$peer_dir" && find pom.xml src -type f | LC_ALL=C sort | xargs cat) | sha256sum | cut -c1-64)
if [ "$(cat "$peer_libs/.complete" 2>/dev/null)" != "$peer_stamp" ]; then
  if need "the Kafka Streams peer in $peer_libs"; then
    command -v mvn >/dev/null || die "Maven is required to build the Kafka Streams peer (apt-get install maven)"
    say "building the Kafka Streams peer (kafka-streams $kafka_version) with Maven into $peer_libs"
    fresh="$peer_libs.new"
    build="$cache/streams-peer/$kafka_version/build"
    rm -rf "$fresh" "$build" && mkdir -p "$fresh"
    mvn -q -B -f "$peer_dir/pom.xml" -Dkafka.version="$kafka_version" -Dpeer.buildDir="$build" \
      package dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$fresh" \
      || die "Maven could not build bench/streams-peer against kafka-streams $kafka_version (see the output above)"
    cp "$build/streams-peer-1.jar" "$fresh/" || die "streams-peer-1.jar missing after Maven ran"
    rm -rf "$build" "$peer_libs" && mv "$fresh" "$peer_libs"
    echo "$peer_stamp" >"$peer_libs/.complete"
  fi
fi

# --- Debian packages ------------------------------------------------------------------------
pkgs=(kcat prometheus)
bins=(kcat prometheus)
if [ "$want_docker" = 1 ]; then pkgs+=(docker.io debootstrap); bins+=(dockerd debootstrap); fi
absent=()
for i in "${!pkgs[@]}"; do
  command -v "${bins[$i]}" >/dev/null || absent+=("${pkgs[$i]}")
done
if [ "${#absent[@]}" -gt 0 ] && need "Debian packages: ${absent[*]}"; then
  [ "$(id -u)" = 0 ] || die "Debian packages missing: ${absent[*]}; run 'sudo apt-get install -y ${absent[*]}' or run setup as root"
  say "installing Debian packages: ${absent[*]}"
  # The package lists on a new machine may be stale or empty: refresh once per machine.
  if [ ! -f "$cache/apt-updated" ]; then apt-get update -qq; mkdir -p "$cache"; touch "$cache/apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${absent[@]}" >/dev/null \
    || die "apt-get could not install: ${absent[*]}"
fi
# The Debian prometheus package starts a system service on :9090; the tests run their own.
if [ "$mode" = install ] && command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus prometheus-node-exporter 2>/dev/null || true
fi

# --- Docker engine --------------------------------------------------------------------------
if [ "$want_docker" = 1 ] && ! docker info >/dev/null 2>&1; then
  if need "a running Docker engine"; then
    command -v dockerd >/dev/null || die "dockerd is not installed (apt-get install docker.io)"
    [ "$(id -u)" = 0 ] || die "the Docker engine is not running and only root can start it here (sudo dockerd)"
    say "starting dockerd (log: $cache/dockerd.log)"
    mkdir -p "$cache"
    nohup dockerd >"$cache/dockerd.log" 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || die "dockerd did not come up in 60 s; see $cache/dockerd.log"
  fi
fi
if [ "$want_docker" = 1 ] && ! bash "$root/tools/images/build.sh" "--$mode"; then [ "$mode" = check ] && missing=1 || die "building the local Docker images failed (see above)"; fi

if [ "$mode" = check ]; then exit "$missing"; fi
say "ready: Kafka $kafka_version in $libs"
