// The consumer's independent oracle: a plain batch computation of the window results the pipeline
// must commit, written from the definitions in docs/consumer.md alone. It shares no code with
// services/consumer (not even helpers or types): a bug there cannot hide here.
//
// Definitions it implements: stream time of a raw partition = largest event time read from it so
// far (including the event at hand); a record is late for a window [start, end) when that stream
// time ≥ end + grace; a window is emitted once the overall stream time (largest event time of all)
// reaches end + grace, when all partitions have gone quiet; "late records so far" of a window =
// records for its kind and key found late while their partition's stream time was < end + grace.
// With `endOfInput` (every partition ended with the producer's marker), every other window is
// emitted too, marked `endOfInput: true`.

export interface OracleEvent {
  eventId: string;
  eventTime: number;
  eventType: string;
  productId: string;
  categoryCode: string | null;
  brand: string | null;
  price: number;
  quantity: number;
  userId: string | null;
  sessionId: string | null;
}

export interface OracleOptions {
  tumblingSizeMs: number;
  slidingSizeMs: number;
  slidingAdvanceMs: number;
  graceMs: number;
  groupBy: string[];
  topN: number;
  /** The input ended on every partition: windows not yet due are emitted as well, marked. */
  endOfInput?: boolean;
}

export interface OracleOutput {
  /** Output key → result value, as the JSON the consumer writes. */
  results: Map<string, Record<string, unknown>>;
  /** `<kind>|<key>|<eventId>` → the window starts the record missed. */
  late: Map<string, number[]>;
}

interface Member {
  event: OracleEvent;
}

export function oracle(partitions: OracleEvent[][], options: OracleOptions): OracleOutput {
  const kinds = [
    { kind: 'tumbling', size: options.tumblingSizeMs, advance: options.tumblingSizeMs },
    { kind: 'sliding', size: options.slidingSizeMs, advance: options.slidingAdvanceMs },
  ];
  const members = new Map<string, { kind: string; size: number; advance: number; key: string; start: number; list: Member[] }>();
  const lateMarks = new Map<string, number[]>();
  const late = new Map<string, number[]>();
  let overall = -1;
  for (const events of partitions) {
    let streamTime = -1;
    for (const event of events) {
      if (event.eventTime > streamTime) streamTime = event.eventTime;
      if (event.eventTime > overall) overall = event.eventTime;
      for (const key of keysOf(event, options.groupBy)) {
        for (const w of kinds) {
          const missed: number[] = [];
          const first = Math.max(0, Math.ceil((event.eventTime - w.size + 1) / w.advance));
          for (let n = first; n * w.advance <= event.eventTime; n++) {
            const start = n * w.advance;
            if (streamTime >= start + w.size + options.graceMs) {
              missed.push(start);
              continue;
            }
            const id = `${w.kind}|${key}|${start}`;
            if (!members.has(id)) members.set(id, { kind: w.kind, size: w.size, advance: w.advance, key, start, list: [] });
            members.get(id)!.list.push({ event });
          }
          if (missed.length > 0) {
            late.set(`${w.kind}|${key}|${event.eventId}`, missed);
            const marks = lateMarks.get(`${w.kind}|${key}`) ?? [];
            marks.push(streamTime);
            lateMarks.set(`${w.kind}|${key}`, marks);
          }
        }
      }
    }
  }
  const results = new Map<string, Record<string, unknown>>();
  for (const [id, w] of members) {
    const end = w.start + w.size;
    const due = end + options.graceMs <= overall;
    if (!due && !options.endOfInput) continue;
    const marks = lateMarks.get(`${w.kind}|${w.key}`) ?? [];
    const lateCount = marks.filter((t) => t < end + options.graceMs).length;
    const result = summarise(w.kind, w.size, w.advance, w.key, w.start, w.list.map((m) => m.event), options.topN, lateCount);
    results.set(id, due ? result : { ...result, endOfInput: true });
  }
  return { results, late };
}

function keysOf(event: OracleEvent, groupBy: string[]): string[] {
  const keys: string[] = [];
  for (const g of groupBy) {
    if (g === 'overall') keys.push('overall');
    if (g === 'category') {
      const code = event.categoryCode === null ? '' : event.categoryCode;
      const head = code.indexOf('.') >= 0 ? code.substring(0, code.indexOf('.')) : code;
      keys.push('category:' + (head.trim() === '' ? 'unknown' : head.trim().toLowerCase()));
    }
    if (g === 'brand') {
      const b = event.brand === null ? '' : event.brand.trim();
      keys.push('brand:' + (b === '' ? 'unknown' : b.toLowerCase()));
    }
  }
  return keys;
}

function summarise(kind: string, size: number, advance: number, key: string, start: number, events: OracleEvent[], topN: number, lateRecords: number): Record<string, unknown> {
  const count = (type: string) => events.filter((e) => e.eventType === type).length;
  const purchases = events.filter((e) => e.eventType === 'purchase');
  let revenueMicros = 0;
  let priceMicros = 0;
  const byProduct = new Map<string, { micros: number; n: number }>();
  for (const p of purchases) {
    const micros = Math.round(p.price * p.quantity * 1e6);
    revenueMicros += micros;
    priceMicros += Math.round(p.price * 1e6);
    const entry = byProduct.get(p.productId) ?? { micros: 0, n: 0 };
    entry.micros += micros;
    entry.n += 1;
    byProduct.set(p.productId, entry);
  }
  const ranked = [...byProduct.entries()].sort((a, b) => (b[1].micros !== a[1].micros ? b[1].micros - a[1].micros : a[0] < b[0] ? -1 : 1));
  const users = new Set(events.filter((e) => e.userId !== null).map((e) => e.userId));
  const sessions = new Set(events.filter((e) => e.sessionId !== null).map((e) => e.sessionId));
  const views = count('view');
  return {
    schemaVersion: 1,
    windowKind: kind,
    windowSizeMs: size,
    windowAdvanceMs: advance,
    windowStart: new Date(start).toISOString(),
    windowEnd: new Date(start + size).toISOString(),
    windowStartMs: start,
    windowEndMs: start + size,
    key,
    events: events.length,
    eventsByType: { view: views, cart: count('cart'), remove_from_cart: count('remove_from_cart'), purchase: purchases.length, refund: count('refund') },
    purchases: purchases.length,
    revenue: revenueMicros / 1e6,
    averagePurchasePrice: purchases.length > 0 ? Math.round(priceMicros / purchases.length) / 1e6 : null,
    distinctUsers: users.size,
    distinctSessions: sessions.size,
    viewToPurchaseConversion: views > 0 ? purchases.length / views : null,
    topProducts: ranked.slice(0, topN).map(([productId, v]) => ({ productId, revenue: v.micros / 1e6, purchases: v.n })),
    lateRecords,
  };
}
