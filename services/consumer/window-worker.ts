// Stage 2 (the window stage) in its own thread (window-thread.ts starts it): its own kafkajs client,
// admin and metrics registry, the same configuration read from the same environment. It answers
// the main thread's requests for its metrics and for a graceful stop, and reports a crash.
// First, before anything loads kafkajs (see core/kafkajs-send-fix.ts): the patches are per thread.
import '../core/kafkajs-fixes';
import { parentPort } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { createKafka } from '../core/kafka-client';
import { createLogger } from '../core/logger';
import { readConsumerConfig } from './config';
import { ConsumerMetrics } from './consumer-metrics';
import { installReadCommittedFix } from './read-committed';
import type { FromWorker, ToWorker } from './window-thread';
import { WindowStage } from './window-stage';

async function run(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('window-worker.ts runs as a worker thread (see window-thread.ts)');
  const send = (message: FromWorker): void => port.postMessage(message);
  installReadCommittedFix();
  const logger = createLogger('consumer').child({ thread: 'windows' });
  // The main thread has read and checked the same environment already.
  const config = readConsumerConfig(process.env);
  const kafka = createKafka(config.kafka, logger);
  // No default (process) metrics here: the main thread's registry has them, once.
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'consumer' });
  const metrics = new ConsumerMetrics(registry);
  const admin = kafka.admin();
  const windows = new WindowStage({ kafka, admin, groupId: config.groupId, transactionalIdPrefix: config.transactionalIdPrefix, logger, metrics }, config);
  port.on('message', (message: ToWorker) => {
    if (message.type === 'metrics') {
      registry.getMetricsAsJSON().then((values) => send({ type: 'metrics', id: message.id, values }), (error: unknown) => send({ type: 'metrics', id: message.id, values: [], error: String(error) }));
    } else if (message.type === 'stop') {
      windows.stop()
        .then(() => admin.disconnect())
        .then(() => send({ type: 'stopped' }), (error: unknown) => {
          // Logged here too: the message may not reach the main thread before this thread ends.
          logger.error({ err: error }, 'error while stopping the window stage');
          send({ type: 'stopped', error: errorText(error) });
        })
        // Ends this thread only (in a worker, process.exit does), whatever timers a client left behind.
        .finally(() => process.exit(0));
    }
  });
  await admin.connect();
  await windows.start((error) => send({ type: 'crashed', error: errorText(error) }));
  send({ type: 'started' });
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

run().catch((error: unknown) => parentPort?.postMessage({ type: 'crashed', error: errorText(error) } satisfies FromWorker));
