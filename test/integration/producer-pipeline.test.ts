// The producer against a real KRaft broker: generated rows with malformed ones in them arrive
// exactly once (good rows field by field on the raw topic, bad rows with their reasons on the
// dead-letter topic), also across a broker restart mid-run; the CLI stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kafka, Producer } from 'kafkajs';
import pino from 'pino';
import type { EcommerceEvent } from '../../services/core/event';
import { createKafka } from '../../services/core/kafka-client';
import { metricNames } from '../../services/core/metric-names';
import { Registry } from 'prom-client';
import { readProducerConfig, type ProducerSettings } from '../../services/producer/config';
import type { DeadLetterValue } from '../../services/producer/dead-letter';
import { createEventProducer } from '../../services/producer/event-producer';
import { partitionCounterFor } from '../../services/producer/verified-send';
import { createProducerMetrics } from '../../services/producer/producer-metrics';
import { generateRows, writeGeneratedCsv, type GenerateOptions, type GeneratedRow } from '../../services/producer/generator';
import { streamFile } from '../../services/producer/stream-file';
import { KafkaCluster } from '../../tools/kafka/kafka-cluster';
import { startService, stopService } from '../../tools/service-process';
import { consumeUntil, type ConsumedRecord } from '../support/consume';

const logger = pino({ level: 'silent' });

/** The canonical event a good generated row must become, derived from the row text independently of the presets. */
function expectedEvent(row: GeneratedRow, file: string): EcommerceEvent {
  const [time, type, product, categoryId, categoryCode, brand, price, user, session] = row.text.split(',') as [string, ...string[]];
  return {
    schemaVersion: 1, eventId: `${file}:${row.line}`, eventTime: Date.parse(`${time.replace(' UTC', 'Z').replace(' ', 'T')}`),
    eventType: type as EcommerceEvent['eventType'], productId: product!, categoryId: categoryId || null, categoryCode: categoryCode || null,
    brand: brand || null, price: Number(price), quantity: 1, userId: user || null, sessionId: session || null, country: null, source: 'rees46',
  };
}

type TopicNames = { raw: string; deadLetter: string; sourceOffsets: string };

/** A real cluster plus the helpers every test here needs: fresh topics, generated files, read-back checks. */
class Rig {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'producer-it-'));
  private topicSeq = 0;
  private constructor(readonly cluster: KafkaCluster, readonly kafka: Kafka) {}

  static async start(nodes: number): Promise<Rig> {
    const cluster = await KafkaCluster.start({ nodes });
    return new Rig(cluster, cluster.kafka());
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Prints the brokers' logs when a test fails. */
  guarded(body: () => Promise<void>): () => Promise<void> {
    return () => this.cluster.guard(body)();
  }

  async topics(replicationFactor = 1): Promise<TopicNames> {
    this.topicSeq++;
    const names = { raw: `raw_${this.topicSeq}`, deadLetter: `dead_${this.topicSeq}`, sourceOffsets: `offsets_${this.topicSeq}` };
    const configEntries = replicationFactor > 1 ? [{ name: 'min.insync.replicas', value: '2' }] : [];
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          { topic: names.raw, numPartitions: 3, replicationFactor, configEntries }, { topic: names.deadLetter, numPartitions: 1, replicationFactor, configEntries },
          { topic: names.sourceOffsets, numPartitions: 1, replicationFactor, configEntries: [...configEntries, { name: 'cleanup.policy', value: 'compact' }] },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
    return names;
  }

  settings(file: string, names: TopicNames, extra: Record<string, string> = {}): ProducerSettings {
    return readProducerConfig({
      KAFKA_BROKERS: this.cluster.bootstrap().join(','), KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', PRODUCER_FILE: file,
      TOPIC_RAW: names.raw, TOPIC_DEAD_LETTER: names.deadLetter, TOPIC_SOURCE_OFFSETS: names.sourceOffsets, ...extra,
    });
  }

  async generate(name: string, options: GenerateOptions & { gzip?: boolean }): Promise<{ file: string; good: GeneratedRow[]; bad: GeneratedRow[] }> {
    const file = path.join(this.dir, name);
    await writeGeneratedCsv(file, options);
    const rows = [...generateRows(options)];
    return { file, good: rows.filter((r) => !r.malformed), bad: rows.filter((r) => r.malformed) };
  }

  async withProducer<T>(body: (producer: Producer) => Promise<T>, wrap?: (producer: Producer) => Producer): Promise<T> {
    // The service's own client settings (timeouts, reconnect backoff), not the harness's.
    const producer = createEventProducer(createKafka({ brokers: this.cluster.bootstrap(), clientId: 'producer', securityProtocol: 'PLAINTEXT' }, logger));
    await producer.connect();
    try {
      return await body(wrap ? wrap(producer) : producer);
    } finally {
      await producer.disconnect();
    }
  }

  /** Reads both topics back and checks: every good row once, field by field and keyed by session; every bad row once with its reason. */
  async assertExactlyOnce(file: string, names: TopicNames, good: GeneratedRow[], bad: GeneratedRow[]): Promise<void> {
    const base = path.basename(file);
    const events = await consumeUntil(this.kafka, names.raw, (r) => r.length >= good.length, { timeoutMs: 60_000 });
    // Anything beyond the expected count would be a duplicate: give it a moment to show up.
    const all = await consumeUntil(this.kafka, names.raw, (r) => r.length > good.length, { timeoutMs: 3000 }).catch(() => events);
    assert.equal(all.length, good.length, `${all.length} records on ${names.raw}, expected ${good.length}`);
    const byId = new Map<string, ConsumedRecord>();
    for (const record of all) {
      const id = (JSON.parse(record.value!) as EcommerceEvent).eventId;
      assert.ok(!byId.has(id), `duplicate ${id}`);
      byId.set(id, record);
    }
    for (const row of good) {
      const expected = expectedEvent(row, base);
      const record = byId.get(expected.eventId);
      assert.ok(record, `${expected.eventId} missing`);
      assert.deepEqual(JSON.parse(record.value!), expected);
      assert.equal(record.key, expected.sessionId);
    }
    assertSessionOrder(all);
    await this.assertDeadLetters(base, names, bad);
  }

  private async assertDeadLetters(base: string, names: TopicNames, bad: GeneratedRow[]): Promise<void> {
    const dead = await consumeUntil(this.kafka, names.deadLetter, (r) => r.length >= bad.length, { timeoutMs: 30_000 });
    assert.equal(dead.length, bad.length);
    const reasons = new Map(dead.map((d) => {
      const value = JSON.parse(d.value!) as DeadLetterValue;
      assert.equal(d.headers.reason, value.reason);
      return [value.line, value] as const;
    }));
    for (const row of bad) {
      const value = reasons.get(row.line);
      assert.ok(value, `bad row at line ${row.line} missing from the dead-letter topic`);
      assert.deepEqual([value.file, value.raw, value.reason], [base, row.text, row.malformed]);
    }
  }
}

