// The stack as the program defines it, on a real Docker engine: the stack config validated by the
// program's own validator, certificates issued with the Pki component's parameters (test-pki), the
// containers from infra/render, topics and ACLs created by the program's own provider code.
import net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { aclProvider } from '../../../infra/kafka-admin/acl-provider';
import type { AdminConnection } from '../../../infra/kafka-admin/connection';
import { internalTopicsProvider } from '../../../infra/kafka-admin/internal-topics';
import { topicProvider } from '../../../infra/kafka-admin/topic-provider';
import { validateStackConfig, type RawStackConfig, type StackConfig } from '../../../infra/config/stack-config';
import { runAsWithRootGroup, secretFileMode, type ContainerSpec } from '../../../infra/render/container-spec';
import { externalPort, kafkaPorts, kafkaUid, renderKafkaContainer } from '../../../infra/render/kafka-container';
import { kafkaToolEnv } from '../../../infra/render/kafka-tool-env';
import { renderPrometheusContainer } from '../../../infra/render/monitoring-containers';
import { renderConsumerContainers, renderProducerContainer, type ServiceContainerInput } from '../../../infra/render/service-containers';
import { brokerName } from '../../../infra/pki/pki-params';
import { aclBindings } from '../../../infra/security/acl-rules';
import type { TopicRole } from '../../../services/core/topics';
import type { ContainerRun } from '../../../tools/docker/container-run';
import { randomClusterId } from '../../../tools/kafka/kafka-cluster';
import { freePort } from '../../../tools/kafka/free-port';
import { kafkaVersion, repoRoot } from '../../../tools/kafka/kafka-runtime';
import { TestPki, type IssuedCertificate } from '../../support/test-pki';

