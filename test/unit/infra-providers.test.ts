// The dynamic providers' decisions that need no broker: what a change means (update, replace, or
// refusal at preview) and how a binding maps onto Kafka's ACL filter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { aclFilter, aclProvider, type AclProps } from '../../infra/kafka-admin/acl-provider';
import { topicChangeProblem, topicProvider, type TopicProps } from '../../infra/kafka-admin/topic-provider';

const connection = { brokers: ['127.0.0.1:1'], ca: 'CA', cert: 'CERT', key: 'KEY' };
const topic: TopicProps = { name: 'orders', partitions: 3, replicationFactor: 1, config: { 'retention.ms': '1000' }, connection };
const acl: AclProps = {
  principal: 'User:consumer', resourceType: 'group', resourceName: 'ecommerce-consumer', patternType: 'prefixed', operation: 'Read', host: '*', permission: 'Allow', connection,
};

describe('infra dynamic providers (no broker)', () => {
  it('topics: config and partition growth are updates, a new name is a replacement, nothing else changes nothing', async () => {
    assert.deepEqual(await topicProvider.diff!('orders', topic, { ...topic }), { changes: false, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await topicProvider.diff!('orders', topic, { ...topic, partitions: 6 }), { changes: true, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await topicProvider.diff!('orders', topic, { ...topic, config: { 'retention.ms': '2000' } }), { changes: true, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await topicProvider.diff!('orders', topic, { ...topic, config: {} }), { changes: true, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual((await topicProvider.diff!('orders', topic, { ...topic, name: 'orders-v2' })).replaces, ['name']);
  });

  it('topics: a partition decrease or a replication change is refused at preview, with the way out', async () => {
    await assert.rejects(topicProvider.diff!('orders', topic, { ...topic, partitions: 1 }), /topic orders: partitions cannot decrease from 3 to 1 .*Create a topic under a new name instead/);
    assert.match(topicChangeProblem(topic, { ...topic, replicationFactor: 3 }) ?? '', /replication factor cannot change from 1 to 3 in place .*kafka-reassign-partitions\.sh/);
    assert.equal(topicChangeProblem(topic, { ...topic, partitions: 4 }), undefined);
  });

  it('ACLs: any change of the binding replaces it (delete first: the new one may be the same ACL)', async () => {
    assert.deepEqual(await aclProvider.diff!('x', acl, { ...acl }), { changes: false, replaces: [], deleteBeforeReplace: true });
    assert.deepEqual((await aclProvider.diff!('x', acl, { ...acl, operation: 'Describe' })).replaces, ['operation']);
    assert.deepEqual((await aclProvider.diff!('x', acl, { ...acl, patternType: 'literal', resourceName: 'g' })).replaces, ['resourceName', 'patternType']);
  });

  it('ACLs: a binding becomes the exact Kafka filter, and nothing wider', () => {
    assert.deepEqual(aclFilter(acl), {
      resourceType: AclResourceTypes.GROUP,
      resourceName: 'ecommerce-consumer',
      resourcePatternType: ResourcePatternTypes.PREFIXED,
      principal: 'User:consumer',
      host: '*',
      operation: AclOperationTypes.READ,
      permissionType: AclPermissionTypes.ALLOW,
    });
    assert.equal(aclFilter({ ...acl, resourceType: 'transactionalId', operation: 'Write' }).resourceType, AclResourceTypes.TRANSACTIONAL_ID);
  });
});
