// One window's running aggregate for one group key, its changelog form, and the final result
// record (the documented output schema, see docs/consumer.md).
import { EVENT_TYPES, type EventType } from '../core/event';
import type { EnrichedEvent } from './enrich';
import type { WindowKind, WindowSpec } from './windows';

/** Plain JSON (the changelog value). Users and sessions are exact sets: memory grows with distinct ids per open window. */
export interface WindowAggregate {
  kind: WindowKind;
  key: string;
  start: number;
  end: number;
  eventsByType: Record<EventType, number>;
  revenueMicros: number;
  purchasePriceMicros: number;
  users: string[];
  sessions: string[];
  /** productId → [revenueMicros, purchases]; purchases only. */
  products: Record<string, [number, number]>;
}

export interface WindowResult {
  schemaVersion: 1;
  windowKind: WindowKind;
  windowSizeMs: number;
  windowAdvanceMs: number;
  windowStart: string;
  windowEnd: string;
  windowStartMs: number;
  windowEndMs: number;
  key: string;
  events: number;
  eventsByType: Record<EventType, number>;
  purchases: number;
  revenue: number;
  averagePurchasePrice: number | null;
  distinctUsers: number;
  distinctSessions: number;
  viewToPurchaseConversion: number | null;
  topProducts: { productId: string; revenue: number; purchases: number }[];
  lateRecords: number;
  /** Present (true) when the end of the input closed the window, before stream time reached end + grace. */
  endOfInput?: true;
}

export function emptyAggregate(kind: WindowKind, key: string, start: number, end: number): WindowAggregate {
  const eventsByType = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>;
  return { kind, key, start, end, eventsByType, revenueMicros: 0, purchasePriceMicros: 0, users: [], sessions: [], products: {} };
}

/** Adds an event. `seen` mirrors the id arrays as Sets (kept by the engine, rebuilt on restore) for O(1) membership. */
export function addToAggregate(agg: WindowAggregate, event: EnrichedEvent, seen: { users: Set<string>; sessions: Set<string> }): void {
  agg.eventsByType[event.eventType] += 1;
  // One lookup per id: a Set grows only when the id is new.
  if (event.userId !== null) {
    const before = seen.users.size;
    if (seen.users.add(event.userId).size !== before) agg.users.push(event.userId);
  }
  if (event.sessionId !== null) {
    const before = seen.sessions.size;
    if (seen.sessions.add(event.sessionId).size !== before) agg.sessions.push(event.sessionId);
  }
  if (event.eventType !== 'purchase') return;
  agg.revenueMicros += event.revenueMicros;
  agg.purchasePriceMicros += event.priceMicros;
  const product = agg.products[event.productId] ?? [0, 0];
  product[0] += event.revenueMicros;
  product[1] += 1;
  agg.products[event.productId] = product;
}

export function toResult(agg: WindowAggregate, spec: WindowSpec, topN: number, lateRecords: number): WindowResult {
  const purchases = agg.eventsByType.purchase;
  const views = agg.eventsByType.view;
  const topProducts = Object.entries(agg.products)
    .sort(([idA, [revA]], [idB, [revB]]) => revB - revA || (idA < idB ? -1 : idA > idB ? 1 : 0))
    .slice(0, topN)
    .map(([productId, [revenueMicros, count]]) => ({ productId, revenue: revenueMicros / 1e6, purchases: count }));
  return {
    schemaVersion: 1,
    windowKind: agg.kind,
    windowSizeMs: spec.sizeMs,
    windowAdvanceMs: spec.advanceMs,
    windowStart: new Date(agg.start).toISOString(),
    windowEnd: new Date(agg.end).toISOString(),
    windowStartMs: agg.start,
    windowEndMs: agg.end,
    key: agg.key,
    events: EVENT_TYPES.reduce((sum, t) => sum + agg.eventsByType[t], 0),
    eventsByType: { ...agg.eventsByType },
    purchases,
    revenue: agg.revenueMicros / 1e6,
    averagePurchasePrice: purchases === 0 ? null : Math.round(agg.purchasePriceMicros / purchases) / 1e6,
    distinctUsers: agg.users.length,
    distinctSessions: agg.sessions.length,
    viewToPurchaseConversion: views === 0 ? null : purchases / views,
    topProducts,
    lateRecords,
  };
}

/** `<kind>|<key>|<start ms>`: the output record key, unique per window and group key. */
export function resultKey(kind: WindowKind, key: string, start: number): string {
  return `${kind}|${key}|${start}`;
}
