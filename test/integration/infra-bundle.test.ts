// The client bundle against a real broker running the stack's rendered properties: Kafka's own CLI
// tools connect with client.properties (the PKCS12 store), kcat with kcat.conf; a producer bundle
// produces and is refused a consumer group, as librdkafka reports it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeBundle } from '../../certs/bundle';
import { aclProvider } from '../../infra/kafka-admin/acl-provider';
import { internalTopicsProvider } from '../../infra/kafka-admin/internal-topics';
import { topicProvider } from '../../infra/kafka-admin/topic-provider';
import { aclBindings, leastPrivilegeRules } from '../../infra/security/acl-rules';
import { defaultTopics } from '../../services/core/topics';
import { kafkaToolJvmArgs } from '../../tools/kafka/kafka-runtime';
import { startTlsCluster, type TlsCluster } from '../support/tls-cluster';

const run = (command: string, args: string[], input?: string) => spawnSync(command, args, { encoding: 'utf8', timeout: 60_000, ...(input ? { input } : {}) });

describe('infra: client bundles connect Kafka CLI tools and kcat', () => {
  let tls: TlsCluster;
  let dir: string;
  before(async () => {
    tls = await startTlsCluster({ nodes: 1 });
    dir = path.join(tls.cluster.dir, 'bundles');
    const bootstrapServers = tls.cluster.bootstrap().join(',');
    const connection = { brokers: tls.cluster.bootstrap(), ca: tls.pki.ca.certPem, cert: tls.admin.certPem, key: tls.admin.keyPem };
    await topicProvider.create({ name: defaultTopics.raw, partitions: 2, replicationFactor: 1, config: {}, connection });
    for (const binding of aclBindings(leastPrivilegeRules({ groupPrefix: 'ecommerce-consumer', transactionalIdPrefix: 'ecommerce-consumer' }), defaultTopics)) {
      await aclProvider.create({ ...binding, connection });
    }
    await internalTopicsProvider.create({ connection });
    for (const identity of ['admin', 'producer'] as const) {
      const cert = identity === 'admin' ? tls.admin : tls.pki.client(identity);
      writeBundle(path.join(dir, identity), { bootstrapServers, caCertPem: tls.pki.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, password: `${identity}-bundle-password`, identity });
    }
  });
  after(async () => {
    await tls?.cluster.stop();
  });

  it('kafka-topics with the admin client.properties (PKCS12 key store) lists the topics', () => {
    const result = run('java', [
      ...kafkaToolJvmArgs('org.apache.kafka.tools.TopicCommand'),
      '--bootstrap-server', tls.cluster.bootstrap()[0]!, '--command-config', path.join(dir, 'admin', 'client.properties'), '--list',
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^ecommerce_topic$/m);
  });

  it('kcat with the admin kcat.conf reads the cluster metadata', () => {
    const result = run('kcat', ['-F', path.join(dir, 'admin', 'kcat.conf'), '-L', '-t', defaultTopics.raw]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /topic "ecommerce_topic" with 2 partitions/);
  });

  it('kcat with the producer bundle produces, and is refused a consumer group', () => {
    const produced = run('kcat', ['-F', path.join(dir, 'producer', 'kcat.conf'), '-P', '-t', defaultTopics.raw], 'hello\n');
    assert.equal(produced.status, 0, produced.stderr);
    const consumed = run('kcat', ['-F', path.join(dir, 'producer', 'kcat.conf'), '-G', 'ecommerce-consumer-probe', '-e', '-o', 'beginning', defaultTopics.raw]);
    assert.match(consumed.stderr, /Group authorization failed/);
    assert.doesNotMatch(consumed.stdout, /hello/);
  });
});
