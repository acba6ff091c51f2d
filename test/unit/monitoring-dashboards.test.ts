// The provisioned dashboards: structurally sound by Grafana's dashboard model, querying only
// metrics the services export (every one of them somewhere), and a validator that really catches
// each mistake it claims to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricNames } from '../../services/core/metric-names';
import { renderDashboards } from '../../infra/render/dashboards';
import { dashboardSchemaVersion, type Dashboard, type VisualPanel } from '../../infra/dashboards/model';
import { checkExpr, exportedMetricNames, validateDashboard, validateDashboards } from '../../infra/dashboards/validate';

const files = renderDashboards();
const parsed = Object.entries(files).map(([file, text]) => [file, JSON.parse(text) as Dashboard] as const);
const visualPanels = (d: Dashboard): VisualPanel[] => d.panels.filter((p): p is VisualPanel => p.type !== 'row');
const allExprs = parsed.flatMap(([, d]) => visualPanels(d).flatMap((p) => p.targets.map((t) => t.expr)));
const overview = parsed.find(([file]) => file === 'pipeline-overview.json')![1];

function panelExprs(d: Dashboard, title: string): string[] {
  const [panel, ...others] = visualPanels(d).filter((p) => p.title === title);
  assert.ok(panel, `no panel titled ${title}`);
  assert.equal(others.length, 0, `more than one panel titled ${title}`);
  return panel.targets.map((t) => t.expr);
}

describe('rendered dashboards', () => {
  it('are two files of pretty JSON that pass the structural check', () => {
    assert.deepEqual(Object.keys(files).sort(), ['pipeline-overview.json', 'window-aggregates.json']);
    assert.deepEqual(validateDashboards(files), []);
    for (const [file, d] of parsed) {
      assert.equal(d.schemaVersion, dashboardSchemaVersion, file);
      assert.equal(d.editable, false, file);
      assert.equal(files[file], `${JSON.stringify(d, null, 2)}\n`);
    }
  });

  it('query every metric the services export, and nothing else', () => {
    const queried = new Set(allExprs.flatMap((e) => e.match(/\b(producer|consumer)_[a-z_]+/g) ?? []).map((m) => m.replace(/_bucket$/, '')));
    assert.deepEqual([...queried].sort(), [...exportedMetricNames].sort());
  });

  it('show the producer rows read, sent and rejected, and send latency p95', () => {
    const exprs = panelExprs(overview, 'Producer throughput').join('\n');
    for (const name of [metricNames.producer.rowsRead, metricNames.producer.rowsSent, metricNames.producer.rowsRejected]) assert.ok(exprs.includes(name), name);
    assert.ok(panelExprs(overview, 'Producer send latency').some((e) => e.startsWith('histogram_quantile(0.95,') && e.includes(`${metricNames.producer.sendDuration}_bucket`)));
  });

  it('show transactions split by commit and abort, and lag per topic and partition', () => {
    assert.deepEqual(panelExprs(overview, 'Transactions'), [`sum by (result) (rate(${metricNames.consumer.transactions}[$__rate_interval]))`]);
    assert.deepEqual(panelExprs(overview, 'Consumer lag'), [`sum by (topic, partition) (${metricNames.consumer.lag})`]);
  });

  it('lay panels out on a 24-column grid under their rows, ids counting from 1', () => {
    for (const [, d] of parsed) {
      assert.deepEqual(d.panels.map((p) => p.id), d.panels.map((_, i) => i + 1));
      assert.equal(d.panels[0]!.type, 'row');
      for (const p of d.panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, p.title);
    }
  });

  it('use instant queries for stats and bar gauges, range queries for time series', () => {
    for (const [, d] of parsed) {
      for (const panel of visualPanels(d)) {
        for (const t of panel.targets) assert.equal(t.instant, panel.type !== 'timeseries', `${panel.title} ${t.refId}`);
      }
    }
  });
});

