// The read_committed filter that replaces kafkajs' (services/consumer/read-committed.ts): records
// of aborted transactions are hidden whatever order the broker lists the transactions in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hideAbortedRecords, type FetchedRecord } from '../../services/consumer/read-committed';

const abortKey = Buffer.from([0, 0, 0, 0]);
const commitKey = Buffer.from([0, 0, 0, 1]);

function data(offset: number, producerId: string, inTransaction = true): FetchedRecord {
  return { offset: String(offset), key: Buffer.from(`k${offset}`), isControlRecord: false, batchContext: { producerId, inTransaction } };
}

function marker(offset: number, producerId: string, key: Buffer): FetchedRecord {
  return { offset: String(offset), key, isControlRecord: true, batchContext: { producerId, inTransaction: true } };
}

const delivered = (records: FetchedRecord[]) => records.filter((r) => !r.isControlRecord).map((r) => Number(r.offset));

describe('hideAbortedRecords', () => {
  it('X began first, Y was aborted first (the broker lists Y first): every aborted record hidden', () => {
    const records = [data(0, 'x'), data(1, 'y'), data(2, 'x'), marker(3, 'y', abortKey), marker(4, 'x', abortKey), data(5, 'y'), marker(6, 'y', commitKey)];
    assert.equal(hideAbortedRecords(records, [{ producerId: 'y', firstOffset: '1' }, { producerId: 'x', firstOffset: '0' }]), 3);
    assert.deepEqual(delivered(records), [5]);
  });

  it('several aborted transactions begun before the fetched records are all recognised at once', () => {
    const records = [data(10, 'y'), data(11, 'x'), data(12, 'z'), marker(13, 'x', abortKey), marker(14, 'y', abortKey), marker(15, 'z', commitKey)];
    hideAbortedRecords(records, [{ producerId: 'x', firstOffset: '2' }, { producerId: 'y', firstOffset: '5' }]);
    assert.deepEqual(delivered(records), [12]);
  });

  it('a producer\'s committed transaction after its aborted one, and non-transactional records, are delivered', () => {
    const records = [data(0, 'x'), marker(1, 'x', abortKey), data(2, 'x'), marker(3, 'x', commitKey), data(4, '-1', false)];
    hideAbortedRecords(records, [{ producerId: 'x', firstOffset: '0' }]);
    assert.deepEqual(delivered(records), [2, 4]);
  });

  it('a data record whose key looks like an abort marker does not end an aborted transaction', () => {
    const records = [data(0, 'x'), { ...data(1, 'x'), key: abortKey }, data(2, 'x'), marker(3, 'x', abortKey)];
    hideAbortedRecords(records, [{ producerId: 'x', firstOffset: '0' }]);
    assert.deepEqual(delivered(records), []);
  });
});
