// Reads back what a RecordsWriter (services/core/encoded-records.ts) wrote, for tests that look at
// what a producer sent: records as kafkajs' Record v0 encodes them, uncompressed.
import type { Message } from 'kafkajs';
import { encodedRecordsOf, isFiller } from '../../services/core/encoded-records';

export interface DecodedRecord {
  timestampDelta: number;
  offsetDelta: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

function readVarInt(buf: Buffer, at: number): [number, number] {
  let raw = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[at++]!;
    raw += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) break;
  }
  return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, at];
}

export function decodeRecords(bytes: Buffer): DecodedRecord[] {
  const records: DecodedRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    const [length, start] = readVarInt(bytes, at);
    const [timestampDelta, afterTimestamp] = readVarInt(bytes, start + 1); // after the attributes
    const [offsetDelta, afterOffset] = readVarInt(bytes, afterTimestamp);
    let p = afterOffset;
    const text = (): string | null => {
      const [size, from] = readVarInt(bytes, p);
      p = from + Math.max(size, 0);
      return size < 0 ? null : bytes.toString('utf8', from, from + size);
    };
    const key = text();
    const value = text();
    const [count, afterCount] = readVarInt(bytes, p);
    p = afterCount;
    const headers: Record<string, string> = {};
    for (let i = 0; i < count; i++) headers[text()!] = text()!;
    if (p !== start + length) throw new Error(`record at ${at}: its length says ${length} bytes, its fields took ${p - start}`);
    records.push({ timestampDelta, offsetDelta, key, value, headers });
    at = p;
  }
  return records;
}

/** The messages as sent: a RecordsWriter's stand-ins become the records they stand for (key and value as text). */
export function expandStandIns(messages: Message[]): Message[] {
  return messages.flatMap((m) => {
    const encoded = encodedRecordsOf(m);
    if (encoded) return decodeRecords(encoded.bytes).map(({ key, value }) => ({ key, value, partition: m.partition! }));
    return isFiller(m) ? [] : [m];
  });
}
