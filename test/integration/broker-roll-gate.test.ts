// The broker roll gate's wait against a real three-node quorum running the prod-shaped rendered
// properties (mutual TLS everywhere, RF 3, min.insync.replicas 2), reached like the program reaches
// it: every node's EXTERNAL listener, the admin certificate. A node is stopped and restarted under it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntilRejoined, rollGateProvider, type RollGateProps, type RollPoll } from '../../infra/kafka-admin/broker-roll-gate';
import { kafkaFor, withAdmin, type AdminConnection } from '../../infra/kafka-admin/connection';
import { ensureInternalTopics } from '../../infra/kafka-admin/internal-topics';
import { serializedProvider } from '../support/serialized-provider';
import { startTlsCluster, type TlsCluster } from '../support/tls-cluster';

const topic = 'rolled';

describe('broker roll gate on a real three-node quorum', () => {
  let tls: TlsCluster;
  let connection: AdminConnection;
  let gate: typeof rollGateProvider;
  const address = (nodeId: number): string => {
    const ctx = tls.cluster.context(nodeId);
    return `${ctx.host}:${ctx.ports.external}`;
  };
  const props = (nodeId: number, over: Partial<RollGateProps> = {}): RollGateProps => ({
    nodeId, address: address(nodeId), nodeIds: [1, 2, 3], containerId: `container-${nodeId}`, connection, timeoutSeconds: 120, waitOnCreate: false, ...over,
  });

  before(async () => {
    tls = await startTlsCluster({ nodes: 3, controllerTls: true });
    // Every node, also while stopped: the gate is given the whole cluster, as the program gives it.
    connection = { brokers: [1, 2, 3].map(address), ca: tls.pki.ca.certPem, cert: tls.admin.certPem, key: tls.admin.keyPem };
    gate = await serializedProvider(rollGateProvider);
    await withAdmin(connection, async (admin) => {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 6, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
        waitForLeaders: true,
      });
      await ensureInternalTopics(kafkaFor(connection), admin);
    });
  });
  after(async () => {
    await tls?.cluster.stop();
  });

  async function produce(count: number): Promise<void> {
    const producer = tls.cluster.kafka({ retry: { retries: 10, initialRetryTime: 300 } }).producer({ idempotent: true });
    await producer.connect();
    try {
      const messages = Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}`.repeat(50) }));
      for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
    } finally {
      await producer.disconnect();
    }
  }

  async function partitionsNotInSync(): Promise<string[]> {
    return withAdmin(connection, async (admin) => {
      const { topics } = await admin.fetchTopicMetadata();
      return topics.flatMap((t) => t.partitions.filter((p) => p.isr.length !== p.replicas.length).map((p) => `${t.name}-${p.partitionId}`));
    });
  }

  it('a whole cluster passes the gate (the serialized provider, as Pulumi runs it)', () => tls.cluster.guard(async () => {
    await produce(1_000);
    const news = props(2, { containerId: 'replaced' });
    assert.deepEqual(await gate.update!('broker-2', props(2), news), { outs: news });
  })());

  it('blocks while the restarted broker is away or behind, and releases once every partition is back in sync', () => tls.cluster.guard(async () => {
    await tls.cluster.stopNode(2);
    await produce(3_000); // broker 2 will have to fetch these before it is back in every ISR
    const polls: { poll: RollPoll; released: boolean }[] = [];
    let released = false;
    const waiting = waitUntilRejoined(connection, { nodeId: 2, address: address(2), nodeIds: [1, 2, 3] }, {
      timeoutMs: 180_000, pollMs: 300, onPoll: (poll) => polls.push({ poll, released }),
    }).then(() => (released = true));
    // The gate has seen the gaps (node 2 gone, its partitions, internal ones too, short of it) and still waits.
    for (let i = 0; i < 600 && !polls.some(({ poll }) => poll.gaps?.missingBrokers.includes(2)); i++) await new Promise((r) => setTimeout(r, 100));
    const blocked = polls.find(({ poll }) => poll.gaps?.missingBrokers.includes(2));
    assert.ok(blocked, 'the gate never saw broker 2 missing');
    assert.equal(blocked.released, false);
    assert.ok(blocked.poll.unanswered, 'broker 2 cannot answer while stopped');
    const short = new Set(blocked.poll.gaps!.underReplicated.filter((p) => p.missing.includes(2)).map((p) => p.topic));
    assert.deepEqual([...short].sort(), ['__consumer_offsets', '__transaction_state', topic]);
    assert.equal(released, false);

    await tls.cluster.restartNode(2);
    await waiting;
    assert.deepEqual(await partitionsNotInSync(), [], 'released only with every ISR complete');
    const last = polls.at(-1)!.poll;
    assert.equal(last.unanswered, undefined);
    assert.deepEqual(last.gaps, { missingBrokers: [], underReplicated: [] });
  })());

  it('fails after its timeout, naming the broker that never returned and the partitions short of it', () => tls.cluster.guard(async () => {
    await tls.cluster.stopNode(3, 'kill');
    const error = await gate.update!('broker-3', props(3), props(3, { containerId: 'replaced', timeoutSeconds: 20 })).then(
      () => assert.fail('the gate passed without broker 3'),
      (e: Error) => e,
    );
    assert.match(error.message, /^broker 3 did not rejoin within 20 s: /);
    assert.match(error.message, new RegExp(`it does not answer at ${address(3).replace(/\./g, '\\.')}`));
    assert.match(error.message, /broker 3 is not registered/);
    assert.match(error.message, new RegExp(`${topic} 0,1,2,3,4,5 \\(missing 3\\)`));
    assert.match(error.message, /__consumer_offsets [\d,]+ \(missing 3\)/);
    assert.match(error.message, /The brokers after it were not touched/);
  })());
});
