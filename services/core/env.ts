// Environment configuration, parsed and validated once at start. Every problem is collected and
// reported together, each naming the variable, what it got and what is allowed.

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads variables from an environment, remembering every problem instead of stopping at the first. */
export class EnvReader {
  private readonly problems: string[] = [];
  constructor(private readonly env: Env = process.env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  private problem(message: string): void {
    this.problems.push(message);
  }

  string(name: string, fallback?: string): string {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) {
      this.problem(`${name} is required`);
      return '';
    }
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number | undefined, range: { min?: number; max?: number } = {}): number {
    const text = this.raw(name);
    if (text === undefined) {
      if (fallback === undefined) this.problem(`${name} is required (an integer)`);
      return fallback ?? 0;
    }
    const value = Number(text);
    const min = range.min ?? Number.MIN_SAFE_INTEGER;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^-?\d+$/.test(text) || value < min || value > max) {
      this.problem(`${name}=${JSON.stringify(text)} is not an integer in [${min}, ${max}]`);
      return fallback ?? 0;
    }
    return value;
  }

  number(name: string, fallback: number | undefined, range: { min?: number; max?: number } = {}): number {
    const text = this.raw(name);
    if (text === undefined) {
      if (fallback === undefined) this.problem(`${name} is required (a number)`);
      return fallback ?? 0;
    }
    const value = Number(text);
    const min = range.min ?? -Infinity;
    const max = range.max ?? Infinity;
    if (!Number.isFinite(value) || value < min || value > max) {
      this.problem(`${name}=${JSON.stringify(text)} is not a number in [${min}, ${max}]`);
      return fallback ?? 0;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const text = this.raw(name) ?? fallback;
    if (text === undefined) {
      this.problem(`${name} is required (one of ${allowed.join(', ')})`);
      return allowed[0]!;
    }
    if (!(allowed as readonly string[]).includes(text)) {
      this.problem(`${name}=${JSON.stringify(text)} is not one of ${allowed.join(', ')}`);
      return fallback ?? allowed[0]!;
    }
    return text as T;
  }

  list(name: string, fallback?: string[]): string[] {
    const text = this.raw(name);
    if (text === undefined) {
      if (fallback === undefined) this.problem(`${name} is required (a comma-separated list)`);
      return fallback ?? [];
    }
    const items = text.split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) this.problem(`${name} is an empty list`);
    return items;
  }

  boolean(name: string, fallback: boolean): boolean {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (/^(1|true|yes|on)$/i.test(text)) return true;
    if (/^(0|false|no|off)$/i.test(text)) return false;
    this.problem(`${name}=${JSON.stringify(text)} is not a boolean (true/false)`);
    return fallback;
  }

  /** Records a cross-field problem found by the caller. */
  check(ok: boolean, message: string): void {
    if (!ok) this.problem(message);
  }

  /** Throws one ConfigError listing every problem, if there were any. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError([...this.problems]);
  }
}
