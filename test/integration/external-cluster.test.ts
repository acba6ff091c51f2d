// kafka.mode external against "the existing cluster": a 3-node KRaft cluster started outside any
// stack, once with mutual TLS and once with SASL_SSL/SCRAM-SHA-512 on its client listener. The
// external-mode program's own resource code (cluster check, SCRAM users as the serialized provider
// ships them, topics, ACLs for the cluster's principal names, internal topics) runs against it as
// the cluster's admin; then the real producer and consumer, with the environment the stack renders
// for their containers, run the pipeline, whose windows must equal the SQL oracle. The new
// identities get only what the ACLs grant, and no rendered container holds the admin's credentials.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Admin, type KafkaConfig } from 'kafkajs';
import { validateStackConfig, type StackConfig } from '../../infra/config/stack-config';
import { aclProvider } from '../../infra/kafka-admin/acl-provider';
import { clusterCheckProvider } from '../../infra/kafka-admin/cluster-check';
import type { AdminConnection } from '../../infra/kafka-admin/connection';
import { internalTopicsProvider } from '../../infra/kafka-admin/internal-topics';
import { scramUserProvider } from '../../infra/kafka-admin/scram-users';
import { topicProvider } from '../../infra/kafka-admin/topic-provider';
import { renderConsumerContainers, renderProducerContainer, serviceTlsPaths, type ClientCredentials, type ServiceContainerInput } from '../../infra/render/service-containers';
import { aclBindings } from '../../infra/security/acl-rules';
import { writeGeneratedCsv } from '../../services/producer/generator';
import type { TopicRole } from '../../services/core/topics';
import { KafkaCluster } from '../../tools/kafka/kafka-cluster';
import { kafkaVersion, repoRoot } from '../../tools/kafka/kafka-runtime';
import { startService, stopService, type Service } from '../../tools/service-process';
import { readAll, waitFor } from '../support/consumer-run';
import { kafkaErrorType, trySend, tryConsume } from '../support/kafka-denial';
import { serializedProvider } from '../support/serialized-provider';
import { keystoreFile, loopbackServerProperties, startTlsCluster, truststoreFile } from '../support/tls-cluster';
import { TestPki } from '../support/test-pki';
import { renderServerProperties } from '../../infra/render/server-properties';

type Mode = 'mtls' | 'scram-sha-512';
type Names = Record<TopicRole, string>;

interface ExistingCluster {
  cluster: KafkaCluster;
  admin: AdminConnection;
  /** kafkajs settings for a given identity on the client listener. */
  client: (identity: ClientCredentials) => Pick<KafkaConfig, 'ssl' | 'sasl'>;
}

const adminPassword = 'admin-password-of-the-existing-cluster';

/** The cluster someone else runs: the stack's broker properties, with SCRAM-SHA-512 on the client listener for the scram mode. */
async function existingCluster(mode: Mode, pki: TestPki): Promise<ExistingCluster> {
  // Both clusters get a start budget for three JVMs on a loaded 2-core machine.
  const files = (nodeId: number): Record<string, string> => {
    const cert = pki.broker(nodeId);
    return { [keystoreFile]: `${cert.keyPem.trim()}\n${cert.certPem.trim()}\n`, [truststoreFile]: pki.ca.certPem };
  };
  if (mode === 'mtls') {
    const tls = await startTlsCluster({ nodes: 3, pki, startTimeoutMs: 240_000 });
    const admin = { brokers: tls.cluster.bootstrap(), ca: pki.ca.certPem, cert: tls.admin.certPem, key: tls.admin.keyPem };
    return { cluster: tls.cluster, admin, client: (c) => ({ ssl: { ca: [c.caCertPem], ...('certPem' in c ? { cert: c.certPem, key: c.keyPem } : {}), rejectUnauthorized: true } }) };
  }
  const scram = (username: string, password: string): Pick<KafkaConfig, 'ssl' | 'sasl'> => ({ ssl: { ca: [pki.ca.certPem], rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username, password } });
  const cluster = await KafkaCluster.start({
    nodes: 3,
    properties: (ctx) => renderServerProperties(loopbackServerProperties(ctx, { controllerTls: false, organization: pki.settings.organization }))
      .replace('EXTERNAL:SSL', 'EXTERNAL:SASL_SSL')
      .concat([
        'sasl.enabled.mechanisms=SCRAM-SHA-512',
        'listener.name.external.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required ;',
        // A SASL_SSL listener asks for no client certificate.
        'listener.name.external.ssl.client.auth=none',
        '',
      ].join('\n')),
    files: (ctx) => files(ctx.nodeId),
    // The cluster's admin user exists from the start, as on a managed service.
    formatArgs: ['--add-scram', `SCRAM-SHA-512=[name=admin,password=${adminPassword}]`],
    client: scram('admin', adminPassword),
    startTimeoutMs: 240_000,
  });
  const admin: AdminConnection = { brokers: cluster.bootstrap(), ca: pki.ca.certPem, sasl: { mechanism: 'scram-sha-512', username: 'admin', password: adminPassword } };
  return { cluster, admin, client: (c) => ('username' in c ? scram(c.username, c.password) : { ssl: { ca: [c.caCertPem], rejectUnauthorized: true } }) };
}

