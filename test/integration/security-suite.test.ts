// The security suite: the stack's rendered broker, its certificates and its least-privilege ACLs,
// probed with clients we did not write (kcat and Kafka's own Java tools). Each case names the
// refusal it expects; the table of cases and outcomes is printed at the end.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aclProvider } from '../../infra/kafka-admin/acl-provider';
import type { AdminConnection } from '../../infra/kafka-admin/connection';
import { internalTopicsProvider } from '../../infra/kafka-admin/internal-topics';
import { topicProvider } from '../../infra/kafka-admin/topic-provider';
import { validateStackConfig } from '../../infra/config/stack-config';
import { clientParams } from '../../infra/pki/pki-params';
import { renderGrafanaContainer, renderPrometheusContainer } from '../../infra/render/monitoring-containers';
import { aclBindings, leastPrivilegeRules } from '../../infra/security/acl-rules';
import { defaultTopics } from '../../services/core/topics';
import { kafkaVersion, repoRoot } from '../../tools/kafka/kafka-runtime';
import {
  javaAddAndListAcl, javaConsume, javaCreateTopic, javaProduce, javaTransactionalProduce, kcatConsume, kcatProduce,
  kcatVisibleTopics, writeIdentity, type IdentityFiles, type Outcome,
} from '../support/cli-clients';
import { opensslExtensions, opensslSubject, TestPki, type IssuedCertificate } from '../support/test-pki';
import { readStackFile } from '../support/stack-under-mocks';
import { startTlsCluster, type TlsCluster } from '../support/tls-cluster';

