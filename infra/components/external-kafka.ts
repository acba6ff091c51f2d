// A Kafka cluster this stack does not run (`kafka.mode: external`): a managed service or a Strimzi
// cluster. No broker is created; the component checks the cluster can host the stack, and gives
// the producer and the consumer identities of their own: certificates signed by a CA the cluster
// trusts (given as secrets), ready-made certificates (given as secrets), or SCRAM-SHA-512 users it
// creates with the admin identity. The admin's credentials go to the admin resources only.
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as tls from '@pulumi/tls';
import type { ExternalKafkaSettings } from '../config/external-kafka-config';
import type { TopicSettings } from '../config/stack-config';
import { KafkaClusterCheck } from '../kafka-admin/cluster-check';
import type { AdminConnection } from '../kafka-admin/connection';
import { KafkaScramUser } from '../kafka-admin/scram-users';
import { clientParams, type PkiSettings } from '../pki/pki-params';
import type { ClientCredentials } from '../render/service-containers';
import { keyOf } from './pki';

/** The secret config values (`kafkaCaCertPem`, …) externalSecretKeys() asked for, by key. */
export type ExternalKafkaSecrets = Partial<Record<string, pulumi.Output<string>>>;

export interface ExternalKafkaArgs {
  settings: ExternalKafkaSettings;
  secrets: ExternalKafkaSecrets;
  topics: TopicSettings[];
  /** Subjects of the certificates signed here (signed-certificates). */
  pki: PkiSettings;
  /** The config key naming the cluster, for messages. */
  clusterKey: string;
}

type Service = 'producer' | 'consumer';

export class ExternalKafka extends pulumi.ComponentResource {
  public readonly bootstrapServers: pulumi.Output<string[]>;
  public readonly caCertPem: pulumi.Output<string>;
  /** Secret: the admin identity, for the topic, ACL and user resources only. */
  public readonly adminConnection: pulumi.Output<AdminConnection>;
  /** Secret: each service's own identity. */
  public readonly clients: Record<Service, pulumi.Output<ClientCredentials>>;
  /** What must exist before topics, ACLs and services: the cluster check and the SCRAM users. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: ExternalKafkaArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ecommerce-pipeline:kafka:ExternalKafka', name, {}, opts);
    const { settings } = args;
    const secret = (key: string): pulumi.Output<string> => {
      const value = args.secrets[key];
      if (!value) throw new pulumi.RunError(`${key} is required with kafka.mode: external (pulumi config set --secret ${key} < file)`);
      return value;
    };
    this.bootstrapServers = pulumi.output(settings.bootstrapServers);
    this.caCertPem = secret('kafkaCaCertPem');
    this.adminConnection = pulumi.secret(settings.authentication === 'mtls'
      ? pulumi.all([this.caCertPem, secret('kafkaAdminCertPem'), secret('kafkaAdminKeyPem')]).apply(([ca, cert, key]): AdminConnection => ({ brokers: settings.bootstrapServers, ca, cert, key }))
      : pulumi.all([this.caCertPem, secret('kafkaAdminUsername'), secret('kafkaAdminPassword')]).apply(([ca, username, password]): AdminConnection => ({
        brokers: settings.bootstrapServers, ca, sasl: { mechanism: 'scram-sha-512', username, password },
      })));
    const check = new KafkaClusterCheck(`${name}-check`, {
      connection: this.adminConnection,
      replication: args.topics.map((t) => ({ key: `ecommerce-pipeline:topics.${t.role}.replicationFactor`, replicationFactor: t.replicationFactor })),
      clusterKey: args.clusterKey,
    }, { parent: this });
    this.ready = [check];
    const identity = (service: Service): pulumi.Output<ClientCredentials> => {
      switch (settings.clients) {
        case 'scram-sha-512': return this.scramUser(name, service, settings.principals[service], check);
        case 'given-certificates': return this.tlsClient(secret(`kafka${capitalized(service)}CertPem`), secret(`kafka${capitalized(service)}KeyPem`));
        case 'signed-certificates': return this.signedClient(name, service, args.pki, secret('kafkaClientsCaCertPem'), secret('kafkaClientsCaKeyPem'));
      }
    };
    this.clients = { producer: identity('producer'), consumer: identity('consumer') };
    this.registerOutputs({ bootstrapServers: this.bootstrapServers });
  }

  private tlsClient(certPem: pulumi.Input<string>, keyPem: pulumi.Input<string>): pulumi.Output<ClientCredentials> {
    return pulumi.secret(pulumi.all([this.caCertPem, certPem, keyPem]).apply(([caCertPem, cert, key]): ClientCredentials => ({ caCertPem, certPem: cert, keyPem: key })));
  }

  private signedClient(name: string, service: Service, pki: PkiSettings, caCertPem: pulumi.Output<string>, caKeyPem: pulumi.Output<string>): pulumi.Output<ClientCredentials> {
    const params = clientParams(pki, service);
    const key = keyOf(`${name}-${service}`, this);
    const request = new tls.CertRequest(`${name}-${service}-csr`, { privateKeyPem: key.privateKeyPem, subject: params.subject }, { parent: this });
    const cert = new tls.LocallySignedCert(`${name}-${service}-cert`, {
      certRequestPem: request.certRequestPem,
      caPrivateKeyPem: caKeyPem,
      caCertPem,
      validityPeriodHours: params.validityHours,
      earlyRenewalHours: params.earlyRenewalHours,
      allowedUses: params.allowedUses,
      isCaCertificate: false,
    }, { parent: this });
    return this.tlsClient(cert.certPem, pulumi.secret(key.privateKeyPemPkcs8));
  }

  private scramUser(name: string, service: Service, username: string, check: pulumi.Resource): pulumi.Output<ClientCredentials> {
    const password = new random.RandomPassword(`${name}-${service}-password`, { length: 32, special: false }, { parent: this, additionalSecretOutputs: ['result'] }).result;
    const user = new KafkaScramUser(`${name}-${service}-user`, { username, password, connection: this.adminConnection }, { parent: this, dependsOn: [check] });
    this.ready.push(user);
    return pulumi.secret(pulumi.all([this.caCertPem, password, user.id]).apply(([caCertPem, pw]): ClientCredentials => ({ caCertPem, username, password: pw })));
  }
}

const capitalized = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
