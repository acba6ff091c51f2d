// Who may do what, as data (Strimzi's KafkaUser ACL shape): a rule names a principal, a resource
// and operations; aclBindings() expands rules into the single bindings Kafka stores. Deny by
// default: the brokers and `admin` are super users, everybody else gets exactly these rules.
import type { TopicRole } from '../../services/core/topics';
import { producerDefaults } from '../../services/producer/config';

/** Client identities with a certificate. `admin` is a super user and needs no rules. */
export const clientIdentities = ['producer', 'consumer', 'admin'] as const;
export type ClientIdentity = (typeof clientIdentities)[number];
/** Identities a rule may name. */
export const rulePrincipals = ['producer', 'consumer'] as const;

export const aclResourceTypes = ['topic', 'group', 'transactionalId', 'cluster'] as const;
export type AclResourceType = (typeof aclResourceTypes)[number];
export const aclPatternTypes = ['literal', 'prefixed'] as const;
export type AclPatternType = (typeof aclPatternTypes)[number];
/** Kafka's operation names (AclOperation), as `kafka-acls.sh --operation` spells them. */
export const aclOperations = [
  'Read', 'Write', 'Create', 'Delete', 'Alter', 'Describe', 'ClusterAction', 'DescribeConfigs', 'AlterConfigs', 'IdempotentWrite', 'All',
] as const;
export type AclOperation = (typeof aclOperations)[number];

export interface AclRule {
  principal: string;
  /** A topic by role (resolved to the stack's topic name), or any resource by literal name or prefix. */
  resource:
    | { type: 'topic'; role: TopicRole }
    | { type: Exclude<AclResourceType, 'cluster'>; name: string; patternType: AclPatternType }
    | { type: 'cluster' };
  operations: AclOperation[];
}

/** One ACL as Kafka stores it (always ALLOW, from any host). */
export interface AclBinding {
  principal: string;
  resourceType: AclResourceType;
  resourceName: string;
  patternType: AclPatternType;
  operation: AclOperation;
  host: '*';
  permission: 'Allow';
}

export interface ConsumerIds {
  groupPrefix: string;
  transactionalIdPrefix: string;
  /** The producer's transactional.id; also the prefix of the group it reads its position with. */
  producerTransactionalId?: string;
}

const topic = (principal: string, role: TopicRole, operations: AclOperation[]): AclRule => ({ principal, resource: { type: 'topic', role }, operations });

/**
 * The least-privilege table. The producer needs no IdempotentWrite on the cluster: since Kafka 3.0
 * (KIP-679) WRITE on a topic is enough to produce idempotently. Its position in the file (the
 * source-offsets topic) is its alone: it writes it in its transactions and reads it back on start
 * (ListOffsets needs Describe, the read a group of its own).
 */
export function leastPrivilegeRules(ids: ConsumerIds): AclRule[] {
  const producerId = ids.producerTransactionalId ?? producerDefaults.transactionalId;
  return [
    topic('producer', 'raw', ['Write', 'Describe']),
    topic('producer', 'deadLetter', ['Write', 'Describe']),
    topic('producer', 'sourceOffsets', ['Read', 'Write', 'Describe']),
    { principal: 'producer', resource: { type: 'transactionalId', name: producerId, patternType: 'literal' }, operations: ['Write', 'Describe'] },
    { principal: 'producer', resource: { type: 'group', name: producerId, patternType: 'prefixed' }, operations: ['Read'] },
    topic('consumer', 'raw', ['Read', 'Describe']),
    topic('consumer', 'repartition', ['Read', 'Write', 'Describe']),
    topic('consumer', 'changelog', ['Read', 'Write', 'Describe']),
    topic('consumer', 'processed', ['Write', 'Describe']),
    topic('consumer', 'deadLetter', ['Write', 'Describe']),
    topic('consumer', 'late', ['Write', 'Describe']),
    { principal: 'consumer', resource: { type: 'group', name: ids.groupPrefix, patternType: 'prefixed' }, operations: ['Read'] },
    {
      principal: 'consumer',
      resource: { type: 'transactionalId', name: ids.transactionalIdPrefix, patternType: 'prefixed' },
      operations: ['Write', 'Describe'],
    },
  ];
}

/**
 * Expands rules into bindings, one per operation, with topic roles resolved to names. `principals`
 * renames identities to what an external cluster calls them (its SCRAM users, its certificate mapping).
 */
export function aclBindings(rules: AclRule[], topicNames: Record<TopicRole, string>, principals: Partial<Record<string, string>> = {}): AclBinding[] {
  const bindings = rules.flatMap((rule) =>
    rule.operations.map((operation): AclBinding => {
      const r = rule.resource;
      const [resourceName, patternType]: [string, AclPatternType] =
        r.type === 'topic' && 'role' in r ? [topicNames[r.role], 'literal'] : r.type === 'cluster' ? ['kafka-cluster', 'literal'] : [r.name, r.patternType];
      return { principal: `User:${principals[rule.principal] ?? rule.principal}`, resourceType: r.type, resourceName, patternType, operation, host: '*', permission: 'Allow' };
    }),
  );
  // Overlapping rules (a table from config may repeat itself) must not make two resources of one ACL.
  return [...new Map(bindings.map((b) => [aclBindingKey(b), b])).values()];
}

/** A stable, readable identity for a binding: also its Pulumi resource name. */
export function aclBindingKey(b: AclBinding): string {
  const principal = b.principal.replace(/^User:/, '');
  const pattern = b.patternType === 'prefixed' ? '*' : '';
  return `${principal}-${b.operation.toLowerCase()}-${b.resourceType.toLowerCase()}-${b.resourceName}${pattern}`;
}
