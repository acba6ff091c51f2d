// The stack's configuration as one typed object, and the pure validation that builds it from the
// plain values `pulumi config` holds. No Pulumi import here: unit tests call validateStackConfig
// with plain objects, and infra/config.ts only feeds it what it read.
import { defaultTopics, type TopicRole } from '../../services/core/topics';
import { consumerDefaults, type ConsumerSettings } from '../../services/consumer/config';
import type { ProducerSettings } from '../../services/producer/config';
import type { AclRule } from '../security/acl-rules';
import { compareRelease, releaseVersionOf } from '../kafka-admin/kafka-release';
import { caRotations, type PkiSettings } from '../pki/pki-params';
import { ConfigReader, StackConfigError } from './reader';
import { readAclRules } from './acl-config';
import { producerKeys, readConsumer, readProducer, type Dataset } from './service-config';
import { externalKeys, readExternalKafka, readShape, shapeKeys, type ExternalKafkaSettings, type ShapeSettings } from './external-kafka-config';

export type { Dataset } from './service-config';

export const projectName = 'ecommerce-pipeline';

export interface KafkaSettings {
  /** bundled: the stack runs its brokers; external: a cluster someone else runs (`external` says where). */
  mode: 'bundled' | 'external';
  external?: ExternalKafkaSettings;
  version: string;
  image: string;
  /** 1 (one combined node) or ≥ 3 (a quorum that survives a node loss). */
  brokers: number;
  heapMb: number;
  memoryMb: number;
  /** TLS (mutual) on the controller listener too; otherwise it is plaintext on the private network. */
  controllerTls: boolean;
  /** Host address the EXTERNAL listeners are published on. */
  bindAddress: string;
  /** Name clients outside Docker use; it is in every broker certificate and advertised. */
  externalHost: string;
  /**
   * The release (major.minor) whose metadata version the cluster is raised to once every broker runs
   * `version`: by default `version`'s own; pinned to the previous release, it holds the raise back.
   */
  metadataVersion: string;
  /** Broker n is published on externalPortBase + n - 1. */
  externalPortBase: number;
  minInsyncReplicas: number;
  /** Replication of Kafka's own topics (__consumer_offsets, __transaction_state). */
  internalReplicationFactor: number;
  /** How long a rolling restart waits for a restarted broker to rejoin and catch up, before it stops with an error. */
  rollTimeoutSeconds: number;
}

export interface TopicSettings {
  role: TopicRole;
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Kafka topic configs, by Kafka's own names (retention.ms, cleanup.policy, …). */
  config: Record<string, string>;
}


export interface ServicesSettings {
  imageName: string;
  baseImage: string;
  /** Further docker build arguments (the ci stack passes DEPS_IMAGE). */
  buildArgs: Record<string, string>;
  /** Folder holding services/Dockerfile (the repository root by default). */
  buildContext: string;
  /** uid the services run as, with group 0, which reads their root-owned 0640 key files. */
  uid: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  metricsPort: number;
  producer: { dataset: Dataset; settings: Partial<ProducerSettings> };
  consumer: { replicas: number; settings: ConsumerSettings };
}

export interface MonitoringSettings {
  /** Grafana on or off (the ci stack: no Grafana image can be built where no registry is reachable). */
  grafana: boolean;
  prometheusImage: string;
  grafanaImage: string;
  prometheusPort: number;
  grafanaPort: number;
  scrapeIntervalSeconds: number;
  grafanaAdminUser: string;
}

export interface StackConfig {
  /** Prefix of every Docker object's name, so stacks can share one Docker host. */
  namePrefix: string;
  stack: ShapeSettings;
  kafka: KafkaSettings;
  pki: PkiSettings;
  topics: TopicSettings[];
  aclRules: AclRule[];
  services: ServicesSettings;
  monitoring: MonitoringSettings;
}

/** The config objects a stack may set (`<project>:<key>`), as plain values. */
export interface RawStackConfig {
  stack?: unknown;
  kafka?: unknown;
  pki?: unknown;
  topics?: unknown;
  acls?: unknown;
  services?: unknown;
  producer?: unknown;
  consumer?: unknown;
  monitoring?: unknown;
}

export interface Defaults {
  stack: string;
  kafkaVersion: string;
  repoRoot: string;
}

export const configKeys = ['stack', 'kafka', 'pki', 'topics', 'acls', 'services', 'producer', 'consumer', 'monitoring'] as const;