/** A certificate of the right CA whose validity ended yesterday (`openssl ca` is the tool that can backdate). */
function expiredCertificate(pki: TestPki, principal: string): IssuedCertificate {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expired-cert-'));
  const sh = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  try {
    writeFileSync(path.join(dir, 'ca.pem'), pki.ca.certPem);
    writeFileSync(path.join(dir, 'ca-key.pem'), pki.ca.keyPem, { mode: 0o600 });
    writeFileSync(path.join(dir, 'index.txt'), '');
    writeFileSync(path.join(dir, 'ext.cnf'), opensslExtensions(clientParams(pki.settings, principal)));
    writeFileSync(path.join(dir, 'ca.cnf'), [
      '[ca]', 'default_ca=test', '[test]', `dir=${dir}`, 'database=$dir/index.txt', 'new_certs_dir=$dir', 'default_md=sha256',
      'policy=any', 'serial=$dir/serial', 'unique_subject=no', '[any]', 'commonName=supplied', '',
    ].join('\n'));
    writeFileSync(path.join(dir, 'serial'), '1000\n');
    const yesterday = new Date(Date.now() - 86_400_000);
    const stamp = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    sh(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem']);
    sh(['req', '-new', '-key', 'key.pem', '-subj', opensslSubject(clientParams(pki.settings, principal).subject), '-out', 'csr.pem']);
    sh(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca-key.pem', '-in', 'csr.pem', '-out', 'cert.pem', '-notext',
      '-startdate', stamp(new Date(yesterday.getTime() - 86_400_000)), '-enddate', stamp(yesterday), '-extfile', 'ext.cnf', '-extensions', 'v3']);
    return { certPem: readFileSync(path.join(dir, 'cert.pem'), 'utf8'), keyPem: readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Row { client: string; identity: string; action: string; expected: Outcome; actual: Outcome }

describe('security suite: independent clients against the stack\'s broker configuration', () => {
  let tls: TlsCluster;
  let bootstrap: string;
  let dir: string;
  const rows: Row[] = [];
  const id: Record<string, IdentityFiles> = {};

  const expectOutcome = async (client: string, identity: string, action: string, expected: Outcome, run: () => Promise<Outcome>): Promise<void> => {
    const actual = await run();
    rows.push({ client, identity, action, expected, actual });
    assert.equal(actual, expected, `${client} as ${identity}: ${action}`);
  };

  before(async () => {
    tls = await startTlsCluster({ nodes: 1 });
    bootstrap = tls.cluster.bootstrap()[0]!;
    const connection: AdminConnection = { brokers: tls.cluster.bootstrap(), ca: tls.pki.ca.certPem, cert: tls.admin.certPem, key: tls.admin.keyPem };
    for (const name of Object.values(defaultTopics)) await topicProvider.create({ name, partitions: 1, replicationFactor: 1, config: {}, connection });
    const rules = leastPrivilegeRules({ groupPrefix: 'ecommerce-consumer', transactionalIdPrefix: 'ecommerce-consumer' });
    for (const binding of aclBindings(rules, defaultTopics)) await aclProvider.create({ ...binding, connection });
    await internalTopicsProvider.create({ connection });

    dir = mkdtempSync(path.join(os.tmpdir(), 'security-suite-'));
    const ca = tls.pki.ca.certPem;
    id.admin = writeIdentity(dir, 'admin', ca, tls.admin);
    id.producer = writeIdentity(dir, 'producer', ca, tls.pki.client('producer'));
    id.consumer = writeIdentity(dir, 'consumer', ca, tls.pki.client('consumer'));
    id.stranger = writeIdentity(dir, 'stranger', ca, tls.pki.client('stranger'));
    id.anonymous = writeIdentity(dir, 'no-client-cert', ca);
    id.foreign = writeIdentity(dir, 'foreign-ca', ca, TestPki.create().client('producer'));
    id.expired = writeIdentity(dir, 'expired', ca, expiredCertificate(tls.pki, 'producer'));
  });

  after(async () => {
    if (rows.length > 0) {
      const table = [['client', 'identity', 'action', 'expected', 'outcome', ''], ...rows.map((r) => [r.client, r.identity, r.action, r.expected, r.actual, r.actual === r.expected ? 'PASS' : 'FAIL'])];
      const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
      process.stdout.write(`\n${table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n')}\n\n`);
    }
    await tls?.cluster.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('transport: plaintext, no client certificate, a foreign CA and an expired certificate are all refused', async () => {
    await expectOutcome('kcat', 'none', 'plaintext produce', 'not TLS (plaintext refused)', () => kcatProduce(bootstrap, 'plaintext', defaultTopics.raw));
    await expectOutcome('kcat', 'no client cert', 'produce raw', 'handshake: no client certificate', () => kcatProduce(bootstrap, id.anonymous!, defaultTopics.raw));
    await expectOutcome('kafka-console-producer', 'no client cert', 'produce raw', 'handshake: no client certificate', () => javaProduce(bootstrap, id.anonymous!, defaultTopics.raw));
    await expectOutcome('kcat', 'producer (foreign CA)', 'produce raw', 'handshake: untrusted certificate', () => kcatProduce(bootstrap, id.foreign!, defaultTopics.raw));
    // TLS has no alert that tells a client its certificate expired: the broker answers
    // certificate_unknown, as for a foreign CA. What sets this case apart is that expiry is the
    // certificate's only fault: OpenSSL, given the right CA, rejects it for that reason alone.
    await expectOutcome('kcat', 'producer (expired)', 'produce raw', 'handshake: untrusted certificate', () => kcatProduce(bootstrap, id.expired!, defaultTopics.raw));
    await expectOutcome('openssl verify', 'producer (expired)', 'why the CA-signed certificate fails', 'handshake: certificate expired', async () => {
      const verify = spawnSync('openssl', ['verify', '-CAfile', id.expired!.ca, id.expired!.cert!], { encoding: 'utf8' });
      const output = `${verify.stdout}${verify.stderr}`;
      return /certificate has expired/.test(output) && !/unable to get local issuer/.test(output) ? 'handshake: certificate expired' : `unexpected: ${output.trim()}`;
    });
  });

  it('producer: writes the raw topic; cannot read it, cannot touch the processed topic', async () => {
    await expectOutcome('kcat', 'producer', 'produce raw', 'ok', () => kcatProduce(bootstrap, id.producer!, defaultTopics.raw));
    await expectOutcome('kafka-console-producer', 'producer', 'produce raw (idempotent, acks=all)', 'ok', () => javaProduce(bootstrap, id.producer!, defaultTopics.raw));
    await expectOutcome('kcat', 'producer', 'read raw', 'denied: topic', () => kcatConsume(bootstrap, id.producer!, defaultTopics.raw));
    await expectOutcome('kafka-console-consumer', 'producer', 'read raw in the consumer\'s group', 'denied: group', () => javaConsume(bootstrap, id.producer!, defaultTopics.raw, 'ecommerce-consumer'));
    await expectOutcome('kcat', 'producer', 'produce processed', 'denied: topic', () => kcatProduce(bootstrap, id.producer!, defaultTopics.processed));
    await expectOutcome('kcat', 'producer', 'read processed', 'denied: topic', () => kcatConsume(bootstrap, id.producer!, defaultTopics.processed));
  });

  it('consumer: reads raw in its own group; cannot write raw, use another group or another transactional id', async () => {
    await expectOutcome('kafka-console-consumer', 'consumer', 'read raw in group ecommerce-consumer-probe', 'ok', () => javaConsume(bootstrap, id.consumer!, defaultTopics.raw, 'ecommerce-consumer-probe'));
    await expectOutcome('kcat', 'consumer', 'produce raw', 'denied: topic', () => kcatProduce(bootstrap, id.consumer!, defaultTopics.raw));
    await expectOutcome('kafka-console-consumer', 'consumer', 'read raw in group someone-else', 'denied: group', () => javaConsume(bootstrap, id.consumer!, defaultTopics.raw, 'someone-else'));
    await expectOutcome('ProducerPerformance', 'consumer', 'transaction as ecommerce-consumer-1', 'ok', () => javaTransactionalProduce(bootstrap, id.consumer!, defaultTopics.processed, 'ecommerce-consumer-1'));
    await expectOutcome('ProducerPerformance', 'consumer', 'transaction as other-app-1', 'denied: transactional id', () => javaTransactionalProduce(bootstrap, id.consumer!, defaultTopics.processed, 'other-app-1'));
  });

  it('an unknown identity signed by the right CA is denied everything', async () => {
    await expectOutcome('kcat', 'stranger', 'produce raw', 'denied: topic', () => kcatProduce(bootstrap, id.stranger!, defaultTopics.raw));
    await expectOutcome('kcat', 'stranger', 'read raw', 'denied: topic', () => kcatConsume(bootstrap, id.stranger!, defaultTopics.raw));
    await expectOutcome('kafka-console-consumer', 'stranger', 'read raw in the consumer\'s group', 'denied: topic', () => javaConsume(bootstrap, id.stranger!, defaultTopics.raw, 'ecommerce-consumer'));
    await expectOutcome('kafka-topics', 'stranger', 'create a topic', 'denied: topic', () => javaCreateTopic(bootstrap, id.stranger!, 'stranger-topic'));
    const visible = await kcatVisibleTopics(bootstrap, id.stranger!, Object.values(defaultTopics));
    rows.push({ client: 'kcat', identity: 'stranger', action: 'list topics', expected: 'ok', actual: Array.isArray(visible) && visible.length === 0 ? 'ok' : `unexpected: sees ${String(visible)}` });
    assert.deepEqual(visible, []);
  });

  it('monitoring: Prometheus and Grafana listen on 127.0.0.1 only, Grafana refuses anonymous users (rendered specs)', async () => {
    for (const stack of ['dev', 'prod']) {
      const config = validateStackConfig(readStackFile(stack), { stack, kafkaVersion: kafkaVersion(), repoRoot });
      const input = { namePrefix: config.namePrefix, bindAddress: config.kafka.bindAddress, monitoring: config.monitoring, services: config.services };
      const specs = [renderPrometheusContainer(input), renderGrafanaContainer({ ...input, adminPassword: 'a-generated-secret-of-32-chars!!' })];
      for (const spec of specs) {
        await expectOutcome('rendered spec', stack, `${spec.name} published ports`, 'ok', async () =>
          spec.ports.length > 0 && spec.ports.every((p) => p.ip === '127.0.0.1') ? 'ok' : `unexpected: ${JSON.stringify(spec.ports)}`);
      }
      const grafana = specs[1]!.env;
      await expectOutcome('rendered spec', stack, 'Grafana anonymous access and sign-up', 'ok', async () =>
        grafana.GF_AUTH_ANONYMOUS_ENABLED === 'false' && grafana.GF_USERS_ALLOW_SIGN_UP === 'false' && grafana.GF_SECURITY_ADMIN_PASSWORD === 'a-generated-secret-of-32-chars!!'
          ? 'ok' : `unexpected: ${JSON.stringify({ anonymous: grafana.GF_AUTH_ANONYMOUS_ENABLED, signUp: grafana.GF_USERS_ALLOW_SIGN_UP })}`);
    }
  });

  it('admin: can do what the program needs (topics, ACLs)', async () => {
    await expectOutcome('kafka-topics', 'admin', 'create + describe a topic', 'ok', () => javaCreateTopic(bootstrap, id.admin!, 'admin-made-topic'));
    await expectOutcome('kafka-acls', 'admin', 'add + list an ACL', 'ok', () => javaAddAndListAcl(bootstrap, id.admin!, 'auditor', 'admin-made-topic'));
    await expectOutcome('kcat', 'admin', 'read raw', 'ok', () => kcatConsume(bootstrap, id.admin!, defaultTopics.raw));
  });
});
