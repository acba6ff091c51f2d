// The pipeline at a glance: is data flowing from CSV to windows, how fast, how far behind, and
// what is being rejected, dead-lettered or late.
import { metricNames } from '../../services/core/metric-names';
import type { Dashboard } from './model';
import { dashboard, stat, timeseries, type Section } from './panels';
import { quantile, sumGauge, sumIncrease, sumRate } from './promql';

const { producer: p, consumer: c } = metricNames;

const atAGlance: Section = {
  title: 'At a glance (selected time range)',
  panels: [
    stat({ title: 'CSV rows read', description: 'Rows the producer read from the CSV.', unit: 'short', queries: [{ expr: sumIncrease(p.rowsRead), legend: 'rows read' }] }),
    stat({ title: 'Events consumed', description: 'Events the consumer read from the raw topic.', unit: 'short', queries: [{ expr: sumIncrease(c.eventsConsumed), legend: 'events' }] }),
    stat({
      title: 'Dead-lettered',
      description: 'Records sent to the dead-letter topic: CSV rows the producer rejected and messages the consumer could not use.',
      unit: 'short',
      queries: [
        { expr: sumIncrease(p.rowsRejected), legend: 'producer' },
        { expr: sumIncrease(c.deadLetters), legend: 'consumer' },
      ],
    }),
    stat({ title: 'Total consumer lag', description: 'Records not yet processed by either consumer stage (raw and repartition topics), over all partitions.', unit: 'short', queries: [{ expr: sumGauge(c.lag), legend: 'lag' }] }),
  ],
};

const producer: Section = {
  title: 'Producer',
  panels: [
    timeseries({
      title: 'Producer throughput',
      description: 'CSV rows read, sent to the raw topic, and rejected (by reason) per second. read = sent + rejected once the producer has drained.',
      unit: 'ops',
      queries: [
        { expr: sumRate(p.rowsRead), legend: 'read' },
        { expr: sumRate(p.rowsSent), legend: 'sent' },
        { expr: sumRate(p.rowsRejected, ['reason']), legend: 'rejected: {{reason}}' },
      ],
    }),
    timeseries({
      title: 'Producer send latency',
      description: 'Time from handing a batch to Kafka until it is acknowledged by all in-sync replicas.',
      unit: 's',
      queries: [
        { expr: quantile(0.5, p.sendDuration), legend: 'p50' },
        { expr: quantile(0.95, p.sendDuration), legend: 'p95' },
      ],
    }),
    timeseries({ title: 'CSV input rate', description: 'Bytes per second read from the input file (compressed bytes for a gzip file).', unit: 'Bps', queries: [{ expr: sumRate(p.bytesRead), legend: 'bytes read' }] }),
    timeseries({ title: 'In-flight batches', description: 'Batches sent and not yet acknowledged: the producer\'s back-pressure.', unit: 'short', queries: [{ expr: sumGauge(p.inflightBatches), legend: 'in flight' }] }),
  ],
};

const consumer: Section = {
  title: 'Consumer',
  panels: [
    timeseries({ title: 'Events consumed', description: 'Events read from the raw topic per second, all replicas.', unit: 'ops', queries: [{ expr: sumRate(c.eventsConsumed), legend: 'consumed' }] }),
    timeseries({
      title: 'Consumer lag',
      description: 'Records behind the end of each partition the consumer group owns: the raw topic (stage 1) and the repartition topic (stage 2).',
      unit: 'short',
      queries: [{ expr: sumGauge(c.lag, ['topic', 'partition']), legend: '{{topic}} / {{partition}}' }],
    }),
    timeseries({
      title: 'Processing latency',
      description: 'Time to process one fetched batch, including its transaction commit, per stage (repartition, windows).',
      unit: 's',
      queries: [
        { expr: quantile(0.5, c.processingDuration, ['stage']), legend: 'p50 {{stage}}' },
        { expr: quantile(0.95, c.processingDuration, ['stage']), legend: 'p95 {{stage}}' },
      ],
    }),
    timeseries({
      title: 'Transactions',
      description: 'Read-process-write transactions per second by outcome; aborts are retried, so a steady abort rate means something keeps failing.',
      unit: 'ops',
      queries: [{ expr: sumRate(c.transactions, ['result']), legend: '{{result}}' }],
    }),
  ],
};

const badRecords: Section = {
  title: 'Dead letters and late events',
  panels: [
    timeseries({
      title: 'Dead-letter rate',
      description: 'Records per second sent to the dead-letter topic, by who sent them and why.',
      unit: 'ops',
      queries: [
        { expr: sumRate(p.rowsRejected, ['reason']), legend: 'producer: {{reason}}' },
        { expr: sumRate(c.deadLetters, ['reason']), legend: 'consumer: {{reason}}' },
      ],
    }),
    timeseries({
      title: 'Late events',
      description: 'Events per second that arrived after their window closed (stream time past end + grace), routed to the late-events topic.',
      unit: 'ops',
      queries: [{ expr: sumRate(c.lateEvents, ['window']), legend: '{{window}}' }],
    }),
  ],
};

export const pipelineOverview: Dashboard = dashboard({
  uid: 'ecommerce-pipeline',
  title: 'E-commerce pipeline: overview',
  description: 'Producer and consumer throughput, latency, lag, transactions, dead letters and late events.',
  tags: ['ecommerce', 'kafka', 'pipeline'],
  sections: [atAGlance, producer, consumer, badRecords],
});
