// The local images on a real Docker engine: built and cached by tools/images/build.sh, laid out as
// the official images the stack names, and a KRaft broker of the Kafka image reachable from the host
// (127.0.0.1-published port) and by name from inside its network. Nothing is left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { validateStackConfig } from '../../infra/config/stack-config';
import type { ContainerSpec } from '../../infra/render/container-spec';
import { kafkaPaths, renderKafkaContainer } from '../../infra/render/kafka-container';
import { renderConsumerContainers, serviceTlsPaths } from '../../infra/render/service-containers';
import { installCreateTopicsFix } from '../../services/core/kafkajs-create-topics-fix';
import { defaultTopics } from '../../services/core/topics';
import { uploadRequest } from '../../tools/docker/container-config';
import { ContainerRun, listLabelled, RUN_LABEL } from '../../tools/docker/container-run';
import { buildLocalImages, checkLocalImages, type LocalImages } from '../../tools/images/local-images';
import { freePorts } from '../../tools/kafka/free-port';
import { kafkaVersion, repoRoot } from '../../tools/kafka/kafka-runtime';
import { consumeUntil } from '../support/consume';
import { httpGetUntil } from './support/http-get';

function spec(fields: Partial<ContainerSpec> & Pick<ContainerSpec, 'name' | 'image'>): ContainerSpec {
  return { env: {}, ports: [], uploads: [], volumes: [], networkAliases: [], restart: 'no', dependsOn: [], ...fields };
}

