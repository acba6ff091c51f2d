// Records encoded the moment they are made, for the producer's raw topic. Until now each row lived
// as a message object and two strings until its batch was sent, and was sized twice and copied
// on the way: the garbage collector copied a batch's strings from one space to the next while it
// filled, which cost about a sixth of the producer's CPU. A RecordsWriter writes each record
// straight into one partition's buffer, exactly as kafkajs-produce-speedup.ts encodes a message
// without timestamp or headers, so the row's strings die young.
//
// kafkajs still counts messages (sequence numbers, acknowledgements), so a writer hands it as many
// messages as it holds records: the first carries the encoded bytes, the others are one shared
// filler. The produce speed-up sends the bytes as they are; it refuses (throws) rather than ever
// encode these stand-ins as records themselves.
import type { Message } from 'kafkajs';
import { varIntSize, writeVarIntAt } from './kafkajs-varint-speedup';

const encodedKey = Symbol('encoded records');
const fillerKey = Symbol('encoded records filler');

export interface EncodedRecords {
  /** Records with offset deltas 0 … count − 1, timestamp delta 0 (the request's time), no headers. */
  bytes: Buffer;
  count: number;
}

type Marked = Message & { [encodedKey]?: EncodedRecords; [fillerKey]?: true };

/** A message seen with the marks a writer may have put on it (every message is one). */
const marksOf = (message: Message | undefined): Marked | undefined => message;

/** The records a message stands for, if it is the first of a writer's messages. */
export function encodedRecordsOf(message: Message | undefined): EncodedRecords | undefined {
  return marksOf(message)?.[encodedKey];
}

/** Whether a message stands in for part of a writer's records (the first or a filler). */
export function isStandIn(message: Message): boolean {
  const marks = marksOf(message);
  return marks?.[encodedKey] !== undefined || marks?.[fillerKey] === true;
}

export function isFiller(message: Message | undefined): boolean {
  return marksOf(message)?.[fillerKey] === true;
}

/** The UTF-8 length of a key or value; -1 for null, as a record writes it. */
export const recordFieldLength = (value: string | Buffer | null): number => (value === null ? -1 : typeof value === 'string' ? Buffer.byteLength(value) : value.length);

/** A value that writes itself: exactly valueLength bytes at out[at], returning the offset after them. */
export interface ValueWriter {
  valueLength: number;
  writeValue(out: Uint8Array, at: number): number;
}

/** One partition's records of one batch. */
export class RecordsWriter {
  private buf: Buffer;
  private used = 0;
  private records = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, initialBytes));
  }

  /** Appends a record; the lengths are recordFieldLength() of the key and the value. */
  add(key: string | Buffer | null, keyLength: number, value: string | Buffer | null, valueLength: number): void {
    const start = this.startRecord(keyLength, valueLength);
    // this.buf read after startRecord: making room may have replaced it.
    this.endRecord(writeField(this.buf, writeField(this.buf, start, key, keyLength), value, valueLength));
  }

  /**
   * Appends a record whose key (keyLength -1: null) is a span of `keyBytes` and whose value
   * (`value.valueLength` bytes) `value` writes straight into the records.
   */
  addWritten(keyBytes: Uint8Array, keyStart: number, keyLength: number, value: ValueWriter): void {
    const valueLength = value.valueLength;
    const start = this.startRecord(keyLength, valueLength);
    const buf = this.buf;
    let at = writeVarIntAt(buf, start, keyLength);
    for (let i = keyStart; i < keyStart + keyLength; i++) buf[at++] = keyBytes[i]!;
    this.endRecord(value.writeValue(buf, writeVarIntAt(buf, at, valueLength)));
  }

  /** Makes room for a record with fields of these lengths (-1: null) and writes its head; returns where its key goes. */
  private startRecord(keyLength: number, valueLength: number): number {
    const offsetDelta = this.records;
    const body = 2 + varIntSize(offsetDelta) + varIntSize(keyLength) + Math.max(keyLength, 0) + varIntSize(valueLength) + Math.max(valueLength, 0) + 1;
    this.reserve(5 + body);
    let at = writeVarIntAt(this.buf, this.used, body);
    this.buf[at++] = 0; // attributes
    this.buf[at++] = 0; // timestamp delta 0
    return writeVarIntAt(this.buf, at, offsetDelta);
  }

  /** Ends the record whose value ends at `at`. */
  private endRecord(at: number): void {
    this.buf[at++] = 0; // no headers
    this.used = at;
    this.records++;
  }

  /** kafkajs messages for partition `partition` that stand for the records, one per record. */
  messages(partition: number): Message[] {
    const first: Marked = { key: null, value: null, partition, [encodedKey]: { bytes: this.buf.subarray(0, this.used), count: this.records } };
    const filler: Marked = { key: null, value: null, partition, [fillerKey]: true };
    const messages = new Array<Message>(this.records).fill(filler);
    messages[0] = first;
    return messages;
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + bytes));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }
}

/**
 * Writes a record's key or value (`length`: its recordFieldLength) with its length before it;
 * returns the offset after it. A string whose UTF-8 length is its length in UTF-16 units is ASCII
 * (any other character takes two bytes or more), and its bytes are its characters' codes: written
 * as latin1, which copies them without UTF-8's encoder, in half the time (events are ASCII).
 */
export function writeField(buf: Buffer, at: number, value: string | Buffer | null, length: number): number {
  at = writeVarIntAt(buf, at, length);
  if (value === null) return at;
  if (typeof value === 'string') buf.write(value, at, length, length !== value.length ? 'utf8' : 'latin1');
  else value.copy(buf, at);
  return at + length;
}
