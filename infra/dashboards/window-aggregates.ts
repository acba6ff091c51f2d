// What the windows say: how many are open and emitted, and revenue and events by category from
// the final tumbling windows the consumer emitted.
import { metricNames } from '../../services/core/metric-names';
import type { Dashboard } from './model';
import { barGauge, dashboard, timeseries, type Section } from './panels';
import { sumGauge, sumIncrease, sumRate, topk } from './promql';

const c = metricNames.consumer;

const windows: Section = {
  title: 'Windows',
  panels: [
    timeseries({ title: 'Open windows', description: 'Windows holding state, waiting for stream time to pass their end + grace.', unit: 'short', queries: [{ expr: sumGauge(c.openWindows, ['window']), legend: '{{window}}' }] }),
    timeseries({ title: 'Windows emitted', description: 'Window results written to the processed topic per second.', unit: 'ops', queries: [{ expr: sumRate(c.windowsEmitted, ['window']), legend: '{{window}}' }] }),
  ],
};

const byCategory: Section = {
  title: 'Revenue and events by category (final tumbling windows)',
  panels: [
    timeseries({ title: 'Revenue by category', description: 'Purchase revenue per second of event time, from emitted windows.', unit: 'currencyUSD', queries: [{ expr: sumRate(c.windowRevenue, ['category']), legend: '{{category}}' }] }),
    barGauge({ title: 'Top categories by revenue', description: 'Revenue in windows emitted during the selected time range.', unit: 'currencyUSD', queries: [{ expr: topk(10, sumIncrease(c.windowRevenue, ['category'])), legend: '{{category}}' }] }),
    timeseries({ title: 'Events by type', description: 'View, cart, remove-from-cart and purchase events per second, from emitted windows.', unit: 'ops', queries: [{ expr: sumRate(c.windowEvents, ['event_type']), legend: '{{event_type}}' }] }),
    barGauge({ title: 'Top categories by events', description: 'Events in windows emitted during the selected time range.', unit: 'short', queries: [{ expr: topk(10, sumIncrease(c.windowEvents, ['category'])), legend: '{{category}}' }] }),
  ],
};

export const windowAggregates: Dashboard = dashboard({
  uid: 'ecommerce-windows',
  title: 'E-commerce pipeline: windows',
  description: 'Window state and the aggregates the consumer emits: revenue and events by category and event type.',
  tags: ['ecommerce', 'kafka', 'windows'],
  sections: [windows, byCategory],
});
