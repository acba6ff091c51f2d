// Stage 2: one window task per repartition partition. Each fetched batch runs through the task's
// window engine; the final results, late records, dead letters, the engine's changelog entries
// and the consumed offset commit in one transaction. State is restored from the changelog
// whenever partitions are (re)assigned, after fencing their previous owner.
import type { Batch, Consumer, EachBatchPayload, Message } from 'kafkajs';
import { readCompactedTopic } from '../core/compacted-topic';
import type { ConsumerConfig } from './config';
import { reasonClass } from './consumer-metrics';
import { commitTransaction, deadLetterMessage, openTask, unprocessed, type PartitionTask, type TaskContext } from './partition-task';
import { parseRepartitionRecord, unpack } from './repartition-records';
import { createStageConsumer, runStageConsumer } from './stage-consumer';
import { TaskSet } from './task-set';
import type { WindowResult } from './window-aggregate';
import { WindowEngine, type Emission, type EngineSpec, type LateRecord } from './window-engine';
import { windowKinds } from './windows';

interface WindowTask extends PartitionTask {
  engine: WindowEngine;
}

export function engineSpec(config: ConsumerConfig): EngineSpec {
  return {
    windows: [
      { kind: 'tumbling', sizeMs: config.tumblingSizeMs, advanceMs: config.tumblingSizeMs },
      { kind: 'sliding', sizeMs: config.slidingSizeMs, advanceMs: config.slidingAdvanceMs },
    ],
    graceMs: config.graceMs,
    topN: config.topN,
  };
}

/** Stage 2's group: separate from stage 1's, since the two subscribe to different topics. */
export const windowGroupId = (groupId: string): string => `${groupId}-windows`;

export class WindowStage {
  private consumer: Consumer | undefined;
  private readonly tasks: TaskSet<WindowTask>;
  private readonly spec: EngineSpec;
  private readonly groupId: string;

  constructor(private readonly ctx: TaskContext, private readonly config: ConsumerConfig) {
    this.spec = engineSpec(config);
    this.groupId = windowGroupId(config.groupId);
    this.tasks = new TaskSet(config.topics.repartition, (partitions) => this.openTasks(partitions), ctx.logger);
  }

  async start(onCrash: (error: Error) => void): Promise<void> {
    this.consumer = createStageConsumer(this.ctx, this.config, {
      stage: 'windows', groupId: this.groupId, topic: this.config.topics.repartition, tasks: this.tasks, onCrash,
    });
    await runStageConsumer(this.consumer, this.config, this.config.topics.repartition, (payload) => this.onBatch(payload));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.tasks.close();
  }

  /** Fencing first (openTask), then the committed offsets, then the state from the changelog. */
  private async openTasks(partitions: number[]): Promise<WindowTask[]> {
    const ctx = { ...this.ctx, groupId: this.groupId };
    const opened = await Promise.all(partitions.map((p) => openTask(ctx, this.config.topics.repartition, p)));
    const state = await readCompactedTopic(this.ctx.kafka, this.ctx.admin, this.ctx.logger, { topic: this.config.topics.changelog, partitions, groupIdPrefix: this.config.groupId, doneMessage: 'window state restored' });
    const tasks = opened.map((task) => ({ ...task, engine: WindowEngine.restore(this.spec, state.get(task.partition) ?? new Map<string, string>()) }));
    setImmediate(() => this.updateOpenWindows());
    return tasks;
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    if (payload.isStale()) return;
    await this.tasks.run(payload.batch.partition, (task) => this.process(task, payload.batch));
    await payload.heartbeat();
  }

  private async process(task: WindowTask, batch: Batch): Promise<void> {
    const messages = unprocessed(batch.messages, task.committedOffset);
    this.ctx.metrics.setLag(batch.topic, batch.partition, Math.max(0, Number(batch.highWatermark) - Number(batch.lastOffset()) - 1));
    if (messages.length === 0) return;
    const timer = this.ctx.metrics.processingDuration.startTimer({ stage: 'windows' });
    const results: Message[] = [];
    const emitted: WindowResult[] = [];
    const late: LateRecord[] = [];
    const deadLetters: { message: Message; reason: string }[] = [];
    for (const message of messages) {
      const check = parseRepartitionRecord(message.value);
      if (!check.ok) {
        deadLetters.push({ message: deadLetterMessage(message, { topic: batch.topic, partition: batch.partition, offset: message.offset }, check.reason), reason: check.reason });
        continue;
      }
      const record = check.record;
      const apply = (emission: Emission): void => {
        for (const r of emission.results) {
          results.push({ key: r.key, value: JSON.stringify(r.result) });
          emitted.push(r.result);
        }
        for (const l of emission.late) late.push(l);
      };
      if (record.type === 'events') for (const event of unpack(record)) apply(task.engine.onEvent(event));
      else apply(record.type === 'event' ? task.engine.onEvent(record) : task.engine.onWatermark(record));
    }
    const changelog = task.engine.changes().map((c) => ({ key: c.key, value: c.value, partition: task.partition }));
    await commitTransaction({ ...this.ctx, groupId: this.groupId }, task, {
      topicMessages: [
        { topic: this.config.topics.processed, messages: results },
        { topic: this.config.topics.late, messages: late.map(lateMessage) },
        { topic: this.config.topics.deadLetter, messages: deadLetters.map((d) => d.message) },
        { topic: this.config.topics.changelog, messages: changelog },
      ],
      firstOffset: messages[0]!.offset,
      nextOffset: { offset: BigInt(messages[messages.length - 1]!.offset) + 1n },
    });
    timer();
    this.recordMetrics(emitted, late, deadLetters.map((d) => d.reason));
    const log = this.ctx.logger.child({ topic: batch.topic, partition: batch.partition });
    for (const d of deadLetters) log.warn({ offset: d.message.headers?.['source.offset'], reason: d.reason }, 'invalid repartition record dead-lettered');
    if (emitted.length > 0) log.debug({ windows: emitted.length, late: late.length }, 'window results committed');
  }

  private recordMetrics(emitted: WindowResult[], late: LateRecord[], reasons: string[]): void {
    for (const result of emitted) this.ctx.metrics.emitted(result);
    for (const l of late) this.ctx.metrics.lateEvents.inc({ window: l.kind });
    for (const reason of reasons) this.ctx.metrics.deadLetters.inc({ reason: reasonClass(reason) });
    this.updateOpenWindows();
  }

  private updateOpenWindows(): void {
    for (const kind of windowKinds) {
      let open = 0;
      for (const task of this.tasks.current) open += task.engine.openWindows(kind);
      this.ctx.metrics.openWindows.set({ window: kind }, open);
    }
  }
}

/** A late record, keyed so that each (window kind, group key, event) appears once. */
function lateMessage(late: LateRecord): Message {
  return {
    key: `${late.kind}|${late.key}|${late.event.eventId}`,
    value: JSON.stringify({
      reason: 'late',
      windowKind: late.kind,
      key: late.key,
      streamTime: late.streamTime,
      missedWindows: late.missedWindows.map((w) => ({ startMs: w.start, endMs: w.end, start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() })),
      event: late.event,
    }),
    headers: { reason: 'late', 'window.kind': late.kind },
  };
}
