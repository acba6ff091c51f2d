// The benchmark's Kafka Streams peer (bench/streams-peer) must do exactly our consumer's job, or the
// ratio the benchmark prints means nothing: on a real broker with mutual TLS and each its own
// least-privilege ACLs, both process the same small generated raw topic, and their committed windows
// must equal each other and the oracle, as must the peer's late records; the peer dead-letters
// every malformed message. One peer run with two stream threads (JVM start-up is slow on CI).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { committedWindows, createPeerTopics, grantStreamsPeerAcls, runStreamsPeer, windowDifferences } from '../../bench/streams-peer';
import { waitForWindows } from '../../bench/setup';
import { consumerDefaults } from '../../services/consumer/config';
import { freePorts } from '../../tools/kafka/free-port';
import { loadStack, provisionTopicsAndAcls, serviceEnvs } from '../../tools/local-stack';
import { startService, stopService, type Service } from '../../tools/service-process';
import { testDataset, testWindowEnv, testWindows } from '../support/consumer-datasets';
import { lateOf, produceRaw, readAll } from '../support/consumer-run';
import { oracle, type OracleEvent } from '../support/oracle';
import { startTlsCluster, type TlsCluster } from '../support/tls-cluster';

describe('Kafka Streams peer against our consumer', () => {
  let tls: TlsCluster | undefined;
  let consumer: Service | undefined;
  const work = mkdtempSync(path.join(os.tmpdir(), 'streams-peer-it-'));

  before(async () => {
    tls = await startTlsCluster({ nodes: 1 });
  });
  after(async () => {
    if (consumer) await stopService(consumer, { signal: 'SIGKILL' });
    await tls?.cluster.stop();
    rmSync(work, { recursive: true, force: true });
  });

  let peerLate: { actual: ReturnType<typeof lateOf>; expected: ReturnType<typeof lateOf> } | undefined;
  let peerWindows: { differences: string[]; peer: unknown; expected: unknown } | undefined;

  it('the peer runs the same job: as many windows as the oracle, every malformed message dead-lettered', { timeout: 600_000 }, async () => {
    const cluster = tls!;
    const config = loadStack('dev');
    const raw = testDataset(16, 1000, 0.01);
    const rawPartitions = config.topics.find((t) => t.role === 'raw')!.partitions;
    const repartitionPartitions = config.topics.find((t) => t.role === 'repartition')!.partitions;
    assert.equal(raw.length, rawPartitions, 'one generated partition per raw partition of the stack');
    const expected = oracle(raw.map((ms) => ms.filter((m) => !m.malformed).map((m) => JSON.parse(m.value) as OracleEvent)), testWindows);
    const malformed = raw.flat().filter((m) => m.malformed).length;
    assert.ok(expected.results.size > 100 && expected.late.size > 10 && malformed > 10, 'a dataset worth comparing');

    const topics = await provisionTopicsAndAcls(cluster, config, '_peer_it');
    const kafka = cluster.cluster.kafka({ retry: { retries: 15, initialRetryTime: 300, maxRetryTime: 5_000 } });
    await produceRaw(kafka, topics.raw, raw);

    const idle = { CONSUMER_IDLE_TIMEOUT_MS: '1000' };
    const [metricsPort] = await freePorts(1);
    consumer = startService('consumer', {
      ...serviceEnvs(cluster, config, topics, work).consumers[0]!, ...testWindowEnv(), ...idle, LOG_LEVEL: 'warn', METRICS_PORT: String(metricsPort),
    }, path.join(work, 'consumer.log'));
    await waitForWindows(consumer, metricsPort!, expected.results.size, 300_000);
    assert.equal(await stopService(consumer), 0);

    await grantStreamsPeerAcls(cluster, topics.raw);
    const peerTopics = await createPeerTopics(cluster, topics.raw, 'streams-peer-it', 3);
    const run = await runStreamsPeer({
      tls: cluster, topics: peerTopics, rawPartitions, repartitionPartitions, threads: 2, expectWindows: expected.results.size, workDir: work, timeoutMs: 300_000,
      settings: { ...consumerDefaults, ...testWindows, idleTimeoutMs: Number(idle.CONSUMER_IDLE_TIMEOUT_MS) },
    });
    assert.equal(run.windows, expected.results.size);

    const ours = await committedWindows(kafka, topics.processed);
    const peer = await committedWindows(kafka, peerTopics.processed);
    peerWindows = { differences: windowDifferences(ours, peer), peer, expected: expected.results };
    const admin = kafka.admin();
    await admin.connect();
    try {
      peerLate = { actual: lateOf(await readAll(kafka, admin, peerTopics.late)), expected: expected.late };
      const deadLetters = await readAll(kafka, admin, peerTopics.deadLetter);
      assert.equal(deadLetters.length, malformed);
      assert.ok(deadLetters.every((d) => d.headers.origin === 'streams-peer' && d.headers.reason && d.headers['source.topic'] === topics.raw), 'each with its reason and origin');
    } finally {
      await admin.disconnect();
    }
  });

  it('the peer\'s committed windows equal ours and the oracle\'s', () => {
    assert.ok(peerWindows, 'the peer ran');
    assert.deepEqual(peerWindows.differences, []);
    assert.deepEqual(peerWindows.peer, peerWindows.expected);
  });

  it('the peer\'s late records equal the oracle\'s', () => {
    assert.ok(peerLate, 'the peer ran');
    assert.deepEqual(peerLate.actual, peerLate.expected);
  });
});