const hostPattern = { regex: /^[A-Za-z0-9.-]+$|^\d{1,3}(\.\d{1,3}){3}$/, describe: 'a host name or IPv4 address' };
const ipPattern = { regex: /^\d{1,3}(\.\d{1,3}){3}$/, describe: 'an IPv4 address (127.0.0.1 keeps the port private to this host)' };
const imagePattern = { regex: /^[a-z0-9][a-z0-9._/:@-]*$/, describe: 'an image reference (name:tag)' };
const orgPattern = { regex: /^[A-Za-z0-9][A-Za-z0-9 _-]*$/, describe: 'letters, digits, space, _ and - (it is part of every certificate subject)' };
const topicNamePattern = { regex: /^[A-Za-z0-9._-]{1,249}$/, describe: "a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)" };

/** Validates everything, reporting every problem at once; throws StackConfigError naming each key. */
export function validateStackConfig(raw: RawStackConfig, defaults: Defaults): StackConfig {
  const problems: string[] = [];
  const key = (name: string): string => `${projectName}:${name}`;
  const namePrefix = `${projectName}-${defaults.stack}`;
  const stack = readShape(ConfigReader.root(raw.stack, key('stack'), problems, shapeKeys));
  const kafka = readKafka(ConfigReader.root(raw.kafka, key('kafka'), problems, kafkaKeys), defaults, namePrefix);
  const pki = readPki(ConfigReader.root(raw.pki, key('pki'), problems, pkiKeys), kafka);
  const consumer = readConsumer(ConfigReader.root(raw.consumer, key('consumer'), problems, [...Object.keys(consumerDefaults), 'replicas']));
  const topics = readTopics(ConfigReader.root(raw.topics, key('topics'), problems, Object.keys(defaultTopics)), kafka);
  const aclRules = readAclRules(raw.acls, key('acls'), problems, {
    groupPrefix: consumer.settings.groupId,
    transactionalIdPrefix: consumer.settings.transactionalIdPrefix,
  });
  const services = readServices(ConfigReader.root(raw.services, key('services'), problems, servicesKeys), defaults);
  const producer = readProducer(ConfigReader.root(raw.producer, key('producer'), problems, producerKeys));
  const monitoring = readMonitoring(ConfigReader.root(raw.monitoring, key('monitoring'), problems, monitoringKeys));
  checkPorts(kafka, monitoring, key, problems);
  if (stack.shape === 'workers') {
    for (const owned of ['kafka', 'pki', 'topics', 'acls'] as const) {
      if (raw[owned] !== undefined) problems.push(`${key(owned)} belongs to the kafka stack ${stack.kafkaStack ?? ''}: a workers stack reads the cluster, topics and identities from there`);
    }
  }
  if (problems.length > 0) throw new StackConfigError(problems);
  return {
    namePrefix,
    stack,
    kafka,
    pki,
    topics,
    aclRules,
    services: { ...services, producer, consumer },
    monitoring,
  };
}

/** Every port published on the host must be distinct. */
function checkPorts(kafka: KafkaSettings, monitoring: MonitoringSettings, key: (name: string) => string, problems: string[]): void {
  if (kafka.mode === 'external') return;
  const last = kafka.externalPortBase + kafka.brokers - 1;
  for (const [name, port] of [['prometheusPort', monitoring.prometheusPort], ['grafanaPort', monitoring.grafanaPort]] as const) {
    if (port >= kafka.externalPortBase && port <= last) {
      problems.push(`${key('monitoring')}.${name}=${port} collides with the brokers' ports ${kafka.externalPortBase}-${last} (${key('kafka')}.externalPortBase)`);
    }
  }
}

const kafkaKeys = [
  'version', 'image', 'brokers', 'heapMb', 'memoryMb', 'controllerTls', 'bindAddress', 'externalHost', 'externalPortBase', 'minInsyncReplicas',
  'metadataVersion', 'rollTimeoutSeconds', 'mode', 'external',
] as const;

