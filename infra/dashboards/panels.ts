// Typed builders for the panels our dashboards use and a grid layout that places them, so the
// dashboard files read as a list of "what to show" rather than as coordinates and ids.
import {
  dashboardSchemaVersion,
  prometheusDatasourceUid,
  type Dashboard,
  type DashboardPanel,
  type DataSourceRef,
  type FieldConfig,
  type PrometheusTarget,
  type ReduceOptions,
  type Unit,
  type VisualPanel,
} from './model';

export interface Query {
  expr: string;
  /** Grafana legend template, e.g. `{{reason}}`. */
  legend: string;
}

export interface PanelSpec {
  kind: VisualPanel['type'];
  title: string;
  description: string;
  unit: Unit;
  queries: Query[];
  /** Grid columns out of 24. */
  width: number;
  height: number;
}

export interface Section {
  title: string;
  panels: PanelSpec[];
}

const gridColumns = 24;
const datasource: DataSourceRef = { type: 'prometheus', uid: prometheusDatasourceUid };

type SpecArgs = Omit<PanelSpec, 'kind' | 'width' | 'height'> & { width?: number; height?: number };

export const timeseries = (args: SpecArgs): PanelSpec => ({ kind: 'timeseries', width: 12, height: 8, ...args });
export const stat = (args: SpecArgs): PanelSpec => ({ kind: 'stat', width: 6, height: 4, ...args });
export const barGauge = (args: SpecArgs): PanelSpec => ({ kind: 'bargauge', width: 12, height: 8, ...args });

/** Lays sections out top to bottom, each under a row header, panels left to right, wrapping at 24. */
export function layoutPanels(sections: Section[]): DashboardPanel[] {
  const panels: DashboardPanel[] = [];
  let y = 0;
  for (const section of sections) {
    panels.push({ id: panels.length + 1, type: 'row', title: section.title, collapsed: false, gridPos: { x: 0, y, w: gridColumns, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const spec of section.panels) {
      if (x + spec.width > gridColumns) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panels.push(visualPanel(panels.length + 1, spec, { x, y, w: spec.width, h: spec.height }));
      x += spec.width;
      lineHeight = Math.max(lineHeight, spec.height);
    }
    y += lineHeight;
  }
  return panels;
}

function visualPanel(id: number, spec: PanelSpec, gridPos: VisualPanel['gridPos']): VisualPanel {
  // Stats and bar gauges show one number per series over the whole range: an instant query is exact.
  const instant = spec.kind !== 'timeseries';
  const targets = spec.queries.map((query, i) => target(i, query, instant));
  const fieldConfig: FieldConfig = {
    defaults: { unit: spec.unit, min: 0, color: { mode: instant ? 'thresholds' : 'palette-classic' } },
    overrides: [],
  };
  const base = { id, title: spec.title, description: spec.description, datasource, gridPos, targets, fieldConfig };
  const reduceOptions: ReduceOptions = { calcs: ['lastNotNull'], fields: '', values: false };
  switch (spec.kind) {
    case 'timeseries':
      return {
        ...base,
        type: 'timeseries',
        options: {
          legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['mean', 'max', 'lastNotNull'] },
          tooltip: { mode: 'multi', sort: 'desc' },
        },
      };
    case 'stat':
      return {
        ...base,
        type: 'stat',
        options: { reduceOptions, colorMode: 'value', graphMode: 'none', justifyMode: 'auto', textMode: 'value_and_name', orientation: 'auto' },
      };
    case 'bargauge':
      return { ...base, type: 'bargauge', options: { reduceOptions, displayMode: 'gradient', orientation: 'horizontal', showUnfilled: true } };
  }
}

function target(index: number, query: Query, instant: boolean): PrometheusTarget {
  return {
    refId: String.fromCharCode(65 + index),
    datasource,
    expr: query.expr,
    legendFormat: query.legend,
    editorMode: 'code',
    range: !instant,
    instant,
  };
}

export interface DashboardArgs {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  sections: Section[];
}

export function dashboard({ uid, title, description, tags, sections }: DashboardArgs): Dashboard {
  return {
    uid,
    title,
    description,
    tags,
    timezone: 'browser',
    editable: false,
    graphTooltip: 1,
    time: { from: 'now-30m', to: 'now' },
    refresh: '10s',
    schemaVersion: dashboardSchemaVersion,
    version: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    panels: layoutPanels(sections),
    templating: { list: [] },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [],
  };
}
