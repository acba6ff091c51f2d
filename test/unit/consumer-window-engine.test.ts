// The window engine (with stage 1's pure repartitioner in front of it) against the independent
// oracle, on generated data with out-of-order and late events, window edges, overlapping sliding
// windows and several keys; fed in different interleavings, with crashes and changelog restores.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupKeyKind } from '../../services/consumer/config';
import { parseRepartitionRecord, unpack, type RepartitionRecord } from '../../services/consumer/repartition-records';
import { packEvents, repartitionBatch, watermark, type RawMessage } from '../../services/consumer/repartitioner';
import { WindowEngine, type EngineSpec } from '../../services/consumer/window-engine';
import { endOfInputMessages } from '../../services/core/end-of-input';
import { generateRawPartitions, seededRandom, type GeneratedMessage } from '../support/consumer-events';
import { oracle, type OracleEvent, type OracleOptions } from '../support/oracle';

const options: OracleOptions = { tumblingSizeMs: 10_000, slidingSizeMs: 30_000, slidingAdvanceMs: 10_000, graceMs: 5_000, groupBy: ['category', 'overall', 'brand'], topN: 3 };
const spec: EngineSpec = {
  windows: [
    { kind: 'tumbling', sizeMs: options.tumblingSizeMs, advanceMs: options.tumblingSizeMs },
    { kind: 'sliding', sizeMs: options.slidingSizeMs, advanceMs: options.slidingAdvanceMs },
  ],
  graceMs: options.graceMs,
  topN: options.topN,
};

interface PipelineOutput {
  results: Map<string, unknown>;
  late: Map<string, number[]>;
  deadLetters: string[];
}

/** Stage 1 per raw partition in random batch sizes: each batch is the ordered list of (repartition partition, record). */
function stageOne(raw: GeneratedMessage[][], repartitions: number, random: () => number, endOfInput = false): { perSource: [number, RepartitionRecord][][][]; deadLetters: string[] } {
  const deadLetters: string[] = [];
  const marker = endOfInputMessages(raw.length, { file: 'f.csv', line: 1, sent: 0, rejected: 0 })[0]!;
  const perSource = raw.map((messages, source) => {
    const batches: [number, RepartitionRecord][][] = [];
    let streamTime = -1;
    let ended = false;
    // The producer's marker is the partition's last record, in the batch with its last events.
    const input: RawMessage[] = messages.map((m, i) => ({ offset: String(i), key: Buffer.from(m.key), value: Buffer.from(m.value) }));
    if (endOfInput) input.push({ offset: String(messages.length), key: null, value: Buffer.from(marker.value as string), headers: marker.headers! });
    for (let i = 0; i < input.length; ) {
      const size = 1 + Math.floor(random() * 25);
      const batch = input.slice(i, i + size);
      i += size;
      const out = repartitionBatch(source, streamTime, batch, options.groupBy as GroupKeyKind[], ended);
      streamTime = out.streamTime;
      ended = out.ended;
      deadLetters.push(...out.rejected.map((r) => r.reason));
      // As stage 1 writes them: event packs, one per group key, so a source's events reach a
      // repartition partition grouped by key, not in the order read (repartition-stage.ts).
      const items: [number, RepartitionRecord][] = packEvents(source, out.records, repartitions).flatMap((pack) => {
        const check = parseRepartitionRecord(Buffer.from(pack.value));
        if (!check.ok || check.record.type !== 'events') throw new Error(`stage 1 wrote a bad pack: ${JSON.stringify(check)}`);
        return unpack(check.record).map((r): [number, RepartitionRecord] => [pack.partition, r]);
      });
      for (let q = 0; q < repartitions; q++) items.push([q, watermark(source, raw.length, streamTime, false, ended)]);
      batches.push(items);
    }
    if (!endOfInput) {
      const idle: [number, RepartitionRecord][] = [];
      for (let q = 0; q < repartitions; q++) idle.push([q, watermark(source, raw.length, streamTime, true)]);
      batches.push(idle);
    }
    return batches;
  });
  return { perSource, deadLetters };
}

