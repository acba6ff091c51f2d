// kafkajs 2.2.4 decodes every record it fetches through 64-bit BigInt arithmetic: its offset is
// the batch's first offset, a string, parsed into a BigInt again for each record, added to and
// printed; its timestamp the same; and its timestamp delta, a varlong, is read through three
// BigInt-backed Long objects per byte. For a stage reading tens of thousands of records a second
// that was about 6% of its CPU time (stage 1's, end to end), with the garbage it leaves. This decodes the same
// record with numbers where they are exact (a safe integer, which every offset and millisecond
// timestamp of this century is) and goes to kafkajs' own code for anything else. A speed-up, not a
// fix: test/unit/kafkajs-decoder-speedup.test.ts checks it against kafkajs' own decoder.
//
// kafkajs' record batch decoder takes the record decoder once, when it loads: this must be
// installed before (services/core/kafkajs-fixes.ts does), and refuses to run after.
import { createRequire } from 'node:module';

/** kafkajs' Decoder, the methods a record needs. */
export interface RecordReader {
  buffer: Buffer;
  offset: number;
  readInt8: () => number;
  readVarInt: () => number;
  readVarIntBytes: () => Buffer | null;
  readVarIntArray: <T>(reader: (decoder: RecordReader) => T) => T[];
}

/** The batch's fields a record needs (kafkajs' recordContext plus the magic byte). */
export interface RecordContext {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  timestampType: number;
  magicByte: number;
  isControlBatch?: boolean;
}

export type RecordDecoder = (decoder: RecordReader, batchContext: RecordContext) => unknown;

const load = createRequire(require.resolve('kafkajs'));
const recordModule = load.resolve('./src/protocol/recordBatch/record/v0/decoder');
const batchModule = load.resolve('./src/protocol/recordBatch/v0/decoder');
const headerDecoder = load('./src/protocol/recordBatch/header/v0/decoder') as (decoder: RecordReader) => { key: string; value: Buffer | null };
const logAppendTime = (load('./src/protocol/timestampTypes') as { LOG_APPEND_TIME: number }).LOG_APPEND_TIME;

/**
 * A zigzag varlong as a number, or undefined (the decoder left where it was) when it has more than
 * seven bytes, whose value a double may not hold exactly.
 */
function readSmallVarLong(decoder: RecordReader): number | undefined {
  const { buffer } = decoder;
  let at = decoder.offset;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    const byte = buffer[at++];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      decoder.offset = at;
      // Zigzag: even values are the non-negative ones.
      return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
    scale *= 128;
  }
  return undefined;
}

/**
 * A batch's first offset or first timestamp (a string) as a number, NaN when a number would not
 * be exact; remembered, so that a batch's records parse their shared base once, not once each.
 */
class BatchBase {
  private text: string | undefined;
  private value = Number.NaN;

  of(text: string): number {
    if (text !== this.text) {
      const value = Number(text);
      this.text = text;
      this.value = Number.isSafeInteger(value) && String(value) === text ? value : Number.NaN;
    }
    return this.value;
  }
}

const offsetBase = new BatchBase();
const timestampBase = new BatchBase();

/** `base + delta` as kafkajs prints it, when numbers give it exactly (NaN, the inexact base, never does); otherwise undefined. */
function plus(base: number, delta: number): string | undefined {
  const sum = base + delta;
  return Number.isSafeInteger(sum) ? String(sum) : undefined;
}

/** A record's headers as kafkajs gives them: one value per key, an array for a repeated key. */
function headersOf(decoder: RecordReader): Record<string, Buffer | null | (Buffer | null)[]> {
  const list = decoder.readVarIntArray(headerDecoder);
  if (list.length === 0) return {};
  // kafkajs' own construction (spread into a fresh object literal per header), kept as is: rare, and
  // a `__proto__` key stays an own property.
  return list.reduce<Record<string, Buffer | null | (Buffer | null)[]>>((obj, { key, value }) => {
    const seen = obj[key];
    return { ...obj, [key]: seen === undefined ? value : Array.isArray(seen) ? seen.concat([value]) : [seen, value] };
  }, {});
}

let original: RecordDecoder | undefined;
let fallbacks = 0;

/** How many records went to kafkajs' own decoder so far (its numbers not exact as doubles). */
export const kafkajsFallbacks = (): number => fallbacks;

/**
 * kafkajs' v0 record decoder, with numbers for the offset and timestamp arithmetic; a record whose
 * numbers are not exact as doubles is decoded again from its start by kafkajs' own.
 */
export const decodeRecord: RecordDecoder = (decoder, batchContext) => {
  const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
  const start = decoder.offset;
  const attributes = decoder.readInt8();
  const delta = readSmallVarLong(decoder);
  const timestamp = timestampType === logAppendTime && maxTimestamp ? maxTimestamp : delta === undefined ? undefined : plus(timestampBase.of(firstTimestamp), delta);
  const offset = delta === undefined ? undefined : plus(offsetBase.of(firstOffset), decoder.readVarInt());
  if (timestamp === undefined || offset === undefined) {
    decoder.offset = start;
    fallbacks++;
    return originalDecoder()(decoder, batchContext);
  }
  const key = decoder.readVarIntBytes();
  const value = decoder.readVarIntBytes();
  const headers = headersOf(decoder);
  return { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: isControlBatch, batchContext };
};

/** kafkajs' own record decoder: kept when the speed-up is installed, and until then still what its module exports. */
function originalDecoder(): RecordDecoder {
  return (original ??= load(recordModule) as RecordDecoder);
}

/** Replaces the function kafkajs' record batch decoder will take; idempotent. */
export function installDecoderSpeedup(): void {
  if (load.cache[recordModule]?.exports === decodeRecord) return;
  if (load.cache[batchModule]) {
    throw new Error("kafkajs' record batch decoder is loaded already: import services/core/kafkajs-fixes before anything that loads kafkajs");
  }
  original = load(recordModule) as RecordDecoder;
  load.cache[recordModule]!.exports = decodeRecord;
}
