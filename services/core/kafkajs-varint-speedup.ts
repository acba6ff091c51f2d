// kafkajs 2.2.4 encodes every varint of a record (its length, timestamp delta, offset delta, key and
// value lengths, header count) through a fresh Buffer (`Buffer.from(byteArray)`), and every varlong
// (the timestamp delta) through 64-bit Long objects, even when the value is a small number. For a
// stage writing tens of thousands of small records a second, that was a tenth of its CPU time with
// the garbage it leaves. This writes the same bytes straight into the encoder's buffer, and takes
// the 32-bit path for a varlong whose value fits 32 bits (zigzag of such a value is the same in 32
// and 64 bits); anything else goes to kafkajs' own code. A speed-up, not a fix: the bytes are the
// same, which test/unit/kafkajs-varint-speedup.test.ts checks against kafkajs' own encoder.
// Loads only kafkajs' encoder (no producer), so it may run before or after the other patches.
import { createRequire } from 'node:module';

export interface EncoderLike {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  ensureAvailable: (this: EncoderLike, length: number) => void;
  writeUVarInt: (this: EncoderLike, value: number) => EncoderLike;
  writeVarLong: (this: EncoderLike, value: unknown) => EncoderLike;
}

export interface EncoderClass {
  new (initialSize?: number): EncoderLike;
  prototype: EncoderLike & Record<symbol, unknown>;
  sizeOfVarInt: (value: number) => number;
  sizeOfVarLong: (value: unknown) => number;
}

export function loadEncoder(): EncoderClass {
  return createRequire(require.resolve('kafkajs'))('./src/protocol/encoder') as EncoderClass;
}

/**
 * Writes an unsigned varint as kafkajs does (the low 7 bits per byte while any bit above them is
 * set, in the unsigned 32-bit view) at `offset`, which must have 5 bytes of room; returns the offset
 * after it. Shared with kafkajs-produce-speedup.ts.
 */
export function writeUVarIntAt(buf: Buffer, offset: number, value: number): number {
  while ((value & 0xffffff80) !== 0) {
    buf[offset++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[offset++] = value & 0x7f;
  return offset;
}

/** The bytes of a signed 32-bit varint as kafkajs' writeVarInt writes it (zigzag, then unsigned). */
export function varIntSize(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while ((v & 0xffffff80) !== 0) {
    bytes++;
    v >>>= 7;
  }
  return bytes;
}

/** Writes a signed 32-bit varint as kafkajs' writeVarInt does at `offset` (5 bytes of room); returns the offset after it. */
export const writeVarIntAt = (buf: Buffer, offset: number, value: number): number => writeUVarIntAt(buf, offset, ((value << 1) ^ (value >> 31)) >>> 0);

const installed = Symbol.for('ecommerce-pipeline.kafkajs-varint-speedup');

const isInt32 = (value: unknown): value is number => typeof value === 'number' && (value | 0) === value;

/** Patches kafkajs' Encoder (or the given copy of it) in place; idempotent. */
export function installVarintSpeedup(Encoder: EncoderClass = loadEncoder()): void {
  const prototype = Encoder.prototype;
  if (prototype[installed]) return;
  const originalVarLong = prototype.writeVarLong;
  const originalSizeOfVarLong = Encoder.sizeOfVarLong;

  prototype.writeUVarInt = function writeUVarInt(this: EncoderLike, value: number): EncoderLike {
    this.ensureAvailable(5);
    this.offset = writeUVarIntAt(this.buf, this.offset, value);
    return this;
  };
  prototype.writeVarLong = function writeVarLong(this: EncoderLike, value: unknown): EncoderLike {
    if (!isInt32(value)) return originalVarLong.call(this, value);
    return this.writeUVarInt(((value << 1) ^ (value >> 31)) >>> 0);
  };
  Encoder.sizeOfVarLong = (value: unknown): number => (isInt32(value) ? Encoder.sizeOfVarInt(value) : originalSizeOfVarLong.call(Encoder, value));
  prototype[installed] = true;
}
