// Waiting for new topics' partitions to have leaders, which a KRaft cluster reports a moment after
// the create succeeded: used by the createTopics fix (kafkajs-create-topics-fix.ts) and by the
// stack's topic provider (infra/kafka-admin/topic-provider.ts).
import type { Admin } from 'kafkajs';

export interface ExpectedTopic {
  name: string;
  /** Partitions the topic is created with; undefined when the broker's default decides. */
  partitions?: number;
}

export interface LeaderWaitOptions {
  timeoutMs?: number;
  pollMs?: number;
}

type MetadataSource = Pick<Admin, 'fetchTopicMetadata'>;

const isRetriable = (error: unknown): boolean => (error as { retriable?: unknown }).retriable === true;

/** Whether every topic has its partitions, each with a leader: undefined if so, else what is missing. */
function missingLeaders(expected: ExpectedTopic[], described: { name: string; partitions: { leader: number }[] }[]): string | undefined {
  const byName = new Map(described.map((t) => [t.name, t.partitions]));
  for (const topic of expected) {
    const partitions = byName.get(topic.name) ?? [];
    const led = partitions.filter((p) => p.leader >= 0).length;
    const want = topic.partitions ?? Math.max(partitions.length, 1);
    if (partitions.length < want || led < want) return `topic ${topic.name}: ${led}/${want} partitions have a leader`;
  }
  return undefined;
}

/**
 * Waits until every partition of the given topics has a leader, asking again on retriable answers
 * (UNKNOWN_TOPIC_OR_PARTITION from a broker that has not applied the topic yet, LEADER_NOT_AVAILABLE).
 * A non-retriable answer (an authorization refusal) goes up at once.
 */
export async function waitForTopicLeaders(admin: MetadataSource, topics: ExpectedTopic[], options: LeaderWaitOptions = {}): Promise<void> {
  const { timeoutMs = 60_000, pollMs = 200 } = options;
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const { topics: described } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
      const missing = missingLeaders(topics, described);
      if (missing === undefined) return;
      last = missing;
    } catch (error) {
      if (!isRetriable(error)) throw error;
      last = (error as Error).message;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const names = topics.map((t) => t.name).join(', ');
  throw new Error(`topic${topics.length > 1 ? 's' : ''} ${names} created, but not every partition had a leader after ${timeoutMs} ms (last: ${last})`);
}
