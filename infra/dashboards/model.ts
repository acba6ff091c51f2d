// The subset of Grafana's dashboard JSON model (classic schema, the one file provisioning reads)
// that our dashboards use, typed precisely so a typo is a compile error rather than a dead panel.
// Field names and enum values are Grafana's own (see the `dashboard`, `timeseries`, `stat` and
// `bargauge` packages of grafana-foundation-sdk, which generates them from the same schema).

/** Grafana migrates older dashboards forward on load, never newer ones back: 39 is Grafana 10.4/11. */
export const dashboardSchemaVersion = 39;

/** The datasource uid every panel and target refers to; grafana-provisioning.ts provisions it. */
export const prometheusDatasourceUid = 'prometheus';

/** File name → what renderDashboards() writes into the provider's folder. */
export const dashboardFiles = {
  overview: 'pipeline-overview.json',
  windows: 'window-aggregates.json',
} as const;

export interface DataSourceRef {
  type: 'prometheus';
  uid: string;
}

export interface PrometheusTarget {
  refId: string;
  datasource: DataSourceRef;
  expr: string;
  legendFormat: string;
  editorMode: 'code';
  range: boolean;
  instant: boolean;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type Unit = 'short' | 'ops' | 'reqps' | 's' | 'Bps' | 'currencyUSD' | 'none';

export interface FieldConfig {
  defaults: { unit: Unit; min?: number; decimals?: number; color: { mode: 'palette-classic' | 'thresholds' } };
  overrides: never[];
}

export interface ReduceOptions {
  calcs: ('lastNotNull' | 'last' | 'max' | 'sum')[];
  fields: '';
  values: false;
}

export interface TimeseriesOptions {
  legend: { displayMode: 'list' | 'table'; placement: 'bottom' | 'right'; showLegend: true; calcs: string[] };
  tooltip: { mode: 'multi' | 'single'; sort: 'desc' | 'none' };
}

export interface StatOptions {
  reduceOptions: ReduceOptions;
  colorMode: 'value' | 'background' | 'none';
  graphMode: 'area' | 'none';
  justifyMode: 'auto';
  textMode: 'auto' | 'value_and_name';
  orientation: 'auto';
}

export interface BarGaugeOptions {
  reduceOptions: ReduceOptions;
  displayMode: 'gradient' | 'basic' | 'lcd';
  orientation: 'horizontal' | 'vertical';
  showUnfilled: boolean;
}

interface PanelBase {
  id: number;
  title: string;
  description: string;
  datasource: DataSourceRef;
  gridPos: GridPos;
  targets: PrometheusTarget[];
  fieldConfig: FieldConfig;
}

export type VisualPanel =
  | (PanelBase & { type: 'timeseries'; options: TimeseriesOptions })
  | (PanelBase & { type: 'stat'; options: StatOptions })
  | (PanelBase & { type: 'bargauge'; options: BarGaugeOptions });

export interface RowPanel {
  id: number;
  type: 'row';
  title: string;
  collapsed: false;
  gridPos: GridPos;
  panels: never[];
}

export type DashboardPanel = VisualPanel | RowPanel;

export interface Annotation {
  builtIn: 1;
  datasource: { type: 'grafana'; uid: '-- Grafana --' };
  enable: true;
  hide: true;
  iconColor: string;
  name: 'Annotations & Alerts';
  type: 'dashboard';
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'browser' | 'utc';
  editable: false;
  /** 1 = shared crosshair across panels. */
  graphTooltip: 0 | 1 | 2;
  time: { from: string; to: string };
  refresh: string;
  schemaVersion: number;
  version: number;
  fiscalYearStartMonth: 0;
  liveNow: false;
  panels: DashboardPanel[];
  templating: { list: never[] };
  annotations: { list: Annotation[] };
  links: never[];
}
