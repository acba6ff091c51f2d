// kafkajs' own sendMessages and retrier, driven against fake leader brokers, show the defects;
// sendByPartition (services/core/kafkajs-send-fix.ts) with kafkajs' own retrier shows the fix:
// - broker 1 answers its produce request slowly while broker 2's AddPartitionsToTxn fails once
//   (CONCURRENT_TRANSACTIONS, retriable): kafkajs retries while broker 1's request is in flight and
//   sends broker 1's partition a second time with the next sequence numbers (new records to Kafka);
// - broker 2's produce fails (NOT_LEADER_OR_FOLLOWER) and the metadata refresh replaces the broker
//   objects, as kafkajs does when a stopped broker drops out of the metadata and comes back:
//   kafkajs sends broker 1's acknowledged partition again as new records;
// - broker 2's produce fails and its partition moves to broker 1, which had answered: kafkajs
//   resolves the send without that partition.
// Fixed, each partition is produced once, with its first sequence, or again with the same
// sequence numbers after a failed request (a duplicate to the broker).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { sendByPartition, serialAddPartitions, type SendMessagesFactory, type SendMessagesOptions } from '../../services/core/kafkajs-send-fix';

const load = createRequire(require.resolve('kafkajs'));
const kafkajsSendMessages = load('./src/producer/sendMessages') as SendMessagesFactory;
const createRetry = load('./src/retry') as (options: object) => SendMessagesOptions['retrier'];
const { createErrorFromCode } = load('./src/protocol/error') as { createErrorFromCode: (code: number) => Error };
const CONCURRENT_TRANSACTIONS = 51;
const NOT_LEADER_OR_FOLLOWER = 6;

interface ProduceCall {
  nodeId: number;
  partition: number;
  firstSequence: number;
  count: number;
}

interface TopicData {
  topic: string;
  partitions: { partition: number; firstSequence?: number; messages: unknown[] }[];
}

interface Scenario {
  /** Broker 1's produce answers after this long. */
  produceDelayMs?: number;
  coordinator?: 'refuses broker 2 once' | 'refuses concurrent adds' | 'accepts';
  /** Broker 2's first produce request fails with NOT_LEADER_OR_FOLLOWER (nothing written). */
  broker2ProduceFailsOnce?: boolean;
  /** After the first metadata refresh partition 1 is led by broker 1. */
  partition1MovesTo1?: boolean;
  /** Every metadata refresh makes new broker objects (a broker dropped out and came back). */
  newBrokerObjectsOnRefresh?: boolean;
}

