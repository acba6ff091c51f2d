// Kafka ACL bindings as Pulumi resources: one resource per binding, so a rule removed from the
// table is one ACL deleted. Bindings have no mutable parts: any change replaces.
import * as pulumi from '@pulumi/pulumi';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type Admin, type AclFilter } from 'kafkajs';
import type { AclBinding, AclOperation, AclResourceType } from '../security/acl-rules';
import { withAdmin, type AdminConnection } from './connection';

const resourceTypes: Record<AclResourceType, AclResourceTypes> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  transactionalId: AclResourceTypes.TRANSACTIONAL_ID,
  cluster: AclResourceTypes.CLUSTER,
};
const operations: Record<AclOperation, AclOperationTypes> = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Create: AclOperationTypes.CREATE,
  Delete: AclOperationTypes.DELETE,
  Alter: AclOperationTypes.ALTER,
  Describe: AclOperationTypes.DESCRIBE,
  ClusterAction: AclOperationTypes.CLUSTER_ACTION,
  DescribeConfigs: AclOperationTypes.DESCRIBE_CONFIGS,
  AlterConfigs: AclOperationTypes.ALTER_CONFIGS,
  IdempotentWrite: AclOperationTypes.IDEMPOTENT_WRITE,
  All: AclOperationTypes.ALL,
};

/** The exact filter matching one binding and nothing else. */
export function aclFilter(binding: AclBinding): AclFilter {
  return {
    resourceType: resourceTypes[binding.resourceType],
    resourceName: binding.resourceName,
    resourcePatternType: binding.patternType === 'prefixed' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
    principal: binding.principal,
    host: binding.host,
    operation: operations[binding.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

export async function createAcl(admin: Admin, binding: AclBinding): Promise<void> {
  const filter = aclFilter(binding);
  await admin.createAcls({ acl: [{ ...filter, resourceName: binding.resourceName, principal: binding.principal, host: binding.host }] });
}

export async function aclExists(admin: Admin, binding: AclBinding): Promise<boolean> {
  const described = await admin.describeAcls(aclFilter(binding));
  return described.resources.some((r) => r.acls.length > 0);
}

export async function deleteAcl(admin: Admin, binding: AclBinding): Promise<void> {
  await admin.deleteAcls({ filters: [aclFilter(binding)] });
}

export interface AclProps extends AclBinding {
  connection: AdminConnection;
}

const binding = (p: AclProps): AclBinding => ({
  principal: p.principal, resourceType: p.resourceType, resourceName: p.resourceName, patternType: p.patternType,
  operation: p.operation, host: p.host, permission: p.permission,
});
const bindingFields = ['principal', 'resourceType', 'resourceName', 'patternType', 'operation', 'host', 'permission'] as const;

export const aclProvider: pulumi.dynamic.ResourceProvider<AclProps, AclProps> = {
  async create(inputs) {
    await withAdmin(inputs.connection, (admin) => createAcl(admin, binding(inputs)));
    return { id: aclId(binding(inputs)), outs: inputs };
  },
  async diff(_id, olds, news) {
    const replaces = bindingFields.filter((f) => olds[f] !== news[f]);
    const moved = JSON.stringify(olds.connection.brokers) !== JSON.stringify(news.connection.brokers);
    return { changes: replaces.length > 0 || moved, replaces, deleteBeforeReplace: true };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async read(id, props) {
    if (!props) throw new Error(`ACL ${id}: importing needs the connection; declare the rule in the stack and run pulumi up`);
    const exists = await withAdmin(props.connection, (admin) => aclExists(admin, binding(props)));
    return exists ? { id, props } : {};
  },
  async delete(_id, props) {
    await withAdmin(props.connection, (admin) => deleteAcl(admin, binding(props)));
  },
};

export function aclId(b: AclBinding): string {
  return `${b.principal}|${b.resourceType}|${b.patternType}|${b.resourceName}|${b.operation}|${b.host}|${b.permission}`;
}

export interface KafkaAclArgs {
  binding: AclBinding;
  connection: pulumi.Input<AdminConnection>;
}

export class KafkaAcl extends pulumi.dynamic.Resource {
  constructor(name: string, args: KafkaAclArgs, opts?: pulumi.CustomResourceOptions) {
    super(aclProvider, name, { ...args.binding, connection: args.connection }, { ...opts, additionalSecretOutputs: ['connection'] }, 'kafka', 'Acl');
  }
}
