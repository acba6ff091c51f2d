// Dataset presets: how each known CSV layout maps onto the canonical EcommerceEvent. A preset is
// detected from the header (or forced by config); each compiles to a RowMapper that turns one CSV
// record into an event or a Rejection with a reason code (a bounded metric label) and a message.
import { ConfigError } from '../core/env';
import { EVENT_SCHEMA_VERSION, EVENT_TYPES, MAX_AMOUNT, MAX_EVENT_TIME, MAX_FIELD_CHARS, type EcommerceEvent, type EventType } from '../core/event';
import type { ColumnMapping, MappableField, PresetName, ProducerSettings } from './config';
import { compileTimeFormat, onlineRetailTimeFormat, rees46TimeFormat, type TimeParser } from './time-format';

export const rejectReasons = [
  'csv_syntax', 'column_count', 'missing_field', 'bad_number', 'bad_time', 'unknown_event_type', 'negative_price', 'bad_quantity', 'field_too_long',
] as const;
export type RejectReason = (typeof rejectReasons)[number];

export class Rejection extends Error {
  constructor(readonly reason: RejectReason, message: string) {
    super(message);
    this.name = 'Rejection';
  }
}

export const rees46Columns = ['event_time', 'event_type', 'product_id', 'category_id', 'category_code', 'brand', 'price', 'user_id', 'user_session'];
export const onlineRetailColumns = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'];

/** Maps one record (already split into fields) to an event; throws Rejection. */
export type RowMapper = (fields: string[], eventId: string) => EcommerceEvent;

export interface CompiledPreset {
  name: PresetName;
  map: RowMapper;
}

/** The preset a header belongs to, or undefined when it matches none (the config must then give a mapping). */
export function detectPreset(header: string[]): PresetName | undefined {
  const has = (columns: string[]) => columns.every((c) => header.includes(c));
  if (has(rees46Columns)) return 'rees46';
  if (has(onlineRetailColumns)) return 'online-retail';
  return undefined;
}

/** Chooses and compiles the preset for a file's header; throws a ConfigError naming what does not fit. */
export function compilePreset(header: string[], settings: Pick<ProducerSettings, 'preset' | 'mapping' | 'timeZone'>): CompiledPreset {
  const name = settings.preset === 'auto' ? (detectPreset(header) ?? (settings.mapping ? 'custom' : undefined)) : settings.preset;
  if (name === undefined) {
    throw new ConfigError([`the header [${header.join(', ')}] matches no preset (rees46: ${rees46Columns.join(',')}; online-retail: ${onlineRetailColumns.join(',')}); set PRODUCER_MAPPING for other files`]);
  }
  if (name === 'rees46') return { name, map: rees46Mapper(new Columns(header, rees46Columns)) };
  if (name === 'online-retail') return { name, map: onlineRetailMapper(new Columns(header, onlineRetailColumns), settings.timeZone) };
  if (!settings.mapping) throw new ConfigError(['PRODUCER_PRESET=custom needs PRODUCER_MAPPING']);
  return { name, map: customMapper(header, settings.mapping, settings.timeZone) };
}

/** Column positions by name, checked against the header once. */
class Columns {
  private readonly index = new Map<string, number>();
  constructor(readonly header: string[], required: string[]) {
    header.forEach((name, i) => this.index.set(name, i));
    const missing = required.filter((c) => !this.index.has(c));
    if (missing.length > 0) throw new ConfigError([`the header [${header.join(', ')}] lacks column(s) ${missing.join(', ')}`]);
  }
  at(name: string): number {
    return this.index.get(name)!;
  }
}

function checkColumnCount(fields: string[], expected: number): void {
  if (fields.length !== expected) throw new Rejection('column_count', `wrong column count: ${fields.length} fields, the header has ${expected}`);
}

/** A value quoted for a message, cut so that no field can make a message (or a dead letter) large. */
export function quote(text: string, max = 80): string {
  return text.length > max ? `${JSON.stringify(text.slice(0, max))}… (${text.length} characters)` : JSON.stringify(text);
}

