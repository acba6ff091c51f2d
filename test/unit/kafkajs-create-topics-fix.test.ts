// createTopics waits for leaders past UNKNOWN_TOPIC_OR_PARTITION (services/core/kafkajs-create-topics-fix.ts,
// services/core/topic-leaders.ts): driven against a fake admin whose metadata answers as a KRaft broker
// that has not applied the new topic yet, and through kafkajs' own Kafka.prototype.admin.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { Kafka, type ITopicConfig } from 'kafkajs';
import { installCreateTopicsFix, requestedPartitions, withLeaderWait } from '../../services/core/kafkajs-create-topics-fix';
import { waitForTopicLeaders } from '../../services/core/topic-leaders';

const load = createRequire(require.resolve('kafkajs'));
const { createErrorFromCode } = load('./src/protocol/error') as { createErrorFromCode: (code: number) => Error };
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const LEADER_NOT_AVAILABLE = 5;
const TOPIC_AUTHORIZATION_FAILED = 29;
const fast = { pollMs: 1, timeoutMs: 2_000 };

type Answer = Error | { name: string; partitions: { leader: number }[] }[];

/** An admin whose createTopics records its requests and whose metadata gives the answers in turn (the last one repeats). */
function fakeAdmin(answers: Answer[], created = true) {
  const requests: { waitForLeaders?: boolean; topics: ITopicConfig[] }[] = [];
  let asked = 0;
  return {
    requests,
    asked: () => asked,
    async createTopics(request: { waitForLeaders?: boolean; validateOnly?: boolean; topics: ITopicConfig[] }) {
      requests.push(request);
      return created;
    },
    async fetchTopicMetadata() {
      const answer = answers[Math.min(asked, answers.length - 1)] ?? [];
      asked += 1;
      if (answer instanceof Error) throw answer;
      return { topics: answer.map((t) => ({ name: t.name, partitions: t.partitions.map((p, i) => ({ partitionId: i, leader: p.leader, partitionErrorCode: 0, replicas: [], isr: [] })) })) };
    },
  };
}

const led = (name: string, partitions: number) => ({ name, partitions: Array.from({ length: partitions }, () => ({ leader: 1 })) });

describe('createTopics waits for leaders (services/core/kafkajs-create-topics-fix)', () => {
  it('a broker answering UNKNOWN_TOPIC_OR_PARTITION, then a partition without a leader, is asked again until all have one', async () => {
    const admin = fakeAdmin([createErrorFromCode(UNKNOWN_TOPIC_OR_PARTITION), [{ name: 'a', partitions: [{ leader: 1 }, { leader: -1 }] }], [led('a', 2)]]);
    const fixed = withLeaderWait(admin, fast);
    assert.equal(await fixed.createTopics({ topics: [{ topic: 'a', numPartitions: 2 }] }), true);
    assert.equal(admin.requests[0]?.waitForLeaders, false, "kafkajs' own wait is off");
    assert.equal(admin.asked(), 3);
  });

  it('waits for every topic of the request, and for as many partitions as it asked for', async () => {
    const admin = fakeAdmin([[led('a', 3)], [led('a', 3), { name: 'b', partitions: [{ leader: 2 }] }], [led('a', 3), led('b', 4)]]);
    await withLeaderWait(admin, fast).createTopics({ topics: [{ topic: 'a', numPartitions: 3 }, { topic: 'b', numPartitions: 4 }] });
    assert.equal(admin.asked(), 3);
  });

  it('a refusal that asking again cannot change goes up at once', async () => {
    const admin = fakeAdmin([createErrorFromCode(TOPIC_AUTHORIZATION_FAILED)]);
    await assert.rejects(withLeaderWait(admin, fast).createTopics({ topics: [{ topic: 'a' }] }), (error: Error & { type?: string }) => error.type === 'TOPIC_AUTHORIZATION_FAILED');
    assert.equal(admin.asked(), 1);
  });

  it('leaders that never come end in an error naming the topics and the last answer', async () => {
    const admin = fakeAdmin([createErrorFromCode(LEADER_NOT_AVAILABLE)]);
    await assert.rejects(
      waitForTopicLeaders(admin, [{ name: 'a', partitions: 1 }, { name: 'b' }], { pollMs: 5, timeoutMs: 30 }),
      /^Error: topics a, b created, but not every partition had a leader after 30 ms \(last: There is no leader/,
    );
    assert.ok(admin.asked() > 1);
  });

  it('no wait when the caller turns it off, validates only, or every topic existed already', async () => {
    const off = fakeAdmin([new Error('metadata must not be asked')]);
    await withLeaderWait(off, fast).createTopics({ topics: [{ topic: 'a' }], waitForLeaders: false });
    await withLeaderWait(off, fast).createTopics({ topics: [{ topic: 'a' }], validateOnly: true });
    assert.equal(off.asked(), 0);
    const existing = fakeAdmin([new Error('metadata must not be asked')], false);
    assert.equal(await withLeaderWait(existing, fast).createTopics({ topics: [{ topic: 'a' }] }), false);
    assert.equal(existing.asked(), 0);
  });

  it('partitions come from numPartitions or the replica assignment; the broker default leaves it open', () => {
    assert.equal(requestedPartitions({ topic: 'a', numPartitions: 6 }), 6);
    assert.equal(requestedPartitions({ topic: 'a', replicaAssignment: [{ partition: 0, replicas: [1] }, { partition: 1, replicas: [2] }] }), 2);
    assert.equal(requestedPartitions({ topic: 'a', numPartitions: -1 }), undefined);
    assert.equal(requestedPartitions({ topic: 'a' }), undefined);
  });

  it('installed, every admin kafkajs makes has the fixed createTopics, and installing twice wraps once', () => {
    installCreateTopicsFix();
    installCreateTopicsFix();
    const admin = new Kafka({ brokers: ['127.0.0.1:9'] }).admin();
    const createTopics = (): object => Reflect.get(admin, 'createTopics');
    assert.deepEqual(Object.getOwnPropertySymbols(createTopics()).map(String), ['Symbol(ecommerce-pipeline.kafkajs-create-topics-fix)']);
    const before = createTopics();
    withLeaderWait(admin);
    assert.equal(createTopics(), before);
  });
});
