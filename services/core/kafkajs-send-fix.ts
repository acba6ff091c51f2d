// kafkajs 2.2.4 can write a partition's messages twice in one sendBatch, as new records, even with
// idempotence and inside a transaction. Its sendMessages remembers which *broker objects* have
// answered and, on a retry, sends again everything led by a broker object without an answer.
// Two ways that goes wrong, both seen on a real cluster:
// - one leader's request fails while another's is still in flight (a CONCURRENT_TRANSACTIONS answer
//   to AddPartitionsToTxn, a leader that stopped): the retry starts at once, the broker in flight has
//   no answer recorded yet, so its partitions are sent again after the first request, with the
//   sequence numbers that follow it, and the broker takes them as new records;
// - during a broker roll the retries of one sendBatch last long enough for a stopped broker to drop
//   out of the metadata and come back: kafkajs then makes a new broker object for it, which has no
//   answer recorded, so every partition it leads again (preferred leaders move back) is sent again,
//   also as new records, although the old object's request was acknowledged. Seen as 37 of 9,000
//   rows twice on the raw topic during a rolling update of the prod stack, and the consumer's stage 1
//   writing events twice to the repartition topic.
// The same bookkeeping also skips partitions: one whose leadership moved to a broker that had
// already answered is not sent at all, and the send resolves without it.
//
// The fix replaces sendMessages with one that keeps its books per partition: the partition of each
// message is decided once; an attempt sends only the partitions not yet acknowledged, to their
// current leaders; an attempt's failure goes on to the retrier only once every request it started
// has settled; and a request that failed gives its sequence numbers back (as kafkajs does), so a
// partition written after all is recognised by the broker as a duplicate when it is sent again.
// It also sends a producer's AddPartitionsToTxn requests one at a time (serialAddPartitions), which
// removes most of those CONCURRENT_TRANSACTIONS refusals and the 300 ms retries they cost. It
// replaces kafkajs' sendMessages module, so it must be in place before kafkajs loads its producer:
// each service's entry point imports ./kafkajs-fixes first, and createKafka refuses to run without it.
import { createRequire } from 'node:module';

