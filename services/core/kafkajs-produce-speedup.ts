// kafkajs 2.2.4 builds a produce request's records one object at a time: each message is copied
// into a new object, turned into its own Encoder (a zero-filled buffer of 512 bytes or more), its
// string key and value are first copied into buffers of their own, and the records are then copied
// once more into the batch. For the producer that was the largest single cost after reading the
// file (about a quarter of its CPU time), and the consumer's stages pay it on every record too.
//
// This encodes a partition's records in one pass into one buffer of the exact size, then frames the
// batches as kafkajs does (same header, checksum and compression codec), the whole request body in
// one more buffer of its exact size (frameRequest). Anything unusual — a header
// value that is not a string or a buffer, a key or value of another type, a timestamp delta beyond
// 32 bits — keeps kafkajs' own code for the whole request. A speed-up, not a fix: the bytes are the same, which
// test/unit/kafkajs-produce-speedup.test.ts checks against kafkajs' own produce request.
//
// kafkajs' produce requests v4 to v7 take v3's encoder when they load: this must be installed
// before the first produce request is built (services/core/kafkajs-fixes.ts), and refuses after.
import { createRequire } from 'node:module';
import type { IHeaders, Message } from 'kafkajs';
import { gzipRecords } from './gzip-codec';
import { encodedRecordsOf, isFiller, isStandIn, recordFieldLength, writeField } from './encoded-records';
import { varIntSize, writeVarIntAt, type EncoderClass, type EncoderLike } from './kafkajs-varint-speedup';

/** What the fast path still writes with kafkajs' Encoder: a batch's fixed fields, as kafkajs writes them. */
interface KafkaEncoder extends EncoderLike {
  writeInt16(value: number): KafkaEncoder;
  writeInt32(value: number): KafkaEncoder;
  writeInt64(value: unknown): KafkaEncoder;
}

type KafkaEncoderClass = Omit<EncoderClass, 'new'> & (new (initialSize?: number) => KafkaEncoder);

interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: Message[];
}

interface TopicData {
  topic: string;
  partitions: PartitionData[];
}

export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}

export interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<KafkaEncoder>;
}

export type ProduceRequestV3 = (args: ProduceRequestArgs) => ProduceRequest;

interface Codec {
  compress(encoder: KafkaEncoder): Promise<Buffer>;
}

export interface KafkaModules {
  Encoder: KafkaEncoderClass;
  crc32C: (buffer: Buffer) => number;
  lookupCodec: (type: number) => Codec | null;
  /** kafkajs' own gzip codec, which compresses with zlib's defaults. */
  gzipCodec: Codec;
  Long: { fromInt(value: number): unknown; fromValue(value: unknown): unknown };
}

const MAGIC_BYTE = 2;
const TRANSACTIONAL_MASK = 16;
const COMPRESSION_CODEC_MASK = 0x07;


const isInt32 = (value: unknown): value is number => typeof value === 'number' && (value | 0) === value;

/** A message's key or value as kafkajs writes it, or undefined for a type kafkajs' own code should meet (and refuse). */
function bytesOf(value: unknown): string | Buffer | null | undefined {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' || Buffer.isBuffer(value) ? value : undefined;
}


/** A message's headers as kafkajs flattens them (arrays give one header per element), or undefined when one cannot take the fast path. */
function flatHeaders(headers: IHeaders | undefined): [string, string | Buffer][] | undefined {
  const flat: [string, string | Buffer][] = [];
  if (headers === undefined) return flat;
  if (headers === null || typeof headers !== 'object') return undefined;
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    for (const one of Array.isArray(value) ? value : [value]) {
      if (typeof one !== 'string' && !Buffer.isBuffer(one)) return undefined;
      flat.push([key, one]);
    }
  }
  return flat;
}

/**
 * The records of one partition, encoded back to back as kafkajs' Record v0 encodes each, or
 * undefined when a message needs kafkajs' own code.
 */
