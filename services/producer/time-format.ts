// Event-time parsing: the formats the datasets use, compiled once per run into a fast parser that
// returns UTC epoch milliseconds or a reason. Zone-less formats are read in a configured IANA zone.

export type TimeParser = (text: string) => number | string;

/** Named formats besides patterns: ISO-8601 (with offset or Z) and Unix epochs. */
export const namedTimeFormats = ['iso', 'epoch_ms', 'epoch_s'] as const;

/** REES46 writes `2019-10-01 00:00:04 UTC`; the suffix is a literal and pins the zone to UTC. */
export const rees46TimeFormat = 'YYYY-MM-DD HH:mm:ss UTC';
/** UCI Online Retail writes `12/1/2010 8:26`: month/day/year, minutes, no zone. */
export const onlineRetailTimeFormat = 'M/D/YYYY H:mm';

const tokens: Record<string, { group: keyof DateParts; regex: string }> = {
  YYYY: { group: 'year', regex: '(\\d{4})' },
  MM: { group: 'month', regex: '(\\d{2})' },
  M: { group: 'month', regex: '(\\d{1,2})' },
  DD: { group: 'day', regex: '(\\d{2})' },
  D: { group: 'day', regex: '(\\d{1,2})' },
  HH: { group: 'hour', regex: '(\\d{2})' },
  H: { group: 'hour', regex: '(\\d{1,2})' },
  mm: { group: 'minute', regex: '(\\d{2})' },
  ss: { group: 'second', regex: '(\\d{2})' },
  SSS: { group: 'millisecond', regex: '(\\d{3})' },
};
const tokenPattern = /YYYY|SSS|MM|DD|HH|mm|ss|M|D|H/g;

/** Checks an IANA zone name; returns a problem or undefined. */
export function checkTimeZone(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return undefined;
  } catch {
    return `${JSON.stringify(zone)} is not an IANA time zone (e.g. UTC, Europe/London)`;
  }
}

/**
 * Compiles a format (a named one or a token pattern) into a parser, or throws naming the problem.
 * `fixedWidth: false` leaves out the fast path for fixed-width patterns (tests compare the two).
 */
export function compileTimeFormat(format: string, timeZone = 'UTC', options: { fixedWidth?: boolean } = {}): TimeParser {
  const zoneProblem = checkTimeZone(timeZone);
  if (zoneProblem) throw new Error(zoneProblem);
  if (format === 'iso') return parseIso;
  if (format === 'epoch_ms') return (text) => parseEpoch(text, 1);
  if (format === 'epoch_s') return (text) => parseEpoch(text, 1000);
  return compilePattern(format, timeZone, options.fixedWidth ?? true);
}

function compilePattern(format: string, timeZone: string, fixedWidth: boolean): TimeParser {
  const groups: (keyof DateParts)[] = [];
  let regex = '';
  let last = 0;
  for (const match of format.matchAll(tokenPattern)) {
    regex += escapeRegex(format.slice(last, match.index)) + tokens[match[0]]!.regex;
    groups.push(tokens[match[0]]!.group);
    last = match.index + match[0].length;
  }
  regex += escapeRegex(format.slice(last));
  for (const required of ['year', 'month', 'day'] as const) {
    if (!groups.includes(required)) throw new Error(`time format ${JSON.stringify(format)} has no ${required} (use YYYY, M/MM, D/DD)`);
  }
  // A literal UTC suffix (REES46) fixes the zone whatever is configured.
  const zone = /\bUTC$|Z$/.test(format) ? 'UTC' : timeZone;
  const compiled = new RegExp(`^${regex}$`);
  const offsetOf = zone === 'UTC' ? () => 0 : zoneOffsetFinder(zone);
  const fast = fixedWidth ? fixedWidthReader(format, offsetOf) : undefined;
  const parse = (text: string): number | string => {
    const quick = fast?.(text);
    if (quick !== undefined) return quick;
    const match = compiled.exec(text.trim());
    if (!match) return `time ${JSON.stringify(text)} does not match ${JSON.stringify(format)}`;
    const parts: DateParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, millisecond: 0 };
    groups.forEach((group, i) => (parts[group] = Number(match[i + 1])));
    return toEpoch(parts, text, offsetOf);
  };
  // Consecutive rows mostly share their timestamp text (second resolution): remember the last one.
  let lastText: string | undefined;
  let lastResult: number | string = 0;
  return (text) => {
    if (text !== lastText) {
      lastText = text;
      lastResult = parse(text);
    }
    return lastResult;
  };
}

/** Tokens of one width: a pattern made only of these and literals has every field at a fixed place. */
const fixedTokens = new Set(['YYYY', 'MM', 'DD', 'HH', 'mm', 'ss', 'SSS']);

/**
 * For a fixed-width pattern (REES46's), a reader of digits at fixed places, about ten times faster
 * than the regular expression and Date: undefined for anything it does not read as a valid time
 * (another width, a non-digit, a date that does not exist), which the regular expression then reads
 * and names the problem of. Where it answers, it gives what the regular expression path gives.
 */
