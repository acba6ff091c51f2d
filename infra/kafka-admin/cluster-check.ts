// What the program cannot change on someone else's cluster, checked before anything is created
// there: enough brokers for every topic's replication factor, and an authorizer (without one Kafka
// answers ACL requests with SECURITY_DISABLED and every client may do everything). Both need the
// cluster: the provider's `check`, which runs at preview, asks it, and refuses with the key to change.
import * as pulumi from '@pulumi/pulumi';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type Admin } from 'kafkajs';
import { withAdmin, type AdminConnection } from './connection';

export interface ReplicationNeed {
  /** The config key that sets it, e.g. `ecommerce-pipeline:topics.raw.replicationFactor`. */
  key: string;
  replicationFactor: number;
}

export interface ClusterCheckProps {
  connection: AdminConnection;
  replication: ReplicationNeed[];
  /** The key that chose this cluster (named when it has no authorizer). */
  clusterKey: string;
}

export async function clusterProblems(admin: Admin, props: Omit<ClusterCheckProps, 'connection'>): Promise<string[]> {
  const problems: string[] = [];
  const { brokers } = await admin.describeCluster();
  for (const need of props.replication) {
    if (need.replicationFactor > brokers.length) problems.push(`${need.key}=${need.replicationFactor} exceeds the cluster's ${brokers.length} brokers`);
  }
  try {
    await admin.describeAcls({
      resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY,
    });
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === 'SECURITY_DISABLED') {
      problems.push(`${props.clusterKey}: the cluster has no authorizer (authorizer.class.name is unset), so ACLs cannot be enforced; enable StandardAuthorizer on it first`);
    } else if (type === 'CLUSTER_AUTHORIZATION_FAILED') {
      problems.push(`${props.clusterKey}: the admin identity may not describe ACLs (it must be a super user of that cluster)`);
    } else {
      throw error;
    }
  }
  return problems;
}

async function check(props: ClusterCheckProps): Promise<void> {
  const problems = await withAdmin(props.connection, (admin) => clusterProblems(admin, props));
  if (problems.length > 0) throw new Error(`the external Kafka cluster cannot host this stack:\n  - ${problems.join('\n  - ')}`);
}

export const clusterCheckProvider: pulumi.dynamic.ResourceProvider<ClusterCheckProps, ClusterCheckProps> = {
  async check(_olds, news) {
    // Unknown during a first preview only if the connection came from another resource; from config it is known.
    if (typeof news.connection?.brokers?.[0] !== 'string') return { inputs: news };
    const problems = await withAdmin(news.connection, (admin) => clusterProblems(admin, news));
    return { inputs: news, failures: problems.map((reason) => ({ property: 'replication', reason })) };
  },
  async create(inputs) {
    await check(inputs);
    return { id: 'cluster-check', outs: inputs };
  },
  async diff(_id, olds, news) {
    return { changes: JSON.stringify([olds.connection.brokers, olds.replication]) !== JSON.stringify([news.connection.brokers, news.replication]) };
  },
  async update(_id, _olds, news) {
    await check(news);
    return { outs: news };
  },
  async delete() {},
};

export class KafkaClusterCheck extends pulumi.dynamic.Resource {
  constructor(name: string, args: { connection: pulumi.Input<AdminConnection>; replication: ReplicationNeed[]; clusterKey: string }, opts?: pulumi.CustomResourceOptions) {
    super(clusterCheckProvider, name, { ...args }, { ...opts, additionalSecretOutputs: ['connection'] }, 'kafka', 'ClusterCheck');
  }
}
