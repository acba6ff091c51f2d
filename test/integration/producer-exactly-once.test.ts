// The producer's exactly-once source against a real broker, with the real service process: killed
// (SIGKILL) at five random moments of a 300,000-row file with malformed rows, stopped gracefully
// (SIGTERM) at three, fenced once by a second instance, and each time restarted with the same
// environment, it leaves every eventId on the raw topic once, every rejected row once on the
// dead-letter topic (read_committed), and one end-of-input marker per raw partition; its committed
// position accounts for every row of the file (read = sent + rejected over the whole run).
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import { controlHeader, endOfInput } from '../../services/core/end-of-input';
import type { EcommerceEvent } from '../../services/core/event';
import { metricNames } from '../../services/core/metric-names';
import type { DeadLetterValue } from '../../services/producer/dead-letter';
import { generateRows, writeGeneratedCsv, type GenerateOptions } from '../../services/producer/generator';
import { parsePosition, type SourcePosition } from '../../services/producer/source-offsets';
import { freePort } from '../../tools/kafka/free-port';
import { KafkaCluster } from '../../tools/kafka/kafka-cluster';
import { scrapeMetric } from '../../tools/local-stack';
import { startService, stopService, type Service } from '../../tools/service-process';
import { readAll, waitFor } from '../support/consumer-run';

const rows = 300_000;
const dataset: GenerateOptions = { rows, seed: 21, malformedRate: 0.002, outOfOrderMs: 2000 };

