// The Pulumi program under mocks with Pulumi.workers-example.yaml: a workers stack runs the
// producer, the consumer replicas and monitoring only, and takes bootstrap servers, CA, topic names
// and the services' identities from the kafka stack's outputs (a mocked StackReference).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { reveal } from '../support/secret-inputs';
import { assertNoPlaintextSecrets, containerNames, types, uploads } from '../support/stack-assertions';
import { buildStackUnderMocks, ofType, readStackFile, settled, type MockedStack } from '../support/stack-under-mocks';

const kafkaStack = String((readStackFile('workers-example').stack as { kafkaStack: string }).kafkaStack);
const referenced = {
  bootstrapServers: 'b-1.kafka.example:9096,b-2.kafka.example:9096',
  topics: { raw: 'shop.raw', processed: 'shop.processed', deadLetter: 'shop.dlq', late: 'shop.late', repartition: 'shop.repartition', changelog: 'shop.changelog', sourceOffsets: 'shop.offsets' },
  serviceCredentials: {
    producer: { caCertPem: 'CLUSTER-CA-FROM-REFERENCE', username: 'kafka-example-producer', password: 'producer-password-from-reference' },
    consumer: { caCertPem: 'CLUSTER-CA-FROM-REFERENCE', username: 'kafka-example-consumer', password: 'consumer-password-from-reference' },
  },
};

describe('infra stack (workers-example, under mocks)', () => {
  let stack: MockedStack;
  before(async () => {
    stack = await buildStackUnderMocks('workers-example', {}, undefined, {
      [kafkaStack]: { outputs: referenced, secretOutputNames: ['serviceCredentials'] },
    });
  });

  it('renders no broker, no broker volume, no topic and no ACL: only services and monitoring', () => {
    const names = containerNames(stack);
    assert.deepEqual(names.filter((n) => /kafka-\d+$/.test(n)), [], names.join(', '));
    assert.deepEqual(names.map((n) => n.replace(`${stack.config.namePrefix}-`, '')), ['consumer-1', 'consumer-2', 'consumer-3', 'consumer-4', 'grafana', 'producer', 'prometheus']);
    assert.ok(!ofType(stack.resources, types.volume).some((v) => /kafka/.test(String(reveal(v.inputs.name)))));
    for (const type of [types.topic, types.acl, types.privateKey, 'pulumi-nodejs:dynamic/kafka:ClusterCheck', 'pulumi-nodejs:dynamic/kafka:ScramUser']) {
      assert.deepEqual(ofType(stack.resources, type).map((r) => r.name), [], type);
    }
  });

  it('reads the kafka stack named in its config through one StackReference', () => {
    const references = ofType(stack.resources, 'pulumi:pulumi:StackReference');
    assert.deepEqual(references.map((r) => reveal(r.inputs.name)), ['organization/ecommerce-pipeline/kafka-example']);
  });

  it('gives the services the referenced bootstrap servers, topic names and their own SCRAM users', () => {
    for (const c of ofType(stack.resources, types.container).filter((c) => /-(producer|consumer-\d)$/.test(String(reveal(c.inputs.name))))) {
      const env = reveal(c.inputs.envs) as string[];
      const service = String(reveal(c.inputs.name)).endsWith('-producer') ? 'producer' : 'consumer';
      assert.ok(env.includes(`KAFKA_BROKERS=${referenced.bootstrapServers}`), env.join('\n'));
      assert.ok(env.includes('KAFKA_SECURITY_PROTOCOL=SASL_SSL') && env.includes(`KAFKA_SASL_USERNAME=kafka-example-${service}`), env.join('\n'));
      assert.ok(env.includes(`TOPIC_RAW=${referenced.topics.raw}`), env.join('\n'));
      assert.ok(!env.some((e) => e.includes('password-from-reference')), 'a password in the environment');
      const files = Object.fromEntries(uploads(c).map((u) => [u.file, u]));
      assert.equal(files['/etc/pipeline/tls/ca.pem']?.content, 'CLUSTER-CA-FROM-REFERENCE');
      assert.equal(files['/etc/pipeline/sasl/password']?.content, `${service}-password-from-reference`);
      assert.equal(files['/etc/pipeline/sasl/password']?.permissions, '0640');
    }
  });

  it('keeps the referenced passwords secret and re-exports the cluster\'s addresses', async () => {
    await assertNoPlaintextSecrets(stack, ['producer-password-from-reference', 'consumer-password-from-reference']);
    assert.equal(await settled(stack.outputs.bootstrapServers), referenced.bootstrapServers);
    assert.equal(await pulumi.isSecret(stack.outputs.bootstrapServers), false);
  });
});