function readKafka(r: ConfigReader, defaults: Defaults, namePrefix: string): KafkaSettings {
  const mode = r.oneOf('mode', ['bundled', 'external'] as const, 'bundled');
  r.check(mode === 'external' || !r.has('external'), 'external', 'applies to mode: external only');
  const external = mode === 'external' ? readExternalKafka(r.child('external', externalKeys), namePrefix) : undefined;
  const version = r.string('version', defaults.kafkaVersion, { regex: /^\d+\.\d+\.\d+$/, describe: 'a Kafka version like 4.1.1' });
  // Someone else's cluster: its broker count, if stated, bounds the replication factors; if not, 3 is assumed.
  const brokers = external ? external.brokerCount ?? 3 : r.int('brokers', 1, { min: 1, max: 9 });
  r.check(!external || !r.has('brokers'), 'brokers', 'is the bundled cluster\'s size: with mode: external, state the cluster\'s broker count as external.brokerCount');
  r.check(external !== undefined || brokers === 1 || brokers >= 3, 'brokers', `=${brokers} must be 1 or at least 3 (a quorum of 2 survives no failure)`);
  const heapMb = r.int('heapMb', 512, { min: 256, max: 32768 });
  // Beyond the heap: metaspace, direct buffers, and the healthcheck's own small JVM.
  const memoryMb = r.int('memoryMb', Math.max(heapMb * 2, heapMb + 768), { min: 512, max: 65536 });
  r.check(memoryMb >= heapMb + 256, 'memoryMb', `=${memoryMb} must leave at least 256 MiB above heapMb=${heapMb} for the page cache and metaspace`);
  const replication = Math.min(brokers, 3);
  const minInsyncReplicas = r.int('minInsyncReplicas', Math.max(1, replication - 1), { min: 1, max: 9 });
  r.check(minInsyncReplicas <= replication, 'minInsyncReplicas', `=${minInsyncReplicas} must not exceed the replication factor ${replication} (writes would always fail)`);
  const release = /^\d+\.\d+\.\d+$/.test(version) ? releaseVersionOf(version) : '0.0';
  const metadataVersion = r.string('metadataVersion', release, { regex: /^\d+\.\d+$/, describe: 'a Kafka release like 4.1 (major.minor)' });
  r.check(compareRelease(metadataVersion, release) <= 0, 'metadataVersion', `=${metadataVersion} must not be newer than kafka.version=${version} (brokers cannot run a metadata version of a later release)`);
  return {
    mode,
    ...(external ? { external } : {}),
    version,
    metadataVersion,
    image: r.string('image', `apache/kafka:${version}`, imagePattern),
    brokers,
    heapMb,
    memoryMb,
    controllerTls: r.bool('controllerTls', false),
    bindAddress: r.string('bindAddress', '127.0.0.1', ipPattern),
    // An address, not `localhost`: Node may resolve localhost to ::1 first, where nothing is published.
    externalHost: r.string('externalHost', '127.0.0.1', hostPattern),
    externalPortBase: r.int('externalPortBase', 19092, { min: 1024, max: 65535 - brokers }),
    minInsyncReplicas,
    internalReplicationFactor: replication,
    rollTimeoutSeconds: r.int('rollTimeoutSeconds', 300, { min: 10, max: 86400 }),
  };
}

const pkiKeys = ['organization', 'caValidityHours', 'validityHours', 'earlyRenewalHours', 'caGeneration', 'caRotation'] as const;

function readPki(r: ConfigReader, kafka: KafkaSettings): PkiSettings {
  const validityHours = r.int('validityHours', 8760, { min: 24 });
  const caValidityHours = r.int('caValidityHours', 87600, { min: 24 });
  const earlyRenewalHours = r.int('earlyRenewalHours', 720, { min: 0 });
  r.check(caValidityHours >= validityHours, 'caValidityHours', `=${caValidityHours} must be at least validityHours=${validityHours} (no certificate may outlive its CA)`);
  r.check(earlyRenewalHours < validityHours, 'earlyRenewalHours', `=${earlyRenewalHours} must be less than validityHours=${validityHours} (every up would renew)`);
  const caGeneration = r.int('caGeneration', 1, { min: 1, max: 1000 });
  const caRotation = r.oneOf('caRotation', caRotations, 'none');
  r.check(!(caRotation === 'trustPrevious' && caGeneration < 2), 'caRotation', '=trustPrevious needs caGeneration >= 2 (the previous CA is caGeneration - 1)');
  return { organization: r.string('organization', projectName, orgPattern), caValidityHours, validityHours, earlyRenewalHours, externalHost: kafka.externalHost, caGeneration, caRotation };
}

const topicKeys = ['name', 'partitions', 'replicationFactor', 'config'] as const;

