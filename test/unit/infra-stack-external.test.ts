// The Pulumi program under mocks with kafka.mode external (shape all, mutual TLS for the admin,
// service certificates signed here by the CA the cluster trusts): no broker is created, topics and
// ACLs go to the given cluster through a preview-time check, and the services hold identities of
// their own, never the admin's.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { RawStackConfig } from '../../infra/config/stack-config';
import { reveal } from '../support/secret-inputs';
import { aclLines, assertNoPlaintextSecrets, containerNames, types, uploads } from '../support/stack-assertions';
import { buildStackUnderMocks, ofType, settled, type MockedStack } from '../support/stack-under-mocks';

const bootstrap = ['b-1.kafka.example:9094', 'b-2.kafka.example:9094', 'b-3.kafka.example:9094'];
const raw: RawStackConfig = {
  kafka: { mode: 'external', external: { bootstrapServers: bootstrap, brokerCount: 3, authentication: 'mtls', clients: 'signed-certificates' } },
  producer: { dataset: { generate: { rows: 1000, seed: 1 } } },
  consumer: { replicas: 2 },
};
const pem = (label: string, body: string): string => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
const secrets = {
  kafkaCaCertPem: pem('CERTIFICATE', 'cluster-ca'),
  kafkaAdminCertPem: pem('CERTIFICATE', 'admin-cert-of-the-cluster'),
  kafkaAdminKeyPem: pem('PRIVATE KEY', 'admin-key-of-the-cluster'),
  kafkaClientsCaCertPem: pem('CERTIFICATE', 'clients-ca'),
  kafkaClientsCaKeyPem: pem('PRIVATE KEY', 'clients-ca-key'),
};

describe('infra stack (kafka.mode external, under mocks)', () => {
  let stack: MockedStack;
  before(async () => {
    stack = await buildStackUnderMocks('external', secrets, raw);
  });

  it('renders no broker container, no broker volume and no Kafka image', () => {
    const names = containerNames(stack);
    assert.deepEqual(names.filter((n) => /kafka-\d+$/.test(n)), [], names.join(', '));
    assert.ok(names.some((n) => n.endsWith('-producer')) && names.some((n) => n.endsWith('-consumer-2')), names.join(', '));
    const volumes = ofType(stack.resources, types.volume).map((v) => String(reveal(v.inputs.name)));
    assert.deepEqual(volumes.filter((v) => /kafka/.test(v)), [], volumes.join(', '));
    const images = ofType(stack.resources, 'docker:index/remoteImage:RemoteImage').map((i) => String(reveal(i.inputs.name)));
    assert.ok(!images.some((i) => i.startsWith('apache/kafka')), images.join(', '));
  });

  it('checks the cluster (replication per topic key), and writes topics and ACLs with the admin connection to the given bootstrap servers', () => {
    const [check] = ofType(stack.resources, 'pulumi-nodejs:dynamic/kafka:ClusterCheck');
    assert.ok(check, 'no cluster check');
    assert.deepEqual((reveal(check.inputs.replication) as { key: string }[]).map((r) => r.key).sort()[0], 'ecommerce-pipeline:topics.changelog.replicationFactor');
    const topics = ofType(stack.resources, types.topic);
    assert.equal(topics.length, stack.config.topics.length);
    for (const t of topics) {
      const connection = reveal(t.inputs.connection) as { brokers: string[]; cert: string };
      assert.deepEqual(connection.brokers, bootstrap);
      assert.equal(connection.cert, secrets.kafkaAdminCertPem);
    }
    const raw = stack.config.topics.find((t) => t.role === 'raw')!.name;
    assert.ok(aclLines(stack).includes(`User:producer Write topic:${raw}`), aclLines(stack).join('\n'));
  });

  it('signs the services their own certificates with the given CA; the containers hold neither the admin\'s certificate nor its key', () => {
    const signed = ofType(stack.resources, types.signed);
    assert.deepEqual(signed.map((s) => s.name).sort(), ['kafka-consumer-cert', 'kafka-producer-cert']);
    for (const s of signed) assert.equal(reveal(s.inputs.caPrivateKeyPem), secrets.kafkaClientsCaKeyPem);
    for (const c of ofType(stack.resources, types.container)) {
      const text = JSON.stringify(reveal(c.inputs));
      assert.ok(!text.includes('admin-cert-of-the-cluster') && !text.includes('admin-key-of-the-cluster'), `${String(reveal(c.inputs.name))} holds the admin's credentials`);
      assert.ok(!text.includes('clients-ca-key'), `${String(reveal(c.inputs.name))} holds the clients CA's key`);
    }
  });

  it('points the services at the external bootstrap servers over TLS, with the cluster CA', () => {
    const producer = ofType(stack.resources, types.container).find((c) => String(reveal(c.inputs.name)).endsWith('-producer'))!;
    const env = reveal(producer.inputs.envs) as string[];
    assert.ok(env.includes(`KAFKA_BROKERS=${bootstrap.join(',')}`), env.join('\n'));
    assert.ok(env.includes('KAFKA_SECURITY_PROTOCOL=SSL'));
    const ca = uploads(producer).find((u) => u.file === '/etc/pipeline/tls/ca.pem');
    assert.equal(ca?.content, secrets.kafkaCaCertPem);
  });

  it('keeps every key and password secret, and exports no admin bundle', async () => {
    await assertNoPlaintextSecrets(stack, [secrets.kafkaAdminKeyPem, secrets.kafkaClientsCaKeyPem]);
    assert.equal(stack.outputs.adminBundle, undefined);
    assert.equal(await settled(stack.outputs.bootstrapServers), bootstrap.join(','));
  });
});
