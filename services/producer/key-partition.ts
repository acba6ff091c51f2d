// The partition of a keyed message, as kafkajs's DefaultPartitioner (and the Java client) computes
// it: murmur2 of the key's UTF-8 bytes, made positive, modulo the partition count. kafkajs computes
// murmur2 with a 64-bit Long emulation that allocates several objects per byte group: about an eighth
// of the producer's CPU. Only the low 32 bits ever matter, so Math.imul gives the same result.
const seed = 0x9747b28c;
const m = 0x5bd1e995;

/** Java's murmur2 of `key`'s UTF-8 bytes, as a signed 32-bit integer. */
export function murmur2(key: string): number {
  // An ASCII key's characters are its bytes: hashed as read, in one pass; anything else as UTF-8.
  const length = key.length;
  let h = (seed ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    const c0 = key.charCodeAt(i);
    const c1 = key.charCodeAt(i + 1);
    const c2 = key.charCodeAt(i + 2);
    const c3 = key.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 0x7f) return murmur2Bytes(Buffer.from(key));
    h = mixWord(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  for (let i = whole; i < length; i++) if (key.charCodeAt(i) > 0x7f) return murmur2Bytes(Buffer.from(key));
  // charCodeAt past the end is NaN, which shifts and xors as 0.
  return finish(mixTail(h, length & 3, key.charCodeAt(whole), key.charCodeAt(whole + 1), key.charCodeAt(whole + 2)));
}

/** murmur2 of data[start, end) (all of it by default). */
export function murmur2Bytes(data: Uint8Array, start = 0, end = data.length): number {
  const length = end - start;
  let h = (seed ^ length) | 0;
  const whole = start + (length & ~3);
  for (let i = start; i < whole; i += 4) h = mixWord(h, data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
  const tail = length & 3;
  return finish(mixTail(h, tail, tail > 0 ? data[whole]! : 0, tail > 1 ? data[whole + 1]! : 0, tail > 2 ? data[whole + 2]! : 0));
}

/** The partition kafkajs's DefaultPartitioner gives a message with this key (key[start, end) when given). */
export function partitionForKeyBytes(key: Uint8Array, partitions: number, start = 0, end = key.length): number {
  return (murmur2Bytes(key, start, end) & 0x7fffffff) % partitions;
}

/** The partition kafkajs's DefaultPartitioner gives a message with this key. */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** One 4-byte word (little-endian) into the hash. */
function mixWord(h: number, k: number): number {
  k = Math.imul(k, m);
  k ^= k >>> 24;
  k = Math.imul(k, m);
  return Math.imul(h, m) ^ k;
}

/** The last 1 to 3 bytes (`tail` of them) into the hash. */
function mixTail(h: number, tail: number, b0: number, b1: number, b2: number): number {
  if (tail === 0) return h;
  if (tail === 3) h ^= b2 << 16;
  if (tail >= 2) h ^= b1 << 8;
  return Math.imul(h ^ b0, m);
}

function finish(h: number): number {
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}
