// The consumer service end to end on a real broker: generated raw events in, committed window
// results out, compared with the independent oracle; also with SIGKILLs at random moments and
// restarts, with a second instance joining and the first leaving, and with malformed messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stopService, type Service } from '../../tools/service-process';
import { seededRandom, type GeneratedMessage } from '../support/consumer-events';
import { sliceOf, testDataset, testWindowEnv, testWindows, withSentinels } from '../support/consumer-datasets';
import { ConsumerTestBed, createTopics, produceRaw, lateOf, readAll, resultsOf, topicEnv, topicNames, waitFor, type TopicNames } from '../support/consumer-run';
import { oracle, type OracleEvent } from '../support/oracle';

const windows = testWindows;

function windowEnv(): Record<string, string> {
  return { ...testWindowEnv(), CONSUMER_IDLE_TIMEOUT_MS: '2000', CONSUMER_SESSION_TIMEOUT_MS: '6000', CONSUMER_MAX_BYTES_PER_PARTITION: '8192' };
}

function expectedOf(raw: GeneratedMessage[][]) {
  return oracle(raw.map((ms) => ms.filter((m) => !m.malformed).map((m) => JSON.parse(m.value) as OracleEvent)), windows);
}

describe('consumer service on a real broker', () => {
  const bed = new ConsumerTestBed(1, 'consumer-it');

  /** Idle mode: one raw partition more than the data uses, which must not hold windows open; otherwise sentinels close the windows. */
  async function setUp(name: string, raw: GeneratedMessage[][], closing: 'idle' | 'sentinels'): Promise<{ topics: TopicNames; env: Record<string, string> }> {
    const topics = topicNames(name);
    await createTopics(bed.admin, topics, { raw: raw.length + (closing === 'idle' ? 1 : 0), repartition: 4 });
    const env = { ...windowEnv(), ...(closing === 'idle' ? {} : { CONSUMER_IDLE_TIMEOUT_MS: '0' }), ...topicEnv(topics), KAFKA_BROKERS: bed.cluster.bootstrap().join(','), KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', CONSUMER_GROUP_ID: `ecommerce-consumer-${name}`, CONSUMER_TRANSACTIONAL_ID_PREFIX: `ecommerce-consumer-${name}`, METRICS_PORT: '0', LOG_LEVEL: 'info' };
    return { topics, env };
  }

  const start = (env: Record<string, string>, name: string): Service => bed.start(env, name);

  async function waitForResults(topics: TopicNames, count: number, consumers: () => Service[], timeoutMs: number): Promise<void> {
    await waitFor(`${count} window results`, async () => {
      for (const c of consumers()) if (c.child.exitCode !== null) throw new Error(`consumer exited with ${c.child.exitCode}:\n${c.log().slice(-4000)}`);
      return (await readAll(bed.kafka, bed.admin, topics.processed)).length >= count;
    }, timeoutMs, 1500);
  }

  async function assertCommittedEqualsOracle(topics: TopicNames, expected: ReturnType<typeof expectedOf>): Promise<void> {
    const processed = await readAll(bed.kafka, bed.admin, topics.processed);
    assert.deepEqual(resultsOf(processed), expected.results);
    assert.equal(processed.length, expected.results.size);
    assert.deepEqual(lateOf(await readAll(bed.kafka, bed.admin, topics.late)), expected.late);
  }

  it('generated dataset with malformed messages: results equal the oracle; every malformed message dead-lettered with its reason', { timeout: 120_000 }, async () => {
    const raw = testDataset(101, 600, 0.03);
    const expected = expectedOf(raw);
    assert.ok(expected.results.size > 50 && expected.late.size > 5, 'a dataset worth checking');
    const { topics, env } = await setUp('plain', raw, 'idle');
    await produceRaw(bed.kafka, topics.raw, raw);
    const consumer = start(env, 'plain');
    await waitForResults(topics, expected.results.size, () => [consumer], 90_000);
    assert.equal(await stopService(consumer), 0, 'SIGTERM exits 0');
    await assertCommittedEqualsOracle(topics, expected);

    const malformed = raw.flatMap((ms, partition) => ms.flatMap((m, offset) => (m.malformed ? [{ partition, offset, m }] : [])));
    assert.ok(malformed.length > 10);
    const dead = await readAll(bed.kafka, bed.admin, topics.deadLetter);
    assert.equal(dead.length, malformed.length);
    for (const { partition, offset, m } of malformed) {
      const found = dead.find((d) => d.headers['source.partition'] === String(partition) && d.headers['source.offset'] === String(offset));
      assert.ok(found, `malformed message ${partition}/${offset} not dead-lettered`);
      assert.equal(found.value, m.value, 'the original bytes are kept');
      assert.ok(found.headers.reason?.includes(m.malformed!), `reason ${found.headers.reason} should name ${m.malformed}`);
    }
  });

  it('SIGKILL at five random moments, restarted each time: committed output identical to the oracle', { timeout: 240_000 }, async () => {
    const raw = withSentinels(testDataset(202, 1500));
    const expected = expectedOf(raw);
    const { topics, env } = await setUp('kills', raw, 'sentinels');
    const random = seededRandom(7);
    let consumer = start(env, 'kills');
    for (let kill = 0; kill < 5; kill++) {
      await produceRaw(bed.kafka, topics.raw, sliceOf(raw, kill, 6));
      // Past the restart's rebalance (session timeout 6 s) into restoring and processing, or not: any moment.
      await new Promise((r) => setTimeout(r, 2_000 + Math.floor(random() * 8_000)));
      await stopService(consumer, { signal: 'SIGKILL' });
      consumer = start(env, 'kills');
    }
    const before = (await readAll(bed.kafka, bed.admin, topics.processed)).length;
    assert.ok(before > 0 && before < expected.results.size, `killed instances committed part of the output (${before} of ${expected.results.size})`);
    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 5, 6));
    await waitForResults(topics, expected.results.size, () => [consumer], 150_000);
    assert.equal(await stopService(consumer), 0);
    await assertCommittedEqualsOracle(topics, expected);
    assert.match(consumer.log(), /window state restored/, 'the last instance restored window state from the changelog');
  });

  it('a second instance joins mid-stream and the first leaves: committed output identical to the oracle', { timeout: 180_000 }, async () => {
    const raw = withSentinels(testDataset(303, 1200));
    const expected = expectedOf(raw);
    const { topics, env } = await setUp('rebalance', raw, 'sentinels');
    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 0, 3));
    const first = start(env, 'rebalance-a');
    await waitFor('the first instance to process', async () => (await readAll(bed.kafka, bed.admin, topics.processed)).length > 0, 60_000);
    const second = start(env, 'rebalance-b');
    await waitFor('the second instance to own partitions', async () => /"stage":"windows","partitions":\[\d/.test(second.log()), 60_000);
    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 1, 3));
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(await stopService(first), 0, 'the first instance leaves cleanly');
    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 2, 3));
    await waitForResults(topics, expected.results.size, () => [second], 120_000);
    assert.equal(await stopService(second), 0);
    await assertCommittedEqualsOracle(topics, expected);
  });

  it('an instance paused past its session timeout comes back as a zombie: fenced, committed output identical to the oracle', { timeout: 180_000 }, async () => {
    const raw = withSentinels(testDataset(404, 1200));
    const expected = expectedOf(raw);
    const { topics, env } = await setUp('zombie', raw, 'sentinels');
    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 0, 3));
    const zombie = start(env, 'zombie-a');
    await waitFor('the first instance to process', async () => (await readAll(bed.kafka, bed.admin, topics.processed)).length > 0, 60_000);
    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 1, 3));
    await zombie.signal('SIGSTOP');
    const successor = start(env, 'zombie-b');
    try {
      await waitFor('the successor to own every window partition', async () => /"stage":"windows","partitions":\[0,1,2,3\]/.test(successor.log()), 60_000);
    } finally {
      await zombie.signal('SIGCONT');
    }
    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 2, 3));
    await waitForResults(topics, expected.results.size, () => [zombie, successor], 120_000);
    assert.equal(await stopService(zombie), 0);
    assert.equal(await stopService(successor), 0);
    await assertCommittedEqualsOracle(topics, expected);
    // Resumed with a batch in hand, it meets a fenced transaction (TaskMigrated); resumed between
    // batches, the coordinator no longer knows it. Either way it had to rejoin as a stale member.
    assert.match(zombie.log(), /has a newer owner|not aware of this member/, 'the paused instance came back stale and rejoined');
  });
});
