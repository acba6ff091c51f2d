// The stack's monitoring on a real Prometheus: promtool accepts the rendered scrape config, a
// Prometheus started with it scrapes a producer and a consumer endpoint, and every query of every
// provisioned dashboard returns data (no dead panel). The endpoints serve the services' own metric
// registries, driven here with every label value a working pipeline produces, so the check is fast
// and deterministic (monitoring-pipeline.test.ts runs the services themselves).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'prom-client';
import { renderDashboards } from '../../infra/render/dashboards';
import { renderPrometheusConfig } from '../../infra/render/prometheus-config';
import { ConsumerMetrics } from '../../services/consumer/consumer-metrics';
import { createProducerMetrics } from '../../services/producer/producer-metrics';
import { metricNames } from '../../services/core/metric-names';
import { createRegistry, startMetricsServer, type MetricsServer } from '../../services/core/metrics';
import { deadPanels, dashboardQueries, formatResults, runDashboardQueries, waitForLiveDashboards } from '../support/dashboard-queries';
import { PrometheusServer, promtoolCheckConfig } from '../support/prometheus-server';

/** The producer's real metrics, advanced one batch per call: rows read, most sent, a few rejected. */
function producerStep(registry: Registry): () => void {
  const m = createProducerMetrics(registry);
  let tick = 0;
  return () => {
    tick++;
    m.rowsRead.inc(500);
    m.rowsSent.inc(497);
    m.rowsRejected.inc({ reason: tick % 2 ? 'bad_time' : 'negative_price' }, 3);
    m.bytesRead.inc(500 * 130);
    m.sendDuration.observe(0.004 + (tick % 7) * 0.01);
    m.inflightBatches.set(tick % 4);
  };
}

/** The consumer's real metrics, advanced one transaction per call over the producer's batch. */
function consumerStep(registry: Registry): () => void {
  const m = new ConsumerMetrics(registry);
  let tick = 0;
  return () => {
    tick++;
    m.eventsConsumed.inc(497);
    m.windowsEmitted.inc({ window: 'tumbling' }, 2);
    m.windowsEmitted.inc({ window: 'sliding' }, 6);
    m.lateEvents.inc({ window: tick % 2 ? 'tumbling' : 'sliding' });
    m.deadLetters.inc({ reason: 'not_json' });
    m.openWindows.set({ window: 'tumbling' }, 3);
    m.openWindows.set({ window: 'sliding' }, 12);
    for (const partition of ['0', '1', '2']) m.lag.set({ topic: 'ecommerce_topic', partition }, (tick * 37 + Number(partition) * 11) % 400);
    for (const stage of ['repartition', 'windows']) m.processingDuration.observe({ stage }, 0.02 + (tick % 5) * 0.03);
    m.transactions.inc({ result: tick % 25 === 0 ? 'abort' : 'commit' });
    for (const [category, price] of [['electronics', 240.5], ['appliances', 120], ['computers', 610.99]] as const) {
      m.windowRevenue.inc({ category }, price * 4);
      for (const [eventType, count] of [['view', 40], ['cart', 8], ['purchase', 4]] as const) m.windowEvents.inc({ category, event_type: eventType }, count);
    }
  };
}

describe('rendered scrape config', () => {
  it('is accepted by promtool as the stack renders it', () => {
    const config = renderPrometheusConfig({
      scrapeIntervalSeconds: 15,
      targets: [
        { job: 'producer', targets: ['producer:9464'] },
        { job: 'consumer', targets: ['consumer-0:9464', 'consumer-1:9464'] },
      ],
    });
    const check = promtoolCheckConfig(config);
    assert.ok(check.ok, check.output);
    assert.match(check.output, /SUCCESS/);
  });

  it('is checked for real: promtool refuses the same config with a timeout beyond the interval', () => {
    const config = renderPrometheusConfig({ scrapeIntervalSeconds: 15, targets: [{ job: 'producer', targets: ['producer:9464'] }] });
    const check = promtoolCheckConfig(config.replace('scrape_timeout: "10s"', 'scrape_timeout: "20s"'));
    assert.equal(check.ok, false);
    assert.match(check.output, /scrape timeout greater than scrape interval/);
  });
});

