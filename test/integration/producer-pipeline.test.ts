// The producer against a real KRaft broker: generated rows with malformed ones in them arrive
// exactly once (good rows field by field on the raw topic, bad rows with their reasons on the
// dead-letter topic), also across a broker restart mid-run; the CLI stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
import { createProducerMetrics } from '../../services/producer/producer-metrics';
import { generateRows, writeGeneratedCsv, type GenerateOptions, type GeneratedRow } from '../../services/producer/generator';
import { streamFile } from '../../services/producer/stream-file';
import { KafkaCluster } from '../../tools/kafka/kafka-cluster';
import { consumeUntil, type ConsumedRecord } from '../support/consume';

const logger = pino({ level: 'silent' });
const repo = path.join(__dirname, '..', '..');

/** The canonical event a good generated row must become, derived from the row text independently of the presets. */
function expectedEvent(row: GeneratedRow, file: string): EcommerceEvent {
  const [time, type, product, categoryId, categoryCode, brand, price, user, session] = row.text.split(',') as [string, ...string[]];
  return {
    schemaVersion: 1, eventId: `${file}:${row.line}`, eventTime: Date.parse(`${time.replace(' UTC', 'Z').replace(' ', 'T')}`),
    eventType: type as EcommerceEvent['eventType'], productId: product!, categoryId: categoryId || null, categoryCode: categoryCode || null,
    brand: brand || null, price: Number(price), quantity: 1, userId: user || null, sessionId: session || null, country: null, source: 'rees46',
  };
}

