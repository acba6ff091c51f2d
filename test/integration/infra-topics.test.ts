// The program's topic and ACL resource code (the dynamic providers' create/diff/update/read/delete)
// against a real three-node quorum running the prod-shaped rendered properties (TLS on the
// controller listener too), reached like the program reaches it: EXTERNAL listener, admin certificate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigResourceTypes } from 'kafkajs';
import { aclProvider, type AclProps } from '../../infra/kafka-admin/acl-provider';
import { withAdmin, type AdminConnection } from '../../infra/kafka-admin/connection';
import { internalTopicsProvider } from '../../infra/kafka-admin/internal-topics';
import { topicProvider, type TopicProps } from '../../infra/kafka-admin/topic-provider';
import { startTlsCluster, type TlsCluster } from '../support/tls-cluster';
import { failFastKafka, trySend } from '../support/kafka-denial';
import { serializedProvider } from '../support/serialized-provider';

describe('infra: topics and ACLs as resources, on a 3-node quorum with TLS everywhere', () => {
  let tls: TlsCluster;
  let connection: AdminConnection;
  const topic = (over: Partial<TopicProps> = {}): TopicProps => ({
    name: 'infra-orders', partitions: 3, replicationFactor: 3, config: { 'retention.ms': '3600000', 'min.insync.replicas': '2' }, connection, ...over,
  });

  before(async () => {
    tls = await startTlsCluster({ nodes: 3, controllerTls: true });
    connection = { brokers: tls.cluster.bootstrap(), ca: tls.pki.ca.certPem, cert: tls.admin.certPem, key: tls.admin.keyPem };
  });
  after(async () => {
    await tls?.cluster.stop();
  });

  it('creates Kafka\'s internal topics as the admin, so least-privilege clients find coordinators', guarded(async () => {
    assert.deepEqual(await internalTopicsProvider.read!('internal-topics', { connection }), {}, 'a fresh cluster has neither yet');
    await internalTopicsProvider.create({ connection });
    assert.equal((await internalTopicsProvider.read!('internal-topics', { connection })).id, 'internal-topics');
    await internalTopicsProvider.create({ connection });
  }));

  it('creates a topic that read() reports back exactly', guarded(async () => {
    const created = await topicProvider.create(topic());
    assert.equal(created.id, 'infra-orders');
    const read = await topicProvider.read!('infra-orders', topic());
    assert.deepEqual({ ...read.props, connection: undefined }, { ...topic(), connection: undefined });
  }));

  it('updates config and adds partitions; diff sees both', guarded(async () => {
    const news = topic({ partitions: 6, config: { 'retention.ms': '7200000', 'min.insync.replicas': '2', 'cleanup.policy': 'delete' } });
    const diff = await topicProvider.diff!('infra-orders', topic(), news);
    assert.equal(diff.changes, true);
    assert.deepEqual(diff.replaces, []);
    await topicProvider.update!('infra-orders', topic(), news);
    const read = await topicProvider.read!('infra-orders', news);
    assert.equal(read.props?.partitions, 6);
    assert.deepEqual(read.props?.config, news.config);
    assert.equal((await topicProvider.diff!('infra-orders', news, news)).changes, false);
  }));

  it('refuses to decrease partitions or change the replication factor, with the reason', guarded(async () => {
    const current = topic({ partitions: 6, config: { 'retention.ms': '7200000', 'min.insync.replicas': '2', 'cleanup.policy': 'delete' } });
    await assert.rejects(topicProvider.diff!('infra-orders', current, { ...current, partitions: 2 }), /partitions cannot decrease from 6 to 2/);
    await assert.rejects(topicProvider.update!('infra-orders', current, { ...current, partitions: 2 }), /partitions cannot decrease from 6 to 2/);
    await assert.rejects(topicProvider.diff!('infra-orders', current, { ...current, replicationFactor: 2 }), /replication factor cannot change from 3 to 2/);
    const read = await topicProvider.read!('infra-orders', current);
    assert.equal(read.props?.partitions, 6, 'a refused change must leave the topic as it was');
  }));

  it('read() makes drift visible: a config changed behind the program’s back', guarded(async () => {
    const current = topic({ partitions: 6, config: { 'retention.ms': '7200000', 'min.insync.replicas': '2', 'cleanup.policy': 'delete' } });
    await withAdmin(connection, (admin) => admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'infra-orders', configEntries: [{ name: 'retention.ms', value: '60000' }, { name: 'min.insync.replicas', value: '2' }] }],
    }));
    const read = await topicProvider.read!('infra-orders', current);
    assert.deepEqual(read.props?.config, { 'retention.ms': '60000', 'min.insync.replicas': '2' });
    assert.equal((await topicProvider.diff!('infra-orders', read.props, current)).changes, true);
    await topicProvider.update!('infra-orders', read.props, current);
    assert.deepEqual((await topicProvider.read!('infra-orders', current)).props?.config, current.config);
  }));

  it('an ACL resource grants the producer the replicated topic, and deleting it takes the grant away', guarded(async () => {
    const acl: AclProps = {
      principal: 'User:producer', resourceType: 'topic', resourceName: 'infra-orders', patternType: 'literal', operation: 'Write', host: '*', permission: 'Allow', connection,
    };
    const producer = failFastKafka(tls.cluster.bootstrap(), tls.pki.kafkaJsSsl(tls.pki.client('producer')));
    assert.equal(await trySend(producer, 'infra-orders'), 'CLUSTER_AUTHORIZATION_FAILED');
    await aclProvider.create(acl);
    assert.equal(await trySend(producer, 'infra-orders'), 'ok');
    assert.equal((await aclProvider.read!('x', acl)).id, 'x');
    await aclProvider.delete!('x', acl);
    assert.deepEqual(await aclProvider.read!('x', acl), {}, 'a deleted ACL reads as gone');
    assert.equal(await trySend(producer, 'infra-orders', { idempotent: false }), 'TOPIC_AUTHORIZATION_FAILED');
  }));

  it('the provider as Pulumi serializes it into state still creates, reads and deletes', guarded(async () => {
    const shipped = await serializedProvider(topicProvider);
    const props = topic({ name: 'infra-serialized', partitions: 1, replicationFactor: 3, config: {} });
    assert.equal((await shipped.create(props)).id, 'infra-serialized');
    assert.equal((await shipped.read!('infra-serialized', props)).props?.partitions, 1);
    await shipped.delete!('infra-serialized', props);
    assert.deepEqual(await topicProvider.read!('infra-serialized', props), {});
  }));

  it('deletes the topic; read() then reports it gone', guarded(async () => {
    await topicProvider.delete!('infra-orders', topic());
    assert.deepEqual(await topicProvider.read!('infra-orders', topic()), {});
    await topicProvider.delete!('infra-orders', topic());
  }));

  it('the prod shape survives a broker stop: acks=all writes with min.insync.replicas=2 go on with two of three nodes', guarded(async () => {
    const durable = topic({ name: 'infra-durable', partitions: 3 });
    await topicProvider.create(durable);
    // A controlled shutdown hands leadership over first; a crash is the harness's and the services' tests' business.
    await tls.cluster.stopNode(3);
    try {
      const producer = tls.cluster.kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({ topic: 'infra-durable', acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ key: String(i), value: 'v' })) });
      await producer.disconnect();
    } finally {
      await tls.cluster.restartNode(3);
    }
    await topicProvider.delete!('infra-durable', durable);
  }));

  function guarded(body: () => Promise<void>): () => Promise<void> {
    return () => tls.cluster.guard(body)();
  }
});
