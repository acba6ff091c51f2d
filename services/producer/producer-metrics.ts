// The producer's Prometheus metrics, under the names the dashboards query (core/metric-names.ts).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { metricNames } from '../core/metric-names';
import { rejectReasons } from './presets';

export interface ProducerMetrics {
  rowsRead: Counter;
  rowsSent: Counter;
  rowsRejected: Counter<'reason'>;
  bytesRead: Counter;
  sendDuration: Histogram;
  inflightBatches: Gauge;
}

export function createProducerMetrics(registry: Registry): ProducerMetrics {
  const names = metricNames.producer;
  const registers = [registry];
  const metrics: ProducerMetrics = {
    rowsRead: new Counter({ name: names.rowsRead, help: 'CSV rows read (after the header)', registers }),
    rowsSent: new Counter({ name: names.rowsSent, help: 'Events acknowledged by Kafka on the raw topic', registers }),
    rowsRejected: new Counter({ name: names.rowsRejected, help: 'Rows sent to the dead-letter topic, by reason', labelNames: ['reason'], registers }),
    bytesRead: new Counter({ name: names.bytesRead, help: 'Bytes read from the input file (compressed bytes for gzip)', registers }),
    sendDuration: new Histogram({
      name: names.sendDuration, help: 'Time from sending a batch to its acknowledgement by every leader (acks=all)', registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
    inflightBatches: new Gauge({ name: names.inflightBatches, help: 'Batches sent and not yet acknowledged', registers }),
  };
  // Zero series for every reason, so dashboards show 0 rather than no data.
  for (const reason of rejectReasons) metrics.rowsRejected.inc({ reason }, 0);
  return metrics;
}
