// The partition of a keyed message, as kafkajs's DefaultPartitioner (and the Java client) computes
// it: murmur2 of the key's UTF-8 bytes, made positive, modulo the partition count. kafkajs computes
// murmur2 with a 64-bit Long emulation that allocates several objects per byte group: about an eighth
// of the producer's CPU. Only the low 32 bits ever matter, so Math.imul gives the same result.
const seed = 0x9747b28c;
const m = 0x5bd1e995;

/** Java's murmur2 of `key`'s UTF-8 bytes, as a signed 32-bit integer. */
export function murmur2(key: string): number {
  return isAscii(key) ? hash(key.length, (i) => key.charCodeAt(i)) : murmur2Bytes(Buffer.from(key));
}

export function murmur2Bytes(data: Uint8Array): number {
  return hash(data.length, (i) => data[i]!);
}

/** The partition kafkajs's DefaultPartitioner gives a message with this key. */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function hash(length: number, byte: (i: number) => number): number {
  let h = (seed ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = byte(i) | (byte(i + 1) << 8) | (byte(i + 2) << 16) | (byte(i + 3) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= byte(whole + 2) << 16;
    if (tail >= 2) h ^= byte(whole + 1) << 8;
    h = Math.imul(h ^ byte(whole), m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}
