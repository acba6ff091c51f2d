// Stage 1's pure core for one raw partition: validate, enrich, stamp each event with the
// partition's stream time and fan it out under its group keys; then one watermark per batch.
import type { IHeaders } from 'kafkajs';
import { isEndOfInput } from '../core/end-of-input';
import { parseEventMessage } from '../core/event';
import type { GroupKeyKind } from './config';
import { enrich, groupKeys } from './enrich';
import { eventRowJson, eventRowsJson, packBytes, type KeyedEventRecord, type WatermarkRecord } from './repartition-records';

export interface RawMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

export interface Rejected {
  message: RawMessage;
  reason: string;
}

export interface RepartitionBatch {
  records: KeyedEventRecord[];
  rejected: Rejected[];
  /** The partition's stream time after the batch; -1 if it has never seen a valid event. */
  streamTime: number;
  /** The partition's input has ended: its last record is an end-of-input marker (no event after it). */
  ended: boolean;
}

export function repartitionBatch(
  source: number,
  streamTimeBefore: number,
  messages: readonly RawMessage[],
  groupBy: readonly GroupKeyKind[],
  endedBefore = false,
): RepartitionBatch {
  let streamTime = streamTimeBefore;
  let ended = endedBefore;
  const records: KeyedEventRecord[] = [];
  const rejected: Rejected[] = [];
  for (const message of messages) {
    if (isEndOfInput(message.headers)) {
      ended = true;
      continue;
    }
    const check = parseEventMessage(message.value);
    if (!check.ok) {
      rejected.push({ message, reason: check.reason });
      continue;
    }
    const event = enrich(check.event);
    // An event after the marker: the producer resumed a longer file, or a new one.
    ended = false;
    streamTime = Math.max(streamTime, event.eventTime);
    for (const key of groupKeys(event, groupBy)) records.push({ type: 'event', source, streamTime, key, event });
  }
  return { records, rejected, streamTime, ended };
}

export interface PackMessage {
  key: string;
  value: string;
  partition: number;
}

/**
 * A batch's event records as packs (repartition-records.ts): one per group key, split where the
 * next event would take a pack past `maxBytes`, each holding that key's events in the order read,
 * on the key's repartition partition. Every event is serialised once, whatever its number of keys.
 */
export function packEvents(source: number, records: readonly KeyedEventRecord[], partitions: number, maxBytes = packBytes): PackMessage[] {
  // An event's records (one per group key, one after the other) share its stream time: its row is written once.
  let last: KeyedEventRecord | undefined;
  let json = '';
  const byKey = new Map<string, string[]>();
  for (const r of records) {
    if (r.event !== last?.event || r.streamTime !== last.streamTime) json = eventRowJson(r.streamTime, r.event);
    last = r;
    let rows = byKey.get(r.key);
    if (!rows) byKey.set(r.key, (rows = []));
    rows.push(json);
  }
  const messages: PackMessage[] = [];
  for (const [key, rows] of byKey) {
    const partition = partitionFor(key, partitions);
    const prefix = eventRowsJson(source, key, []).length;
    let start = 0;
    let bytes = prefix;
    for (let i = 0; i < rows.length; i++) {
      // Characters, not bytes (a scan less): a pack of non-ASCII names is at most three times
      // packBytes in bytes, still far under the topic's max.message.bytes.
      const size = rows[i]!.length + 1;
      if (bytes + size > maxBytes && i > start) {
        messages.push({ key, value: eventRowsJson(source, key, rows.slice(start, i)), partition });
        start = i;
        bytes = prefix;
      }
      bytes += size;
    }
    if (rows.length > start) messages.push({ key, value: eventRowsJson(source, key, rows.slice(start)), partition });
  }
  return messages;
}

export function watermark(source: number, sources: number, streamTime: number, idle: boolean, ended = false): WatermarkRecord {
  return { type: 'watermark', source, sources, streamTime, idle, ended };
}

/** FNV-1a: a stable key → partition map of our own, so placement never depends on a client library's partitioner. */
export function partitionFor(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
