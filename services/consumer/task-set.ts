// The tasks of one stage: which partitions this instance owns (per group generation), their
// transactional producers, and the order of work on them. Work on one partition runs one job at a
// time (a producer has one transaction at a time); different partitions run concurrently.
import type { Logger } from 'pino';
import { closeTasks, isFenced, TaskMigratedError, transactionFailure, type PartitionTask } from './partition-task';
import { SerialQueue } from './serial-queue';

export class TaskSet<T extends PartitionTask> {
  private readonly tasks = new Map<number, T>();
  private assigned: number[] = [];
  private generation = 0;
  private openedGeneration = -1;
  /** A fenced task means this instance missed a rebalance: nothing reopens until it has rejoined. */
  private fencedGeneration = -1;
  private readonly syncQueue = new SerialQueue();
  private readonly queues = new Map<number, SerialQueue>();

  /** `open` fences and loads tasks for partitions: all of them after a rebalance, one after a failure. */
  constructor(
    private readonly topic: string,
    private readonly open: (partitions: number[]) => Promise<T[]>,
    private readonly logger: Logger,
  ) {}

  /** Called on every group join with this instance's partitions of the topic. */
  assign(partitions: number[]): void {
    this.assigned = partitions;
    this.generation += 1;
  }

  get partitions(): readonly number[] {
    return this.assigned;
  }

  /** The tasks open now. */
  get current(): T[] {
    return [...this.tasks.values()];
  }

  /**
   * Runs a job on a partition's task, after every other job on that partition. On failure the
   * task is dropped (its in-memory state may be ahead of what was committed) and reopened from
   * the committed state by the next job; a fenced task turns into a rejoin instead.
   */
  async run<R>(partition: number, job: (task: T) => Promise<R>, options: { openIfMissing: boolean } = { openIfMissing: true }): Promise<R | undefined> {
    return this.queueFor(partition).run(async () => {
      if (this.fencedGeneration === this.generation) throw new TaskMigratedError(this.topic, partition, 'fenced in this generation');
      await this.syncQueue.run(() => this.sync());
      let task = this.tasks.get(partition);
      if (!task) {
        if (!options.openIfMissing) return undefined;
        if (!this.assigned.includes(partition)) throw new TaskMigratedError(this.topic, partition, 'not assigned to this instance');
        const [opened] = await this.open([partition]);
        task = opened!;
        this.tasks.set(partition, task);
      }
      try {
        return await job(task);
      } catch (error) {
        this.tasks.delete(partition);
        await task.producer.disconnect().catch(() => undefined);
        if (isFenced(error)) this.fencedGeneration = this.generation;
        throw transactionFailure(task, error);
      }
    });
  }

  /** Closes every producer once in-flight jobs are done (after the consumer stopped). */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.run(async () => undefined)));
    await this.syncQueue.run(() => closeTasks(this.tasks, this.logger));
  }

  private async sync(): Promise<void> {
    if (this.openedGeneration === this.generation) return;
    const generation = this.generation;
    await closeTasks(this.tasks, this.logger);
    for (const task of await this.open(this.assigned)) this.tasks.set(task.partition, task);
    this.openedGeneration = generation;
  }

  private queueFor(partition: number): SerialQueue {
    let queue = this.queues.get(partition);
    if (!queue) this.queues.set(partition, (queue = new SerialQueue()));
    return queue;
  }
}
