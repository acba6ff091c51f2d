// The benchmark's check that the Kafka Streams peer computed our windows, and the peer's ACL table:
// the check must catch any difference (or the ratio it guards means nothing), and the peer's rights
// must stay inside its own prefix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peakRssLine, peerPrincipal, streamsPeerAclRules, windowDifferences, comparableToPeer, type PeerMeasurement } from '../../bench/streams-peer';
import { aclBindings } from '../../infra/security/acl-rules';

const window = (key: string, extra: Record<string, unknown> = {}): [string, unknown] => [
  key, { windowKind: 'tumbling', key: 'overall', events: 3, distinctUsers: 2, revenue: 10.5, topProducts: [{ productId: 'p1', revenue: 10.5, purchases: 1 }], ...extra },
];

describe('windowDifferences', () => {
  it('is empty for equal results, whatever their order', () => {
    const ours = new Map([window('tumbling|overall|0'), window('tumbling|overall|60000')]);
    const peer = new Map([window('tumbling|overall|60000'), window('tumbling|overall|0')]);
    assert.deepEqual(windowDifferences(ours, peer), []);
  });

  it('names a window only one side committed, and one whose fields differ, down to a nested one', () => {
    const ours = new Map([window('a'), window('b'), window('c')]);
    const peer = new Map([window('a', { distinctUsers: 3 }), window('b', { topProducts: [{ productId: 'p1', revenue: 10.5, purchases: 2 }] }), window('d')]);
    const problems = windowDifferences(ours, peer);
    assert.equal(problems.length, 4);
    assert.match(problems[0]!, /^a: ours .*"distinctUsers":2.*\n {2}peer .*"distinctUsers":3/);
    assert.match(problems[1]!, /^b: ours /);
    assert.ok(problems.includes('c: only in ours'));
    assert.ok(problems.includes("d: only in the peer's"));
  });

  it('takes our windows the end of input closed as optional for the peer, compared without the mark when it has them', () => {
    const ours = new Map([window('a'), window('b', { endOfInput: true }), window('c', { endOfInput: true })]);
    const peer = new Map([window('a'), window('b')]);
    assert.deepEqual([...comparableToPeer(ours, peer).keys()], ['a', 'b']);
    assert.deepEqual(windowDifferences(comparableToPeer(ours, peer), peer), []);
    const different = new Map([window('a'), window('b', { distinctUsers: 9 })]);
    assert.match(windowDifferences(comparableToPeer(ours, different), different)[0]!, /^b: ours /);
    assert.deepEqual(windowDifferences(comparableToPeer(ours, new Map([window('b')])), new Map([window('b')])), ['a: only in ours']);
  });

  it('stops listing at the limit and says how many more', () => {
    const ours = new Map(Array.from({ length: 15 }, (_, i) => window(`w${i}`)));
    const problems = windowDifferences(ours, new Map(), 10);
    assert.equal(problems.length, 11);
    assert.equal(problems[10], '… and 5 more');
  });
});

describe('streamsPeerAclRules', () => {
  it('reads the raw topic and owns only what is prefixed with its principal, with no cluster rights', () => {
    const bindings = aclBindings(streamsPeerAclRules('ecommerce_topic_x'), { raw: '', processed: '', deadLetter: '', late: '', repartition: '', changelog: '', sourceOffsets: '' });
    assert.ok(bindings.every((b) => b.principal === `User:${peerPrincipal}`));
    assert.ok(!bindings.some((b) => b.resourceType === 'cluster'));
    const onRaw = bindings.filter((b) => b.resourceName === 'ecommerce_topic_x');
    assert.deepEqual(onRaw.map((b) => [b.patternType, b.operation]).sort(), [['literal', 'Describe'], ['literal', 'Read']]);
    const rest = bindings.filter((b) => b.resourceName !== 'ecommerce_topic_x');
    assert.ok(rest.every((b) => b.resourceName === peerPrincipal && b.patternType === 'prefixed'));
    assert.ok(!bindings.some((b) => b.operation === 'All' || b.operation === 'Alter' || b.operation === 'AlterConfigs'));
  });
});

describe('peakRssLine', () => {
  const peer = (threads: number, peakRssMiB: number): PeerMeasurement => ({ threads, run: { seconds: 1, windows: 0, peakRssMiB } });

  it('names each process with its memory, and the peer among the equal windows only when it ran', () => {
    assert.equal(
      peakRssLine(759.4, [peer(1, 533), peer(2, 572.2)], 1660),
      "peak RSS: our consumer 759 MiB, Kafka Streams 1 thread 533 MiB, Kafka Streams 2 threads 572 MiB; ours, Kafka Streams' and the oracle's 1660 committed windows are the same",
    );
    assert.equal(peakRssLine(814, [], 8340), "peak RSS: our consumer 814 MiB; ours and the oracle's 8340 committed windows are the same");
  });
});
