// The whole pipeline as the dev stack wires it, on real components: the broker with the rendered
// server.properties and real certificates, topics and ACLs applied by the program's own resource
// code, producer and consumer started with the environment the stack gives their containers, and
// Prometheus with the rendered scrape config. A generated CSV with out-of-order, late and malformed
// rows goes in, through a producer SIGKILLed twice mid-file and restarted with the same environment
// (it resumes after its committed position); what comes out of processed_ecommerce_topic
// (read_committed) must equal an oracle that computes the same windows from the CSV in SQL, sharing
// no code with the services, including the last windows of the file, which its end closes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import type { StackConfig } from '../../infra/config/stack-config';
import { renderPrometheusConfig } from '../../infra/render/prometheus-config';
import { serviceScrapeTargets } from '../../infra/render/service-containers';
import { writeGeneratedCsv, type GenerateSummary } from '../../services/producer/generator';
import { freePorts } from '../../tools/kafka/free-port';
import { repoRoot } from '../../tools/kafka/kafka-runtime';
import { metricNames } from '../../services/core/metric-names';
import { loadStack, provisionTopicsAndAcls, scrapeMetric, serviceEnvs, type TopicNames } from '../../tools/local-stack';
import { startService, stopService, type Service } from '../../tools/service-process';
import { readAll, waitFor } from '../support/consumer-run';
import { deadPanels, formatResults, waitForLiveDashboards, type QueryResult } from '../support/dashboard-queries';
import { PrometheusServer } from '../support/prometheus-server';
import { startTlsCluster, type TlsCluster } from '../support/tls-cluster';

interface OracleWindow {
  windowKind: string; key: string; windowStartMs: number; windowEndMs: number; events: number;
  eventsByType: Record<string, number>; purchases: number; revenue: number; averagePurchasePrice: number | null;
  distinctUsers: number; distinctSessions: number; viewToPurchaseConversion: number | null; endOfInput?: true;
  topProducts: { productId: string; revenue: number; purchases: number }[]; lateRecords: number;
}
interface Oracle { rows: number; rejected: number; rejectedByReason: Record<string, number>; lateRecords: number; watermark: number; windows: OracleWindow[] }

const close = (a: number | null, b: number | null, tolerance: number): boolean => (a === null || b === null ? a === b : Math.abs(a - b) <= tolerance);

