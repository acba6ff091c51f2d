// The consumer as deployed: mutual TLS with the `consumer` certificate against the stack's rendered
// broker, with exactly the least-privilege ACL table and nothing more. Everything the two stages
// do (groups, restore groups, transactional ids, offsets with metadata, every topic) must fit in it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import { createAcl } from '../../infra/kafka-admin/acl-provider';
import { ensureInternalTopics } from '../../infra/kafka-admin/internal-topics';
import { aclBindings, leastPrivilegeRules } from '../../infra/security/acl-rules';
import { runService, startService, stopService, type Service } from '../../tools/service-process';
import { generateRawPartitions } from '../support/consumer-events';
import { createTopics, produceRaw, readAll, topicEnv, topicNames, waitFor } from '../support/consumer-run';
import { oracle, type OracleEvent, type OracleOptions } from '../support/oracle';
import { startTlsCluster, type TlsCluster } from '../support/tls-cluster';

const windows: OracleOptions = { tumblingSizeMs: 10_000, slidingSizeMs: 20_000, slidingAdvanceMs: 5_000, graceMs: 2_000, groupBy: ['category', 'overall'], topN: 5 };

describe('consumer over mTLS with least-privilege ACLs', () => {
  let tls: TlsCluster;
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Service | undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'consumer-mtls-'));
  const topics = topicNames('mtls');

  before(async () => {
    tls = await startTlsCluster({ nodes: 1 });
    kafka = tls.cluster.kafka({ retry: { retries: 15, initialRetryTime: 300, maxRetryTime: 5_000 } });
    admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, topics, { raw: 2, repartition: 3 });
    for (const binding of aclBindings(leastPrivilegeRules({ groupPrefix: 'ecommerce-consumer', transactionalIdPrefix: 'ecommerce-consumer' }), topics)) {
      await createAcl(admin, binding);
    }
    await ensureInternalTopics(kafka, admin);
  });
  after(async () => {
    if (consumer) await stopService(consumer, { signal: 'SIGKILL' });
    await admin?.disconnect();
    await tls?.cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The consumer's environment as deployed (mutual TLS, the consumer certificate), plus `extra`. */
  function deployedEnv(extra: Record<string, string> = {}): Record<string, string> {
    const identity = tls.pki.client('consumer');
    writeFileSync(path.join(dir, 'ca.pem'), tls.pki.ca.certPem);
    writeFileSync(path.join(dir, 'consumer.pem'), identity.certPem);
    writeFileSync(path.join(dir, 'consumer-key.pem'), identity.keyPem, { mode: 0o600 });
    return {
      ...topicEnv(topics), KAFKA_BROKERS: tls.cluster.bootstrap().join(','), KAFKA_SECURITY_PROTOCOL: 'SSL',
      KAFKA_SSL_CA_LOCATION: path.join(dir, 'ca.pem'), KAFKA_SSL_CERTIFICATE_LOCATION: path.join(dir, 'consumer.pem'), KAFKA_SSL_KEY_LOCATION: path.join(dir, 'consumer-key.pem'),
      METRICS_PORT: '0', LOG_LEVEL: 'info', ...extra,
    };
  }

  /** Runs a consumer that must fail, to its exit (killed after a minute: a hang is a failure too). */
  async function failingRun(name: string, extra: Record<string, string>): Promise<{ code: number | null; log: string }> {
    return runService('consumer', deployedEnv(extra), path.join(dir, `${name}.log`), { timeoutMs: 60_000 });
  }

  it('names the cause when its group is outside the ACL prefix: "group authorization failed for <group>" (issue 15)', { timeout: 120_000 }, async () => {
    const { code, log } = await failingRun('other-group', { CONSUMER_GROUP_ID: 'analytics-team', CONSUMER_SESSION_TIMEOUT_MS: '6000' });
    assert.notEqual(code, 0, log);
    assert.match(log, /group authorization failed for analytics-team/);
    assert.doesNotMatch(log, /Failed to find group coordinator/);
  });

  it('says the broker expects TLS when started with KAFKA_SECURITY_PROTOCOL=PLAINTEXT, before any retry (issue 15)', { timeout: 120_000 }, async () => {
    const { code, log } = await failingRun('plaintext', { KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' });
    assert.equal(code, 2, log);
    assert.match(log, /^consumer: invalid configuration:\n {2}- KAFKA_SECURITY_PROTOCOL=PLAINTEXT, but the broker at \S+ expects TLS/m);
    assert.doesNotMatch(log, /Closed connection/);
  });

  it('processes a dataset to the oracle\'s results, and exports its metrics', { timeout: 120_000 }, async () => {
    const raw = generateRawPartitions({
      seed: 404, partitions: 2, eventsPerPartition: 400, start: 1_700_000_000_000, stepMs: 200, jitterMs: 3_000,
      lateShare: 0.03, lateByMs: 10_000, boundaryMs: 5_000, boundaryShare: 0.1, malformedShare: 0.02,
    });
    const valid = raw.map((ms) => ms.filter((m) => !m.malformed).map((m) => JSON.parse(m.value) as OracleEvent));
    const expected = oracle(valid, windows);
    await produceRaw(kafka, topics.raw, raw);
    const identity = tls.pki.client('consumer');
    writeFileSync(path.join(dir, 'ca.pem'), tls.pki.ca.certPem);
    writeFileSync(path.join(dir, 'consumer.pem'), identity.certPem);
    writeFileSync(path.join(dir, 'consumer-key.pem'), identity.keyPem, { mode: 0o600 });
    consumer = startService('consumer', {
      ...topicEnv(topics),
      KAFKA_BROKERS: tls.cluster.bootstrap().join(','),
      KAFKA_SECURITY_PROTOCOL: 'SSL',
      KAFKA_SSL_CA_LOCATION: path.join(dir, 'ca.pem'),
      KAFKA_SSL_CERTIFICATE_LOCATION: path.join(dir, 'consumer.pem'),
      KAFKA_SSL_KEY_LOCATION: path.join(dir, 'consumer-key.pem'),
      WINDOW_TUMBLING_SIZE_MS: String(windows.tumblingSizeMs), WINDOW_SLIDING_SIZE_MS: String(windows.slidingSizeMs),
      WINDOW_SLIDING_ADVANCE_MS: String(windows.slidingAdvanceMs), WINDOW_GRACE_MS: String(windows.graceMs), WINDOW_TOP_N: String(windows.topN),
      CONSUMER_IDLE_TIMEOUT_MS: '2000', CONSUMER_SESSION_TIMEOUT_MS: '6000', CONSUMER_MAX_BYTES_PER_PARTITION: '16384',
      METRICS_PORT: '0', LOG_LEVEL: 'info',
    }, path.join(dir, 'consumer.log'));
    const running = consumer;
    await waitFor(`${expected.results.size} window results`, async () => {
      if (running.child.exitCode !== null) throw new Error(`consumer exited with ${running.child.exitCode}:\n${running.log().slice(-4000)}`);
      return (await readAll(kafka, admin, topics.processed)).length >= expected.results.size;
    }, 90_000, 1500);

    const port = /"metricsPort":(\d+)/.exec(running.log())?.[1];
    assert.ok(port, 'the consumer logs its metrics port');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // A series by name and labels, in any label order (stage 2's metrics come from its thread, merged per scrape).
    const canonical = (series: string): string => {
      const match = /^([^{\s]+)(?:\{(.*)\})?$/.exec(series);
      return `${match?.[1]}{${(match?.[2] ?? '').split(',').filter(Boolean).sort().join(',')}}`;
    };
    const samples = new Map(metrics.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => [canonical(l.slice(0, l.lastIndexOf(' '))), Number(l.slice(l.lastIndexOf(' ') + 1))]));
    const value = (series: string) => samples.get(canonical(series)) ?? Number.NaN;
    const tumbling = [...expected.results.values()].filter((r) => r.windowKind === 'tumbling');
    assert.equal(value('consumer_windows_emitted_total{window="tumbling",service="consumer"}'), tumbling.length);
    assert.equal(value('consumer_events_consumed_total{service="consumer"}'), raw.flat().length);
    assert.equal(value('consumer_dead_letter_total{reason="eventType",service="consumer"}'), raw.flat().filter((m) => m.malformed === 'eventType').length);
    assert.ok(value('consumer_transactions_total{result="commit",service="consumer"}') > 0);
    assert.ok(value('consumer_processing_duration_seconds_count{service="consumer",stage="windows"}') > 0, 'window batches are timed');
    const electronics = tumbling.filter((r) => r.key === 'category:electronics').reduce((sum, r) => sum + (r.revenue as number), 0);
    assert.ok(Math.abs(value('consumer_window_revenue_total{category="electronics",service="consumer"}') - electronics) < 1e-6);

    assert.equal(await stopService(running), 0, 'SIGTERM exits 0');
    const processed = await readAll(kafka, admin, topics.processed);
    assert.equal(processed.length, expected.results.size);
    assert.deepEqual(new Map(processed.map((r) => [r.key!, JSON.parse(r.value!) as unknown])), expected.results);
    assert.doesNotMatch(running.log(), /authoriz/i, 'no authorization failure anywhere');
  });
});
