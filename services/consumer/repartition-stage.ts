// Stage 1: reads the raw topic, dead-letters what fails validation, and writes every valid event
// to the repartition topic once per group key, stamped with its raw partition's stream time; then
// broadcasts that stream time as a watermark to every repartition partition. One transaction per
// fetched batch carries all of it plus the consumed offset, with the stream time stored as the
// offset's metadata, so stage 1's only state commits atomically with its position.
import type { Batch, Consumer, EachBatchPayload, Message } from 'kafkajs';
import { isEndOfInput } from '../core/end-of-input';
import type { ConsumerConfig } from './config';
import { reasonClass } from './consumer-metrics';
import { commitTransaction, deadLetterMessage, openTask, unprocessed, type PartitionTask, type TaskContext } from './partition-task';
import { packEvents, repartitionBatch, watermark } from './repartitioner';
import { createStageConsumer, runStageConsumer } from './stage-consumer';
import { TaskSet } from './task-set';

export interface Topology {
  rawPartitions: number;
  repartitionPartitions: number;
}

interface SourceTask extends PartitionTask {
  streamTime: number;
  /** The partition's input has ended (see repartitioner.ts); committed with the stream time. */
  ended: boolean;
  /** Stream time last broadcast since this task opened; undefined forces a first broadcast. */
  broadcast: number | undefined;
  lastActivity: number;
  idleSent: boolean;
  /**
   * Offset after the last record fetched, control records included. A transactional producer
   * leaves a commit marker after its records, which no batch delivers: the idle rule compares this,
   * not the committed offset, with the partition's end.
   */
  fetchedThrough: bigint;
}

export class RepartitionStage {
  private consumer: Consumer | undefined;
  private readonly tasks: TaskSet<SourceTask>;
  private idleTimer: NodeJS.Timeout | undefined;
  private markingIdle = false;

  constructor(private readonly ctx: TaskContext, private readonly config: ConsumerConfig, private readonly topology: Topology) {
    this.tasks = new TaskSet(config.topics.raw, (partitions) => this.openTasks(partitions), ctx.logger);
  }

