// Topics and ACLs as resources, managed through the EXTERNAL listener with the admin certificate
// (dynamic providers in infra/kafka-admin). Kafka's internal topics are created first, by the admin,
// because least-privilege clients may not create them.
import * as pulumi from '@pulumi/pulumi';
import type { TopicRole } from '../../services/core/topics';
import type { TopicSettings } from '../config/stack-config';
import { KafkaAcl } from '../kafka-admin/acl-provider';
import type { AdminConnection } from '../kafka-admin/connection';
import { KafkaInternalTopics } from '../kafka-admin/internal-topics';
import { KafkaTopic } from '../kafka-admin/topic-provider';
import { aclBindingKey, type AclBinding } from '../security/acl-rules';

export interface TopicsAndAclsArgs {
  topics: TopicSettings[];
  bindings: AclBinding[];
  connection: pulumi.Input<AdminConnection>;
}

export class TopicsAndAcls extends pulumi.ComponentResource {
  public readonly topicNames: pulumi.Output<Record<TopicRole, string>>;

  constructor(name: string, args: TopicsAndAclsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ecommerce-pipeline:kafka:TopicsAndAcls', name, {}, opts);
    const connection = pulumi.secret(args.connection);
    new KafkaInternalTopics(`${name}-internal`, { connection }, { parent: this });
    const topics = args.topics.map((t) => new KafkaTopic(`${name}-topic-${t.role}`, {
      name: t.name, partitions: t.partitions, replicationFactor: t.replicationFactor, config: t.config, connection,
    }, { parent: this }));
    for (const binding of args.bindings) {
      new KafkaAcl(`${name}-acl-${aclBindingKey(binding)}`, { binding, connection }, { parent: this, dependsOn: topics });
    }
    this.topicNames = pulumi.output(Object.fromEntries(args.topics.map((t) => [t.role, t.name])) as Record<TopicRole, string>);
    this.registerOutputs({ topicNames: this.topicNames });
  }
}
