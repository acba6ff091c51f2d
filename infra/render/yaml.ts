// A block-style YAML emitter for the plain configuration objects we render (prometheus.yml,
// Grafana provisioning). Every string is double-quoted in JSON syntax, which YAML 1.1 and 1.2 both
// read verbatim, so values like `no`, `on`, `1e3` or `a: b` can never change type or meaning.

export type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue };

const plainKey = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function toYaml(value: YamlValue, header?: string): string {
  const body = emit(value, 0).join('\n');
  return `${header ? `# ${header}\n` : ''}${body}\n`;
}

function scalar(value: string | number | boolean): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`cannot write ${value} as YAML`);
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function emit(value: YamlValue, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${pad}[]`];
    return value.flatMap((item) => {
      const lines = isComposite(item) ? emit(item, indent + 2) : [`${pad}  ${scalar(item)}`];
      return [`${pad}- ${lines[0]!.slice(indent + 2)}`, ...lines.slice(1)];
    });
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return [`${pad}{}`];
    return entries.flatMap(([key, item]) => {
      const name = plainKey.test(key) ? key : JSON.stringify(key);
      if (!isComposite(item) || isEmpty(item)) return [`${pad}${name}: ${isComposite(item) ? emit(item, 0)[0]! : scalar(item)}`];
      return [`${pad}${name}:`, ...emit(item, indent + 2)];
    });
  }
  return [`${pad}${scalar(value)}`];
}

const isComposite = (value: YamlValue): value is YamlValue[] | { [key: string]: YamlValue } => typeof value === 'object';
const isEmpty = (value: YamlValue[] | { [key: string]: YamlValue }): boolean =>
  Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