describe('producer: exactly once across kills, fencing and graceful stops', () => {
  let cluster: KafkaCluster;
  let kafka: Kafka;
  let admin: Admin;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'producer-eos-'));
  const file = path.join(dir, 'events.csv');
  const running = new Set<Service>();
  let expected: { good: Set<string>; badLines: Set<number>; lastLine: number };

  before(async () => {
    cluster = await KafkaCluster.start({ nodes: 1 });
    kafka = cluster.kafka({ retry: { retries: 15, initialRetryTime: 300, maxRetryTime: 5_000 } });
    admin = kafka.admin();
    await admin.connect();
    await writeGeneratedCsv(file, dataset);
    const good = new Set<string>();
    const badLines = new Set<number>();
    let lastLine = 0;
    for (const row of generateRows(dataset)) {
      if (row.malformed) badLines.add(row.line);
      else good.add(`events.csv:${row.line}`);
      lastLine = row.line;
    }
    expected = { good, badLines, lastLine };
  });
  after(async () => {
    await Promise.all([...running].map((s) => stopService(s, { signal: 'SIGKILL' })));
    await admin?.disconnect();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function topicsFor(name: string): Promise<{ raw: string; deadLetter: string; sourceOffsets: string }> {
    const topics = { raw: `${name}_raw`, deadLetter: `${name}_dead`, sourceOffsets: `${name}_offsets` };
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: topics.raw, numPartitions: 3 },
        { topic: topics.deadLetter, numPartitions: 1 },
        { topic: topics.sourceOffsets, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
    });
    return topics;
  }

  /** Starts the producer service; every start of one test gets the same environment. */
  function producerFor(topics: { raw: string; deadLetter: string; sourceOffsets: string }, metricsPort: number) {
    let runs = 0;
    return (): Service => {
      const service = startService('producer', {
        KAFKA_BROKERS: cluster.bootstrap().join(','), KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', PRODUCER_FILE: file, PRODUCER_BATCH_MESSAGES: '2000',
        PRODUCER_TRANSACTIONAL_ID: `producer-${topics.raw}`, TOPIC_RAW: topics.raw, TOPIC_DEAD_LETTER: topics.deadLetter, TOPIC_SOURCE_OFFSETS: topics.sourceOffsets,
        METRICS_PORT: String(metricsPort), LOG_LEVEL: 'info',
      }, path.join(dir, `${topics.raw}-${++runs}.log`));
      running.add(service);
      void service.exited.then(() => running.delete(service));
      return service;
    };
  }

  /** Waits until this run has read a random number of rows (so the stop lands mid-file, whatever the machine's speed). */
  async function midStream(service: Service, metricsPort: number): Promise<number> {
    const target = 2_000 + Math.floor(Math.random() * 18_000);
    await waitFor(`the producer to read ${target} rows`, async () => {
      if (service.child.exitCode !== null) throw new Error(`the producer exited (${service.child.exitCode}) before the stop:\n${service.tail()}`);
      return (await scrapeMetric(metricsPort, metricNames.producer.rowsRead)) >= target;
    }, 240_000, 50);
    return target;
  }

  async function committedPosition(topic: string): Promise<SourcePosition | undefined> {
    const records = await readAll(kafka, admin, topic);
    const last = records.filter((r) => r.key === 'events.csv').pop();
    return last?.value ? parsePosition(last.value) : undefined;
  }

  async function assertExactlyOnce(topics: { raw: string; deadLetter: string; sourceOffsets: string }, ends = 1): Promise<void> {
    const records = await readAll(kafka, admin, topics.raw, 120_000);
    // Each end of the file: one end-of-input marker per raw partition, in the last transaction only.
    const markers = records.filter((r) => r.headers[controlHeader] === endOfInput);
    assert.deepEqual(markers.map((m) => m.partition).sort(), [0, 1, 2].flatMap((p) => Array<number>(ends).fill(p)));
    const events = records.filter((r) => r.headers[controlHeader] === undefined);
    const seen = new Set<string>();
    for (const record of events) {
      const id = (JSON.parse(record.value!) as EcommerceEvent).eventId;
      assert.ok(!seen.has(id), `${id} is on ${topics.raw} twice`);
      seen.add(id);
    }
    assert.equal(seen.size, expected.good.size, `${seen.size} events on ${topics.raw}, expected ${expected.good.size}`);
    for (const id of expected.good) assert.ok(seen.has(id), `${id} missing`);
    const dead = await readAll(kafka, admin, topics.deadLetter);
    const lines = dead.map((d) => (JSON.parse(d.value!) as DeadLetterValue).line);
    assert.equal(new Set(lines).size, lines.length, 'a rejected row is on the dead-letter topic twice');
    assert.deepEqual(lines.sort((a, b) => a - b), [...expected.badLines].sort((a, b) => a - b));
    const position = await committedPosition(topics.sourceOffsets);
    assert.ok(position, 'no committed position');
    assert.deepEqual(
      { line: position.line, complete: position.complete, sent: position.sent, rejected: position.rejected, read: position.sent + position.rejected },
      { line: expected.lastLine, complete: true, sent: expected.good.size, rejected: expected.badLines.size, read: expected.good.size + expected.badLines.size },
    );
  }

  it('SIGKILLed at five random moments, stopped by SIGTERM at three, fenced once by a second instance: every row once; a rerun sends nothing', { timeout: 900_000 }, cluster0(() => cluster, async () => {
    const topics = await topicsFor('stops');
    const port = await freePort();
    const start = producerFor(topics, port);
    // One pass over the file with every kind of stop, in random order (lean: the file is streamed once).
    const stops: ('kill' | 'term')[] = ['kill', 'kill', 'kill', 'kill', 'kill', 'term', 'term', 'term'].sort(() => Math.random() - 0.5) as ('kill' | 'term')[];
    let producer = start();
    const positions: number[] = [];
    for (const stop of stops) {
      await midStream(producer, port);
      if (stop === 'kill') {
        await producer.signal('SIGKILL');
        assert.notEqual(await producer.exited, 0);
      } else {
        assert.equal(await stopService(producer), 0, producer.tail());
        assert.match(producer.log(), /stopped by signal/);
      }
      const position = await committedPosition(topics.sourceOffsets);
      assert.ok(!position?.complete, `the ${stop} landed after the end of the file`);
      positions.push(position?.line ?? 0);
      producer = start();
    }
    // A zombie: the running instance pauses (SIGSTOP) mid-file, a second one with the same
    // environment starts, fences it (its open transaction is aborted) and carries on from the last
    // commit; woken up, the first one can commit nothing more and stops.
    await midStream(producer, port);
    const zombie = producer;
    await zombie.signal('SIGSTOP');
    const successor = producerFor(topics, await freePort())();
    await waitFor('the successor to resume', async () => /resuming events\.csv after line \d+/.test(successor.log()), 240_000);
    await zombie.signal('SIGCONT');
    assert.notEqual(await zombie.exited, 0, `the fenced producer exited 0:\n${zombie.tail()}`);
    assert.equal(await successor.exited, 0, successor.tail());
    assert.ok(positions.every((line, i) => i === 0 || line >= positions[i - 1]!) && positions.at(-1)! > 0, `positions ${positions.join(', ')}`);
    await assertExactlyOnce(topics);
    const again = start();
    assert.equal(await again.exited, 0, again.tail());
    assert.match(again.log(), /read 0 = sent 0 \+ rejected 0/);
    await assertExactlyOnce(topics);
    // Rows appended to the file after its end: the same file, grown; only the new rows go, then a second end.
    const more = [...generateRows({ ...dataset, rows: 500, seed: 22 })];
    appendFileSync(file, more.map((r) => `${r.text}\n`).join(''));
    for (const [i, row] of more.entries()) {
      const line = expected.lastLine + 1 + i;
      if (row.malformed) expected.badLines.add(line);
      else expected.good.add(`events.csv:${line}`);
    }
    expected.lastLine += more.length;
    const grown = start();
    assert.equal(await grown.exited, 0, grown.tail());
    assert.match(grown.log(), /the file grew/);
    await assertExactlyOnce(topics, 2);
  }));
});

/** Prints the broker's log when the test fails. */
function cluster0(get: () => KafkaCluster, body: () => Promise<void>): () => Promise<void> {
  return () => get().guard(body)();
}
