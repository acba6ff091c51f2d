// The container of one Kafka node: entry script, server.properties, PEM stores and healthcheck,
// all uploaded as root-owned files (no host bind mounts), data on a named volume.
import type { KafkaSettings } from '../config/stack-config';
import { brokerName } from '../pki/pki-params';
import { runAsWithRootGroup, secretFileMode, type ContainerSpec } from './container-spec';
import { kafkaToolEnvShell } from './kafka-tool-env';
import { renderServerProperties, type ServerPropertiesInput } from './server-properties';

/** apache/kafka runs as appuser (uid 1000), which owns the data folder; group 0 reads the uploaded key. */
export const kafkaUid = 1000;
export const kafkaPorts = { internal: 9092, controller: 9093, external: 9094 } as const;
const dir = '/etc/kafka/pipeline';
export const kafkaPaths = {
  entrypoint: `${dir}/entrypoint.sh`,
  properties: `${dir}/server.properties`,
  healthcheckConfig: `${dir}/healthcheck.properties`,
  keystore: `${dir}/tls/keystore.pem`,
  truststore: `${dir}/tls/truststore.pem`,
  data: '/var/lib/kafka/data',
} as const;

export interface BrokerTls {
  caCertPem: string;
  certPem: string;
  /** PKCS#8: the only unencrypted key form Kafka's PEM key store reads. */
  keyPkcs8Pem: string;
}

export interface KafkaNodeInput {
  namePrefix: string;
  nodeId: number;
  kafka: KafkaSettings;
  organization: string;
  /** 22-character base64url cluster id, the same for every node and every restart. */
  clusterId: string;
  tls: BrokerTls;
}

export function externalPort(kafka: KafkaSettings, nodeId: number): number {
  return kafka.externalPortBase + nodeId - 1;
}

export function quorumVoters(brokers: number): string {
  return Array.from({ length: brokers }, (_, i) => `${i + 1}@${brokerName(i + 1)}:${kafkaPorts.controller}`).join(',');
}

export function superUsers(brokers: number): string[] {
  return [...Array.from({ length: brokers }, (_, i) => brokerName(i + 1)), 'admin'];
}

/** The node's properties as deployed: bound on every interface of the container, advertised by name. */
export function containerServerProperties(input: Omit<KafkaNodeInput, 'clusterId' | 'tls' | 'namePrefix'>): ServerPropertiesInput {
  const { kafka, nodeId } = input;
  const any = (port: number): { host: string; port: number } => ({ host: '0.0.0.0', port });
  return {
    nodeId,
    voters: quorumVoters(kafka.brokers),
    bind: { controller: any(kafkaPorts.controller), internal: any(kafkaPorts.internal), external: any(kafkaPorts.external) },
    advertised: {
      internal: { host: brokerName(nodeId), port: kafkaPorts.internal },
      external: { host: kafka.externalHost, port: externalPort(kafka, nodeId) },
    },
    logDirs: kafkaPaths.data,
    tls: { keystoreLocation: kafkaPaths.keystore, truststoreLocation: kafkaPaths.truststore },
    controllerTls: kafka.controllerTls,
    superUsers: superUsers(kafka.brokers),
    organization: input.organization,
    replication: { factor: kafka.internalReplicationFactor, minInsyncReplicas: kafka.minInsyncReplicas },
  };
}

/**
 * Formats the data volume on first start only (`--ignore-formatted` makes restarts a no-op), then
 * becomes the broker so that `docker stop` reaches Kafka's controlled shutdown.
 */
export function renderKafkaEntrypoint(): string {
  return [
    '#!/bin/sh',
    '# Rendered by infra/render/kafka-container.ts.',
    'set -eu',
    ': "${CLUSTER_ID:?CLUSTER_ID must be set}"',
    `/opt/kafka/bin/kafka-storage.sh format --config ${kafkaPaths.properties} --cluster-id="$CLUSTER_ID" --ignore-formatted`, // "=": an id may start with "-"
    `exec /opt/kafka/bin/kafka-server-start.sh ${kafkaPaths.properties}`,
    '',
  ].join('\n');
}

/** The broker's own identity (a super user) for the healthcheck's client. */
export function renderHealthcheckProperties(): string {
  return [
    'security.protocol=SSL',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${kafkaPaths.keystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${kafkaPaths.truststore}`,
    '',
  ].join('\n');
}

export function renderKafkaContainer(input: KafkaNodeInput): ContainerSpec {
  const { kafka, nodeId } = input;
  const name = brokerName(nodeId);
  return {
    name: `${input.namePrefix}-${name}`,
    image: kafka.image,
    entrypoint: ['/bin/sh', kafkaPaths.entrypoint],
    env: {
      CLUSTER_ID: input.clusterId,
      KAFKA_HEAP_OPTS: `-Xms${kafka.heapMb}m -Xmx${kafka.heapMb}m`,
    },
    ports: [{ internal: kafkaPorts.external, external: externalPort(kafka, nodeId), ip: kafka.bindAddress }],
    uploads: [
      { path: kafkaPaths.entrypoint, content: renderKafkaEntrypoint(), mode: 0o755 },
      { path: kafkaPaths.properties, content: renderServerProperties(containerServerProperties(input)), mode: 0o644 },
      { path: kafkaPaths.healthcheckConfig, content: renderHealthcheckProperties(), mode: 0o644 },
      { path: kafkaPaths.keystore, content: `${input.tls.keyPkcs8Pem.trim()}\n${input.tls.certPem.trim()}\n`, mode: secretFileMode, secret: true },
      { path: kafkaPaths.truststore, content: `${input.tls.caCertPem.trim()}\n`, mode: 0o644 },
    ],
    volumes: [{ volumeName: kafkaVolumeName(input.namePrefix, nodeId), containerPath: kafkaPaths.data }],
    networkAliases: [name],
    user: runAsWithRootGroup(kafkaUid),
    restart: 'unless-stopped',
    healthcheck: {
      // A real API round trip over mutual TLS (the broker's port being open is not enough), in a JVM
      // set up for a short run (kafka-tool-env.ts).
      test: [
        'CMD-SHELL',
        `${kafkaToolEnvShell()} /opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server ${name}:${kafkaPorts.internal} --command-config ${kafkaPaths.healthcheckConfig} > /dev/null 2>&1`,
      ],
      intervalSeconds: 15,
      timeoutSeconds: 20,
      retries: 8,
      startPeriodSeconds: 60,
    },
    memoryMb: kafka.memoryMb,
    dependsOn: [],
  };
}

export function kafkaVolumeName(namePrefix: string, nodeId: number): string {
  return `${namePrefix}-${brokerName(nodeId)}-data`;
}
