// The canonical e-commerce event: what the producer writes to the raw topic whatever the source
// dataset, and what the consumer accepts. JSON, camelCase, versioned by `schemaVersion`.

export const EVENT_SCHEMA_VERSION = 1;

export const EVENT_TYPES = ['view', 'cart', 'remove_from_cart', 'purchase', 'refund'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EcommerceEvent {
  schemaVersion: typeof EVENT_SCHEMA_VERSION;
  /** Stable across replays of the same file: `<source file name>:<line number>`. */
  eventId: string;
  /** Event time, UTC epoch milliseconds. */
  eventTime: number;
  eventType: EventType;
  productId: string;
  categoryId: string | null;
  /** Dotted category path, e.g. `electronics.smartphone`. */
  categoryCode: string | null;
  brand: string | null;
  /** Unit price, in the dataset's currency, ≥ 0. */
  price: number;
  /** Units; 1 for datasets without quantities. Always > 0 (refunds are their own type). */
  quantity: number;
  userId: string | null;
  sessionId: string | null;
  country: string | null;
  /** The dataset preset the event came from (`rees46`, `online-retail`, `custom`). */
  source: string;
}

/** The latest event time accepted (the end of year 9999): window times must stay printable as ISO-8601. */
export const MAX_EVENT_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** The largest price and price × quantity accepted: one event's revenue in millionths (the consumer's money unit) stays an exact integer. */
export const MAX_AMOUNT = 1e9;
/** The longest text field accepted: ids, codes and names, never documents; keeps every record and window state small. */
export const MAX_FIELD_CHARS = 1000;

export type EventCheck = { ok: true; event: EcommerceEvent } | { ok: false; reason: string };

/** A value quoted in a reason, cut: a reason travels in a dead letter's header and must stay small whatever the message. */
const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}… (${text.length} characters)` : text;
};

const nullableString = (value: unknown): value is string | null => value === null || typeof value === 'string';

/** Validates an untrusted value (a message from the raw topic) against the canonical schema. */
export function checkEvent(value: unknown): EventCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const v = value as Record<string, unknown>;
  if (v.schemaVersion !== EVENT_SCHEMA_VERSION) return { ok: false, reason: `unsupported schemaVersion ${shown(v.schemaVersion)} (expected ${EVENT_SCHEMA_VERSION})` };
  if (typeof v.eventId !== 'string' || v.eventId === '') return { ok: false, reason: 'eventId missing' };
  if (typeof v.eventTime !== 'number' || !Number.isSafeInteger(v.eventTime) || v.eventTime < 0 || v.eventTime > MAX_EVENT_TIME) return { ok: false, reason: `eventTime ${shown(v.eventTime)} is not epoch milliseconds` };
  if (typeof v.eventType !== 'string' || !(EVENT_TYPES as readonly string[]).includes(v.eventType)) return { ok: false, reason: `eventType ${shown(v.eventType)} is not one of ${EVENT_TYPES.join(', ')}` };
  if (typeof v.productId !== 'string' || v.productId === '') return { ok: false, reason: 'productId missing' };
  if (typeof v.price !== 'number' || !Number.isFinite(v.price) || v.price < 0) return { ok: false, reason: `price ${shown(v.price)} is not a non-negative number` };
  if (typeof v.quantity !== 'number' || !Number.isFinite(v.quantity) || v.quantity <= 0) return { ok: false, reason: `quantity ${shown(v.quantity)} is not a positive number` };
  if (v.price * v.quantity > MAX_AMOUNT || v.price > MAX_AMOUNT) return { ok: false, reason: `price ${v.price} × quantity ${v.quantity} is above ${MAX_AMOUNT}` };
  for (const field of ['categoryId', 'categoryCode', 'brand', 'userId', 'sessionId', 'country'] as const) {
    if (!nullableString(v[field])) return { ok: false, reason: `${field} is neither a string nor null` };
  }
  for (const field of ['eventId', 'productId', 'categoryId', 'categoryCode', 'brand', 'userId', 'sessionId', 'country', 'source'] as const) {
    const text = v[field];
    if (typeof text === 'string' && text.length > MAX_FIELD_CHARS) return { ok: false, reason: `${field} is longer than ${MAX_FIELD_CHARS} characters` };
  }
  if (typeof v.source !== 'string') return { ok: false, reason: 'source missing' };
  return { ok: true, event: v as unknown as EcommerceEvent };
}

/** Parses raw message bytes; a non-JSON payload is a reason, never an exception. */
export function parseEventMessage(payload: Buffer | string | null): EventCheck {
  if (payload === null || payload.length === 0) return { ok: false, reason: 'empty message' };
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  return checkEvent(value);
}