const optional = (text: string | undefined, column = 'field'): string | null => {
  const trimmed = text?.trim();
  if (trimmed && trimmed.length > MAX_FIELD_CHARS) throw new Rejection('field_too_long', `${column} has ${trimmed.length} characters, more than ${MAX_FIELD_CHARS}`);
  return trimmed ? trimmed : null;
};

function required(text: string | undefined, column: string): string {
  const value = optional(text, column);
  if (value === null) throw new Rejection('missing_field', `missing required field ${column}`);
  return value;
}

/** A required value that is parsed further (number, time, type): its own check names what is wrong with it, whatever its length. */
function present(text: string | undefined, column: string): string {
  const trimmed = text?.trim();
  if (!trimmed) throw new Rejection('missing_field', `missing required field ${column}`);
  return trimmed;
}

const numberPattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseNumber(text: string | undefined, column: string): number {
  const value = present(text, column);
  if (!numberPattern.test(value)) throw new Rejection('bad_number', `${column} ${quote(value)} is not a number`);
  const number = Number(value);
  // 1e400 matches the pattern but is Infinity, which JSON would write as null.
  if (!Number.isFinite(number)) throw new Rejection('bad_number', `${column} ${quote(value)} is out of range`);
  return number;
}

function parsePrice(text: string | undefined, column: string): number {
  const price = parseNumber(text, column);
  if (price < 0) throw new Rejection('negative_price', `${column} ${price} is negative`);
  if (price > MAX_AMOUNT) throw new Rejection('bad_number', `${column} ${price} is above ${MAX_AMOUNT}`);
  return price;
}

/** A unit price for `units` units: the consumer sums revenue in millionths, so price × quantity must keep that exact. */
function parseUnitPrice(text: string | undefined, column: string, units: number, unitsColumn: string): number {
  const price = parsePrice(text, column);
  const amount = price * Math.abs(units);
  if (amount > MAX_AMOUNT) throw new Rejection('bad_number', `${column} ${price} × ${unitsColumn} ${Math.abs(units)} = ${amount} is above ${MAX_AMOUNT}`);
  return price;
}

function parseTime(parser: TimeParser, text: string | undefined, column: string): number {
  const value = present(text, column);
  // Longer than any time format: say so rather than quote it whole.
  if (value.length > 100) throw new Rejection('bad_time', `${column} ${quote(value)} is not a time`);
  const result = parser(value);
  if (typeof result === 'string') throw new Rejection('bad_time', `${column}: ${result}`);
  if (result < 0) throw new Rejection('bad_time', `${column} ${quote(text ?? '')} is before 1970`);
  if (result > MAX_EVENT_TIME) throw new Rejection('bad_time', `${column} ${quote(text ?? '')} is after the year 9999`);
  return result;
}

function parseEventType(text: string | undefined, column: string, aliases: Record<string, EventType> = {}): EventType {
  const value = present(text, column);
  const type = aliases[value] ?? value;
  if (!(EVENT_TYPES as readonly string[]).includes(type)) {
    throw new Rejection('unknown_event_type', `${column} ${quote(value)} is not one of ${EVENT_TYPES.join(', ')}`);
  }
  return type as EventType;
}

function rees46Mapper(c: Columns): RowMapper {
  const time = compileTimeFormat(rees46TimeFormat);
  const [t, type, product, categoryId, categoryCode, brand, price, user, session] = rees46Columns.map((name) => c.at(name)) as [number, number, number, number, number, number, number, number, number];
  const width = c.header.length;
  return (f, eventId) => {
    checkColumnCount(f, width);
    return {
      schemaVersion: EVENT_SCHEMA_VERSION,
      eventId,
      eventTime: parseTime(time, f[t], 'event_time'),
      eventType: parseEventType(f[type], 'event_type'),
      productId: required(f[product], 'product_id'),
      categoryId: optional(f[categoryId], 'category_id'),
      categoryCode: optional(f[categoryCode], 'category_code'),
      brand: optional(f[brand], 'brand'),
      price: parsePrice(f[price], 'price'),
      quantity: 1,
      userId: optional(f[user], 'user_id'),
      sessionId: optional(f[session], 'user_session'),
      country: null,
      source: 'rees46',
    };
  };
}

