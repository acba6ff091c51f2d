// The stack's containers, as the program defines them, on a real Docker engine, for the dev config
// (one node) and the prod config (a three-node quorum), with the ci stack's local images: TLS and
// ACLs across container names, clients inside the network and on the host, the producer and consumer
// containers turning a generated CSV into windowed results equal to the oracle, exactly once through
// a `docker kill` of a consumer (and, on prod, a broker stopped), Prometheus scraping the services by
// name, and nothing left behind. Grafana is the one container not run: there is no binary for it here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { ContainerSpec } from '../../infra/render/container-spec';
import { controlHeader, endOfInput } from '../../services/core/end-of-input';
import { ContainerRun } from '../../tools/docker/container-run';
import { buildLocalImages, type LocalImages } from '../../tools/images/local-images';
import { consumeUntil } from '../support/consume';
import { readAll, waitFor } from '../support/consumer-run';
import { kafkaErrorType } from '../support/kafka-denial';
import { TestPki } from '../support/test-pki';
import { EngineStack, stackConfigForEngine } from './support/engine-stack';
import { httpGetUntil } from './support/http-get';
import { assertPipelineEqualsOracle, rawCount } from './support/pipeline-check';
import { ciImages, override, readStackFile, withCiImages } from './support/stack-files';

/** Test-sized runs of the real stacks: a paced dataset long enough to act on mid-stream. */
const rows = 9_000;
const eventsPerSecond = 150;

async function engineConfig(stack: 'dev' | 'prod', brokers: number, tag: string) {
  let raw = withCiImages(readStackFile(stack));
  raw = override(raw, 'producer', 'dataset', { generate: { rows, seed: 11 } });
  raw = override(raw, 'producer', 'rate', eventsPerSecond);
  // Windows flush soon after the stream ends, a killed member's partitions move on quickly, and
  // Prometheus scrapes often enough to see the producer while it runs.
  raw = override(raw, 'consumer', 'idleTimeoutMs', 3_000);
  raw = override(raw, 'consumer', 'sessionTimeoutMs', 10_000);
  raw = override(raw, 'monitoring', 'scrapeIntervalSeconds', 2);
  // A run-specific stack name keeps container names apart from any other run on this engine.
  return stackConfigForEngine(`${stack}-${tag}`, raw, brokers);
}


