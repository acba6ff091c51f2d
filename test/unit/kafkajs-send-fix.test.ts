// kafkajs' own sendMessages and retrier, driven against two fake leader brokers: broker 1 answers
// its produce request slowly, broker 2's AddPartitionsToTxn fails once with CONCURRENT_TRANSACTIONS
// (retriable). Unfixed, kafkajs retries while broker 1's request is in flight and sends broker 1's
// partition a second time with the next sequence numbers (new records to Kafka); fixed, each
// partition is produced once, with its first sequence.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { serialAddPartitions, settleBeforeRetry, type SendMessagesFactory, type SendMessagesOptions } from '../../services/core/kafkajs-send-fix';

const load = createRequire(require.resolve('kafkajs'));
const kafkajsSendMessages = load('./src/producer/sendMessages') as SendMessagesFactory;
const createRetry = load('./src/retry') as (options: object) => SendMessagesOptions['retrier'];
const { createErrorFromCode } = load('./src/protocol/error') as { createErrorFromCode: (code: number) => Error };
const CONCURRENT_TRANSACTIONS = 51;

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

/** Partition 0 led by broker 1 (slow produce), partition 1 by broker 2 (AddPartitionsToTxn refused once). */
function scenario(produceDelayMs: number, coordinator: 'refuses broker 2 once' | 'refuses concurrent adds' = 'refuses broker 2 once') {
  const produced: ProduceCall[] = [];
  const leaderOf = (partition: number) => (partition === 0 ? 1 : 2);
  let refusals = 1;
  let adding = 0;
  let errorsLogged = 0;
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: { topicData: TopicData[] }) {
      for (const t of topicData) for (const p of t.partitions) produced.push({ nodeId, partition: p.partition, firstSequence: p.firstSequence!, count: p.messages.length });
      if (nodeId === 1) await new Promise((resolve) => setTimeout(resolve, produceDelayMs));
      return { topics: topicData.map((t) => ({ topicName: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })) })) };
    },
  });
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
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
      } else if (topicData.some((t) => t.partitions.some((p) => leaderOf(p.partition) === 2)) && refusals-- > 0) {
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
    refreshMetadata: async () => undefined,
    addMultipleTargetTopics: async () => undefined,
    isConnected: () => true,
    findTopicPartitionMetadata: () => [{ partitionId: 0, leader: 1 }, { partitionId: 1, leader: 2 }],
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const byLeader: Record<number, number[]> = {};
      for (const p of partitions.map(Number)) (byLeader[leaderOf(p)] ??= []).push(p);
      return byLeader;
    },
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId))!,
  };
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => void (errorsLogged += 1) };
  const options: SendMessagesOptions = {
    logger: quiet, cluster, eosManager, partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    retrier: createRetry({ retries: 3, initialRetryTime: 10, maxRetryTime: 20 }),
  };
  const request = {
    acks: -1, timeout: 30_000, compression: 0,
    topicMessages: [{ topic: 't', messages: [0, 0, 0, 1, 1].map((partition, i) => ({ partition, value: `m${i}` })) }],
  };
  return { produced, options, request, errorsLogged: () => errorsLogged, send: (factory: SendMessagesFactory) => factory(options)(request) };
}

describe('kafkajs sendBatch retries (services/core/kafkajs-send-fix)', () => {
  it('kafkajs 2.2.4 alone writes a slow broker\'s partition twice when another broker\'s request fails (the defect is still there)', async () => {
    const { produced, send } = scenario(150);
    await send(kafkajsSendMessages);
    const partition0 = produced.filter((c) => c.partition === 0);
    assert.deepEqual(partition0.map((c) => c.firstSequence), [0, 3], 'the same three messages sent again as sequences 3-5: new records to Kafka');
  });

  it('fixed: a retry waits for the requests in flight, so each partition is produced once with its first sequence', async () => {
    const { produced, send } = scenario(150);
    const responses = (await send(settleBeforeRetry(kafkajsSendMessages))) as { partition: number }[];
    assert.deepEqual(produced.sort((a, b) => a.partition - b.partition), [
      { nodeId: 1, partition: 0, firstSequence: 0, count: 3 },
      { nodeId: 2, partition: 1, firstSequence: 0, count: 2 },
    ]);
    assert.deepEqual(responses.map((r) => r.partition).sort(), [0, 1], 'both partitions acknowledged');
  });

  it('fixed: a request that fails at once still lets the others finish and is retried alone', async () => {
    const { produced, send } = scenario(0);
    await send(settleBeforeRetry(kafkajsSendMessages));
    assert.equal(produced.filter((c) => c.partition === 0).length, 1);
    assert.equal(produced.filter((c) => c.partition === 1).length, 1);
  });

  it('kafkajs alone adds both brokers\' partitions at once, so the coordinator refuses one and the whole send is retried', async () => {
    const { errorsLogged, send } = scenario(0, 'refuses concurrent adds');
    await send(kafkajsSendMessages);
    assert.ok(errorsLogged() > 0, 'kafkajs logged a failed send and retried');
  });

  it('fixed: AddPartitionsToTxn one at a time, so no send is refused or retried', async () => {
    const { produced, errorsLogged, send } = scenario(0, 'refuses concurrent adds');
    await send(settleBeforeRetry(serialAddPartitions(kafkajsSendMessages)));
    assert.equal(errorsLogged(), 0);
    assert.deepEqual(produced.map((c) => c.partition).sort(), [0, 1]);
  });

  it('fixed: CONCURRENT_TRANSACTIONS (a commit\'s markers still being written) is retried at once with a short backoff', async () => {
    const { produced, errorsLogged, send } = scenario(0);
    await send(settleBeforeRetry(serialAddPartitions(kafkajsSendMessages)));
    assert.equal(errorsLogged(), 0, 'kafkajs\' own 300 ms retry never ran');
    assert.deepEqual(produced.map((c) => c.partition).sort(), [0, 1]);
  });

  it('installed by services/core/kafkajs-fixes before kafkajs loads its producer, kafkajs\' own messageProducer sends once', async () => {
    assert.equal(require.cache[load.resolve('./src/producer/messageProducer')], undefined, 'this file must not have loaded kafkajs\' producer yet');
    await import('../../services/core/kafkajs-fixes');
    const { assertSendFixInstalled } = await import('../../services/core/kafkajs-send-fix');
    assertSendFixInstalled();
    const createMessageProducer = load('./src/producer/messageProducer') as (options: object) => { sendBatch: (request: object) => Promise<unknown> };
    const { produced, options, request } = scenario(150);
    await createMessageProducer({ ...options, idempotent: true, getConnectionStatus: () => 'connected' }).sendBatch(request);
    assert.deepEqual(produced.filter((c) => c.partition === 0).map((c) => c.firstSequence), [0]);
  });
});
