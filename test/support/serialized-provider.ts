// A dynamic provider as Pulumi ships it: serialized into a module text stored in state and
// evaluated by the provider host. Tests run that text, not the source, to prove it still works
// once cut off from the program's module graph.
import * as pulumi from '@pulumi/pulumi';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { repoRoot } from '../../tools/kafka/kafka-runtime';

export async function serializedProvider<I, O = I>(provider: pulumi.dynamic.ResourceProvider<I, O>): Promise<pulumi.dynamic.ResourceProvider<I, O>> {
  // The same call pulumi.dynamic.Resource makes.
  const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  const load = vm.runInThisContext(`(function (exports, require, module) {\n${serialized.text}\n})`) as (e: Record<string, unknown>, r: NodeJS.Require, m: { exports: Record<string, unknown> }) => void;
  const module = { exports: {} as Record<string, unknown> };
  load(module.exports, createRequire(path.join(repoRoot, 'package.json')), module);
  const factory = module.exports[serialized.exportName] as () => pulumi.dynamic.ResourceProvider<I, O>;
  return factory();
}