/** A random merge of the sources' records for one repartition partition, keeping each source's order. */
function interleave(perSource: [number, RepartitionRecord][][][], q: number, random: () => number): RepartitionRecord[] {
  const queues = perSource.map((batches) => batches.flat().filter(([p]) => p === q).map(([, r]) => r));
  const merged: RepartitionRecord[] = [];
  while (queues.some((queue) => queue.length > 0)) {
    const live = queues.filter((queue) => queue.length > 0);
    const queue = live[Math.floor(random() * live.length)]!;
    const take = 1 + Math.floor(random() * 6);
    merged.push(...queue.splice(0, take));
  }
  return merged;
}

/** Stage 2 in transactions of random size; crashes throw away the in-flight transaction and restore from the changelog. */
function stageTwo(records: RepartitionRecord[], random: () => number, crashShare: number, out: PipelineOutput): void {
  const changelog = new Map<string, string>();
  let engine = new WindowEngine(spec);
  let position = 0;
  while (position < records.length) {
    const size = 1 + Math.floor(random() * 40);
    const chunk = records.slice(position, position + size);
    const results: [string, unknown][] = [];
    const late: [string, number[]][] = [];
    for (const record of chunk) {
      const emission = record.type === 'event' ? engine.onEvent(record) : engine.onWatermark(record);
      for (const r of emission.results) results.push([r.key, JSON.parse(JSON.stringify(r.result))]);
      for (const l of emission.late) late.push([`${l.kind}|${l.key}|${l.event.eventId}`, l.missedWindows.map((w) => w.start)]);
    }
    if (random() < crashShare) {
      engine = WindowEngine.restore(spec, new Map(changelog));
      continue;
    }
    for (const entry of engine.changes()) {
      if (entry.value === null) changelog.delete(entry.key);
      else changelog.set(entry.key, entry.value);
    }
    for (const [key, value] of results) {
      assert.ok(!out.results.has(key), `window ${key} emitted twice`);
      out.results.set(key, value);
    }
    for (const [key, starts] of late) {
      assert.ok(!out.late.has(key), `late record ${key} routed twice`);
      out.late.set(key, starts);
    }
    position += chunk.length;
  }
}

function runPipeline(raw: GeneratedMessage[][], seed: number, repartitions: number, crashShare: number, endOfInput = false): PipelineOutput {
  const random = seededRandom(seed);
  const { perSource, deadLetters } = stageOne(raw, repartitions, random, endOfInput);
  const out: PipelineOutput = { results: new Map(), late: new Map(), deadLetters };
  for (let q = 0; q < repartitions; q++) stageTwo(interleave(perSource, q, random), random, crashShare, out);
  return out;
}

function oracleOf(raw: GeneratedMessage[][], endOfInput = false) {
  const events = raw.map((messages) => messages.filter((m) => !m.malformed).map((m) => JSON.parse(m.value) as OracleEvent));
  return oracle(events, { ...options, endOfInput });
}

const generated = (seed: number, malformedShare = 0) =>
  generateRawPartitions({
    seed, partitions: 3, eventsPerPartition: 400, start: 1_700_000_000_000, stepMs: 400, jitterMs: 6_000,
    lateShare: 0.05, lateByMs: 20_000, boundaryMs: 5_000, boundaryShare: 0.15, malformedShare,
  });

