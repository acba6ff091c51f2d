// The stack's containers, as the program defines them, on a real Docker engine, for the dev config
// (one node) and the prod config (a three-node quorum), with the ci stack's local images: TLS and
// ACLs across container names, clients inside the network and on the host, the producer and consumer
// containers turning a generated CSV into windowed results equal to the oracle, exactly once through
// a `docker kill` of a consumer (and, on prod, a rolling update of the three brokers through the
// program's gates: support/broker-roll.ts), Prometheus scraping the services by name, and nothing
// left behind. Grafana is the one container not run: there is no binary for it here.
// On dev the CSV is a host file with malformed rows, bind-mounted into the producer, which is
// replaced mid-file by a changed setting (as `pulumi up` replaces it) and stopped by `docker stop`
// and started again, and stays exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { ContainerSpec } from '../../infra/render/container-spec';
import { writeGeneratedCsv, type GenerateOptions } from '../../services/producer/generator';
import { ContainerRun } from '../../tools/docker/container-run';
import { planWaves, replacementPlan } from '../../tools/docker/replacement-plan';
import { replaceContainer, replayPlan } from '../../tools/docker/replacement-replay';
import { buildLocalImages, type LocalImages } from '../../tools/images/local-images';
import { consumeUntil } from '../support/consume';
import { waitFor } from '../support/consumer-run';
import { kafkaErrorType } from '../support/kafka-denial';
import { assertSourceExactlyOnce, expectGenerated, wholeFileReport, type SourceExpectation } from '../support/source-exactly-once';
import { TestPki } from '../support/test-pki';
import { rollBrokers } from './support/broker-roll';
import { EngineStack, stackConfigForEngine } from './support/engine-stack';
import { httpGetUntil } from './support/http-get';
import { assertPipelineEqualsOracle, rawCount } from './support/pipeline-check';
import { ciImages, override, readStackFile, withCiImages } from './support/stack-files';

/** Test-sized runs of the real stacks: a paced dataset long enough to act on mid-stream. */
const rows = 9_000;
/** dev's dataset: a file on the host with malformed rows, bind-mounted (prod generates its own in the container). */
const devFile: GenerateOptions = { rows, seed: 11, malformedRate: 0.01 };

async function engineConfig(stack: 'dev' | 'prod', brokers: number, tag: string, producer: { file?: string; rate: number }) {
  let raw = withCiImages(readStackFile(stack));
  raw = override(raw, 'producer', 'dataset', producer.file ? { file: producer.file } : { generate: { rows, seed: 11 } });
  raw = override(raw, 'producer', 'rate', producer.rate);
  // Windows flush soon after the stream ends, a killed member's partitions move on quickly, and
  // Prometheus scrapes often enough to see the producer while it runs.
  raw = override(raw, 'consumer', 'idleTimeoutMs', 3_000);
  raw = override(raw, 'consumer', 'sessionTimeoutMs', 10_000);
  raw = override(raw, 'monitoring', 'scrapeIntervalSeconds', 2);
  // A run-specific stack name keeps container names apart from any other run on this engine.
  return stackConfigForEngine(`${stack}-${tag}`, raw, brokers);
}