function fixedWidthReader(format: string, offsetOf: (localAsUtc: number) => number): ((text: string) => number | undefined) | undefined {
  const fields: { group: keyof DateParts; at: number; width: number }[] = [];
  const literals: { at: number; code: number }[] = [];
  let last = 0;
  for (const match of format.matchAll(tokenPattern)) {
    if (!fixedTokens.has(match[0])) return undefined;
    for (let i = last; i < match.index; i++) literals.push({ at: i, code: format.charCodeAt(i) });
    fields.push({ group: tokens[match[0]]!.group, at: match.index, width: match[0].length });
    last = match.index + match[0].length;
  }
  for (let i = last; i < format.length; i++) literals.push({ at: i, code: format.charCodeAt(i) });
  const width = format.length;
  // dayStart of each calendar date seen.
  const days = new Map<number, number>();
  const cachedDayStart = (year: number, month: number, day: number): number => {
    const key = (year * 100 + month) * 100 + day;
    let start = days.get(key);
    if (start === undefined) {
      start = dayStart(year, month, day);
      if (days.size > 10_000) days.clear();
      days.set(key, start);
    }
    return start;
  };
  return (text) => {
    if (text.length !== width) return undefined;
    for (const { at, code } of literals) if (text.charCodeAt(at) !== code) return undefined;
    const p: DateParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, millisecond: 0 };
    for (const { group, at, width: digits } of fields) {
      let value = 0;
      for (let i = at; i < at + digits; i++) {
        const digit = text.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) return undefined;
        value = value * 10 + digit;
      }
      p[group] = value;
    }
    const localAsUtc = localTime(p, cachedDayStart(p.year, p.month, p.day));
    return Number.isNaN(localAsUtc) ? undefined : localAsUtc - offsetOf(localAsUtc);
  };
}

interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

function toEpoch(p: DateParts, text: string, offsetOf: (localAsUtc: number) => number): number | string {
  const localAsUtc = localTime(p, dayStart(p.year, p.month, p.day));
  if (Number.isNaN(localAsUtc)) return `time ${JSON.stringify(text)} is not a valid calendar date and time`;
  return localAsUtc - offsetOf(localAsUtc);
}

/** Midnight of a calendar date (UTC as if local); NaN for a date that does not exist (Date.UTC would roll 2/30 over into March). */
function dayStart(year: number, month: number, day: number): number {
  const start = Date.UTC(year, month - 1, day);
  const check = new Date(start);
  return check.getUTCMonth() === month - 1 && check.getUTCDate() === day ? start : NaN;
}

/** The parts' wall-clock time (UTC as if local) from their date's dayStart; NaN when the date or the time of day does not exist. */
function localTime(p: DateParts, start: number): number {
  if (Number.isNaN(start) || p.hour > 23 || p.minute > 59 || p.second > 59) return NaN;
  return start + p.hour * 3_600_000 + p.minute * 60_000 + p.second * 1000 + p.millisecond;
}

/** The zone's UTC offset (ms) at a local wall-clock time, via Intl, cached per hour. */
export function zoneOffsetFinder(zone: string): (localAsUtc: number) => number {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  const offsetAt = (utc: number): number => {
    const f: Record<string, number> = {};
    for (const part of format.formatToParts(utc)) if (part.type !== 'literal') f[part.type] = Number(part.value);
    return Date.UTC(f.year!, f.month! - 1, f.day, f.hour, f.minute, f.second) - Math.floor(utc / 1000) * 1000;
  };
  const cache = new Map<number, number>();
  return (localAsUtc) => {
    const hour = Math.floor(localAsUtc / 3_600_000);
    let offset = cache.get(hour);
    if (offset === undefined) {
      // Guess with the offset at the wall-clock instant, then correct once: right except inside
      // the skipped hour of a spring-forward, which has no true answer anyway.
      const first = offsetAt(localAsUtc);
      offset = offsetAt(localAsUtc - first);
      if (cache.size > 10_000) cache.clear();
      cache.set(hour, offset);
    }
    return offset;
  };
}

function parseIso(text: string): number | string {
  const trimmed = text.trim();
  // Without an explicit zone, Date.parse would use the host's zone: refuse rather than guess.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(trimmed)) {
    return `time ${JSON.stringify(text)} is not ISO-8601 with a zone (e.g. 2019-10-01T00:00:00Z)`;
  }
  const value = Date.parse(trimmed);
  return Number.isNaN(value) ? `time ${JSON.stringify(text)} is not a valid ISO-8601 time` : value;
}

function parseEpoch(text: string, factor: number): number | string {
  const trimmed = text.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return `time ${JSON.stringify(text)} is not a non-negative epoch number`;
  const value = Math.round(Number(trimmed) * factor);
  return Number.isSafeInteger(value) ? value : `time ${JSON.stringify(text)} is out of range`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