/** Within a partition, one session's events come in file order (the key keeps a session together). */
function assertSessionOrder(records: ConsumedRecord[]): void {
  const last = new Map<string, number>();
  const ordered = [...records].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  for (const r of ordered) {
    const line = Number((JSON.parse(r.value!) as EcommerceEvent).eventId.split(':').pop());
    assert.ok((last.get(r.key!) ?? 0) < line, `session ${r.key} out of order at line ${line}`);
    last.set(r.key!, line);
  }
}

describe('producer against a real broker', () => {
  let rig: Rig;
  before(async () => {
    rig = await Rig.start(1);
  });
  after(async () => {
    await rig?.stop();
  });
  const guarded = (body: () => Promise<void>) => () => rig.guarded(body)();

  it('N rows with malformed ones: N − bad events field by field, bad rows dead-lettered with reasons', { timeout: 120_000 }, guarded(async () => {
    const names = await rig.topics();
    const { file, good, bad } = await rig.generate('mixed.csv', { rows: 4000, seed: 11, malformedRate: 0.03, outOfOrderMs: 5000 });
    assert.ok(bad.length > 50);
    const registry = new Registry();
    const metrics = createProducerMetrics(registry);
    const report = await rig.withProducer((producer) => streamFile({ settings: rig.settings(file, names, { PRODUCER_BATCH_MESSAGES: '700' }), producer, partitionCount: partitionCounterFor(rig.kafka), logger, metrics }));
    assert.deepEqual([report.read, report.sent, report.rejected, report.failed, report.exitCode], [4000, good.length, bad.length, 0, 0]);
    const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
    const total = async (name: string) => (await value(name)).reduce((sum, v) => sum + v.value, 0);
    assert.equal(await total(metricNames.producer.rowsRead), 4000);
    assert.equal(await total(metricNames.producer.rowsSent), good.length);
    assert.equal(await total(metricNames.producer.rowsRejected), bad.length);
    assert.equal(await total(metricNames.producer.inflightBatches), 0);
    const sends = (await metrics.sendDuration.get()).values.find((v) => v.metricName === `${metricNames.producer.sendDuration}_count`);
    assert.equal(sends?.value, Math.ceil(4000 / 700));
    await rig.assertExactlyOnce(file, names, good, bad);
  }));

  it('a broker restart mid-run loses nothing and duplicates nothing', { timeout: 180_000 }, guarded(async () => {
    const names = await rig.topics();
    const { file, good, bad } = await rig.generate('restart.csv.gz', { rows: 30_000, seed: 12, malformedRate: 0.01, gzip: true });
    let batches = 0;
    let restarting = false;
    let sentWhileRestarting = 0;
    let restart: Promise<void> | undefined;
    const report = await rig.withProducer(
      (producer) => streamFile({ settings: rig.settings(file, names, { PRODUCER_BATCH_MESSAGES: '500' }), producer, partitionCount: partitionCounterFor(rig.kafka), logger }),
      (producer) => ({
        ...producer,
        sendBatch: (batch) => {
          // Restart the only broker while batches keep coming: sends in between must be retried.
          if (++batches === 5) {
            restarting = true;
            restart = rig.cluster.restartNode(1).finally(() => (restarting = false));
          }
          if (restarting) sentWhileRestarting++;
          return producer.sendBatch(batch);
        },
      }),
    );
    await restart;
    assert.ok(sentWhileRestarting >= 2 && batches > sentWhileRestarting + 4, `${sentWhileRestarting} of ${batches} batches sent while the broker restarted; ${JSON.stringify(report)}`);
    assert.deepEqual([report.read, report.sent, report.rejected, report.failed, report.exitCode], [30_000, good.length, bad.length, 0, 0]);
    await rig.assertExactlyOnce(file, names, good, bad);
  }));

  it('the CLI stops on SIGTERM with every row it read delivered, and says so', { timeout: 120_000 }, guarded(async () => {
    const names = await rig.topics();
    const { file } = await rig.generate('paced.csv', { rows: 50_000, seed: 13, malformedRate: 0.02 });
    const producer = startService('producer', {
      KAFKA_BROKERS: rig.cluster.bootstrap().join(','), KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', TOPIC_RAW: names.raw, TOPIC_DEAD_LETTER: names.deadLetter,
      TOPIC_SOURCE_OFFSETS: names.sourceOffsets, PRODUCER_TRANSACTIONAL_ID: `producer-${names.raw}`, METRICS_PORT: '0', LOG_LEVEL: 'warn',
    }, path.join(rig.dir, 'paced.log'), { args: ['--file', file, '--rate', '2000', '--batch-messages', '200'] });
    try {
      await consumeUntil(rig.kafka, names.raw, (r) => r.length >= 1000, { timeoutMs: 60_000 });
      assert.equal(await stopService(producer), 0, producer.tail());
    } finally {
      await stopService(producer, { signal: 'SIGKILL' });
    }
    const match = /read (\d+) = sent (\d+) \+ rejected (\d+).*stopped by signal/.exec(producer.log());
    assert.ok(match, `no report in ${producer.log()}`);
    const [read, sent, rejected] = match.slice(1).map(Number) as [number, number, number];
    assert.ok(read < 50_000 && read === sent + rejected);
    const events = await consumeUntil(rig.kafka, names.raw, (r) => r.length >= sent, { timeoutMs: 30_000 });
    const extra = await consumeUntil(rig.kafka, names.raw, (r) => r.length > sent, { timeoutMs: 3000 }).catch(() => events);
    assert.equal(extra.length, sent);
    const dead = await consumeUntil(rig.kafka, names.deadLetter, (r) => r.length >= rejected, { timeoutMs: 30_000 });
    assert.equal(dead.length, rejected);
  }));
});

