// The dashboards against the real pipeline: the producer and consumer services run as processes
// (with the environment producerEnv/consumerEnv render for their containers) on a real broker,
// a real Prometheus scrapes them with the rendered scrape config, and every query of every
// provisioned dashboard must return data while the pipeline works: no dead panel.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderPrometheusConfig } from '../../infra/render/prometheus-config';
import { consumerEnv } from '../../services/consumer/config';
import { producerEnv } from '../../services/producer/config';
import { writeGeneratedCsv } from '../../services/producer/generator';
import { freePorts } from '../../tools/kafka/free-port';
import { KafkaCluster } from '../../tools/kafka/kafka-cluster';
import { startService, stopService, type Service } from '../../tools/service-process';
import { createTopics, topicEnv, topicNames } from '../support/consumer-run';
import { deadPanels, formatResults, waitForLiveDashboards } from '../support/dashboard-queries';
import { PrometheusServer } from '../support/prometheus-server';

const topics = topicNames('monitoring');

describe('dashboards on the running pipeline', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'monitoring-pipeline-'));
  let cluster: KafkaCluster | undefined;
  let prometheus: PrometheusServer | undefined;
  let consumer: Service | undefined;
  let producer: Service | undefined;

  before(async () => {
    cluster = await KafkaCluster.start({ nodes: 1 });
    const kafka = cluster.kafka();
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, topics, { raw: 3, repartition: 3 }).finally(() => admin.disconnect());

    // Malformed rows feed the producer's rejections, late rows the consumer's late-event counts; at
    // 400 rows/s the producer works for about a minute, long enough for every rate to show.
    const csv = path.join(dir, 'events.csv');
    await writeGeneratedCsv(csv, { rows: 24_000, seed: 3, eventsPerSecond: 50, outOfOrderMs: 2_000, lateRate: 0.01, lateByMs: 120_000, malformedRate: 0.01 });

    const [producerPort, consumerPort] = await freePorts(2);
    prometheus = await PrometheusServer.start(
      renderPrometheusConfig({
        scrapeIntervalSeconds: 1,
        targets: [
          { job: 'producer', targets: [`127.0.0.1:${producerPort}`] },
          { job: 'consumer', targets: [`127.0.0.1:${consumerPort}`] },
        ],
      }),
    );
    const core = { KAFKA_BROKERS: cluster.bootstrap().join(','), KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', LOG_LEVEL: 'warn' };
    consumer = startService(
      'consumer',
      {
        ...core,
        ...topicEnv(topics),
        METRICS_PORT: String(consumerPort),
        ...consumerEnv({ tumblingSizeMs: 10_000, slidingSizeMs: 30_000, slidingAdvanceMs: 10_000, graceMs: 5_000, groupBy: ['category', 'overall'], idleTimeoutMs: 2_000 }),
      },
      path.join(dir, 'consumer.log'),
    );
    producer = startService(
      'producer',
      {
        ...core,
        METRICS_PORT: String(producerPort),
        ...producerEnv({ file: csv, pace: { mode: 'rate', eventsPerSecond: 400 }, batchMessages: 200, topics: { raw: topics.raw, deadLetter: topics.deadLetter, sourceOffsets: topics.sourceOffsets } }),
      },
      path.join(dir, 'producer.log'),
    );

    // Our producer never writes a message the consumer cannot read; anyone else with write access
    // might, and the consumer's dead-letter panel must show it.
    const rogue = kafka.producer({ idempotent: true });
    await rogue.connect();
    await rogue.send({ topic: topics.raw, messages: [{ key: 'rogue', value: 'not json at all' }] }).finally(() => rogue.disconnect());
  });

  after(async () => {
    for (const service of [producer, consumer]) if (service) await stopService(service);
    await prometheus?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every dashboard query with data from the producer and consumer services', async () => {
    const results = await waitForLiveDashboards(prometheus!.url, { macros: { rateInterval: '10s', range: '1h' }, timeoutMs: 120_000 });
    const dead = deadPanels(results);
    if (dead.length > 0) {
      process.stderr.write(`--- producer ---\n${producer!.tail(30)}\n--- consumer ---\n${consumer!.tail(30)}\n--- prometheus ---\n${prometheus!.logTail()}\n`);
      process.stderr.write(`targets: ${JSON.stringify(await prometheus!.targets())}\n`);
    }
    assert.deepEqual(dead, [], `dead panels:\n${formatResults(dead)}`);
    process.stdout.write(`${formatResults(results)}\n`);
  });
});
