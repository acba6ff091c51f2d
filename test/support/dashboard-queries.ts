// Runs every query of the provisioned dashboards through a real Prometheus' HTTP API and reports,
// per panel and target, how many series came back: a query with none is a dead panel. Used against
// stand-in metrics (monitoring-prometheus.test.ts) and against the running pipeline (end to end).
import { renderDashboards } from '../../infra/render/dashboards';

export interface DashboardQuery {
  dashboard: string;
  panelId: number;
  panel: string;
  refId: string;
  /** As provisioned, with Grafana's macros. */
  expr: string;
}

export interface QueryResult extends DashboardQuery {
  /** What was sent to Prometheus: the expr with Grafana's macros replaced. */
  promql: string;
  series: number;
  /** Prometheus' error, if it refused the query. */
  error?: string;
}

export interface MacroValues {
  /** For $__rate_interval; Grafana uses at least four scrape intervals. */
  rateInterval: string;
  /** For $__range: the dashboard's time range. */
  range: string;
}

const defaultMacros: MacroValues = { rateInterval: '1m', range: '1h' };

interface PanelJson {
  id: number;
  title: string;
  targets?: { refId: string; expr: string }[];
}

/** Every target of every panel in the dashboard files (default: exactly what is provisioned). */
export function dashboardQueries(files: Record<string, string> = renderDashboards()): DashboardQuery[] {
  return Object.entries(files).flatMap(([dashboard, text]) =>
    (JSON.parse(text) as { panels: PanelJson[] }).panels.flatMap((panel) =>
      (panel.targets ?? []).map((t) => ({ dashboard, panelId: panel.id, panel: panel.title, refId: t.refId, expr: t.expr })),
    ),
  );
}

export function toPromQL(expr: string, macros: MacroValues = defaultMacros): string {
  return expr.replaceAll('$__rate_interval', macros.rateInterval).replaceAll('$__range', macros.range).replaceAll('$__interval', macros.rateInterval);
}

export interface QueryOptions {
  /** Dashboard files to check; default: exactly what renderDashboards() provisions. */
  files?: Record<string, string>;
  macros?: MacroValues;
  /**
   * Evaluation time; default now. A producer that has finished its file stops serving metrics and
   * its gauges go stale, so a check after the run asks about a moment the pipeline was working.
   */
  at?: Date;
}

/** One instant query per dashboard target. */
export async function runDashboardQueries(prometheusUrl: string, options: QueryOptions = {}): Promise<QueryResult[]> {
  return Promise.all(
    dashboardQueries(options.files).map(async (query) => {
      const promql = toPromQL(query.expr, options.macros);
      return { ...query, promql, ...(await instantQuery(prometheusUrl, promql, options.at)) };
    }),
  );
}

async function instantQuery(prometheusUrl: string, promql: string, at: Date | undefined): Promise<{ series: number; error?: string }> {
  const form = new URLSearchParams({ query: promql });
  if (at) form.set('time', (at.getTime() / 1000).toFixed(3));
  try {
    const response = await fetch(`${prometheusUrl}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success') return { series: 0, error: body.error ?? `HTTP ${response.status}` };
    const result = body.data?.result;
    // A scalar answers with one [time, value] pair; vectors and matrices with a list of series.
    return { series: body.data?.resultType === 'scalar' ? 1 : Array.isArray(result) ? result.length : 0 };
  } catch (error) {
    return { series: 0, error: (error as Error).message };
  }
}

export const deadPanels = (results: QueryResult[]): QueryResult[] => results.filter((r) => r.series === 0 || r.error !== undefined);

/**
 * Re-runs the queries until none is dead or the deadline passes (rates need two scrapes, and the
 * pipeline's counters appear as it works); returns the last results either way.
 */
export async function waitForLiveDashboards(
  prometheusUrl: string,
  options: QueryOptions & { timeoutMs?: number; pollMs?: number } = {},
): Promise<QueryResult[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const results = await runDashboardQueries(prometheusUrl, options);
    if (deadPanels(results).length === 0 || Date.now() >= deadline) return results;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}

/** A plain-text table of the results, dead panels marked, for test output. */
export function formatResults(results: QueryResult[]): string {
  return results
    .map((r) => `${r.series > 0 && !r.error ? 'ok  ' : 'DEAD'} ${r.dashboard} #${r.panelId} ${r.panel} [${r.refId}] series=${r.series}${r.error ? ` error=${r.error}` : ''}\n       ${r.promql}`)
    .join('\n');
}
