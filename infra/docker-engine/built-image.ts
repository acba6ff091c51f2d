// The services image as a resource the stack owns whole: built through the Engine API with the
// classic builder (BuildKit is not everywhere) and destroyed with the stack. docker.Image cannot be
// that: it builds with `rm=0`, so every step leaves a stopped intermediate container behind, and
// its delete keeps the image. Here the build runs with `rm=1&forcerm=1` (no intermediate container
// survives the build, failed or not) and delete removes the tag, the image, and the untagged images
// the build made for earlier stages. Images that carry a tag of their own (the base image, which
// the user had or the build pulled) are never removed.
import * as pulumi from '@pulumi/pulumi';
import { buildContextFiles, contextArchive } from './build-context';
import { DockerApiError, DockerEngine } from './engine-client';

export interface BuiltImageInputs {
  /** Tag given to the image, e.g. ecommerce-pipeline/services:dev; the resource's id. */
  imageName: string;
  /** Absolute build context folder. */
  context: string;
  /** Dockerfile, relative to the context. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Digest of the context's files (build-context.ts): a source change rebuilds. */
  contextDigest: string;
}

export interface BuiltImageOutputs extends BuiltImageInputs {
  /** The image's id (sha256:…), what containers are created from and what Docker reports back. */
  imageId: string;
  /** Images the build produced or reused on the way (step results of every stage), full ids. */
  stepImageIds: string[];
}

interface ImageInspect {
  Id: string;
  RepoTags?: string[] | null;
}

interface BuildMessage {
  stream?: string;
  error?: string;
  aux?: { ID?: string };
}

async function inspectImage(engine: DockerEngine, ref: string): Promise<ImageInspect | undefined> {
  const { status, body } = await engine.request('GET', `/images/${encodeURIComponent(ref)}/json`, { accept: [404] });
  return status === 404 ? undefined : (JSON.parse(body.toString('utf8')) as ImageInspect);
}

const isTagged = (image: ImageInspect): boolean => (image.RepoTags ?? []).some((t) => t !== '<none>:<none>');

/** What the classic builder's JSON stream says: the final id, every step's result, or the error. */
export function parseBuildOutput(output: string): { imageId?: string; stepIds: string[]; error?: string; lastStep?: string } {
  const stepIds: string[] = [];
  let imageId: string | undefined;
  let error: string | undefined;
  let lastStep: string | undefined;
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    let message: BuildMessage;
    try {
      message = JSON.parse(line) as BuildMessage;
    } catch {
      continue;
    }
    if (message.error) error = message.error.trim();
    if (message.aux?.ID) imageId = message.aux.ID;
    for (const text of (message.stream ?? '').split('\n')) {
      const step = /^ ---> ([0-9a-f]{12,64})\s*$/.exec(text);
      if (step) stepIds.push(step[1]!);
      if (/^Step \d+\/\d+ : /.test(text)) lastStep = text.trim();
      const built = /^Successfully built ([0-9a-f]{12,64})/.exec(text);
      if (built && !imageId) imageId = built[1];
    }
  }
  return { imageId, stepIds, error, lastStep };
}

/** Builds and tags the image; no intermediate container outlives the build. */
export async function buildImage(engine: DockerEngine, inputs: BuiltImageInputs): Promise<{ imageId: string; stepImageIds: string[] }> {
  const archive = contextArchive(buildContextFiles(inputs.context, inputs.dockerfile));
  const { body } = await engine.request('POST', '/build', {
    query: {
      t: inputs.imageName,
      dockerfile: inputs.dockerfile.split('\\').join('/'),
      buildargs: JSON.stringify(inputs.buildArgs),
      rm: 1,
      forcerm: 1,
      version: '1',
    },
    tar: archive,
  });
  const result = parseBuildOutput(body.toString('utf8'));
  if (result.error || !result.imageId) {
    // forcerm removed the failed step's container; the steps that succeeded left images, which go too.
    await removeUntaggedSteps(engine, result.stepIds);
    throw new Error(`building ${inputs.imageName} from ${inputs.context} failed${result.lastStep ? ` at "${result.lastStep}"` : ''}: ${result.error ?? 'the engine reported no image id'}`);
  }
  const image = await inspectImage(engine, inputs.imageName);
  if (!image) throw new Error(`building ${inputs.imageName}: the build succeeded but the tag does not exist`);
  const steps: string[] = [];
  for (const id of result.stepIds) {
    const step = await inspectImage(engine, id);
    if (step && step.Id !== image.Id && !steps.includes(step.Id)) steps.push(step.Id);
  }
  return { imageId: image.Id, stepImageIds: steps };
}

