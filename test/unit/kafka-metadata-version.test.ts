// The metadata version raise after a Kafka upgrade: release versions, the refusal to go back, the
// tool's command and output, and its place in the program (after every broker; under mocks).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateStackConfig } from '../../infra/config/stack-config';
import { StackConfigError } from '../../infra/config/reader';
import {
  compareRelease, featuresCommand, metadataVersionProblem, metadataVersionProvider, parseFinalizedLevel, releaseVersionOf,
} from '../../infra/kafka-admin/metadata-version';

describe('metadata version', () => {
  it('follows the feature release of kafka.version', () => {
    assert.equal(releaseVersionOf('4.1.1'), '4.1');
    assert.equal(releaseVersionOf('4.2.0'), '4.2');
    assert.throws(() => releaseVersionOf('4.2'), /major.minor.patch/);
    assert.ok(compareRelease('4.1-IV1', '4.1') === 0 && compareRelease('4.1', '4.2') < 0 && compareRelease('4.10', '4.9') > 0);
  });

  it('refuses to go back to an older release, naming the way out', async () => {
    assert.equal(metadataVersionProblem({ releaseVersion: '4.1' }, { releaseVersion: '4.2' }), undefined);
    assert.match(metadataVersionProblem({ releaseVersion: '4.2' }, { releaseVersion: '4.1' }) ?? '', /cannot be lowered.*Keep kafka.version at 4.2.x or newer/);
    const base = { containerName: 'k1', bootstrapServer: 'kafka-1:9092', commandConfig: '/c', brokerContainerIds: ['a'] };
    await assert.rejects(metadataVersionProvider.diff!('id', { ...base, releaseVersion: '4.2', finalizedLevel: '4.2-IV0' }, { ...base, releaseVersion: '4.1' }), /cannot be lowered/);
    const same = await metadataVersionProvider.diff!('id', { ...base, releaseVersion: '4.1', finalizedLevel: '4.1-IV1' }, { ...base, releaseVersion: '4.1' });
    assert.equal(same.changes, false);
    const replaced = await metadataVersionProvider.diff!('id', { ...base, releaseVersion: '4.1', finalizedLevel: '4.1-IV1' }, { ...base, releaseVersion: '4.1', brokerContainerIds: ['b'] });
    assert.equal(replaced.changes, true, 'a replaced broker checks the level again');
  });

  it('runs kafka-features.sh upgrade --release-version, and reads the finalized level from describe', () => {
    const inputs = { bootstrapServer: 'kafka-1:9092', commandConfig: '/etc/kafka/pipeline/healthcheck.properties', releaseVersion: '4.2' };
    assert.deepEqual(featuresCommand(inputs, 'upgrade').slice(-3), ['upgrade', '--release-version', '4.2']);
    assert.deepEqual(featuresCommand(inputs, 'describe').slice(1, 5), ['--bootstrap-server', 'kafka-1:9092', '--command-config', inputs.commandConfig]);
    const describe = [
      'Feature: kraft.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\tFinalizedVersionLevel: 0\tEpoch: 7',
      'Feature: metadata.version\tSupportedMinVersion: 3.3-IV3\tSupportedMaxVersion: 4.1-IV1\tFinalizedVersionLevel: 4.1-IV1\tEpoch: 7',
    ].join('\n');
    assert.equal(parseFinalizedLevel(describe), '4.1-IV1');
    assert.equal(parseFinalizedLevel('nothing'), undefined);
  });

  it('kafka.metadataVersion defaults to kafka.version\'s release, may hold the raise back, never run ahead', () => {
    const defaults = { stack: 'test', kafkaVersion: '4.1.1', repoRoot: '/repo' };
    assert.equal(validateStackConfig({ kafka: { version: '4.2.0' } }, defaults).kafka.metadataVersion, '4.2');
    assert.equal(validateStackConfig({ kafka: { version: '4.2.0', metadataVersion: '4.1' } }, defaults).kafka.metadataVersion, '4.1');
    assert.throws(() => validateStackConfig({ kafka: { version: '4.1.1', metadataVersion: '4.2' } }, defaults),
      (e: unknown) => e instanceof StackConfigError && e.problems.some((p) => p.includes('kafka.metadataVersion=4.2 must not be newer than kafka.version=4.1.1')));
    assert.throws(() => validateStackConfig({ kafka: { metadataVersion: '4' } }, defaults), /kafka.metadataVersion/);
  });
});