describe('end to end: the dev stack\'s pipeline on real components equals the SQL oracle', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-e2e-'));
  let config: StackConfig;
  let tls: TlsCluster;
  let kafka: Kafka;
  let admin: Admin;
  let prometheus: PrometheusServer | undefined;
  let producer: Service | undefined;
  let consumer: Service | undefined;
  let generated: GenerateSummary;
  let oracle: Oracle;
  let topicNames: TopicNames;
  let liveDashboards: Promise<QueryResult[]>;
  const csv = path.join(dir, 'events.csv');

  before(async () => {
    config = loadStack('dev');
    tls = await startTlsCluster({ nodes: config.kafka.brokers });
    topicNames = await provisionTopicsAndAcls(tls, config);
    kafka = tls.cluster.kafka();
    admin = kafka.admin();
    await admin.connect();

    // 40k rows, 50 events/s of event time (13 minutes): many windows per key; bounded disorder
    // inside the grace, 0.5% rows five minutes late, 1% malformed rows of every kind.
    generated = await writeGeneratedCsv(csv, { rows: 40_000, seed: 11, eventsPerSecond: 50, outOfOrderMs: 5_000, lateRate: 0.005, lateByMs: 300_000, malformedRate: 0.01 });
    const consumerSettings = config.services.consumer.settings;
    const raw = config.topics.find((t) => t.role === 'raw')!;
    const oracleRun = spawnSync('python3', [path.join(repoRoot, 'test', 'oracle', 'windows_oracle.py'), JSON.stringify({
      partitions: raw.partitions, tumblingMs: consumerSettings.tumblingSizeMs, slidingMs: consumerSettings.slidingSizeMs,
      advanceMs: consumerSettings.slidingAdvanceMs, graceMs: consumerSettings.graceMs, topN: consumerSettings.topN, groupBy: consumerSettings.groupBy,
      endOfInput: true,
    })], { input: readFileSync(csv), maxBuffer: 256 * 1024 * 1024 });
    assert.equal(oracleRun.status, 0, `oracle failed: ${String(oracleRun.stderr)}`);
    oracle = JSON.parse(String(oracleRun.stdout)) as Oracle;

    // The containers' environment, as the stack renders it; only what a host process must see
    // differently changes: file locations, broker addresses, metrics ports, and the dataset.
    const envs = serviceEnvs(tls, config, topicNames, dir);
    assert.equal(envs.consumers.length, 1, 'the dev stack runs one consumer');
    const [producerPort, consumerPort] = await freePorts(2);

    const targets = serviceScrapeTargets(config.services).map((t) => ({ job: t.job, targets: [`127.0.0.1:${t.job === 'producer' ? producerPort : consumerPort}`] }));
    prometheus = await PrometheusServer.start(renderPrometheusConfig({ scrapeIntervalSeconds: 1, targets }));

    // Someone with write access (the producer's identity, not our producer) writes a message that
    // is not an event: the consumer must dead-letter it and carry on.
    const rogue = tls.cluster.kafka({ ssl: tls.pki.kafkaJsSsl(tls.pki.client('producer')) }).producer({ idempotent: true });
    await rogue.connect();
    await rogue.send({ topic: topicNames.raw, messages: [{ key: 'rogue', value: 'not json at all' }] }).finally(() => rogue.disconnect());

    // 2000 rows/s: about 20 s of work, so Prometheus sees every rate while the services run.
    const producerEnv = { ...envs.producer, METRICS_PORT: String(producerPort), PRODUCER_FILE: csv, PRODUCER_RATE: '2000' };
    producer = startService('producer', producerEnv, path.join(dir, 'producer.log'));
    consumer = startService('consumer', { ...envs.consumers[0]!, METRICS_PORT: String(consumerPort) }, path.join(dir, 'consumer.log'));
    liveDashboards = waitForLiveDashboards(prometheus.url, { macros: { rateInterval: '10s', range: '1h' }, timeoutMs: 90_000 });
    // Two crashes mid-file (SIGKILL, after a random number of rows), each followed by a restart with the same environment.
    for (let crash = 0; crash < 2; crash++) {
      const target = 3_000 + Math.floor(Math.random() * 8_000);
      const running = producer;
      await waitFor(`the producer to read ${target} rows`, async () => {
        if (running.child.exitCode !== null) throw new Error(`the producer exited before the crash:\n${running.tail()}`);
        return (await scrapeMetric(producerPort!, metricNames.producer.rowsRead)) >= target;
      }, 120_000, 100);
      await running.signal('SIGKILL');
      assert.notEqual(await running.exited, 0);
      producer = startService('producer', producerEnv, path.join(dir, 'producer.log'));
    }
  });

  after(async () => {
    for (const service of [producer, consumer]) if (service) await stopService(service);
    await admin?.disconnect().catch(() => undefined);
    await prometheus?.stop();
    await tls?.cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const explain = (): string => `--- producer ---\n${producer!.tail()}\n--- consumer ---\n${consumer!.tail()}`;

  it('accounts for every row: read = sent + rejected, rejects on the dead-letter topic with reasons', async () => {
    const code = await producer!.exited;
    assert.equal(code, 0, explain());
    assert.equal(oracle.rows, generated.rows);
    assert.equal(oracle.rejected, generated.malformed, 'the oracle and the generator disagree on malformed rows');
    const summary = /the file over every run: read (\d+) = sent (\d+) \+ rejected (\d+), complete/.exec(producer!.log());
    assert.ok(summary, `no summary line in the producer's output:\n${explain()}`);
    assert.match(producer!.log(), /resuming events\.csv after line \d+/);
    assert.deepEqual(summary.slice(1).map(Number), [oracle.rows, oracle.rows - oracle.rejected, oracle.rejected]);
    let dead: Awaited<ReturnType<typeof readAll>> = [];
    await waitFor('every dead letter', async () => (dead = await readAll(kafka, admin, topicNames.deadLetter)).length >= oracle.rejected + 1, 60_000, 1_000);
    const fromProducer = dead.filter((r) => r.headers.origin === 'producer');
    const fromConsumer = dead.filter((r) => r.headers.origin === 'consumer');
    assert.equal(fromProducer.length, oracle.rejected);
    const reasons: Record<string, number> = {};
    for (const record of fromProducer) {
      const value = JSON.parse(record.value ?? '{}') as { reason?: string; line?: number; raw?: string };
      assert.ok(value.reason && value.line, `dead letter without reason or line: ${record.value}`);
      reasons[record.headers.reason!] = (reasons[record.headers.reason!] ?? 0) + 1;
    }
    assert.deepEqual(reasons, oracle.rejectedByReason, 'rejections by reason: producer vs oracle');
    // The rogue message: the consumer kept its bytes and said why.
    assert.equal(fromConsumer.length, 1);
    assert.equal(fromConsumer[0]!.value, 'not json at all');
    assert.match(fromConsumer[0]!.headers.reason ?? '', /JSON/);
  });

  it('processed_ecommerce_topic (read_committed) equals the oracle, window by window, exactly once', async () => {
    let results: Record<string, unknown>[] = [];
    await waitFor('every final window', async () => {
      results = (await readAll(kafka, admin, topicNames.processed)).map((r) => JSON.parse(r.value ?? '{}') as Record<string, unknown>);
      return results.length >= oracle.windows.length;
    }, 240_000, 2_000).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}: ${results.length}/${oracle.windows.length} windows\n${explain()}`, { cause: error });
    });
    const id = (w: { windowKind: unknown; key: unknown; windowStartMs: unknown }): string => `${String(w.windowKind)}|${String(w.key)}|${String(w.windowStartMs)}`;
    const got = new Map(results.map((r) => [id(r as unknown as OracleWindow), r as unknown as OracleWindow]));
    assert.equal(got.size, results.length, 'a window was emitted twice');
    assert.equal(results.length, oracle.windows.length);
    const problems: string[] = [];
    for (const want of oracle.windows) {
      const have = got.get(id(want));
      if (!have) { problems.push(`missing ${id(want)}`); continue; }
      const differs = (field: string, ok: boolean): void => { if (!ok) problems.push(`${id(want)} ${field}: got ${JSON.stringify((have as unknown as Record<string, unknown>)[field])}, want ${JSON.stringify((want as unknown as Record<string, unknown>)[field])}`); };
      differs('windowEndMs', have.windowEndMs === want.windowEndMs);
      differs('events', have.events === want.events);
      differs('eventsByType', JSON.stringify(have.eventsByType) === JSON.stringify(want.eventsByType));
      differs('purchases', have.purchases === want.purchases);
      differs('revenue', close(have.revenue, want.revenue, 1e-6));
      differs('averagePurchasePrice', close(have.averagePurchasePrice, want.averagePurchasePrice, 1e-6));
      differs('distinctUsers', have.distinctUsers === want.distinctUsers);
      differs('distinctSessions', have.distinctSessions === want.distinctSessions);
      differs('viewToPurchaseConversion', close(have.viewToPurchaseConversion, want.viewToPurchaseConversion, 1e-9));
      differs('topProducts', have.topProducts.length === want.topProducts.length && have.topProducts.every((p, i) =>
        p.productId === want.topProducts[i]!.productId && p.purchases === want.topProducts[i]!.purchases && close(p.revenue, want.topProducts[i]!.revenue, 1e-6)));
      differs('lateRecords', have.lateRecords === want.lateRecords);
      differs('endOfInput', have.endOfInput === want.endOfInput);
    }
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} differences`);
    assert.ok(oracle.windows.some((w) => w.lateRecords > 0), 'the data should make some windows count late records');
    assert.ok(oracle.windows.filter((w) => w.endOfInput).length >= 2, 'the last windows of the file are closed by its end');
  });

  it('late records are routed to the late-events topic, none silently dropped', async () => {
    assert.ok(oracle.lateRecords > 0);
    let late: unknown[] = [];
    await waitFor('late records', async () => (late = await readAll(kafka, admin, topicNames.late)).length >= oracle.lateRecords, 60_000, 1_000);
    assert.equal(late.length, oracle.lateRecords);
  });

  it('Prometheus scrapes both services with the rendered config, and no dashboard panel is dead', async () => {
    const results = await liveDashboards;
    assert.deepEqual(deadPanels(results), [], formatResults(deadPanels(results)));
    const targets = await prometheus!.targets();
    assert.ok(JSON.stringify(targets).includes('"producer"') && JSON.stringify(targets).includes('"consumer"'), JSON.stringify(targets));
  });

  it('the consumer stops cleanly on SIGTERM', async () => {
    assert.equal(await stopService(consumer!), 0, explain());
  });
});
