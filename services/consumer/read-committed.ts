// kafkajs 2.2.4 lets a read_committed consumer see records of aborted transactions. Its filter
// (src/consumer/filterAbortedMessages.js) assumes the fetch response lists aborted transactions
// in order of their first offset and that at most one begins before each record; the broker lists
// them in the order they were *aborted* (its transaction index), so when producer X's transaction
// began before producer Y's but Y's was aborted first, X's records before Y's first record are
// delivered as if committed; and of several aborted transactions begun before the fetch offset,
// only the first is recognised at the first record. Both happen whenever several transactional
// producers write to one partition and more than one of their transactions is aborted: here
// stage 1's producers on a repartition partition, stage 2's on a processed partition, when an
// instance dies or is fenced. The consumer then counts an event twice (the aborted copy and the
// one its successor committed), or a reader sees a window result twice.
//
// The fix does what the Java consumer does (a queue of aborted transactions by first offset; a
// producer's transactional records are skipped from its aborted transaction's first offset to its
// abort marker), on every fetch response before kafkajs builds its batches: an aborted record is
// flagged as a control record, which kafkajs never delivers but still counts as consumed (so a
// fetch of nothing but aborted records moves the position on), and the aborted list is emptied so
// that kafkajs' own filter has nothing left to do.
import { createRequire } from 'node:module';

export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext?: { producerId: string | number; inTransaction: boolean };
}

export interface AbortedTransaction {
  producerId: string | number;
  firstOffset: string;
}

/** Flags every record of an aborted transaction as a control record; returns how many it flagged. */
export function hideAbortedRecords(records: FetchedRecord[], abortedTransactions: AbortedTransaction[]): number {
  const pending = abortedTransactions
    .map((t) => ({ producerId: String(t.producerId), firstOffset: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const aborting = new Set<string>();
  let hidden = 0;
  for (const record of records) {
    const offset = BigInt(record.offset);
    while (pending.length > 0 && pending[0]!.firstOffset <= offset) aborting.add(pending.shift()!.producerId);
    const producerId = String(record.batchContext?.producerId);
    if (record.isControlRecord) {
      if (isAbortMarker(record)) aborting.delete(producerId);
    } else if (record.batchContext?.inTransaction && aborting.has(producerId)) {
      record.isControlRecord = true;
      hidden += 1;
    }
  }
  return hidden;
}

/** A control record's key is version (int16) then type (int16): 0 is ABORT, 1 COMMIT. */
function isAbortMarker(record: FetchedRecord): boolean {
  return record.key !== null && record.key.length >= 4 && record.key.readInt16BE(2) === 0;
}

interface FetchResponse {
  responses?: { partitions?: { abortedTransactions?: AbortedTransaction[] | null; messages?: FetchedRecord[] }[] }[];
}

const installed = Symbol.for('ecommerce.consumer.readCommittedFix');

/**
 * Installs the filter on kafkajs' Broker.fetch (a prototype method, looked up on every call, so
 * it applies to clients created before as well as after). Idempotent.
 */
export function installReadCommittedFix(): void {
  const load = createRequire(require.resolve('kafkajs'));
  const Broker = load('./src/broker') as { prototype: Record<string | symbol, unknown> };
  const prototype = Broker.prototype;
  if (prototype[installed]) return;
  const original = prototype.fetch as (this: unknown, ...args: unknown[]) => Promise<FetchResponse>;
  if (typeof original !== 'function') throw new Error('kafkajs Broker.fetch not found: the read_committed fix does not fit this kafkajs version');
  prototype.fetch = async function fetch(this: unknown, ...args: unknown[]): Promise<FetchResponse> {
    const response = await original.apply(this, args);
    for (const topic of response.responses ?? []) {
      for (const partition of topic.partitions ?? []) {
        if (!partition.abortedTransactions || partition.abortedTransactions.length === 0) continue;
        hideAbortedRecords(partition.messages ?? [], partition.abortedTransactions);
        partition.abortedTransactions = [];
      }
    }
    return response;
  };
  prototype[installed] = true;
}
