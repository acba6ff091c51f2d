// Checks both stack tests (dev, prod) make on the program's recorded resources.
import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { uploadRequest } from '../../tools/docker/container-config';
import { plaintextStrings, reveal } from './secret-inputs';
import { ofType, settled, type MockedStack, type RecordedResource } from './stack-under-mocks';

export const types = {
  container: 'docker:index/container:Container',
  volume: 'docker:index/volume:Volume',
  network: 'docker:index/network:Network',
  image: 'pulumi-nodejs:dynamic/docker:BuiltImage',
  privateKey: 'tls:index/privateKey:PrivateKey',
  selfSigned: 'tls:index/selfSignedCert:SelfSignedCert',
  signed: 'tls:index/locallySignedCert:LocallySignedCert',
  csr: 'tls:index/certRequest:CertRequest',
  topic: 'pulumi-nodejs:dynamic/kafka:Topic',
  acl: 'pulumi-nodejs:dynamic/kafka:Acl',
  gate: 'pulumi-nodejs:dynamic/kafka:BrokerRollGate',
  consumerGate: 'pulumi-nodejs:dynamic/kafka:ConsumerRollGate',
  password: 'random:index/randomPassword:RandomPassword',
} as const;

export function containerNames(stack: MockedStack): string[] {
  return ofType(stack.resources, types.container).map((c) => String(reveal(c.inputs.name))).sort();
}

export function container(stack: MockedStack, suffix: string): RecordedResource {
  const found = ofType(stack.resources, types.container).find((c) => String(reveal(c.inputs.name)).endsWith(`-${suffix}`));
  assert.ok(found, `no container named *-${suffix}`);
  return found;
}

export function resource(stack: MockedStack, type: string, name: string): RecordedResource {
  const found = stack.resources.find((r) => r.type === type && r.name === name);
  assert.ok(found, `no ${type} named ${name}`);
  return found;
}

/** The broker roll gates in node order, as [name, nodeId, containerId, waitOnCreate]. */
export function gateChain(stack: MockedStack): [string, unknown, unknown, unknown][] {
  return ofType(stack.resources, types.gate)
    .sort((a, b) => Number(a.inputs.nodeId) - Number(b.inputs.nodeId))
    .map((g) => [g.name, g.inputs.nodeId, g.inputs.containerId, g.inputs.waitOnCreate]);
}

export interface Upload {
  file: string;
  content?: string;
  contentBase64?: string;
  source?: string;
  permissions?: string;
  owner?: string;
  group?: string;
}

export function uploads(c: RecordedResource): Upload[] {
  return reveal(c.inputs.uploads) as Upload[];
}

export function upload(c: RecordedResource, file: string): Upload {
  const found = uploads(c).find((u) => u.file === file);
  assert.ok(found, `${String(reveal(c.inputs.name))} has no upload ${file}`);
  return found;
}

