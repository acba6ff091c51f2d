// A REES46 row straight from the file's bytes to the canonical event's JSON bytes and its key,
// without the strings, the event object and JSON.stringify in between: mapping a row that way
// (split, map, stringify, write) was most of the producer's CPU (docs/benchmarks.md, 2026-12-08).
//
// It takes only rows it is sure of: ASCII text with nothing to escape or trim, a time in REES46's
// fixed format, a known event type, a plain decimal price. Anything else (a bad row, a row that
// needs escaping, a price like 1e3) is declined, and the general path (presets.ts) maps it, rejects
// it and names the problem. Where it answers, its bytes are exactly those of
// JSON.stringify(rees46 mapper's event) and its key eventKey()'s: the unit test compares the two
// over generated and edge-case rows.
import { EVENT_SCHEMA_VERSION, EVENT_TYPES, MAX_FIELD_CHARS } from '../core/event';
import type { KeyStrategy } from './config';
import { rees46Columns } from './presets';

/** The row's key (null: none), a span of `keyBytes`, and its value, `valueLength` bytes that writeValue writes. */
export interface EncodedRow {
  keyBytes: Buffer;
  keyStart: number;
  /** -1 for a null key. */
  keyLength: number;
  valueLength: number;
  /** Writes the value at out[at]; returns the offset after it (at + valueLength). */
  writeValue(out: Uint8Array, at: number): number;
}

const comma = 0x2c;
const space = 0x20;
const quote = 0x22;
const backslash = 0x5c;
const dot = 0x2e;
const zero = 0x30;

/** What each byte is to split(): a comma ends a field; a control or non-ASCII byte, a quote or a backslash is declined. */
const plainByte = 0;
const fieldEnd = 1;
const declined = 2;
const byteKinds = Uint8Array.from({ length: 256 }, (_, byte) =>
  byte === comma ? fieldEnd : byte < space || byte > 0x7e || byte === quote || byte === backslash ? declined : plainByte);

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const eventTypes = EVENT_TYPES.map(latin1);
const nullBytes = latin1('null');
/** What the event's JSON holds between the row's values (after the eventId's prefix). */
const fragments = {
  eventTime: latin1('","eventTime":'), eventType: latin1(',"eventType":"'), productId: latin1(',"productId":'), categoryId: latin1(',"categoryId":'),
  categoryCode: latin1(',"categoryCode":'), brand: latin1(',"brand":'), price: latin1(',"price":'), quantity: latin1(',"quantity":1'),
  userId: latin1(',"userId":'), sessionId: latin1(',"sessionId":'), end: latin1(',"country":null,"source":"rees46"}'),
};

/** One REES46 file's encoder: the header's column order, the file's name (in eventIds) and the key strategy. */
export class Rees46RowEncoder implements EncodedRow {
  keyBytes: Buffer = Buffer.alloc(0);
  keyStart = 0;
  keyLength = -1;
  valueLength = 0;

  private readonly width: number;
  /** Positions of event_time, event_type, product_id, category_id, category_code, brand, price, user_id, user_session in the row. */
  private readonly columns: number[];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  /** Which columns the key is taken from, first non-empty one wins (empty: no key). */
  private readonly keyColumns: number[];
  private readonly eventIdPrefix: Buffer;
  /** The value's bytes that do not depend on the row: the prefix, the names, the constants and the event type's closing quote. */
  private readonly fixedBytes: number;
  private intStart = 0;
  private intEnd = 0;
  private fractionEnd = 0;
  /** The last event time's digits: consecutive rows mostly share their second. */
  private lastTime = -1;
  private readonly timeDigits = Buffer.alloc(20);
  private timeDigitCount = 0;
  /** The row encode() took last: writeValue writes it. */
  private text: Buffer = Buffer.alloc(0);
  private line = 0;
  private type: Buffer = Buffer.alloc(0);
  private lastDay = -1;
  private lastDayStart = 0;

