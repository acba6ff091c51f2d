// The Pulumi program under mocks with Pulumi.kafka-example.yaml: the kafka side of a split
// deployment on an external cluster over SASL_SSL/SCRAM-SHA-512. Nothing runs on Docker; the
// program checks the cluster, creates topics, ACLs for the SCRAM users it creates, and exports
// those users' credentials (secret) for the workers stack.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { reveal } from '../support/secret-inputs';
import { aclLines, assertNoPlaintextSecrets, types } from '../support/stack-assertions';
import { buildStackUnderMocks, ofType, settled, type MockedStack } from '../support/stack-under-mocks';

const secrets = { kafkaCaCertPem: '-----BEGIN CERTIFICATE-----\ncluster-ca\n-----END CERTIFICATE-----\n', kafkaAdminUsername: 'admin', kafkaAdminPassword: 'the-admin-password' };

describe('infra stack (kafka-example: external cluster, SCRAM, shape kafka, under mocks)', () => {
  let stack: MockedStack;
  before(async () => {
    stack = await buildStackUnderMocks('kafka-example', secrets);
  });

  it('creates nothing on Docker: no container, volume, network or image', () => {
    for (const type of [types.container, types.volume, types.network, types.image, 'docker:index/remoteImage:RemoteImage']) {
      assert.deepEqual(ofType(stack.resources, type).map((r) => r.name), [], type);
    }
  });

  it('creates one SCRAM user per service with the admin connection, and writes the ACLs for those users', () => {
    const users = ofType(stack.resources, 'pulumi-nodejs:dynamic/kafka:ScramUser');
    const names = users.map((u) => String(reveal(u.inputs.username))).sort();
    assert.deepEqual(names, ['ecommerce-pipeline-kafka-example-consumer', 'ecommerce-pipeline-kafka-example-producer']);
    for (const u of users) {
      const connection = reveal(u.inputs.connection) as { sasl: { username: string }; brokers: string[] };
      assert.equal(connection.sasl.username, 'admin');
      assert.equal(connection.brokers.length, 3);
      assert.notEqual(reveal(u.inputs.password), secrets.kafkaAdminPassword);
    }
    const lines = aclLines(stack);
    assert.ok(lines.some((l) => l.startsWith('User:ecommerce-pipeline-kafka-example-producer Write topic:')), lines.join('\n'));
    assert.ok(!lines.some((l) => /User:(producer|consumer) /.test(l)), 'an ACL for an unprefixed principal');
  });

  it('exports the services\' credentials as a secret for the workers stack, never the admin\'s', async () => {
    assert.ok(stack.outputs.serviceCredentials);
    assert.equal(await pulumi.isSecret(stack.outputs.serviceCredentials), true);
    const credentials = await settled(stack.outputs.serviceCredentials);
    assert.deepEqual(Object.keys(credentials).sort(), ['consumer', 'producer']);
    const text = JSON.stringify(credentials);
    assert.ok(!text.includes(secrets.kafkaAdminPassword) && !text.includes('"admin"'), text);
    assert.equal(credentials.producer.caCertPem, secrets.kafkaCaCertPem);
    assert.equal(await settled(stack.outputs.bootstrapServers), 'kafka-0.kafka.example.internal:9096,kafka-1.kafka.example.internal:9096,kafka-2.kafka.example.internal:9096');
    await assertNoPlaintextSecrets(stack, [secrets.kafkaAdminPassword]);
  });
});