interface EosManager {
  isTransactional(): boolean;
  getTransactionalId(): string;
  getProducerId(): number;
  getProducerEpoch(): number;
  getSequence(topic: string, partition: number): number;
  updateSequence(topic: string, partition: number, increment: number): void;
  acquireBrokerLock(broker: unknown): Promise<void>;
  releaseBrokerLock(broker: unknown): unknown;
  addPartitionsToTransaction?(topicData: unknown): Promise<void>;
}
interface PartitionMetadata {
  partitionId: number;
  leader: number;
}
interface ProducePartitionResponse {
  partition: number;
  [field: string]: unknown;
}
interface ProduceResponse {
  topics: { topicName: string; partitions: ProducePartitionResponse[] }[];
}
interface Broker {
  produce(request: object): Promise<ProduceResponse>;
}
interface Cluster {
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  refreshMetadata(): Promise<void>;
  isConnected(): boolean;
  connect(): Promise<void>;
  removeBroker(address: { host: unknown; port: unknown }): void;
  findTopicPartitionMetadata(topic: string): PartitionMetadata[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(broker: { nodeId: string }): Promise<Broker>;
}
interface Logger {
  error(message: string, extra?: object): void;
  [other: string]: unknown;
}
interface KafkaError extends Error {
  retriable?: boolean;
  host?: unknown;
  port?: unknown;
}
type Bail = (error: Error) => void;
type Attempt = (bail: Bail, retryCount: number, retryTime: number) => Promise<unknown>;
type Retrier = (attempt: Attempt) => Promise<unknown>;
type Partitioner = (args: { topic: string; partitionMetadata: PartitionMetadata[]; message: unknown }) => number;
export interface SendMessagesOptions {
  logger: Logger;
  cluster: Cluster;
  partitioner: Partitioner;
  eosManager: EosManager;
  retrier: Retrier;
}
interface SendRequest {
  acks: number;
  timeout?: number;
  compression?: number;
  topicMessages: { topic: string; messages: unknown[] }[];
}
/** One acknowledged partition, as kafkajs' sendBatch reports it. */
export interface PartitionAck extends ProducePartitionResponse {
  topicName: string;
}
type SendMessages = (request: SendRequest) => Promise<PartitionAck[]>;
export type SendMessagesFactory = (options: SendMessagesOptions) => SendMessages;

const kafkajsModule = createRequire(require.resolve('kafkajs'));
const { KafkaJSMetadataNotLoaded } = kafkajsModule('./src/errors') as { KafkaJSMetadataNotLoaded: new (message: string) => Error };
const { staleMetadata } = kafkajsModule('./src/protocol/error') as { staleMetadata: (error: unknown) => boolean };

/** A message's own partition: kafkajs' partitioners take it first too, but only after work per message. */
function ownPartition(message: unknown): number | undefined {
  const partition = (message as { partition?: unknown }).partition;
  return typeof partition === 'number' ? partition : undefined;
}

/** sendMessages with its books kept per partition (see above). */
export const sendByPartition: SendMessagesFactory = ({ logger, cluster, partitioner, eosManager, retrier }) => async ({ acks, timeout, compression, topicMessages }) => {
  const topics = topicMessages.map(({ topic }) => topic);
  /** Messages per topic and partition, decided on the first attempt that has metadata, then fixed. */
  let placed: Map<string, Map<number, unknown[]>> | undefined;
  const acknowledged = new Map<string, Map<number, PartitionAck>>(topics.map((topic) => [topic, new Map()]));

  const place = (): Map<string, Map<number, unknown[]>> => {
    const result = new Map<string, Map<number, unknown[]>>();
    for (const { topic, messages } of topicMessages) {
      const partitionMetadata = cluster.findTopicPartitionMetadata(topic);
      if (partitionMetadata.length === 0) throw new KafkaJSMetadataNotLoaded('Producing to topic without metadata');
      const perPartition = result.get(topic) ?? new Map<number, unknown[]>();
      for (const message of messages) {
        const partition = ownPartition(message) ?? partitioner({ topic, partitionMetadata, message });
        const list = perPartition.get(partition);
        if (list) list.push(message);
        else perPartition.set(partition, [message]);
      }
      result.set(topic, perPartition);
    }
    return result;
  };

  const sendTo = async (nodeId: string, partitionsOf: Map<string, number[]>, messagesOf: Map<string, Map<number, unknown[]>>): Promise<void> => {
    const broker = await cluster.findBroker({ nodeId });
    const topicData = [...partitionsOf].map(([topic, partitions]) => ({
      topic,
      partitions: partitions.map((partition) => ({ partition, firstSequence: 0, messages: messagesOf.get(topic)!.get(partition)! })),
    }));
    await eosManager.acquireBrokerLock(broker);
    try {
      if (eosManager.isTransactional()) await eosManager.addPartitionsToTransaction?.(topicData);
      for (const { topic, partitions } of topicData) {
        for (const entry of partitions) {
          entry.firstSequence = eosManager.getSequence(topic, entry.partition);
          eosManager.updateSequence(topic, entry.partition, entry.messages.length);
        }
      }
      let response: ProduceResponse;
      try {
        response = await broker.produce({
          transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
          producerId: eosManager.getProducerId(),
          producerEpoch: eosManager.getProducerEpoch(),
          acks, timeout, compression, topicData,
        });
      } catch (error) {
        // Not acknowledged: the numbers go back, so a resend of a batch written after all is a duplicate to the broker.
        for (const { topic, partitions } of topicData) for (const entry of partitions) eosManager.updateSequence(topic, entry.partition, -entry.messages.length);
        throw error;
      }
      if (acks === 0) {
        for (const { topic, partitions } of topicData) for (const { partition } of partitions) acknowledged.get(topic)!.set(partition, { topicName: topic, partition });
        return;
      }
      for (const { topicName, partitions } of response.topics) {
        for (const answer of partitions) acknowledged.get(topicName)?.set(answer.partition, { topicName, ...answer });
      }
    } finally {
      await eosManager.releaseBrokerLock(broker);
    }
  };

  return retrier(async (bail, retryCount, retryTime) => {
    await cluster.addMultipleTargetTopics(topics);
    try {
      await cluster.refreshMetadataIfNecessary();
      const messagesOf = (placed ??= place());
      const perLeader = new Map<string, Map<string, number[]>>();
      let leaderless: string[] = [];
      for (const [topic, perPartition] of messagesOf) {
        const pending = [...perPartition.keys()].filter((partition) => !acknowledged.get(topic)!.has(partition));
        const byLeader = cluster.findLeaderForPartitions(topic, pending);
        const led = new Set<number>();
        for (const [nodeId, partitions] of Object.entries(byLeader)) {
          const forNode = perLeader.get(nodeId) ?? new Map<string, number[]>();
          forNode.set(topic, partitions);
          perLeader.set(nodeId, forNode);
          for (const partition of partitions) led.add(partition);
        }
        leaderless = leaderless.concat(pending.filter((partition) => !led.has(partition)).map((partition) => `${topic}/${partition}`));
      }
      const results = await Promise.allSettled([...perLeader].map(([nodeId, partitionsOf]) => sendTo(nodeId, partitionsOf, messagesOf)));
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as KafkaError] : []));
      for (const failure of failures) if (failure.name === 'KafkaJSConnectionClosedError') cluster.removeBroker({ host: failure.host, port: failure.port });
      if (failures[0]) throw failures[0];
      // Partitions missing from the metadata are not skipped: the metadata is refreshed and they are sent on the next attempt.
      if (leaderless.length > 0) throw new KafkaJSMetadataNotLoaded(`No leader in the metadata for ${leaderless.join(', ')}`);
      return topics.flatMap((topic) => [...acknowledged.get(topic)!.values()]);
    } catch (caught) {
      const error = caught as KafkaError;
      if (!cluster.isConnected()) {
        await cluster.connect();
        await cluster.refreshMetadata();
        throw error;
      }
      if (staleMetadata(error) || error.name === 'KafkaJSMetadataNotLoaded' || error.name === 'KafkaJSConnectionError' || error.name === 'KafkaJSConnectionClosedError' || (error.name === 'KafkaJSProtocolError' && error.retriable)) {
        logger.error(`Failed to send messages: ${error.message}`, { retryCount, retryTime });
        await cluster.refreshMetadata();
        throw error;
      }
      logger.error(error.message, { retryCount, retryTime });
      if (error.retriable) throw error;
      bail(error);
      return [];
    }
  }) as Promise<PartitionAck[]>;
};

