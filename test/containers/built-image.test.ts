// The services image resource on the real Docker engine, through its provider as Pulumi serializes
// it: a tiny multi-stage build with the classic builder on a base image that was there before.
// Create leaves no intermediate container (a build with rm=0, as docker.Image does it, leaves one
// per step, which this test also shows, so it can tell the difference), update rebuilds and drops
// the previous image, delete removes the tag, the image and every untagged step image, and the
// base image stays. A failing build leaves no container either and names the step that failed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContextFiles, contextArchive, contextDigest } from '../../infra/docker-engine/build-context';
import { builtImageProvider, type BuiltImageInputs, type BuiltImageOutputs } from '../../infra/docker-engine/built-image';
import { DockerEngine } from '../../infra/docker-engine/engine-client';
import { repoRoot } from '../../tools/kafka/kafka-runtime';
import { serializedProvider } from '../support/serialized-provider';

const base = 'pipeline/debian-base:bookworm';

const dockerfile = [
  'ARG BASE_IMAGE',
  'FROM ${BASE_IMAGE} AS first',
  'RUN echo stage-one > /one.txt',
  'FROM ${BASE_IMAGE}',
  'COPY --from=first /one.txt /one.txt',
  'COPY . /ctx/',
  // The ignored file must not have reached the build.
  'RUN test -f /ctx/kept.txt && test ! -e /ctx/secret.txt && cat /ctx/kept.txt > /kept.txt',
  '',
].join('\n');

interface ContainerSummary {
  Id: string;
  ImageID: string;
  Command: string;
}

