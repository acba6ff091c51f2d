#!/bin/sh
# As Apache Kafka's bin/kafka-server-start.sh: a 1 GiB heap and the server log configuration unless
# KAFKA_HEAP_OPTS / KAFKA_LOG4J_OPTS say otherwise.
if [ $# -lt 1 ]; then
  echo "USAGE: $0 server.properties [--override property=value]*" >&2
  exit 1
fi
base_dir=$(cd "$(dirname "$0")" && pwd)
: "${KAFKA_LOG4J_OPTS:=-Dlog4j2.configurationFile=$base_dir/../config/log4j2.yaml}"
: "${KAFKA_HEAP_OPTS:=-Xmx1G -Xms1G}"
export KAFKA_LOG4J_OPTS KAFKA_HEAP_OPTS
exec "$base_dir/kafka-run-class.sh" kafka.Kafka "$@"
