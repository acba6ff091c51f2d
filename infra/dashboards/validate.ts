// A structural check of dashboard JSON against Grafana's dashboard model, run on the exact text
// that gets provisioned. Grafana itself does not run here (and silently shows "No data" for a bad
// query), so everything a provisioned dashboard can get wrong without failing to load is checked:
// ids, grid, datasource refs, and every query's metric names, functions and grouping labels.
import { metricNames } from '../../services/core/metric-names';
import { prometheusDatasourceUid } from './model';
import { boundedLabels } from './promql';

const panelTypes = new Set(['row', 'timeseries', 'stat', 'bargauge']);
const gridColumns = 24;
/** 36 made datasource references objects with uids; anything older would not load ours. */
const schemaVersions = { min: 36, max: 42 };
const grafanaMacros = new Set(['$__rate_interval', '$__range', '$__interval']);
const promqlFunctions = new Set(['sum', 'rate', 'increase', 'histogram_quantile', 'topk', 'max', 'min', 'avg', 'count', 'clamp_min']);
const promqlKeywords = new Set(['by', 'without', 'and', 'or', 'unless', 'on', 'ignoring', 'bool', 'offset']);
const histogramSuffixes = ['_bucket', '_sum', '_count'];

export const exportedMetricNames: ReadonlySet<string> = new Set(
  [...Object.values(metricNames.producer), ...Object.values(metricNames.consumer)] as string[],
);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isInt = (value: unknown): value is number => Number.isInteger(value);

