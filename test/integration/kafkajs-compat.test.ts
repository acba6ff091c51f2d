// kafkajs has had no release since 2023 and Kafka 4 removed old protocol versions (KIP-896):
// every kafkajs API this project uses is exercised here against the Kafka version we deploy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type Kafka } from 'kafkajs';
import { KafkaCluster, plaintextProperties } from '../../tools/kafka/kafka-cluster';
import { kafkaVersion } from '../../tools/kafka/kafka-runtime';
import { explainTooLarge } from '../../services/consumer/partition-task';
import { consumeUntil } from '../support/consume';
import { waitFor } from '../support/consumer-run';

describe(`kafkajs against Apache Kafka ${kafkaVersion()}`, () => {
  let cluster: KafkaCluster;
  let kafka: Kafka;
  before(async () => {
    cluster = await KafkaCluster.start({
      nodes: 1,
      // An authorizer, so that the ACL APIs are real; plaintext clients are User:ANONYMOUS.
      properties: (ctx) =>
        plaintextProperties(ctx) +
        'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\nsuper.users=User:ANONYMOUS\n',
    });
    kafka = cluster.kafka();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('admin: creates, describes, alters and deletes topics', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({
        topics: [{ topic: 'compat-admin', numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '60000' }] }],
        waitForLeaders: true,
      }), true);
      const meta = await admin.fetchTopicMetadata({ topics: ['compat-admin'] });
      assert.equal(meta.topics[0]?.partitions.length, 2);
      await admin.createPartitions({ topicPartitions: [{ topic: 'compat-admin', count: 4 }] });
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: 'compat-admin', configNames: ['retention.ms'] }] });
      assert.equal(configs.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue, '60000');
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: 'compat-admin', configEntries: [{ name: 'retention.ms', value: '120000' }] }] });
      // KRaft: the controller commits the change and each broker applies it from its metadata log a
      // moment later, so a broker answers with the new value soon, not at once.
      await waitFor('the altered retention.ms', async () => {
        const after = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: 'compat-admin', configNames: ['retention.ms'] }] });
        return after.resources[0]?.configEntries[0]?.configValue === '120000';
      }, 10_000, 100);
      await waitFor('4 partitions', async () => (await admin.fetchTopicMetadata({ topics: ['compat-admin'] })).topics[0]?.partitions.length === 4, 10_000, 100);
      await admin.deleteTopics({ topics: ['compat-admin'] });
      assert.ok(!(await admin.listTopics()).includes('compat-admin'));
    } finally {
      await admin.disconnect();
    }
  });

  it('admin: creates, describes and deletes ACLs', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const acl = {
        resourceType: AclResourceTypes.TOPIC, resourceName: 'compat-acl', resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: 'User:alice', host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW,
      };
      await admin.createAcls({ acl: [acl, { ...acl, resourceType: AclResourceTypes.GROUP, resourceName: 'alice-', resourcePatternType: ResourcePatternTypes.PREFIXED, operation: AclOperationTypes.READ }] });
      const filter = { resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, principal: 'User:alice', host: '*', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY };
      // KRaft: ACLs reach the broker's authorizer through its metadata log, a moment after the controller commits them.
      let described = await admin.describeAcls(filter);
      await waitFor('both ACLs described', async () => (described = await admin.describeAcls(filter)).resources.length === 2, 10_000, 100);
      const topicAcl = described.resources.find((r) => r.resourceType === AclResourceTypes.TOPIC);
      assert.equal(topicAcl?.resourceName, 'compat-acl');
      assert.equal(topicAcl?.acls[0]?.operation, AclOperationTypes.WRITE);
      const deleted = await admin.deleteAcls({ filters: [filter] });
      assert.equal(deleted.filterResponses[0]?.matchingAcls.length, 2);
      await waitFor('no ACL left', async () => (await admin.describeAcls(filter)).resources.length === 0, 10_000, 100);
    } finally {
      await admin.disconnect();
    }
  });

  it('producer: idempotent sends with acks=all, gzip, and every record lands once', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'compat-produce', numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
    await producer.connect();
    const { CompressionTypes } = await import('kafkajs');
    const results = await producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.GZIP,
      topicMessages: [{ topic: 'compat-produce', messages: Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) }],
    });
    assert.ok(results.every((r) => r.errorCode === 0));
    await producer.disconnect();
    const got = await consumeUntil(kafka, 'compat-produce', (r) => r.length >= 200);
    assert.equal(new Set(got.map((r) => r.value)).size, 200);
  });

  it('consumer group: joins, consumes, commits offsets, and a restart resumes after them', async () => {
    const topic = 'compat-group';
    const groupId = 'compat-g';
    const admin = kafka.admin();
    await admin.connect();
    // Idempotent, as every producer of ours is: kafkajs retries a send to a topic created a moment
    // ago, and without idempotence a retry writes again what the broker had already taken (seen
    // here as two partitions written twice, so the restart read records of the first round).
    const producer = kafka.producer({ idempotent: true });
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `first-${i}` })) });
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
      assert.equal([...ends.values()].reduce((a, b) => a + b, 0), 30);
      let committed = new Map<number, number>();
      const readCommitted = async (): Promise<Map<number, number>> =>
        (committed = new Map((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((p) => [p.partition, Number(p.offset)])));
      const atEnd = (offsets: Map<number, number>): boolean => [...ends].every(([p, end]) => end === 0 || offsets.get(p) === end);

      // The group commits as it consumes; the consumer stops once its commits have reached the end of
      // every partition, which is what the restart below must resume after.
      const seen: string[] = [];
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => { seen.push(String(message.value)); } });
        await waitFor('the group\'s commits at the end of every partition', async () => atEnd(await readCommitted()), 30_000, 100)
          .catch((error: unknown) => { throw new Error(`${(error as Error).message}: ends ${JSON.stringify([...ends])}, committed ${JSON.stringify([...committed])}, ${seen.length} records read`); });
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual(new Set(seen), new Set(Array.from({ length: 30 }, (_, i) => `first-${i}`)));

      await producer.send({ topic, acks: -1, messages: [{ key: 'x', value: 'second' }] });
      const second = await consumeUntil(kafka, topic, (r) => r.length >= 1, { groupId });
      assert.deepEqual(second.map((r) => r.value), ['second'], `a restart resumes after the commits ${JSON.stringify([...committed])}`);
      const groups = await admin.describeGroups([groupId]);
      assert.equal(groups.groups[0]?.groupId, groupId);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('transactions: read-process-write with offsets sent in the transaction; aborts stay invisible to read_committed', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'compat-tx-in', numPartitions: 1 }, { topic: 'compat-tx-out', numPartitions: 1 }], waitForLeaders: true });
    const input = kafka.producer({ idempotent: true }); // see the consumer-group test
    await input.connect();
    await input.send({ topic: 'compat-tx-in', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await input.disconnect();

    const tx = kafka.producer({ transactionalId: 'compat-tx', idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    // An aborted transaction first: its records must never be read with read_committed.
    const aborted = await tx.transaction();
    await aborted.send({ topic: 'compat-tx-out', messages: [{ value: 'ABORTED' }] });
    await aborted.abort();

    const consumer = kafka.consumer({ groupId: 'compat-tx-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'compat-tx-in', fromBeginning: true });
    let processed = 0;
    await new Promise<void>((resolve, reject) => {
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const transaction = await tx.transaction();
          try {
            await transaction.send({ topic: 'compat-tx-out', messages: batch.messages.map((m) => ({ value: String(m.value).toUpperCase() })) });
            const last = batch.messages[batch.messages.length - 1]!;
            await transaction.sendOffsets({
              consumerGroupId: 'compat-tx-group',
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }] }],
            });
            await transaction.commit();
          } catch (error) {
            await transaction.abort();
            throw error;
          }
          processed += batch.messages.length;
          if (processed >= 3) resolve();
        },
      }).catch(reject);
    });
    await consumer.disconnect();
    await tx.disconnect();

    const out = await consumeUntil(kafka, 'compat-tx-out', (r) => r.length >= 3);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(out.map((r) => r.value), ['A', 'B', 'C']);
    const offsets = await admin.fetchOffsets({ groupId: 'compat-tx-group', topics: ['compat-tx-in'] });
    assert.equal(offsets[0]?.partitions[0]?.offset, '3');
    // read_uncommitted sees the aborted record: the abort really happened on the broker.
    const raw = await consumeUntil(kafka, 'compat-tx-out', (r) => r.length >= 4, { readUncommitted: true });
    assert.ok(raw.some((r) => r.value === 'ABORTED'));
    await admin.disconnect();
  });

  it('a record over the topic\'s max.message.bytes in a transaction: the consumer\'s error names the topic and the setting (issue 15)', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ transactionalId: 'compat-too-large', idempotent: true, maxInFlightRequests: 1 });
    try {
      await admin.createTopics({ topics: [{ topic: 'compat-small', numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '2000' }] }], waitForLeaders: true });
      await producer.connect();
      const topicMessages = [{ topic: 'compat-small', messages: [{ key: 'w|1', value: 'x'.repeat(5000), partition: 0 }] }];
      const transaction = await producer.transaction();
      const error = await transaction.sendBatch({ topicMessages, acks: -1 }).then(() => undefined, (e: unknown) => e);
      await transaction.abort().catch(() => undefined);
      const explained = explainTooLarge(error, topicMessages);
      assert.ok(explained, `not recognised as too large: ${String(error)}`);
      assert.match(explained.message, /record of 5003 bytes for topic compat-small \(key w\|1\).*raise max\.message\.bytes on compat-small/);
      assert.equal(explainTooLarge(new Error('Closed connection'), topicMessages), undefined);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
