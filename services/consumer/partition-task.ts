// One transactional producer per input partition (transactional.id = prefix-topic-partition): the
// classic zombie fencing, since kafkajs lacks KIP-447's group-metadata fencing. Opening a task
// bumps the producer epoch, which aborts whatever a previous owner of the partition left open and
// fences it from committing again; only then are the committed offset and its metadata read, so
// they include everything any earlier owner committed.
import { Partitioners, type Admin, type Kafka, type Message, type PartitionMetadata, type Producer, type Transaction } from 'kafkajs';
import type { Logger } from 'pino';
import { unacknowledged } from '../core/acknowledged';
import { isTooLarge } from '../core/kafka-errors';
import type { ConsumerMetrics } from './consumer-metrics';

export interface PartitionTask {
  topic: string;
  partition: number;
  producer: Producer;
  /** Next offset to process: messages below it were committed by this or an earlier owner. */
  committedOffset: bigint;
  /** What the last committed transaction stored beside the offset (stage 1 keeps its stream time there). */
  committedMetadata: string | null;
}

export interface TaskContext {
  kafka: Kafka;
  admin: Admin;
  groupId: string;
  transactionalIdPrefix: string;
  logger: Logger;
  metrics: ConsumerMetrics;
}

export async function openTask(ctx: TaskContext, topic: string, partition: number): Promise<PartitionTask> {
  const producer = ctx.kafka.producer({
    transactionalId: `${ctx.transactionalIdPrefix}-${topic}-${partition}`,
    idempotent: true,
    maxInFlightRequests: 1,
    // Output keys go through Kafka's murmur2, as every Java client would place them.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  // transaction() runs InitProducerId for the transactional id: the fencing step.
  await (await producer.transaction()).abort();
  const offsets = await ctx.admin.fetchOffsets({ groupId: ctx.groupId, topics: [topic] });
  const committed = offsets[0]?.partitions.find((p) => p.partition === partition);
  const offset = committed && committed.offset !== '-1' ? BigInt(committed.offset) : 0n;
  ctx.logger.info({ topic, partition, committedOffset: offset.toString() }, 'task opened: earlier owners fenced, committed offset read');
  return { topic, partition, producer, committedOffset: offset, committedMetadata: committed?.metadata ?? null };
}

/**
 * A batch's messages from the task's committed offset on (a refetch after a failed transaction
 * starts below it). Offsets rise through a batch, so the first one at or past it starts the rest.
 */
export function unprocessed<M extends { offset: string }>(messages: M[], committedOffset: bigint): M[] {
  let first = 0;
  while (first < messages.length && BigInt(messages[first]!.offset) < committedOffset) first++;
  return first === 0 ? messages : messages.slice(first);
}

export interface TransactionContent {
  topicMessages: { topic: string; messages: Message[] }[];
  /** The next offset to consume from the task's partition, and metadata to store with it. */
  nextOffset?: { offset: bigint; metadata?: string };
  /** The first offset of the task's partition this transaction consumed (for the log). */
  firstOffset?: string;
}

/** Sends everything and the consumed offset in one transaction; aborts and rethrows on any failure. */
export async function commitTransaction(ctx: TaskContext, task: PartitionTask, content: TransactionContent): Promise<void> {
  await assignPartitions(ctx.admin, content.topicMessages);
  const transaction = await task.producer.transaction();
  try {
    for (const topicMessages of chunks(content.topicMessages)) await sendVerified(ctx, task, transaction, topicMessages);
    if (content.nextOffset) {
      // kafkajs' types omit it, but TxnOffsetCommit carries per-partition metadata and kafkajs sends it.
      const partitionOffset = { partition: task.partition, offset: content.nextOffset.offset.toString(), metadata: content.nextOffset.metadata ?? null };
      await transaction.sendOffsets({ consumerGroupId: ctx.groupId, topics: [{ topic: task.topic, partitions: [partitionOffset] }] });
    }
    await transaction.commit();
    ctx.metrics.transactions.inc({ result: 'commit' });
    if (content.nextOffset) {
      const records = content.topicMessages.reduce((n, t) => n + t.messages.length, 0);
      ctx.logger.debug({ topic: task.topic, partition: task.partition, first: content.firstOffset?.toString(), next: content.nextOffset.offset.toString(), records }, 'transaction committed');
      task.committedOffset = content.nextOffset.offset;
    }
  } catch (error) {
    ctx.metrics.transactions.inc({ result: 'abort' });
    await transaction.abort().catch((abortError: unknown) => ctx.logger.warn({ err: abortError, partition: task.partition }, 'abort failed (fenced?)'));
    throw error;
  }
}

const partitionCounts = new Map<string, PartitionMetadata[]>();
const partitioner = Partitioners.DefaultPartitioner();

/**
 * Every message gets its partition here (Kafka's murmur2, as kafkajs would choose), so that what
 * Kafka acknowledged can be checked partition by partition (sendVerified).
 */
async function assignPartitions(admin: Admin, topicMessages: TransactionContent['topicMessages']): Promise<void> {
  for (const { topic, messages } of topicMessages) {
    if (messages.every((m) => m.partition !== undefined)) continue;
    let metadata = partitionCounts.get(topic);
    if (!metadata) {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const count = topics.find((t) => t.name === topic)?.partitions.length ?? 0;
      if (count === 0) throw new Error(`topic ${topic} has no partitions`);
      // Every partition counts as available, so a null key round-robins over all of them.
      metadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
      partitionCounts.set(topic, metadata);
    }
    for (const message of messages) if (message.partition === undefined) message.partition = partitioner({ topic, partitionMetadata: metadata, message });
  }
}

const maxResends = 5;

/**
 * kafkajs 2.2.4's own sendBatch could resolve without having sent some partitions' messages (a
 * partition whose leadership moved to a broker that had answered was skipped); sendByPartition
 * (services/core/kafkajs-send-fix.ts) fixes that at its root, and this stays as a guard: in a
 * transaction a skipped partition would commit the batch without it, so the partitions
 * acknowledged are checked and the rest sent again at once, within the same transaction. Safe with idempotence: kafkajs gave their sequence numbers back when the request
 * failed, so if the first attempt was written after all, the broker sees the resend as a duplicate.
 */
async function sendVerified(ctx: TaskContext, task: PartitionTask, transaction: Transaction, topicMessages: { topic: string; messages: Message[] }[]): Promise<void> {
  let pending = topicMessages;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > maxResends) throw new Error(`Kafka never acknowledged ${describePending(pending)} after ${maxResends} resends`);
    if (attempt > 0) ctx.logger.warn({ topic: task.topic, partition: task.partition, unacknowledged: describePending(pending) }, 'sendBatch skipped partitions; sending them again');
    const sent = await transaction.sendBatch({ topicMessages: pending, acks: -1 }).catch((error: unknown) => {
      throw explainTooLarge(error, pending) ?? error;
    });
    pending = unacknowledged(pending, sent);
  }
}

