// A small seeded generator of canonical raw events for the consumer's tests, spread over raw
// partitions like the producer would, with out-of-order and late events, events on window
// boundaries, and (optionally) malformed messages the consumer must dead-letter.

export interface GeneratedMessage {
  key: string;
  /** The exact bytes written to the raw topic. */
  value: string;
  /** The reason class a malformed message must be rejected for; absent for a valid event. */
  malformed?: string;
}

export interface GeneratorOptions {
  seed: number;
  partitions: number;
  eventsPerPartition: number;
  /** Epoch ms of the first event. */
  start: number;
  /** Average event-time step between consecutive events of one partition. */
  stepMs: number;
  /** Out-of-order jitter: an event may be this much older than the partition's latest. */
  jitterMs: number;
  /** Share of events sent far in the past (late for most windows). */
  lateShare: number;
  lateByMs: number;
  /** Times are snapped to multiples of this with probability boundaryShare, to hit window edges. */
  boundaryMs: number;
  boundaryShare: number;
  malformedShare?: number;
}

export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const categories = ['electronics.smartphone', 'electronics.audio.headphone', 'Appliances.kitchen.washer', 'apparel.shoes', 'computers.notebook', null, ''];
const brands = ['Samsung', 'apple', ' Xiaomi ', 'APPLE', null, ''];
const types = ['view', 'view', 'view', 'view', 'cart', 'remove_from_cart', 'purchase', 'purchase', 'refund'];
const malformedKinds: { kind: string; make: (valid: Record<string, unknown>) => string }[] = [
  { kind: 'not JSON', make: () => '{"eventId": "broken' },
  { kind: 'eventType', make: (v) => JSON.stringify({ ...v, eventType: 'teleport' }) },
  { kind: 'price', make: (v) => JSON.stringify({ ...v, price: -3 }) },
  { kind: 'eventId missing', make: (v) => JSON.stringify({ ...v, eventId: '' }) },
  { kind: 'schemaVersion', make: (v) => JSON.stringify({ ...v, schemaVersion: 99 }) },
];

export function generateRawPartitions(options: GeneratorOptions): GeneratedMessage[][] {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const partitions: GeneratedMessage[][] = [];
  for (let p = 0; p < options.partitions; p++) {
    const messages: GeneratedMessage[] = [];
    let clock = options.start + Math.floor(random() * options.stepMs);
    for (let i = 0; i < options.eventsPerPartition; i++) {
      clock += Math.floor(random() * 2 * options.stepMs);
      let time = clock - Math.floor(random() * options.jitterMs);
      if (random() < options.lateShare) time = clock - options.lateByMs - Math.floor(random() * options.lateByMs);
      if (random() < options.boundaryShare) time = time - (time % options.boundaryMs) - (random() < 0.5 ? 1 : 0);
      const user = `u${Math.floor(random() * 40)}`;
      const event: Record<string, unknown> = {
        schemaVersion: 1,
        eventId: `gen-${options.seed}:${p}:${i}`,
        eventTime: Math.max(0, time),
        eventType: pick(types),
        productId: `p${Math.floor(random() * 15)}`,
        categoryId: random() < 0.9 ? `c${Math.floor(random() * 5)}` : null,
        categoryCode: pick(categories),
        brand: pick(brands),
        price: Math.round(random() * 100_000) / 100,
        quantity: 1 + Math.floor(random() * 3),
        userId: random() < 0.95 ? user : null,
        sessionId: random() < 0.95 ? `${user}-s${Math.floor(random() * 3)}` : null,
        country: null,
        source: 'custom',
      };
      if (random() < (options.malformedShare ?? 0)) {
        const bad = pick(malformedKinds);
        messages.push({ key: `k${p}-${i}`, value: bad.make(event), malformed: bad.kind });
      } else {
        messages.push({ key: `k${p}-${i}`, value: JSON.stringify(event) });
      }
    }
    partitions.push(messages);
  }
  return partitions;
}
