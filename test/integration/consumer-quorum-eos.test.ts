// The consumer's exactly-once output on a three-node cluster: two instances, one SIGKILLed
// mid-stream and restarted while a broker stops (coordinators and partition leaders move), every
// topic replicated three times with min.insync.replicas 2; committed output compared with the
// independent oracle.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionFor, repartitionBatch } from '../../services/consumer/repartitioner';
import { stopService, type Service } from '../../tools/service-process';
import { sliceOf, testDataset, testWindowEnv, testWindows, withSentinels } from '../support/consumer-datasets';
import { ConsumerTestBed, produceRaw, lateOf, readAll, resultsOf, topicEnv, topicNames, waitFor, type TopicNames } from '../support/consumer-run';
import { oracle, type OracleEvent } from '../support/oracle';

const windows = testWindows;

describe('consumer exactly-once on a three-node cluster', () => {
  const bed = new ConsumerTestBed(3, 'consumer-quorum');

  async function createReplicatedTopics(topics: TopicNames): Promise<void> {
    const replicated = [{ name: 'min.insync.replicas', value: '2' }];
    // Waits for every partition's leader (services/core/kafkajs-create-topics-fix.ts, installed by the harness).
    await bed.admin.createTopics({
      topics: [
        { topic: topics.raw, numPartitions: 3, replicationFactor: 3, configEntries: replicated },
        { topic: topics.repartition, numPartitions: 4, replicationFactor: 3, configEntries: replicated },
        { topic: topics.changelog, numPartitions: 4, replicationFactor: 3, configEntries: [...replicated, { name: 'cleanup.policy', value: 'compact' }] },
        { topic: topics.processed, numPartitions: 2, replicationFactor: 3, configEntries: replicated },
        { topic: topics.deadLetter, numPartitions: 1, replicationFactor: 3, configEntries: replicated },
        { topic: topics.late, numPartitions: 1, replicationFactor: 3, configEntries: replicated },
      ],
    });
  }

  function consumerEnv(topics: TopicNames, name: string): Record<string, string> {
    return {
      ...testWindowEnv(),
      CONSUMER_IDLE_TIMEOUT_MS: '0', CONSUMER_SESSION_TIMEOUT_MS: '6000', CONSUMER_MAX_BYTES_PER_PARTITION: '8192',
      ...topicEnv(topics), KAFKA_BROKERS: bed.cluster.bootstrap().join(','), KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
      CONSUMER_GROUP_ID: `ecommerce-consumer-${name}`, CONSUMER_TRANSACTIONAL_ID_PREFIX: `ecommerce-consumer-${name}`, METRICS_PORT: '0', LOG_LEVEL: 'info',
    };
  }

  function starter(env: Record<string, string>): (name: string) => Service {
    return (name) => bed.start(env, name);
  }

  async function waitForResults(topics: TopicNames, count: number, consumers: Service[]): Promise<void> {
    await waitFor(`${count} window results`, async () => {
      for (const c of consumers) if (c.child.exitCode !== null) throw new Error(`consumer exited with ${c.child.exitCode}:\n${c.log().slice(-4000)}`);
      return (await readAll(bed.kafka, bed.admin, topics.processed)).length >= count;
    }, 120_000, 1_500);
  }

  async function assertCommittedEqualsOracle(topics: TopicNames, expected: ReturnType<typeof oracle>): Promise<void> {
    const processed = await readAll(bed.kafka, bed.admin, topics.processed);
    assert.deepEqual(resultsOf(processed), expected.results);
    assert.equal(processed.length, expected.results.size);
    assert.deepEqual(lateOf(await readAll(bed.kafka, bed.admin, topics.late)), expected.late);
  }

  // kafkajs alone delivers producer X's records to a read_committed consumer when X's transaction
  // began before Y's on a partition but was aborted after it (services/consumer/read-committed.ts):
  // what happens on a repartition partition when a dead or fenced instance's transactions abort.
  it('events in aborted transactions of two producers, aborted in the other order than begun, are not counted', { timeout: 120_000 }, async () => {
    const raw = withSentinels(testDataset(606, 300));
    const expected = oracle(raw.map((ms) => ms.map((m) => JSON.parse(m.value) as OracleEvent)), windows);
    const topics = topicNames('aborted');
    await createReplicatedTopics(topics);
    const source = raw[0]!.slice(0, 40).map((m, i) => ({ offset: String(i), key: Buffer.from(m.key), value: Buffer.from(m.value) }));
    const records = repartitionBatch(0, -1, source, ['category', 'overall']).records.map((r) => ({ key: r.key, value: JSON.stringify(r), partition: partitionFor(r.key, 4) }));
    const x = bed.kafka.producer({ transactionalId: 'aborted-test-x', idempotent: true, maxInFlightRequests: 1 });
    const y = bed.kafka.producer({ transactionalId: 'aborted-test-y', idempotent: true, maxInFlightRequests: 1 });
    await x.connect();
    await y.connect();
    try {
      const [tx, ty] = [await x.transaction(), await y.transaction()];
      const third = Math.floor(records.length / 3);
      await tx.sendBatch({ acks: -1, topicMessages: [{ topic: topics.repartition, messages: records.slice(0, third) }] });
      await ty.sendBatch({ acks: -1, topicMessages: [{ topic: topics.repartition, messages: records.slice(third, 2 * third) }] });
      await tx.sendBatch({ acks: -1, topicMessages: [{ topic: topics.repartition, messages: records.slice(2 * third) }] });
      await ty.abort();
      await tx.abort();
    } finally {
      await x.disconnect();
      await y.disconnect();
    }
    await produceRaw(bed.kafka, topics.raw, raw);
    const consumer = starter(consumerEnv(topics, 'aborted'))('aborted');
    await waitForResults(topics, expected.results.size, [consumer]);
    assert.equal(await stopService(consumer), 0);
    await assertCommittedEqualsOracle(topics, expected);
  });

  it('two instances, one SIGKILLed and restarted while a broker stops: committed output identical to the oracle', { timeout: 180_000 }, async () => {
    const raw = withSentinels(testDataset(505, 1200));
    const expected = oracle(raw.map((ms) => ms.map((m) => JSON.parse(m.value) as OracleEvent)), windows);
    const topics = topicNames('quorum');
    await createReplicatedTopics(topics);
    const start = starter(consumerEnv(topics, 'quorum'));

    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 0, 4));
    const a = start('a');
    const b = start('b');
    await waitFor('both instances to own window partitions', async () => [a, b].every((c) => /"stage":"windows","partitions":\[\d/.test(c.log())), 60_000);
    await waitFor('window results', async () => (await readAll(bed.kafka, bed.admin, topics.processed)).length > 0, 60_000);
    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 1, 4));
    await new Promise((r) => setTimeout(r, 1_500));
    await stopService(b, { signal: 'SIGKILL' });
    await bed.cluster.stopNode(3, 'graceful');
    const restarted = start('b-restarted');
    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 2, 4));
    await new Promise((r) => setTimeout(r, 3_000));
    await produceRaw(bed.kafka, topics.raw, sliceOf(raw, 3, 4));
    await waitForResults(topics, expected.results.size, [a, restarted]);
    assert.equal(await stopService(a), 0);
    assert.equal(await stopService(restarted), 0);
    await assertCommittedEqualsOracle(topics, expected);
  });
});
