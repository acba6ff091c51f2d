// Stage 1: reads the raw topic, dead-letters what fails validation, and writes every valid event
// to the repartition topic once per group key, stamped with its raw partition's stream time; then
// broadcasts that stream time as a watermark to every repartition partition. One transaction per
// fetched batch carries all of it plus the consumed offset, with the stream time stored as the
// offset's metadata, so stage 1's only state commits atomically with its position.
import type { Consumer, EachBatchPayload, Message } from 'kafkajs';
import type { ConsumerConfig } from './config';
import { reasonClass } from './consumer-metrics';
import { closeTasks, commitTransaction, deadLetterMessage, openTask, transactionFailure, isFenced, TaskMigratedError, type PartitionTask, type TaskContext } from './partition-task';
import { partitionFor, repartitionBatch, watermark } from './repartitioner';
import { SerialQueue } from './serial-queue';

export interface Topology {
  rawPartitions: number;
  repartitionPartitions: number;
}

interface SourceTask extends PartitionTask {
  streamTime: number;
  /** Stream time last broadcast since this task opened; undefined forces a first broadcast. */
  broadcast: number | undefined;
  lastActivity: number;
  idleSent: boolean;
}

export class RepartitionStage {
  private consumer: Consumer | undefined;
  private readonly tasks = new Map<number, SourceTask>();
  private assigned: number[] = [];
  private generation = 0;
  private openedGeneration = -1;
  private readonly serial = new SerialQueue();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: TaskContext, private readonly config: ConsumerConfig, private readonly topology: Topology) {}

  async start(onCrash: (error: Error) => void): Promise<void> {
    const consumer = this.ctx.kafka.consumer({
      groupId: this.config.groupId,
      sessionTimeout: this.config.sessionTimeoutMs,
      heartbeatInterval: Math.floor(this.config.sessionTimeoutMs / 10),
      maxBytesPerPartition: this.config.maxBytesPerPartition,
      maxWaitTimeInMs: 250,
      readUncommitted: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = payload.memberAssignment[this.config.topics.raw] ?? [];
      this.generation += 1;
      this.ctx.logger.info({ stage: 'repartition', partitions: this.assigned }, 'partitions assigned');
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) onCrash(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.config.topics.raw, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.serial.run(() => this.onBatch(payload)) });
    if (this.config.idleTimeoutMs > 0) {
      const every = Math.max(100, Math.floor(this.config.idleTimeoutMs / 4));
      this.idleTimer = setInterval(() => {
        this.serial.run(() => this.markIdle()).catch((error: unknown) => this.ctx.logger.warn({ err: error }, 'idle check failed'));
      }, every);
    }
  }

  /** Stops fetching; kafkajs lets the in-flight batch (and so its transaction) finish first. */
  async stop(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.consumer?.disconnect();
    await this.serial.run(() => closeTasks(this.tasks, this.ctx.logger));
  }

  /** After every rebalance all tasks reopen: fencing first, then the committed offset and stream time. */
  private async syncTasks(): Promise<void> {
    if (this.openedGeneration === this.generation) return;
    await closeTasks(this.tasks, this.ctx.logger);
    const generation = this.generation;
    this.ctx.metrics.keepLag(this.config.topics.raw, this.assigned);
    const opened = await Promise.all(this.assigned.map((p) => openTask(this.ctx, this.config.topics.raw, p)));
    for (const task of opened) {
      const streamTime = parseStreamTime(task.committedMetadata);
      this.tasks.set(task.partition, { ...task, streamTime, broadcast: undefined, lastActivity: Date.now(), idleSent: false });
    }
    this.openedGeneration = generation;
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (payload.isStale()) return;
    await this.syncTasks();
    const task = this.tasks.get(batch.partition);
    if (!task) throw new TaskMigratedError(batch.topic, batch.partition, 'fetched without a task');
    const log = this.ctx.logger.child({ topic: batch.topic, partition: batch.partition });
    const messages = batch.messages.filter((m) => BigInt(m.offset) >= task.committedOffset);
    this.ctx.metrics.setLag(batch.topic, batch.partition, Math.max(0, Number(batch.highWatermark) - Number(batch.lastOffset()) - 1));
    if (messages.length === 0) return;
    const timer = this.ctx.metrics.processingDuration.startTimer({ stage: 'repartition' });
    this.ctx.metrics.eventsConsumed.inc(messages.length);
    const out = repartitionBatch(batch.partition, task.streamTime, messages, this.config.groupBy);
    const repartitioned: Message[] = out.records.map((r) => ({ key: r.key, value: JSON.stringify(r), partition: partitionFor(r.key, this.topology.repartitionPartitions) }));
    const advanced = task.broadcast === undefined || out.streamTime > task.broadcast;
    if (advanced) repartitioned.push(...this.watermarks(batch.partition, out.streamTime, false));
    const origin = (offset: string) => ({ topic: batch.topic, partition: batch.partition, offset });
    const deadLetters = out.rejected.map((r) => deadLetterMessage(r.message, origin(r.message.offset), r.reason));
    const last = BigInt(messages[messages.length - 1]!.offset);
    try {
      await commitTransaction(this.ctx, task, {
        topicMessages: [{ topic: this.config.topics.repartition, messages: repartitioned }, { topic: this.config.topics.deadLetter, messages: deadLetters }],
        nextOffset: { offset: last + 1n, metadata: JSON.stringify({ streamTime: out.streamTime }) },
      });
    } catch (error) {
      this.dropTasks();
      throw transactionFailure(task, error);
    }
    timer();
    task.streamTime = out.streamTime;
    if (advanced) task.broadcast = out.streamTime;
    task.lastActivity = Date.now();
    task.idleSent = false;
    for (const r of out.rejected) {
      this.ctx.metrics.deadLetters.inc({ reason: reasonClass(r.reason) });
      log.warn({ offset: r.message.offset, reason: r.reason }, 'invalid event dead-lettered');
    }
    await payload.heartbeat();
  }

  private watermarks(source: number, streamTime: number, idle: boolean): Message[] {
    const value = JSON.stringify(watermark(source, this.topology.rawPartitions, streamTime, idle));
    return Array.from({ length: this.topology.repartitionPartitions }, (_, q) => ({ key: `watermark:${source}`, value, partition: q }));
  }

  /**
   * The idle rule: a raw partition with no records for the idle timeout, and nothing left to read,
   * tells every window task to stop waiting for it, until its next record.
   */
  private async markIdle(): Promise<void> {
    if (this.assigned.length === 0) return;
    await this.syncTasks();
    const now = Date.now();
    const candidates = [...this.tasks.values()].filter((t) => !t.idleSent && now - t.lastActivity >= this.config.idleTimeoutMs);
    if (candidates.length === 0) return;
    const ends = new Map((await this.ctx.admin.fetchTopicOffsets(this.config.topics.raw)).map((o) => [o.partition, BigInt(o.high)]));
    for (const task of candidates) {
      if (task.committedOffset < (ends.get(task.partition) ?? 0n)) continue;
      try {
        await commitTransaction(this.ctx, task, { topicMessages: [{ topic: this.config.topics.repartition, messages: this.watermarks(task.partition, task.streamTime, true) }] });
      } catch (error) {
        // Fenced: forget the task, so its partition's next batch makes this instance rejoin.
        if (isFenced(error)) this.tasks.delete(task.partition);
        else this.dropTasks();
        await task.producer.disconnect().catch(() => undefined);
        throw error;
      }
      task.idleSent = true;
      this.ctx.logger.info({ topic: task.topic, partition: task.partition, streamTime: task.streamTime }, 'raw partition idle: windows no longer wait for it');
    }
  }

  /** After a failed transaction the tasks' state may be ahead of what was committed: reopen everything. */
  private dropTasks(): void {
    this.openedGeneration = -1;
  }
}

function parseStreamTime(metadata: string | null): number {
  if (!metadata) return -1;
  try {
    const value = (JSON.parse(metadata) as { streamTime?: unknown }).streamTime;
    return typeof value === 'number' && Number.isSafeInteger(value) ? value : -1;
  } catch {
    return -1;
  }
}
