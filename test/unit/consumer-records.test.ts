// Stage 1's pieces around the engine: enrichment, the repartition record format (and its
// rejection of anything else), key placement, rejection reason labels and result metrics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ConsumerMetrics, reasonClass } from '../../services/consumer/consumer-metrics';
import { deadLetterMessage, unprocessed } from '../../services/consumer/partition-task';
import { enrich, groupKeys, normaliseBrand, topLevelCategory } from '../../services/consumer/enrich';
import { eventRowJson, eventRowsJson, packBytes, parseRepartitionRecord, unpack } from '../../services/consumer/repartition-records';
import { packEvents, partitionFor, repartitionBatch, watermark } from '../../services/consumer/repartitioner';
import { emptyAggregate, toResult } from '../../services/consumer/window-aggregate';
import { parseEventMessage, type EcommerceEvent } from '../../services/core/event';

const event: EcommerceEvent = {
  schemaVersion: 1, eventId: 'f.csv:2', eventTime: 1_700_000_000_123, eventType: 'purchase', productId: 'p1', categoryId: 'c1',
  categoryCode: 'Electronics.Smartphone', brand: '  Samsung ', price: 0.1, quantity: 3, userId: 'u1', sessionId: 's1', country: null, source: 'rees46',
};

describe('enrichment', () => {
  it('top-level category, normalised brand, revenue in integer millionths', () => {
    const e = enrich(event);
    assert.equal(e.topCategory, 'electronics');
    assert.equal(e.brand, 'samsung');
    assert.equal(e.revenueMicros, 300_000, '0.1 × 3 is 0.30000000000000004 in floating point; rounded once here');
    assert.equal(enrich({ ...event, eventType: 'view' }).revenueMicros, 0, 'only purchases have revenue');
    assert.equal(topLevelCategory(null), 'unknown');
    assert.equal(topLevelCategory(''), 'unknown');
    assert.equal(normaliseBrand('   '), 'unknown');
    for (let round = 0; round < 2; round++) {
      // Twice: the second answers come from the memo, and must be the same.
      assert.equal(topLevelCategory(' Apparel.Shoes.Sneakers'), 'apparel');
      assert.equal(topLevelCategory('Kids '), 'kids', 'a code without a dot is its own top level');
      assert.equal(topLevelCategory('.toys'), 'unknown', 'an empty first segment');
      assert.equal(normaliseBrand(' ACME '), 'acme');
    }
    // More distinct texts than the memo holds: each still normalised, none from another text.
    for (let i = 0; i < 25_000; i++) assert.equal(topLevelCategory(`C${i}.x`), `c${i}`);
    assert.deepEqual(groupKeys(e, ['overall', 'category', 'brand']), ['overall', 'category:electronics', 'brand:samsung']);
  });
});

