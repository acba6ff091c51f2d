// The Pulumi program under mocks with Pulumi.prod.yaml: a three-node quorum with TLS on the
// controller listener, replication 3 / min.insync.replicas 2, two consumer replicas.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { isSecretInput, reveal } from '../support/secret-inputs';
import { aclLines, assertUploadsNeedNoHostLookup, assertNoPlaintextSecrets, container, containerNames, expectedAcls, gateChain, resource, types, upload } from '../support/stack-assertions';
import { buildStackUnderMocks, ofType, settled, type MockedStack } from '../support/stack-under-mocks';

describe('infra stack (prod, under mocks)', () => {
  let stack: MockedStack;
  before(async () => {
    // As the prod stack file asks: the Grafana password set with `pulumi config set --secret`.
    stack = await buildStackUnderMocks('prod', { grafanaAdminPassword: 'prod-grafana-password' });
  });

  it('creates three Kafka nodes with their own certificates and volumes, and two consumers', () => {
    assert.equal(ofType(stack.resources, types.selfSigned).length, 1);
    assert.equal(ofType(stack.resources, types.signed).length, 3 + 3);
    const csrs = ofType(stack.resources, types.csr).map((c) => (reveal(c.inputs.subject) as { commonName: string }).commonName).sort();
    assert.deepEqual(csrs, ['admin', 'consumer', 'kafka-1', 'kafka-2', 'kafka-3', 'producer']);
    assert.deepEqual(containerNames(stack), [
      'ecommerce-pipeline-prod-consumer-1', 'ecommerce-pipeline-prod-consumer-2', 'ecommerce-pipeline-prod-grafana',
      'ecommerce-pipeline-prod-kafka-1', 'ecommerce-pipeline-prod-kafka-2', 'ecommerce-pipeline-prod-kafka-3',
      'ecommerce-pipeline-prod-producer', 'ecommerce-pipeline-prod-prometheus',
    ]);
    assert.equal(ofType(stack.resources, types.volume).length, 3 + 2);
  });

  it('writes every container value as Docker reports it back: Go durations, memorySwap beside memory, tcp ports, json-file logs', () => {
    for (const c of ofType(stack.resources, types.container)) {
      const name = String(reveal(c.inputs.name));
      const health = reveal(c.inputs.healthcheck) as { interval: string; timeout: string; startPeriod: string } | undefined;
      for (const d of health ? [health.interval, health.timeout, health.startPeriod] : []) {
        assert.match(d, /^(\d+h)?(\d+m)?\d+s$/, `${name}: ${d}`);
        assert.doesNotMatch(d, /^([6-9]\d|\d{3,})s$/, `${name}: ${d} reads back as minutes`);
      }
      assert.equal(reveal(c.inputs.memorySwap), reveal(c.inputs.memory), `${name}: memorySwap`);
      assert.equal(reveal(c.inputs.logDriver), 'json-file');
      for (const p of reveal(c.inputs.ports) as { protocol: string }[]) assert.equal(p.protocol, 'tcp');
    }
    assert.equal((reveal(container(stack, 'kafka-1').inputs.healthcheck) as { startPeriod: string }).startPeriod, '1m0s');
    assert.equal(reveal(container(stack, 'kafka-1').inputs.memorySwap), stack.config.kafka.memoryMb);
  });

  it('raises the metadata version after every broker, to the release of kafka.version, inside kafka-1', () => {
    const [mv] = ofType(stack.resources, 'pulumi-nodejs:dynamic/kafka:MetadataVersion');
    assert.ok(mv, 'a MetadataVersion resource');
    assert.equal(reveal(mv.inputs.releaseVersion), stack.config.kafka.version.split('.').slice(0, 2).join('.'));
    assert.equal(reveal(mv.inputs.containerName), 'ecommerce-pipeline-prod-kafka-1');
    assert.equal((reveal(mv.inputs.brokerContainerIds) as string[]).length, 3, 'every broker is an input');
  });

  it('every node runs TLS on the controller listener, in a static quorum of three, with brokers and admin as super users', () => {
    for (const id of [1, 2, 3]) {
      const properties = upload(container(stack, `kafka-${id}`), '/etc/kafka/pipeline/server.properties').content ?? '';
      assert.match(properties, new RegExp(`^node\\.id=${id}$`, 'm'));
      assert.match(properties, /^controller\.quorum\.voters=1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093$/m);
      assert.match(properties, /^listener\.security\.protocol\.map=CONTROLLER:SSL,INTERNAL:SSL,EXTERNAL:SSL$/m);
      assert.match(properties, /^listener\.name\.controller\.ssl\.client\.auth=required$/m);
      assert.match(properties, /^super\.users=User:kafka-1;User:kafka-2;User:kafka-3;User:admin$/m);
      assert.match(properties, /^min\.insync\.replicas=2$/m);
      assert.match(properties, /^offsets\.topic\.replication\.factor=3$/m);
    }
  });

  it('rolls the brokers one at a time: node n+1 waits for the gate of node n, which follows node n\'s container', () => {
    assert.deepEqual(gateChain(stack), [
      ['kafka-1-rolled', 1, 'kafka-1-id', false],
      ['kafka-2-rolled', 2, 'kafka-2-id', false],
      ['kafka-3-rolled', 3, 'kafka-3-id', true],
    ]);
    for (const id of [1, 2, 3]) {
      const gate = resource(stack, types.gate, `kafka-${id}-rolled`);
      assert.deepEqual(gate.propertyDependencies.containerId, [`kafka-${id}`], 'the gate\'s input is that node\'s container id');
      assert.deepEqual(gate.inputs.nodeIds, [1, 2, 3]);
      assert.equal(gate.inputs.address, `127.0.0.1:${29091 + id}`);
      assert.equal(gate.inputs.timeoutSeconds, 300);
      assert.ok(isSecretInput(gate.inputs.connection), 'the admin connection carries a key');
      const gatesWaitedFor = resource(stack, types.container, `kafka-${id}`).dependencies.filter((d) => d.endsWith('-rolled'));
      assert.deepEqual(gatesWaitedFor, id === 1 ? [] : [`kafka-${id - 1}-rolled`], `kafka-${id} waits for the gate before it, and no other`);
    }
    for (const topic of ofType(stack.resources, types.topic)) {
      assert.ok(topic.dependencies.includes('kafka-3-rolled'), `${topic.name} waits for the whole cluster`);
    }
  });

  it('rolls the two consumer replicas one at a time: replica 2 waits for the gate of replica 1 (both groups stable, lag draining)', () => {
    const gates = ofType(stack.resources, types.consumerGate).sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(gates.map((g) => [g.name, g.inputs.containerId, g.inputs.members]), [
      ['services-consumer-1-rolled', 'services-consumer-1-id', 2],
      ['services-consumer-2-rolled', 'services-consumer-2-id', 2],
    ]);
    for (const gate of gates) {
      assert.deepEqual(gate.propertyDependencies.containerId, [gate.name.replace(/-rolled$/, '')]);
      assert.deepEqual(gate.inputs.groups, [
        { groupId: 'ecommerce-consumer', topic: 'ecommerce_topic' },
        { groupId: 'ecommerce-consumer-windows', topic: 'ecommerce_consumer_repartition' },
      ]);
      assert.ok(isSecretInput(gate.inputs.connection));
    }
    const waitsFor = (replica: number): string[] => resource(stack, types.container, `services-consumer-${replica}`).dependencies.filter((d) => d.endsWith('-rolled'));
    assert.deepEqual(waitsFor(1), []);
    assert.deepEqual(waitsFor(2), ['services-consumer-1-rolled']);
  });

  it('topics are replicated three times with min.insync.replicas=2 and the stack\'s partitions and retention', () => {
    const topics = Object.fromEntries(ofType(stack.resources, types.topic).map((t) => [t.inputs.name as string, t.inputs]));
    assert.equal(topics.ecommerce_topic?.partitions, 12);
    for (const topic of Object.values(topics)) {
      assert.equal(topic.replicationFactor, 3);
      assert.equal((topic.config as Record<string, string>)['min.insync.replicas'], '2');
    }
    assert.equal((topics.ecommerce_topic?.config as Record<string, string>)['retention.ms'], '2592000000');
    assert.equal((topics.ecommerce_consumer_changelog?.config as Record<string, string>)['cleanup.policy'], 'compact');
  });

  it('uploads carry no owner or group (no copyUIDGID, no host passwd lookup); 0640 files are read through group 0', () => {
    assertUploadsNeedNoHostLookup(stack);
  });

  it('the ACLs are exactly the least-privilege table', () => {
    assert.deepEqual(aclLines(stack), expectedAcls);
  });

  it('publishes the three brokers, Prometheus and Grafana on 127.0.0.1 at the prod ports', () => {
    const ports = ofType(stack.resources, types.container).flatMap((c) => reveal(c.inputs.ports) as { ip: string; external: number }[]);
    assert.deepEqual(ports.map((p) => `${p.ip}:${p.external}`).sort(), ['127.0.0.1:23000', '127.0.0.1:29090', '127.0.0.1:29092', '127.0.0.1:29093', '127.0.0.1:29094']);
    return settled(stack.outputs.bootstrapServers).then((b) => assert.equal(b, '127.0.0.1:29092,127.0.0.1:29093,127.0.0.1:29094'));
  });

  it('keeps every private key and password secret; a configured secret is used, not generated', async () => {
    await assertNoPlaintextSecrets(stack, ['prod-grafana-password']);
    const grafana = container(stack, 'grafana');
    assert.ok(isSecretInput(grafana.inputs.envs));
    assert.ok((reveal(grafana.inputs.envs) as string[]).includes('GF_SECURITY_ADMIN_PASSWORD=prod-grafana-password'));
    assert.equal(ofType(stack.resources, types.password).length, 1, 'only the bundle password is generated');
  });
});
