// Pulumi.<stack>.yaml as the program sees it: `pulumi config` hands it one object per
// `ecommerce-pipeline:<key>`; here the same objects come straight from the file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { configKeys, projectName, type RawStackConfig } from '../../../infra/config/stack-config';
import { repoRoot } from '../../../tools/kafka/kafka-runtime';

export function readStackFile(stack: string): RawStackConfig {
  const file = path.join(repoRoot, `Pulumi.${stack}.yaml`);
  const parsed = load(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> } | null;
  const config = parsed?.config ?? {};
  return Object.fromEntries(configKeys.map((key) => [key, config[`${projectName}:${key}`]]));
}

type Plain = Record<string, unknown>;
const section = (raw: RawStackConfig, key: keyof RawStackConfig): Plain => ({ ...(raw[key] as Plain | undefined) });

/** The image settings of the ci stack file. */
export function ciImages(): { kafka: string; servicesBase: string; prometheus: string } {
  const ci = readStackFile('ci');
  return {
    kafka: String(section(ci, 'kafka').image),
    servicesBase: String(section(ci, 'services').baseImage),
    prometheus: String(section(ci, 'monitoring').prometheusImage),
  };
}

/** A stack's config with the ci stack's images laid over it, everything else as the stack has it. */
export function withCiImages(raw: RawStackConfig): RawStackConfig {
  const images = ciImages();
  return {
    ...raw,
    kafka: { ...section(raw, 'kafka'), image: images.kafka },
    services: { ...section(raw, 'services'), baseImage: images.servicesBase },
    monitoring: { ...section(raw, 'monitoring'), prometheusImage: images.prometheus },
  };
}

/** Sets `value` at a dotted path inside one config section, creating objects on the way. */
export function override(raw: RawStackConfig, key: keyof RawStackConfig, dotted: string, value: unknown): RawStackConfig {
  const root = structuredClone(section(raw, key));
  const parts = dotted.split('.');
  let at: Plain = root;
  for (const part of parts.slice(0, -1)) {
    const child: Plain = { ...(at[part] as Plain | undefined) };
    at[part] = child;
    at = child;
  }
  at[parts[parts.length - 1] ?? dotted] = value;
  return { ...raw, [key]: root };
}
