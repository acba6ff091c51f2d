// The main thread's handle on stage 2 running in a worker thread (window-worker.ts), so that the two
// stages use two cores: stage 1 here, stage 2 there, each with its own Kafka clients and producers,
// exactly as when they shared a thread (they share no state, only Kafka topics). Its metrics join
// the main registry's at every scrape; a crash there is a crash of the consumer.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import type { Logger } from 'pino';

export type ToWorker = { type: 'metrics'; id: number } | { type: 'stop' };
export type FromWorker =
  | { type: 'started' }
  | { type: 'metrics'; id: number; values: MetricObjectWithValues<MetricValue<string>>[]; error?: string }
  | { type: 'crashed'; error: string }
  | { type: 'stopped'; error?: string };

export class WindowThread {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pendingMetrics = new Map<number, (values: MetricObjectWithValues<MetricValue<string>>[]) => void>();
  private stopping: Promise<void> | undefined;
  /** Resolves when the thread has ended, however it ended. */
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly logger: Logger) {}

  /** Starts the worker; resolves once its stage has joined its group, rejects if it fails first. `onCrash` covers everything after. */
  start(onCrash: (error: Error) => void): Promise<void> {
    const file = path.join(__dirname, `window-worker${path.extname(__filename)}`);
    // Run from TypeScript sources (npm run consume, the tests), the worker needs tsx's loader too;
    // the image runs the compiled .js.
    const worker = file.endsWith('.ts')
      ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(file)});`, { eval: true })
      : new Worker(file);
    this.worker = worker;
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      let started = false;
      const fail = (error: Error): void => {
        if (this.stopping) return;
        if (started) onCrash(error);
        else reject(error);
      };
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'started') {
          started = true;
          resolve();
        } else if (message.type === 'metrics') {
          if (message.error) this.logger.warn({ error: message.error }, 'window thread: metrics failed');
          this.pendingMetrics.get(message.id)?.(message.values);
          this.pendingMetrics.delete(message.id);
        } else if (message.type === 'crashed') {
          fail(new Error(`window stage: ${message.error}`));
        } else if (message.type === 'stopped' && message.error) {
          this.logger.error({ error: message.error }, 'window thread: error while stopping');
        }
      });
      worker.on('error', (error) => fail(error));
      worker.on('exit', (code) => {
        for (const answer of this.pendingMetrics.values()) answer([]);
        this.pendingMetrics.clear();
        fail(new Error(`the window stage's thread exited (code ${code})`));
      });
    });
  }

  /** The worker's metrics, as JSON for aggregation; none if it does not answer within a second. */
  metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    const worker = this.worker;
    if (!worker || this.stopping) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingMetrics.delete(id);
        resolve([]);
      }, 1_000);
      this.pendingMetrics.set(id, (values) => {
        clearTimeout(timer);
        resolve(values);
      });
      worker.postMessage({ type: 'metrics', id } satisfies ToWorker);
    });
  }

  /** Stops the stage gracefully (its in-flight transaction finishes) and waits for the thread to end. */
  stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    if (!this.stopping) {
      worker.postMessage({ type: 'stop' } satisfies ToWorker);
      this.stopping = this.exited;
    }
    return this.stopping;
  }
}

/** The main registry and the window thread's metrics as one exposition (counters and gauges summed: each is set in one thread only). */
export function combinedMetrics(registry: Registry, thread: WindowThread): { contentType: string; metrics(): Promise<string> } {
  return {
    contentType: registry.contentType,
    async metrics() {
      const [main, windows] = await Promise.all([registry.getMetricsAsJSON(), thread.metrics()]);
      return AggregatorRegistry.aggregate([main, windows]).metrics();
    },
  };
}
