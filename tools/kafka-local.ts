// `npm run kafka:local`: a real KRaft broker on loopback for a person to try things against, secured
// like the stack: the same rendered server.properties (mutual TLS, StandardAuthorizer, deny by
// default), the stack's topics and least-privilege ACLs, and client bundles for admin, producer and
// consumer. Stays in the foreground until Ctrl-C, then removes everything (bundles included: they
// live in the cluster's folder, which the harness's watchdog removes even after a SIGKILL).
// The topics and ACLs are the dev stack's, created by the same code as `npm run local`'s
// (provisionTopicsAndAcls: the stack's validated config through the program's resource code), so
// partitions and configs such as the changelog's max.message.bytes are the stack's.
// KAFKA_LOCAL_NODES=3 for a quorum (the prod stack's layout); KAFKA_LOCAL_TLS=0 for the old
// plaintext broker without ACLs.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { writeBundle } from '../certs/bundle';
import type { StackConfig } from '../infra/config/stack-config';
import { startTlsCluster } from '../test/support/tls-cluster';
import { KafkaCluster } from './kafka/kafka-cluster';
import { kafkaVersion } from './kafka/kafka-runtime';
import { loadStack, provisionTopicsAndAcls } from './local-stack';

/** The stack whose layout kafka:local renders: dev (one node), or prod for KAFKA_LOCAL_NODES=3. */
function kafkaLocalStack(env: NodeJS.ProcessEnv = process.env): { stack: string; config: StackConfig } {
  const nodes = env.KAFKA_LOCAL_NODES ?? '1';
  if (nodes !== '1' && nodes !== '3') throw new Error(`KAFKA_LOCAL_NODES=${nodes} must be 1 (the dev stack's layout) or 3 (the prod stack's)`);
  const stack = nodes === '3' ? 'prod' : 'dev';
  return { stack, config: loadStack(stack) };
}

async function secureCluster(config: StackConfig): Promise<{ cluster: KafkaCluster; report: string }> {
  const tls = await startTlsCluster({ nodes: config.kafka.brokers, controllerTls: config.kafka.controllerTls, jvm: 'server' });
  const { cluster, pki, admin } = tls;
  try {
    const bootstrapServers = cluster.bootstrap().join(',');
    await provisionTopicsAndAcls(tls, config);
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
      '  (the producer bundle works the same way; topics and ACLs are the stack\'s)',
    );
    return { cluster, report: lines.join('\n') };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

async function main(): Promise<void> {
  const { stack, config } = kafkaLocalStack();
  const nodes = config.kafka.brokers;
  const tls = process.env.KAFKA_LOCAL_TLS !== '0';
  process.stdout.write(`Starting Apache Kafka ${kafkaVersion()} (KRaft, ${nodes} node${nodes === 1 ? '' : 's'}, ${tls ? `mutual TLS + ACLs, the ${stack} stack's topics` : 'plaintext, no ACLs'})…\n`);
  const { cluster, report } = tls
    ? await secureCluster(config)
    : await KafkaCluster.start({ nodes, jvm: 'server' }).then((c) => ({ cluster: c, report: `  bootstrap servers: ${c.bootstrap().join(',')}` }));
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

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`kafka:local: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
