// services/core/gzip-codec.ts: the producer's gzip level (Kafka's compression.gzip.level), as a
// kafkajs codec that any gzip reader decompresses, registered in kafkajs' table and taken back.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { gzipCodecAtLevel, useGzipLevel } from '../../services/core/gzip-codec';

const load = createRequire(require.resolve('kafkajs'));
const compression = load('./src/protocol/message/compression') as { lookupCodec(type: number): unknown };
const kafkajsGzip = load('./src/protocol/message/compression/gzip') as { compress(encoder: { buffer: Buffer }): Promise<Buffer> };

/** Canonical-looking events, repetitive as a batch of them is. */
const records = Buffer.from(Array.from({ length: 2000 }, (_, i) =>
  JSON.stringify({ schemaVersion: 1, eventId: `events.csv:${i + 2}`, eventTime: 1_569_888_000_000 + i * 997, eventType: i % 7 === 0 ? 'cart' : 'view', productId: String(1_000_000 + (i * 7919) % 5000), price: (i % 300) + 0.99, userId: String(500_000_000 + (i * 104_729) % 90_000) })).join(''));

describe('gzip codec at a level', () => {
  it('compresses at its level, and the batches read back with any gzip reader', async () => {
    const fastest = await gzipCodecAtLevel(1).compress({ buffer: records });
    const smallest = await gzipCodecAtLevel(9).compress({ buffer: records });
    assert.ok(gunzipSync(fastest).equals(records));
    assert.ok(gunzipSync(smallest).equals(records));
    assert.ok(fastest.length > smallest.length, `level 1 gave ${fastest.length} bytes, level 9 ${smallest.length}`);
    assert.ok((await gzipCodecAtLevel(1).decompress(await kafkajsGzip.compress({ buffer: records }))).equals(records));
  });

  it('refuses a level outside 1 to 9, naming it', () => {
    for (const level of [0, 10, 1.5]) assert.throws(() => gzipCodecAtLevel(level), new RegExp(`gzip level ${level} is not a whole number from 1 to 9`));
  });

  it("takes kafkajs' gzip slot until given back", () => {
    const before = compression.lookupCodec(1);
    assert.equal(before, kafkajsGzip);
    const restore = useGzipLevel(3);
    try {
      assert.equal((compression.lookupCodec(1) as { level?: number }).level, 3);
    } finally {
      restore();
    }
    assert.equal(compression.lookupCodec(1), kafkajsGzip);
  });
});