/**
 * The other half: kafkajs adds each broker's partitions to the transaction with its own
 * AddPartitionsToTxn, all at once, and the coordinator refuses all but one with
 * CONCURRENT_TRANSACTIONS, as it does right after a commit while its markers are being written.
 * kafkajs then retries the whole send after its backoff (300 ms and up) and logs an error each
 * time. Here a producer's AddPartitionsToTxn requests go one at a time, and CONCURRENT_TRANSACTIONS
 * is retried at once with a short backoff, as the Java producer does; whatever remains goes to
 * kafkajs' own retry.
 */
export function serialAddPartitions(factory: SendMessagesFactory, backoffMs: readonly number[] = [10, 20, 40, 80, 160, 320]): SendMessagesFactory {
  return (options) => {
    const original = options.eosManager;
    const add = original.addPartitionsToTransaction?.bind(original);
    if (!add) return factory(options);
    const eosManager = Object.create(original) as EosManager;
    eosManager.addPartitionsToTransaction = (topicData) => queueOf(original).run(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await add(topicData);
        } catch (error) {
          const delay = backoffMs[attempt];
          if ((error as { type?: unknown }).type !== 'CONCURRENT_TRANSACTIONS' || delay === undefined) throw error;
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    });
    return factory({ ...options, eosManager });
  };
}

/** One chain of AddPartitionsToTxn calls per producer (kafkajs' eosManager). */
const addQueues = new WeakMap<object, { run<T>(job: () => Promise<T>): Promise<T> }>();
function queueOf(eosManager: object): { run<T>(job: () => Promise<T>): Promise<T> } {
  let queue = addQueues.get(eosManager);
  if (!queue) {
    let tail: Promise<unknown> = Promise.resolve();
    queue = {
      run<T>(job: () => Promise<T>): Promise<T> {
        const result = tail.then(job);
        tail = result.catch(() => undefined);
        return result;
      },
    };
    addQueues.set(eosManager, queue);
  }
  return queue;
}

const fixed = Symbol.for('ecommerce.kafkajs.sendByPartition');
let installedInTime = false;

/** Puts the fix in kafkajs' module cache before its producer loads; idempotent. */
export function installSendFix(): void {
  const load = createRequire(require.resolve('kafkajs'));
  const sendMessagesPath = load.resolve('./src/producer/sendMessages');
  const current = load(sendMessagesPath) as SendMessagesFactory & { [fixed]?: true };
  if (current[fixed]) return;
  if (require.cache[load.resolve('./src/producer/messageProducer')]) return;
  if (typeof current !== 'function') throw new Error('kafkajs src/producer/sendMessages is not a factory: the send fix does not fit this kafkajs version');
  const patched = Object.assign(serialAddPartitions(sendByPartition), { [fixed]: true as const });
  const cached = require.cache[sendMessagesPath];
  if (!cached) throw new Error('kafkajs src/producer/sendMessages is not in the module cache');
  cached.exports = patched;
  installedInTime = true;
}

/** Throws unless the fix was installed before kafkajs loaded its producer. */
export function assertSendFixInstalled(): void {
  if (!installedInTime) {
    throw new Error('kafkajs was loaded before its send fix: import services/core/kafkajs-fixes before anything else in the entry point, or sends may duplicate records');
  }
}
