// `npm run kafka:local`: a real KRaft broker on loopback for a person to try things against.
// Prints the bootstrap address and stays in the foreground until Ctrl-C, then removes everything.
import { KafkaCluster } from './kafka/kafka-cluster';
import { kafkaVersion } from './kafka/kafka-runtime';

async function main(): Promise<void> {
  const nodes = Number(process.env.KAFKA_LOCAL_NODES ?? '1');
  process.stdout.write(`Starting Apache Kafka ${kafkaVersion()} (KRaft, ${nodes} node${nodes === 1 ? '' : 's'})…\n`);
  const cluster = await KafkaCluster.start({ nodes });
  process.stdout.write(`Kafka is ready.\n  bootstrap servers: ${cluster.bootstrap().join(',')}\n  logs: ${cluster.dir}\nPress Ctrl-C to stop.\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping Kafka…\n');
    void cluster.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`kafka:local: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
