// How a Kafka command-line tool's JVM is started when it runs for a second or two beside brokers
// (the healthcheck every 15 s, the metadata.version step, storage formatting): the serial collector
// and the C1 compiler alone take about half the CPU of kafka-run-class.sh's server defaults (G1,
// both compilers): 1.7 against 3.1 CPU seconds per healthcheck, measured in the broker image, where
// three brokers checked every 15 s had spent 0.6 of a core on it.
/** Compiles with C1 alone: a JVM's start costs about half the CPU (tools here; the test harness' brokers too). */
export const c1OnlyJvmOption = '-XX:TieredStopAtLevel=1';
export const shortRunJvmOptions: readonly string[] = ['-XX:+UseSerialGC', c1OnlyJvmOption, '-Djava.awt.headless=true'];

/** A tool run beside a broker, inside its container and memory limit: a small heap, a short-run JVM. */
export const kafkaToolEnv: Readonly<Record<string, string>> = {
  KAFKA_HEAP_OPTS: '-Xmx96m',
  KAFKA_JVM_PERFORMANCE_OPTS: shortRunJvmOptions.join(' '),
};

/** For a Docker exec's Env: NAME=value. */
export const kafkaToolEnvList = (): string[] => Object.entries(kafkaToolEnv).map(([name, value]) => `${name}=${value}`);

/** For a shell command line: NAME='value' (no value holds a quote). */
export const kafkaToolEnvShell = (): string => Object.entries(kafkaToolEnv).map(([name, value]) => `${name}='${value}'`).join(' ');
