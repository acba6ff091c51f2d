// What stage 1 writes to the repartition topic and stage 2 reads: keyed events, and watermarks
// that tell every window task how far each raw partition's stream time has got.
import { EVENT_TYPES } from '../core/event';
import type { EnrichedEvent } from './enrich';

/** An event re-keyed by one of its group keys, with its source partition's stream time when stage 1 read it. */
export interface KeyedEventRecord {
  type: 'event';
  /** Raw-topic partition the event came from. */
  source: number;
  /** That partition's stream time (largest event time seen) including this event: decides lateness. */
  streamTime: number;
  key: string;
  event: EnrichedEvent;
}

/**
 * A raw partition's stream time, sent to every repartition partition after each transaction that
 * advanced it; `idle` says the partition has been quiet (and caught up) for the idle timeout.
 */
export interface WatermarkRecord {
  type: 'watermark';
  source: number;
  /** How many raw partitions exist: a window task waits for a watermark (or idle mark) from each. */
  sources: number;
  /** -1 when the partition has never had an event. */
  streamTime: number;
  idle: boolean;
  /** The partition's input has ended (an end-of-input marker, and no event since). Absent in older records: false. */
  ended?: boolean;
}

/**
 * Several events of one raw partition under one group key, in the order stage 1 read them: what
 * stage 1 writes, one record per group key and fetched batch (split at packBytes), instead of a
 * record per event and key. Kafka's cost is per record as much as per byte (kafkajs encodes,
 * allocates and decodes each one), and stage 2 applies the items one by one, exactly as separate
 * event records.
 */
export interface EventPackRecord {
  type: 'events';
  source: number;
  key: string;
  events: { streamTime: number; event: EnrichedEvent }[];
}

/** What the window engine takes, one at a time. */
export type RepartitionRecord = KeyedEventRecord | WatermarkRecord;

/** A pack's JSON stays under this many bytes, well within a batch of the repartition topic's max.message.bytes. */
export const packBytes = 128 * 1024;

/**
 * An event pack as stage 1 writes it: `{"type":"rows","source","key","rows":[…]}` with each item a
 * row (eventRowJson) rather than an object, which names every field of every event again. Packs of
 * objects (`"type":"events"`, from consumers before this form) are still read.
 */
export function eventRowsJson(source: number, key: string, rows: readonly string[]): string {
  return `{"type":"rows","source":${source},"key":${JSON.stringify(key)},"rows":[${rows.join(',')}]}`;
}

/** One item of an event pack: [streamTime, eventId, eventTime, eventType, productId, topCategory, brand, revenueMicros, priceMicros, userId, sessionId]. */
export function eventRowJson(streamTime: number, e: EnrichedEvent): string {
  return JSON.stringify([streamTime, e.eventId, e.eventTime, e.eventType, e.productId, e.topCategory, e.brand, e.revenueMicros, e.priceMicros, e.userId, e.sessionId]);
}

/** A row back as the item it stands for, or what is wrong with it. */
function rowItem(row: unknown): { streamTime: number; event: EnrichedEvent } | string {
  if (!Array.isArray(row) || row.length !== 11) return 'not a row of 11 fields';
  const [streamTime, eventId, eventTime, eventType, productId, topCategory, brand, revenueMicros, priceMicros, userId, sessionId] = row as unknown[];
  if (!isInt(streamTime, 0)) return 'bad streamTime';
  const event = { eventId, eventTime, eventType, productId, topCategory, brand, revenueMicros, priceMicros, userId, sessionId };
  return checkEnriched(event) ?? { streamTime, event: event as EnrichedEvent };
}

/** A pack's items as the event records they stand for, in order. */
export function unpack(pack: EventPackRecord): KeyedEventRecord[] {
  return pack.events.map(({ streamTime, event }) => ({ type: 'event', source: pack.source, streamTime, key: pack.key, event }));
}

/** A record as read from the repartition topic: an event pack stands for several event records. */
export type RecordCheck = { ok: true; record: RepartitionRecord | EventPackRecord } | { ok: false; reason: string };

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

export function parseRepartitionRecord(payload: Buffer | null): RecordCheck {
  if (!payload || payload.length === 0) return { ok: false, reason: 'empty repartition record' };
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch (error) {
    return { ok: false, reason: `repartition record is not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'repartition record is not an object' };
  const v = value as Record<string, unknown>;
  if (v.type === 'watermark') {
    if (!isInt(v.source, 0) || !isInt(v.sources, 1) || !isInt(v.streamTime, -1) || typeof v.idle !== 'boolean' || v.source >= v.sources || !(v.ended === undefined || typeof v.ended === 'boolean')) {
      return { ok: false, reason: 'watermark record has a bad source, sources, streamTime, idle or ended field' };
    }
    return { ok: true, record: v as unknown as WatermarkRecord };
  }
  if (v.type === 'rows') {
    if (!isInt(v.source, 0) || typeof v.key !== 'string' || v.key === '' || !Array.isArray(v.rows) || v.rows.length === 0) {
      return { ok: false, reason: 'event pack has a bad source, key or rows field' };
    }
    const events = new Array<EventPackRecord['events'][number]>(v.rows.length);
    for (let i = 0; i < v.rows.length; i++) {
      const item = rowItem(v.rows[i]);
      if (typeof item === 'string') return { ok: false, reason: `event pack row ${i}: ${item}` };
      events[i] = item;
    }
    return { ok: true, record: { type: 'events', source: v.source, key: v.key, events } };
  }
  if (v.type === 'events') {
    if (!isInt(v.source, 0) || typeof v.key !== 'string' || v.key === '' || !Array.isArray(v.events) || v.events.length === 0) {
      return { ok: false, reason: 'event pack has a bad source, key or events field' };
    }
    for (let i = 0; i < v.events.length; i++) {
      const item = v.events[i] as { streamTime?: unknown; event?: unknown } | null;
      if (typeof item !== 'object' || item === null || !isInt(item.streamTime, 0)) return { ok: false, reason: `event pack item ${i}: bad streamTime` };
      const problem = checkEnriched(item.event);
      if (problem) return { ok: false, reason: `event pack item ${i}: ${problem}` };
    }
    return { ok: true, record: v as unknown as EventPackRecord };
  }
  if (v.type !== 'event') return { ok: false, reason: `repartition record type ${JSON.stringify(v.type)} is neither event, rows, events nor watermark` };
  if (!isInt(v.source, 0) || !isInt(v.streamTime, 0) || typeof v.key !== 'string' || v.key === '') {
    return { ok: false, reason: 'event record has a bad source, streamTime or key' };
  }
  const problem = checkEnriched(v.event);
  return problem ? { ok: false, reason: `event record: ${problem}` } : { ok: true, record: v as unknown as KeyedEventRecord };
}

function checkEnriched(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'event is not an object';
  const e = value as Record<string, unknown>;
  if (typeof e.eventId !== 'string' || typeof e.productId !== 'string') return 'eventId or productId missing';
  if (!isInt(e.eventTime, 0)) return 'eventTime is not epoch milliseconds';
  if (typeof e.eventType !== 'string' || !(EVENT_TYPES as readonly string[]).includes(e.eventType)) return `eventType ${JSON.stringify(e.eventType)} unknown`;
  if (typeof e.topCategory !== 'string' || typeof e.brand !== 'string') return 'topCategory or brand missing';
  if (!isInt(e.revenueMicros, 0) || !isInt(e.priceMicros, 0)) return 'revenueMicros or priceMicros is not a non-negative integer';
  if (!isNullableString(e.userId) || !isNullableString(e.sessionId)) return 'userId or sessionId is neither string nor null';
  return undefined;
}
