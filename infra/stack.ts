// The whole stack from one validated config: PKI, network, Kafka, topics and ACLs, services,
// monitoring. index.ts calls this; the unit tests call it too, with mocks, for dev and prod.
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
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
import { aclBindings, clientIdentities } from './security/acl-rules';

export interface AdminBundle {
  bootstrapServers: string;
  caCertPem: string;
  certPem: string;
  keyPem: string;
  /** Protects the bundle's PKCS12 store. */
  password: string;
}

export interface StackOutputs {
  bootstrapServers: pulumi.Output<string>;
  grafanaUrl: pulumi.Output<string>;
  prometheusUrl: pulumi.Output<string>;
  topics: pulumi.Output<Record<TopicRole, string>>;
  /** Secret: everything `npm run certs` needs to write the admin's client bundle. */
  adminBundle: pulumi.Output<AdminBundle>;
}

export function buildStack(config: StackConfig, secrets: StackSecrets = {}): StackOutputs {
  const prefix = config.namePrefix;
  const generated = new GeneratedSecrets('secrets', secrets);
  const pki = new Pki('pki', { settings: config.pki, brokers: config.kafka.brokers, clients: clientIdentities });
  const admin = pki.clients.admin!;
  const network = new docker.Network('network', { name: `${prefix}-net`, driver: 'bridge' });

  const kafka = new KafkaCluster('kafka', {
    namePrefix: prefix,
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

  const topicNames = Object.fromEntries(config.topics.map((t) => [t.role, t.name])) as Record<TopicRole, string>;
  const adminConnection = pulumi.secret(pulumi.all([kafka.externalBootstrap, pki.caCertPem, admin.certPem, admin.keyPem])
    .apply(([brokers, ca, cert, key]) => ({ brokers, ca, cert, key })));
  const topicsAndAcls = new TopicsAndAcls('topics-and-acls', {
    topics: config.topics,
    bindings: aclBindings(config.aclRules, topicNames),
    connection: adminConnection,
  }, { dependsOn: kafka.gates });

  new Services('services', {
    namePrefix: prefix,
    kafka: config.kafka,
    settings: config.services,
    networkName: network.name,
    topicNames: topicsAndAcls.topicNames,
    caCertPem: pki.caCertPem,
    producer: pki.clients.producer!,
    consumer: pki.clients.consumer!,
    adminConnection,
  }, { dependsOn: [topicsAndAcls] });

  const monitoring = new Monitoring('monitoring', {
    namePrefix: prefix,
    bindAddress: config.kafka.bindAddress,
    settings: config.monitoring,
    services: config.services,
    networkName: network.name,
    grafanaAdminPassword: generated.grafanaAdminPassword,
  });

  const bootstrapServers = kafka.externalBootstrap.apply((b) => b.join(','));
  return {
    bootstrapServers,
    grafanaUrl: monitoring.grafanaUrl,
    prometheusUrl: monitoring.prometheusUrl,
    topics: topicsAndAcls.topicNames,
    adminBundle: pulumi.secret(pulumi.all([bootstrapServers, pki.caCertPem, admin.certPem, admin.keyPem, generated.bundlePassword])
      .apply(([bootstrap, caCertPem, certPem, keyPem, password]) => ({ bootstrapServers: bootstrap, caCertPem, certPem, keyPem, password }))),
  };
}
