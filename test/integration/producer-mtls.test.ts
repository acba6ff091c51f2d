// The producer as deployed: the CLI over mutual TLS with the `producer` certificate, against the
// stack's rendered broker with exactly the least-privilege ACL table. It needs nothing more than
// WRITE+DESCRIBE on its two topics; with a certificate lacking them it exits 4 and says so.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import { createAcl } from '../../infra/kafka-admin/acl-provider';
import { aclBindings, leastPrivilegeRules } from '../../infra/security/acl-rules';
import { controlHeader, endOfInput } from '../../services/core/end-of-input';
import { defaultTopics } from '../../services/core/topics';
import { writeGeneratedCsv } from '../../services/producer/generator';
import { exitCodes } from '../../services/producer/exit-codes';
import { runService } from '../../tools/service-process';
import { consumeUntil } from '../support/consume';
import { startTlsCluster, type TlsCluster } from '../support/tls-cluster';

describe('producer over mTLS with least-privilege ACLs', () => {
  let tls: TlsCluster;
  let kafka: Kafka;
  let admin: Admin;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'producer-mtls-'));

  before(async () => {
    tls = await startTlsCluster({ nodes: 1 });
    kafka = tls.cluster.kafka();
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: defaultTopics.raw, numPartitions: 3 }, { topic: defaultTopics.deadLetter, numPartitions: 1 },
        { topic: defaultTopics.sourceOffsets, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
      waitForLeaders: true,
    });
    for (const binding of aclBindings(leastPrivilegeRules({ groupPrefix: 'ecommerce-consumer', transactionalIdPrefix: 'ecommerce-consumer' }), defaultTopics)) {
      await createAcl(admin, binding);
    }
  });
  after(async () => {
    await admin?.disconnect();
    await tls?.cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let runs = 0;
  /** Runs `npm run produce`'s entry point as the container does: settings from env, identity from PEM files. */
  async function produceAs(identity: string, file: string, extra: Record<string, string> = {}): Promise<{ code: number | null; log: string }> {
    const certificate = tls.pki.client(identity);
    writeFileSync(path.join(dir, 'ca.pem'), tls.pki.ca.certPem);
    writeFileSync(path.join(dir, `${identity}.pem`), certificate.certPem);
    writeFileSync(path.join(dir, `${identity}-key.pem`), certificate.keyPem, { mode: 0o600 });
    return runService('producer', {
      KAFKA_BROKERS: tls.cluster.bootstrap().join(','), KAFKA_SECURITY_PROTOCOL: 'SSL',
      KAFKA_SSL_CA_LOCATION: path.join(dir, 'ca.pem'), KAFKA_SSL_CERTIFICATE_LOCATION: path.join(dir, `${identity}.pem`),
      KAFKA_SSL_KEY_LOCATION: path.join(dir, `${identity}-key.pem`), PRODUCER_FILE: file, PRODUCER_BATCH_MESSAGES: '1000',
      METRICS_PORT: '0', LOG_LEVEL: 'warn', ...extra,
    }, path.join(dir, `producer-${++runs}.log`), { baseEnv: { PATH: process.env.PATH }, timeoutMs: 90_000 });
  }

  it('streams a file with the producer certificate, in transactions with its position: every row on its topic', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'events.csv.gz');
    const summary = await writeGeneratedCsv(file, { rows: 5000, seed: 21, malformedRate: 0.02, gzip: true });
    const { code, log } = await produceAs('producer', file);
    assert.equal(code, exitCodes.ok, log);
    const good = summary.rows - summary.malformed;
    assert.match(log, new RegExp(`read 5000 = sent ${good} \\+ rejected ${summary.malformed} `));
    // The events, then one end-of-input marker per partition.
    const records = await consumeUntil(kafka, defaultTopics.raw, (r) => r.length >= good + 3, { timeoutMs: 30_000 });
    assert.equal(records.filter((r) => r.headers[controlHeader] === undefined).length, good);
    assert.equal(records.filter((r) => r.headers[controlHeader] === endOfInput).length, 3);
    const dead = await consumeUntil(kafka, defaultTopics.deadLetter, (r) => r.length >= summary.malformed, { timeoutMs: 30_000 });
    assert.equal(dead.length, summary.malformed);
  });

  it('with KAFKA_SECURITY_PROTOCOL=PLAINTEXT says the broker expects TLS and exits 2, before any retry (issue 15)', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'plaintext.csv');
    await writeGeneratedCsv(file, { rows: 10, seed: 23 });
    const { code, log } = await produceAs('producer', file, { KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' });
    assert.equal(code, exitCodes.config, log);
    assert.match(log, /KAFKA_SECURITY_PROTOCOL=PLAINTEXT, but the broker at \S+ expects TLS .*set KAFKA_SECURITY_PROTOCOL=SSL/);
    assert.doesNotMatch(log, /Closed connection/);
  });

  it('exits 4 before reading a row when another identity tries to be the producer', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'refused.csv');
    await writeGeneratedCsv(file, { rows: 3000, seed: 22 });
    // The consumer certificate may neither use the producer's transactional id nor write the raw topic.
    const { code, log } = await produceAs('consumer', file);
    assert.equal(code, exitCodes.kafka, log);
    assert.doesNotMatch(log, /read \d+/);
    assert.match(log, /cannot start as transactional id ecommerce-producer .*authorized/);
  });
});