/** Partition 0 led by broker 1, partition 1 by broker 2, unless the scenario moves it. */
function scenario({ produceDelayMs = 0, coordinator = 'refuses broker 2 once', broker2ProduceFailsOnce = false, partition1MovesTo1 = false, newBrokerObjectsOnRefresh = false }: Scenario) {
  const produced: ProduceCall[] = [];
  let refreshed = false;
  const leaderOf = (partition: number) => (partition === 0 || (partition1MovesTo1 && refreshed) ? 1 : 2);
  let refusals = 1;
  let produceFailures = broker2ProduceFailsOnce ? 1 : 0;
  let adding = 0;
  let errorsLogged = 0;
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: { topicData: TopicData[] }) {
      if (nodeId === 2 && produceFailures-- > 0) throw createErrorFromCode(NOT_LEADER_OR_FOLLOWER);
      for (const t of topicData) for (const p of t.partitions) produced.push({ nodeId, partition: p.partition, firstSequence: p.firstSequence!, count: p.messages.length });
      if (nodeId === 1) await new Promise((resolve) => setTimeout(resolve, produceDelayMs));
      return { topics: topicData.map((t) => ({ topicName: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })) })) };
    },
  });
  let brokers = new Map([1, 2].map((id) => [id, broker(id)]));
  const sequences = new Map<number, number>();
  const locks = new Map<number, Promise<void>>();
  const releases = new Map<number, () => void>();
  const eosManager = {
    isTransactional: () => true,
    isInitialized: () => true,
    getTransactionalId: () => 'tx',
    getProducerId: () => 7,
    getProducerEpoch: () => 0,
    getSequence: (_topic: string, partition: number) => sequences.get(partition) ?? 0,
    updateSequence: (_topic: string, partition: number, n: number) => void sequences.set(partition, (sequences.get(partition) ?? 0) + n),
    async addPartitionsToTransaction(topicData: TopicData[]) {
      if (coordinator === 'refuses concurrent adds') {
        if (adding > 0) throw createErrorFromCode(CONCURRENT_TRANSACTIONS);
        adding += 1;
        await new Promise((resolve) => setTimeout(resolve, 15));
        adding -= 1;
      } else if (coordinator === 'refuses broker 2 once' && topicData.some((t) => t.partitions.some((p) => leaderOf(p.partition) === 2)) && refusals-- > 0) {
        throw createErrorFromCode(CONCURRENT_TRANSACTIONS);
      }
    },
    async acquireBrokerLock(b: { nodeId: number }) {
      while (locks.has(b.nodeId)) await locks.get(b.nodeId);
      locks.set(b.nodeId, new Promise<void>((resolve) => releases.set(b.nodeId, resolve)));
    },
    releaseBrokerLock(b: { nodeId: number }) {
      locks.delete(b.nodeId);
      releases.get(b.nodeId)?.();
    },
  };
  const cluster = {
    refreshMetadataIfNecessary: async () => undefined,
    refreshMetadata: async () => {
      refreshed = true;
      if (newBrokerObjectsOnRefresh) brokers = new Map([1, 2].map((id) => [id, broker(id)]));
    },
    addMultipleTargetTopics: async () => undefined,
    isConnected: () => true,
    connect: async () => undefined,
    removeBroker: () => undefined,
    findTopicPartitionMetadata: () => [{ partitionId: 0, leader: leaderOf(0) }, { partitionId: 1, leader: leaderOf(1) }],
    findLeaderForPartitions: (_topic: string, partitions: (string | number)[]) => {
      const byLeader: Record<number, number[]> = {};
      for (const p of partitions.map(Number)) (byLeader[leaderOf(p)] ??= []).push(p);
      return byLeader;
    },
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId))!,
  };
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => void (errorsLogged += 1) };
  const options: SendMessagesOptions = {
    logger: quiet, cluster, eosManager, partitioner: ({ message }) => (message as { partition: number }).partition,
    retrier: createRetry({ retries: 3, initialRetryTime: 10, maxRetryTime: 20 }),
  };
  const request = {
    acks: -1, timeout: 30_000, compression: 0,
    topicMessages: [{ topic: 't', messages: [0, 0, 0, 1, 1].map((partition, i) => ({ partition, value: `m${i}` })) }],
  };
  const send = async (factory: SendMessagesFactory) => ((await factory(options)(request)) as { partition: number }[]).map((r) => r.partition).sort();
  return { produced, options, request, errorsLogged: () => errorsLogged, send };
}

/** What a partition's produce requests carried, in order. */
function sequencesOf(produced: ProduceCall[], partition: number): number[] {
  return produced.filter((c) => c.partition === partition).map((c) => c.firstSequence);
}

