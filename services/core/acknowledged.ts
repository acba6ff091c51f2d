// What is left of a batch after a sendBatch: kafkajs 2.2.4 could resolve without sending some
// partitions (see kafkajs-send-fix.ts), so both services check the partitions it acknowledged and
// send the rest again. By partition number, not a string per message: a producer batch holds
// 20,000 messages.
import type { TopicMessages } from 'kafkajs';

/** The messages of `pending` whose topic and partition are not among `acknowledged` (sendBatch's answers). */
export function unacknowledged(pending: TopicMessages[], acknowledged: { topicName: string; partition: number }[]): TopicMessages[] {
  const done = new Map<string, Set<number>>();
  for (const { topicName, partition } of acknowledged) done.set(topicName, (done.get(topicName) ?? new Set<number>()).add(partition));
  return pending
    .map(({ topic, messages }) => {
      const partitions = done.get(topic);
      return { topic, messages: partitions ? messages.filter((m) => !partitions.has(m.partition!)) : messages };
    })
    .filter((t) => t.messages.length > 0);
}