// prod is paced slower, so that its producer streams through most of the broker roll (about 200 s
// here; each broker's gate waits 50-60 s for it to rejoin).
for (const { stack, brokers, eventsPerSecond, killAt } of [
  { stack: 'dev', brokers: 1, eventsPerSecond: 150, killAt: 0.3 },
  { stack: 'prod', brokers: 3, eventsPerSecond: 40, killAt: 0.1 },
] as const) {
  describe(`the ${stack} stack's containers on the Docker engine`, () => {
    let images: LocalImages;
    let run: ContainerRun;
    let engine: EngineStack;
    let admin: Admin;
    let services: { producer: ContainerSpec; consumers: ContainerSpec[] };
    let source: SourceExpectation;
    const dir = mkdtempSync(path.join(os.tmpdir(), `stack-${stack}-`));
    const file = stack === 'dev' ? path.join(dir, 'events.csv') : undefined;

    before(async () => {
      images = buildLocalImages();
      run = await ContainerRun.begin();
      if (file) await writeGeneratedCsv(file, devFile);
      source = file ? expectGenerated(path.basename(file), devFile) : expectGenerated('generated-events.csv.gz', { rows, seed: 11 });
      const config = await engineConfig(stack, brokers, run.runId.slice(-6), { file, rate: eventsPerSecond });
      engine = new EngineStack(config, run, `${config.namePrefix}-net`);
      services = engine.serviceSpecs(images.services);
    });
    after(async () => {
      await admin?.disconnect().catch(() => undefined);
      await run?.teardown();
      rmSync(dir, { recursive: true, force: true });
    });

    /** The services as an `up` with other producer settings renders them (same stack, same certificates). */
    async function changedProducer(producer: { file?: string; rate: number }): Promise<ContainerSpec> {
      const changed = await engineConfig(stack, brokers, run.runId.slice(-6), producer);
      return engine.serviceSpecs(images.services, changed.services).producer;
    }

    it('runs the stack file as the program validates it, on the ci stack\'s local images', () => {
      assert.equal(engine.config.kafka.brokers, brokers);
      assert.deepEqual(ciImages(), { kafka: images.kafka, servicesBase: images.nodeBase, prometheus: images.prometheus }, 'Pulumi.ci.yaml names the images build.sh makes');
      assert.equal(engine.config.kafka.image, images.kafka);
      assert.equal(engine.config.monitoring.prometheusImage, images.prometheus);
    });

    it('the Kafka containers become healthy over their network with mutual TLS, then take the topics and ACLs', async () => {
      // Docker's own verdict, not the harness' probe (ContainerRun.waitReady).
      await run.up(engine.network, engine.kafkaSpecs(), { dockerHealth: true });
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

    if (file) {
      it('a changed producer setting replaces the producer container mid-file, as the engine does it; the new one resumes', async () => {
        await waitFor('15% of the dataset on the raw topic', async () => (await rawCount(admin, engine.topicNames.raw)) >= rows * 0.15, 120_000);
        const next = await changedProducer({ file, rate: eventsPerSecond + 50 });
        assert.notDeepEqual(next.env, services.producer.env, 'the setting changes the container (its environment: a replacement)');
        const oldId = (await run.inspect(next.name)).Id;
        // The program's graph for this change: only the producer changes; nothing takes an input from it.
        const plan = replacementPlan([
          { name: 'topics-and-acls', change: 'same' },
          { name: engine.prometheusSpec().name, change: 'same' },
          ...services.consumers.map((c) => ({ name: c.name, change: 'same' as const, dependsOn: ['topics-and-acls'] })),
          { name: next.name, change: 'replace', dependsOn: ['topics-and-acls'] },
        ]);
        assert.deepEqual(planWaves(plan), [[next.name]]);
        let replaced: { exitCode: number } | undefined;
        await replayPlan(plan, { replace: async () => { replaced = await replaceContainer(run, next, engine.network); }, update: () => Promise.resolve() });
        const at = await rawCount(admin, engine.topicNames.raw);
        assert.ok(at < rows, `replaced mid-file (${at} of ${rows} rows produced)`);
        assert.equal(replaced?.exitCode, 0, 'the old producer stopped on SIGTERM within the grace period (not killed)');
        assert.notEqual((await run.inspect(next.name)).Id, oldId);
        services = { ...services, producer: next };
        await waitFor('the new producer to resume', async () => /resuming events\.csv after line [1-9]/.test(await run.logs(next.name)), 120_000);
      });
    }

    it('docker kill of a consumer container mid-stream, then its restart', async () => {
      const victim = services.consumers[0]!.name;
      await waitFor(`${killAt * 100}% of the dataset on the raw topic`, async () => (await rawCount(admin, engine.topicNames.raw)) >= rows * killAt, 120_000);
      await run.kill(victim);
      const at = await rawCount(admin, engine.topicNames.raw);
      assert.ok(at < rows, `killed mid-stream (${at} of ${rows} rows produced)`);
      assert.equal((await run.inspect(victim)).State.ExitCode, 137);
      // Not waiting for it to be healthy here: the stream goes on meanwhile (checked at the end).
      await run.start(victim, { wait: false });
    });

    if (file) {
      it('docker stop of the producer container mid-file (SIGTERM: it commits and exits 0), then docker start: it resumes', async () => {
        const name = services.producer.name;
        await waitFor('50% of the dataset on the raw topic', async () => (await rawCount(admin, engine.topicNames.raw)) >= rows * 0.5, 120_000);
        // The program's stopTimeout (60 s) is what `docker stop` waits before a SIGKILL.
        await run.stop(name, 60);
        const at = await rawCount(admin, engine.topicNames.raw);
        assert.ok(at < rows, `stopped mid-file (${at} of ${rows} rows produced)`);
        const { State } = await run.inspect(name);
        assert.deepEqual([State.Status, State.ExitCode], ['exited', 0]);
        assert.match(await run.logs(name, 20), /stopped by signal/);
        await run.start(name, { wait: false });
        await waitFor('the restarted producer to resume', async () => ((await run.logs(name)).match(/resuming events\.csv after line [1-9]/g) ?? []).length >= 2, 120_000);
      });
    }

    if (brokers >= 3) {
      // Right after the consumer's restart: it joins its group while leaders and coordinators move.
      it('a rolling update of the brokers (certificates re-issued) replaces them one at a time through the gates; writes go on; never two brokers down', async (t) => {
        const atStart = await rawCount(admin, engine.topicNames.raw);
        const roll = await rollBrokers(engine, run, admin, [services.producer, ...services.consumers]);
        t.diagnostic(roll.summary);
        t.diagnostic(`the producer at the end of the roll: ${(await run.inspect(services.producer.name)).State.Status}`);
        const names = [...roll.oldIds.keys()];
        assert.deepEqual(roll.waves, [[names[0], engine.prometheusSpec().name], ['gate-1'], [names[1]], ['gate-2'], [names[2]], ['gate-3']]);
        assert.ok(atStart < rows, `the roll started mid-stream (${atStart} of ${rows} rows produced)`);
        for (const [name, oldId] of roll.oldIds) assert.notEqual((await run.inspect(name)).Id, oldId, `${name} was replaced`);
        assert.deepEqual(roll.probe.refused, [], 'acks=all writes refused beyond the producer\'s retry budget');
        assert.ok(roll.probe.sent > 0);
        assert.equal(roll.sampler.maxDown, 1, `at most one broker down at any sampled moment (and the sampler saw one down): ${roll.sampler.worst}`);
      });
    }

    it('the restarted consumer container becomes healthy again', async () => {
      await run.waitReady(services.consumers[0]!.name, undefined, { dockerHealth: true });
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

    it('the producer streams the whole CSV and exits 0: every row exactly once on the raw or the dead-letter topic, read = sent + rejected over every run', async () => {
      await run.withLogsOnFailure([services.producer.name], async () => {
        assert.equal(await run.wait(services.producer.name), 0, 'the producer exits 0');
        await assertSourceExactlyOnce(engine.hostKafka('admin'), admin, engine.topicNames, source, { partitions: engine.config.topics.find((t) => t.role === 'raw')!.partitions });
        if (file) assert.ok(source.badLines.size > 0, 'the file has malformed rows');
        assert.deepEqual(wholeFileReport(await run.logs(services.producer.name, 20)), { read: rows, sent: source.good.size, rejected: source.badLines.size, complete: true });
      });
    });

    it('processed_ecommerce_topic equals the oracle of what is on the raw topic, each window exactly once, the last windows of the file included', async () => {
      await run.withLogsOnFailure(services.consumers.map((c) => c.name), async () => {
        await run.wait(services.producer.name);
        const { endOfInput: closedByEnd } = await assertPipelineEqualsOracle(engine, admin);
        assert.ok(closedByEnd > 0, 'windows closed by the end of the file (not by stream time) are among those compared');
      });
    });

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