/** A plaintext single-node KRaft cluster: INTERNAL by container name, EXTERNAL on the host's port. */
function plainKraftProperties(name: string, hostPort: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${name}:9093`,
    'listeners=INTERNAL://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093,EXTERNAL://0.0.0.0:9094',
    `advertised.listeners=INTERNAL://${name}:9092,EXTERNAL://127.0.0.1:${hostPort}`,
    'listener.security.protocol.map=INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=INTERNAL',
    'log.dirs=/var/lib/kafka/data',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

installCreateTopicsFix();

describe('local images on the Docker engine', () => {
  let images: LocalImages;
  let run: ContainerRun;

  before(async () => {
    images = buildLocalImages();
    run = await ContainerRun.begin();
  });
  after(async () => {
    await run?.teardown();
  });

  it('are all present and current: a second build.sh --check finds nothing to rebuild', () => {
    const { ok, report } = checkLocalImages();
    assert.ok(ok, report);
    assert.match(report, /pipeline\/kafka:\S+ is up to date/);
    assert.match(report, /pipeline\/node-base:\S+ is up to date/);
  });

  it('every image the ci stack file names exists once build.sh has run (npm run up -- ci pulls nothing)', async () => {
    const named = [...new Set(readFileSync(path.join(repoRoot, 'Pulumi.ci.yaml'), 'utf8').match(/pipeline\/[\w.-]+:[\w.-]+/g) ?? [])];
    assert.ok(named.includes('pipeline/services-deps:latest'), named.join(', '));
    for (const image of named) await run.engine.json('GET', `/images/${encodeURIComponent(image)}/json`);
  });

  it('Kafka image: /opt/kafka scripts, appuser (uid 1000), data dir owned by appuser, a JRE', async () => {
    const scripts = ['kafka-server-start.sh', 'kafka-storage.sh', 'kafka-topics.sh', 'kafka-acls.sh', 'kafka-broker-api-versions.sh', 'kafka-console-producer.sh', 'kafka-console-consumer.sh', 'kafka-run-class.sh'];
    const probe = [
      'id -u; id -un; stat -c %U /var/lib/kafka/data',
      `for s in ${scripts.join(' ')}; do [ -x /opt/kafka/bin/$s ] || echo "missing $s"; done`,
      'ls /opt/kafka/libs | grep -c "^kafka_2.13-.*\\.jar$"',
      'KAFKA_HEAP_OPTS=-Xmx64m /opt/kafka/bin/kafka-topics.sh --version 2>/dev/null',
    ].join('; ');
    const result = await run.runOnce(spec({ name: `layout-${run.runId}`, image: images.kafka, entrypoint: ['sh', '-c', probe] }), 'bridge');
    assert.equal(result.exitCode, 0, result.stderr);
    const [uid, user, dataOwner, kafkaJars, version] = result.stdout.trim().split('\n');
    assert.deepEqual({ uid, user, dataOwner, kafkaJars }, { uid: '1000', user: 'appuser', dataOwner: 'appuser', kafkaJars: '1' });
    assert.equal(version?.trim(), images.kafka.split(':')[1]);
  });

  it('services image: compiled services, production dependencies only, runs as node', async () => {
    const probe = 'id -un; ls services/core/env.js; [ -d node_modules/kafkajs ] && echo kafkajs; [ -d node_modules/tsx ] || echo no-tsx';
    const result = await run.runOnce(spec({ name: `services-${run.runId}`, image: images.services, entrypoint: ['sh', '-c', probe] }), 'bridge');
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), ['node', 'services/core/env.js', 'kafkajs', 'no-tsx']);
  });

  it('uploads under the docker provider\'s rule: an owned upload into a 1000:1000 container fails with Docker\'s own error', async () => {
    const name = `old-layout-${run.runId}`;
    await run.create(spec({ name, image: images.kafka, entrypoint: ['true'], user: '1000:1000' }), 'bridge');
    const owned = uploadRequest({ file: '/etc/kafka/pipeline/tls/keystore.pem', content: 'key', permissions: '0600', owner: '1000', group: '1000' });
    await assert.rejects(run.upload(name, owned), /getent unable to find entry "1000:1000" in passwd database/);
    await run.remove(name);
  });

  it('the stack\'s layout: rendered keys are root-owned 0640, read by the service (uid:0) and by no other user', async () => {
    const config = validateStackConfig({ kafka: { image: images.kafka }, services: { baseImage: images.nodeBase } }, { stack: 'images', kafkaVersion: kafkaVersion(), repoRoot });
    const tls = { caCertPem: 'CA', certPem: 'CERT', keyPkcs8Pem: 'KEY', keyPem: 'KEY' };
    const kafkaSpec = renderKafkaContainer({ namePrefix: run.runId, nodeId: 1, kafka: config.kafka, organization: 'o', clusterId: 'c', tls });
    const [consumerSpec] = renderConsumerContainers({ namePrefix: run.runId, image: images.services, kafka: config.kafka, services: config.services, topicNames: { ...defaultTopics }, tls });
    for (const [rendered, key] of [[kafkaSpec, kafkaPaths.keystore], [consumerSpec!, serviceTlsPaths.key]] as const) {
      const probe = `stat -c '%u:%g %a' ${key}; cat ${key} >/dev/null && echo read`;
      const asRendered = await run.runOnce({ ...rendered, name: `${rendered.name}-probe`, entrypoint: ['sh', '-c', probe], command: [], healthcheck: undefined, ports: [], volumes: [], networkAliases: [], restart: 'no' }, 'bridge');
      assert.equal(asRendered.exitCode, 0, asRendered.stderr);
      assert.deepEqual(asRendered.stdout.trim().split('\n'), ['0:0 640', 'read'], `${rendered.name} as ${rendered.user}`);
      const other = await run.runOnce({ ...rendered, name: `${rendered.name}-other`, user: '65534:65534', entrypoint: ['sh', '-c', `cat ${key}`], command: [], healthcheck: undefined, ports: [], volumes: [], networkAliases: [], restart: 'no' }, 'bridge');
      assert.notEqual(other.exitCode, 0, `${rendered.name}: another user read the key`);
      assert.match(other.stderr, /Permission denied/);
    }
  });

  it('Prometheus image: the official layout answers /-/ready on a 127.0.0.1-published port', async () => {
    const [port] = await freePorts(1);
    const name = `prometheus-${run.runId}`;
    await run.createNetwork(name);
    await run.create(spec({ name, image: images.prometheus, ports: [{ internal: 9090, external: port!, ip: '127.0.0.1' }] }), name);
    await run.start(name);
    const answer = await httpGetUntil(`http://127.0.0.1:${port}/-/ready`, (a) => a.status === 200);
    assert.match(answer.body, /Ready/);
    await run.remove(name);
  });

  it('Kafka image: a KRaft broker from a plain config is healthy and reachable from the host and inside its network', async () => {
    const [hostPort] = await freePorts(1);
    const name = `kafka-${run.runId}`;
    const network = `kafka-net-${run.runId}`;
    await run.up(network, [
      spec({
        name,
        image: images.kafka,
        entrypoint: ['sh', '-c', 'kafka-storage.sh format --ignore-formatted -t "$CLUSTER_ID" -c /etc/kafka/plain/server.properties && exec kafka-server-start.sh /etc/kafka/plain/server.properties'],
        env: { CLUSTER_ID: 'MkU3OEVBNTcwNTJENDM2Qg', KAFKA_HEAP_OPTS: '-Xmx384m -Xms384m' },
        ports: [{ internal: 9094, external: hostPort!, ip: '127.0.0.1' }],
        uploads: [{ path: '/etc/kafka/plain/server.properties', content: plainKraftProperties(name, hostPort!) }],
        volumes: [{ volumeName: `kafka-data-${run.runId}`, containerPath: '/var/lib/kafka/data' }],
        user: '1000:1000',
        healthcheck: {
          test: ['CMD-SHELL', `KAFKA_HEAP_OPTS=-Xmx64m kafka-broker-api-versions.sh --bootstrap-server ${name}:9092 >/dev/null 2>&1`],
          intervalSeconds: 3, timeoutSeconds: 20, retries: 20, startPeriodSeconds: 60,
        },
      }),
    ]);
    const bound = (await run.engine.json<{ NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } }>(
      'GET', `/containers/${name}/json`)).NetworkSettings.Ports['9094/tcp'];
    assert.deepEqual(bound, [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }]);

    const kafka = new Kafka({ brokers: [`127.0.0.1:${hostPort}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'from-host', numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: 'from-host', messages: [{ key: 'k', value: 'written from the host' }] });
    await producer.disconnect();

    // A client inside the network reaches the broker by container name and reads what the host wrote.
    const inside = await run.runOnce(
      spec({
        name: `client-${run.runId}`,
        image: images.kafka,
        entrypoint: ['sh', '-c', `KAFKA_HEAP_OPTS=-Xmx128m kafka-console-consumer.sh --bootstrap-server ${name}:9092 --topic from-host --from-beginning --max-messages 1 --timeout-ms 60000`],
      }),
      network,
    );
    assert.equal(inside.exitCode, 0, inside.stderr);
    assert.equal(inside.stdout.trim(), 'written from the host');
    const records = await consumeUntil(kafka, 'from-host', (r) => r.length >= 1);
    assert.equal(records[0]?.value, 'written from the host');
  });

  it('teardown removes every container, network and volume of the run (checked by listing)', async () => {
    const before = await run.leftovers();
    assert.ok(before.containers.length + before.networks.length + before.volumes.length > 0, 'the run created nothing to tear down');
    await run.teardown();
    assert.deepEqual(await run.leftovers(), { containers: [], networks: [], volumes: [] });
  });

  it('a test process killed with SIGKILL leaves nothing behind: its reaper removes the run', async () => {
    const fixture = path.join(__dirname, 'fixtures', 'abandoned-run.fixture.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, images.debianBase], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const runId = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => stdout.includes('\n') && resolve(stdout.trim()));
      child.on('exit', (code) => reject(new Error(`fixture exited (${code}) before creating its run:\n${stderr}`)));
    });
    const label = `${RUN_LABEL}=${runId}`;
    const created = await listLabelled(run.engine, label);
    assert.deepEqual(
      { containers: created.containers.length, networks: created.networks.length, volumes: created.volumes.length },
      { containers: 1, networks: 1, volumes: 1 },
    );
    child.kill('SIGKILL');
    let left = created;
    for (let attempt = 0; attempt < 60; attempt++) {
      await new Promise((r) => setTimeout(r, 500));
      left = await listLabelled(run.engine, label);
      if (left.containers.length + left.networks.length + left.volumes.length === 0) break;
    }
    assert.deepEqual(left, { containers: [], networks: [], volumes: [] });
  });
});