describe('window engine against the oracle', () => {
  it('generated data: the same results and late records as the oracle, which are not trivial', () => {
    const raw = generated(1);
    const expected = oracleOf(raw);
    const got = runPipeline(raw, 11, 3, 0);
    assert.ok(expected.results.size > 100, `only ${expected.results.size} windows: the data does not exercise much`);
    assert.ok(expected.late.size > 20, 'the data has late records');
    assert.ok([...expected.results.values()].some((r) => (r.lateRecords as number) > 0), 'some result counts late records');
    assert.ok([...expected.results.values()].some((r) => (r.topProducts as unknown[]).length === 3), 'some result has a full top-N');
    assert.deepEqual(got.results, expected.results);
    assert.deepEqual(got.late, expected.late);
  });

  it('any interleaving of raw partitions, any repartition count, with crashes and restores: identical output', () => {
    const raw = generated(2);
    const expected = oracleOf(raw);
    for (const [seed, repartitions, crashShare] of [[21, 1, 0.2], [22, 4, 0.3], [23, 7, 0.1]] as const) {
      const got = runPipeline(raw, seed, repartitions, crashShare);
      assert.deepEqual(got.results, expected.results, `seed ${seed}`);
      assert.deepEqual(got.late, expected.late, `seed ${seed}`);
    }
  });

  it('end of input on every partition: the last windows close too, marked, with crashes and restores, as the oracle says', () => {
    const raw = generated(4);
    const expected = oracleOf(raw, true);
    const lastOnes = [...expected.results.values()].filter((r) => r.endOfInput === true).length;
    assert.ok(lastOnes > 5 && lastOnes < expected.results.size / 2, `${lastOnes} of ${expected.results.size} windows closed by the end of input`);
    for (const [seed, repartitions, crashShare] of [[41, 3, 0], [42, 2, 0.2]] as const) {
      const got = runPipeline(raw, seed, repartitions, crashShare, true);
      assert.deepEqual(got.results, expected.results, `seed ${seed}`);
      assert.deepEqual(got.late, expected.late, `seed ${seed}`);
    }
    assert.deepEqual(runPipeline(raw, 43, 3, 0, false).results, oracleOf(raw).results, 'without markers: the idle rule, as before');
  });

  it('malformed messages are rejected with their reason and change nothing else', () => {
    const raw = generated(3, 0.05);
    const malformed = raw.flat().filter((m) => m.malformed);
    assert.ok(malformed.length > 10);
    const got = runPipeline(raw, 31, 2, 0);
    assert.equal(got.deadLetters.length, malformed.length);
    for (const [i, m] of malformed.entries()) assert.ok(got.deadLetters[i]!.includes(m.malformed!), `${got.deadLetters[i]} should name ${m.malformed}`);
    assert.deepEqual(got.results, oracleOf(raw).results);
  });
});

const keyed = (source: number, streamTime: number, eventTime: number, extra: Partial<{ eventType: 'view' | 'purchase'; price: number; userId: string }> = {}): RepartitionRecord => ({
  type: 'event', source, streamTime, key: 'overall',
  event: {
    eventId: `e${source}-${eventTime}`, eventTime, eventType: extra.eventType ?? 'view', productId: 'p1', topCategory: 'unknown', brand: 'unknown',
    revenueMicros: extra.eventType === 'purchase' ? (extra.price ?? 1) * 1e6 : 0, priceMicros: (extra.price ?? 1) * 1e6, userId: extra.userId ?? 'u1', sessionId: null,
  },
});

function feed(engine: WindowEngine, records: RepartitionRecord[]) {
  const results = [];
  const late = [];
  for (const r of records) {
    const e = r.type === 'event' ? engine.onEvent(r) : engine.onWatermark(r);
    results.push(...e.results.map((x) => x.result));
    late.push(...e.late);
  }
  return { results, late };
}

