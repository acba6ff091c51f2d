// Stage 1's transformation: a validated canonical event becomes the compact record the window
// stage aggregates, with its derived fields computed once, and the group keys it is counted under.
import type { EcommerceEvent, EventType } from '../core/event';
import type { GroupKeyKind } from './config';

export interface EnrichedEvent {
  eventId: string;
  eventTime: number;
  eventType: EventType;
  productId: string;
  /** First segment of categoryCode, lower-cased; `unknown` when the event has none. */
  topCategory: string;
  /** Trimmed, lower-cased brand; `unknown` when the event has none. */
  brand: string;
  /**
   * price × quantity of a purchase in millionths, rounded once per event: integer sums are exact
   * whatever order the window stage adds them in, so results do not depend on interleaving.
   */
  revenueMicros: number;
  /** Unit price in millionths, for the average purchase price. */
  priceMicros: number;
  userId: string | null;
  sessionId: string | null;
}

const UNKNOWN = 'unknown';

/** Categories and brands repeat across millions of events: each distinct text is normalised once (a bounded memo, cleared when full). */
const memoLimit = 10_000;

function memoised(normalise: (text: string) => string): (text: string | null | undefined) => string {
  const memo = new Map<string, string>();
  return (text) => {
    if (text === null || text === undefined) return UNKNOWN;
    let value = memo.get(text);
    if (value === undefined) {
      value = normalise(text);
      if (memo.size >= memoLimit) memo.clear();
      memo.set(text, value);
    }
    return value;
  };
}

export const topLevelCategory = memoised((categoryCode) => {
  const dot = categoryCode.indexOf('.');
  const top = (dot < 0 ? categoryCode : categoryCode.slice(0, dot)).trim().toLowerCase();
  return top ? top : UNKNOWN;
});

export const normaliseBrand = memoised((brand) => {
  const value = brand.trim().toLowerCase();
  return value ? value : UNKNOWN;
});

export function enrich(event: EcommerceEvent): EnrichedEvent {
  return {
    eventId: event.eventId,
    eventTime: event.eventTime,
    eventType: event.eventType,
    productId: event.productId,
    topCategory: topLevelCategory(event.categoryCode),
    brand: normaliseBrand(event.brand),
    revenueMicros: event.eventType === 'purchase' ? Math.round(event.price * event.quantity * 1e6) : 0,
    priceMicros: Math.round(event.price * 1e6),
    userId: event.userId,
    sessionId: event.sessionId,
  };
}

const categoryKey = memoised((top) => `category:${top}`);
const brandKey = memoised((brand) => `brand:${brand}`);

/** `category:<top>`, `brand:<brand>`, `overall`: the repartition key, so one key's events meet in one task. */
export function groupKeys(event: EnrichedEvent, kinds: readonly GroupKeyKind[]): string[] {
  return kinds.map((kind) => {
    if (kind === 'overall') return 'overall';
    return kind === 'category' ? categoryKey(event.topCategory) : brandKey(event.brand);
  });
}