export function encodeRecords(messages: Message[], timestampDeltas: number[]): Buffer | undefined {
  const encoded = encodedRecordsOf(messages[0]);
  if (!encoded) return encodeMessages(messages, timestampDeltas, 0);
  // A RecordsWriter's records (encoded-records.ts), then perhaps messages added after them (the end-of-input markers).
  const { bytes, count } = encoded;
  for (let i = 0; i < count; i++) {
    if ((i > 0 && !isFiller(messages[i])) || timestampDeltas[i] !== 0) throw new Error(`produce speed-up: encoded records stand-ins out of place, or given timestamps, at message ${i} of ${messages.length}`);
  }
  if (messages.length === count) return bytes;
  const rest = encodeMessages(messages.slice(count), timestampDeltas.slice(count), count);
  if (!rest) throw new Error('produce speed-up: a message after encoded records needs kafkajs\' own encoding, which cannot encode those records');
  return Buffer.concat([bytes, rest]);
}

/** encodeRecords for messages, the first with offset delta `base`. */
function encodeMessages(messages: Message[], timestampDeltas: number[], base: number): Buffer | undefined {
  const n = messages.length;
  const keys = new Array<string | Buffer | null>(n);
  const values = new Array<string | Buffer | null>(n);
  const lengths = new Int32Array(n * 3);
  const headers = new Array<[string, string | Buffer][]>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const message = messages[i]!;
    if (isStandIn(message)) throw new Error(`produce speed-up: encoded records stand-in out of place at message ${base + i}`);
    const delta = timestampDeltas[i];
    if (!isInt32(delta)) return undefined;
    const flat = flatHeaders(message.headers);
    if (!flat) return undefined;
    const key = bytesOf(message.key);
    const value = bytesOf(message.value);
    if (key === undefined || value === undefined) return undefined;
    const keyLength = recordFieldLength(key);
    const valueLength = recordFieldLength(value);
    let body = 1 + varIntSize(delta) + varIntSize(base + i) + varIntSize(keyLength) + Math.max(keyLength, 0) + varIntSize(valueLength) + Math.max(valueLength, 0) + varIntSize(flat.length);
    for (const [hk, hv] of flat) {
      const kl = Buffer.byteLength(hk);
      const vl = recordFieldLength(hv);
      body += varIntSize(kl) + kl + varIntSize(vl) + vl;
    }
    keys[i] = key;
    values[i] = value;
    headers[i] = flat;
    lengths[i * 3] = keyLength;
    lengths[i * 3 + 1] = valueLength;
    lengths[i * 3 + 2] = body;
    total += varIntSize(body) + body;
  }
  const buf = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    offset = writeVarIntAt(buf, offset, lengths[i * 3 + 2]!);
    buf[offset++] = 0; // attributes
    offset = writeVarIntAt(buf, offset, timestampDeltas[i]!);
    offset = writeVarIntAt(buf, offset, base + i);
    offset = writeField(buf, offset, keys[i]!, lengths[i * 3]!);
    offset = writeField(buf, offset, values[i]!, lengths[i * 3 + 1]!);
    const flat = headers[i]!;
    offset = writeVarIntAt(buf, offset, flat.length);
    for (const [hk, hv] of flat) {
      offset = writeField(buf, offset, hk, Buffer.byteLength(hk));
      offset = writeField(buf, offset, hv, recordFieldLength(hv));
    }
  }
  if (offset !== total) throw new Error(`produce speed-up: encoded ${offset} bytes of records, expected ${total}`);
  return buf;
}

/** The parts of kafkajs the fast request frames its batches with. */
export function kafkajsModules(load: NodeJS.Require = createRequire(require.resolve('kafkajs'))): KafkaModules {
  const compression = load('./src/protocol/message/compression') as { lookupCodec: KafkaModules['lookupCodec'] };
  return {
    Encoder: load('./src/protocol/encoder') as KafkaEncoderClass,
    crc32C: load('./src/protocol/recordBatch/crc32C') as KafkaModules['crc32C'],
    lookupCodec: compression.lookupCodec,
    gzipCodec: load('./src/protocol/message/compression/gzip') as Codec,
    Long: load('./src/utils/long') as KafkaModules['Long'],
  };
}