  async start(onCrash: (error: Error) => void): Promise<void> {
    this.consumer = createStageConsumer(this.ctx, this.config, {
      stage: 'repartition', groupId: this.config.groupId, topic: this.config.topics.raw, tasks: this.tasks, onCrash,
    });
    // Fired for batches of nothing but control records too, which eachBatch never sees.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const task = this.tasks.current.find((t) => t.partition === payload.partition);
      const next = BigInt(payload.lastOffset) + 1n;
      if (payload.topic === this.config.topics.raw && task && next > task.fetchedThrough) task.fetchedThrough = next;
    });
    await runStageConsumer(this.consumer, this.config, this.config.topics.raw, (payload) => this.onBatch(payload));
    if (this.config.idleTimeoutMs > 0) {
      const every = Math.max(100, Math.floor(this.config.idleTimeoutMs / 4));
      this.idleTimer = setInterval(() => {
        this.markIdle().catch((error: unknown) => this.ctx.logger.warn({ err: error }, 'idle check failed'));
      }, every);
    }
  }

  /** Stops fetching; kafkajs lets in-flight batches (and so their transactions) finish first. */
  async stop(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.consumer?.disconnect();
    await this.tasks.close();
  }

  /** Fencing first (openTask), then the committed offset and the stream time stored beside it. */
  private async openTasks(partitions: number[]): Promise<SourceTask[]> {
    const opened = await Promise.all(partitions.map((p) => openTask(this.ctx, this.config.topics.raw, p)));
    return opened.map((task) => ({ ...task, ...parseSourceState(task.committedMetadata), broadcast: undefined, lastActivity: Date.now(), idleSent: false, fetchedThrough: task.committedOffset }));
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    if (payload.isStale()) return;
    await this.tasks.run(payload.batch.partition, (task) => this.process(task, payload.batch));
    await payload.heartbeat();
  }

  private async process(task: SourceTask, batch: Batch): Promise<void> {
    const messages = unprocessed(batch.messages, task.committedOffset);
    this.ctx.metrics.setLag(batch.topic, batch.partition, Math.max(0, Number(batch.highWatermark) - Number(batch.lastOffset()) - 1));
    if (messages.length === 0) return;
    const timer = this.ctx.metrics.processingDuration.startTimer({ stage: 'repartition' });
    this.ctx.metrics.eventsConsumed.inc(messages.filter((m) => !isEndOfInput(m.headers)).length);
    const out = repartitionBatch(batch.partition, task.streamTime, messages, this.config.groupBy, task.ended);
    const repartitioned: Message[] = packEvents(batch.partition, out.records, this.topology.repartitionPartitions);
    const advanced = task.broadcast === undefined || out.streamTime > task.broadcast || out.ended !== task.ended;
    if (advanced) repartitioned.push(...this.watermarks(batch.partition, out.streamTime, false, out.ended));
    const origin = (offset: string) => ({ topic: batch.topic, partition: batch.partition, offset });
    const deadLetters = out.rejected.map((r) => deadLetterMessage(r.message, origin(r.message.offset), r.reason));
    await commitTransaction(this.ctx, task, {
      topicMessages: [{ topic: this.config.topics.repartition, messages: repartitioned }, { topic: this.config.topics.deadLetter, messages: deadLetters }],
      firstOffset: messages[0]!.offset,
      // Past the batch's trailing control records too (the raw producer's commit markers), as the Java consumer's position is.
      nextOffset: { offset: BigInt(batch.lastOffset()) + 1n, metadata: JSON.stringify({ streamTime: out.streamTime, ...(out.ended ? { ended: true } : {}) }) },
    });
    timer();
    task.streamTime = out.streamTime;
    if (out.ended && !task.ended) this.ctx.logger.info({ topic: batch.topic, partition: batch.partition, streamTime: out.streamTime }, 'raw partition reached the end of its input');
    task.ended = out.ended;
    if (advanced) task.broadcast = out.streamTime;
    task.lastActivity = Date.now();
    task.idleSent = false;
    const log = this.ctx.logger.child({ topic: batch.topic, partition: batch.partition });
    for (const r of out.rejected) {
      this.ctx.metrics.deadLetters.inc({ reason: reasonClass(r.reason) });
      log.warn({ offset: r.message.offset, reason: r.reason }, 'invalid event dead-lettered');
    }
  }

  private watermarks(source: number, streamTime: number, idle: boolean, ended: boolean): Message[] {
    const value = JSON.stringify(watermark(source, this.topology.rawPartitions, streamTime, idle, ended));
    return Array.from({ length: this.topology.repartitionPartitions }, (_, q) => ({ key: `watermark:${source}`, value, partition: q }));
  }

  /**
   * The idle rule: a raw partition with no records for the idle timeout, and nothing left to read,
   * tells every window task to stop waiting for it, until its next record.
   */
  private async markIdle(): Promise<void> {
    if (this.markingIdle) return;
    this.markingIdle = true;
    try {
      const quiet = (task: SourceTask) => !task.idleSent && Date.now() - task.lastActivity >= this.config.idleTimeoutMs;
      if (!this.tasks.current.some(quiet)) return;
      const ends = new Map((await this.ctx.admin.fetchTopicOffsets(this.config.topics.raw)).map((o) => [o.partition, BigInt(o.high)]));
      for (const partition of this.tasks.current.filter(quiet).map((t) => t.partition)) {
        await this.tasks.run(partition, async (task) => {
          // Checked again under the partition's lock: a batch may have arrived meanwhile.
          const position = task.fetchedThrough > task.committedOffset ? task.fetchedThrough : task.committedOffset;
          if (!quiet(task) || position < (ends.get(partition) ?? 0n)) return;
          await commitTransaction(this.ctx, task, { topicMessages: [{ topic: this.config.topics.repartition, messages: this.watermarks(partition, task.streamTime, true, task.ended) }] });
          task.idleSent = true;
          this.ctx.logger.info({ topic: task.topic, partition, streamTime: task.streamTime }, 'raw partition idle: windows no longer wait for it');
        }, { openIfMissing: false });
      }
    } finally {
      this.markingIdle = false;
    }
  }
}

function parseSourceState(metadata: string | null): { streamTime: number; ended: boolean } {
  if (!metadata) return { streamTime: -1, ended: false };
  try {
    const { streamTime, ended } = JSON.parse(metadata) as { streamTime?: unknown; ended?: unknown };
    return { streamTime: typeof streamTime === 'number' && Number.isSafeInteger(streamTime) ? streamTime : -1, ended: ended === true };
  } catch {
    return { streamTime: -1, ended: false };
  }
}
