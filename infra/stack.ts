// The whole stack from one validated config: the Kafka cluster (bundled: PKI, network and brokers;
// external: someone else's, reached as its admin), topics and ACLs, services, monitoring. The
// stack's shape picks the parts: all of them, the kafka side only, or the workers side only, which
// reads the kafka stack's outputs through a StackReference. index.ts calls this; the unit tests
// call it too, with mocks.
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { ExternalKafka } from './components/external-kafka';
import { GeneratedSecrets } from './components/generated-secrets';
import { KafkaCluster } from './components/kafka-cluster';
import { Monitoring } from './components/monitoring';
import { Pki } from './components/pki';
import { Services } from './components/services';
import { TopicsAndAcls } from './components/topics-and-acls';
import { MetadataVersion } from './kafka-admin/metadata-version';
import { brokerName } from './pki/pki-params';
import { kafkaPaths, kafkaPorts } from './render/kafka-container';
import type { TopicRole } from '../services/core/topics';
import type { StackConfig } from './config/stack-config';
import type { StackSecrets } from './config';
import type { AdminConnection } from './kafka-admin/connection';
import type { ClientCredentials } from './render/service-containers';
import { aclBindings, clientIdentities } from './security/acl-rules';

export interface AdminBundle {
  bootstrapServers: string;
  caCertPem: string;
  certPem: string;
  keyPem: string;
  /** Protects the bundle's PKCS12 store. */
  password: string;
}

export type ServiceCredentials = Record<'producer' | 'consumer', ClientCredentials>;

export interface StackOutputs {
  bootstrapServers: pulumi.Output<string>;
  /** Empty where the stack runs no monitoring (shape kafka) or no Grafana. */
  grafanaUrl: pulumi.Output<string>;
  prometheusUrl: pulumi.Output<string>;
  topics: pulumi.Output<Record<TopicRole, string>>;
  /** Secret: everything `npm run certs` needs to write the admin's client bundle (the bundled cluster only). */
  adminBundle?: pulumi.Output<AdminBundle>;
  /** Secret, shape kafka only: the producer's and consumer's identities, which a workers stack reads. */
  serviceCredentials?: pulumi.Output<ServiceCredentials>;
}

/** The cluster as the rest of the stack sees it, whoever runs it. */
interface ClusterAccess {
  /** host:port list as clients outside the stack's Docker network reach it. */
  bootstrapServers: pulumi.Output<string[]>;
  /** What the services connect to; undefined: the stack's own brokers by their network names. */
  serviceBootstrap?: pulumi.Output<string>;
  admin: pulumi.Output<AdminConnection>;
  services: Record<'producer' | 'consumer', pulumi.Output<ClientCredentials>>;
  /** Principal names, where the cluster's differ from the identities'. */
  principals: Partial<Record<string, string>>;
  ready: pulumi.Resource[];
  adminBundle?: pulumi.Output<AdminBundle>;
}

export function buildStack(config: StackConfig, secrets: StackSecrets = {}): StackOutputs {
  if (config.stack.shape === 'workers') return buildWorkers(config, secrets);
  const generated = new GeneratedSecrets('secrets', secrets);
  const network = config.kafka.mode === 'bundled' || config.stack.shape === 'all' ? stackNetwork(config) : undefined;
  const cluster = config.kafka.mode === 'external' ? externalCluster(config, secrets) : bundledCluster(config, generated, network!);

  const topicNames = Object.fromEntries(config.topics.map((t) => [t.role, t.name])) as Record<TopicRole, string>;
  const topicsAndAcls = new TopicsAndAcls('topics-and-acls', {
    topics: config.topics,
    bindings: aclBindings(config.aclRules, topicNames, cluster.principals),
    connection: cluster.admin,
  }, { dependsOn: cluster.ready });

  const bootstrapServers = cluster.bootstrapServers.apply((b) => b.join(','));
  const outputs = { bootstrapServers, topics: topicsAndAcls.topicNames, ...(cluster.adminBundle ? { adminBundle: cluster.adminBundle } : {}) };
  if (config.stack.shape === 'kafka') {
    const serviceCredentials = pulumi.secret(pulumi.all([cluster.services.producer, cluster.services.consumer]).apply(([producer, consumer]): ServiceCredentials => ({ producer, consumer })));
    return { ...outputs, serviceCredentials, grafanaUrl: pulumi.output(''), prometheusUrl: pulumi.output('') };
  }
  return { ...outputs, ...workers(config, generated, network!, {
    topicNames: topicsAndAcls.topicNames, credentials: cluster.services, bootstrap: cluster.serviceBootstrap, adminConnection: cluster.admin,
  }, [topicsAndAcls]) };
}

function stackNetwork(config: StackConfig): docker.Network {
  return new docker.Network('network', { name: `${config.namePrefix}-net`, driver: 'bridge' });
}