describe('producer against a three-node quorum', () => {
  let rig: Rig;
  before(async () => {
    rig = await Rig.start(3);
  });
  after(async () => {
    await rig?.stop();
  });

  it('a leader killed mid-run (SIGKILL) loses nothing and duplicates nothing', { timeout: 180_000 }, () => rig.guarded(async () => {
    const names = await rig.topics(3);
    const { file, good, bad } = await rig.generate('failover.csv', { rows: 20_000, seed: 14, malformedRate: 0.01 });
    let batches = 0;
    let kill: Promise<void> | undefined;
    const report = await rig.withProducer(
      (producer) => streamFile({ settings: rig.settings(file, names, { PRODUCER_BATCH_MESSAGES: '500' }), producer, partitionCount: partitionCounterFor(rig.kafka), logger }),
      (producer) => ({
        ...producer,
        sendBatch: (batch) => {
          // A crash, not a controlled shutdown: its partitions fail over to the two survivors (min.insync.replicas=2).
          if (++batches === 4) kill = rig.cluster.stopNode(2, 'kill');
          return producer.sendBatch(batch);
        },
      }),
    );
    await kill;
    assert.ok(batches > 30, `${batches} batches`);
    assert.deepEqual([report.read, report.sent, report.rejected, report.failed, report.exitCode], [20_000, good.length, bad.length, 0, 0]);
    await rig.assertExactlyOnce(file, names, good, bad);
  })());
});
