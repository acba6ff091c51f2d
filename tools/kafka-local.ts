// `npm run kafka:local`: a real KRaft broker on loopback for a person to try things against, secured
// like the stack: the same rendered server.properties (mutual TLS, StandardAuthorizer, deny by
// default), the stack's topics and least-privilege ACLs, and client bundles for admin, producer and
// consumer. Stays in the foreground until Ctrl-C, then removes everything (bundles included: they
// live in the cluster's folder, which the harness's watchdog removes even after a SIGKILL).
// KAFKA_LOCAL_NODES=3 for a quorum; KAFKA_LOCAL_TLS=0 for the old plaintext broker without ACLs.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { writeBundle } from '../certs/bundle';
import { withAdmin, kafkaFor, type AdminConnection } from '../infra/kafka-admin/connection';
import { createAcl } from '../infra/kafka-admin/acl-provider';
import { ensureInternalTopics } from '../infra/kafka-admin/internal-topics';
import { createTopic } from '../infra/kafka-admin/topic-provider';
import { aclBindings, leastPrivilegeRules } from '../infra/security/acl-rules';
import { defaultTopics } from '../services/core/topics';
import { startTlsCluster } from '../test/support/tls-cluster';
import { KafkaCluster } from './kafka/kafka-cluster';
import { kafkaVersion } from './kafka/kafka-runtime';

async function secureCluster(nodes: number): Promise<{ cluster: KafkaCluster; report: string }> {
  const { cluster, pki, admin } = await startTlsCluster({ nodes, controllerTls: nodes > 1 });
  try {
    const bootstrapServers = cluster.bootstrap().join(',');
    const connection: AdminConnection = { brokers: cluster.bootstrap(), ca: pki.ca.certPem, cert: admin.certPem, key: admin.keyPem };
    const replicationFactor = Math.min(nodes, 3);
    await withAdmin(connection, async (client) => {
      for (const name of Object.values(defaultTopics)) {
        await createTopic(client, { name, partitions: 3, replicationFactor, config: name === defaultTopics.changelog ? { 'cleanup.policy': 'compact' } : {} });
      }
      const ids = { groupPrefix: 'ecommerce-consumer', transactionalIdPrefix: 'ecommerce-consumer' };
      for (const binding of aclBindings(leastPrivilegeRules(ids), defaultTopics)) await createAcl(client, binding);
      await ensureInternalTopics(kafkaFor(connection), client);
    });
    const lines = [`  bootstrap servers: ${bootstrapServers}`];
    for (const identity of ['admin', 'producer', 'consumer'] as const) {
      const cert = identity === 'admin' ? admin : pki.client(identity);
      const dir = path.join(cluster.dir, 'bundles', identity);
      writeBundle(dir, { bootstrapServers, caCertPem: pki.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, password: randomBytes(18).toString('base64url'), identity });
      lines.push(`  ${identity} bundle: ${dir}`);
    }
    const consumerDir = path.join(cluster.dir, 'bundles', 'consumer');
    lines.push(
      `  try: kcat -F ${path.join(cluster.dir, 'bundles', 'admin', 'kcat.conf')} -L`,
      `  consumer env: KAFKA_BROKERS=${bootstrapServers} KAFKA_SSL_CA_LOCATION=${path.join(consumerDir, 'ca.pem')} ` +
        `KAFKA_SSL_CERTIFICATE_LOCATION=${path.join(consumerDir, 'consumer.pem')} KAFKA_SSL_KEY_LOCATION=${path.join(consumerDir, 'consumer-key.pem')}`,
      '  (the producer bundle works the same way; topics and ACLs are the stack\'s defaults)',
    );
    return { cluster, report: lines.join('\n') };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

async function main(): Promise<void> {
  const nodes = Number(process.env.KAFKA_LOCAL_NODES ?? '1');
  const tls = process.env.KAFKA_LOCAL_TLS !== '0';
  process.stdout.write(`Starting Apache Kafka ${kafkaVersion()} (KRaft, ${nodes} node${nodes === 1 ? '' : 's'}, ${tls ? 'mutual TLS + ACLs' : 'plaintext, no ACLs'})…\n`);
  const { cluster, report } = tls
    ? await secureCluster(nodes)
    : await KafkaCluster.start({ nodes }).then((c) => ({ cluster: c, report: `  bootstrap servers: ${c.bootstrap().join(',')}` }));
  process.stdout.write(`Kafka is ready.\n${report}\n  logs: ${cluster.dir}\nPress Ctrl-C to stop.\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping Kafka…\n');
    void cluster.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`kafka:local: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
