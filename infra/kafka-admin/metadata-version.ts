// The cluster's metadata version (the KRaft feature `metadata.version`) as a resource. A rolling
// Kafka upgrade runs the new software at the old metadata version, so that a broker can still be
// rolled back; once every broker runs the new version the level is raised, which cannot be undone.
// kafkajs has no UpdateFeatures API, so the raise runs Kafka's own tool, kafka-features.sh, inside a
// broker container (Docker exec through the Engine API), as that broker's own identity (a super
// user; the healthcheck's client properties). The resource depends on every broker of the cluster
// (the whole rolling replacement), and the controller refuses a level that any registered broker
// does not support, so it is never raised early.
import * as pulumi from '@pulumi/pulumi';
import { demultiplex, DockerEngine } from '../docker-engine/engine-client';
import { compareRelease } from './kafka-release';
import { kafkaToolEnvList } from '../render/kafka-tool-env';

export { compareRelease, releaseVersionOf } from './kafka-release';

export interface MetadataVersionInputs {
  /** Broker container the tool runs in. */
  containerName: string;
  /** The broker's own listener and client properties inside that container. */
  bootstrapServer: string;
  commandConfig: string;
  /** Kafka release whose newest metadata version the cluster runs, "major.minor" (4.1, 4.2, …). */
  releaseVersion: string;
  /** Every broker container's id: a replaced broker is a reason to check the level again. */
  brokerContainerIds: string[];
}

export interface MetadataVersionOutputs extends MetadataVersionInputs {
  /** `metadata.version` as the cluster reports it after the raise, e.g. 4.1-IV1. */
  finalizedLevel: string;
}

/** Why the level cannot go from `olds` to `news`, or undefined. */
export function metadataVersionProblem(olds: Pick<MetadataVersionInputs, 'releaseVersion'>, news: Pick<MetadataVersionInputs, 'releaseVersion'>): string | undefined {
  if (compareRelease(news.releaseVersion, olds.releaseVersion) < 0) {
    return `kafka.version ${news.releaseVersion} is older than the metadata version ${olds.releaseVersion} the cluster was raised to: ` +
      'a finalized metadata version cannot be lowered without losing metadata, and brokers of the older release would not start. ' +
      'Keep kafka.version at ' + olds.releaseVersion + '.x or newer.';
  }
  return undefined;
}

/** The `metadata.version` line of `kafka-features.sh describe`. */
export function parseFinalizedLevel(describeOutput: string): string | undefined {
  const line = describeOutput.split('\n').find((l) => /Feature:\s*metadata\.version\b/.test(l));
  return line ? /FinalizedVersionLevel:\s*(\S+)/.exec(line)?.[1] : undefined;
}

/** The tool's arguments: `upgrade` to the release, or `describe`. */
export function featuresCommand(inputs: Pick<MetadataVersionInputs, 'bootstrapServer' | 'commandConfig' | 'releaseVersion'>, action: 'upgrade' | 'describe'): string[] {
  const common = ['/opt/kafka/bin/kafka-features.sh', '--bootstrap-server', inputs.bootstrapServer, '--command-config', inputs.commandConfig];
  return action === 'describe' ? [...common, 'describe'] : [...common, 'upgrade', '--release-version', inputs.releaseVersion];
}

/** Runs a command in a container and returns its exit code and output (stdout then stderr). */
export async function execIn(engine: DockerEngine, container: string, cmd: string[], env: string[] = []): Promise<{ exitCode: number; output: string }> {
  const { Id } = await engine.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, {
    body: { Cmd: cmd, Env: env, AttachStdout: true, AttachStderr: true, Tty: false },
  });
  const { body } = await engine.request('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: false } });
  const { ExitCode } = await engine.json<{ ExitCode: number | null }>('GET', `/exec/${Id}/json`);
  const { stdout, stderr } = demultiplex(body);
  return { exitCode: ExitCode ?? -1, output: `${stdout}${stderr}`.trim() };
}

/** The tool runs beside the broker inside the broker's memory limit, like the healthcheck. */
const toolEnv = kafkaToolEnvList();

/** Raises the level to the release (a no-op at that level already) and returns the finalized level. */
export async function raiseMetadataVersion(engine: DockerEngine, inputs: MetadataVersionInputs): Promise<string> {
  const upgrade = await execIn(engine, inputs.containerName, featuresCommand(inputs, 'upgrade'), toolEnv);
  const describe = await execIn(engine, inputs.containerName, featuresCommand(inputs, 'describe'), toolEnv);
  const level = parseFinalizedLevel(describe.output);
  if (upgrade.exitCode !== 0 || !level || compareRelease(level, inputs.releaseVersion) < 0) {
    throw new Error(
      `raising metadata.version to release ${inputs.releaseVersion} in ${inputs.containerName} failed (exit ${upgrade.exitCode}): ${upgrade.output || '(no output)'}` +
      `${level ? `; the cluster is at ${level}` : ''}. Every broker must run Kafka ${inputs.releaseVersion} or newer first.`,
    );
  }
  return level;
}

export const metadataVersionProvider: pulumi.dynamic.ResourceProvider<MetadataVersionInputs, MetadataVersionOutputs> = {
  async create(inputs) {
    const finalizedLevel = await raiseMetadataVersion(new DockerEngine(), inputs);
    return { id: 'metadata.version', outs: { ...inputs, finalizedLevel } };
  },
  async diff(_id, olds, news) {
    const problem = metadataVersionProblem(olds, news);
    if (problem) throw new Error(problem);
    const changes = olds.releaseVersion !== news.releaseVersion || olds.containerName !== news.containerName
      || JSON.stringify(olds.brokerContainerIds) !== JSON.stringify(news.brokerContainerIds);
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async update(_id, olds, news) {
    const problem = metadataVersionProblem(olds, news);
    if (problem) throw new Error(problem);
    const finalizedLevel = await raiseMetadataVersion(new DockerEngine(), news);
    return { outs: { ...news, finalizedLevel } };
  },
  // The level lives in the cluster's metadata log; there is nothing to remove apart from the brokers.
  async delete() {},
};

export interface MetadataVersionArgs {
  containerName: pulumi.Input<string>;
  bootstrapServer: pulumi.Input<string>;
  commandConfig: pulumi.Input<string>;
  releaseVersion: pulumi.Input<string>;
  brokerContainerIds: pulumi.Input<pulumi.Input<string>[]>;
}

export class MetadataVersion extends pulumi.dynamic.Resource {
  declare readonly finalizedLevel: pulumi.Output<string>;

  constructor(name: string, args: MetadataVersionArgs, opts?: pulumi.CustomResourceOptions) {
    super(metadataVersionProvider, name, { ...args, finalizedLevel: undefined }, opts, 'kafka', 'MetadataVersion');
  }
}
