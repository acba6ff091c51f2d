// The metadata version resource on a real broker container (the dev stack's rendered Kafka
// container on the local Kafka image), through its provider as Pulumi serializes it: Docker exec
// of kafka-features.sh as the broker's own identity. At the release the brokers run it is a no-op
// that reports the level; a newer release than every broker runs is refused by the controller,
// and the resource says so and leaves the level where it was.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { metadataVersionProvider, releaseVersionOf, type MetadataVersionInputs, type MetadataVersionOutputs } from '../../infra/kafka-admin/metadata-version';
import { kafkaPaths, kafkaPorts } from '../../infra/render/kafka-container';
import { ContainerRun } from '../../tools/docker/container-run';
import { repoRoot } from '../../tools/kafka/kafka-runtime';
import { serializedProvider } from '../support/serialized-provider';
import { EngineStack, stackConfigForEngine } from './support/engine-stack';
import { readStackFile, withCiImages } from './support/stack-files';

describe('MetadataVersion on a broker container', () => {
  let run: ContainerRun;
  let engine: EngineStack;
  let provider: Awaited<ReturnType<typeof serializedProvider<MetadataVersionInputs, MetadataVersionOutputs>>>;
  let inputs: MetadataVersionInputs;

  before(async () => {
    run = await ContainerRun.begin();
    const config = await stackConfigForEngine(`mv-${run.runId.slice(-6)}`, withCiImages(readStackFile('dev')), 1);
    const present = await run.engine.request('GET', `/images/${config.kafka.image}/json`, { accept: [404] });
    if (present.status === 404) spawnSync('bash', [path.join(repoRoot, 'tools/images/build.sh'), 'base', 'kafka'], { stdio: 'inherit' });
    engine = new EngineStack(config, run, `${config.namePrefix}-net`);
    const [spec] = engine.kafkaSpecs();
    // apache/kafka ships bin/kafka-features.sh; the local stand-in image gets the same one-line wrapper
    // here rather than a rebuild of the image every test shares.
    const features = readFileSync(path.join(repoRoot, 'tools/images/kafka/bin/kafka-features.sh'), 'utf8');
    await run.up(engine.network, [{ ...spec!, uploads: [...spec!.uploads, { path: '/opt/kafka/bin/kafka-features.sh', content: features, mode: 0o755 }] }]);
    const id = (await run.inspect(spec!.name)).Id;
    inputs = {
      containerName: spec!.name,
      bootstrapServer: `kafka-1:${kafkaPorts.internal}`,
      commandConfig: kafkaPaths.healthcheckConfig,
      releaseVersion: releaseVersionOf(config.kafka.version),
      brokerContainerIds: [id],
    };
    provider = await serializedProvider(metadataVersionProvider);
  });
  after(async () => {
    await run?.teardown();
  });

  let created: MetadataVersionOutputs;

  it('at the release every broker runs: the level is that release\'s, read back from the cluster', async () => {
    created = (await provider.create(inputs)).outs as MetadataVersionOutputs;
    assert.match(created.finalizedLevel, new RegExp(`^${inputs.releaseVersion.replace('.', '\\.')}-IV\\d+$`));
  });

  it('a release newer than the brokers run is refused with the reason, and the level stays', async () => {
    const [major, minor] = inputs.releaseVersion.split('.').map(Number);
    const newer = { ...inputs, releaseVersion: `${major}.${minor! + 1}` };
    await assert.rejects(provider.update!('metadata.version', created, newer), new RegExp(`raising metadata.version to release ${newer.releaseVersion}.*the cluster is at ${created.finalizedLevel}.*Every broker must run Kafka ${newer.releaseVersion}`, 's'));
    const again = (await provider.update!('metadata.version', created, inputs)).outs as MetadataVersionOutputs;
    assert.equal(again.finalizedLevel, created.finalizedLevel);
  });
});
