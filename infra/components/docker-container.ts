// Turns a ContainerSpec (rendered by a pure function) into a docker.Container. The spec is an
// Output because it is rendered inside apply from certificates and passwords; only the parts that
// can hold secrets (uploads marked secret, and env when the caller says so) stay secret, so that
// names, ports and images remain readable in previews.
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { statSync } from 'node:fs';
import { bindVersion, bindVersionLabel, type ContainerSpec, type FileUpload } from '../render/container-spec';
import { dockerReadBackValues } from '../render/docker-values';

export interface ContainerFromSpecArgs {
  spec: pulumi.Output<ContainerSpec>;
  /** The spec's name, known before rendering: the resource's name. */
  name: string;
  networkName: pulumi.Input<string>;
  image: pulumi.Input<string>;
  /** Environment values include secrets (Grafana's admin password). */
  secretEnv?: boolean;
  /** Block until the healthcheck passes, so dependents start against a working service. */
  waitHealthy?: boolean;
}

const octal = (mode: number | undefined): string | undefined => (mode === undefined ? undefined : `0${mode.toString(8)}`);

/**
 * One upload as the docker provider takes it (docker.types.input.ContainerUpload, plain values). The
 * provider writes each upload as its own tar archive with `permissions` as the mode; with an `owner`
 * or `group` it also asks Docker for `copyUIDGID`, which makes the daemon look the container's `user`
 * up in the *host's* passwd database (moby#34142): `1000:1000` fails everywhere. So we never set
 * them: every uploaded file is owned by root, and a service reads its keys through group 0
 * (the container runs as `<uid>:0`, keys are 0640). tools/docker replays exactly this rule.
 */
export interface ProviderUpload {
  file: string;
  permissions?: string;
  owner?: string;
  group?: string;
  content?: string;
  contentBase64?: string;
}

export function providerUpload(u: FileUpload): ProviderUpload {
  const common = { file: u.path, ...(u.mode === undefined ? {} : { permissions: octal(u.mode) }) };
  return u.base64 ? { ...common, contentBase64: u.content } : { ...common, content: u.content };
}

/** Size and mtime of a bound file as a label: a changed file changes the label, which replaces the container. */
function bindLabels(spec: ContainerSpec): docker.types.input.ContainerLabel[] {
  if (!spec.binds?.length) return [];
  return [{ label: bindVersionLabel, value: bindVersion(spec.binds, (p) => statSync(p, { throwIfNoEntry: false })) }];
}

export function containerFromSpec(args: ContainerFromSpecArgs, opts: pulumi.CustomResourceOptions): docker.Container {
  const plain = <T>(pick: (s: ContainerSpec) => T): pulumi.Output<T> => pulumi.unsecret(args.spec.apply(pick));
  const env = args.spec.apply((s) => Object.entries(s.env).map(([k, v]) => `${k}=${v}`));
  return new docker.Container(args.name, {
    name: plain((s) => s.name),
    image: args.image,
    entrypoints: plain((s) => s.entrypoint),
    command: plain((s) => s.command),
    envs: args.secretEnv ? pulumi.secret(env) : pulumi.unsecret(env),
    // Written as Docker reports them back (infra/render/docker-values.ts), so a second `up` is a no-op.
    ports: plain((s) => dockerReadBackValues(s).ports),
    // Secret as a whole when the spec was rendered from keys: Pulumi keeps secrecy per property.
    uploads: args.spec.apply((s) => s.uploads.map(providerUpload)),
    volumes: plain((s) => [
      ...s.volumes.map((v) => ({ volumeName: v.volumeName, containerPath: v.containerPath })),
      ...(s.binds ?? []).map((b) => ({ hostPath: b.hostPath, containerPath: b.containerPath, readOnly: b.readOnly })),
    ]),
    labels: plain(bindLabels),
    networksAdvanced: [{ name: args.networkName, aliases: plain((s) => s.networkAliases) }],
    user: plain((s) => s.user),
    restart: plain((s) => dockerReadBackValues(s).restart),
    healthcheck: plain((s) => dockerReadBackValues(s).healthcheck),
    memory: plain((s) => dockerReadBackValues(s).memory),
    memorySwap: plain((s) => dockerReadBackValues(s).memorySwap),
    logDriver: plain((s) => dockerReadBackValues(s).logDriver),
    wait: args.waitHealthy ?? false,
    waitTimeout: 300,
    // Stop gracefully: Kafka's controlled shutdown and the consumer's transaction abort need time.
    destroyGraceSeconds: 60,
    stopTimeout: 60,
  }, opts);
}
