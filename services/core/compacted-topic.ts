// Reads partitions of a compacted topic from the beginning to their end (read_committed) and keeps
// the latest value of every key, dropping tombstoned keys: the consumer restores window state from
// its changelog with it, the producer its position in the file. Called only after the writers of
// those partitions were fenced, so nothing can still be writing to them.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';

export interface CompactedReadOptions {
  topic: string;
  partitions: number[];
  /** The restore consumer's group starts with it (ACLs grant a prefix). */
  groupIdPrefix: string;
  /** What the log line says when the read is done. */
  doneMessage?: string;
  timeoutMs?: number;
}

export async function readCompactedTopic(kafka: Kafka, admin: Admin, logger: Logger, options: CompactedReadOptions): Promise<Map<number, Map<string, string>>> {
  const state = new Map(options.partitions.map((p) => [p, new Map<string, string>()]));
  const ends = new Map<number, bigint>();
  for (const offsets of await admin.fetchTopicOffsets(options.topic)) {
    if (state.has(offsets.partition) && BigInt(offsets.high) > BigInt(offsets.low)) ends.set(offsets.partition, BigInt(offsets.high));
  }
  if (ends.size === 0) return state;
  const consumer = kafka.consumer({ groupId: `${options.groupIdPrefix}-restore-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  const positions = new Map<number, bigint>();
  const timeoutMs = options.timeoutMs ?? 120_000;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.topic} not read to its end within ${timeoutMs} ms`)), timeoutMs);
      const check = (): void => {
        if ([...ends].every(([p, end]) => (positions.get(p) ?? -1n) >= end)) {
          clearTimeout(timer);
          resolve();
        }
      };
      // Fired for batches of control records too (commit markers), which eachBatch never sees.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic === options.topic) positions.set(payload.partition, BigInt(payload.lastOffset) + 1n);
        check();
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const entries = state.get(batch.partition);
            if (!entries) return;
            for (const message of batch.messages) {
              const key = message.key?.toString();
              if (key === undefined) continue;
              if (message.value === null) entries.delete(key);
              else entries.set(key, message.value.toString());
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'restore consumer disconnect failed'));
  }
  logger.info({ topic: options.topic, partitions: options.partitions, keys: [...state.values()].reduce((n, m) => n + m.size, 0) }, options.doneMessage ?? 'compacted topic read');
  return state;
}
