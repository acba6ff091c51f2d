// The producer and consumer containers: one image, the command picks the service. Environment
// from the services' own producerEnv/consumerEnv (the env contract lives with the services), mutual
// TLS material uploaded, root-owned, the key readable by the service (group 0) alone.
import { consumerNodeFlags } from '../../services/consumer/node-flags';
import { defaultMetricsPort } from '../../services/core/metrics';
import { topicEnvVars, type TopicRole } from '../../services/core/topics';
import { consumerEnv } from '../../services/consumer/config';
import { producerEnv } from '../../services/producer/config';
import type { KafkaSettings, ServicesSettings } from '../config/stack-config';
import { brokerName } from '../pki/pki-params';
import { runAsWithRootGroup, secretFileMode, type ContainerSpec, type FileUpload } from './container-spec';
import { kafkaPorts } from './kafka-container';

export interface ClientTls {
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

/** A SCRAM-SHA-512 user over TLS (an external cluster): the CA checks the brokers, the password is the identity. */
export interface ScramClient {
  caCertPem: string;
  username: string;
  password: string;
}

export type ClientCredentials = ClientTls | ScramClient;

export const isScramClient = (c: ClientCredentials): c is ScramClient => 'username' in c;

export interface ServiceContainerInput {
  namePrefix: string;
  /** The services image as built (name or id). */
  image: string;
  kafka: KafkaSettings;
  services: ServicesSettings;
  topicNames: Record<TopicRole, string>;
  /** The service's own identity (never the admin's). */
  tls: ClientCredentials;
  /** A cluster this stack does not run (kafka.mode external, or a workers stack): its bootstrap servers. */
  bootstrap?: string;
}

export const serviceTlsPaths = {
  ca: '/etc/pipeline/tls/ca.pem',
  cert: '/etc/pipeline/tls/client.pem',
  key: '/etc/pipeline/tls/client-key.pem',
  saslPassword: '/etc/pipeline/sasl/password',
} as const;
export const datasetDir = '/data';
/** The Dockerfile compiles the services to JavaScript under /app (its WORKDIR). */
export const serviceCommands = {
  producer: ['node', 'services/producer/main.js'],
  consumer: ['node', ...consumerNodeFlags, 'services/consumer/main.js'],
  generate: ['node', 'services/producer/generate-cli.js'],
} as const;

export function internalBootstrap(kafka: KafkaSettings): string {
  return Array.from({ length: kafka.brokers }, (_, i) => `${brokerName(i + 1)}:${kafkaPorts.internal}`).join(',');
}

function coreEnv(input: ServiceContainerInput, clientId: string): Record<string, string> {
  const topics = Object.fromEntries(Object.entries(input.topicNames).map(([role, name]) => [topicEnvVars[role as TopicRole], name]));
  const security: Record<string, string> = isScramClient(input.tls)
    ? { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: input.tls.username, KAFKA_SASL_PASSWORD_LOCATION: serviceTlsPaths.saslPassword }
    : { KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERTIFICATE_LOCATION: serviceTlsPaths.cert, KAFKA_SSL_KEY_LOCATION: serviceTlsPaths.key };
  return {
    KAFKA_BROKERS: input.bootstrap ?? internalBootstrap(input.kafka),
    KAFKA_CLIENT_ID: clientId,
    KAFKA_SSL_CA_LOCATION: serviceTlsPaths.ca,
    ...security,
    METRICS_PORT: String(input.services.metricsPort),
    LOG_LEVEL: input.services.logLevel,
    ...topics,
  };
}

/** Root-owned; the key is readable by group 0, which the service runs with, and nobody else. */
function tlsUploads(input: ServiceContainerInput): FileUpload[] {
  const ca: FileUpload = { path: serviceTlsPaths.ca, content: input.tls.caCertPem, mode: 0o644 };
  if (isScramClient(input.tls)) return [ca, { path: serviceTlsPaths.saslPassword, content: input.tls.password, mode: secretFileMode, secret: true }];
  return [
    ca,
    { path: serviceTlsPaths.cert, content: input.tls.certPem, mode: 0o644 },
    { path: serviceTlsPaths.key, content: input.tls.keyPem, mode: secretFileMode, secret: true },
  ];
}

/** Node's fetch against the service's own /healthz: the image needs no curl or wget. */
function healthcheck(port: number): ContainerSpec['healthcheck'] {
  return {
    test: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${port}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
    intervalSeconds: 15,
    timeoutSeconds: 5,
    retries: 4,
    startPeriodSeconds: 30,
  };
}

const brokerContainers = (input: ServiceContainerInput): string[] => input.bootstrap !== undefined ? [] :
  Array.from({ length: input.kafka.brokers }, (_, i) => `${input.namePrefix}-${brokerName(i + 1)}`);

/**
 * The producer streams its dataset once and exits 0; a generated dataset is made first, seeded, so a
 * restarted or replaced producer finds the same file and resumes after its committed position.
 */
export function renderProducerContainer(input: ServiceContainerInput): ContainerSpec {
  const { dataset, settings } = input.services.producer;
  const file = dataset.kind === 'file' ? `${datasetDir}/${dataset.hostPath.split('/').pop()!}` : '/tmp/generated-events.csv.gz';
  const env = { ...coreEnv(input, 'producer'), ...producerEnv({ ...settings, file, topics: { raw: input.topicNames.raw, deadLetter: input.topicNames.deadLetter, sourceOffsets: input.topicNames.sourceOffsets } }) };
  const run = serviceCommands.producer.join(' ');
  const command: string[] = dataset.kind === 'generate'
    ? ['sh', '-c', `${serviceCommands.generate.join(' ')} --rows ${dataset.rows} --seed ${dataset.seed} --gzip --out ${file} && exec ${run}`]
    : [...serviceCommands.producer];
  const uploads = [...tlsUploads(input)];
  return {
    // A file dataset is mounted, not uploaded: gigabytes never pass through the deploying process.
    ...(dataset.kind === 'file' ? { binds: [{ hostPath: dataset.hostPath, containerPath: file, readOnly: true as const }] } : {}),
    name: `${input.namePrefix}-producer`,
    image: input.image,
    command,
    env,
    ports: [],
    uploads,
    volumes: [],
    networkAliases: ['producer'],
    user: runAsWithRootGroup(input.services.uid),
    restart: 'on-failure',
    healthcheck: healthcheck(input.services.metricsPort),
    dependsOn: brokerContainers(input),
  };
}

export function renderConsumerContainers(input: ServiceContainerInput): ContainerSpec[] {
  return Array.from({ length: input.services.consumer.replicas }, (_, i): ContainerSpec => ({
    name: `${input.namePrefix}-consumer-${i + 1}`,
    image: input.image,
    command: [...serviceCommands.consumer],
    env: { ...coreEnv(input, `consumer-${i + 1}`), ...consumerEnv(input.services.consumer.settings) },
    ports: [],
    uploads: tlsUploads(input),
    volumes: [],
    networkAliases: [`consumer-${i + 1}`],
    user: runAsWithRootGroup(input.services.uid),
    restart: 'unless-stopped',
    healthcheck: healthcheck(input.services.metricsPort),
    dependsOn: brokerContainers(input),
  }));
}

/** Prometheus' targets: every service container by its network alias. */
export function serviceScrapeTargets(services: ServicesSettings): { job: string; targets: string[] }[] {
  const port = services.metricsPort || defaultMetricsPort;
  return [
    { job: 'producer', targets: [`producer:${port}`] },
    { job: 'consumer', targets: Array.from({ length: services.consumer.replicas }, (_, i) => `consumer-${i + 1}:${port}`) },
  ];
}
