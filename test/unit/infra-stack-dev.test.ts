// The Pulumi program under mocks with Pulumi.dev.yaml: what it would create, and that nothing
// secret leaks and nothing is published beyond 127.0.0.1.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { readConsumerConfig } from '../../services/consumer/config';
import { readProducerConfig } from '../../services/producer/config';
import { isSecretInput, reveal } from '../support/secret-inputs';
import {
  aclLines, assertNoPlaintextSecrets, assertUploadsNeedNoHostLookup, container, containerNames, env, expectedAcls, gateChain, resource, types, upload,
} from '../support/stack-assertions';
import { buildStackUnderMocks, ofType, settled, type MockedStack } from '../support/stack-under-mocks';

describe('infra stack (dev, under mocks)', () => {
  let stack: MockedStack;
  before(async () => {
    stack = await buildStackUnderMocks('dev');
  });

  it('creates the inventory: CA, certificates per broker and client, network, volumes, one Kafka node, services, monitoring', () => {
    const count = (type: string): number => ofType(stack.resources, type).length;
    assert.equal(count(types.selfSigned), 1, 'one CA');
    assert.equal(count(types.signed), 1 + 3, 'one broker certificate + producer, consumer, admin');
    assert.equal(count(types.privateKey), 5);
    assert.equal(count(types.network), 1);
    assert.deepEqual(ofType(stack.resources, types.volume).map((v) => v.inputs.name).sort(), [
      'ecommerce-pipeline-dev-grafana-data', 'ecommerce-pipeline-dev-kafka-1-data', 'ecommerce-pipeline-dev-prometheus-data',
    ]);
    assert.deepEqual(containerNames(stack), [
      'ecommerce-pipeline-dev-consumer-1', 'ecommerce-pipeline-dev-grafana', 'ecommerce-pipeline-dev-kafka-1',
      'ecommerce-pipeline-dev-producer', 'ecommerce-pipeline-dev-prometheus',
    ]);
    assert.equal(count(types.image), 1, 'one services image for producer and consumer');
    assert.deepEqual(ofType(stack.resources, types.topic).map((t) => t.inputs.name).sort(), [
      'ecommerce_consumer_changelog', 'ecommerce_consumer_repartition', 'ecommerce_dead_letter', 'ecommerce_late_events',
      'ecommerce_producer_offsets', 'ecommerce_topic', 'processed_ecommerce_topic',
    ]);
  });

  it('uploads carry no owner or group (no copyUIDGID, no host passwd lookup); 0640 files are read through group 0', () => {
    assertUploadsNeedNoHostLookup(stack);
  });

  it('one node, one gate: it waits on create for the node, and topics wait for it', () => {
    assert.deepEqual(gateChain(stack), [['kafka-1-rolled', 1, 'kafka-1-id', true]]);
    assert.deepEqual(resource(stack, types.gate, 'kafka-1-rolled').propertyDependencies.containerId, ['kafka-1']);
    assert.deepEqual(resource(stack, types.container, 'kafka-1').dependencies.filter((d) => d.endsWith('-rolled')), []);
    for (const topic of ofType(stack.resources, types.topic)) assert.ok(topic.dependencies.includes('kafka-1-rolled'), topic.name);
  });

  it('the ACLs are exactly the least-privilege table', () => {
    assert.deepEqual(aclLines(stack), expectedAcls);
  });

  it('publishes every port on 127.0.0.1 only', () => {
    const ports = ofType(stack.resources, types.container).flatMap((c) => reveal(c.inputs.ports) as { ip: string; external: number }[]);
    assert.deepEqual(ports.map((p) => p.external).sort((a, b) => a - b), [3000, 9090, 19092]);
    for (const port of ports) assert.equal(port.ip, '127.0.0.1', `port ${port.external} is bound to ${port.ip}`);
  });

  it('keeps every private key and password secret', async () => {
    await assertNoPlaintextSecrets(stack);
    const grafana = container(stack, 'grafana');
    assert.ok(isSecretInput(grafana.inputs.envs), 'Grafana env holds the admin password');
    assert.equal(ofType(stack.resources, types.password).length, 2, 'no secrets in the dev stack file: both are generated');
    for (const resource of [...ofType(stack.resources, types.topic), ...ofType(stack.resources, types.acl)]) {
      assert.ok(isSecretInput(resource.inputs.connection), `${resource.name}: the admin connection carries a key`);
    }
  });

  it('the Kafka node gets its properties, PEM stores (key 0640, no owner: root) and a named volume, and runs as 1000:0', () => {
    const kafka = container(stack, 'kafka-1');
    const properties = upload(kafka, '/etc/kafka/pipeline/server.properties').content ?? '';
    assert.match(properties, /^listener\.security\.protocol\.map=CONTROLLER:PLAINTEXT,INTERNAL:SSL,EXTERNAL:SSL$/m);
    assert.match(properties, /^advertised\.listeners=INTERNAL:\/\/kafka-1:9092,EXTERNAL:\/\/127\.0\.0\.1:19092$/m);
    const keystore = upload(kafka, '/etc/kafka/pipeline/tls/keystore.pem');
    assert.deepEqual([keystore.permissions, keystore.owner, keystore.group], ['0640', undefined, undefined]);
    assert.equal(kafka.inputs.user, '1000:0');
    assert.match(keystore.content ?? '', /BEGIN PRIVATE KEY[\s\S]*BEGIN CERTIFICATE/);
    assert.deepEqual(reveal(kafka.inputs.volumes), [{ volumeName: 'ecommerce-pipeline-dev-kafka-1-data', containerPath: '/var/lib/kafka/data' }]);
  });

  it('renders service environments the services themselves accept', () => {
    const producerEnv = env(container(stack, 'producer'));
    const producer = readProducerConfig(producerEnv);
    assert.deepEqual(producer.kafka.brokers, ['kafka-1:9092']);
    assert.equal(producer.kafka.securityProtocol, 'SSL');
    assert.deepEqual(producer.pace, { mode: 'rate', eventsPerSecond: 500 });
    const consumer = readConsumerConfig(env(container(stack, 'consumer-1')));
    assert.equal(consumer.groupId, 'ecommerce-consumer');
    assert.equal(consumer.topics.changelog, 'ecommerce_consumer_changelog');
    const key = upload(container(stack, 'consumer-1'), consumer.kafka.tls!.keyLocation);
    assert.deepEqual([key.permissions, key.owner, key.group], ['0640', undefined, undefined]);
    assert.equal(container(stack, 'consumer-1').inputs.user, '1000:0');
  });

  it('exports bootstrap servers, URLs and topic names', async () => {
    assert.equal(await settled(stack.outputs.bootstrapServers), '127.0.0.1:19092');
    assert.equal(await settled(stack.outputs.grafanaUrl), 'http://127.0.0.1:3000');
    assert.equal(await settled(stack.outputs.prometheusUrl), 'http://127.0.0.1:9090');
    assert.equal((await settled(stack.outputs.topics)).raw, 'ecommerce_topic');
  });
});
