// services/core/kafkajs-produce-speedup.ts must build exactly the produce requests kafkajs builds:
// kafkajs' own produce request v3 is the reference, and the fast one must agree with it byte for
// byte on every kind of message, header, timestamp, compression and transaction, and fall back to
// it (its bytes or its error) where the fast path does not apply.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { CompressionTypes, type Message } from 'kafkajs';
import { useGzipLevel } from '../../services/core/gzip-codec';
import { encodedRecordsOf, RecordsWriter, recordFieldLength, writeField } from '../../services/core/encoded-records';
import { encodeRecords, fastProduceRequest, kafkajsModules, type ProduceRequestArgs, type ProduceRequestV3 } from '../../services/core/kafkajs-produce-speedup';
import { varIntSize } from '../../services/core/kafkajs-varint-speedup';
import { decodeRecords, expandStandIns } from '../support/kafka-records';

const load = createRequire(require.resolve('kafkajs'));
const original = load('./src/protocol/requests/produce/v3/request') as ProduceRequestV3;
const modules = kafkajsModules(load);
const fast = fastProduceRequest(original, modules);

/** The encoded request of both, with Date.now fixed (kafkajs stamps records with it). */
async function both(args: ProduceRequestArgs): Promise<[Buffer, Buffer]> {
  const now = Date.now;
  Date.now = () => 1_764_000_000_123;
  try {
    const a = await original(args).encode();
    const b = await fast(args).encode();
    return [a.buffer, b.buffer];
  } finally {
    Date.now = now;
  }
}

function request(messages: Message[], extra: Partial<ProduceRequestArgs> = {}): ProduceRequestArgs {
  return { acks: -1, timeout: 30_000, topicData: [{ topic: 'events', partitions: [{ partition: 2, firstSequence: 17, messages }] }], ...extra };
}

