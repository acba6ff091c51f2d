// A CA replacement on a real three-node quorum (the stack's rendered properties, controller TLS as
// in prod), node by node as the rolling deploy does it, in the phases of infra/pki/pki-params.ts'
// caPlan. It starts where step 1 leaves the cluster (every trust store holds CA 1 and CA 2,
// certificates by CA 1). After every single node replacement, each node accepts clients signed by
// either CA, and every partition of a replication-3 topic is back in full ISR (the brokers, holding
// certificates of different CAs, replicate and form the quorum with each other).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { renderServerProperties } from '../../infra/render/server-properties';
import { KafkaCluster } from '../../tools/kafka/kafka-cluster';
import { keystoreFile, loopbackServerProperties, truststoreFile } from '../support/tls-cluster';
import { TestPki, testPkiSettings, type IssuedCertificate } from '../support/test-pki';

const topic = 'rotation-probe';

describe('CA rotation on a three-node quorum, one node at a time', () => {
  const ca1 = TestPki.create({ ...testPkiSettings, caGeneration: 1 });
  const ca2 = TestPki.create({ ...testPkiSettings, caGeneration: 2 });
  const bundle = (...pkis: TestPki[]): string => pkis.map((p) => `${p.ca.certPem.trim()}\n`).join('');
  const clients = { ca1: ca1.client('admin'), ca2: ca2.client('admin') };
  /** The harness's own readiness client: swapped to CA 2's admin once CA 1 is no longer trusted. */
  const readiness = { ssl: { ca: [bundle(ca1, ca2)], cert: clients.ca1.certPem, key: clients.ca1.keyPem, rejectUnauthorized: true } };
  let cluster: KafkaCluster;

  const keystore = (cert: IssuedCertificate): string => `${cert.keyPem.trim()}\n${cert.certPem.trim()}\n`;

  /** What a rolling deploy does to one node: new files, then a stop and start of that node alone. */
  async function replaceNode(nodeId: number, broker: IssuedCertificate, truststore: string): Promise<void> {
    const dir = cluster.context(nodeId).dir;
    writeFileSync(path.join(dir, keystoreFile), keystore(broker), { mode: 0o600 });
    writeFileSync(path.join(dir, truststoreFile), truststore, { mode: 0o600 });
    await cluster.restartNode(nodeId);
  }

  /** Connects to one node alone with a client certificate and trust bundle; resolves to the error, if any. */
  async function connectError(nodeId: number, client: IssuedCertificate, trust: string): Promise<string | undefined> {
    const ctx = cluster.context(nodeId);
    const kafka = new Kafka({
      brokers: [`${ctx.host}:${ctx.ports.external}`], logLevel: logLevel.NOTHING, connectionTimeout: 5_000, retry: { retries: 2 },
      ssl: { ca: [trust], cert: client.certPem, key: client.keyPem, rejectUnauthorized: true },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Every partition of the probe topic has all three replicas in sync, within a retry budget. */
  async function waitFullIsr(): Promise<void> {
    const admin = cluster.kafka().admin();
    await admin.connect();
    try {
      let last = '';
      for (let attempt = 0; attempt < 120; attempt++) {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch((e: Error) => ({ topics: [], error: e.message }));
        const partitions = meta.topics[0]?.partitions ?? [];
        const short = partitions.filter((p) => p.isr.length < 3).map((p) => `${p.partitionId}:isr=${p.isr.join(',')}`);
        if (partitions.length === 3 && short.length === 0) return;
        last = short.join(' ') || ('error' in meta ? meta.error : 'no metadata');
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.fail(`partitions of ${topic} not back in full ISR: ${last}`);
    } finally {
      await admin.disconnect();
    }
  }

  /** Each node, for each of the given clients (trusting `trust`), accepts or refuses as expected. */
  async function assertClients(expect: { accepted: IssuedCertificate[]; refused?: IssuedCertificate[]; trust: string }, when: string): Promise<void> {
    for (const nodeId of cluster.nodeIds) {
      for (const client of expect.accepted) assert.equal(await connectError(nodeId, client, expect.trust), undefined, `${when}: node ${nodeId} accepts ${client === clients.ca1 ? 'CA 1' : 'CA 2'}'s client`);
      for (const client of expect.refused ?? []) assert.notEqual(await connectError(nodeId, client, expect.trust), undefined, `${when}: node ${nodeId} refuses ${client === clients.ca1 ? 'CA 1' : 'CA 2'}'s client`);
    }
  }

  before(async () => {
    // Where step 1 (trustNext) leaves the cluster: certificates by CA 1, both CAs trusted.
    const brokers = new Map<number, IssuedCertificate>();
    cluster = await KafkaCluster.start({
      nodes: 3,
      heapMb: 384,
      // Three JVMs electing a quorum on a loaded two-core machine: a budget, not a wait.
      startTimeoutMs: 300_000,
      properties: (ctx) => renderServerProperties(loopbackServerProperties(ctx, { controllerTls: true, organization: testPkiSettings.organization })),
      files: (ctx) => {
        const cert = brokers.get(ctx.nodeId) ?? ca1.broker(ctx.nodeId);
        brokers.set(ctx.nodeId, cert);
        return { [keystoreFile]: keystore(cert), [truststoreFile]: bundle(ca1, ca2) };
      },
      client: readiness,
    });
    const admin = cluster.kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    await admin.disconnect();
  });

  after(async () => {
    await cluster?.stop();
  });

  it('step 1 (trustNext): clients of either CA connect to every node while every certificate is still CA 1\'s', () => cluster.guard(async () => {
    await assertClients({ accepted: [clients.ca1, clients.ca2], trust: bundle(ca1, ca2) }, 'trustNext');
    await waitFullIsr();
  })());

  it('step 2 (trustPrevious): nodes re-issued by CA 2 one at a time; mixed CAs replicate, both clients connect throughout', () => cluster.guard(async () => {
    for (const nodeId of cluster.nodeIds) {
      await replaceNode(nodeId, ca2.broker(nodeId), bundle(ca2, ca1));
      await waitFullIsr();
      await assertClients({ accepted: [clients.ca1, clients.ca2], trust: bundle(ca2, ca1) }, `trustPrevious, node ${nodeId} replaced`);
    }
    // Why step 1 comes first: a client that never learnt CA 2 cannot verify the re-issued brokers.
    assert.notEqual(await connectError(1, clients.ca1, bundle(ca1)), undefined, 'a client trusting CA 1 alone refuses a CA 2 broker');
  })());

  // Step 3 drops CA 1 node by node; the first replacement is the one new state (a node trusting CA 2
  // alone among nodes that trust both), the next two repeat it, so only node 1 is replaced here.
  it('step 3 (none): a node that trusts CA 2 alone replicates with the others and refuses CA 1\'s client; CA 2\'s connects everywhere', () => cluster.guard(async () => {
    Object.assign(readiness.ssl, { cert: clients.ca2.certPem, key: clients.ca2.keyPem });
    await replaceNode(1, ca2.broker(1), bundle(ca2));
    await waitFullIsr();
    await assertClients({ accepted: [clients.ca2], trust: bundle(ca2) }, 'none, node 1 replaced');
    assert.notEqual(await connectError(1, clients.ca1, bundle(ca2)), undefined, 'node 1 refuses a client certificate of CA 1');
  })());
});