export function env(c: RecordedResource): Record<string, string> {
  return Object.fromEntries((reveal(c.inputs.envs) as string[]).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** The ACLs as `principal operation resourceType:name(pattern)` lines, sorted. */
export function aclLines(stack: MockedStack): string[] {
  return ofType(stack.resources, types.acl)
    .map((a) => {
      const i = a.inputs as Record<string, string>;
      return `${i.principal} ${i.operation} ${i.resourceType}:${i.resourceName}${i.patternType === 'prefixed' ? '*' : ''}`;
    })
    .sort();
}

/** No private key and no password may appear anywhere outside a secret: inputs or outputs. */
export async function assertNoPlaintextSecrets(stack: MockedStack, configuredSecrets: string[] = []): Promise<void> {
  const bundle = stack.outputs.adminBundle && await settled(stack.outputs.adminBundle);
  const passwords = [...(bundle ? [bundle.password] : []), ...configuredSecrets];
  for (const resource of stack.resources) {
    for (const { path, text } of plaintextStrings(resource.inputs)) {
      assert.doesNotMatch(text, /PRIVATE KEY/, `${resource.type} ${resource.name}: ${path} holds a private key in plaintext`);
      for (const password of passwords) assert.ok(!text.includes(password), `${resource.name}: ${path} holds a password in plaintext`);
    }
  }
  for (const [name, output] of Object.entries({ adminBundle: stack.outputs.adminBundle, serviceCredentials: stack.outputs.serviceCredentials })) {
    if (output) assert.equal(await pulumi.isSecret(output as pulumi.Output<unknown>), true, `the ${name} output must be secret`);
  }
  const { bootstrapServers, grafanaUrl, prometheusUrl, topics } = stack.outputs;
  for (const [name, output] of Object.entries({ bootstrapServers, grafanaUrl, prometheusUrl, topics })) {
    assert.equal(await pulumi.isSecret(output as pulumi.Output<unknown>), false, `${name} is not a secret and should stay readable`);
  }
}

/** The least-privilege table, written out independently of infra/security/acl-rules.ts. */
export const expectedAcls = [
  'User:consumer Describe topic:ecommerce_consumer_changelog',
  'User:consumer Describe topic:ecommerce_consumer_repartition',
  'User:consumer Describe topic:ecommerce_dead_letter',
  'User:consumer Describe topic:ecommerce_late_events',
  'User:consumer Describe topic:ecommerce_topic',
  'User:consumer Describe topic:processed_ecommerce_topic',
  'User:consumer Describe transactionalId:ecommerce-consumer*',
  'User:consumer Read group:ecommerce-consumer*',
  'User:consumer Read topic:ecommerce_consumer_changelog',
  'User:consumer Read topic:ecommerce_consumer_repartition',
  'User:consumer Read topic:ecommerce_topic',
  'User:consumer Write topic:ecommerce_consumer_changelog',
  'User:consumer Write topic:ecommerce_consumer_repartition',
  'User:consumer Write topic:ecommerce_dead_letter',
  'User:consumer Write topic:ecommerce_late_events',
  'User:consumer Write topic:processed_ecommerce_topic',
  'User:consumer Write transactionalId:ecommerce-consumer*',
  'User:producer Describe topic:ecommerce_dead_letter',
  'User:producer Describe topic:ecommerce_producer_offsets',
  'User:producer Describe topic:ecommerce_topic',
  'User:producer Describe transactionalId:ecommerce-producer',
  'User:producer Read group:ecommerce-producer*',
  'User:producer Read topic:ecommerce_producer_offsets',
  'User:producer Write topic:ecommerce_dead_letter',
  'User:producer Write topic:ecommerce_producer_offsets',
  'User:producer Write topic:ecommerce_topic',
  'User:producer Write transactionalId:ecommerce-producer',
].sort();

/**
 * What the provider does with the program's uploads must work on any Docker host: no upload carries
 * an owner or group (the provider would ask for copyUIDGID, and the daemon would look the container's
 * user up in the host's passwd), every user is numeric, and every container holding a 0640 file runs
 * with group 0, which reads it.
 */
export function assertUploadsNeedNoHostLookup(stack: MockedStack): void {
  for (const c of ofType(stack.resources, types.container)) {
    const name = String(reveal(c.inputs.name));
    const user = reveal(c.inputs.user) as string | undefined;
    if (user !== undefined) assert.match(user, /^\d+:\d+$/, `${name}: user ${user} must be numeric uid:gid`);
    for (const u of uploads(c)) {
      const request = uploadRequest({ ...u, ...(u.source ? { source: '/dev/null' } : {}) });
      assert.equal(request.copyUIDGID, false, `${name} ${u.file}: the provider would use copyUIDGID`);
      if (u.permissions === '0640') assert.match(user ?? '', /:0$/, `${name} ${u.file} is 0640 (root:root) but the container does not run with group 0`);
      assert.equal(Number.parseInt(u.permissions ?? '644', 8) & 0o002, 0, `${name} ${u.file}: world-writable`);
    }
  }
}
