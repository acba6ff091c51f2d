// A real KRaft cluster on loopback running the stack's own rendered server.properties, with real
// certificates from test-pki (same parameters as the stack's @pulumi/tls resources). Used by the
// infra integration tests and by `npm run kafka:local`.
import path from 'node:path';
import { KafkaCluster, type NodeContext } from '../../tools/kafka/kafka-cluster';
import { superUsers } from '../../infra/render/kafka-container';
import { renderServerProperties, type ServerPropertiesInput } from '../../infra/render/server-properties';
import { TestPki, type IssuedCertificate } from './test-pki';

export interface TlsClusterOptions {
  nodes?: number;
  controllerTls?: boolean;
  pki?: TestPki;
  /** The harness's start budget (its default is 90 s). */
  startTimeoutMs?: number;
  /** The brokers' JIT (KafkaClusterOptions.jvm): tests start quickly, long runs pass 'server'. */
  jvm?: 'quick-start' | 'server';
}

export interface TlsCluster {
  cluster: KafkaCluster;
  pki: TestPki;
  admin: IssuedCertificate;
}

export const keystoreFile = 'keystore.pem';
export const truststoreFile = 'truststore.pem';

/** The deployed properties, bound and advertised on the harness's loopback ports instead of container names. */
export function loopbackServerProperties(ctx: NodeContext, options: { controllerTls: boolean; organization: string }): ServerPropertiesInput {
  const at = (port: number): { host: string; port: number } => ({ host: ctx.host, port });
  const replication = Math.min(ctx.nodeCount, 3);
  return {
    nodeId: ctx.nodeId,
    voters: ctx.voters,
    bind: { controller: at(ctx.ports.controller), internal: at(ctx.ports.internal), external: at(ctx.ports.external) },
    advertised: { internal: at(ctx.ports.internal), external: at(ctx.ports.external) },
    logDirs: ctx.dataDir,
    tls: { keystoreLocation: path.join(ctx.dir, keystoreFile), truststoreLocation: path.join(ctx.dir, truststoreFile) },
    controllerTls: options.controllerTls,
    superUsers: superUsers(ctx.nodeCount),
    organization: options.organization,
    replication: { factor: replication, minInsyncReplicas: Math.max(1, replication - 1) },
  };
}

export async function startTlsCluster(options: TlsClusterOptions = {}): Promise<TlsCluster> {
  const pki = options.pki ?? TestPki.create();
  const admin = pki.client('admin');
  const brokers = new Map<number, IssuedCertificate>();
  const cluster = await KafkaCluster.start({
    nodes: options.nodes ?? 1,
    properties: (ctx) => renderServerProperties(loopbackServerProperties(ctx, { controllerTls: options.controllerTls ?? false, organization: pki.settings.organization })),
    files: (ctx) => {
      const cert = brokers.get(ctx.nodeId) ?? pki.broker(ctx.nodeId);
      brokers.set(ctx.nodeId, cert);
      return { [keystoreFile]: `${cert.keyPem.trim()}\n${cert.certPem.trim()}\n`, [truststoreFile]: pki.ca.certPem };
    },
    client: { ssl: pki.kafkaJsSsl(admin) },
    ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
    ...(options.jvm ? { jvm: options.jvm } : {}),
  });
  return { cluster, pki, admin };
}