/** Per-role defaults: the consumer's internal topics follow the raw topic's partitioning. */
const topicDefaults: Record<TopicRole, { partitions: number; config: Record<string, string> }> = {
  raw: { partitions: 3, config: { 'retention.ms': String(7 * 24 * 3600_000) } },
  processed: { partitions: 3, config: { 'retention.ms': String(7 * 24 * 3600_000) } },
  deadLetter: { partitions: 1, config: { 'retention.ms': String(30 * 24 * 3600_000) } },
  late: { partitions: 1, config: { 'retention.ms': String(30 * 24 * 3600_000) } },
  repartition: { partitions: 3, config: { 'retention.ms': String(24 * 3600_000) } },
  // A window's state (its distinct users and sessions) is one changelog record, and one transaction
  // writes a partition's dirty windows as one batch: 1 MiB, Kafka's default, is too small for a busy
  // "overall" window. The broker's fetches cope with batches this size.
  changelog: { partitions: 3, config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'max.message.bytes': String(32 * 1024 * 1024) } },
  // One record per file name, the producer's position in it; the producer reads partition 0 only.
  sourceOffsets: { partitions: 1, config: { 'cleanup.policy': 'compact' } },
};

function readTopics(r: ConfigReader, kafka: KafkaSettings): TopicSettings[] {
  const topics = (Object.keys(defaultTopics) as TopicRole[]).map((role): TopicSettings => {
    const t = r.child(role, topicKeys);
    const replicationFactor = t.int('replicationFactor', kafka.internalReplicationFactor, { min: 1, max: 9 });
    const known = kafka.mode === 'bundled' || kafka.external?.brokerCount !== undefined;
    const brokersKey = kafka.mode === 'bundled' ? 'kafka.brokers' : 'kafka.external.brokerCount';
    t.check(!known || replicationFactor <= kafka.brokers, 'replicationFactor', `=${replicationFactor} must not exceed ${brokersKey}=${kafka.brokers}`);
    const config = { 'min.insync.replicas': String(Math.min(kafka.minInsyncReplicas, replicationFactor)), ...topicDefaults[role].config, ...t.stringMap('config') };
    const minIsr = Number(config['min.insync.replicas']);
    t.check(Number.isInteger(minIsr) && minIsr >= 1 && minIsr <= replicationFactor, 'config.min.insync.replicas', `=${config['min.insync.replicas']} must be an integer in [1, replicationFactor=${replicationFactor}]`);
    return {
      role,
      name: t.string('name', defaultTopics[role], topicNamePattern),
      partitions: t.int('partitions', topicDefaults[role].partitions, { min: 1, max: 10000 }),
      replicationFactor,
      config,
    };
  });
  const names = topics.map((t) => t.name);
  for (const t of topics) {
    r.check(names.indexOf(t.name) === names.lastIndexOf(t.name), `${t.role}.name`, `=${t.name} is used by another topic role too`);
  }
  return topics;
}

const servicesKeys = ['imageName', 'baseImage', 'buildArgs', 'buildContext', 'uid', 'logLevel', 'metricsPort'] as const;

function readServices(r: ConfigReader, defaults: Defaults): Omit<ServicesSettings, 'producer' | 'consumer'> {
  return {
    imageName: r.string('imageName', `${projectName}/services:${defaults.stack}`, imagePattern),
    baseImage: r.string('baseImage', 'node:20-bookworm-slim', imagePattern),
    buildArgs: r.stringMap('buildArgs'),
    buildContext: r.string('buildContext', defaults.repoRoot),
    uid: r.int('uid', 1000, { min: 1, max: 65534 }),
    logLevel: r.oneOf('logLevel', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, 'info'),
    metricsPort: r.int('metricsPort', 9464, { min: 1024, max: 65535 }),
  };
}

const monitoringKeys = ['grafana', 'prometheusImage', 'grafanaImage', 'prometheusPort', 'grafanaPort', 'scrapeIntervalSeconds', 'grafanaAdminUser'] as const;

function readMonitoring(r: ConfigReader): MonitoringSettings {
  const prometheusPort = r.int('prometheusPort', 9090, { min: 1024, max: 65535 });
  const grafanaPort = r.int('grafanaPort', 3000, { min: 1024, max: 65535 });
  r.check(prometheusPort !== grafanaPort, 'grafanaPort', `=${grafanaPort} is also prometheusPort`);
  return {
    grafana: r.bool('grafana', true),
    prometheusImage: r.string('prometheusImage', 'prom/prometheus:v2.53.2', imagePattern),
    grafanaImage: r.string('grafanaImage', 'grafana/grafana:11.2.0', imagePattern),
    prometheusPort,
    grafanaPort,
    scrapeIntervalSeconds: r.int('scrapeIntervalSeconds', 15, { min: 1, max: 3600 }),
    grafanaAdminUser: r.string('grafanaAdminUser', 'admin', { regex: /^[A-Za-z0-9._-]{1,64}$/, describe: '1-64 of A-Z a-z 0-9 . _ -' }),
  };
}