describe('dashboard validator', () => {
  const fresh = (): Dashboard => structuredClone(overview);
  const firstVisual = (d: Dashboard): VisualPanel => visualPanels(d)[0]!;

  const cases: [string, (d: Dashboard) => void, RegExp][] = [
    ['duplicate panel id', (d) => void (d.panels[2]!.id = d.panels[1]!.id), /id \d+ is not unique/],
    ['overlapping panels', (d) => void (d.panels[2]!.gridPos = { ...d.panels[1]!.gridPos }), /gridPos overlaps/],
    ['panel beyond the grid', (d) => void (d.panels[1]!.gridPos.w = 30), /outside the 24-column grid/],
    ['wrong datasource uid', (d) => void (firstVisual(d).targets[0]!.datasource.uid = 'prom'), /datasource .* is not \{ type: "prometheus", uid: "prometheus" \}/],
    ['a panel without targets', (d) => void (firstVisual(d).targets = []), /has no targets \(a dead panel\)/],
    ['duplicate refId', (d) => void (firstVisual(d).targets.push({ ...firstVisual(d).targets[0]! })), /refId is not unique/],
    ['empty expr', (d) => void (firstVisual(d).targets[0]!.expr = ' '), /expr must be a non-empty string/],
    ['unknown panel type', (d) => void ((d.panels[1] as { type: string }).type = 'graph'), /type "graph" is not one of/],
    ['schemaVersion from the future', (d) => void (d.schemaVersion = 99), /schemaVersion 99/],
    ['missing templating', (d) => void delete (d as Partial<Dashboard>).templating, /templating.list must be an array/],
    ['bad uid', (d) => void (d.uid = 'has spaces'), /uid "has spaces"/],
  ];
  for (const [name, mutate, pattern] of cases) {
    it(`catches ${name}`, () => {
      const d = fresh();
      mutate(d);
      const problems = validateDashboard(JSON.parse(JSON.stringify(d)));
      assert.ok(problems.some((p) => pattern.test(p)), `no problem matches ${pattern}: ${problems.join('; ')}`);
    });
  }

  it('catches the same uid in two files and a file that is not JSON', () => {
    const text = files['pipeline-overview.json']!;
    const problems = validateDashboards({ 'a.json': text, 'b.json': text, 'c.json': '{', 'D.JSON': text });
    assert.ok(problems.some((p) => /^b\.json: uid "ecommerce-pipeline" is also used by a\.json$/.test(p)), problems.join('; '));
    assert.ok(problems.some((p) => p.startsWith('c.json: not JSON')));
    assert.ok(problems.some((p) => p.startsWith('D.JSON: file name')));
  });

  it('checks every query for metric names, functions, variables and labels', () => {
    const ok = `histogram_quantile(0.95, sum by (le, reason) (rate(${metricNames.producer.sendDuration}_bucket[$__rate_interval])))`;
    assert.deepEqual(checkExpr(ok), []);
    assert.deepEqual(checkExpr(`sum(${metricNames.consumer.lag}) > 1e3 * 2.5E-1`), []);
    assert.deepEqual(checkExpr('sum(rate(producer_rows_total[$__rate_interval]))'), ['queries producer_rows_total, which is not in services/core/metric-names.ts']);
    assert.deepEqual(checkExpr(`${metricNames.producer.rowsRead}_bucket`), [`queries ${metricNames.producer.rowsRead}_bucket, which is not in services/core/metric-names.ts`]);
    assert.deepEqual(checkExpr(`sum by (user_id) (${metricNames.consumer.lag})`), ['groups by "user_id", which is not a bounded label']);
    assert.deepEqual(checkExpr(`label_replace(${metricNames.consumer.lag})`), ['calls label_replace(), which is not an allowed PromQL function']);
    assert.deepEqual(checkExpr(`rate(${metricNames.consumer.eventsConsumed}[$window])`), ['uses $window, which is neither a Grafana macro nor a dashboard variable']);
    assert.deepEqual(checkExpr(`${metricNames.consumer.lag}{topic="x"}`), ['uses label matchers or strings, which the dashboards do not need']);
    assert.deepEqual(checkExpr(`sum(rate(${metricNames.consumer.eventsConsumed}[1m])`), ['has unbalanced parentheses or brackets']);
  });
});