/** `count` consecutive free loopback ports (brokers are published on externalPortBase + n - 1). */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => isFree(base + i + 1)));
    if (rest.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The stack's config as the program validates it, with host ports that are free on this machine. */
export async function stackConfigForEngine(stack: string, raw: RawStackConfig, brokers: number): Promise<StackConfig> {
  const kafka = { ...(raw.kafka as Record<string, unknown> | undefined), externalPortBase: await freePortRange(brokers) };
  const monitoring = { ...(raw.monitoring as Record<string, unknown> | undefined), prometheusPort: await freePort(), grafanaPort: await freePort() };
  return validateStackConfig({ ...raw, kafka, monitoring }, { stack, kafkaVersion: kafkaVersion(), repoRoot });
}

export class EngineStack {
  readonly pki: TestPki;
  readonly clusterId = randomClusterId();
  private readonly clients = new Map<string, IssuedCertificate>();

  constructor(
    readonly config: StackConfig,
    readonly run: ContainerRun,
    readonly network: string,
  ) {
    this.pki = TestPki.create(config.pki);
  }

  client(principal: string): IssuedCertificate {
    let cert = this.clients.get(principal);
    if (!cert) this.clients.set(principal, (cert = this.pki.client(principal)));
    return cert;
  }

  get topicNames(): Record<TopicRole, string> {
    return Object.fromEntries(this.config.topics.map((t) => [t.role, t.name])) as Record<TopicRole, string>;
  }

  kafkaSpecs(): ContainerSpec[] {
    return Array.from({ length: this.config.kafka.brokers }, (_, i) => {
      const broker = this.pki.broker(i + 1);
      return renderKafkaContainer({
        namePrefix: this.config.namePrefix,
        nodeId: i + 1,
        kafka: this.config.kafka,
        organization: this.config.pki.organization,
        clusterId: this.clusterId,
        tls: { caCertPem: this.pki.ca.certPem, certPem: broker.certPem, keyPkcs8Pem: broker.keyPem },
      });
    });
  }

  /**
   * The producer and consumer containers for the services image as built (the Services component's
   * input); `services` stands for changed service settings of the same stack (an update).
   */
  serviceSpecs(image: string, services = this.config.services): { producer: ContainerSpec; consumers: ContainerSpec[] } {
    const input = (principal: string): ServiceContainerInput => {
      const cert = this.client(principal);
      return {
        namePrefix: this.config.namePrefix,
        image,
        kafka: this.config.kafka,
        services,
        topicNames: this.topicNames,
        tls: { caCertPem: this.pki.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem },
      };
    };
    return { producer: renderProducerContainer(input('producer')), consumers: renderConsumerContainers(input('consumer')) };
  }

  prometheusSpec(): ContainerSpec {
    return renderPrometheusContainer({
      namePrefix: this.config.namePrefix,
      bindAddress: this.config.kafka.bindAddress,
      monitoring: this.config.monitoring,
      services: this.config.services,
    });
  }

  kafkaContainerName(nodeId: number): string {
    return `${this.config.namePrefix}-${brokerName(nodeId)}`;
  }

  /** host:port of the brokers' EXTERNAL listeners as published on this host. */
  hostBootstrap(): string[] {
    return Array.from({ length: this.config.kafka.brokers }, (_, i) => `127.0.0.1:${externalPort(this.config.kafka, i + 1)}`);
  }

  /** A host client with `principal`'s certificate, through the 127.0.0.1-published ports. */
  hostKafka(principal: string): Kafka {
    return new Kafka({
      clientId: `container-test-${principal}`,
      brokers: this.hostBootstrap(),
      ssl: this.pki.kafkaJsSsl(this.client(principal)),
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 300 },
    });
  }

  adminConnection(): AdminConnection {
    const admin = this.client('admin');
    return { brokers: this.hostBootstrap(), ca: this.pki.ca.certPem, cert: admin.certPem, key: admin.keyPem };
  }

  /** What `pulumi up` does once the brokers are up: the topics, the ACLs and Kafka's internal topics. */
  async createTopicsAndAcls(): Promise<number> {
    const connection = this.adminConnection();
    for (const t of this.config.topics) {
      await topicProvider.create({ name: t.name, partitions: t.partitions, replicationFactor: t.replicationFactor, config: t.config, connection });
    }
    const bindings = aclBindings(this.config.aclRules, this.topicNames);
    for (const binding of bindings) await aclProvider.create({ ...binding, connection });
    await internalTopicsProvider.create({ connection });
    return bindings.length;
  }

  /**
   * A one-off Kafka CLI container on the stack network, authenticated as `principal` (its PEM key
   * store uploaded root-owned and group-0 readable, as the brokers'), talking to the brokers' INTERNAL listeners by container alias.
   */
  async runKafkaCli(principal: string, script: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const cert = this.client(principal);
    const dir = '/etc/kafka/client';
    const bootstrap = Array.from({ length: this.config.kafka.brokers }, (_, i) => `${brokerName(i + 1)}:${kafkaPorts.internal}`).join(',');
    const spec: ContainerSpec = {
      name: `${this.config.namePrefix}-cli-${principal}-${Math.random().toString(36).slice(2, 8)}`,
      image: this.config.kafka.image,
      entrypoint: ['sh', '-c', script],
      env: { BOOTSTRAP: bootstrap, CLIENT_CONFIG: `${dir}/client.properties`, ...kafkaToolEnv, KAFKA_HEAP_OPTS: '-Xmx128m' },
      ports: [],
      uploads: [
        { path: `${dir}/client.properties`, mode: 0o644, content: [
          'security.protocol=SSL', 'ssl.keystore.type=PEM', `ssl.keystore.location=${dir}/keystore.pem`,
          'ssl.truststore.type=PEM', `ssl.truststore.location=${dir}/truststore.pem`, '',
        ].join('\n') },
        { path: `${dir}/keystore.pem`, mode: secretFileMode, content: `${cert.keyPem.trim()}\n${cert.certPem.trim()}\n` },
        { path: `${dir}/truststore.pem`, mode: 0o644, content: this.pki.ca.certPem },
      ],
      volumes: [],
      networkAliases: [],
      user: runAsWithRootGroup(kafkaUid),
      restart: 'no',
      dependsOn: [],
    };
    return this.run.runOnce(spec, this.network);
  }
}