  constructor(header: readonly string[], fileName: string, key: KeyStrategy) {
    this.width = header.length;
    // The last column of a name, as the general path's Columns takes it.
    this.columns = rees46Columns.map((name) => header.lastIndexOf(name));
    if (this.columns.some((at) => at < 0)) throw new Error(`the header [${header.join(', ')}] is not REES46's`);
    this.starts = new Int32Array(this.width);
    this.ends = new Int32Array(this.width);
    const [, , product, , , , , user, session] = this.columns as [number, number, number, number, number, number, number, number, number];
    this.keyColumns = { session: [session, user, product], user: [user, session, product], product: [product], none: [] }[key];
    // JSON.stringify writes the name as the general path does (escapes included); the line follows.
    this.eventIdPrefix = Buffer.from(`{"schemaVersion":${EVENT_SCHEMA_VERSION},"eventId":${JSON.stringify(`${fileName}:`).slice(0, -1)}`);
    const { eventTime, eventType, productId, categoryId, categoryCode, brand, price, quantity, userId, sessionId, end } = fragments;
    this.fixedBytes = this.eventIdPrefix.length + 1 + [eventTime, eventType, productId, categoryId, categoryCode, brand, price, quantity, userId, sessionId, end].reduce((sum, f) => sum + f.length, 0);
  }

  /**
   * Takes the row text[start, end) of the file's `line`: sets its key and value length,
   * and writeValue writes its value until the next call. False: the general path must map it.
   */
  encode(text: Buffer, start: number, end: number, line: number): boolean {
    if (!this.split(text, start, end)) return false;
    const [t, type, product, categoryId, categoryCode, brand, price, user, session] = this.columns as [number, number, number, number, number, number, number, number, number];
    const starts = this.starts;
    const ends = this.ends;
    const eventTime = this.time(text, starts[t]!, ends[t]!);
    const eventType = this.eventType(text, starts[type]!, ends[type]!);
    if (eventTime < 0 || eventType === undefined || ends[product]! === starts[product]! || !this.price(text, starts[price]!, ends[price]!)) return false;
    if (eventTime !== this.lastTime) {
      this.lastTime = eventTime;
      this.timeDigitCount = writeDigits(this.timeDigits, 0, eventTime);
    }
    this.text = text;
    this.line = line;
    this.type = eventType;
    this.valueLength = this.fixedBytes + digitCount(line) + this.timeDigitCount + eventType.length + (this.intEnd - this.intStart) + (this.fractionEnd - this.intEnd)
      + this.textBytes(product) + this.textBytes(categoryId) + this.textBytes(categoryCode) + this.textBytes(brand) + this.textBytes(user) + this.textBytes(session);
    this.keyBytes = text;
    this.keyLength = -1;
    for (const column of this.keyColumns) {
      if (ends[column]! > starts[column]!) {
        this.keyStart = starts[column]!;
        this.keyLength = ends[column]! - starts[column]!;
        break;
      }
    }
    return true;
  }

  writeValue(out: Uint8Array, start: number): number {
    const [, , product, categoryId, categoryCode, brand, , user, session] = this.columns as [number, number, number, number, number, number, number, number, number];
    const text = this.text;
    let at = copy(this.eventIdPrefix, 0, this.eventIdPrefix.length, out, start);
    at = writeDigits(out, at, this.line);
    at = copy(fragments.eventTime, 0, fragments.eventTime.length, out, at);
    at = copy(this.timeDigits, 0, this.timeDigitCount, out, at);
    at = copy(fragments.eventType, 0, fragments.eventType.length, out, at);
    at = copy(this.type, 0, this.type.length, out, at);
    out[at++] = quote;
    at = this.writeText(product, fragments.productId, out, at);
    at = this.writeText(categoryId, fragments.categoryId, out, at);
    at = this.writeText(categoryCode, fragments.categoryCode, out, at);
    at = this.writeText(brand, fragments.brand, out, at);
    at = copy(fragments.price, 0, fragments.price.length, out, at);
    at = copy(text, this.intStart, this.intEnd, out, at);
    at = copy(text, this.intEnd, this.fractionEnd, out, at);
    at = copy(fragments.quantity, 0, fragments.quantity.length, out, at);
    at = this.writeText(user, fragments.userId, out, at);
    at = this.writeText(session, fragments.sessionId, out, at);
    at = copy(fragments.end, 0, fragments.end.length, out, at);
    // The record's length fields were written from valueLength: a value of another length would corrupt the batch.
    if (at - start !== this.valueLength) throw new Error(`REES46 encoder: wrote ${at - start} bytes for line ${this.line}, announced ${this.valueLength}`);
    return at;
  }

