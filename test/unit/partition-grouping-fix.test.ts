// The linear replacement for kafkajs' per-partition grouping gives exactly kafkajs' result, with a
// stateful (round-robin) partitioner called in the same order, and the producer process installs it.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { Message } from 'kafkajs';
import { groupMessagesPerPartition } from '../../services/core/partition-grouping-fix';

type Group = typeof groupMessagesPerPartition;

describe('partition grouping fix', () => {
  it('groups as kafkajs does: same partitions, same order, partitioner called once per message in order', () => {
    const original = createRequire(require.resolve('kafkajs'))('./src/producer/groupMessagesPerPartition') as Group;
    assert.notEqual(original, groupMessagesPerPartition);
    const partitionMetadata = [0, 1, 2, 3, 4].map((partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
    const roundRobin = (): ((a: { message: Message }) => number) => {
      let next = 0;
      return ({ message }) => (message.partition ?? next++ % 5);
    };
    for (const count of [0, 1, 7, 1000]) {
      const messages: Message[] = Array.from({ length: count }, (_, i) => ({ key: String(i), value: `v${i}`, ...(i % 3 === 0 ? { partition: i % 4 } : {}) }));
      const expected = original({ topic: 't', partitionMetadata, messages, partitioner: roundRobin() });
      const actual = groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner: roundRobin() });
      assert.deepEqual(actual, expected);
      assert.deepEqual(Object.keys(actual), Object.keys(expected));
    }
    assert.deepEqual(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ value: 'x' }], partitioner: roundRobin() }), {});
  });
});
