// The consumer's Prometheus metrics, under the names the dashboards query (core/metric-names.ts).
// Labels stay bounded: window kind, a reason class, topic/partition, top-level category.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { metricNames } from '../core/metric-names';
import type { WindowResult } from './window-aggregate';

const names = metricNames.consumer;

export class ConsumerMetrics {
  readonly eventsConsumed: Counter;
  readonly windowsEmitted: Counter<'window'>;
  readonly lateEvents: Counter<'window'>;
  readonly deadLetters: Counter<'reason'>;
  readonly openWindows: Gauge<'window'>;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly processingDuration: Histogram<'stage'>;
  readonly transactions: Counter<'result'>;
  readonly windowRevenue: Counter<'category'>;
  readonly windowEvents: Counter<'category' | 'event_type'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.eventsConsumed = new Counter({ name: names.eventsConsumed, help: 'Raw-topic messages read (valid or not)', registers });
    this.windowsEmitted = new Counter({ name: names.windowsEmitted, help: 'Final window results committed', labelNames: ['window'], registers });
    this.lateEvents = new Counter({ name: names.lateEvents, help: 'Records that arrived after their window closed, routed to the late topic', labelNames: ['window'], registers });
    this.deadLetters = new Counter({ name: names.deadLetters, help: 'Messages sent to the dead-letter topic', labelNames: ['reason'], registers });
    this.openWindows = new Gauge({ name: names.openWindows, help: 'Windows open in this instance', labelNames: ['window'], registers });
    this.lag = new Gauge({ name: names.lag, help: 'Messages behind the end of each consumed partition', labelNames: ['topic', 'partition'], registers });
    this.processingDuration = new Histogram({
      name: names.processingDuration,
      help: 'Time to process and commit one fetched batch, seconds',
      labelNames: ['stage'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.transactions = new Counter({ name: names.transactions, help: 'Kafka transactions by outcome', labelNames: ['result'], registers });
    this.windowRevenue = new Counter({ name: names.windowRevenue, help: 'Revenue in emitted tumbling windows by top-level category', labelNames: ['category'], registers });
    this.windowEvents = new Counter({ name: names.windowEvents, help: 'Events in emitted tumbling windows by top-level category', labelNames: ['category', 'event_type'], registers });
  }

  private readonly lagPartitions = new Map<string, Set<number>>();

  setLag(topic: string, partition: number, lag: number): void {
    this.lag.set({ topic, partition: String(partition) }, lag);
    const partitions = this.lagPartitions.get(topic) ?? new Set();
    partitions.add(partition);
    this.lagPartitions.set(topic, partitions);
  }

  /** After a rebalance: another instance reports the partitions this one lost. */
  keepLag(topic: string, assigned: readonly number[]): void {
    const partitions = this.lagPartitions.get(topic);
    if (!partitions) return;
    for (const partition of [...partitions]) {
      if (assigned.includes(partition)) continue;
      this.lag.remove({ topic, partition: String(partition) });
      partitions.delete(partition);
    }
  }

  /** Counts a committed result; category totals come from tumbling windows only, so no event is counted twice. */
  emitted(result: WindowResult): void {
    this.windowsEmitted.inc({ window: result.windowKind });
    if (result.windowKind !== 'tumbling' || !result.key.startsWith('category:')) return;
    const category = result.key.slice('category:'.length);
    this.windowRevenue.inc({ category }, result.revenue);
    for (const [eventType, count] of Object.entries(result.eventsByType)) {
      if (count > 0) this.windowEvents.inc({ category, event_type: eventType }, count);
    }
  }
}

/** A bounded label for a rejection reason: the field it names, or its class. */
export function reasonClass(reason: string): string {
  if (reason.startsWith('not JSON') || reason.includes('is not JSON')) return 'not_json';
  if (reason.startsWith('empty')) return 'empty';
  const field = /\b(schemaVersion|eventId|eventTime|eventType|productId|price|quantity|categoryId|categoryCode|brand|userId|sessionId|country|source|watermark|streamTime|key)\b/.exec(reason);
  return field ? field[1]! : 'invalid';
}