describe('window engine semantics', () => {
  const tumblingOnly: EngineSpec = { windows: [{ kind: 'tumbling', sizeMs: 1000, advanceMs: 1000 }], graceMs: 200, topN: 2 };

  it('[start, end): an event at end - 1 is in the window, at end in the next; a window closes exactly at end + grace', () => {
    const engine = new WindowEngine(tumblingOnly);
    const early = feed(engine, [keyed(0, 999, 999), keyed(0, 1000, 1000), watermark(0, 1, 1199, false)]);
    assert.equal(early.results.length, 0, 'stream time end + grace - 1 keeps the window open');
    const closed = feed(engine, [watermark(0, 1, 1200, false)]);
    assert.equal(closed.results.length, 1);
    assert.equal(closed.results[0]!.windowStartMs, 0);
    assert.equal(closed.results[0]!.events, 1);
    assert.equal(closed.results[0]!.windowEnd, '1970-01-01T00:00:01.000Z');
  });

  it('a record whose partition has passed end + grace is late: routed with the windows it missed, counted in later windows', () => {
    const engine = new WindowEngine(tumblingOnly);
    assert.equal(feed(engine, [keyed(0, 1199, 1199), keyed(0, 1199, 500)]).late.length, 0, 'stream time end + grace - 1: on time');
    const { late } = feed(engine, [keyed(0, 1200, 1200), keyed(0, 1200, 500)]);
    assert.deepEqual(late.map((l) => l.missedWindows), [[{ start: 0, end: 1000 }]], 'stream time end + grace: late');
    const { results } = feed(engine, [watermark(0, 1, 5000, false)]);
    assert.deepEqual(results.map((r) => [r.windowStartMs, r.events, r.lateRecords]), [[0, 1, 0], [1000, 2, 1]], 'found late at 1200: counts for windows closing after 1200 only');
  });

  it('a window waits for the slowest raw partition, unless that partition is idle', () => {
    const engine = new WindowEngine(tumblingOnly);
    assert.equal(feed(engine, [keyed(0, 100, 100), watermark(0, 2, 5000, false)]).results.length, 0, 'partition 1 not heard from yet');
    assert.equal(feed(engine, [watermark(1, 2, 900, false)]).results.length, 0, 'partition 1 is behind');
    assert.equal(feed(engine, [watermark(1, 2, 900, true)]).results.length, 1, 'partition 1 went idle');
  });

  it('sliding windows: an event lands in size/advance overlapping windows; aggregates are computed per window', () => {
    const engine = new WindowEngine({ windows: [{ kind: 'sliding', sizeMs: 3000, advanceMs: 1000 }], graceMs: 0, topN: 1 });
    const out = feed(engine, [keyed(0, 2500, 2500, { eventType: 'purchase', price: 4 }), keyed(0, 2600, 2600, { eventType: 'view', userId: 'u2' }), watermark(0, 1, 10_000, false)]);
    assert.deepEqual(out.results.map((r) => r.windowStartMs), [0, 1000, 2000]);
    for (const r of out.results) {
      assert.equal(r.revenue, 4);
      assert.equal(r.distinctUsers, 2);
      assert.equal(r.viewToPurchaseConversion, 1);
      assert.deepEqual(r.topProducts, [{ productId: 'p1', revenue: 4, purchases: 1 }]);
    }
  });

  it('end of input waits for every partition; input resumed after it is late for the windows emitted, and opens later ones', () => {
    const engine = new WindowEngine(tumblingOnly);
    const end = (source: number, streamTime: number): RepartitionRecord => ({ ...watermark(source, 2, streamTime, false), ended: true });
    const first = feed(engine, [keyed(0, 100, 100), keyed(1, 1500, 1500), watermark(1, 2, 1500, false), end(0, 100)]);
    assert.deepEqual(first.results.map((r) => [r.windowStartMs, r.endOfInput]), [[0, undefined]], 'an ended partition holds nothing back: partition 1 at 1500 closes [0,1000) as usual');
    const closed = feed(engine, [end(1, 1500)]);
    assert.deepEqual(closed.results.map((r) => [r.windowStartMs, r.events, r.endOfInput]), [[1000, 1, true]], '[1000,2000) closes at the end of input, before 2200');
    assert.equal(feed(engine, [end(0, 100), end(1, 1500)]).results.length, 0, 'nothing closes twice');
    // The producer resumes a longer file: an event for [1000,2000) finds it emitted (late); [2000,3000) opens.
    const resumed = feed(engine, [keyed(1, 1900, 1900), keyed(1, 2100, 2100), watermark(1, 2, 2100, false)]);
    assert.deepEqual(resumed.late.map((l) => l.missedWindows), [[{ start: 1000, end: 2000 }]]);
    assert.equal(engine.openWindows('tumbling'), 1);
    const changelog = new Map(engine.changes().filter((e) => e.value !== null).map((e) => [e.key, e.value!]));
    const restored = WindowEngine.restore(tumblingOnly, changelog);
    assert.equal(feed(restored, [keyed(0, 1950, 1950)]).late.length, 1, 'the end of input survives a restore');
    const last = feed(restored, [end(0, 1950), end(1, 2100)]);
    assert.deepEqual(last.results.map((r) => [r.windowStartMs, r.events, r.endOfInput]), [[2000, 1, true]]);
  });

  it('closes only at what watermarks announce: a partition\'s events out of stream-time order (packs group them by key) are not late', () => {
    // Source 0's batch went out as packs: an event read late in the batch (stream time 1900) reaches
    // this task before one read early (600); source 1's watermark comes between them.
    const engine = new WindowEngine(tumblingOnly);
    const out = feed(engine, [keyed(0, 1900, 1900), watermark(1, 2, 5000, false), keyed(0, 600, 600), watermark(0, 2, 1900, false)]);
    assert.deepEqual(out.late, []);
    assert.deepEqual(out.results.map((r) => [r.windowStartMs, r.events]), [[0, 1]]);
  });

  it('restores from its changelog to the same state, including closes and late counts already made', () => {
    const engine = new WindowEngine(tumblingOnly);
    feed(engine, [keyed(0, 1300, 1300), keyed(0, 1300, 1400), keyed(0, 1300, 100), watermark(0, 1, 1300, false)]);
    const changelog = new Map(engine.changes().filter((e) => e.value !== null).map((e) => [e.key, e.value!]));
    const restored = WindowEngine.restore(tumblingOnly, changelog);
    assert.equal(restored.openWindows('tumbling'), 1);
    const tail: RepartitionRecord[] = [keyed(0, 1500, 1500), watermark(0, 1, 9000, false)];
    assert.deepEqual(feed(restored, tail), feed(engine, tail));
    assert.equal(feed(WindowEngine.restore(tumblingOnly, changelog), tail).results[0]!.lateRecords, 1);
  });
});