describe('producer against a real broker', () => {
  let cluster: KafkaCluster;
  let kafka: Kafka;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'producer-it-'));
  let topicSeq = 0;

  before(async () => {
    cluster = await KafkaCluster.start({ nodes: 1 });
    kafka = cluster.kafka();
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Prints the broker's log when a test fails. */
  const guarded = (body: () => Promise<void>) => () => cluster.guard(body)();

  async function topics(): Promise<{ raw: string; deadLetter: string }> {
    topicSeq++;
    const names = { raw: `raw_${topicSeq}`, deadLetter: `dead_${topicSeq}` };
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: names.raw, numPartitions: 3 }, { topic: names.deadLetter, numPartitions: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    return names;
  }

  function settings(file: string, names: { raw: string; deadLetter: string }, extra: Record<string, string> = {}): ProducerSettings {
    return readProducerConfig({
      KAFKA_BROKERS: cluster.bootstrap().join(','), KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', PRODUCER_FILE: file,
      TOPIC_RAW: names.raw, TOPIC_DEAD_LETTER: names.deadLetter, ...extra,
    });
  }

  async function generate(name: string, options: GenerateOptions & { gzip?: boolean }): Promise<{ file: string; good: GeneratedRow[]; bad: GeneratedRow[] }> {
    const file = path.join(dir, name);
    await writeGeneratedCsv(file, options);
    const rows = [...generateRows(options)];
    return { file, good: rows.filter((r) => !r.malformed), bad: rows.filter((r) => r.malformed) };
  }

  /** Reads both topics back and checks: every good row once, field by field and keyed by session; every bad row once with its reason. */
  async function assertExactlyOnce(file: string, names: { raw: string; deadLetter: string }, good: GeneratedRow[], bad: GeneratedRow[]): Promise<void> {
    const base = path.basename(file);
    const events = await consumeUntil(kafka, names.raw, (r) => r.length >= good.length, { timeoutMs: 60_000 });
    // Anything beyond the expected count would be a duplicate: give it a moment to show up.
    const all = await consumeUntil(kafka, names.raw, (r) => r.length > good.length, { timeoutMs: 3000 }).catch(() => events);
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
    const dead = await consumeUntil(kafka, names.deadLetter, (r) => r.length >= bad.length, { timeoutMs: 30_000 });
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

  async function withProducer<T>(body: (producer: Producer) => Promise<T>, wrap?: (producer: Producer) => Producer): Promise<T> {
    // The service's own client settings (timeouts, reconnect backoff), not the harness's.
    const producer = createEventProducer(createKafka({ brokers: cluster.bootstrap(), clientId: 'producer', securityProtocol: 'PLAINTEXT' }, logger));
    await producer.connect();
    try {
      return await body(wrap ? wrap(producer) : producer);
    } finally {
      await producer.disconnect();
    }
  }

  it('N rows with malformed ones: N − bad events field by field, bad rows dead-lettered with reasons', { timeout: 120_000 }, guarded(async () => {
    const names = await topics();
    const { file, good, bad } = await generate('mixed.csv', { rows: 4000, seed: 11, malformedRate: 0.03, outOfOrderMs: 5000 });
    assert.ok(bad.length > 50);
    const registry = new Registry();
    const metrics = createProducerMetrics(registry);
    const report = await withProducer((producer) => streamFile({ settings: settings(file, names, { PRODUCER_BATCH_MESSAGES: '700' }), producer, logger, metrics }));
    assert.deepEqual([report.read, report.sent, report.rejected, report.failed, report.exitCode], [4000, good.length, bad.length, 0, 0]);
    const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
    const total = async (name: string) => (await value(name)).reduce((sum, v) => sum + v.value, 0);
    assert.equal(await total(metricNames.producer.rowsRead), 4000);
    assert.equal(await total(metricNames.producer.rowsSent), good.length);
    assert.equal(await total(metricNames.producer.rowsRejected), bad.length);
    assert.equal(await total(metricNames.producer.inflightBatches), 0);
    const sends = (await metrics.sendDuration.get()).values.find((v) => v.metricName === `${metricNames.producer.sendDuration}_count`);
    assert.equal(sends?.value, Math.ceil(4000 / 700));
    await assertExactlyOnce(file, names, good, bad);
  }));

  it('a broker restart mid-run loses nothing and duplicates nothing', { timeout: 180_000 }, guarded(async () => {
    const names = await topics();
    const { file, good, bad } = await generate('restart.csv.gz', { rows: 30_000, seed: 12, malformedRate: 0.01, gzip: true });
    let batches = 0;
    let restarting = false;
    let sentWhileRestarting = 0;
    let restart: Promise<void> | undefined;
    const report = await withProducer(
      (producer) => streamFile({ settings: settings(file, names, { PRODUCER_BATCH_MESSAGES: '500' }), producer, logger }),
      (producer) => ({
        ...producer,
        sendBatch: (batch) => {
          // Restart the only broker while batches keep coming: sends in between must be retried.
          if (++batches === 5) {
            restarting = true;
            restart = cluster.restartNode(1).finally(() => (restarting = false));
          }
          if (restarting) sentWhileRestarting++;
          return producer.sendBatch(batch);
        },
      }),
    );
    await restart;
    assert.ok(sentWhileRestarting >= 2 && batches > sentWhileRestarting + 4, `${sentWhileRestarting} of ${batches} batches sent while the broker restarted; ${JSON.stringify(report)}`);
    assert.deepEqual([report.read, report.sent, report.rejected, report.failed, report.exitCode], [30_000, good.length, bad.length, 0, 0]);
    await assertExactlyOnce(file, names, good, bad);
  }));

  it('the CLI stops on SIGTERM with every row it read delivered, and says so', { timeout: 120_000 }, guarded(async () => {
    const names = await topics();
    const { file } = await generate('paced.csv', { rows: 50_000, seed: 13, malformedRate: 0.02 });
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/producer/main.ts', '--file', file, '--rate', '2000', '--batch-messages', '200'], {
      cwd: repo,
      env: { ...process.env, KAFKA_BROKERS: cluster.bootstrap().join(','), KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', TOPIC_RAW: names.raw, TOPIC_DEAD_LETTER: names.deadLetter, METRICS_PORT: '0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await consumeUntil(kafka, names.raw, (r) => r.length >= 1000, { timeoutMs: 60_000 });
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    } finally {
      child.kill('SIGKILL');
    }
    const match = /read (\d+) = sent (\d+) \+ rejected (\d+).*stopped by signal/.exec(stdout);
    assert.ok(match, `no report in ${stdout}`);
    const [read, sent, rejected] = match.slice(1).map(Number) as [number, number, number];
    assert.ok(read < 50_000 && read === sent + rejected);
    const events = await consumeUntil(kafka, names.raw, (r) => r.length >= sent, { timeoutMs: 30_000 });
    const extra = await consumeUntil(kafka, names.raw, (r) => r.length > sent, { timeoutMs: 3000 }).catch(() => events);
    assert.equal(extra.length, sent);
    const dead = await consumeUntil(kafka, names.deadLetter, (r) => r.length >= rejected, { timeoutMs: 30_000 });
    assert.equal(dead.length, rejected);
  }));
});