/** A deterministic pseudo-random source, so a failure names a case that can be rerun. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

function text(next: () => number, length: number): string {
  const alphabet = 'abcdefghij0123456789 ,.:{}"é€😀';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)] ?? 'x';
  return out;
}

function randomMessages(seed: number): Message[] {
  const next = random(seed);
  return Array.from({ length: 1 + Math.floor(next() * 40) }, (): Message => {
    const pick = next();
    const key = pick < 0.1 ? null : pick < 0.2 ? Buffer.from(text(next, 5)) : text(next, Math.floor(next() * 30));
    const size = next() < 0.05 ? 20_000 : Math.floor(next() * 400);
    const value = next() < 0.05 ? null : next() < 0.2 ? Buffer.from(text(next, size)) : text(next, size);
    const message: Message = { key, value };
    if (next() < 0.3) message.headers = { origin: 'producer', reason: Buffer.from('bad'), many: ['a', Buffer.from('b'), 'ç'], 'ключ': text(next, 8) };
    return message;
  });
}

describe('kafkajs produce speed-up', () => {
  for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
    for (const transactionalId of [null, 'producer-1']) {
      it(`builds kafkajs' bytes (compression ${compression}, ${transactionalId ? 'transactional' : 'idempotent'}) for random messages`, async () => {
        for (let seed = 1; seed <= 40; seed++) {
          const args = request(randomMessages(seed), { compression, transactionalId, producerId: modules.Long.fromValue(12345678901), producerEpoch: 3 });
          const [expected, actual] = await both(args);
          assert.ok(actual.equals(expected), `seed ${seed}: ${actual.length} bytes against ${expected.length}`);
        }
      });
    }
  }

  it('compresses a batch whose compressed bytes span many of zlib\'s default output chunks as kafkajs does', async () => {
    const messages = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: randomBytes(2250).toString('base64') }));
    const [expected, actual] = await both(request(messages, { compression: CompressionTypes.GZIP, transactionalId: 't' }));
    assert.ok(expected.length > 4 * 16 * 1024, `only ${expected.length} bytes`);
    assert.ok(actual.equals(expected));
  });

  it('compresses at the level the producer registered (gzip-codec.ts), as kafkajs does with that codec', async () => {
    const messages = Array.from({ length: 400 }, (_, i) => ({ key: `k${i % 17}`, value: JSON.stringify({ eventId: `events.csv:${i}`, eventType: i % 3 ? 'view' : 'cart', price: i * 1.25 }) }));
    const args = request(messages, { compression: CompressionTypes.GZIP, transactionalId: 't' });
    const [atDefault] = await both(args);
    const restore = useGzipLevel(1);
    try {
      const [expected, actual] = await both(args);
      assert.ok(actual.equals(expected), `${actual.length} bytes against ${expected.length}`);
      assert.ok(!actual.equals(atDefault), 'level 1 built the same bytes as zlib\'s default level');
    } finally {
      restore();
    }
  });

  it('builds several topics and partitions, and partitions with no messages, as kafkajs does', async () => {
    const args: ProduceRequestArgs = {
      acks: 1, timeout: 5_000, transactionalId: 't', compression: CompressionTypes.GZIP,
      topicData: [
        { topic: 'a', partitions: [{ partition: 0, messages: randomMessages(7) }, { partition: 1, firstSequence: 2 ** 31 - 5, messages: [] }] },
        { topic: 'dead-letters', partitions: [{ partition: 5, messages: randomMessages(8) }] },
      ],
    };
    const [expected, actual] = await both(args);
    assert.ok(actual.equals(expected));
  });

  it('takes given timestamps as kafkajs does, and leaves deltas beyond 32 bits to kafkajs', async () => {
    const near = [{ key: 'k', value: 'v', timestamp: '1764000000500' }, { key: 'k', value: 'w', timestamp: '1764000000100' }, { key: 'k', value: 'x' }];
    const far = [{ key: 'k', value: 'v', timestamp: '1000' }, { key: 'k', value: 'w' }];
    for (const messages of [near, far]) {
      const [expected, actual] = await both(request(messages));
      assert.ok(actual.equals(expected));
    }
    assert.ok(encodeRecords(near, [400, 0, 1_764_000_000_123 - 1_764_000_000_100]));
    assert.equal(encodeRecords(far, [0, 1_764_000_000_123 - 1000]), undefined);
  });

  it('takes the fast path for strings, buffers, nulls and string or buffer headers, and leaves anything else to kafkajs', () => {
    assert.ok(encodeRecords([{ key: null, value: 'v' }, { key: Buffer.from('k'), value: null, headers: { h: ['1', Buffer.from('2')] } }], [0, 0]));
    for (const odd of [{ key: 5, value: 'v' }, { key: 'k', value: { a: 1 } }, { key: 'k', value: 'v', headers: { h: null } }, { key: 'k', value: 'v', headers: null }]) {
      assert.equal(encodeRecords([odd as unknown as Message], [0]), undefined, JSON.stringify(odd));
    }
  });

  describe('records encoded as they are made (RecordsWriter)', () => {
    /** A writer holding these messages' keys and values, and its stand-ins for partition 2. */
    const written = (messages: Message[]): Message[] => {
      const writer = new RecordsWriter(64);
      for (const { key, value } of messages) writer.add(key ?? null, recordFieldLength(key ?? null), value, recordFieldLength(value));
      return writer.messages(2);
    };
    const plain = (seed: number): Message[] => randomMessages(seed).map(({ key, value }) => ({ key: key ?? null, value }));

    it("stands in for messages: kafkajs' bytes for the same messages, with the messages after them too (end-of-input markers)", async () => {
      for (let seed = 1; seed <= 40; seed++) {
        const messages = plain(seed);
        const after = seed % 3 === 0 ? randomMessages(seed + 100).slice(0, 3) : [];
        for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
          const [expected] = await both(request([...messages, ...after], { compression, transactionalId: 't' }));
          const [, actual] = await both(request([...written(messages), ...after], { compression, transactionalId: 't' }));
          assert.ok(actual.equals(expected), `seed ${seed}, compression ${compression}: ${actual.length} bytes against ${expected.length}`);
        }
        const stood = written(messages);
        assert.equal(stood.length, messages.length, 'one stand-in per record: kafkajs counts sequence numbers by messages');
        const utf8 = (v: Buffer | string | null | undefined): string | null => (v === null || v === undefined ? null : Buffer.from(v).toString());
        assert.deepEqual(expandStandIns(stood).map((m) => [m.key, m.value, m.partition]), messages.map((m) => [utf8(m.key), utf8(m.value), 2]));
      }
    });

    it('refuses, rather than send them as empty records, stand-ins out of place, with timestamps, or beside a partition kafkajs must encode', async () => {
      const stood = written(plain(5));
      assert.ok(stood.length > 2);
      assert.throws(() => encodeRecords([{ key: 'k', value: 'v' }, ...stood], stood.map(() => 0).concat(0)), /stand-in out of place/);
      assert.throws(() => encodeRecords([stood[0]!, ...stood], stood.map(() => 0).concat(0)), /stand-ins out of place/);
      assert.throws(() => encodeRecords(stood, stood.map((_, i) => i)), /given timestamps/);
      assert.throws(() => encodeRecords([...stood, { key: 5, value: 'v' } as unknown as Message], stood.map(() => 0).concat(0)), /needs kafkajs' own encoding/);
      const args: ProduceRequestArgs = { acks: -1, timeout: 1000, topicData: [{ topic: 'a', partitions: [{ partition: 2, messages: stood }, { partition: 3, messages: [{ key: 5, value: 'v' } as unknown as Message] }] }] };
      await assert.rejects(fast(args).encode(), /cannot encode the encoded records of another/);
    });

    it('grows its buffer for records of any size, and writes what it was given', () => {
      const writer = new RecordsWriter(16);
      const big = 'é'.repeat(100_000);
      for (const value of ['a', big, null, 'b']) writer.add('k', 1, value, recordFieldLength(value));
      const records = decodeRecords(encodedRecordsOf(writer.messages(0)[0])!.bytes);
      assert.deepEqual(records.map((r) => [r.offsetDelta, r.timestampDelta, r.key, r.value?.length ?? null]), [[0, 0, 'k', 1], [1, 0, 'k', 100_000], [2, 0, 'k', null], [3, 0, 'k', 1]]);
      assert.equal(records[1]!.value, big);
    });

    it('takes values that write themselves (addWritten) beside ordinary ones, growing for them too', () => {
      const writer = new RecordsWriter(16);
      const valueOf = (text: string) => ({ valueLength: text.length, writeValue: (out: Uint8Array, at: number) => at + Buffer.from(text, 'latin1').copy(out, at) });
      const keys = Buffer.from('..key-one..');
      writer.addWritten(keys, 2, 7, valueOf('x'.repeat(70_000)));
      writer.add('k', 1, 'plain', 5);
      writer.addWritten(keys, 0, -1, valueOf('{"a":1}'));
      const records = decodeRecords(encodedRecordsOf(writer.messages(0)[0])!.bytes);
      assert.deepEqual(records.map((r) => [r.offsetDelta, r.key, r.value?.length]), [[0, 'key-one', 70_000], [1, 'k', 5], [2, null, 7]]);
      assert.equal(records[2]!.value, '{"a":1}');
    });
  });

  it('writes every string as UTF-8: ASCII by its codes, anything else through the UTF-8 encoder', () => {
    const strings = ['', 'plain {"ascii":1}', 'caf\u00e9', '\u00ff\u0080', '\u20ac', '\ud83d\ude00', 'lone \ud800 surrogate', '\u007f\u0000'];
    for (const text of strings) {
      const length = recordFieldLength(text);
      const buf = Buffer.alloc(length + 8);
      const end = writeField(buf, 0, text, length);
      const bytes = Buffer.from(text, 'utf8');
      assert.equal(end, varIntSize(length) + length, JSON.stringify(text));
      assert.ok(buf.subarray(end - length, end).equals(bytes), `${JSON.stringify(text)}: ${buf.subarray(end - length, end).toString('hex')} against ${bytes.toString('hex')}`);
    }
  });

  it("fails where kafkajs' own code fails", async () => {
    const odd = request([{ key: 5, value: 'v' } as unknown as Message]);
    await assert.rejects(original(odd).encode());
    await assert.rejects(fast(odd).encode());
  });
});