describe('repartition records', () => {
  it('what stage 1 writes, stage 2 reads back unchanged', () => {
    const batch = repartitionBatch(2, -1, [{ offset: '0', key: null, value: Buffer.from(JSON.stringify(event)) }], ['category', 'overall']);
    assert.equal(batch.streamTime, event.eventTime);
    assert.equal(batch.records.length, 2);
    for (const record of [...batch.records, watermark(2, 3, batch.streamTime, true)]) {
      assert.deepEqual(parseRepartitionRecord(Buffer.from(JSON.stringify(record))), { ok: true, record });
    }
  });

  it('an event pack reads back as its events, in order, each as its own event record would', () => {
    const rows = [event, { ...event, eventId: 'f.csv:3', eventTime: event.eventTime + 5, eventType: 'view' as const }, { ...event, eventId: 'f.csv:4', eventTime: event.eventTime - 9 }];
    const batch = repartitionBatch(1, -1, rows.map((e, i) => ({ offset: String(i), key: null, value: Buffer.from(JSON.stringify(e)) })), ['overall']);
    const key = 'category:"quoted"';
    // Rows (what stage 1 writes), and objects (what consumers before rows wrote): both read back the same.
    const packed = eventRowsJson(1, key, batch.records.map((r) => eventRowJson(r.streamTime, r.event)));
    const objects = JSON.stringify({ type: 'events', source: 1, key, events: batch.records.map((r) => ({ streamTime: r.streamTime, event: r.event })) });
    for (const json of [packed, objects]) {
      const check = parseRepartitionRecord(Buffer.from(json));
      assert.ok(check.ok && check.record.type === 'events', JSON.stringify(check));
      assert.deepEqual(unpack(check.record), batch.records.map((r) => ({ ...r, key })));
    }
    assert.ok(packed.length < objects.length * 0.7, `rows ${packed.length} characters, objects ${objects.length}`);
    assert.deepEqual(batch.records.map((r) => r.streamTime), [event.eventTime, event.eventTime + 5, event.eventTime + 5], 'each item keeps its own stream time');
    assert.ok(packBytes <= 256 * 1024, 'a pack stays well under the default max.message.bytes');
  });

  it('anything else is rejected with a reason', () => {
    const good = repartitionBatch(0, -1, [{ offset: '0', key: null, value: Buffer.from(JSON.stringify(event)) }], ['overall']).records[0]!;
    const cases: [unknown, RegExp][] = [
      ['{', /not JSON/],
      [{ type: 'gossip' }, /neither event, rows, events nor watermark/],
      [{ type: 'events', source: 0, key: 'overall', events: [] }, /event pack has a bad source, key or events/],
      [{ type: 'events', source: 0, key: '', events: [{ streamTime: 1, event: good.event }] }, /event pack has a bad/],
      [{ type: 'events', source: 0, key: 'overall', events: [{ streamTime: 1, event: good.event }, { streamTime: 2, event: { ...good.event, eventType: 'teleport' } }] }, /event pack item 1: eventType "teleport"/],
      [{ type: 'events', source: 0, key: 'overall', events: [{ streamTime: -1, event: good.event }] }, /event pack item 0: bad streamTime/],
      [{ type: 'events', source: 0, key: 'overall', events: [null] }, /event pack item 0/],
      [{ type: 'rows', source: 0, key: 'overall', rows: [] }, /event pack has a bad source, key or rows/],
      [{ type: 'rows', source: -1, key: 'overall', rows: [JSON.parse(eventRowJson(1, good.event))] }, /event pack has a bad/],
      [{ type: 'rows', source: 0, key: 'overall', rows: [JSON.parse(eventRowJson(1, good.event)), JSON.parse(eventRowJson(2, { ...good.event, eventType: 'teleport' as never }))] }, /event pack row 1: eventType "teleport"/],
      [{ type: 'rows', source: 0, key: 'overall', rows: [JSON.parse(eventRowJson(-1, good.event))] }, /event pack row 0: bad streamTime/],
      [{ type: 'rows', source: 0, key: 'overall', rows: [(JSON.parse(eventRowJson(1, good.event)) as unknown[]).slice(0, 10)] }, /event pack row 0: not a row of 11 fields/],
      [{ type: 'rows', source: 0, key: 'overall', rows: [{ streamTime: 1, event: good.event }] }, /event pack row 0: not a row/],
      [{ type: 'rows', source: 0, key: 'overall', rows: [JSON.parse(eventRowJson(1, { ...good.event, revenueMicros: -3 }))] }, /event pack row 0: revenueMicros/],
      [watermark(3, 3, 10, false), /watermark record/],
      [{ ...good, streamTime: -5 }, /streamTime/],
      [{ ...good, event: { ...good.event, eventType: 'teleport' } }, /eventType "teleport"/],
      [{ ...good, event: { ...good.event, revenueMicros: 0.5 } }, /revenueMicros/],
    ];
    for (const [value, reason] of cases) {
      const check = parseRepartitionRecord(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
      assert.ok(!check.ok && reason.test(check.reason), `${JSON.stringify(value)} → ${JSON.stringify(check)}`);
    }
    assert.deepEqual(parseRepartitionRecord(null), { ok: false, reason: 'empty repartition record' });
  });

  it('stage 1 packs a batch per group key, splits a pack before it outgrows the limit, and loses or reorders nothing', () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ ...event, eventId: `f.csv:${i}`, eventTime: event.eventTime + i * 10, categoryCode: i % 3 === 0 ? 'apparel.shoes' : 'electronics.phone' }));
    const batch = repartitionBatch(2, -1, rows.map((e, i) => ({ offset: String(i), key: null, value: Buffer.from(JSON.stringify(e)) })), ['category', 'overall']);
    const maxBytes = 20_000;
    const packs = packEvents(2, batch.records, 4, maxBytes);
    assert.ok(packs.length > 3, 'several packs per key at this limit');
    assert.ok(packs.every((p) => Buffer.byteLength(p.value) <= maxBytes), 'every pack within the limit');
    assert.ok(packs.every((p) => p.partition === partitionFor(p.key, 4)));
    const read = packs.flatMap((p) => {
      const check = parseRepartitionRecord(Buffer.from(p.value));
      assert.ok(check.ok && check.record.type === 'events' && check.record.key === p.key, p.value.slice(0, 80));
      return unpack(check.record);
    });
    for (const key of ['overall', 'category:apparel', 'category:electronics']) {
      assert.deepEqual(read.filter((r) => r.key === key), batch.records.filter((r) => r.key === key), `${key}: every event once, in order`);
    }
    assert.equal(read.length, batch.records.length);
    assert.equal(packEvents(2, batch.records, 4).length, 3, 'one pack per key at the default limit');
  });

  it('key placement is fixed (changing it would move window state between partitions) and spreads keys', () => {
    // FNV-1a 32-bit reference vectors: with 2^32 partitions the partition is the hash itself.
    assert.equal(partitionFor('a', 2 ** 32), 0xe40c292c);
    assert.equal(partitionFor('foobar', 2 ** 32), 0xbf9cf968);
    assert.equal(partitionFor('foobar', 12), 0xbf9cf968 % 12);
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < 4000; i++) counts[partitionFor(`category:c${i}`, 4)]! += 1;
    assert.ok(counts.every((c) => c > 800), `uneven spread ${counts.join(',')}`);
  });
});