describe('BuiltImage on the Docker engine', () => {
  const engine = new DockerEngine();
  const tag = `pipeline-test/built-image:${process.pid}`;
  let dir: string;
  let provider: Awaited<ReturnType<typeof serializedProvider<BuiltImageInputs, BuiltImageOutputs>>>;
  let containersBefore: Set<string>;
  let baseId: string;
  const made: string[] = [];

  const inputs = (): BuiltImageInputs => ({
    imageName: tag,
    context: dir,
    dockerfile: 'Dockerfile',
    buildArgs: { BASE_IMAGE: base },
    contextDigest: contextDigest(buildContextFiles(dir, 'Dockerfile')),
  });
  const exists = async (ref: string): Promise<boolean> => (await engine.request('GET', `/images/${encodeURIComponent(ref)}/json`, { accept: [404] })).status === 200;
  /** Containers created since the test began by this test's builds: from their images, or running their steps. */
  const newContainers = async (imageIds: string[]): Promise<ContainerSummary[]> => {
    const all = await engine.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: true } });
    return all.filter((c) => !containersBefore.has(c.Id) && (imageIds.includes(c.ImageID) || /\/ctx\/|stage-one|#\(nop\)/.test(c.Command)));
  };

  /** Untagged images whose step is one of this test's Dockerfile (COPY into /ctx/, the stage-one RUN). */
  const untaggedStepImagesOfThisTest = async (): Promise<string[]> => {
    const images = await engine.json<{ Id: string }[]>('GET', '/images/json', { query: { all: true } });
    const found: string[] = [];
    for (const { Id } of images) {
      const image = await engine.json<{ RepoTags?: string[] | null; ContainerConfig?: { Cmd?: string[] | null } }>('GET', `/images/${Id}/json`).catch(() => undefined);
      const step = image?.ContainerConfig?.Cmd?.join(' ') ?? '';
      if (image && !(image.RepoTags ?? []).length && /\/ctx\/|stage-one|one\.txt/.test(step)) found.push(`${Id} ${step}`);
    }
    return found;
  };

  before(async () => {
    if (!(await exists(base))) spawnSync('bash', [path.join(repoRoot, 'tools/images/build.sh')], { stdio: 'inherit' });
    baseId = (await engine.json<{ Id: string }>('GET', `/images/${base}/json`)).Id;
    dir = mkdtempSync(path.join(os.tmpdir(), 'built-image-'));
    writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
    writeFileSync(path.join(dir, '.dockerignore'), 'secret.txt\n');
    writeFileSync(path.join(dir, 'kept.txt'), 'v1\n');
    writeFileSync(path.join(dir, 'secret.txt'), 'must not be sent\n');
    containersBefore = new Set((await engine.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: true } })).map((c) => c.Id));
    provider = await serializedProvider(builtImageProvider);
  });

  after(async () => {
    const leftovers = await engine.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: true } });
    for (const c of leftovers.filter((l) => !containersBefore.has(l.Id) && ([...made, baseId].includes(l.ImageID) || /\/ctx\/|stage-one|#\(nop\)/.test(l.Command)))) {
      await engine.request('DELETE', `/containers/${c.Id}`, { query: { force: true }, accept: [404] });
    }
    for (const ref of [tag, `${tag}-rm0`, ...made.reverse()]) await engine.request('DELETE', `/images/${encodeURIComponent(ref)}`, { query: { force: true }, accept: [404, 409] });
    rmSync(dir, { recursive: true, force: true });
  });

  let first: BuiltImageOutputs;

  it('builds with the classic builder, sending only what .dockerignore lets through, and leaves no container behind', async () => {
    const created = await provider.create(inputs());
    first = created.outs as BuiltImageOutputs;
    made.push(first.imageId, ...first.stepImageIds);
    assert.equal(created.id, tag);
    assert.ok(await exists(tag));
    assert.equal((await engine.json<{ Id: string }>('GET', `/images/${encodeURIComponent(tag)}/json`)).Id, first.imageId);
    assert.ok(first.stepImageIds.includes(baseId), 'the base image is a step of the build');
    assert.ok(first.stepImageIds.length >= 4, `step images: ${first.stepImageIds.join(' ')}`);
    assert.deepEqual(await newContainers([...made, baseId]), []);
  });

  it('a build as docker.Image runs it (rm=0) does leave one container per step: what the test above would catch', async () => {
    const { body } = await engine.request('POST', '/build', {
      query: { t: `${tag}-rm0`, dockerfile: 'Dockerfile', buildargs: JSON.stringify({ BASE_IMAGE: base }), rm: 0, version: '1', nocache: 1 },
      tar: contextArchive(buildContextFiles(dir, 'Dockerfile')),
    });
    const ids = [...body.toString('utf8').matchAll(/ ---> ([0-9a-f]{12})\\n/g)].map((m) => m[1]!);
    const full = await Promise.all(ids.map(async (id) => (await engine.json<{ Id: string }>('GET', `/images/${id}/json`)).Id));
    made.push(...full);
    const leftovers = await newContainers([...full, baseId]);
    for (const c of leftovers) await engine.request('DELETE', `/containers/${c.Id}`, { query: { force: true }, accept: [404, 409] });
    for (let attempt = 0; attempt < 100 && (await newContainers([...full, baseId])).length > 0; attempt++) await new Promise((r) => setTimeout(r, 200));
    await engine.request('DELETE', `/images/${encodeURIComponent(`${tag}-rm0`)}`, { accept: [404] });
    assert.ok(leftovers.length > 0, 'rm=0 leaves intermediate containers');
  });

  it('rebuilds on a source change and drops the previous image; the reused steps stay', async () => {
    writeFileSync(path.join(dir, 'kept.txt'), 'v2\n');
    const news = inputs();
    assert.notEqual(news.contextDigest, first.contextDigest);
    const diff = await provider.diff!(tag, first, news);
    assert.equal(diff.changes, true);
    assert.deepEqual(diff.replaces, []);
    const updated = (await provider.update!(tag, first, news)).outs as BuiltImageOutputs;
    made.push(updated.imageId, ...updated.stepImageIds);
    assert.notEqual(updated.imageId, first.imageId);
    assert.equal(await exists(first.imageId), false, 'the previous image is gone');
    assert.equal(await exists(updated.imageId), true);
    first = updated;
    assert.equal((await provider.diff!(tag, first, inputs())).changes, false, 'no change, no rebuild');
  });

  it('delete removes the tag, the image and every untagged step image, and keeps the base image', async () => {
    await provider.delete!(tag, first);
    assert.equal(await exists(tag), false);
    assert.equal(await exists(first.imageId), false);
    for (const id of first.stepImageIds.filter((s) => s !== baseId)) assert.equal(await exists(id), false, `step image ${id}`);
    assert.equal(await exists(base), true, 'the base image stays');
    assert.deepEqual(await untaggedStepImagesOfThisTest(), []);
    assert.deepEqual(await newContainers([...made, baseId]), []);
  });

  it('a failing build names its step and leaves no container (forcerm)', async () => {
    writeFileSync(path.join(dir, 'Dockerfile'), dockerfile.replace("test -f /ctx/kept.txt", 'test -f /ctx/secret.txt'));
    await assert.rejects(provider.create(inputs()), /failed at "Step \d+\/\d+ : RUN test -f \/ctx\/secret.txt.*non-zero code/);
    assert.deepEqual(await newContainers([...made, baseId]), []);
    assert.deepEqual(await untaggedStepImagesOfThisTest(), [], 'the steps that succeeded left no image');
  });
});
