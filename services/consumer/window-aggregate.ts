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

/** Distinct ids in insertion order, and the same as Sets (kept by the engine, rebuilt on restore) for O(1) membership. */
export interface IdSets {
  users: string[];
  sessions: string[];
  seen: { users: Set<string>; sessions: Set<string> };
}

/** Adds an event: its counters and its ids. */
export function addToAggregate(agg: WindowAggregate, event: EnrichedEvent, seen: IdSets['seen']): void {
  addCounters(agg, event);
  addIds({ users: agg.users, sessions: agg.sessions, seen }, event);
}

/** Adds an event's user and session, each once. */
export function addIds(ids: IdSets, event: Pick<EnrichedEvent, 'userId' | 'sessionId'>): void {
  // One lookup per id: a Set grows only when the id is new.
  if (event.userId !== null) {
    const before = ids.seen.users.size;
    if (ids.seen.users.add(event.userId).size !== before) ids.users.push(event.userId);
  }
  if (event.sessionId !== null) {
    const before = ids.seen.sessions.size;
    if (ids.seen.sessions.add(event.sessionId).size !== before) ids.sessions.push(event.sessionId);
  }
}

/** Adds an event to everything but the ids. */
function addCounters(agg: WindowAggregate, event: EnrichedEvent): void {
  agg.eventsByType[event.eventType] += 1;
  if (event.eventType !== 'purchase') return;
  agg.revenueMicros += event.revenueMicros;
  agg.purchasePriceMicros += event.priceMicros;
  const product = agg.products[event.productId] ?? [0, 0];
  product[0] += event.revenueMicros;
  product[1] += 1;
  agg.products[event.productId] = product;
}

/** Adds another aggregate of the same window (a pane of it): counters summed, ids united through `seen`. */
export function addAggregate(sum: WindowAggregate, seen: IdSets['seen'], part: WindowAggregate): void {
  for (const type of EVENT_TYPES) sum.eventsByType[type] += part.eventsByType[type];
  sum.revenueMicros += part.revenueMicros;
  sum.purchasePriceMicros += part.purchasePriceMicros;
  for (const [productId, [revenueMicros, purchases]] of Object.entries(part.products)) {
    const product = sum.products[productId] ?? [0, 0];
    product[0] += revenueMicros;
    product[1] += purchases;
    sum.products[productId] = product;
  }
  addIdLists(sum, seen, part);
}

/** Lists of users and sessions (another aggregate's, a changelog part's) into an aggregate, each id once. */
export function addIdLists(agg: WindowAggregate, seen: IdSets['seen'], lists: { users: readonly string[]; sessions: readonly string[] }): void {
  const ids: IdSets = { users: agg.users, sessions: agg.sessions, seen };
  for (const userId of lists.users) addIds(ids, { userId, sessionId: null });
  for (const sessionId of lists.sessions) addIds(ids, { userId: null, sessionId });
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