describe('a refetched batch', () => {
  it('keeps the messages from the committed offset on, whole batches as they are', () => {
    const batch = ['7', '8', '9', '10', '11'].map((offset) => ({ offset }));
    assert.equal(unprocessed(batch, 7n), batch, 'nothing below the committed offset: the batch itself');
    assert.deepEqual(unprocessed(batch, 10n).map((m) => m.offset), ['10', '11'], 'compared as numbers: 10 comes after 9');
    assert.deepEqual(unprocessed(batch, 12n), []);
    assert.deepEqual(unprocessed([], 3n), []);
  });
});

describe('rejection reasons as bounded labels', () => {
  it('names the field at fault for every reason the event check gives', () => {
    const reasonOf = (value: unknown) => {
      const check = parseEventMessage(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
      assert.ok(!check.ok);
      return check.reason;
    };
    assert.equal(reasonClass(reasonOf('nope')), 'not_json');
    assert.equal(reasonClass(reasonOf({ ...event, schemaVersion: 2 })), 'schemaVersion');
    assert.equal(reasonClass(reasonOf({ ...event, price: -1 })), 'price');
    assert.equal(reasonClass(reasonOf({ ...event, eventTime: 'yesterday' })), 'eventTime');
    assert.equal(reasonClass(reasonOf({ ...event, brand: 7 })), 'brand');
    assert.equal(reasonClass(''), 'invalid');
  });
  it('keeps a reason, and so the dead letter\'s header, small whatever the message (issue 15)', () => {
    const huge = 'x'.repeat(500_000);
    for (const bad of [{ ...event, eventType: huge }, { ...event, price: huge }, { ...event, eventTime: huge }, { ...event, schemaVersion: huge }]) {
      const check = parseEventMessage(Buffer.from(JSON.stringify(bad)));
      assert.ok(!check.ok);
      assert.ok(check.reason.length < 300, `a reason of ${check.reason.length} characters`);
      assert.match(check.reason, /… \(500002 characters\)/);
    }
    const dead = deadLetterMessage({ key: null, value: Buffer.from('v') }, { topic: 'raw', partition: 0, offset: '7' }, `reason ${huge}`);
    assert.ok(String(dead.headers!.reason).length <= 1000);
  });
});

describe('result metrics', () => {
  it('category revenue and events come from tumbling windows only, so no event counts twice', async () => {
    const registry = new Registry();
    const metrics = new ConsumerMetrics(registry);
    const agg = emptyAggregate('tumbling', 'category:electronics', 0, 1000);
    agg.eventsByType.purchase = 2;
    agg.revenueMicros = 5_500_000;
    metrics.emitted(toResult(agg, { kind: 'tumbling', sizeMs: 1000, advanceMs: 1000 }, 3, 0));
    metrics.emitted(toResult({ ...agg, kind: 'sliding' }, { kind: 'sliding', sizeMs: 2000, advanceMs: 1000 }, 3, 0));
    metrics.emitted(toResult({ ...agg, key: 'overall' }, { kind: 'tumbling', sizeMs: 1000, advanceMs: 1000 }, 3, 0));
    const text = await registry.metrics();
    assert.match(text, /consumer_window_revenue_total\{category="electronics"\} 5\.5\n/);
    assert.match(text, /consumer_window_events_total\{category="electronics",event_type="purchase"\} 2\n/);
    assert.match(text, /consumer_windows_emitted_total\{window="tumbling"\} 2\n/);
    assert.match(text, /consumer_windows_emitted_total\{window="sliding"\} 1\n/);
  });

  it('lag is reported only for the partitions this instance still owns', async () => {
    const registry = new Registry();
    const metrics = new ConsumerMetrics(registry);
    metrics.setLag('raw', 0, 5);
    metrics.setLag('raw', 1, 7);
    metrics.setLag('repartition', 0, 3);
    metrics.keepLag('raw', [1]);
    const text = await registry.metrics();
    assert.doesNotMatch(text, /consumer_lag\{topic="raw",partition="0"\}/);
    assert.match(text, /consumer_lag\{topic="raw",partition="1"\} 7/);
    assert.match(text, /consumer_lag\{topic="repartition",partition="0"\} 3/);
  });
});

describe('fencing', () => {
  it('a fenced transaction becomes a rejoin (kafkajs rejoins on REBALANCE_IN_PROGRESS); other failures stay themselves', async () => {
    const { transactionFailure, TaskMigratedError } = await import('../../services/consumer/partition-task');
    const task = { topic: 'raw', partition: 3 } as Parameters<typeof transactionFailure>[0];
    const protocol = Object.assign(new Error('Producer attempted an operation with an old epoch'), { type: 'INVALID_PRODUCER_EPOCH' });
    const wrapped = new Error('KafkaJSNonRetriableError', { cause: protocol });
    const migrated = transactionFailure(task, wrapped);
    assert.ok(migrated instanceof TaskMigratedError);
    assert.equal(migrated.type, 'REBALANCE_IN_PROGRESS');
    assert.match(migrated.message, /raw\/3 has a newer owner/);
    const other = new Error('broker down');
    assert.equal(transactionFailure(task, other), other);
  });
});
