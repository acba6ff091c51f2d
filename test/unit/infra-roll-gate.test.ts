// The broker roll gate's decisions that need no broker: what is missing before the next broker may
// go down, how that reads in an error, and when the gate waits at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rollGateProvider, type RollGateProps } from '../../infra/kafka-admin/broker-roll-gate';
import { consumerRollGateProvider, type ConsumerRollGateProps } from '../../infra/kafka-admin/consumer-roll-gate';
import { groupProblems, lagOf, type GroupView } from '../../infra/kafka-admin/group-progress';
import { describeGaps, isWhole, replicationGaps, type PartitionView } from '../../infra/kafka-admin/replication-gaps';

const full = (topic: string, partition: number, replicas = [1, 2, 3]): PartitionView => ({ topic, partition, leader: replicas[0]!, replicas, isr: [...replicas] });

describe('broker roll gate: replication gaps', () => {
  it('a cluster with every broker listed and every ISR equal to its replicas is whole', () => {
    const gaps = replicationGaps({ brokers: [3, 1, 2], partitions: [full('orders', 0), full('orders', 1), full('__consumer_offsets', 0)] }, [1, 2, 3]);
    assert.deepEqual(gaps, { missingBrokers: [], underReplicated: [] });
    assert.equal(isWhole(gaps), true);
    assert.equal(describeGaps(gaps), 'every broker registered and every partition fully replicated');
  });

  it('names the broker that is not back and every partition whose ISR lacks a replica, internal topics included', () => {
    const partitions = [
      full('orders', 0),
      { ...full('orders', 1), isr: [1, 3] },
      { ...full('orders', 2), isr: [3, 1] },
      { ...full('__consumer_offsets', 7), isr: [1] },
      full('__transaction_state', 0, [2, 3, 1]),
    ];
    const gaps = replicationGaps({ brokers: [1, 3], partitions }, [1, 2, 3]);
    assert.deepEqual(gaps.missingBrokers, [2]);
    assert.deepEqual(gaps.underReplicated.map((p) => [p.topic, p.partition, p.missing]), [
      ['__consumer_offsets', 7, [2, 3]],
      ['orders', 1, [2]],
      ['orders', 2, [2]],
    ]);
    assert.equal(isWhole(gaps), false);
    assert.equal(describeGaps(gaps), 'broker 2 is not registered; 3 partitions not fully replicated: __consumer_offsets 7 (missing 2,3); orders 1,2 (missing 2)');
  });

  it('a listed broker is not enough: a partition still catching up keeps the gate shut', () => {
    const gaps = replicationGaps({ brokers: [1, 2, 3], partitions: [full('orders', 0), { ...full('orders', 1), isr: [1, 3] }] }, [1, 2, 3]);
    assert.deepEqual(gaps.missingBrokers, []);
    assert.equal(isWhole(gaps), false);
    assert.equal(describeGaps(gaps), '1 partition not fully replicated: orders 1 (missing 2)');
  });

  it('a partition without a leader is not whole even when its ISR looks complete', () => {
    const gaps = replicationGaps({ brokers: [1], partitions: [{ topic: 'orders', partition: 0, leader: -1, replicas: [1], isr: [1] }] }, [1]);
    assert.equal(describeGaps(gaps), '1 partition not fully replicated: orders 0 (no leader)');
  });

  it('several missing brokers are named together', () => {
    assert.equal(describeGaps(replicationGaps({ brokers: [1], partitions: [] }, [1, 2, 3])), 'brokers 2, 3 are not registered');
  });
});

describe('broker roll gate: the provider', () => {
  // Nothing listens on port 1: any attempt to wait would fail, so a resolved create proves it did not wait.
  const props: RollGateProps = {
    nodeId: 1, address: '127.0.0.1:1', nodeIds: [1, 2, 3], containerId: 'c1', timeoutSeconds: 10, waitOnCreate: false,
    connection: { brokers: ['127.0.0.1:1'], ca: 'CA', cert: 'CERT', key: 'KEY' },
  };

  it('a replaced container (a new id) is an update, never a replacement; nothing changed is no change', async () => {
    assert.deepEqual(await rollGateProvider.diff!('broker-1', props, { ...props, containerId: 'c2' }), { changes: true, replaces: [] });
    assert.deepEqual(await rollGateProvider.diff!('broker-1', props, { ...props }), { changes: false, replaces: [] });
    assert.equal((await rollGateProvider.diff!('broker-1', props, { ...props, timeoutSeconds: 60 })).changes, true);
  });

  it('create does not wait unless asked (the first up starts the nodes together)', async () => {
    assert.deepEqual(await rollGateProvider.create(props), { id: 'broker-1', outs: props });
  });
});

describe('consumer roll gate: group progress', () => {
  const group = (over: Partial<GroupView> = {}, committed = [10, 20, 30], end = [50, 50, 50]): GroupView => ({
    groupId: 'ecommerce-consumer', state: 'Stable', members: 2,
    partitions: committed.map((c, partition) => ({ topic: 'raw', partition, committed: c, end: end[partition]! })),
    ...over,
  });

  it('stable, every replica a member, offsets committed since the first look: settled', () => {
    assert.equal(lagOf(group()), 40 + 30 + 20);
    assert.deepEqual(groupProblems(group(), group({}, [15, 20, 30]), 2), []);
  });

  it('a rebalance in progress or a missing member keeps the gate shut, and says so', () => {
    assert.deepEqual(groupProblems(group(), group({ state: 'PreparingRebalance', members: 1 }, [15, 20, 30]), 2), [
      'group ecommerce-consumer is PreparingRebalance',
      'group ecommerce-consumer has 1 of 2 members',
    ]);
  });

  it('a lag that is not draining (nothing committed since the replacement) keeps it shut', () => {
    assert.deepEqual(groupProblems(group(), group(), 2), ['group ecommerce-consumer has a lag of 90 and committed nothing since the replica was replaced']);
  });

  it('nothing to read but commit markers (one record per partition at most) is drained, without a new commit', () => {
    assert.deepEqual(groupProblems(group({}, [49, 50, 49]), group({}, [49, 50, 49]), 2), []);
    assert.deepEqual(groupProblems(group({}, [-1, -1, -1], [0, 0, 0]), group({}, [-1, -1, -1], [0, 0, 0]), 2), [], 'an empty topic');
  });
});

describe('consumer roll gate: the provider', () => {
  const props: ConsumerRollGateProps = {
    replica: 'services-consumer-1', containerId: 'c1', members: 2, timeoutSeconds: 10,
    groups: [{ groupId: 'ecommerce-consumer', topic: 'raw' }],
    connection: { brokers: ['127.0.0.1:1'], ca: 'CA', cert: 'CERT', key: 'KEY' },
  };

  it('a replaced replica is an update; the first up does not wait', async () => {
    assert.deepEqual(await consumerRollGateProvider.diff!('r', props, { ...props, containerId: 'c2' }), { changes: true, replaces: [] });
    assert.deepEqual(await consumerRollGateProvider.diff!('r', props, { ...props, groups: [...props.groups] }), { changes: false, replaces: [] });
    assert.deepEqual(await consumerRollGateProvider.create(props), { id: 'services-consumer-1', outs: props });
  });
});
