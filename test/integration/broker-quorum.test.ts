// A three-node KRaft quorum keeps producing and consuming with one node down.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaCluster } from '../../tools/kafka/kafka-cluster';
import { consumeUntil } from '../support/consume';

describe('three-node KRaft quorum from the harness', () => {
  let cluster: KafkaCluster;
  before(async () => {
    cluster = await KafkaCluster.start({ nodes: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('survives the loss of one node', () => cluster.guard(async () => {
    const admin = cluster.kafka().admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: 'replicated', numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
      waitForLeaders: true,
    });
    const { brokers } = await admin.describeCluster();
    assert.equal(brokers.length, 3);
    await admin.disconnect();

    const before = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `before-${i}` }));
    let producer = cluster.kafka().producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: 'replicated', acks: -1, messages: before });
    await producer.disconnect();

    await cluster.stopNode(2, 'kill');
    assert.deepEqual(cluster.bootstrap().length, 2);
    // The controller fences the dead node after broker.session.timeout.ms and moves leadership away.
    await waitForLeadersOtherThan(2);

    const afterLoss = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `after-${i}` }));
    producer = cluster.kafka({ retry: { retries: 10, initialRetryTime: 300 } }).producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: 'replicated', acks: -1, messages: afterLoss });
    await producer.disconnect();

    const got = await consumeUntil(cluster.kafka(), 'replicated', (r) => r.length >= 100, { timeoutMs: 60_000 });
    assert.deepEqual(
      got.map((r) => r.value).sort(),
      [...before, ...afterLoss].map((m) => m.value).sort(),
    );
  })());

  async function waitForLeadersOtherThan(deadNode: number): Promise<void> {
    const admin = cluster.kafka().admin();
    await admin.connect();
    try {
      for (let attempt = 0; attempt < 120; attempt++) {
        const { topics } = await admin.fetchTopicMetadata({ topics: ['replicated'] });
        const leaders = topics[0]!.partitions.map((p) => p.leader);
        if (leaders.every((leader) => leader !== deadNode && leader >= 0)) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`node ${deadNode} still leads a partition after 30 s`);
    } finally {
      await admin.disconnect();
    }
  }
});