/** Removes one image by reference unless it is in use or has children; true if it is gone. */
async function removeIfUnused(engine: DockerEngine, ref: string): Promise<boolean> {
  try {
    await engine.request('DELETE', `/images/${encodeURIComponent(ref)}`, { query: { noprune: false }, accept: [404] });
    return true;
  } catch (error) {
    if (error instanceof DockerApiError && error.status === 409) return false;
    throw error;
  }
}

/**
 * Removes what the build of `outs` left: its tag (and with it the image and its untagged parents,
 * unless another tag or a container holds them), then every untagged step image of earlier stages.
 * A container outside the stack still using the image stops the destroy with its name.
 */
export async function removeBuiltImage(engine: DockerEngine, outs: Pick<BuiltImageOutputs, 'imageName' | 'imageId' | 'stepImageIds'>): Promise<void> {
  const tagged = await inspectImage(engine, outs.imageName);
  if (tagged?.Id === outs.imageId) {
    try {
      await engine.request('DELETE', `/images/${encodeURIComponent(outs.imageName)}`, { query: { noprune: false }, accept: [404] });
    } catch (error) {
      if (error instanceof DockerApiError && error.status === 409) {
        throw new Error(`cannot remove image ${outs.imageName}: ${error.message.replace(/^Docker API [^:]+: /, '')}. Remove that container (it is not part of the stack), then run destroy again`, { cause: error });
      }
      throw error;
    }
  } else {
    // The tag moved on (a rebuild); the old image goes only if nothing else names it.
    const old = await inspectImage(engine, outs.imageId);
    if (old && !isTagged(old)) await removeIfUnused(engine, outs.imageId);
  }
  await removeUntaggedSteps(engine, outs.stepImageIds);
}

/** Step images, last step first (a parent with children cannot go), unless tagged, in use, or a parent of another image. */
async function removeUntaggedSteps(engine: DockerEngine, stepIds: string[]): Promise<void> {
  for (const id of [...stepIds].reverse()) {
    const step = await inspectImage(engine, id);
    if (step && !isTagged(step)) await removeIfUnused(engine, step.Id);
  }
}

const same = (a: BuiltImageInputs, b: BuiltImageInputs): boolean =>
  a.imageName === b.imageName && a.context === b.context && a.dockerfile === b.dockerfile && a.contextDigest === b.contextDigest
  && JSON.stringify(Object.entries(a.buildArgs).sort()) === JSON.stringify(Object.entries(b.buildArgs).sort());

const inputsOf = (p: BuiltImageInputs): BuiltImageInputs =>
  ({ imageName: p.imageName, context: p.context, dockerfile: p.dockerfile, buildArgs: p.buildArgs, contextDigest: p.contextDigest });

export const builtImageProvider: pulumi.dynamic.ResourceProvider<BuiltImageInputs, BuiltImageOutputs> = {
  async create(inputs) {
    const built = await buildImage(new DockerEngine(), inputs);
    return { id: inputs.imageName, outs: { ...inputsOf(inputs), ...built } };
  },
  async diff(_id, olds, news) {
    // An image removed outside Pulumi (docker image prune -a) is built again rather than missed by the containers.
    const gone = await inspectImage(new DockerEngine(), olds.imageId).then((i) => !i, () => false);
    return { changes: gone || !same(olds, news), replaces: olds.imageName !== news.imageName ? ['imageName'] : [], deleteBeforeReplace: false };
  },
  async update(_id, olds, news) {
    const engine = new DockerEngine();
    const built = await buildImage(engine, news);
    // The previous image, now untagged, and its step images go; what the new build reused stays.
    if (built.imageId !== olds.imageId) {
      await removeBuiltImage(engine, { ...olds, stepImageIds: olds.stepImageIds.filter((id) => !built.stepImageIds.includes(id)) });
    }
    return { outs: { ...inputsOf(news), ...built } };
  },
  async read(id, props) {
    if (!props) throw new Error(`image ${id}: importing is not supported; declare it in the stack and run pulumi up`);
    const image = await inspectImage(new DockerEngine(), props.imageName);
    return image ? { id, props: { ...props, imageId: image.Id } } : {};
  },
  async delete(_id, outs) {
    await removeBuiltImage(new DockerEngine(), outs);
  },
};

export interface BuiltImageArgs {
  imageName: pulumi.Input<string>;
  context: pulumi.Input<string>;
  dockerfile: pulumi.Input<string>;
  buildArgs: pulumi.Input<Record<string, pulumi.Input<string>>>;
  contextDigest: pulumi.Input<string>;
}

export class BuiltImage extends pulumi.dynamic.Resource {
  declare readonly imageName: pulumi.Output<string>;
  declare readonly imageId: pulumi.Output<string>;

  constructor(name: string, args: BuiltImageArgs, opts?: pulumi.CustomResourceOptions) {
    super(builtImageProvider, name, { ...args, imageId: undefined, stepImageIds: undefined }, opts, 'docker', 'BuiltImage');
  }
}