function externalConfig(mode: Mode, bootstrap: string[]): StackConfig {
  const stack = `ext-${mode === 'mtls' ? 'mtls' : 'scram'}`;
  return validateStackConfig({
    kafka: { mode: 'external', external: { bootstrapServers: bootstrap, brokerCount: 3, authentication: mode, clients: mode === 'mtls' ? 'given-certificates' : 'scram-sha-512' } },
  }, { stack, kafkaVersion: kafkaVersion(), repoRoot });
}

for (const mode of ['mtls', 'scram-sha-512'] as const) {
  describe(`external cluster (${mode}): the program's resources and the real services on a cluster it does not run`, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `external-${mode}-`));
    const pki = TestPki.create();
    let existing: ExistingCluster;
    let config: StackConfig;
    let names: Names;
    let identities: Record<'producer' | 'consumer', ClientCredentials>;
    let specs: ReturnType<typeof renderConsumerContainers>;
    let admin: Admin;
    let adminKafka: Kafka;
    let producer: Service | undefined;
    let consumer: Service | undefined;
    let oracle: { windows: { windowKind: string; key: string; windowStartMs: number; events: number; purchases: number; revenue: number }[]; rejected: number; rows: number };
    const csv = path.join(dir, 'events.csv');

    before(async () => {
      existing = await existingCluster(mode, pki);
      config = externalConfig(mode, existing.cluster.bootstrap());
      const ext = config.kafka.external!;
      const connection = existing.admin;
      const check = await clusterCheckProvider.check!({} as never, { connection, clusterKey: 'k', replication: config.topics.map((t) => ({ key: t.role, replicationFactor: t.replicationFactor })) });
      assert.deepEqual(check.failures, [], 'the cluster check refuses a cluster that can host the stack');
      if (mode === 'scram-sha-512') {
        const users = await serializedProvider(scramUserProvider);
        const password = (who: string): string => `${who}-password-${Math.random().toString(36).slice(2)}`;
        const made = { producer: password('producer'), consumer: password('consumer') };
        for (const who of ['producer', 'consumer'] as const) await users.create({ connection, username: ext.principals[who], password: made[who] });
        identities = {
          producer: { caCertPem: pki.ca.certPem, username: ext.principals.producer, password: made.producer },
          consumer: { caCertPem: pki.ca.certPem, username: ext.principals.consumer, password: made.consumer },
        };
      } else {
        const cert = (who: string): ClientCredentials => ({ caCertPem: pki.ca.certPem, ...pki.client(who) });
        identities = { producer: cert('producer'), consumer: cert('consumer') };
      }
      names = Object.fromEntries(config.topics.map((t) => [t.role, t.name])) as Names;
      for (const t of config.topics) await topicProvider.create({ name: t.name, partitions: t.partitions, replicationFactor: t.replicationFactor, config: t.config, connection });
      for (const binding of aclBindings(config.aclRules, names, ext.principals)) await aclProvider.create({ ...binding, connection });
      await internalTopicsProvider.create({ connection });
      adminKafka = new Kafka({ brokers: existing.cluster.bootstrap(), logLevel: logLevel.NOTHING, ...existing.client(mode === 'mtls' ? { caCertPem: pki.ca.certPem, ...pki.client('admin') } : { caCertPem: pki.ca.certPem, username: 'admin', password: adminPassword }) });
      admin = adminKafka.admin();
      await admin.connect();

      await writeGeneratedCsv(csv, { rows: 3_000, seed: 13, eventsPerSecond: 20, outOfOrderMs: 3_000, lateRate: 0.01, lateByMs: 300_000, malformedRate: 0.01 });
      const windows = config.services.consumer.settings;
      const run = spawnSync('python3', [path.join(repoRoot, 'test', 'oracle', 'windows_oracle.py'), JSON.stringify({
        partitions: config.topics.find((t) => t.role === 'raw')!.partitions, tumblingMs: windows.tumblingSizeMs, slidingMs: windows.slidingSizeMs,
        advanceMs: windows.slidingAdvanceMs, graceMs: windows.graceMs, topN: windows.topN, groupBy: windows.groupBy,
        // The producer ends its input with markers that close the last windows (issue 12).
        endOfInput: true,
      })], { input: readFileSync(csv), maxBuffer: 64 * 1024 * 1024 });
      assert.equal(run.status, 0, String(run.stderr));
      oracle = JSON.parse(String(run.stdout)) as typeof oracle;

      const input = (who: 'producer' | 'consumer'): ServiceContainerInput => ({
        namePrefix: config.namePrefix, image: 'local', kafka: config.kafka, services: config.services, topicNames: names, tls: identities[who], bootstrap: ext.bootstrapServers.join(','),
      });
      const producerSpec = renderProducerContainer(input('producer'));
      specs = [producerSpec, ...renderConsumerContainers(input('consumer'))];
      // The containers' files, written where a host process finds them.
      const local = (spec: (typeof specs)[number], who: string): Record<string, string> => {
        const moved: Record<string, string> = {};
        for (const upload of spec.uploads) {
          const where = Object.entries(serviceTlsPaths).find(([, p]) => p === upload.path);
          if (!where) continue;
          const file = path.join(dir, `${who}-${where[0]}`);
          writeFileSync(file, upload.content, { mode: 0o600 });
          for (const [k, v] of Object.entries(spec.env)) if (v === upload.path) moved[k] = file;
        }
        return { ...spec.env, ...moved };
      };
      producer = startService('producer', { ...local(producerSpec, 'producer'), METRICS_PORT: '0', PRODUCER_FILE: csv, PRODUCER_RATE: '1500' }, path.join(dir, 'producer.log'));
      consumer = startService('consumer', { ...local(specs[1]!, 'consumer'), METRICS_PORT: '0' }, path.join(dir, 'consumer.log'));
    });

    after(async () => {
      for (const service of [producer, consumer]) if (service) await stopService(service);
      await admin?.disconnect().catch(() => undefined);
      await existing?.cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const explain = (): string => `--- producer ---\n${producer!.tail()}\n--- consumer ---\n${consumer!.tail()}`;

    it('the services hold their own identities, never the admin\'s credentials', () => {
      const adminSecrets = mode === 'mtls' ? [existing.admin.cert!, existing.admin.key!] : [adminPassword];
      for (const spec of specs) {
        const text = JSON.stringify(spec);
        for (const secret of adminSecrets) assert.ok(!text.includes(secret.trim()), `${spec.name} holds the admin's credentials`);
        assert.ok(!Object.values(spec.env).some((v) => v === 'admin'), `${spec.name} runs as admin`);
      }
    });

    it('the pipeline\'s windows equal the oracle', async () => {
      assert.equal(await producer!.exited, 0, explain());
      let results: Record<string, unknown>[] = [];
      await waitFor('every final window', async () => {
        results = (await readAll(adminKafka, admin, names.processed)).map((r) => JSON.parse(r.value ?? '{}') as Record<string, unknown>);
        return results.length >= oracle.windows.length;
      }, 180_000, 2_000).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}: ${results.length}/${oracle.windows.length} windows\n${explain()}`, { cause: error });
      });
      const id = (w: Record<string, unknown>): string => `${String(w.windowKind)}|${String(w.key)}|${String(w.windowStartMs)}`;
      const got = new Map(results.map((r) => [id(r), r]));
      assert.equal(got.size, results.length, 'a window was emitted twice');
      assert.equal(results.length, oracle.windows.length);
      for (const want of oracle.windows) {
        const have = got.get(id(want));
        assert.ok(have, `missing ${id(want)}`);
        assert.deepEqual([have.events, have.purchases], [want.events, want.purchases], id(have));
        assert.ok(Math.abs(Number(have.revenue) - want.revenue) < 1e-6, `${id(have)} revenue ${String(have.revenue)} vs ${want.revenue}`);
      }
    });

    it('the new identities get only what the ACLs grant', async () => {
      const as = (identity: ClientCredentials): Kafka => new Kafka({
        brokers: existing.cluster.bootstrap(), logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 5_000, requestTimeout: 10_000, ...existing.client(identity),
      });
      const producerKafka = as(identities.producer);
      const consumerKafka = as(identities.consumer);
      assert.equal(await trySend(producerKafka, names.raw), 'ok');
      assert.equal(await trySend(producerKafka, names.processed), 'TOPIC_AUTHORIZATION_FAILED');
      assert.equal(await trySend(consumerKafka, names.raw), 'TOPIC_AUTHORIZATION_FAILED');
      // The group is refused at FindCoordinator (which kafkajs reports only as "Failed to find group
      // coordinator", see infra-security.test.ts) or, once a coordinator is known, at JoinGroup.
      const groupRefused = (outcome: string): boolean => ['Failed to find group coordinator', 'GROUP_AUTHORIZATION_FAILED'].includes(outcome);
      const ownGroup = `${config.services.consumer.settings.groupId}-probe`;
      const intruder = await tryConsume(producerKafka, names.raw, ownGroup);
      assert.ok(groupRefused(intruder), `the producer read the raw topic: ${intruder}`);
      const otherGroup = await tryConsume(consumerKafka, names.raw, 'not-our-group');
      assert.ok(groupRefused(otherGroup), `the consumer read in a group outside its prefix: ${otherGroup}`);
      assert.equal(await tryConsume(consumerKafka, names.processed, ownGroup), 'TOPIC_AUTHORIZATION_FAILED');
      assert.equal(await trySend(consumerKafka, names.processed), 'ok');
      const created = await consumerKafka.admin().createTopics({ topics: [{ topic: 'created-by-a-service' }] }).then(() => 'ok', kafkaErrorType);
      assert.notEqual(created, 'ok', 'a service created a topic');
      if (mode === 'scram-sha-512') {
        const wrong = await trySend(as({ caCertPem: pki.ca.certPem, username: config.kafka.external!.principals.producer, password: 'guessed' }), names.raw);
        assert.notEqual(wrong, 'ok', 'a wrong SCRAM password was accepted');
      }
    });
  });
}
