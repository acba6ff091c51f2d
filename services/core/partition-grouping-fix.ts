// kafkajs 2.2.4 groups a batch's messages by partition with `[...current, message]` for every
// message: quadratic in the messages per partition, so a bigger batch costs more per message
// (a 20,000-message batch over 3 partitions copies about 67 million array slots). This puts a linear
// grouping with the same result (same arrays, same order, the partitioner called once per message in
// order) in kafkajs' module cache. kafkajs' sendMessages takes the grouping when it loads, so this
// must run before it does: before services/core/kafkajs-fixes, which loads sendMessages.
import { createRequire } from 'node:module';
import type { Message, PartitionMetadata } from 'kafkajs';

type Partitioner = (args: { topic: string; partitionMetadata: PartitionMetadata[]; message: Message }) => number;
interface GroupArgs { topic: string; partitionMetadata: PartitionMetadata[]; messages: Message[]; partitioner: Partitioner }

export function groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: GroupArgs): Record<number, Message[]> {
  if (partitionMetadata.length === 0) return {};
  const result: Record<number, Message[]> = {};
  for (const message of messages) (result[partitioner({ topic, partitionMetadata, message })] ??= []).push(message);
  return result;
}

/** Replaces kafkajs' grouping in its module cache; throws when kafkajs' sendMessages has already taken the old one. */
export function installPartitionGroupingFix(): void {
  const load = createRequire(require.resolve('kafkajs'));
  const path = load.resolve('./src/producer/groupMessagesPerPartition');
  if (require.cache[load.resolve('./src/producer/sendMessages')] && require.cache[path]?.exports !== groupMessagesPerPartition) {
    throw new Error('kafkajs loaded its producer before the partition grouping fix: import it before services/core/kafkajs-fixes');
  }
  load(path);
  require.cache[path]!.exports = groupMessagesPerPartition;
}
