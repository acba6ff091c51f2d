// AlterUserScramCredentials (API key 51, KIP-554), which kafkajs 2.2.4 does not implement, as pure
// encode/decode functions. Version 0 is the only version Kafka 4.1.1 serves, and it is a "flexible"
// version: compact strings and bytes (unsigned varint length + 1), compact arrays, and an empty
// tagged-field section after every struct, after the request header (header v2) and after the
// response header (header v1). The client sends the salted password, never the password: the
// broker stores SaltedPassword = PBKDF2-HMAC-SHA-512(password, salt, iterations) (RFC 5802 `Hi`).
import { pbkdf2Sync, randomBytes } from 'node:crypto';

export const alterUserScramCredentialsApiKey = 51;
export const alterUserScramCredentialsVersion = 0;
/** Kafka's ScramMechanism ids. */
export const scramMechanismIds = { 'scram-sha-256': 1, 'scram-sha-512': 2 } as const;
/** Kafka accepts 4096..16384 iterations (ScramMechanism.minIterations / maxIterations). */
export const scramIterations = 8192;

export interface ScramUpsertion {
  name: string;
  mechanism: 'scram-sha-512';
  iterations: number;
  salt: Buffer;
  saltedPassword: Buffer;
}

export interface ScramDeletion {
  name: string;
  mechanism: 'scram-sha-512';
}

export interface ScramResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
}

/** A new random salt and the salted password for it. */
export function scramUpsertion(name: string, password: string, iterations = scramIterations, salt = randomBytes(32)): ScramUpsertion {
  return { name, mechanism: 'scram-sha-512', iterations, salt, saltedPassword: pbkdf2Sync(password, salt, iterations, 64, 'sha512') };
}

function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value >>> 0;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

const compactBytes = (b: Buffer): Buffer => Buffer.concat([uvarint(b.length + 1), b]);
const compactString = (s: string): Buffer => compactBytes(Buffer.from(s, 'utf8'));
const compactArray = (items: Buffer[]): Buffer => Buffer.concat([uvarint(items.length + 1), ...items]);
const int8 = (v: number): Buffer => Buffer.from([v]);
const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
/** A function, not a constant: Pulumi serializes a provider's captured values, and a captured Buffer arrives as a plain object. */
const noTags = (): Buffer => Buffer.from([0]);

/**
 * The request body, preceded by the request header v2's empty tagged fields: kafkajs writes header
 * v1 (api key, version, correlation id, client id) and then this, which together make header v2.
 */
export function encodeAlterUserScramCredentials(deletions: ScramDeletion[], upsertions: ScramUpsertion[]): Buffer {
  return Buffer.concat([
    noTags(),
    compactArray(deletions.map((d) => Buffer.concat([compactString(d.name), int8(scramMechanismIds[d.mechanism]), noTags()]))),
    compactArray(upsertions.map((u) => Buffer.concat([
      compactString(u.name), int8(scramMechanismIds[u.mechanism]), int32(u.iterations), compactBytes(u.salt), compactBytes(u.saltedPassword), noTags(),
    ]))),
    noTags(),
  ]);
}

interface Reader {
  uvarint(): number;
  take(n: number): Buffer;
  int16(): number;
  int32(): number;
  nullableString(): string | null;
  skipTags(): void;
}

/**
 * A closure, not a class: Pulumi's function serialization rebuilds classes from their methods' source
 * and drops field initializers (an `offset = 0` field arrived undefined in the serialized provider).
 */
function reader(buffer: Buffer): Reader {
  let offset = 0;
  const take = (n: number): Buffer => {
    if (offset + n > buffer.length) throw new Error(`AlterUserScramCredentials response: truncated at byte ${offset}`);
    const slice = buffer.subarray(offset, offset + n);
    offset += n;
    return slice;
  };
  const uvarint = (): number => {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      const byte = take(1).readUInt8(0);
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    throw new Error('AlterUserScramCredentials response: varint longer than 5 bytes');
  };
  return {
    uvarint,
    take,
    int16: () => take(2).readInt16BE(0),
    int32: () => take(4).readInt32BE(0),
    nullableString: () => {
      const length = uvarint();
      return length === 0 ? null : take(length - 1).toString('utf8');
    },
    skipTags: () => {
      const count = uvarint();
      for (let i = 0; i < count; i++) {
        uvarint();
        take(uvarint());
      }
    },
  };
}

/** The payload after the correlation id: response header v1's tagged fields, then the body. */
export function decodeAlterUserScramCredentials(payload: Buffer): ScramResult[] {
  const r = reader(payload);
  r.skipTags();
  r.int32(); // throttle_time_ms
  const count = r.uvarint() - 1;
  const results: ScramResult[] = [];
  for (let i = 0; i < count; i++) {
    const user = r.nullableString() ?? '';
    const errorCode = r.int16();
    const errorMessage = r.nullableString();
    r.skipTags();
    results.push({ user, errorCode, errorMessage });
  }
  r.skipTags();
  return results;
}
