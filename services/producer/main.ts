// `npm run produce -- --file data.csv [--rate N | --replay K] [--preset …]`, or in the container with
// the same settings from PRODUCER_* variables. Exit codes: exit-codes.ts.
// First, before anything loads kafkajs (see core/kafkajs-send-fix.ts).
import '../core/kafkajs-fixes';
import { KafkaJSNonRetriableError, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { ConfigError } from '../core/env';
import { useGzipLevel } from '../core/gzip-codec';
import { createKafka } from '../core/kafka-client';
import { checkPlaintextListeners } from '../core/listener-probe';
import { createLogger } from '../core/logger';
import { createRegistry, startMetricsServer } from '../core/metrics';
import { onShutdown } from '../core/shutdown';
import { flagsToEnv, FlagError, readProducerConfig, type ProducerConfig } from './config';
import { fenceAndReadPosition, TransactionalDelivery } from './batch-delivery';
import { createTransactionalProducer } from './event-producer';
import { createProducerMetrics } from './producer-metrics';
import { exitCodeFor, exitCodes } from './exit-codes';
import { partitionCounterFor } from './verified-send';
import { decideResume, fileIdentity, type FileIdentity, type SourcePosition } from './source-offsets';
import { checkInput, formatReport, streamFile, type ProducerReport } from './stream-file';

function loadConfig(): ProducerConfig {
  try {
    return readProducerConfig({ ...process.env, ...flagsToEnv(process.argv.slice(2)) });
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof FlagError)) throw error;
    process.stderr.write(`producer: ${error.message}\n`);
    process.exit(exitCodes.config);
  }
}

/** Fences earlier producers, reads the committed position of this file, and decides: resume after it, or start over. */
async function startingPoint(config: ProducerConfig, kafka: Kafka, producer: Producer, logger: Logger): Promise<{ identity: FileIdentity; resumed?: SourcePosition }> {
  const identity = await fileIdentity(config.file);
  const stored = await fenceAndReadPosition(kafka, producer, config.topics.sourceOffsets, identity, config.transactionalId, logger).catch((error: unknown) => {
    // kafkajs reports a refused transactional id as a coordinator it cannot find: say what to check.
    throw new KafkaJSNonRetriableError(
      `cannot start as transactional id ${config.transactionalId} and read its position from ${config.topics.sourceOffsets}: ${(error as Error).message} ` +
      `(is this identity authorized: WRITE and DESCRIBE on the transactional id, READ on groups prefixed with it, READ, WRITE and DESCRIBE on the topic?)`,
    );
  });
  const decision = await decideResume(config.file, stored);
  if (decision.kind === 'different') {
    logger.warn({ file: identity, previous: decision.position, why: decision.why }, `${identity.name} is a different file than the one delivered before under this name (${decision.why}): starting over from line 1`);
  }
  if (decision.kind !== 'resume') return { identity };
  logger.info({ file: identity, position: decision.position, grown: decision.grown }, `resuming ${identity.name} after line ${decision.position.line} (committed position)${decision.grown ? ': the file grew' : ''}`);
  return { identity, resumed: decision.position };
}

async function main(): Promise<void> {
  const config = loadConfig();
  await checkInput(config);
  await checkPlaintextListeners(config.kafka);
  const logger = createLogger('producer');
  const registry = createRegistry('producer');
  const metrics = createProducerMetrics(registry);
  let kafkaFailed = false;
  const server = await startMetricsServer(registry, { port: config.metricsPort, healthy: () => !kafkaFailed });
  logger.info({ metricsPort: server.port }, 'metrics served on /metrics');
  if (config.compression === 'gzip') useGzipLevel(config.gzipLevel);
  const kafka = createKafka(config.kafka, logger);
  const producer = createTransactionalProducer(kafka, config.transactionalId);
  const controller = new AbortController();
  const run = (async (): Promise<number> => {
    await producer.connect();
    const { identity, resumed } = await startingPoint(config, kafka, producer, logger);
    const partitionCount = partitionCounterFor(kafka);
    const delivery = new TransactionalDelivery({
      producer, offsetsTopic: config.topics.sourceOffsets, identity, resumed, rawTopic: config.topics.raw, rawPartitions: await partitionCount(config.topics.raw),
    });
    const report: ProducerReport = await streamFile({
      settings: config, producer, delivery, ...(resumed ? { resumeFrom: resumed } : {}),
      partitionCount, logger, metrics, signal: controller.signal,
      ...(process.stderr.isTTY ? { terminal: process.stderr } : {}),
    });
    report.wholeFile = delivery.wholeFile;
    kafkaFailed = report.stoppedBy === 'kafka';
    (report.exitCode === exitCodes.ok ? logger.info.bind(logger) : logger.error.bind(logger))({ report }, formatReport(report));
    process.stdout.write(`${formatReport(report)}\n`);
    if (report.error) process.stderr.write(`producer: ${report.error}\n`);
    return report.exitCode;
  })().finally(async () => {
    await producer.disconnect().catch(() => undefined);
    await server.close();
  });
  onShutdown(
    async () => {
      controller.abort();
      return run;
    },
    { logger, timeoutMs: 60_000 },
  );
  process.exit(await run);
}

main().catch((error: unknown) => {
  process.stderr.write(`producer: ${(error as Error).message}\n`);
  process.exit(exitCodeFor(error));
});
