// kafkajs 2.2.4's admin.createTopics waits for the new topics' leaders (waitForLeaders, on unless set
// to false) by asking one broker for their metadata, retrying only LEADER_NOT_AVAILABLE. In KRaft the
// create answers once the controller has committed the topic; a broker that has not applied that
// record yet answers UNKNOWN_TOPIC_OR_PARTITION, and createTopics threw it although the topic was made
// (seen in CI on a three-broker cluster). With this fix createTopics creates without kafkajs' wait and
// then waits with waitForTopicLeaders, which asks again on any retriable answer until every partition
// of every new topic has a leader, and names the topics and the last answer if that never happens.
// It patches kafkajs' Kafka.prototype.admin, so it may be installed at any time, more than once.
import { createRequire } from 'node:module';
import type { Admin, ITopicConfig } from 'kafkajs';
import { waitForTopicLeaders, type LeaderWaitOptions } from './topic-leaders';

const loadKafkajs = (): NodeJS.Require => createRequire(require.resolve('kafkajs'));

/** The partitions a createTopics entry asks for, if it says. */
export function requestedPartitions(topic: ITopicConfig): number | undefined {
  if (topic.replicaAssignment && topic.replicaAssignment.length > 0) return topic.replicaAssignment.length;
  return topic.numPartitions !== undefined && topic.numPartitions > 0 ? topic.numPartitions : undefined;
}

type CreateTopics = Admin['createTopics'];
const fixed = Symbol.for('ecommerce-pipeline.kafkajs-create-topics-fix');

/** The admin with createTopics waiting for leaders through waitForTopicLeaders; idempotent. */
export function withLeaderWait<A extends Pick<Admin, 'createTopics' | 'fetchTopicMetadata'>>(admin: A, options: LeaderWaitOptions = {}): A {
  const original = admin.createTopics as CreateTopics & { [fixed]?: true };
  if (original[fixed]) return admin;
  const createTopics: CreateTopics = async (request) => {
    if (request.waitForLeaders === false || request.validateOnly === true) return original.call(admin, request);
    const created = await original.call(admin, { ...request, waitForLeaders: false });
    // false: every topic existed already, which kafkajs answers without waiting too.
    if (created) await waitForTopicLeaders(admin, request.topics.map((t) => ({ name: t.topic, partitions: requestedPartitions(t) })), options);
    return created;
  };
  admin.createTopics = Object.assign(createTopics, { [fixed]: true as const });
  return admin;
}

type AdminFactory = (this: unknown, ...args: unknown[]) => Admin;

/** Wraps kafkajs' Kafka.prototype.admin so that every admin it makes waits with withLeaderWait. */
export function installCreateTopicsFix(): void {
  const Client = loadKafkajs()('./src') as { prototype: { admin: AdminFactory & { [fixed]?: true } } };
  const original = Client.prototype.admin;
  if (typeof original !== 'function') throw new Error('kafkajs Kafka.prototype.admin is missing: the createTopics fix does not fit this kafkajs version');
  if (original[fixed]) return;
  const patched: AdminFactory = function (this: unknown, ...args: unknown[]) {
    return withLeaderWait(original.apply(this, args));
  };
  Client.prototype.admin = Object.assign(patched, { [fixed]: true as const });
}