  /**
   * Finds the fields; false when the row has another column count or a byte the general path
   * treats differently: a control or non-ASCII character, a quote or backslash (escaped in JSON),
   * a space at either end of a field (trimmed), a field over MAX_FIELD_CHARS.
   */
  private split(text: Buffer, start: number, end: number): boolean {
    const starts = this.starts;
    const ends = this.ends;
    let field = 0;
    starts[0] = start;
    for (let i = start; i < end; i++) {
      const kind = byteKinds[text[i]!]!;
      if (kind === plainByte) continue;
      if (kind !== fieldEnd || !fieldFits(text, starts[field]!, i)) return false;
      ends[field] = i;
      if (++field === this.width) return false;
      starts[field] = i + 1;
    }
    if (field !== this.width - 1 || !fieldFits(text, starts[field]!, end)) return false;
    ends[field] = end;
    return true;
  }

  /** The bytes of a text field as writeText writes it, without its name. */
  private textBytes(column: number): number {
    const length = this.ends[column]! - this.starts[column]!;
    return length === 0 ? nullBytes.length : length + 2;
  }

  /** `,"name":` then the field as a JSON string, or null when it is empty (the general path's optional()). */
  private writeText(column: number, name: Buffer, out: Uint8Array, at: number): number {
    at = copy(name, 0, name.length, out, at);
    const from = this.starts[column]!;
    const to = this.ends[column]!;
    if (from === to) return copy(nullBytes, 0, 4, out, at);
    out[at++] = quote;
    at = copy(this.text, from, to, out, at);
    out[at++] = quote;
    return at;
  }