/** An Encoder holding these bytes (what a codec and writeEncoder take), without copying them. */
function encoderOf(Encoder: KafkaEncoderClass, bytes: Buffer): KafkaEncoder {
  const encoder = new Encoder(0);
  encoder.buf = bytes;
  encoder.offset = bytes.length;
  return encoder;
}

/**
 * kafkajs' produce request v3 with the fast record encoding; `original` is kafkajs' own, whose
 * encoding the request falls back to when any partition needs kafkajs' own code.
 */
export function fastProduceRequest(original: ProduceRequestV3, modules: KafkaModules): ProduceRequestV3 {
  const { Encoder, crc32C, lookupCodec, gzipCodec, Long } = modules;
  /**
   * kafkajs' own gzip into one output buffer for the whole batch (gzipRecords); any other codec, our
   * gzip at a level (gzip-codec.ts, which does the same) included, through its compress.
   */
  const compress = (codec: Codec, records: Buffer): Promise<Buffer> =>
    codec === gzipCodec ? gzipRecords(records) : codec.compress(encoderOf(Encoder, records));
  return (args) => {
    const request = original(args);
    const { acks, timeout, transactionalId = null, producerId = Long.fromInt(-1), producerEpoch = 0, compression = 0, topicData } = args;
    const originalEncode = request.encode;
    request.encode = async () => {
      // Every partition at once: their compressions run side by side on libuv's threads, where
      // kafkajs compresses one partition after the other.
      const batches = await Promise.all(topicData.map(({ partitions }) => Promise.all(partitions.map((data) => encodePartition(data, { transactionalId, producerId, producerEpoch, compression })))));
      if (batches.some((encoded) => encoded.some((batch) => batch === undefined))) {
        if (topicData.some(({ partitions }) => partitions.some(({ messages }) => encodedRecordsOf(messages[0])))) {
          throw new Error('produce speed-up: a partition needs kafkajs\' own encoding, which cannot encode the encoded records of another');
        }
        return originalEncode();
      }
      return encoderOf(Encoder, frameRequest({ transactionalId, acks, timeout }, topicData.map(({ topic }, i) => ({ topic, batches: batches[i] as EncodedBatch[] }))));
    };
    return request;
  };

  /**
   * A partition's record batch, but for its framing and checksum: the fixed fields after the
   * checksum (attributes to record count, as kafkajs writes them) and the records, compressed or not.
   */
  async function encodePartition(
    { partition, messages, firstSequence = 0 }: PartitionData,
    { transactionalId, producerId, producerEpoch, compression }: { transactionalId: string | null; producerId: unknown; producerEpoch: number; compression: number },
  ): Promise<EncodedBatch | undefined> {
    // Timestamps exactly as kafkajs takes them (its sort compares as strings).
    const dateNow = Date.now();
    const given = messages.map((m) => m.timestamp).filter((t) => t != null).sort() as unknown[];
    const timestamps = given.length === 0 ? [dateNow] : given;
    const firstTimestamp = timestamps[0] as number;
    const maxTimestamp = timestamps[timestamps.length - 1];
    const deltas = messages.map((m) => ((m.timestamp as unknown as number) || dateNow) - firstTimestamp);
    const records = encodeRecords(messages, deltas);
    if (!records) return undefined;
    const attributes = (compression & COMPRESSION_CODEC_MASK) | (transactionalId ? TRANSACTIONAL_MASK : 0);
    const head = new Encoder(BATCH_HEAD_BYTES)
      .writeInt16(attributes)
      .writeInt32(messages.length - 1)
      .writeInt64(firstTimestamp)
      .writeInt64(maxTimestamp)
      .writeInt64(producerId)
      .writeInt16(producerEpoch)
      .writeInt32(firstSequence)
      .writeInt32(messages.length).buffer;
    const codec = compression === 0 ? null : lookupCodec(compression);
    return { partition, head, records: codec ? await compress(codec, records) : records };
  }

  /**
   * The request body in one buffer of its exact size, as kafkajs' nested Encoders would write it:
   * each of those starts at 512 zero-filled bytes and doubles (a new zero-filled buffer and a copy)
   * as it grows, and every level copies the one below, so a megabyte of records was allocated and
   * copied about seven times on its way to the socket. Here the records are copied once, and each
   * batch's CRC-32C is taken where it lies.
   */
  function frameRequest(fields: { transactionalId: string | null; acks: number; timeout: number }, topics: { topic: string; batches: EncodedBatch[] }[]): Buffer {
    let total = stringSize(fields.transactionalId) + 2 + 4 + 4;
    for (const { topic, batches } of topics) {
      total += stringSize(topic) + 4;
      for (const b of batches) total += PARTITION_FRAME_BYTES + b.head.length + b.records.length;
    }
    const buf = Buffer.allocUnsafe(total);
    let offset = writeStringAt(buf, 0, fields.transactionalId);
    offset = buf.writeInt16BE(fields.acks, offset);
    offset = buf.writeInt32BE(fields.timeout, offset);
    offset = buf.writeInt32BE(topics.length, offset);
    for (const { topic, batches } of topics) {
      offset = writeStringAt(buf, offset, topic);
      offset = buf.writeInt32BE(batches.length, offset);
      for (const { partition, head, records } of batches) {
        // [partition][record set size] then the batch: [base offset 0][batch length][leader epoch 0][magic][crc][head][records].
        const batchLength = 4 + 1 + 4 + head.length + records.length;
        offset = buf.writeInt32BE(partition, offset);
        offset = buf.writeInt32BE(8 + 4 + batchLength, offset);
        offset = buf.writeInt32BE(0, offset);
        offset = buf.writeInt32BE(0, offset);
        offset = buf.writeInt32BE(batchLength, offset);
        offset = buf.writeInt32BE(0, offset);
        offset = buf.writeInt8(MAGIC_BYTE, offset);
        const crcAt = offset;
        offset += 4;
        const bodyStart = offset;
        offset += head.copy(buf, offset);
        offset += records.copy(buf, offset);
        buf.writeUInt32BE(crc32C(buf.subarray(bodyStart, offset)), crcAt);
      }
    }
    if (offset !== total) throw new Error(`produce speed-up: framed ${offset} bytes of a request, expected ${total}`);
    return buf;
  }
}