/**
 * kafkajs reports a record over a topic's max.message.bytes as "The request included a message
 * larger than the max message size the server will accept", naming neither the topic nor the
 * setting: this names both, and the largest record of the request (the one refused).
 */
export function explainTooLarge(error: unknown, topicMessages: { topic: string; messages: Message[] }[]): Error | undefined {
  if (!isTooLarge(error)) return undefined;
  let largest = { topic: '', key: '', bytes: -1 };
  for (const { topic, messages } of topicMessages) {
    for (const m of messages) {
      const bytes = sizeOf(m.key) + sizeOf(m.value);
      if (bytes > largest.bytes) largest = { topic, key: String(m.key), bytes };
    }
  }
  return new Error(
    `Kafka refused a record of ${largest.bytes} bytes for topic ${largest.topic} (key ${largest.key}) as larger than the topic's max.message.bytes: ` +
      `raise max.message.bytes on ${largest.topic} (in the stack: topics.<role>.config, e.g. a changelog part holds a window's new distinct users and sessions from one fetch)`,
    { cause: error },
  );
}

function describePending(pending: { topic: string; messages: Message[] }[]): string {
  return pending.map(({ topic, messages }) => `${topic} partition(s) ${[...new Set(messages.map((m) => m.partition))].join(',')}`).join('; ');
}

/**
 * The broker limits a partition's record batch to max.message.bytes (1 MiB by default) and one
 * fetch can fan out to more than that (an event per group key, watermarks, changelog entries):
 * several sends in the same transaction keep each request's batches well under the limit.
 */
export const maxSendBytes = 512 * 1024;

function* chunks(topicMessages: TransactionContent['topicMessages']): Generator<{ topic: string; messages: Message[] }[]> {
  let chunk: { topic: string; messages: Message[] }[] = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    for (const message of messages) {
      const size = sizeOf(message.key) + sizeOf(message.value) + 64;
      if (bytes + size > maxSendBytes && bytes > 0) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      const last = chunk[chunk.length - 1];
      if (last?.topic === topic) last.messages.push(message);
      else chunk.push({ topic, messages: [message] });
      bytes += size;
    }
  }
  if (bytes > 0) yield chunk;
}

function sizeOf(data: Buffer | string | null | undefined): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

/**
 * A task's producer was fenced: a newer owner of its partition exists, so this instance missed a
 * rebalance (a long pause, a network split). Like Kafka Streams' TaskMigratedException the answer
 * is to rejoin the group, and kafkajs rejoins on an error of this `type`; retrying the batch as-is
 * would only re-fence the rightful owner.
 */
export class TaskMigratedError extends Error {
  readonly type = 'REBALANCE_IN_PROGRESS';
  constructor(topic: string, partition: number, reason: string) {
    super(`${topic}/${partition} has a newer owner (${reason}); rejoining the group`);
    this.name = 'TaskMigratedError';
  }
}

const fencedTypes = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);

/** Whether an error (or any error it wraps) says the producer was fenced. */
export function isFenced(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (fencedTypes.has(String((e as { type?: unknown }).type))) return true;
  }
  return false;
}

/** What a stage throws when a transaction failed: a rejoin if fenced, the error itself otherwise. */
export function transactionFailure(task: PartitionTask, error: unknown): Error {
  if (isFenced(error)) return new TaskMigratedError(task.topic, task.partition, error instanceof Error ? error.message : String(error));
  return error instanceof Error ? error : new Error(String(error));
}

export async function closeTasks(tasks: Map<number, PartitionTask>, logger: Logger): Promise<void> {
  await Promise.all([...tasks.values()].map((task) => task.producer.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'producer disconnect failed'))));
  tasks.clear();
}

export function deadLetterMessage(
  message: { key: Buffer | null; value: Buffer | null },
  origin: { topic: string; partition: number; offset: string },
  reason: string,
): Message {
  return {
    key: message.key,
    value: message.value,
    // The original bytes stay the value, so nothing of the message is lost; headers say why and whence.
    headers: {
      origin: 'consumer',
      // Reasons quote values cut already; this bounds any other text too, so a dead letter never outgrows its message.
      reason: reason.length > 1000 ? `${reason.slice(0, 999)}…` : reason,
      'source.topic': origin.topic,
      'source.partition': String(origin.partition),
      'source.offset': origin.offset,
    },
  };
}