/** PKI, then the brokers on the stack's network; the admin and the services use certificates of the stack's CA. */
function bundledCluster(config: StackConfig, generated: GeneratedSecrets, network: docker.Network): ClusterAccess {
  const pki = new Pki('pki', { settings: config.pki, brokers: config.kafka.brokers, clients: clientIdentities });
  const admin = pki.clients.admin!;
  const kafka = new KafkaCluster('kafka', {
    namePrefix: config.namePrefix,
    settings: config.kafka,
    organization: config.pki.organization,
    networkName: network.name,
    clusterId: generated.clusterId,
    caCertPem: pki.caCertPem,
    brokers: pki.brokers,
    admin,
  });
  // After the whole (rolling) replacement of the brokers: a Kafka upgrade raises the metadata
  // version only once every broker runs the new release.
  new MetadataVersion('kafka-metadata-version', {
    containerName: kafka.containers[0]!.name,
    bootstrapServer: `${brokerName(1)}:${kafkaPorts.internal}`,
    commandConfig: kafkaPaths.healthcheckConfig,
    releaseVersion: config.kafka.metadataVersion,
    brokerContainerIds: kafka.containers.map((c) => c.id),
  }, { dependsOn: [kafka] });
  const tlsOf = (who: string): pulumi.Output<ClientCredentials> => pulumi.secret(pulumi.all([pki.caCertPem, pki.clients[who]!.certPem, pki.clients[who]!.keyPem])
    .apply(([caCertPem, certPem, keyPem]): ClientCredentials => ({ caCertPem, certPem, keyPem })));
  return {
    bootstrapServers: kafka.externalBootstrap,
    admin: pulumi.secret(pulumi.all([kafka.externalBootstrap, pki.caCertPem, admin.certPem, admin.keyPem]).apply(([brokers, ca, cert, key]) => ({ brokers, ca, cert, key }))),
    services: { producer: tlsOf('producer'), consumer: tlsOf('consumer') },
    principals: {},
    ready: kafka.gates,
    adminBundle: pulumi.secret(pulumi.all([kafka.externalBootstrap, pki.caCertPem, admin.certPem, admin.keyPem, generated.bundlePassword])
      .apply(([bootstrap, caCertPem, certPem, keyPem, password]) => ({ bootstrapServers: bootstrap.join(','), caCertPem, certPem, keyPem, password }))),
  };
}

/** Someone else's cluster: no brokers, identities of the services' own (never the admin's). */
function externalCluster(config: StackConfig, secrets: StackSecrets): ClusterAccess {
  const settings = config.kafka.external!;
  const kafka = new ExternalKafka('kafka', {
    settings, secrets: secrets.external ?? {}, topics: config.topics, pki: config.pki, clusterKey: 'ecommerce-pipeline:kafka.external.bootstrapServers',
  });
  return {
    bootstrapServers: kafka.bootstrapServers,
    serviceBootstrap: kafka.bootstrapServers.apply((b) => b.join(',')),
    admin: kafka.adminConnection,
    services: kafka.clients,
    principals: settings.principals,
    ready: kafka.ready,
  };
}

/** A workers stack: the cluster, topics and identities are the kafka stack's outputs, read, not copied. */
function buildWorkers(config: StackConfig, secrets: StackSecrets): StackOutputs {
  const kafkaStack = new pulumi.StackReference('kafka-stack', { name: config.stack.kafkaStack! });
  const credentials = kafkaStack.requireOutput('serviceCredentials') as pulumi.Output<ServiceCredentials>;
  const topicNames = kafkaStack.requireOutput('topics') as pulumi.Output<Record<TopicRole, string>>;
  const bootstrapServers = kafkaStack.requireOutput('bootstrapServers') as pulumi.Output<string>;
  const generated = new GeneratedSecrets('secrets', secrets);
  return {
    bootstrapServers,
    topics: topicNames,
    ...workers(config, generated, stackNetwork(config), {
      topicNames, bootstrap: bootstrapServers,
      credentials: { producer: credentials.apply((c) => c.producer), consumer: credentials.apply((c) => c.consumer) },
    }, []),
  };
}

interface WorkerInputs {
  topicNames: pulumi.Output<Record<TopicRole, string>>;
  credentials: Record<'producer' | 'consumer', pulumi.Output<ClientCredentials>>;
  bootstrap?: pulumi.Output<string>;
  /** For the consumer roll gates; a workers stack holds no admin identity and rolls without them. */
  adminConnection?: pulumi.Output<AdminConnection>;
}

/** The producer, the consumer replicas and their monitoring. */
function workers(config: StackConfig, generated: GeneratedSecrets, network: docker.Network, kafka: WorkerInputs, after: pulumi.Resource[]): Pick<StackOutputs, 'grafanaUrl' | 'prometheusUrl'> {
  new Services('services', {
    namePrefix: config.namePrefix,
    kafka: config.kafka,
    settings: config.services,
    networkName: network.name,
    topicNames: kafka.topicNames,
    producer: kafka.credentials.producer,
    consumer: kafka.credentials.consumer,
    ...(kafka.bootstrap ? { bootstrap: kafka.bootstrap } : {}),
    ...(kafka.adminConnection ? { adminConnection: kafka.adminConnection } : {}),
  }, { dependsOn: after });

  const monitoring = new Monitoring('monitoring', {
    namePrefix: config.namePrefix,
    bindAddress: config.kafka.bindAddress,
    settings: config.monitoring,
    services: config.services,
    networkName: network.name,
    grafanaAdminPassword: generated.grafanaAdminPassword,
  });
  return { grafanaUrl: monitoring.grafanaUrl, prometheusUrl: monitoring.prometheusUrl };
}