  /**
   * `YYYY-MM-DD HH:mm:ss UTC` as epoch milliseconds; -1 for anything else (another form, a date that
   * does not exist, before 1970). The general path's fixed-width reader (time-format.ts) for this one
   * format, on bytes: calling that reader on a string of the field instead (parsing only when the
   * text changed) cost the producer 4.8–5.2 against 4.0–4.3 CPU-seconds for the benchmark's 1M rows,
   * whose times are out of order (a parse on nearly every row). The unit test holds the two equal.
   */
  private time(text: Buffer, from: number, to: number): number {
    if (to - from !== 23 || text[from + 4] !== 0x2d || text[from + 7] !== 0x2d || text[from + 10] !== space || text[from + 13] !== 0x3a || text[from + 16] !== 0x3a
      || text[from + 19] !== space || text[from + 20] !== 0x55 || text[from + 21] !== 0x54 || text[from + 22] !== 0x43) return -1;
    const year = digits(text, from, 4);
    const month = digits(text, from + 5, 2);
    const day = digits(text, from + 8, 2);
    const hour = digits(text, from + 11, 2);
    const minute = digits(text, from + 14, 2);
    const second = digits(text, from + 17, 2);
    if (year < 1970 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return -1;
    const dayKey = (year * 100 + month) * 100 + day;
    if (dayKey !== this.lastDay) {
      const dayStart = Date.UTC(year, month - 1, day);
      // Date.UTC rolls 2/30 over into March: such a date does not exist.
      if (new Date(dayStart).getUTCDate() !== day) return -1;
      this.lastDay = dayKey;
      this.lastDayStart = dayStart;
    }
    return this.lastDayStart + hour * 3_600_000 + minute * 60_000 + second * 1000;
  }

  /**
   * A price written `digits[.digits]`, set up to be written as JSON.stringify(Number(text)) writes it:
   * text[intStart, intEnd) (the integer part without leading zeros), then text[intEnd, fractionEnd)
   * (the point and the fraction without trailing zeros; empty when nothing is left of it). False: a
   * sign, an exponent, no digit before the point, 10 or more integer digits (the general path checks
   * the limit), more than 15 significant digits or a value under 1e-6 (which JavaScript writes
   * differently). With at most 15 significant digits a decimal is its double's shortest form, so
   * these digits are exactly what JSON.stringify writes.
   */
  private price(text: Buffer, from: number, to: number): boolean {
    let i = from;
    while (i < to && isDigit(text[i]!)) i++;
    const intEnd = i;
    if (intEnd === from) return false;
    const intStart = from + leadingZeros(text, from, intEnd - 1);
    if (intEnd - intStart > 9) return false;
    let fractionEnd = intEnd;
    if (i < to) {
      if (text[i] !== dot) return false;
      for (i++; i < to; i++) if (!isDigit(text[i]!)) return false;
      fractionEnd = to;
      while (fractionEnd > intEnd + 1 && text[fractionEnd - 1] === zero) fractionEnd--;
      if (fractionEnd === intEnd + 1) fractionEnd = intEnd;
    }
    const wholeIsZero = text[intStart] === zero;
    const fractionZeros = wholeIsZero && fractionEnd > intEnd ? leadingZeros(text, intEnd + 1, fractionEnd) : 0;
    const significant = (wholeIsZero ? 0 : intEnd - intStart) + Math.max(0, fractionEnd - intEnd - 1) - fractionZeros;
    if (significant > 15 || fractionZeros > 5) return false;
    this.intStart = intStart;
    this.intEnd = intEnd;
    this.fractionEnd = fractionEnd;
    return true;
  }

  private eventType(text: Buffer, from: number, to: number): Buffer | undefined {
    for (const type of eventTypes) if (type.length === to - from && sameBytes(text, from, type)) return type;
    return undefined;
  }
}

/** Whether a field is taken as it is: no space at either end (the general path trims), not over MAX_FIELD_CHARS. */
function fieldFits(text: Buffer, from: number, to: number): boolean {
  return to === from || (to - from <= MAX_FIELD_CHARS && text[from] !== space && text[to - 1] !== space);
}

/** `count` decimal digits at `from` as a number; -1 if one is not a digit. */
function digits(text: Buffer, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const digit = text[i]! - zero;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Copies source[from, to) to `out` at `at`; returns the offset after it. A loop: the spans are short, shorter than a native copy's call costs. */
function copy(source: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  for (let i = from; i < to; i++) out[at++] = source[i]!;
  return at;
}

/** A non-negative integer's decimal digits at `at`; returns the offset after them. */
function writeDigits(out: Uint8Array, at: number, value: number): number {
  // Small integers divide as int32, several times faster than Math.floor on doubles.
  if (value > 0x7fffffff) {
    const high = Math.floor(value / 1e9);
    at = writeDigits(out, at, high);
    return writePadded(out, at, value - high * 1e9, 9);
  }
  let end = at + 1;
  for (let rest = value; rest >= 10; rest = (rest / 10) | 0) end++;
  return writePadded(out, at, value, end - at);
}

/** How many decimal digits a non-negative integer has. */
function digitCount(value: number): number {
  let count = 1;
  for (let power = 10; power <= value; power *= 10) count++;
  return count;
}

/** `value` (below 2^31) as exactly `count` digits, zeros first. */
function writePadded(out: Uint8Array, at: number, value: number, count: number): number {
  for (let i = at + count - 1, rest = value; i >= at; i--) {
    const next = (rest / 10) | 0;
    out[i] = zero + rest - next * 10;
    rest = next;
  }
  return at + count;
}

/** Whether text[from, from + expected.length) is `expected`. */
function sameBytes(text: Buffer, from: number, expected: Buffer): boolean {
  for (let i = 0; i < expected.length; i++) if (text[from + i] !== expected[i]) return false;
  return true;
}

const isDigit = (byte: number): boolean => byte >= zero && byte <= zero + 9;

/** Zeros from `from` on, stopping before `limit`. */
function leadingZeros(text: Buffer, from: number, limit: number): number {
  let i = from;
  while (i < limit && text[i] === zero) i++;
  return i - from;
}