describe('dashboards on a real Prometheus scraping producer and consumer endpoints', () => {
  const servers: MetricsServer[] = [];
  let prometheus: PrometheusServer | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const macros = { rateInterval: '10s', range: '1h' };
  const startedAt = new Date();

  before(async () => {
    const producerRegistry = createRegistry('producer');
    const consumerRegistry = createRegistry('consumer');
    const steps = [producerStep(producerRegistry), consumerStep(consumerRegistry)];
    ticker = setInterval(() => steps.forEach((step) => step()), 100);
    for (const registry of [producerRegistry, consumerRegistry]) servers.push(await startMetricsServer(registry, { port: 0, host: '127.0.0.1' }));
    const config = renderPrometheusConfig({
      scrapeIntervalSeconds: 1,
      targets: [
        { job: 'producer', targets: [`127.0.0.1:${servers[0]!.port}`] },
        { job: 'consumer', targets: [`127.0.0.1:${servers[1]!.port}`] },
      ],
    });
    prometheus = await PrometheusServer.start(config);
  });

  after(async () => {
    clearInterval(ticker);
    await prometheus?.stop();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('answers every dashboard query with data: no dead panel', async () => {
    const results = await waitForLiveDashboards(prometheus!.url, { macros, timeoutMs: 60_000 });
    const dead = deadPanels(results);
    if (dead.length > 0) process.stderr.write(`${prometheus!.logTail()}\n`);
    assert.deepEqual(dead, [], `dead panels:\n${formatResults(dead)}`);
    assert.equal(results.length, dashboardQueries().length);
    process.stdout.write(`${formatResults(results)}\n`);
  });

  it('scrapes both jobs by the names the config gives them', async () => {
    const targets = await prometheus!.targets();
    assert.deepEqual(targets.map((t) => t.job).sort(), ['consumer', 'producer']);
    for (const t of targets) assert.equal(t.health, 'up', `${t.job} ${t.instance}: ${t.lastError}`);
  });

  it('evaluates at a given time: before the first scrape every panel is dead, after it none', async () => {
    const before = await runDashboardQueries(prometheus!.url, { macros, at: new Date(startedAt.getTime() - 5 * 60_000) });
    assert.equal(deadPanels(before).length, before.length, formatResults(before));
    const later = await runDashboardQueries(prometheus!.url, { macros, at: new Date() });
    assert.deepEqual(deadPanels(later), []);
  });

  it('reports a query without data and a query Prometheus refuses as dead', async () => {
    const [file, text] = Object.entries(renderDashboards())[0]!;
    const dashboard = JSON.parse(text) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const visual = dashboard.panels.filter((p) => p.targets);
    visual[0]!.targets![0]!.expr = `sum(${metricNames.consumer.lag}) > 1e15`;
    visual[1]!.targets![0]!.expr = `sum(rate(${metricNames.consumer.lag}[$__rate_interval])`;
    const results = await runDashboardQueries(prometheus!.url, { files: { [file]: JSON.stringify(dashboard) }, macros });
    const dead = deadPanels(results);
    assert.deepEqual(dead.map((r) => [r.panel, r.refId, r.series]), [
      [visual[0]!.title, 'A', 0],
      [visual[1]!.title, 'A', 0],
    ]);
    assert.equal(dead[0]!.error, undefined);
    assert.match(dead[1]!.error ?? '', /parse error/);
    assert.equal(results.length - dead.length, dashboardQueries({ [file]: text }).length - 2);
  });
});

describe('a Prometheus started by a test', () => {
  it('dies with the test process, even by SIGKILL, and leaves no folder behind', async () => {
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const fixture = path.join(__dirname, '..', 'fixtures', 'monitoring-prometheus-owner.fixture.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const [pid, dir] = await new Promise<[number, string]>((resolve, reject) => {
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /PROMETHEUS-READY (\d+) (\S+)/.exec(output);
          if (match) resolve([Number(match[1]), match[2]!]);
        });
        child.once('exit', (code) => reject(new Error(`fixture exited ${String(code)} before Prometheus was ready: ${output}`)));
      });
      assert.ok(pid > 0 && isAlive(pid), 'the fixture should have Prometheus running');
      child.kill('SIGKILL');
      await exited;
      const deadline = Date.now() + 15_000;
      while ((isAlive(pid) || existsSync(dir)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.equal(isAlive(pid), false, `prometheus ${pid} outlived its owner`);
      assert.equal(existsSync(dir), false, `${dir} should be removed`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
