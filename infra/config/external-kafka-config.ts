// `kafka.mode: external` and `stack.shape`: a cluster someone else runs (a managed service, Strimzi),
// reached as an administrator by mutual TLS or SASL/SCRAM-SHA-512 over TLS, and stacks that split
// the cluster from the workers. Plain values only; the PEMs, keys and passwords are Pulumi secrets
// (externalSecretKeys names which ones a stack needs, infra/config.ts reads them).
import { ConfigReader } from './reader';

export const externalAuthentications = ['mtls', 'scram-sha-512'] as const;
export type ExternalAuthentication = (typeof externalAuthentications)[number];
/** How the producer and consumer get identities the cluster accepts. */
export const externalClientIdentities = ['signed-certificates', 'given-certificates', 'scram-sha-512'] as const;
export type ExternalClientIdentities = (typeof externalClientIdentities)[number];

export interface ExternalKafkaSettings {
  bootstrapServers: string[];
  /** The cluster's broker count, if the stack states it: replication factors above it are refused at preview. */
  brokerCount?: number;
  /** How the program's topic, ACL and user resources authenticate (as a super user of that cluster). */
  authentication: ExternalAuthentication;
  clients: ExternalClientIdentities;
  /**
   * The principal names the cluster gives the producer and the consumer (ACLs are written for
   * them): a certificate's name after the cluster's ssl.principal.mapping.rules, or the SCRAM user.
   */
  principals: { producer: string; consumer: string };
}

export const externalKeys = ['bootstrapServers', 'brokerCount', 'authentication', 'clients', 'principals'] as const;
const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const principalPattern = { regex: /^[A-Za-z0-9._=, -]{1,200}$/, describe: "a principal name without 'User:' (1-200 of A-Z a-z 0-9 . _ = , - space)" };

export function readExternalKafka(r: ConfigReader, namePrefix: string): ExternalKafkaSettings {
  const list = r.list('bootstrapServers') ?? [];
  if (list.length === 0) r.problem('bootstrapServers', 'is required with mode: external (a list of host:port)');
  const bootstrapServers = list.filter((entry, i): entry is string => {
    const ok = typeof entry === 'string' && hostPort.test(entry);
    r.check(ok, `bootstrapServers[${i}]`, `=${JSON.stringify(entry)} must be host:port`);
    return ok;
  });
  const clients = r.oneOf('clients', externalClientIdentities, 'signed-certificates');
  const p = r.child('principals', ['producer', 'consumer']);
  // SCRAM users live in the cluster's one namespace: prefixed, so two stacks never share one.
  const fallback = (who: string): string => (clients === 'scram-sha-512' ? `${namePrefix}-${who}` : who);
  const principals = { producer: p.string('producer', fallback('producer'), principalPattern), consumer: p.string('consumer', fallback('consumer'), principalPattern) };
  p.check(principals.producer !== principals.consumer, 'consumer', `=${principals.consumer} is the producer's principal too (each service has its own identity)`);
  return {
    bootstrapServers,
    ...(r.has('brokerCount') ? { brokerCount: r.int('brokerCount', 1, { min: 1, max: 10000 }) } : {}),
    authentication: r.oneOf('authentication', externalAuthentications, 'mtls'),
    clients,
    principals,
  };
}

/** The secret config keys (`pulumi config set --secret <key> < file`) an external cluster needs. */
export function externalSecretKeys(settings: ExternalKafkaSettings): string[] {
  const keys = ['kafkaCaCertPem'];
  keys.push(...(settings.authentication === 'mtls' ? ['kafkaAdminCertPem', 'kafkaAdminKeyPem'] : ['kafkaAdminUsername', 'kafkaAdminPassword']));
  if (settings.clients === 'signed-certificates') keys.push('kafkaClientsCaCertPem', 'kafkaClientsCaKeyPem');
  if (settings.clients === 'given-certificates') keys.push('kafkaProducerCertPem', 'kafkaProducerKeyPem', 'kafkaConsumerCertPem', 'kafkaConsumerKeyPem');
  return keys;
}

export const stackShapes = ['all', 'kafka', 'workers'] as const;
export type StackShape = (typeof stackShapes)[number];

export interface ShapeSettings {
  /** all: everything on one Docker host; kafka: cluster, topics, ACLs, identities; workers: services and monitoring. */
  shape: StackShape;
  /** workers: the kafka stack whose outputs it reads (`organization/project/stack`). */
  kafkaStack?: string;
}

export const shapeKeys = ['shape', 'kafkaStack'] as const;

export function readShape(r: ConfigReader): ShapeSettings {
  const shape = r.oneOf('shape', stackShapes, 'all');
  if (shape !== 'workers') {
    r.check(!r.has('kafkaStack'), 'kafkaStack', 'applies to shape: workers only');
    return { shape };
  }
  const kafkaStack = r.string('kafkaStack', '', { regex: /^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/, describe: 'a fully qualified stack name, organization/project/stack' });
  r.check(kafkaStack !== '', 'kafkaStack', 'is required with shape: workers (the kafka stack to read bootstrap, CA, topics and identities from)');
  return { shape, kafkaStack };
}
