// services/core/kafkajs-encoder-speedup.ts must leave every byte kafkajs' Encoder writes as it was:
// the same requests (framed by src/protocol/request.js) and the same encodings of every kind of
// field, through every growth of the buffer, only without zero-filling the grown buffers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { installEncoderSpeedup } from '../../services/core/kafkajs-encoder-speedup';

const load = createRequire(require.resolve('kafkajs'));
interface Encoder {
  buf: Buffer;
  readonly buffer: Buffer;
  writeInt8(v: number): Encoder;
  writeInt16(v: number): Encoder;
  writeInt32(v: number): Encoder;
  writeInt64(v: number): Encoder;
  writeString(v: string | null): Encoder;
  writeBytes(v: Buffer): Encoder;
  writeBuffer(v: Buffer): Encoder;
  writeVarIntString(v: string): Encoder;
  writeArray(v: unknown[]): Encoder;
  writeEncoder(v: Encoder): Encoder;
}
const EncoderClass = load('./src/protocol/encoder') as { new (initialSize?: number): Encoder; prototype: { ensureAvailable: unknown } };
const frame = load('./src/protocol/request') as (args: { correlationId: number; clientId: string; request: { apiKey: number; apiVersion: number; encode: () => Promise<Encoder> } }) => Promise<Encoder>;

/** What a run of writes produces: fields of every kind, bodies of many sizes, nested encoders. */
async function writes(seed: Buffer): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const size of [0, 1, 500, 511, 512, 513, 4096, 70_000, 1_048_577]) {
    const body = seed.subarray(0, size);
    const inner = new EncoderClass(1).writeInt8(-3).writeInt16(513).writeInt32(-70_000).writeInt64(2 ** 40).writeString('ünïcode').writeString(null)
      .writeBytes(body).writeVarIntString('väriant').writeArray(['a', 'bb']).writeArray([1, 2, 3]);
    const outer = new EncoderClass().writeInt32(size).writeEncoder(inner).writeBuffer(body);
    out.push(outer.buffer);
    out.push((await frame({ correlationId: size, clientId: 'consumer-1', request: { apiKey: 0, apiVersion: 7, encode: async () => outer } })).buffer);
  }
  return out;
}

describe('kafkajs encoder speed-up', () => {
  it("writes the bytes kafkajs' own Encoder writes, and frames requests as before", async () => {
    const seed = randomBytes(1_048_577);
    const original = EncoderClass.prototype.ensureAvailable;
    const before = await writes(seed);
    installEncoderSpeedup(load);
    assert.notEqual(EncoderClass.prototype.ensureAvailable, original, 'installed');
    const after = await writes(seed);
    assert.equal(after.length, before.length);
    for (let i = 0; i < before.length; i++) assert.ok(after[i]!.equals(before[i]!), `write run ${i}: the same bytes`);
  });

  it('grows into unfilled memory: only the written bytes are ever in `buffer`', () => {
    installEncoderSpeedup(load);
    installEncoderSpeedup(load);
    const encoder = new EncoderClass(1).writeInt32(1).writeBuffer(Buffer.alloc(3000, 7));
    assert.equal(encoder.buffer.length, 3004);
    assert.equal(encoder.buf.length, 4096, 'grown to the next power of two, as kafkajs grows it');
    assert.ok(encoder.buffer.subarray(4).every((b) => b === 7));
  });
});
