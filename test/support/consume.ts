// Reads a topic from the beginning until a predicate says enough, with a deadline: tests use it to
// compare what is really on a topic with what they expect.
import type { Kafka, KafkaMessage } from 'kafkajs';
import { installReadCommittedFix } from '../../services/consumer/read-committed';

export interface ConsumedRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export function toRecord(partition: number, message: KafkaMessage): ConsumedRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(String).join(',') : String(value);
  }
  return {
    partition,
    offset: message.offset,
    key: message.key ? message.key.toString() : null,
    value: message.value ? message.value.toString() : null,
    headers,
  };
}

export async function consumeUntil(
  kafka: Kafka,
  topic: string,
  done: (records: ConsumedRecord[]) => boolean,
  options: { groupId?: string; timeoutMs?: number; readUncommitted?: boolean } = {},
): Promise<ConsumedRecord[]> {
  // kafkajs alone would also return records of aborted transactions (see read-committed.ts).
  installReadCommittedFix();
  const consumer = kafka.consumer({
    groupId: options.groupId ?? `test-reader-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    readUncommitted: options.readUncommitted ?? false,
  });
  const records: ConsumedRecord[] = [];
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms reading ${topic}: ${records.length} records so far`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            records.push(toRecord(partition, message));
            if (done(records)) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return records;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