/** Every problem in a set of dashboards (file name → JSON text); empty when all are sound. */
export function validateDashboards(files: Record<string, string>): string[] {
  const problems: string[] = [];
  const uids = new Map<string, string>();
  for (const [file, text] of Object.entries(files)) {
    if (!/^[a-z0-9-]+\.json$/.test(file)) problems.push(`${file}: file name must be lower-case kebab-case .json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      problems.push(`${file}: not JSON (${(error as Error).message})`);
      continue;
    }
    problems.push(...validateDashboard(parsed).map((problem) => `${file}: ${problem}`));
    const uid = isObject(parsed) && typeof parsed.uid === 'string' ? parsed.uid : undefined;
    if (uid !== undefined && uids.has(uid)) problems.push(`${file}: uid ${JSON.stringify(uid)} is also used by ${uids.get(uid)}`);
    if (uid !== undefined) uids.set(uid, file);
  }
  return problems;
}

export function validateDashboard(dashboard: unknown): string[] {
  if (!isObject(dashboard)) return ['dashboard is not a JSON object'];
  const problems = checkDashboardFields(dashboard);
  if (!Array.isArray(dashboard.panels) || dashboard.panels.length === 0) return [...problems, 'panels must be a non-empty array'];
  const ids = new Set<unknown>();
  const placed: { name: string; x: number; y: number; w: number; h: number }[] = [];
  for (const [index, panel] of (dashboard.panels as unknown[]).entries()) {
    if (!isObject(panel)) {
      problems.push(`panels[${index}] is not an object`);
      continue;
    }
    const name = `panel ${JSON.stringify(panel.title ?? index)} (id ${String(panel.id)})`;
    if (!isInt(panel.id) || panel.id < 1) problems.push(`${name}: id must be a positive integer`);
    else if (ids.has(panel.id)) problems.push(`${name}: id ${panel.id} is not unique`);
    ids.add(panel.id);
    problems.push(...checkGridPos(name, panel.gridPos, placed));
    if (typeof panel.type !== 'string' || !panelTypes.has(panel.type)) problems.push(`${name}: type ${JSON.stringify(panel.type)} is not one of ${[...panelTypes].join(', ')}`);
    else if (panel.type === 'row') {
      if (!Array.isArray(panel.panels)) problems.push(`${name}: a row needs a panels array`);
    } else problems.push(...checkVisualPanel(name, panel));
  }
  return problems;
}

function checkDashboardFields(d: Json): string[] {
  const problems: string[] = [];
  if (typeof d.uid !== 'string' || !/^[a-zA-Z0-9_-]{1,40}$/.test(d.uid)) problems.push(`uid ${JSON.stringify(d.uid)} must be 1-40 of [a-zA-Z0-9_-]`);
  if (typeof d.title !== 'string' || d.title.trim() === '') problems.push('title must be a non-empty string');
  if (!isInt(d.schemaVersion) || d.schemaVersion < schemaVersions.min || d.schemaVersion > schemaVersions.max) {
    problems.push(`schemaVersion ${JSON.stringify(d.schemaVersion)} is not an integer in [${schemaVersions.min}, ${schemaVersions.max}]`);
  }
  if (!isObject(d.time) || typeof d.time.from !== 'string' || typeof d.time.to !== 'string') problems.push('time must be { from, to } strings');
  if (!isObject(d.templating) || !Array.isArray(d.templating.list)) problems.push('templating.list must be an array');
  if (!isObject(d.annotations) || !Array.isArray(d.annotations.list)) problems.push('annotations.list must be an array');
  if (typeof d.editable !== 'boolean') problems.push('editable must be a boolean');
  return problems;
}

function checkGridPos(name: string, gridPos: unknown, placed: { name: string; x: number; y: number; w: number; h: number }[]): string[] {
  if (!isObject(gridPos) || ![gridPos.x, gridPos.y, gridPos.w, gridPos.h].every(isInt)) return [`${name}: gridPos must have integer x, y, w, h`];
  const box = { name, x: gridPos.x as number, y: gridPos.y as number, w: gridPos.w as number, h: gridPos.h as number };
  const problems: string[] = [];
  if (box.x < 0 || box.y < 0 || box.w < 1 || box.h < 1 || box.x + box.w > gridColumns) {
    problems.push(`${name}: gridPos ${JSON.stringify(gridPos)} is outside the ${gridColumns}-column grid`);
  }
  for (const other of placed) {
    const overlaps = box.x < other.x + other.w && other.x < box.x + box.w && box.y < other.y + other.h && other.y < box.y + box.h;
    if (overlaps) problems.push(`${name}: gridPos overlaps ${other.name}`);
  }
  placed.push(box);
  return problems;
}

function checkVisualPanel(name: string, panel: Json): string[] {
  const problems: string[] = [];
  if (typeof panel.title !== 'string' || panel.title.trim() === '') problems.push(`${name}: title must be a non-empty string`);
  problems.push(...checkDatasource(name, panel.datasource));
  if (!isObject(panel.fieldConfig) || !isObject(panel.fieldConfig.defaults) || !Array.isArray(panel.fieldConfig.overrides)) {
    problems.push(`${name}: fieldConfig must have defaults and overrides`);
  }
  if (!isObject(panel.options)) problems.push(`${name}: options must be an object`);
  if (!Array.isArray(panel.targets) || panel.targets.length === 0) return [...problems, `${name}: has no targets (a dead panel)`];
  const refIds = new Set<unknown>();
  for (const [index, target] of (panel.targets as unknown[]).entries()) {
    if (!isObject(target)) {
      problems.push(`${name}: targets[${index}] is not an object`);
      continue;
    }
    const where = `${name} target ${typeof target.refId === 'string' ? target.refId : index}`;
    if (typeof target.refId !== 'string' || !/^[A-Z]$/.test(target.refId)) problems.push(`${where}: refId must be one capital letter`);
    else if (refIds.has(target.refId)) problems.push(`${where}: refId is not unique in the panel`);
    refIds.add(target.refId);
    problems.push(...checkDatasource(where, target.datasource));
    if (typeof target.expr !== 'string' || target.expr.trim() === '') problems.push(`${where}: expr must be a non-empty string`);
    else problems.push(...checkExpr(target.expr).map((problem) => `${where}: ${problem}`));
  }
  return problems;
}

function checkDatasource(where: string, datasource: unknown): string[] {
  if (isObject(datasource) && datasource.type === 'prometheus' && datasource.uid === prometheusDatasourceUid) return [];
  return [`${where}: datasource ${JSON.stringify(datasource)} is not { type: "prometheus", uid: "${prometheusDatasourceUid}" }`];
}

/** Problems in one PromQL expression: unknown metrics, functions, variables or unbounded grouping. */
export function checkExpr(expr: string): string[] {
  const problems: string[] = [];
  for (const variable of expr.match(/\$\w+/g) ?? []) {
    if (!grafanaMacros.has(variable)) problems.push(`uses ${variable}, which is neither a Grafana macro nor a dashboard variable`);
  }
  if (/[{}"'`]/.test(expr)) problems.push('uses label matchers or strings, which the dashboards do not need');
  if (!balanced(expr)) problems.push('has unbalanced parentheses or brackets');
  // Ranges, matchers and number literals (0.95, 1e3) hold no names to check.
  let rest = expr.replace(/\[[^\]]*\]/g, ' ').replace(/\{[^}]*\}/g, ' ').replace(/(?<![\w:])\d+(\.\d+)?(e[+-]?\d+)?/gi, ' ');
  rest = rest.replace(/\b(by|without)\s*\(([^)]*)\)/g, (_match, _keyword: string, labels: string) => {
    for (const label of labels.split(',').map((l) => l.trim())) {
      if (label !== 'le' && !(boundedLabels as readonly string[]).includes(label)) problems.push(`groups by ${JSON.stringify(label)}, which is not a bounded label`);
    }
    return ' ';
  });
  for (const match of rest.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    const word = match[0].replace(/\s*\($/, '');
    if (match[1] !== undefined) {
      if (!promqlFunctions.has(word)) problems.push(`calls ${word}(), which is not an allowed PromQL function`);
    } else if (!promqlKeywords.has(word) && !isExportedSeries(word)) {
      problems.push(`queries ${word}, which is not in services/core/metric-names.ts`);
    }
  }
  return problems;
}

function isExportedSeries(name: string): boolean {
  if (exportedMetricNames.has(name)) return true;
  const suffix = histogramSuffixes.find((s) => name.endsWith(s));
  return suffix !== undefined && name.endsWith('_seconds' + suffix) && exportedMetricNames.has(name.slice(0, -suffix.length));
}

function balanced(expr: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[' };
  for (const ch of expr) {
    if (ch === '(' || ch === '[') stack.push(ch);
    else if (ch === ')' || ch === ']') if (stack.pop() !== pairs[ch]) return false;
  }
  return stack.length === 0;
}
