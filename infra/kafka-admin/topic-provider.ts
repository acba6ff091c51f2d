// Kafka topics as Pulumi resources: a dynamic provider over the kafkajs admin client. Partitions
// can only grow and the replication factor is fixed (changing it is a reassignment this program
// does not do), so both are refused at preview with the reason, never applied by recreating the
// topic and losing its data.
import * as pulumi from '@pulumi/pulumi';
import { ConfigResourceTypes, ConfigSource, type Admin } from 'kafkajs';
import { waitForTopicLeaders } from '../../services/core/topic-leaders';
import { withAdmin, type AdminConnection } from './connection';

export interface TopicState {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** The topic-level configs the stack sets (Kafka names); everything else stays at the broker default. */
  config: Record<string, string>;
}

export interface TopicProps extends TopicState {
  connection: AdminConnection;
}

/** Why a desired state cannot be reached from the current one, or undefined if it can. */
export function topicChangeProblem(olds: TopicState, news: TopicState): string | undefined {
  if (news.partitions < olds.partitions) {
    return `topic ${news.name}: partitions cannot decrease from ${olds.partitions} to ${news.partitions} (Kafka can only add partitions; keys would move). Create a topic under a new name instead.`;
  }
  if (news.replicationFactor !== olds.replicationFactor) {
    return `topic ${news.name}: replication factor cannot change from ${olds.replicationFactor} to ${news.replicationFactor} in place (that is a partition reassignment: run kafka-reassign-partitions.sh, then set the new value).`;
  }
  return undefined;
}

const sameConfig = (a: Record<string, string>, b: Record<string, string>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

export async function createTopic(admin: Admin, topic: TopicState): Promise<void> {
  const created = await admin.createTopics({
    // kafkajs' own wait retries only LEADER_NOT_AVAILABLE, but a KRaft broker may still answer
    // UNKNOWN_TOPIC_OR_PARTITION until the new topic's metadata reaches it: wait here instead.
    waitForLeaders: false,
    topics: [{
      topic: topic.name,
      numPartitions: topic.partitions,
      replicationFactor: topic.replicationFactor,
      configEntries: Object.entries(topic.config).map(([name, value]) => ({ name, value })),
    }],
  });
  if (!created) throw new Error(`topic ${topic.name} already exists: import it (pulumi import) or choose another name`);
  await waitForTopicLeaders(admin, [{ name: topic.name, partitions: topic.partitions }]);
}

/** Applies a possible change: more partitions, and the full config map (unset keys return to defaults). */
export async function updateTopic(admin: Admin, olds: TopicState, news: TopicState): Promise<void> {
  const problem = topicChangeProblem(olds, news);
  if (problem) throw new Error(problem);
  if (news.partitions > olds.partitions) {
    await admin.createPartitions({ topicPartitions: [{ topic: news.name, count: news.partitions }] });
  }
  if (!sameConfig(olds.config, news.config)) {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: news.name, configEntries: Object.entries(news.config).map(([name, value]) => ({ name, value })) }],
    });
  }
}

/** The topic as the cluster has it now, or undefined if it does not exist. */
export async function readTopic(admin: Admin, name: string): Promise<TopicState | undefined> {
  if (!(await admin.listTopics()).includes(name)) return undefined;
  const meta = await admin.fetchTopicMetadata({ topics: [name] });
  const partitions = meta.topics[0]?.partitions ?? [];
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name }] });
  const config: Record<string, string> = {};
  for (const entry of described.resources[0]?.configEntries ?? []) {
    if (entry.configSource === ConfigSource.TOPIC_CONFIG && !entry.isDefault) config[entry.configName] = entry.configValue;
  }
  return { name, partitions: partitions.length, replicationFactor: partitions[0]?.replicas.length ?? 0, config };
}

export async function deleteTopic(admin: Admin, name: string): Promise<void> {
  if ((await admin.listTopics()).includes(name)) await admin.deleteTopics({ topics: [name] });
}

const state = (p: TopicProps): TopicState => ({ name: p.name, partitions: p.partitions, replicationFactor: p.replicationFactor, config: p.config });

export const topicProvider: pulumi.dynamic.ResourceProvider<TopicProps, TopicProps> = {
  async create(inputs) {
    await withAdmin(inputs.connection, (admin) => createTopic(admin, state(inputs)));
    return { id: inputs.name, outs: inputs };
  },
  async diff(_id, olds, news) {
    const problem = topicChangeProblem(state(olds), state(news));
    if (problem) throw new Error(problem);
    const replaces = olds.name !== news.name ? ['name'] : [];
    const changes = replaces.length > 0 || olds.partitions !== news.partitions || !sameConfig(olds.config, news.config)
      || JSON.stringify(olds.connection.brokers) !== JSON.stringify(news.connection.brokers);
    return { changes, replaces, deleteBeforeReplace: false };
  },
  async update(_id, olds, news) {
    await withAdmin(news.connection, (admin) => updateTopic(admin, state(olds), state(news)));
    return { outs: news };
  },
  async read(id, props) {
    if (!props) throw new Error(`topic ${id}: importing needs the connection; declare the topic in the stack and run pulumi up`);
    const current = await withAdmin(props.connection, (admin) => readTopic(admin, id));
    return current ? { id, props: { ...props, ...current } } : {};
  },
  async delete(id, props) {
    await withAdmin(props.connection, (admin) => deleteTopic(admin, id));
  },
};

export interface KafkaTopicArgs {
  name: pulumi.Input<string>;
  partitions: pulumi.Input<number>;
  replicationFactor: pulumi.Input<number>;
  config: pulumi.Input<Record<string, pulumi.Input<string>>>;
  connection: pulumi.Input<AdminConnection>;
}

export class KafkaTopic extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly partitions: pulumi.Output<number>;

  constructor(name: string, args: KafkaTopicArgs, opts?: pulumi.CustomResourceOptions) {
    super(topicProvider, name, { ...args }, { ...opts, additionalSecretOutputs: ['connection'] }, 'kafka', 'Topic');
  }
}
