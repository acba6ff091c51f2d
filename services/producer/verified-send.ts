// Sends a batch and checks that Kafka acknowledged every partition in it. kafkajs 2.2.4's own
// sendBatch could resolve without sending some messages (a partition that moved to a broker which
// had already answered was skipped); services/core/kafkajs-send-fix.ts (sendByPartition) fixes that
// at its root, so this is a guard against the fix not being in place or regressing: partitions are
// chosen here, so that the acknowledged ones can be checked, and messages of an unacknowledged
// partition are sent again at once. That is safe with idempotence: a failed request gives its
// sequence numbers back, so if the first attempt was written after all, the broker recognises the
// retry as a duplicate.
import { Partitioners, type Kafka, type Message, type PartitionMetadata, type Producer, type ProducerBatch, type TopicMessages } from 'kafkajs';
import { unacknowledged } from '../core/acknowledged';

/** Partition count of a topic (metadata; the producer's Describe ACL allows it). */
export type PartitionCounter = (topic: string) => Promise<number>;

/** A producer, or one of its transactions: both send batches. */
export type BatchTarget = Pick<Producer, 'sendBatch'>;

const maxResends = 5;

export class VerifiedSender {
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly counts = new Map<string, PartitionMetadata[]>();

  constructor(
    private readonly partitionCount: PartitionCounter,
    private readonly onResend: (what: string) => void = () => undefined,
  ) {}

  /** Sends until every partition is acknowledged; throws when kafkajs throws or a partition never is. */
  async send(target: BatchTarget, topicMessages: TopicMessages[], options: Omit<ProducerBatch, 'topicMessages'>): Promise<void> {
    for (const { topic, messages } of topicMessages) await this.assignPartitions(topic, messages);
    let pending = topicMessages;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > maxResends) throw new Error(`Kafka never acknowledged ${describe(pending)} after ${maxResends} resends`);
      if (attempt > 0) this.onResend(describe(pending));
      pending = unacknowledged(pending, await target.sendBatch({ ...options, topicMessages: pending }));
    }
  }

  private async assignPartitions(topic: string, messages: Message[]): Promise<void> {
    if (messages.every((m) => m.partition !== undefined)) return;
    let metadata = this.counts.get(topic);
    if (!metadata) {
      const count = await this.partitionCount(topic);
      // Every partition counts as available: a null key then round-robins over all of them, as
      // kafkajs would with a healthy cluster.
      metadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
      this.counts.set(topic, metadata);
    }
    // A partition chosen by the caller stays (the position record always goes to partition 0).
    for (const message of messages) message.partition ??= this.partitioner({ topic, partitionMetadata: metadata, message });
  }
}

function describe(pending: TopicMessages[]): string {
  return pending.map(({ topic, messages }) => `${topic} partition(s) ${[...new Set(messages.map((m) => m.partition))].join(',')}`).join('; ');
}

/** Partition counts from the cluster's metadata, through a short-lived admin client; a topic's count is asked once (a failure is asked again). */
export function partitionCounterFor(kafka: Kafka): PartitionCounter {
  const counts = new Map<string, Promise<number>>();
  return (topic) => {
    let count = counts.get(topic);
    if (!count) {
      counts.set(topic, (count = countPartitions(kafka, topic)));
      count.catch(() => counts.delete(topic));
    }
    return count;
  };
}

async function countPartitions(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    if (count === 0) throw new Error(`topic ${topic} has no partitions (does it exist?)`);
    return count;
  } finally {
    await admin.disconnect();
  }
}