describe('kafkajs sendBatch retries (services/core/kafkajs-send-fix)', () => {
  it('kafkajs 2.2.4 alone writes a slow broker\'s partition twice when another broker\'s request fails (the defect is still there)', async () => {
    const { produced, send } = scenario({ produceDelayMs: 150 });
    await send(kafkajsSendMessages);
    assert.deepEqual(sequencesOf(produced, 0), [0, 3], 'the same three messages sent again as sequences 3-5: new records to Kafka');
  });

  it('fixed: a retry waits for the requests in flight, so each partition is produced once with its first sequence', async () => {
    const { produced, send } = scenario({ produceDelayMs: 150 });
    assert.deepEqual(await send(sendByPartition), [0, 1], 'both partitions acknowledged');
    assert.deepEqual(produced.sort((a, b) => a.partition - b.partition), [
      { nodeId: 1, partition: 0, firstSequence: 0, count: 3 },
      { nodeId: 2, partition: 1, firstSequence: 0, count: 2 },
    ]);
  });

  it('fixed: a request that fails at once still lets the others finish and is retried alone', async () => {
    const { produced, send } = scenario({});
    await send(sendByPartition);
    assert.deepEqual(sequencesOf(produced, 0), [0]);
    assert.deepEqual(sequencesOf(produced, 1), [0]);
  });

  it('kafkajs 2.2.4 alone sends an acknowledged partition again as new records when its broker comes back as a new object (the defect is still there)', async () => {
    const { produced, send } = scenario({ coordinator: 'accepts', broker2ProduceFailsOnce: true, newBrokerObjectsOnRefresh: true });
    await send(kafkajsSendMessages);
    assert.deepEqual(sequencesOf(produced, 0), [0, 3], 'partition 0 written twice');
  });

  it('fixed: a partition acknowledged once is never sent again, whatever happens to the broker objects', async () => {
    const { produced, send } = scenario({ coordinator: 'accepts', broker2ProduceFailsOnce: true, newBrokerObjectsOnRefresh: true });
    assert.deepEqual(await send(sendByPartition), [0, 1]);
    assert.deepEqual(sequencesOf(produced, 0), [0]);
    assert.deepEqual(sequencesOf(produced, 1), [0], 'the failed request gave its sequence numbers back');
  });

  it('kafkajs 2.2.4 alone resolves without a partition whose leader moved to a broker that had answered (the defect is still there)', async () => {
    const { produced, send } = scenario({ coordinator: 'accepts', broker2ProduceFailsOnce: true, partition1MovesTo1: true });
    assert.deepEqual(await send(kafkajsSendMessages), [0], 'partition 1 neither sent nor reported');
    assert.deepEqual(sequencesOf(produced, 1), []);
  });

  it('fixed: that partition is sent to its new leader with the sequence numbers its failed request gave back', async () => {
    const { produced, send } = scenario({ coordinator: 'accepts', broker2ProduceFailsOnce: true, partition1MovesTo1: true });
    assert.deepEqual(await send(sendByPartition), [0, 1]);
    assert.deepEqual(produced.filter((c) => c.partition === 1), [{ nodeId: 1, partition: 1, firstSequence: 0, count: 2 }]);
    assert.deepEqual(sequencesOf(produced, 0), [0]);
  });

  it('kafkajs alone adds both brokers\' partitions at once, so the coordinator refuses one and the whole send is retried', async () => {
    const { errorsLogged, send } = scenario({ coordinator: 'refuses concurrent adds' });
    await send(kafkajsSendMessages);
    assert.ok(errorsLogged() > 0, 'kafkajs logged a failed send and retried');
  });

  it('fixed: AddPartitionsToTxn one at a time, so no send is refused or retried', async () => {
    const { produced, errorsLogged, send } = scenario({ coordinator: 'refuses concurrent adds' });
    await send(serialAddPartitions(sendByPartition));
    assert.equal(errorsLogged(), 0);
    assert.deepEqual(produced.map((c) => c.partition).sort(), [0, 1]);
  });

  it('fixed: CONCURRENT_TRANSACTIONS (a commit\'s markers still being written) is retried at once with a short backoff', async () => {
    const { produced, errorsLogged, send } = scenario({});
    await send(serialAddPartitions(sendByPartition));
    assert.equal(errorsLogged(), 0, 'kafkajs\' own 300 ms retry never ran');
    assert.deepEqual(produced.map((c) => c.partition).sort(), [0, 1]);
  });

  it('installed by services/core/kafkajs-fixes before kafkajs loads its producer, kafkajs\' own messageProducer sends once', async () => {
    assert.equal(require.cache[load.resolve('./src/producer/messageProducer')], undefined, 'this file must not have loaded kafkajs\' producer yet');
    await import('../../services/core/kafkajs-fixes');
    const { assertSendFixInstalled } = await import('../../services/core/kafkajs-send-fix');
    assertSendFixInstalled();
    const createMessageProducer = load('./src/producer/messageProducer') as (options: object) => { sendBatch: (request: object) => Promise<unknown> };
    const { produced, options, request } = scenario({ produceDelayMs: 150, coordinator: 'accepts', broker2ProduceFailsOnce: true, newBrokerObjectsOnRefresh: true });
    await createMessageProducer({ ...options, idempotent: true, getConnectionStatus: () => 'connected' }).sendBatch(request);
    assert.deepEqual(sequencesOf(produced, 0), [0]);
    assert.deepEqual(sequencesOf(produced, 1), [0]);
  });
});
