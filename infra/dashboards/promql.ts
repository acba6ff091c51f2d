// PromQL built from the names in services/core/metric-names.ts only, grouped only by labels whose
// values are bounded, so no dashboard can query a metric the services do not export or explode
// into one series per user or window.
import { metricNames } from '../../services/core/metric-names';

type ValueOf<T> = T[keyof T];
export type MetricName = ValueOf<typeof metricNames.producer> | ValueOf<typeof metricNames.consumer>;
export type HistogramName = typeof metricNames.producer.sendDuration | typeof metricNames.consumer.processingDuration;

/** Labels with a bounded set of values; `le` only appears inside histogram_quantile. */
export const boundedLabels = ['reason', 'window', 'topic', 'partition', 'result', 'category', 'event_type', 'stage', 'job'] as const;
export type BoundedLabel = (typeof boundedLabels)[number];

/** Grafana widens this to at least four scrape intervals, so rate() always has two samples. */
export const rateRange = '$__rate_interval';
/** The dashboard's whole time range: stats and bar gauges total over it. */
export const dashboardRange = '$__range';

function sumBy(by: readonly string[], inner: string): string {
  return by.length === 0 ? `sum(${inner})` : `sum by (${by.join(', ')}) (${inner})`;
}

/** Per-second rate of a counter, summed over instances (producer, consumer replicas). */
export function sumRate(counter: MetricName, by: readonly BoundedLabel[] = []): string {
  return sumBy(by, `rate(${counter}[${rateRange}])`);
}

/** How much a counter grew over the dashboard's time range. */
export function sumIncrease(counter: MetricName, by: readonly BoundedLabel[] = []): string {
  return sumBy(by, `increase(${counter}[${dashboardRange}])`);
}

export function sumGauge(gauge: MetricName, by: readonly BoundedLabel[] = []): string {
  return sumBy(by, gauge);
}

/** The q-quantile of a histogram over all instances, from its buckets' rates. */
export function quantile(q: number, histogram: HistogramName, by: readonly BoundedLabel[] = []): string {
  return `histogram_quantile(${q}, ${sumBy(['le', ...by], `rate(${histogram}_bucket[${rateRange}])`)})`;
}

export function topk(k: number, expr: string): string {
  return `topk(${k}, ${expr})`;
}
