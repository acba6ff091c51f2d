// kafkajs 2.2.4's Encoder grows by allocating a new zero-filled buffer (Buffer.alloc) of the next
// power of two and copying what it holds. Every request is framed by two such Encoders
// (src/protocol/request.js: the header and the body, then the size and all of it), so a produce
// request of a few megabytes (both consumer stages, the producer) paid for zero-filling up to twice
// its size twice over, besides the copies. The bytes past an Encoder's offset are never read
// (`buffer` is the slice up to it, and nothing in kafkajs reads `buf` but the Encoder and Decoder), so
// growing into unfilled memory (Buffer.allocUnsafe) writes the same requests. A speed-up, not a fix:
// test/unit/kafkajs-encoder-speedup.test.ts checks the bytes against kafkajs' own Encoder.
//
// It patches the Encoder's prototype, so it holds for Encoders created before and after.
import { createRequire } from 'node:module';

interface GrowingEncoder {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
}

interface EncoderStatics {
  prototype: GrowingEncoder;
  nextPowerOfTwo(value: number): number;
}

const installed = Symbol.for('ecommerce-pipeline.kafkajs-encoder-speedup');

/** ensureAvailable as kafkajs grows the buffer (the next power of two), without zero-filling the new one. */
export function ensureAvailableUnfilled(Encoder: EncoderStatics): (this: GrowingEncoder, length: number) => void {
  return function ensureAvailable(this: GrowingEncoder, length: number): void {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
}

/** Replaces the Encoder's ensureAvailable; idempotent. */
export function installEncoderSpeedup(load: NodeJS.Require = createRequire(require.resolve('kafkajs'))): void {
  const Encoder = load('./src/protocol/encoder') as EncoderStatics & Record<symbol, unknown>;
  if (Encoder[installed]) return;
  Encoder.prototype.ensureAvailable = ensureAvailableUnfilled(Encoder);
  Encoder[installed] = true;
}