describe('window engine state', () => {
  const tumbling: EngineSpec = { windows: [{ kind: 'tumbling', sizeMs: 1000, advanceMs: 1000 }], graceMs: 200, topN: 2 };
  const apply = (changelog: Map<string, string>, engine: WindowEngine): void => {
    for (const c of engine.changes()) {
      if (c.value === null) changelog.delete(c.key);
      else changelog.set(c.key, c.value);
    }
  };

  it('writes a window\'s ids in parts, each only the ids gained since the last, and a restore from them has every id', () => {
    const engine = new WindowEngine(tumbling);
    const changelog = new Map<string, string>();
    feed(engine, [keyed(0, 100, 100, { userId: 'u1' }), keyed(0, 110, 110, { userId: 'u2' })]);
    apply(changelog, engine);
    feed(engine, [keyed(0, 120, 120, { userId: 'u2' }), keyed(0, 130, 130, { userId: 'u3' })]);
    const second = engine.changes();
    for (const c of second) changelog.set(c.key, c.value!);
    assert.deepEqual(second.filter((c) => c.key.startsWith('p|')).map((c): [string, unknown] => [c.key, JSON.parse(c.value!)]), [['p|1|tumbling|overall|0', { users: ['u3'], sessions: [] }]]);
    assert.ok(!second.find((c) => c.key === 'w|tumbling|overall|0')!.value!.includes('u1'), 'the counters entry carries no ids');
    const restored = WindowEngine.restore(tumbling, changelog);
    const close = [watermark(0, 1, 5000, false)];
    assert.deepEqual(feed(restored, close), feed(engine, close));
    assert.equal(feed(WindowEngine.restore(tumbling, changelog), close).results[0]!.distinctUsers, 3);
    apply(changelog, engine);
    assert.deepEqual([...changelog.keys()].filter((k) => k.startsWith('w|') || k.startsWith('p|')), [], 'a closed window tombstones its counters and every part');
  });

  it('restores a window written whole by an earlier version, and writes its ids as a part at its next change', () => {
    const old = new Map([['w|tumbling|overall|0', JSON.stringify({ kind: 'tumbling', key: 'overall', start: 0, end: 1000, eventsByType: { view: 2, cart: 0, remove_from_cart: 0, purchase: 0, refund: 0 }, revenueMicros: 0, purchasePriceMicros: 0, users: ['u1', 'u2'], sessions: [], products: {} })]]);
    const engine = WindowEngine.restore(tumbling, old);
    feed(engine, [keyed(0, 150, 150, { userId: 'u3' })]);
    const changelog = new Map(old);
    apply(changelog, engine);
    assert.deepEqual(JSON.parse(changelog.get('p|0|tumbling|overall|0')!), { users: ['u1', 'u2', 'u3'], sessions: [] });
    const result = feed(WindowEngine.restore(tumbling, changelog), [watermark(0, 1, 5000, false)]).results[0]!;
    assert.equal(result.distinctUsers, 3);
    assert.equal(result.events, 3);
  });

  const sliding: EngineSpec = { windows: [{ kind: 'sliding', sizeMs: 3000, advanceMs: 1000 }], graceMs: 0, topN: 2 };
  const idsIn = (entries: { key: string; value: string | null }[], prefix: string): [string, string[]][] =>
    entries.filter((c) => c.key.startsWith(prefix) && c.value !== null).map((c) => [c.key, (JSON.parse(c.value!) as { users: string[] }).users]);

  it('a sliding window\'s events go once into the pane of the windows they entered, not into each window; each window adds up its panes', () => {
    const engine = new WindowEngine(sliding);
    const changelog = new Map<string, string>();
    feed(engine, [keyed(0, 500, 500, { userId: 'u1' }), keyed(0, 1500, 1500, { userId: 'u2' })]);
    apply(changelog, engine);
    feed(engine, [keyed(0, 2500, 2500, { userId: 'u1' }), keyed(0, 3500, 3500, { userId: 'u3' }), keyed(0, 3600, 3600, { userId: 'u3' })]);
    const second = engine.changes();
    for (const c of second) changelog.set(c.key, c.value!);
    assert.deepEqual(second.filter((c) => c.key.startsWith('w|') || c.key.startsWith('p|')), [], 'no sliding window writes counters or ids of its own');
    assert.deepEqual(second.filter((c) => c.key.startsWith('j|')).map((c) => [c.key, (JSON.parse(c.value!) as { eventsByType: { view: number } }).eventsByType.view]),
      [['j|2000|0|sliding|overall', 1], ['j|3000|1000|sliding|overall', 2]], 'each pane\'s counters (j|<pane>), only the panes that changed');
    // Keys: i|<part>|<last window start>|<first window start>|<kind>|<group key>.
    assert.deepEqual(idsIn(second, 'i|'), [['i|0|2000|0|sliding|overall', ['u1']], ['i|0|3000|1000|sliding|overall', ['u3']]], 'each id once, in the pane of its run of windows');
    const close = [watermark(0, 1, 10_000, false)];
    const expected = [[0, 3, 2], [1000, 4, 3], [2000, 3, 2], [3000, 2, 1]];
    const summary = (results: { windowStartMs: number; events: number; distinctUsers: number }[]) => results.map((r) => [r.windowStartMs, r.events, r.distinctUsers]);
    assert.deepEqual(summary(feed(WindowEngine.restore(sliding, changelog), close).results), expected, 'restored from the changelog');
    assert.deepEqual(summary(feed(engine, close).results), expected);
    apply(changelog, engine);
    assert.deepEqual([...changelog.keys()].filter((k) => k !== 'meta'), [], 'closed windows tombstone their counters and their panes\' parts');
  });

  it('an event late for the oldest windows holding it counts its ids only in the later ones it entered', () => {
    const engine = new WindowEngine(sliding);
    // Stream time 3000 has closed [0, 3000) for this partition: u9 at 2500 enters [1000, 4000) and [2000, 5000) only.
    const out = feed(engine, [keyed(0, 100, 100, { userId: 'u1' }), keyed(0, 3000, 2500, { userId: 'u9' }), watermark(0, 1, 10_000, false)]);
    assert.deepEqual(out.late.map((l) => l.missedWindows), [[{ start: 0, end: 3000 }]]);
    assert.deepEqual(out.results.map((r) => [r.windowStartMs, r.distinctUsers]), [[0, 1], [1000, 1], [2000, 1]]);
  });

  it('a changelog value that cannot be read stops the restore with an error naming its key', () => {
    for (const key of ['j|2000|0|sliding|overall', 'i|0|2000|0|sliding|overall', 'w|sliding|overall|0', 'l|sliding|overall', 'meta']) {
      assert.throws(() => WindowEngine.restore(sliding, new Map([[key, '{not json']])), new RegExp(`changelog entry "${key.replace(/\|/g, '\\|')}" cannot be restored`), key);
    }
  });

  it('restores a sliding window written by an earlier version (counters and ids of its own): they add up with its panes and leave with it', () => {
    const old = new Map([
      ['w|sliding|overall|0', JSON.stringify({ kind: 'sliding', key: 'overall', start: 0, end: 3000, eventsByType: { view: 2, cart: 0, remove_from_cart: 0, purchase: 0, refund: 0 }, revenueMicros: 0, purchasePriceMicros: 0, products: {}, parts: 1 })],
      ['p|0|sliding|overall|0', JSON.stringify({ users: ['u1', 'u2'], sessions: [] })],
    ]);
    const engine = WindowEngine.restore(sliding, old);
    feed(engine, [keyed(0, 500, 500, { userId: 'u2' }), keyed(0, 600, 600, { userId: 'u3' })]);
    const changelog = new Map(old);
    apply(changelog, engine);
    assert.deepEqual(JSON.parse(changelog.get('i|0|0|0|sliding|overall')!), { users: ['u2', 'u3'], sessions: [] });
    const result = feed(WindowEngine.restore(sliding, changelog), [watermark(0, 1, 10_000, false)]).results[0]!;
    assert.deepEqual([result.events, result.distinctUsers], [4, 3]);
    feed(engine, [watermark(0, 1, 10_000, false)]);
    apply(changelog, engine);
    assert.deepEqual([...changelog.keys()].filter((k) => k !== 'meta'), [], 'its own parts are tombstoned with it');
  });

  it('stays bounded by the open windows however many events pass (closed windows leave the changelog)', () => {
    const engine = new WindowEngine(spec);
    const live = new Map<string, string>();
    const keys = ['overall', 'category:a', 'category:b'];
    let maxLive = 0;
    for (let i = 0; i < 60_000; i++) {
      const t = 1_700_000_000_000 + i * 50;
      const key = keys[i % keys.length]!;
      engine.onEvent({ type: 'event', source: 0, streamTime: t, key, event: { eventId: `e${i}`, eventTime: t, eventType: 'view', productId: `p${i % 500}`, topCategory: 'a', brand: 'b', revenueMicros: 0, priceMicros: 1, userId: `u${i}`, sessionId: `s${i}` } });
      if (i % 100 === 99) {
        engine.onWatermark(watermark(0, 1, t, false));
        for (const c of engine.changes()) {
          if (c.value === null) live.delete(c.key);
          else live.set(c.key, c.value);
        }
        // A window's id parts (p|<n>|<id>) live and die with its counters (w|<id>): count windows, not parts.
        const parts = [...live.keys()].filter((k) => k.startsWith('p|')).map((k) => k.slice(k.indexOf('|', 2) + 1));
        assert.ok(parts.every((id) => live.has(`w|${id}`)), 'no id part outlives its window');
        // A pane's id parts (i|<n>|<last>|<first>|<kind>|<key>) live as long as the last window counting them.
        // A pane (i|<n>|<pane>, j|<pane>; <pane> = <last>|<first>|<kind>|<key>) lives until its last window closes.
        const paneKeys = [...live.keys()].filter((k) => k.startsWith('i|') || k.startsWith('j|'));
        const lastWindowOf = (k: string): number => Number(k.split('|')[k.startsWith('i|') ? 2 : 1]);
        assert.ok(paneKeys.every((k) => lastWindowOf(k) + 30_000 + 5_000 > t), 'no pane outlives its last window');
        maxLive = Math.max(maxLive, live.size - parts.length - paneKeys.length);
      }
    }
    assert.equal([...live.keys()].filter((k) => k.startsWith('p|')).length > 0, true, 'open tumbling windows keep their ids in parts');
    assert.equal([...live.keys()].filter((k) => k.startsWith('i|')).length > 0, true, 'open sliding windows\' panes keep their ids in parts');
    // Per key: (size + grace) / advance sliding and (size + grace) / size + 1 tumbling windows open, plus meta.
    const bound = keys.length * (Math.ceil((30_000 + 5_000) / 10_000) + 1 + Math.ceil((10_000 + 5_000) / 10_000) + 1) + 1;
    assert.ok(maxLive <= bound, `${maxLive} live changelog keys, more than ${bound}`);
    assert.ok(engine.openWindows('sliding') + engine.openWindows('tumbling') <= bound);
  });
});