interface EncodedBatch {
  partition: number;
  head: Buffer;
  records: Buffer;
}

/** Attributes (2), last offset delta (4), first and max timestamps (8 + 8), producer id (8) and epoch (2), base sequence (4), record count (4). */
const BATCH_HEAD_BYTES = 40;
/** Partition (4), record set size (4), base offset (8), batch length (4), leader epoch (4), magic (1), CRC (4). */
const PARTITION_FRAME_BYTES = 29;

/** A protocol STRING's size: a 16-bit length (-1 for null) and the UTF-8 bytes. */
function stringSize(value: string | null): number {
  return 2 + (value === null ? 0 : Buffer.byteLength(value));
}

function writeStringAt(buf: Buffer, offset: number, value: string | null): number {
  if (value === null) return buf.writeInt16BE(-1, offset);
  const length = buf.write(value, offset + 2);
  buf.writeInt16BE(length, offset);
  return offset + 2 + length;
}

const installed = Symbol.for('ecommerce-pipeline.kafkajs-produce-speedup');

/** Replaces kafkajs' produce request v3 (which v4 to v7 build on); idempotent. */
export function installProduceSpeedup(): void {
  const load = createRequire(require.resolve('kafkajs'));
  const v3 = load.resolve('./src/protocol/requests/produce/v3/request');
  const v4 = load.resolve('./src/protocol/requests/produce/v4/request');
  const cachedV3 = load.cache[v3];
  if ((cachedV3?.exports as Record<symbol, unknown> | undefined)?.[installed]) return;
  if (load.cache[v4]) throw new Error("kafkajs' produce requests are loaded already: import services/core/kafkajs-fixes before anything that sends");
  const original = load(v3) as ProduceRequestV3;
  const fast = Object.assign(fastProduceRequest(original, kafkajsModules(load)), { [installed]: true });
  load.cache[v3]!.exports = fast;
}