for (const { stack, brokers } of [{ stack: 'dev', brokers: 1 }, { stack: 'prod', brokers: 3 }] as const) {
  describe(`the ${stack} stack's containers on the Docker engine`, () => {
    let images: LocalImages;
    let run: ContainerRun;
    let engine: EngineStack;
    let admin: Admin;
    let services: { producer: ContainerSpec; consumers: ContainerSpec[] };

    before(async () => {
      images = buildLocalImages();
      run = await ContainerRun.begin();
      const config = await engineConfig(stack, brokers, run.runId.slice(-6));
      engine = new EngineStack(config, run, `${config.namePrefix}-net`);
      services = engine.serviceSpecs(images.services);
    });
    after(async () => {
      await admin?.disconnect().catch(() => undefined);
      await run?.teardown();
    });

    it('runs the stack file as the program validates it, on the ci stack\'s local images', () => {
      assert.equal(engine.config.kafka.brokers, brokers);
      assert.deepEqual(ciImages(), { kafka: images.kafka, servicesBase: images.nodeBase, prometheus: images.prometheus }, 'Pulumi.ci.yaml names the images build.sh makes');
      assert.equal(engine.config.kafka.image, images.kafka);
      assert.equal(engine.config.monitoring.prometheusImage, images.prometheus);
    });

    it('the Kafka containers become healthy over their network with mutual TLS, then take the topics and ACLs', async () => {
      await run.up(engine.network, engine.kafkaSpecs());
      for (let id = 1; id <= brokers; id++) {
        assert.equal((await run.inspect(engine.kafkaContainerName(id))).State.Health?.Status, 'healthy');
      }
      assert.ok((await engine.createTopicsAndAcls()) > 0);
      admin = engine.hostKafka('admin').admin();
      await admin.connect();
    });

    it('a client on the host connects through the 127.0.0.1-published ports with its certificate; the ACLs hold', async () => {
      const producer = engine.hostKafka('producer').producer({ idempotent: true });
      await producer.connect();
      try {
        // Into the dead-letter topic (the producer may write it), so the raw topic holds only the dataset.
        await producer.send({ topic: engine.topicNames.deadLetter, acks: -1, messages: [{ key: 'host', value: 'from the host' }] });
        const denied = await producer.send({ topic: engine.topicNames.processed, messages: [{ value: 'x' }] }).then(() => 'ok', kafkaErrorType);
        assert.equal(denied, 'TOPIC_AUTHORIZATION_FAILED');
      } finally {
        await producer.disconnect();
      }
      const records = await consumeUntil(engine.hostKafka('admin'), engine.topicNames.deadLetter, (r) => r.some((x) => x.value === 'from the host'));
      assert.ok(records.some((r) => r.key === 'host'));
    });

    it('a certificate from another CA is refused by the brokers', async () => {
      const stranger = TestPki.create(engine.config.pki);
      const kafka = new Kafka({
        brokers: engine.hostBootstrap(), ssl: stranger.kafkaJsSsl(stranger.client('producer')), retry: { retries: 0 }, connectionTimeout: 5_000, logLevel: logLevel.NOTHING,
      });
      const strangerAdmin = kafka.admin();
      const outcome = await strangerAdmin.connect().then(() => strangerAdmin.listTopics()).then(() => 'connected', (e: unknown) => kafkaErrorType(e));
      await strangerAdmin.disconnect().catch(() => undefined);
      assert.notEqual(outcome, 'connected');
    });

    it('a client inside the network reaches every broker by container name with its certificate; the ACLs hold', async () => {
      const list = await engine.runKafkaCli('admin', 'kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --list');
      assert.equal(list.exitCode, 0, list.stderr);
      for (const name of Object.values(engine.topicNames)) assert.ok(list.stdout.split('\n').includes(name), `${name} missing in:\n${list.stdout}`);

      const produce = await engine.runKafkaCli(
        'producer',
        `echo "from inside" | kafka-console-producer.sh --bootstrap-server "$BOOTSTRAP" --producer.config "$CLIENT_CONFIG" --topic ${engine.topicNames.deadLetter}`,
      );
      assert.equal(produce.exitCode, 0, produce.stderr);
      await consumeUntil(engine.hostKafka('admin'), engine.topicNames.deadLetter, (r) => r.some((x) => x.value === 'from inside'));

      const refused = await engine.runKafkaCli(
        'consumer',
        'kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --topic not-allowed --partitions 1',
      );
      assert.notEqual(refused.exitCode, 0);
      assert.match(refused.stdout + refused.stderr, /Authorization failed|TopicAuthorizationException/);
    });

    it('Prometheus, the consumer and the producer containers start in order (Grafana is not run)', async (t) => {
      t.diagnostic(`Grafana (${engine.config.monitoring.grafanaImage}) is the one container of the ${stack} stack not run: there is no Grafana binary on this machine`);
      await run.add(engine.network, [engine.prometheusSpec()]);
      await run.add(engine.network, services.consumers);
      await run.add(engine.network, [services.producer]);
      assert.ok((await rawCount(admin, engine.topicNames.raw)) < rows, 'the producer is still streaming');
    });

    it('docker kill of a consumer container mid-stream, then its restart', async () => {
      const victim = services.consumers[0]!.name;
      await waitFor('30% of the dataset on the raw topic', async () => (await rawCount(admin, engine.topicNames.raw)) >= rows * 0.3, 120_000);
      await run.kill(victim);
      const at = await rawCount(admin, engine.topicNames.raw);
      assert.ok(at < rows, `killed mid-stream (${at} of ${rows} rows produced)`);
      assert.equal((await run.inspect(victim)).State.ExitCode, 137);
      // Not waiting for it to be healthy here: the stream goes on meanwhile (checked at the end).
      await run.start(victim, { wait: false });
    });

    if (brokers >= 3) {
      it('one broker of three stopped mid-stream: the pipeline goes on', async () => {
        await waitFor('50% of the dataset on the raw topic', async () => (await rawCount(admin, engine.topicNames.raw)) >= rows * 0.5, 120_000);
        await run.stop(engine.kafkaContainerName(3));
        const at = await rawCount(admin, engine.topicNames.raw);
        assert.ok(at < rows, `stopped mid-stream (${at} of ${rows} rows produced)`);
        assert.equal((await run.inspect(engine.kafkaContainerName(3))).State.Status, 'exited');
      });
    }

    it('the restarted consumer container becomes healthy again', async () => {
      await run.waitReady(services.consumers[0]!.name);
      assert.equal((await run.inspect(services.consumers[0]!.name)).State.Health?.Status, 'healthy');
    });

    it('Prometheus scrapes the producer and the consumers by container name', async () => {
      const url = `http://127.0.0.1:${engine.config.monitoring.prometheusPort}/api/v1/query?query=${encodeURIComponent('max_over_time(up[10m])')}`;
      const want = [services.producer, ...services.consumers].map((s) => `${s.networkAliases[0]}:${engine.config.services.metricsPort}`);
      await httpGetUntil(url, ({ status, body }) => {
        if (status !== 200) return false;
        const series = (JSON.parse(body) as { data: { result: { metric: { instance: string }; value: [number, string] }[] } }).data.result;
        return want.every((instance) => series.some((s) => s.metric.instance === instance && s.value[1] === '1'));
      });
    });

    it('the producer streams the whole CSV, exits 0, and every row is on the raw topic', async () => {
      await run.withLogsOnFailure([services.producer.name], async () => {
        assert.equal(await run.wait(services.producer.name), 0, 'the producer exits 0');
        const records = await readAll(engine.hostKafka('admin'), admin, engine.topicNames.raw, 60_000);
        const onTopic = records.filter((r) => r.headers[controlHeader] === undefined).length;
        const deadLetters = (await readAll(engine.hostKafka('admin'), admin, engine.topicNames.deadLetter)).length;
        assert.equal(onTopic, rows, `rows on the raw topic (the dead-letter topic holds ${deadLetters} records, 2 of them the test's own)`);
        assert.equal(records.filter((r) => r.headers[controlHeader] === endOfInput).length, engine.config.topics.find((t) => t.role === 'raw')!.partitions, 'one end-of-input marker per raw partition');
      });
    });

    it('processed_ecommerce_topic equals the oracle of what is on the raw topic, each window exactly once', async () => {
      await run.withLogsOnFailure(services.consumers.map((c) => c.name), () => pipelineEqualsOracle());
    });

    async function pipelineEqualsOracle(): Promise<void> {
      await run.wait(services.producer.name);
      await assertPipelineEqualsOracle(engine, admin);
    }

    it('teardown removes every container, network and volume that was created (checked by listing)', async () => {
      const created = await run.leftovers();
      const specs = [...engine.kafkaSpecs(), engine.prometheusSpec(), services.producer, ...services.consumers];
      assert.deepEqual(created.containers.sort(), specs.map((s) => s.name).sort());
      assert.deepEqual(created.networks, [engine.network]);
      assert.deepEqual(created.volumes.sort(), [...new Set(specs.flatMap((s) => s.volumes.map((v) => v.volumeName)))].sort());
      await admin.disconnect();
      await run.teardown();
      assert.deepEqual(await run.leftovers(), { containers: [], networks: [], volumes: [] });
    });
  });
}
