// Stack config validation: the checked-in stacks are valid, and every bad value is refused with
// its full key and what is allowed, all problems at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateStackConfig, type RawStackConfig } from '../../infra/config/stack-config';
import * as pulumi from '@pulumi/pulumi';
import { loadStackConfig } from '../../infra/config';
import { StackConfigError } from '../../infra/config/reader';
import { readStackFile } from '../support/stack-under-mocks';
import { readdirSync } from 'node:fs';
import { repoRoot } from '../../tools/kafka/kafka-runtime';

const defaults = { stack: 'test', kafkaVersion: '4.1.1', repoRoot: '/repo' };

function problems(raw: RawStackConfig): string[] {
  try {
    validateStackConfig(raw, defaults);
  } catch (error) {
    assert.ok(error instanceof StackConfigError, `expected a StackConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('the configuration was accepted');
}

describe('infra stack config', () => {
  it('accepts every checked-in stack file', () => {
    const stacks = readdirSync(repoRoot).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => Boolean(s));
    assert.ok(stacks.includes('dev') && stacks.includes('prod'), stacks.join(', '));
    for (const stack of stacks) assert.doesNotThrow(() => validateStackConfig(readStackFile(stack), { ...defaults, stack }), `Pulumi.${stack}.yaml`);
  });

  it('reads the dev and prod stack files as they say', () => {
    const dev = validateStackConfig(readStackFile('dev'), { ...defaults, stack: 'dev' });
    assert.equal(dev.kafka.brokers, 1);
    assert.equal(dev.kafka.image, 'apache/kafka:4.1.1');
    assert.equal(dev.namePrefix, 'ecommerce-pipeline-dev');
    const prod = validateStackConfig(readStackFile('prod'), { ...defaults, stack: 'prod' });
    assert.deepEqual([prod.kafka.brokers, prod.kafka.minInsyncReplicas, prod.kafka.controllerTls, prod.services.consumer.replicas], [3, 2, true, 2]);
  });

  it('fills every default from an empty config', () => {
    const config = validateStackConfig({}, defaults);
    assert.equal(config.kafka.bindAddress, '127.0.0.1');
    assert.equal(config.topics.length, 7);
    assert.equal(config.topics.find((t) => t.role === 'sourceOffsets')?.config['cleanup.policy'], 'compact');
    assert.equal(config.topics.find((t) => t.role === 'changelog')?.config['cleanup.policy'], 'compact');
    // Window state is one record per window: the default 1 MiB batch limit refuses a busy one.
    assert.equal(config.topics.find((t) => t.role === 'changelog')?.config['max.message.bytes'], String(32 * 1024 * 1024));
    assert.deepEqual(config.services.producer.dataset, { kind: 'generate', rows: 100_000, seed: 1 });
    assert.equal(config.aclRules.length, 13);
  });

  it('brokers must be 1 or at least 3', () => {
    assert.deepEqual(problems({ kafka: { brokers: 2 } }), ['ecommerce-pipeline:kafka.brokers=2 must be 1 or at least 3 (a quorum of 2 survives no failure)']);
    assert.match(problems({ kafka: { brokers: 'three' } })[0]!, /^ecommerce-pipeline:kafka\.brokers="three" must be an integer/);
  });

  it('replication factor may not exceed the brokers, nor min.insync.replicas the replication factor', () => {
    assert.deepEqual(problems({ topics: { raw: { replicationFactor: 3 } } }), ['ecommerce-pipeline:topics.raw.replicationFactor=3 must not exceed kafka.brokers=1']);
    assert.match(problems({ kafka: { brokers: 3, minInsyncReplicas: 4 } })[0]!, /^ecommerce-pipeline:kafka\.minInsyncReplicas=4 must not exceed the replication factor 3/);
    assert.match(problems({ topics: { late: { config: { 'min.insync.replicas': 2 } } } })[0]!, /^ecommerce-pipeline:topics\.late\.config\.min\.insync\.replicas=2 must be an integer in \[1, replicationFactor=1\]/);
  });

  it('the sliding window advance may not exceed its size', () => {
    const found = problems({ consumer: { slidingSizeMs: 60000, slidingAdvanceMs: 120000 } });
    assert.ok(found.includes('ecommerce-pipeline:consumer.slidingAdvanceMs=120000 must not exceed slidingSizeMs=60000 (the gaps would drop events)'), found.join('\n'));
  });

  it('refuses unknown roles, principals and operations in ACL rules', () => {
    const found = problems({
      acls: [
        { principal: 'producer', topic: 'orders', operations: ['Write'] },
        { principal: 'intern', topic: 'raw', operations: ['Read'] },
        { principal: 'consumer', group: 'ecommerce-consumer', patternType: 'prefixed', operations: ['Reed'] },
        { principal: 'consumer', operations: ['Read'] },
      ],
    });
    assert.ok(found.some((p) => p.startsWith('ecommerce-pipeline:acls[0].topic="orders" must be one of raw, processed, deadLetter, late, repartition, changelog')), found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('ecommerce-pipeline:acls[1].principal="intern" must be one of producer, consumer')), found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('ecommerce-pipeline:acls[2].operations[0]="Reed" must be one of Read, Write')), found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('ecommerce-pipeline:acls[3] needs exactly one of topic, group, transactionalId, cluster')), found.join('\n'));
  });

  it('a valid ACL table from config replaces the default one', () => {
    const config = validateStackConfig({ acls: [{ principal: 'producer', topic: 'raw', operations: ['Write'] }] }, defaults);
    assert.deepEqual(config.aclRules, [{ principal: 'producer', resource: { type: 'topic', role: 'raw' }, operations: ['Write'] }]);
  });

  it('names unknown keys, and reports every problem at once', () => {
    const found = problems({ kafka: { brokerz: 3, bindAddress: 'everywhere' }, monitoring: { grafanaPort: 19092 }, pki: { validityHours: 100, earlyRenewalHours: 200 } });
    assert.equal(found.length, 4, found.join('\n'));
    assert.match(found[0]!, /^ecommerce-pipeline:kafka\.brokerz is not a known key \(known: version, image, brokers/);
    assert.match(found[1]!, /^ecommerce-pipeline:kafka\.bindAddress="everywhere" must be an IPv4 address/);
    assert.match(found[2]!, /^ecommerce-pipeline:pki\.earlyRenewalHours=200 must be less than validityHours=100/);
    assert.match(found[3]!, /^ecommerce-pipeline:monitoring\.grafanaPort=19092 collides with the brokers' ports 19092-19092/);
  });

  it('passes the producer and consumer settings through their own validators', () => {
    const found = problems({ producer: { rate: 10, replaySpeed: 2, key: 'shoe-size' }, consumer: { groupBy: ['category', 'weather'] } });
    assert.ok(found.some((p) => p.startsWith('ecommerce-pipeline:producer.replaySpeed and rate exclude each other')), found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('ecommerce-pipeline:producer.key="shoe-size" must be one of session, user, product, none')), found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('ecommerce-pipeline:consumer is refused by the consumer: consumer settings: WINDOW_GROUP_BY entry "weather"')), found.join('\n'));
  });

  it("takes the producer's gzip level, refused out of range or beside compression none", () => {
    assert.equal(validateStackConfig({ producer: { gzipLevel: 6 } }, defaults).services.producer.settings.gzipLevel, 6);
    assert.ok(problems({ producer: { gzipLevel: 12 } }).some((p) => p.startsWith('ecommerce-pipeline:producer.gzipLevel=12')), problems({ producer: { gzipLevel: 12 } }).join('\n'));
    const found = problems({ producer: { compression: 'none', gzipLevel: 1 } });
    assert.ok(found.some((p) => p.startsWith('ecommerce-pipeline:producer.gzipLevel applies to gzip only, and producer.compression is none')), found.join('\n'));
  });

  it('refuses a group id outside the prefix the ACLs grant', () => {
    assert.ok(problems({ consumer: { groupId: 'analytics' } }).some((p) => p.startsWith('ecommerce-pipeline:consumer.groupId=analytics must start with ecommerce-consumer')));
  });

  it('the program reads its config through Pulumi and fails at preview with the key named', () => {
    pulumi.runtime.setAllConfig({
      'ecommerce-pipeline:kafka': JSON.stringify({ brokers: 3 }),
      'ecommerce-pipeline:topics': JSON.stringify({ raw: { replicationFactor: 4 } }),
    });
    assert.throws(() => loadStackConfig(), (error: Error) => {
      assert.ok(error instanceof StackConfigError);
      assert.deepEqual(error.problems, ['ecommerce-pipeline:topics.raw.replicationFactor=4 must not exceed kafka.brokers=3']);
      return true;
    });
    pulumi.runtime.setAllConfig({ 'ecommerce-pipeline:kafka': JSON.stringify({ brokers: 3 }) }, ['ecommerce-pipeline:grafanaAdminPassword']);
    const { config, secrets } = loadStackConfig();
    assert.equal(config.kafka.brokers, 3);
    assert.equal(secrets.grafanaAdminPassword, undefined, 'an unset secret is generated by the program, not read');
  });
});
