// The consumer's integration tests: topics, raw input, a test bed that runs consumer processes
// (tools/service-process.ts) against a real cluster, and reading what they committed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import { installReadCommittedFix } from '../../services/consumer/read-committed';
import { KafkaCluster } from '../../tools/kafka/kafka-cluster';
import { startService, stopService, type Service } from '../../tools/service-process';
import { toRecord, type ConsumedRecord } from './consume';
import type { GeneratedMessage } from './consumer-events';

export interface TopicNames {
  raw: string;
  processed: string;
  deadLetter: string;
  late: string;
  repartition: string;
  changelog: string;
  sourceOffsets: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    raw: `${prefix}_raw`, processed: `${prefix}_processed`, deadLetter: `${prefix}_dead_letter`,
    late: `${prefix}_late`, repartition: `${prefix}_repartition`, changelog: `${prefix}_changelog`,
    sourceOffsets: `${prefix}_source_offsets`,
  };
}

export function topicEnv(topics: TopicNames): Record<string, string> {
  return {
    TOPIC_RAW: topics.raw, TOPIC_PROCESSED: topics.processed, TOPIC_DEAD_LETTER: topics.deadLetter,
    TOPIC_LATE: topics.late, TOPIC_REPARTITION: topics.repartition, TOPIC_CHANGELOG: topics.changelog,
    TOPIC_SOURCE_OFFSETS: topics.sourceOffsets,
  };
}

export async function createTopics(admin: Admin, topics: TopicNames, partitions: { raw: number; repartition: number }): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.raw, numPartitions: partitions.raw },
      { topic: topics.repartition, numPartitions: partitions.repartition },
      { topic: topics.changelog, numPartitions: partitions.repartition, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: topics.processed, numPartitions: 2 },
      { topic: topics.deadLetter, numPartitions: 1 },
      { topic: topics.late, numPartitions: 1 },
      { topic: topics.sourceOffsets, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ],
  });
}

/** Writes each generated partition's messages to the same raw partition, in order. */
export async function produceRaw(kafka: Kafka, topic: string, partitions: GeneratedMessage[][]): Promise<void> {
  // A loaded test machine can stall the broker for seconds; idempotent retries cannot duplicate.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 15, initialRetryTime: 300, maxRetryTime: 5_000 } });
  await producer.connect();
  try {
    for (const [partition, messages] of partitions.entries()) {
      for (let i = 0; i < messages.length; i += 500) {
        await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500).map((m) => ({ key: m.key, value: m.value, partition })) });
      }
    }
  } finally {
    await producer.disconnect();
  }
}

/** Every committed record of a topic, up to the end offsets it had when called. */
export async function readAll(kafka: Kafka, admin: Admin, topic: string, timeoutMs = 30_000): Promise<ConsumedRecord[]> {
  // kafkajs alone would also return records of aborted transactions (see read-committed.ts).
  installReadCommittedFix();
  const ends = new Map<number, bigint>();
  for (const o of await admin.fetchTopicOffsets(topic)) if (BigInt(o.high) > BigInt(o.low)) ends.set(o.partition, BigInt(o.high));
  if (ends.size === 0) return [];
  const consumer = kafka.consumer({ groupId: `test-read-${topic}-${Date.now()}-${Math.random().toString(36).slice(2)}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  const records: ConsumedRecord[] = [];
  const positions = new Map<number, bigint>();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic}: timed out with ${records.length} records`)), timeoutMs);
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        positions.set(payload.partition, BigInt(payload.lastOffset) + 1n);
        if ([...ends].every(([p, end]) => (positions.get(p) ?? -1n) >= end)) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => { for (const m of batch.messages) records.push(toRecord(batch.partition, m)); } }).catch(reject);
    });
    return records;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * Polls until the condition holds. A retriable Kafka error counts as "not yet" (a topic created a
 * moment ago: a KRaft broker can answer NOT_LEADER_OR_FOLLOWER until it has loaded the partition);
 * any other error goes up at once.
 */
export async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs: number, everyMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastRetriable: Error | undefined;
  const check = (): Promise<boolean> => condition().then((held) => {
    lastRetriable = undefined;
    return held;
  }, (error: unknown) => {
    if ((error as { retriable?: unknown }).retriable !== true) throw error;
    lastRetriable = error as Error;
    return false;
  });
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastRetriable ? ` (last: ${lastRetriable.message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Window results by record key; a key committed twice fails the test. */
export function resultsOf(records: ConsumedRecord[]): Map<string, unknown> {
  const results = new Map<string, unknown>();
  for (const r of records) {
    assert.ok(!results.has(r.key!), `window ${r.key} committed twice`);
    results.set(r.key!, JSON.parse(r.value!));
  }
  return results;
}

export function lateOf(records: ConsumedRecord[]): Map<string, number[]> {
  const late = new Map<string, number[]>();
  for (const r of records) {
    assert.ok(!late.has(r.key!), `late record ${r.key} committed twice`);
    const value = JSON.parse(r.value!) as { missedWindows: { startMs: number }[] };
    late.set(r.key!, value.missedWindows.map((w) => w.startMs));
  }
  return late;
}

/**
 * A real broker (one node or a quorum) and the consumer processes a test starts in it, set up and
 * torn down by hooks of the calling describe: every consumer still running is SIGKILLed, the
 * cluster stopped and the logs removed (kept with KEEP_CONSUMER_LOGS=1), even when a test fails.
 */
export class ConsumerTestBed {
  private state: { cluster: KafkaCluster; kafka: Kafka; admin: Admin } | undefined;
  private readonly logDir: string;
  private readonly running = new Set<Service>();

  constructor(nodes: number, name: string) {
    this.logDir = mkdtempSync(path.join(os.tmpdir(), `${name}-`));
    before(async () => {
      const cluster = await KafkaCluster.start({ nodes });
      // A loaded test machine can stall the broker for seconds: retry for longer than kafkajs would.
      const kafka = cluster.kafka({ retry: { retries: 15, initialRetryTime: 300, maxRetryTime: 5_000 } });
      this.state = { cluster, kafka, admin: kafka.admin() };
      await this.state.admin.connect();
    });
    after(async () => {
      await Promise.all([...this.running].map((c) => stopService(c, { signal: 'SIGKILL' })));
      await this.state?.admin.disconnect();
      await this.state?.cluster.stop();
      if (process.env.KEEP_CONSUMER_LOGS) process.stdout.write(`consumer logs kept in ${this.logDir}\n`);
      else rmSync(this.logDir, { recursive: true, force: true });
    });
  }

  get cluster(): KafkaCluster { return this.started().cluster; }
  get kafka(): Kafka { return this.started().kafka; }
  get admin(): Admin { return this.started().admin; }

  /** Starts a consumer process (its log in the bed's folder), stopped at the latest after the describe. */
  start(env: Record<string, string>, name: string): Service {
    const consumer = startService('consumer', env, path.join(this.logDir, `${name}.log`), { name });
    this.running.add(consumer);
    void consumer.exited.then(() => this.running.delete(consumer));
    return consumer;
  }

  private started(): { cluster: KafkaCluster; kafka: Kafka; admin: Admin } {
    if (!this.state) throw new Error('the consumer test bed is used before its before() hook ran');
    return this.state;
  }
}
