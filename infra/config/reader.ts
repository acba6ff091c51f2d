// Reads a plain object (what `pulumi config` holds) key by key, collecting every problem instead of
// stopping at the first, each naming the full config key and what is allowed there.
import { RunError } from '@pulumi/pulumi';

/** A RunError: Pulumi's language host prints its message alone, without a stack trace. */
export class StackConfigError extends RunError {
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'StackConfigError';
  }
}

type Plain = Record<string, unknown>;

const isPlain = (value: unknown): value is Plain => typeof value === 'object' && value !== null && !Array.isArray(value);

export class ConfigReader {
  constructor(
    private readonly value: Plain,
    /** Full key of this object, e.g. `ecommerce-pipeline:kafka`. */
    readonly key: string,
    private readonly problems: string[],
    private readonly allowed?: readonly string[],
  ) {
    if (allowed) {
      for (const name of Object.keys(value)) {
        if (!allowed.includes(name)) this.problem(name, `is not a known key (known: ${allowed.join(', ')})`);
      }
    }
  }

  /** A reader for a top-level config object; a missing object reads as empty (every default applies). */
  static root(raw: unknown, key: string, problems: string[], allowed?: readonly string[]): ConfigReader {
    if (raw !== undefined && !isPlain(raw)) problems.push(`${key} must be an object, got ${JSON.stringify(raw)}`);
    return new ConfigReader(isPlain(raw) ? raw : {}, key, problems, allowed);
  }

  path(name: string): string {
    return `${this.key}.${name}`;
  }

  /** `message` starting with `=` reads as `key=value …`, anything else as `key …`. */
  problem(name: string, message: string): void {
    this.problems.push(`${this.path(name)}${message.startsWith('=') ? '' : ' '}${message}`);
  }

  /** A problem with this object as a whole. */
  report(message: string): void {
    this.problems.push(`${this.key} ${message}`);
  }

  check(ok: boolean, name: string, message: string): void {
    if (!ok) this.problem(name, message);
  }

  has(name: string): boolean {
    return this.value[name] !== undefined;
  }

  raw(name: string): unknown {
    return this.value[name];
  }

  child(name: string, allowed?: readonly string[]): ConfigReader {
    const raw = this.value[name];
    if (raw !== undefined && !isPlain(raw)) this.problem(name, `must be an object, got ${JSON.stringify(raw)}`);
    return new ConfigReader(isPlain(raw) ? raw : {}, this.path(name), this.problems, allowed);
  }

  string(name: string, fallback: string, pattern?: { regex: RegExp; describe: string }): string {
    const raw = this.value[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'string' || raw.trim() === '') {
      this.problem(name, `must be a non-empty string, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    if (pattern && !pattern.regex.test(raw)) {
      this.problem(name, `=${JSON.stringify(raw)} must be ${pattern.describe}`);
      return fallback;
    }
    return raw;
  }

  /** Integers arrive as numbers from YAML and as strings from `pulumi config set`; both are accepted. */
  int(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const raw = this.value[name];
    if (raw === undefined) return fallback;
    const value = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    const min = range.min ?? Number.MIN_SAFE_INTEGER;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problem(name, `=${JSON.stringify(raw)} must be an integer in [${min}, ${max}]`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.value[name];
    if (raw === undefined) return fallback;
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    this.problem(name, `=${JSON.stringify(raw)} must be true or false`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.value[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
      this.problem(name, `=${JSON.stringify(raw)} must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return raw as T;
  }

  /** A map of string values (Kafka topic configs); numbers and booleans are stringified as Kafka expects. */
  stringMap(name: string): Record<string, string> {
    const raw = this.value[name];
    if (raw === undefined) return {};
    if (!isPlain(raw)) {
      this.problem(name, `must be a map of name → value, got ${JSON.stringify(raw)}`);
      return {};
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
      else this.problem(`${name}.${k}`, `must be a string or number, got ${JSON.stringify(v)}`);
    }
    return out;
  }

  list(name: string): unknown[] | undefined {
    const raw = this.value[name];
    if (raw === undefined) return undefined;
    if (!Array.isArray(raw)) {
      this.problem(name, `must be a list, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    return raw as unknown[];
  }
}

export function isPlainObject(value: unknown): value is Plain {
  return isPlain(value);
}
