// The consumer service: `npm run consume` locally, the same command in its container. Two
// read-process-write stages in one process, the second in a worker thread (see docs/consumer.md): repartition by group key,
// then event-time windows with state in a changelog, each exactly once through Kafka transactions.
// First, before anything loads kafkajs (see core/kafkajs-send-fix.ts).
import '../core/kafkajs-fixes';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { ConfigError } from '../core/env';
import { createKafka } from '../core/kafka-client';
import { checkPlaintextListeners } from '../core/listener-probe';
import { createLogger } from '../core/logger';
import { createRegistry, startMetricsServer } from '../core/metrics';
import { onShutdown } from '../core/shutdown';
import { readConsumerConfig, type ConsumerConfig } from './config';
import { ConsumerMetrics } from './consumer-metrics';
import { installReadCommittedFix } from './read-committed';
import { RepartitionStage, type Topology } from './repartition-stage';
import { combinedMetrics, WindowThread } from './window-thread';

async function main(): Promise<void> {
  // Before any fetch: kafkajs would otherwise hand both stages records of aborted transactions.
  installReadCommittedFix();
  const logger = createLogger('consumer');
  let config: ConsumerConfig;
  let kafka: Kafka;
  try {
    config = readConsumerConfig(process.env);
    // Reads and checks the TLS files (expiry, key matches certificate): a bad file is a config error too.
    kafka = createKafka(config.kafka, logger);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    exitWithConfigError(error);
  }
  const registry = createRegistry('consumer');
  const metrics = new ConsumerMetrics(registry);
  await checkPlaintextListeners(config.kafka);
  const admin = kafka.admin();
  await admin.connect();
  const topology = await readTopology(admin, config);
  const ctx = { kafka, admin, groupId: config.groupId, transactionalIdPrefix: config.transactionalIdPrefix, logger, metrics };
  const repartition = new RepartitionStage(ctx, config, topology);
  // Stage 2 in a thread of its own: the two stages then use two cores.
  const windows = new WindowThread(logger);
  let healthy = true;
  const crashed = (stage: string) => (error: Error) => {
    healthy = false;
    logger.fatal({ err: error, stage }, 'consumer crashed and will not restart; exiting');
    process.exit(1);
  };
  const server = await startMetricsServer(combinedMetrics(registry, windows), { port: config.metricsPort, healthy: () => healthy });
  onShutdown(async () => stopAll(logger, [() => repartition.stop(), () => windows.stop(), () => admin.disconnect(), () => server.close()]), { logger });
  // Side by side: each stage's first join waits out the broker's group.initial.rebalance.delay.ms
  // (3 s by default), and stage 1 needs nothing from stage 2 to start (stage 2 reads its topic
  // from its committed offsets, whenever it joins).
  await Promise.all([windows.start(crashed('windows')), repartition.start(crashed('repartition'))]);
  logger.info({ topics: config.topics, topology, metricsPort: server.port, groupId: config.groupId }, 'consumer running');
}

/** Partition counts, checked: each window task writes its changelog to the partition with its own number. */
async function readTopology(admin: Admin, config: ConsumerConfig): Promise<Topology> {
  const names = Object.values(config.topics);
  const { topics } = await admin.fetchTopicMetadata({ topics: names }).catch((error: unknown) => {
    throw new Error(`cannot describe the topics ${names.join(', ')} (do they exist, and may this identity describe them?): ${(error as Error).message}`);
  });
  const count = (name: string) => topics.find((t) => t.name === name)?.partitions.length ?? 0;
  const missing = names.filter((name) => count(name) === 0);
  if (missing.length > 0) throw new ConfigError(missing.map((name) => `topic ${name} does not exist`));
  const topology = { rawPartitions: count(config.topics.raw), repartitionPartitions: count(config.topics.repartition) };
  const changelog = count(config.topics.changelog);
  if (changelog < topology.repartitionPartitions) {
    throw new ConfigError([`${config.topics.changelog} has ${changelog} partitions; it needs at least as many as ${config.topics.repartition} (${topology.repartitionPartitions})`]);
  }
  return topology;
}

async function stopAll(logger: Logger, steps: (() => Promise<void>)[]): Promise<number> {
  let code = 0;
  for (const step of steps) {
    await step().catch((error: unknown) => {
      logger.error({ err: error }, 'error while stopping');
      code = 1;
    });
  }
  return code;
}

/** Plain text, as the producer prints it: a person reads this, at a terminal or in `docker logs`. */
function exitWithConfigError(error: ConfigError): never {
  process.stderr.write(`consumer: ${error.message}\n`);
  process.exit(2);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) exitWithConfigError(error);
  process.stderr.write(`consumer failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