/** Online Retail's InvoiceDate is zone-less: read in the configured zone (default Europe/London, the shop's). */
function onlineRetailTime(timeZone: string): TimeParser {
  const kaggle = compileTimeFormat(onlineRetailTimeFormat, timeZone);
  // Some exports of the UCI workbook write ISO-like local times instead.
  const workbook = compileTimeFormat('YYYY-MM-DD HH:mm:ss', timeZone);
  return (text) => (text.includes('/') ? kaggle(text) : workbook(text));
}

function onlineRetailMapper(c: Columns, timeZone: string): RowMapper {
  const time = onlineRetailTime(timeZone);
  const [invoice, stock, , quantity, date, unitPrice, customer, country] = onlineRetailColumns.map((name) => c.at(name)) as [number, number, number, number, number, number, number, number];
  const width = c.header.length;
  return (f, eventId) => {
    checkColumnCount(f, width);
    const invoiceNo = required(f[invoice], 'InvoiceNo');
    const cancellation = invoiceNo.startsWith('C');
    const units = parseNumber(f[quantity], 'Quantity');
    // A cancellation carries a negative quantity; anything else negative or zero is not a sale.
    if (units === 0 || (units < 0 && !cancellation) || !Number.isFinite(units)) {
      throw new Rejection('bad_quantity', `Quantity ${units} on invoice ${invoiceNo} is not a sale${units < 0 ? ' (negative but not a C… cancellation)' : ''}`);
    }
    return {
      schemaVersion: EVENT_SCHEMA_VERSION,
      eventId,
      eventTime: parseTime(time, f[date], 'InvoiceDate'),
      eventType: cancellation ? 'refund' : 'purchase',
      productId: required(f[stock], 'StockCode'),
      categoryId: null,
      categoryCode: null,
      brand: null,
      price: parseUnitPrice(f[unitPrice], 'UnitPrice', units, 'Quantity'),
      quantity: Math.abs(units),
      // Spreadsheet round trips turn 17850 into 17850.0.
      userId: optional(f[customer], 'CustomerID')?.replace(/\.0+$/, '') ?? null,
      sessionId: invoiceNo,
      country: optional(f[country], 'Country'),
      source: 'online-retail',
    };
  };
}

function customMapper(header: string[], mapping: ColumnMapping, timeZone: string): RowMapper {
  const m = mapping.columns;
  const named = Object.values(m).filter((v): v is string => v !== undefined);
  const c = new Columns(header, named);
  const time = compileTimeFormat(mapping.timeFormat, timeZone);
  const pick = (field: keyof ColumnMapping['columns']) => (m[field] === undefined ? undefined : { column: m[field], at: c.at(m[field]) });
  const [t, type, product, price, quantity] = [pick('eventTime')!, pick('eventType'), pick('productId')!, pick('price')!, pick('quantity')];
  const optionalAt = Object.fromEntries((['categoryId', 'categoryCode', 'brand', 'userId', 'sessionId', 'country'] as const).map((field) => [field, pick(field)?.at]));
  const text = (f: string[], field: keyof typeof optionalAt) => {
    const at = optionalAt[field];
    return at === undefined ? null : optional(f[at], m[field as MappableField]);
  };
  const width = header.length;
  return (f, eventId) => {
    checkColumnCount(f, width);
    const units = quantity ? parseNumber(f[quantity.at], quantity.column) : 1;
    if (!(units > 0)) throw new Rejection('bad_quantity', `${quantity?.column ?? 'quantity'} ${units} is not a positive number`);
    return {
      schemaVersion: EVENT_SCHEMA_VERSION,
      eventId,
      eventTime: parseTime(time, f[t.at], t.column),
      eventType: type ? parseEventType(f[type.at], type.column, mapping.eventTypes) : mapping.eventType!,
      productId: required(f[product.at], product.column),
      categoryId: text(f, 'categoryId'),
      categoryCode: text(f, 'categoryCode'),
      brand: text(f, 'brand'),
      price: parseUnitPrice(f[price.at], price.column, units, quantity?.column ?? 'quantity'),
      quantity: units,
      userId: text(f, 'userId'),
      sessionId: text(f, 'sessionId'),
      country: text(f, 'country'),
      source: 'custom',
    };
  };
}
