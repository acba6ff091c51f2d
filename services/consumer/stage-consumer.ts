// The consumer-group side both stages share: a read_committed kafkajs consumer that never commits
// offsets itself (each stage commits them inside its transactions), tells the stage's tasks which
// partitions this instance owns on every group join, and reports a crash kafkajs will not restart.
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { ConsumerConfig } from './config';
import type { PartitionTask, TaskContext } from './partition-task';
import type { TaskSet } from './task-set';

export interface StageConsumerOptions<T extends PartitionTask> {
  stage: 'repartition' | 'windows';
  groupId: string;
  topic: string;
  tasks: TaskSet<T>;
  onCrash: (error: Error) => void;
}

/** Creates and wires the consumer; the stage keeps it at once, so a stop during start-up still reaches it. */
export function createStageConsumer<T extends PartitionTask>(ctx: TaskContext, config: ConsumerConfig, options: StageConsumerOptions<T>): Consumer {
  const consumer = ctx.kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.floor(config.sessionTimeoutMs / 10),
    maxBytesPerPartition: config.maxBytesPerPartition,
    maxWaitTimeInMs: 250,
    readUncommitted: false,
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const partitions = payload.memberAssignment[options.topic] ?? [];
    options.tasks.assign(partitions);
    ctx.metrics.keepLag(options.topic, partitions);
    ctx.logger.info({ stage: options.stage, partitions }, 'partitions assigned');
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) options.onCrash(payload.error);
  });
  return consumer;
}

/** Joins the group and starts fetching; offsets are never committed by kafkajs itself. */
export async function runStageConsumer(consumer: Consumer, config: ConsumerConfig, topic: string, onBatch: (payload: EachBatchPayload) => Promise<void>): Promise<void> {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: config.concurrentPartitions, eachBatch: onBatch });
}
