// services/core/kafkajs-varint-speedup.ts must write exactly the bytes kafkajs' own encoder writes:
// a fresh, unpatched copy of kafkajs' Encoder is the reference, and a patched copy must agree with
// it on every varint, varlong and size, alone and mixed with kafkajs' other writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { installVarintSpeedup, type EncoderClass } from '../../services/core/kafkajs-varint-speedup';
import { freshKafkajsModule } from '../support/fresh-kafkajs-module';

/** A copy of kafkajs' Encoder class of its own, so patching it touches nothing else. */
const freshEncoder = (): EncoderClass => freshKafkajsModule<EncoderClass>('./src/protocol/encoder');

interface Full {
  readonly buffer: Buffer;
  writeVarInt: (this: Full, v: number) => Full;
  writeInt32: (this: Full, v: number) => Full;
  writeVarIntBytes: (this: Full, v: unknown) => Full;
  writeUVarInt: (this: Full, v: number) => Full;
  writeVarLong: (this: Full, v: unknown) => Full;
}

const int32Edges = [0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, -8193, 2 ** 20, 2 ** 27, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31)];
const beyond = [2 ** 31, -(2 ** 31) - 1, 2 ** 40, -(2 ** 45), 1_700_000_000_000, Number.MAX_SAFE_INTEGER, '12345', '-9007199254740993'];

/** An encoder of the given copy, typed with the methods the test calls. */
const make = (Encoder: EncoderClass, initialSize?: number): Full => new Encoder(initialSize) as unknown as Full;

describe('kafkajs varint speed-up', () => {
  const reference = freshEncoder();
  const patched = freshEncoder();
  installVarintSpeedup(patched);

  it('is a different copy from the reference, and patched', () => {
    assert.notEqual(reference, patched);
    assert.notEqual(Object.getOwnPropertyDescriptor(reference.prototype, 'writeUVarInt')?.value, Object.getOwnPropertyDescriptor(patched.prototype, 'writeUVarInt')?.value);
  });

  it('writes the same bytes for every varint and varlong, and gives the same sizes', () => {
    const random = Array.from({ length: 2000 }, (_, i) => Math.floor((Math.sin(i * 7919) * 2 ** 31) % 2 ** 31));
    for (const value of [...int32Edges, ...random]) {
      const a = make(reference);
      const b = make(patched);
      assert.deepEqual(b.writeVarInt(value).buffer, a.writeVarInt(value).buffer, `varint ${value}`);
      assert.deepEqual(make(patched).writeVarLong(value).buffer, make(reference).writeVarLong(value).buffer, `varlong ${value}`);
      assert.equal(patched.sizeOfVarLong(value), reference.sizeOfVarLong(value), `sizeOfVarLong ${value}`);
      assert.deepEqual(make(patched).writeUVarInt(value).buffer, make(reference).writeUVarInt(value).buffer, `uvarint ${value}`);
    }
    for (const value of beyond) {
      assert.deepEqual(make(patched).writeVarLong(value).buffer, make(reference).writeVarLong(value).buffer, `varlong ${value}`);
      assert.equal(patched.sizeOfVarLong(value), reference.sizeOfVarLong(value), `sizeOfVarLong ${value}`);
    }
  });

  it('agrees over a long mixed sequence that makes the buffer grow', () => {
    const a = make(reference, 8);
    const b = make(patched, 8);
    for (let i = 0; i < 5000; i++) {
      for (const e of [a, b]) {
        e.writeVarInt(i * 37 - 9000).writeVarLong(i * 1_000_003).writeVarIntBytes(i % 3 === 0 ? null : `value-${i}`).writeInt32(i).writeVarLong(1_700_000_000_000 + i);
      }
    }
    assert.deepEqual(b.buffer, a.buffer);
  });
});
