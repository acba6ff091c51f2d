// server.properties of one KRaft node (combined broker + controller), from plain values. The same
// function renders the properties of a deployed container and of the test harness's loopback
// nodes, so the integration tests start exactly what the stack deploys.
import { brokerUnit, clientUnit } from '../pki/pki-params';

export interface Endpoint {
  host: string;
  port: number;
}

export interface ServerPropertiesInput {
  nodeId: number;
  /** `controller.quorum.voters`: id@host:port of every node. */
  voters: string;
  /** Where each listener binds (0.0.0.0 in a container, the loopback host in the harness). */
  bind: { controller: Endpoint; internal: Endpoint; external: Endpoint };
  /** What the brokers tell clients: INTERNAL on the Docker network, EXTERNAL on the host. */
  advertised: { internal: Endpoint; external: Endpoint };
  logDirs: string;
  tls: {
    /** PEM file with this broker's private key (PKCS#8) followed by its certificate. */
    keystoreLocation: string;
    /** PEM file with the CA certificate. */
    truststoreLocation: string;
  };
  /** Mutual TLS on the controller listener too; otherwise plaintext on the private network. */
  controllerTls: boolean;
  /** Principal short names with every right: the brokers and the admin identity. */
  superUsers: string[];
  organization: string;
  /** Replication of Kafka's internal topics and the defaults of auto-created ones. */
  replication: { factor: number; minInsyncReplicas: number };
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Java's Properties.load reads a backslash as an escape character. */
const escapeProperty = (text: string): string => text.replace(/\\/g, '\\\\');

/**
 * Certificates of this stack's CA map to their CN (`User:producer`, `User:kafka-1`); anything else
 * keeps its full subject as principal, which no ACL names, so it is denied by default.
 */
export function principalMappingRules(organization: string): string {
  const org = escapeRegex(organization);
  return `RULE:^CN=([A-Za-z0-9._-]+),OU=(${brokerUnit}|${clientUnit}),O=${org}$/$1/,DEFAULT`;
}

function tlsProperties(prefix: string, input: ServerPropertiesInput): string[] {
  return [
    `${prefix}ssl.keystore.type=PEM`,
    `${prefix}ssl.keystore.location=${input.tls.keystoreLocation}`,
    `${prefix}ssl.truststore.type=PEM`,
    `${prefix}ssl.truststore.location=${input.tls.truststoreLocation}`,
    `${prefix}ssl.client.auth=required`,
    `${prefix}ssl.endpoint.identification.algorithm=https`,
    `${prefix}ssl.enabled.protocols=TLSv1.3,TLSv1.2`,
  ];
}

export function renderServerProperties(input: ServerPropertiesInput): string {
  const { bind, advertised } = input;
  const controllerProtocol = input.controllerTls ? 'SSL' : 'PLAINTEXT';
  // On a plaintext controller listener the brokers' own controller requests arrive as ANONYMOUS,
  // and StandardAuthorizer must let them through; no client listener can yield ANONYMOUS because
  // every one of them requires a client certificate.
  const superUsers = [...input.superUsers, ...(input.controllerTls ? [] : ['ANONYMOUS'])];
  const lines = [
    '# Rendered by infra/render/server-properties.ts; do not edit in the container.',
    'process.roles=broker,controller',
    `node.id=${input.nodeId}`,
    `controller.quorum.voters=${input.voters}`,
    `listeners=CONTROLLER://${bind.controller.host}:${bind.controller.port},INTERNAL://${bind.internal.host}:${bind.internal.port},EXTERNAL://${bind.external.host}:${bind.external.port}`,
    `advertised.listeners=INTERNAL://${advertised.internal.host}:${advertised.internal.port},EXTERNAL://${advertised.external.host}:${advertised.external.port}`,
    `listener.security.protocol.map=CONTROLLER:${controllerProtocol},INTERNAL:SSL,EXTERNAL:SSL`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=INTERNAL',
    `log.dirs=${input.logDirs}`,
    '',
    '# Security: mutual TLS everywhere clients connect, deny unless an ACL allows.',
    ...tlsProperties('', input),
    ...(input.controllerTls ? tlsProperties('listener.name.controller.', input) : []),
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    `super.users=${superUsers.map((u) => `User:${u}`).join(';')}`,
    `ssl.principal.mapping.rules=${escapeProperty(principalMappingRules(input.organization))}`,
    '',
    '# Durability: topics are created by the stack, never by a client by accident.',
    'auto.create.topics.enable=false',
    `default.replication.factor=${input.replication.factor}`,
    `min.insync.replicas=${input.replication.minInsyncReplicas}`,
    `offsets.topic.replication.factor=${input.replication.factor}`,
    `transaction.state.log.replication.factor=${input.replication.factor}`,
    `transaction.state.log.min.isr=${input.replication.minInsyncReplicas}`,
    'unclean.leader.election.enable=false',
    'group.initial.rebalance.delay.ms=3000',
    '',
  ];
  return lines.join('\n');
}
