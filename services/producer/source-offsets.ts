// The producer's position in its file, Kafka Connect's exactly-once source (KIP-618) in small: each
// batch's transaction carries, beside its events and dead letters, one record on the compacted
// source-offsets topic saying how far the file is delivered. A restart reads the last committed
// record for the file and resumes after it, so a row is on the topics once however often the
// producer is killed, fenced or replaced. The record is keyed by the file's name; the identity in
// it (size, and a hash of the file's head) tells a grown or unchanged file from a different one.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';

/** How much of the file's start identifies it: enough to tell two exports apart, cheap to read. */
export const headBytes = 64 * 1024;

export interface FileIdentity {
  /** The file's base name: the position's key, and the prefix of every eventId. */
  name: string;
  size: number;
  /** How many bytes the hash covers: min(size, headBytes) when the position was first written. */
  headBytes: number;
  headSha256: string;
}

export interface SourcePosition {
  file: FileIdentity;
  /** Every record starting at or before this line is on the raw or dead-letter topic. */
  line: number;
  /** End of that record in the file's text (uncompressed bytes for gzip). */
  byteOffset: number;
  /** Rows sent and rejected from line 1 through `line`, over every run. */
  sent: number;
  rejected: number;
  /** The file was read to its end: nothing after `line` exists (in this version of the file). */
  complete: boolean;
}

/** Identity of a file as it is now; `coverBytes` hashes a stored identity's head length instead of the default. */
export async function fileIdentity(file: string, coverBytes?: number): Promise<FileIdentity> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, coverBytes ?? headBytes);
    const head = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(head, read, length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return { name: path.basename(file), size, headBytes: read, headSha256: createHash('sha256').update(head.subarray(0, read)).digest('hex') };
  } finally {
    await handle.close();
  }
}

export function positionKey(identity: FileIdentity): string {
  return identity.name;
}

export function positionValue(position: SourcePosition): string {
  return JSON.stringify({ schemaVersion: 1, ...position });
}

/** A stored position, or undefined for anything that is not one (logged by the caller). */
export function parsePosition(value: string): SourcePosition | undefined {
  try {
    const v = JSON.parse(value) as Partial<SourcePosition> & { schemaVersion?: unknown };
    const f = v.file;
    const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
    if (v.schemaVersion !== 1 || !f || typeof f.name !== 'string' || !isCount(f.size) || !isCount(f.headBytes) || typeof f.headSha256 !== 'string') return undefined;
    if (!isCount(v.line) || !isCount(v.byteOffset) || !isCount(v.sent) || !isCount(v.rejected) || typeof v.complete !== 'boolean') return undefined;
    return { file: { name: f.name, size: f.size, headBytes: f.headBytes, headSha256: f.headSha256 }, line: v.line, byteOffset: v.byteOffset, sent: v.sent, rejected: v.rejected, complete: v.complete };
  } catch {
    return undefined;
  }
}

export type ResumeDecision =
  | { kind: 'fresh' }
  | { kind: 'resume'; position: SourcePosition; grown: boolean }
  | { kind: 'different'; position: SourcePosition; why: string };

/**
 * Same file (resume after its position) when its head still hashes the same and it is at least as
 * long as the text already delivered; a file that grew is the same file with more rows (an append).
 * Anything else under the same name is a different file, which starts over from line 1.
 */
export async function decideResume(file: string, stored: SourcePosition | undefined): Promise<ResumeDecision> {
  if (!stored) return { kind: 'fresh' };
  const now = await fileIdentity(file, stored.file.headBytes);
  if (now.headBytes !== stored.file.headBytes || now.headSha256 !== stored.file.headSha256) {
    return { kind: 'different', position: stored, why: `its first ${stored.file.headBytes} bytes differ from the file delivered through line ${stored.line}` };
  }
  if (now.size < stored.file.size) {
    return { kind: 'different', position: stored, why: `it is shorter (${now.size} bytes) than the file delivered before (${stored.file.size} bytes)` };
  }
  return { kind: 'resume', position: stored, grown: now.size > stored.file.size };
}
