// Runs the Pulumi program (infra/index.ts) for a checked-in stack file (Pulumi.<stack>.yaml) under
// pulumi.runtime.setMocks and records every resource it registers, with its inputs. One stack per
// process: Pulumi's runtime state is global, so each stack has its own test file.
import * as pulumi from '@pulumi/pulumi';
import { load } from 'js-yaml';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RawStackConfig, StackConfig } from '../../infra/config/stack-config';
import type { StackOutputs } from '../../infra/stack';
import { kafkaVersion, repoRoot } from '../../tools/kafka/kafka-runtime';

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Names of the resources the engine would wait for before this one: dependsOn and every input's. */
  dependencies: string[];
  /** Per input property, the names of the resources its value came from. */
  propertyDependencies: Record<string, string[]>;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(each: (deps: { getUrnsList(): string[] }, key: string) => void): void };
}
interface MockMonitor { registerResource(req: RegisterRequest, callback: unknown): Promise<void> }

const urnName = (urn: string): string => urn.slice(urn.lastIndexOf('::') + 2);

/** The mocks' newResource does not see dependencies; the monitor's registration request does. */
function recordDependencies(into: Map<string, Pick<RecordedResource, 'dependencies' | 'propertyDependencies'>>): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => (propertyDependencies[key] = deps.getUrnsList().map(urnName)));
    into.set(`${req.getType()}::${req.getName()}`, { dependencies: req.getDependenciesList().map(urnName), propertyDependencies });
    return register(req, callback);
  };
}

const project = 'ecommerce-pipeline';

/** The stack file's `config:` block as the program reads it (project prefix stripped). */
export function readStackFile(stack: string): RawStackConfig {
  const file = load(readFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), 'utf8')) as { config?: Record<string, unknown> };
  return Object.fromEntries(Object.entries(file.config ?? {}).map(([key, value]) => [key.replace(`${project}:`, ''), value]));
}

/** The PEM the mocks give a resource: its name, hashed, so a test can tell whose certificate ended up where. */
export const fakePem = (label: string, seed: string): string =>
  `-----BEGIN ${label}-----\n${createHash('sha256').update(seed).digest('base64')}\n-----END ${label}-----\n`;

/** What the providers would compute: the outputs the program reads from each resource type. */
function computedState(type: string, name: string): Record<string, unknown> {
  switch (type) {
    case 'tls:index/privateKey:PrivateKey':
      return { privateKeyPem: fakePem('EC PRIVATE KEY', name), privateKeyPemPkcs8: fakePem('PRIVATE KEY', name), publicKeyPem: fakePem('PUBLIC KEY', name) };
    case 'tls:index/selfSignedCert:SelfSignedCert':
    case 'tls:index/locallySignedCert:LocallySignedCert':
      return { certPem: fakePem('CERTIFICATE', name) };
    case 'tls:index/certRequest:CertRequest':
      return { certRequestPem: fakePem('CERTIFICATE REQUEST', name) };
    case 'random:index/randomPassword:RandomPassword':
      return { result: `generated-${createHash('sha256').update(name).digest('hex').slice(0, 24)}` };
    case 'random:index/randomId:RandomId':
      return { b64Url: 'MkU0NzQ2NTg0RjQ1NDU1' };
    case 'docker:index/remoteImage:RemoteImage':
      return { imageId: `sha256:${name}` };
    case 'pulumi-nodejs:dynamic/docker:BuiltImage':
      return { imageId: `sha256:${name}`, stepImageIds: [] };
    default:
      return {};
  }
}

export interface MockedStack {
  config: StackConfig;
  outputs: StackOutputs;
  resources: RecordedResource[];
}

/**
 * Loads the program itself (infra/index.ts) for a stack: the stack file's config goes in through
 * Pulumi's config store, as the CLI would pass it; resolves once every resource registered.
 */
export async function buildStackUnderMocks(
  stack: string,
  secrets: Record<string, string> = {},
  raw: RawStackConfig = readStackFile(stack),
  /** Outputs of the stacks a StackReference names, by fully qualified stack name; listed names are secret. */
  references: Record<string, { outputs: Record<string, unknown>; secretOutputNames?: string[] }> = {},
): Promise<MockedStack> {
  const resources: RecordedResource[] = [];
  const dependencies = new Map<string, Pick<RecordedResource, 'dependencies' | 'propertyDependencies'>>();
  await pulumi.runtime.setMocks({
    newResource: (args) => {
      const inputs = args.inputs as Record<string, unknown>;
      const recorded = dependencies.get(`${args.type}::${args.name}`) ?? { dependencies: [], propertyDependencies: {} };
      resources.push({ type: args.type, name: args.name, inputs, ...recorded });
      if (args.type === 'pulumi:pulumi:StackReference') {
        const reference = references[String(inputs.name)];
        if (!reference) throw new Error(`no mocked outputs for the stack reference ${String(inputs.name)}`);
        return { id: String(inputs.name), state: { name: inputs.name, outputs: reference.outputs, secretOutputNames: reference.secretOutputNames ?? [] } };
      }
      return { id: `${args.name}-id`, state: { ...inputs, ...computedState(args.type, args.name) } };
    },
    call: (args) => args.inputs as Record<string, unknown>,
  }, project, stack, false);
  recordDependencies(dependencies);
  const plain = Object.entries(raw).map(([key, value]): [string, string] => [`${project}:${key}`, JSON.stringify(value)]);
  const secret = Object.entries(secrets).map(([key, value]): [string, string] => [`${project}:${key}`, value]);
  pulumi.runtime.setAllConfig(Object.fromEntries([...plain, ...secret]), secret.map(([key]) => key));
  // Imported only now: the program must see the mocks and the config.
  const program = await import('../../infra/index');
  const { validateStackConfig } = await import('../../infra/config/stack-config');
  const config = validateStackConfig(raw, { stack, kafkaVersion: kafkaVersion(), repoRoot });
  const outputs: StackOutputs = {
    bootstrapServers: program.bootstrapServers,
    grafanaUrl: program.grafanaUrl,
    prometheusUrl: program.prometheusUrl,
    topics: program.topics,
    ...(program.adminBundle ? { adminBundle: program.adminBundle } : {}),
    ...(program.serviceCredentials ? { serviceCredentials: program.serviceCredentials } : {}),
  };
  if (outputs.adminBundle) await settled(outputs.adminBundle);
  await settled(outputs.topics);
  // Resources register asynchronously; wait until the count stops growing.
  let count = -1;
  while (count !== resources.length) {
    count = resources.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { config, outputs, resources };
}

export function settled<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

export const ofType = (resources: RecordedResource[], type: string): RecordedResource[] => resources.filter((r) => r.type === type);
