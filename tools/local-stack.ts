// The stack's pieces run as local processes instead of containers: the dev (or any) stack's config,
// its topics and ACLs applied by the program's own resource code on a harness broker, and the
// producer and consumer with the environment the stack renders for their containers — changed only
// where a host process must differ (file locations, broker addresses, metrics ports). Used by
// `npm run local`, the end-to-end test and the benchmark.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateStackConfig, type StackConfig } from '../infra/config/stack-config';
import { aclProvider } from '../infra/kafka-admin/acl-provider';
import type { AdminConnection } from '../infra/kafka-admin/connection';
import { internalTopicsProvider } from '../infra/kafka-admin/internal-topics';
import { topicProvider } from '../infra/kafka-admin/topic-provider';
import { renderConsumerContainers, renderProducerContainer, type ServiceContainerInput } from '../infra/render/service-containers';
import { aclBindings } from '../infra/security/acl-rules';
import type { TopicRole } from '../services/core/topics';
import { readStackFile } from '../test/support/stack-under-mocks';
import type { TlsCluster } from '../test/support/tls-cluster';
import { kafkaVersion, repoRoot } from './kafka/kafka-runtime';

export type TopicNames = Record<TopicRole, string>;

export function loadStack(stack: string): StackConfig {
  return validateStackConfig(readStackFile(stack), { stack, kafkaVersion: kafkaVersion(), repoRoot });
}

export function adminConnection(tls: TlsCluster): AdminConnection {
  return { brokers: tls.cluster.bootstrap(), ca: tls.pki.ca.certPem, cert: tls.admin.certPem, key: tls.admin.keyPem };
}

/** The stack's topics (names suffixed, so several pipelines can share a broker) and their least-privilege ACLs. */
export async function provisionTopicsAndAcls(tls: TlsCluster, config: StackConfig, suffix = ''): Promise<TopicNames> {
  const names = Object.fromEntries(config.topics.map((t) => [t.role, `${t.name}${suffix}`])) as TopicNames;
  const connection = adminConnection(tls);
  for (const t of config.topics) {
    await topicProvider.create({ name: names[t.role], partitions: t.partitions, replicationFactor: t.replicationFactor, config: t.config, connection });
  }
  for (const binding of aclBindings(config.aclRules, names)) await aclProvider.create({ ...binding, connection });
  await internalTopicsProvider.create({ connection });
  return names;
}

/** Writes an identity's PEM files and returns the KAFKA_SSL_* variables pointing at them. */
export function clientTlsEnv(dir: string, identity: string, caPem: string, cert: { certPem: string; keyPem: string }): Record<string, string> {
  const at = (file: string, text: string): string => {
    const p = path.join(dir, `${identity}-${file}`);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  return { KAFKA_SSL_CA_LOCATION: at('ca.pem', caPem), KAFKA_SSL_CERTIFICATE_LOCATION: at('cert.pem', cert.certPem), KAFKA_SSL_KEY_LOCATION: at('key.pem', cert.keyPem) };
}

export interface ServiceEnvs {
  producer: Record<string, string>;
  /** One per consumer replica the stack defines. */
  consumers: Record<string, string>[];
}

/**
 * The containers' environment as the stack renders it, for host processes: TLS files written to
 * `dir`, brokers on the harness's INTERNAL listeners (the ones the containers use).
 */
export function serviceEnvs(tls: TlsCluster, config: StackConfig, names: TopicNames, dir: string): ServiceEnvs {
  const input: ServiceContainerInput = {
    namePrefix: config.namePrefix, image: 'local', kafka: config.kafka, services: config.services, topicNames: names,
    tls: { caCertPem: tls.pki.ca.certPem, certPem: '', keyPem: '' },
  };
  const brokers = { KAFKA_BROKERS: tls.cluster.bootstrap('internal').join(',') };
  const ca = tls.pki.ca.certPem;
  const producer = { ...renderProducerContainer(input).env, ...clientTlsEnv(dir, 'producer', ca, tls.pki.client('producer')), ...brokers };
  const consumerTls = clientTlsEnv(dir, 'consumer', ca, tls.pki.client('consumer'));
  const consumers = renderConsumerContainers(input).map((spec) => ({ ...spec.env, ...consumerTls, ...brokers }));
  return { producer, consumers };
}

/** The sum of a metric's samples (every label set) on a service's /metrics endpoint; 0 when it does not answer. */
export async function scrapeMetric(port: number, name: string): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return text.split('\n').filter((line) => line.startsWith(name)).reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  } catch {
    return 0;
  }
}
