// The consumer roll gate's wait against a real broker (the rendered properties, mutual TLS, the
// admin certificate): a group of two members, one of them replaced.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Consumer } from 'kafkajs';
import { consumerRollGateProvider, waitUntilGroupsSettled, type ConsumerRollGateProps } from '../../infra/kafka-admin/consumer-roll-gate';
import { withAdmin, type AdminConnection } from '../../infra/kafka-admin/connection';
import { serializedProvider } from '../support/serialized-provider';
import { startTlsCluster, type TlsCluster } from '../support/tls-cluster';

const topic = 'consumed';
const groupId = 'roll-gate-group';

describe('consumer roll gate on a real broker', () => {
  let tls: TlsCluster;
  let connection: AdminConnection;
  const members = new Map<string, Consumer>();
  let producing = true;
  let producer: Promise<void> = Promise.resolve();

  before(async () => {
    tls = await startTlsCluster({ nodes: 1 });
    connection = { brokers: tls.cluster.bootstrap(), ca: tls.pki.ca.certPem, cert: tls.admin.certPem, key: tls.admin.keyPem };
    await withAdmin(connection, (admin) => admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true }));
    const kafkaProducer = tls.cluster.kafka().producer({ idempotent: true });
    await kafkaProducer.connect();
    // A steady stream, so that a group that stops consuming has a growing lag.
    producer = (async () => {
      for (let i = 0; producing; i++) {
        await kafkaProducer.send({ topic, messages: Array.from({ length: 20 }, (_, j) => ({ key: `k${i}-${j}`, value: 'x' })) });
        await new Promise((r) => setTimeout(r, 200));
      }
      await kafkaProducer.disconnect();
    })();
  });
  after(async () => {
    producing = false;
    await producer.catch(() => undefined);
    await Promise.all([...members.values()].map((m) => m.disconnect().catch(() => undefined)));
    await tls?.cluster.stop();
  });

  async function join(name: string): Promise<void> {
    const consumer = tls.cluster.kafka({ clientId: name }).consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommitInterval: 500, eachMessage: async () => undefined });
    members.set(name, consumer);
  }
  async function leave(name: string): Promise<void> {
    await members.get(name)?.disconnect();
    members.delete(name);
  }
  const props = (over: Partial<ConsumerRollGateProps> = {}): ConsumerRollGateProps => ({
    replica: 'consumer-1', containerId: 'c1', groups: [{ groupId, topic }], members: 2, connection, timeoutSeconds: 120, ...over,
  });

  it('two members consuming: the gate passes (the serialized provider, as Pulumi runs it)', () => tls.cluster.guard(async () => {
    await Promise.all([join('consumer-1'), join('consumer-2')]);
    const gate = await serializedProvider(consumerRollGateProvider);
    assert.deepEqual(await gate.update!('consumer-1', props(), props({ containerId: 'c1-new' })), { outs: props({ containerId: 'c1-new' }) });
  })());

  it('blocks while a replaced member is away, releases once the group is whole and consuming again', () => tls.cluster.guard(async () => {
    await leave('consumer-1');
    const seen: string[][] = [];
    let released = false;
    const waiting = waitUntilGroupsSettled(connection, 'consumer-1', { groups: [{ groupId, topic }], members: 2, timeoutMs: 120_000, pollMs: 300, onPoll: (p) => seen.push(p) })
      .then(() => (released = true));
    for (let i = 0; i < 600 && !seen.some((p) => p.some((x) => /has 1 of 2 members|is (PreparingRebalance|CompletingRebalance)/.test(x))); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(seen.some((p) => p.length > 0), 'the gate saw the group short of a member');
    assert.equal(released, false);
    await join('consumer-1');
    await waiting;
    assert.deepEqual(seen.at(-1), []);
  })());

  it('fails after its timeout when the replaced member never returns, naming the group and what is missing', () => tls.cluster.guard(async () => {
    await leave('consumer-2');
    const gate = await serializedProvider(consumerRollGateProvider);
    await assert.rejects(gate.update!('consumer-2', props(), props({ replica: 'consumer-2', containerId: 'c2-new', timeoutSeconds: 15 })),
      /^Error: consumer consumer-2 was replaced but its groups did not settle within 15 s: .*group roll-gate-group has 1 of 2 members/);
  })());
});
