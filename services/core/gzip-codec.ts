// kafkajs compresses gzip batches at zlib's default level (6) and offers no setting for it; Kafka's
// own producer has one (`compression.gzip.level`, KIP-390). This is that setting for our producer:
// a gzip codec at a chosen level, registered in kafkajs' table of codecs in place of its own. The
// level changes how hard zlib looks for matches, not the format: every consumer reads the batches
// as before. Level 1 compresses canonical events about 9.5-fold at twice level 6's speed (12.8-fold),
// and end to end, where the producer shares two cores with the broker and the consumer, that CPU
// is worth more than the bytes (docs/benchmarks.md).
//
// No import of kafkajs' index here: kafkajs-produce-speedup.ts uses gzipRecords, and it must load
// before kafkajs' producer does (services/core/kafkajs-fixes.ts).
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip as gzipCallback, unzip as unzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);
const unzip = promisify(unzipCallback);

export const gzipLevelRange = { min: 1, max: 9 } as const;

/**
 * A batch's encoded records gzipped into one output buffer: zlib's default 16 KiB output chunks
 * cost a round trip from libuv's thread to JavaScript each. The bytes do not depend on the chunk
 * size; `level` undefined is zlib's default, kafkajs' own.
 */
export function gzipRecords(records: Buffer, level?: number): Promise<Buffer> {
  return gzip(records, { chunkSize: Math.max(64 * 1024, records.length + 1024), ...(level === undefined ? {} : { level }) });
}

/** kafkajs' codec interface (the produce speed-up hands compress an Encoder over the batch's records, no copy). */
export interface LeveledGzipCodec {
  readonly level: number;
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

export function gzipCodecAtLevel(level: number): LeveledGzipCodec {
  if (!Number.isInteger(level) || level < gzipLevelRange.min || level > gzipLevelRange.max) {
    throw new RangeError(`gzip level ${level} is not a whole number from ${gzipLevelRange.min} to ${gzipLevelRange.max}`);
  }
  return {
    level,
    compress: (encoder) => gzipRecords(encoder.buffer, level),
    // As kafkajs' own codec: unzip takes gzip and zlib streams alike.
    decompress: (buffer) => unzip(buffer),
  };
}

type CodecTable = Record<number, () => unknown>;
const GZIP = 1;

function kafkajsCodecs(): CodecTable {
  const load = createRequire(require.resolve('kafkajs'));
  return (load('./src/protocol/message/compression') as { Codecs: CodecTable }).Codecs;
}

/**
 * Makes every gzip batch this process sends compress at `level` (kafkajs' codec table is one per
 * process, as is our producer). Returns a function that puts back the codec that was there.
 */
export function useGzipLevel(level: number): () => void {
  const codec = gzipCodecAtLevel(level);
  const codecs = kafkajsCodecs();
  const previous = codecs[GZIP]!;
  codecs[GZIP] = () => codec;
  return () => {
    codecs[GZIP] = previous;
  };
}
