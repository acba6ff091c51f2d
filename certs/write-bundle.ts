// `npm run certs -- <stack>`: writes the stack's admin client bundle to certs/<stack>/ from the
// stack's secret `adminBundle` output (pulumi stack output --show-secrets). The folder is git-ignored.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { writeBundle, type BundleInput } from './bundle';

function stackOutput(stack: string): unknown {
  const result = spawnSync('pulumi', ['stack', 'output', 'adminBundle', '--show-secrets', '--json', '--stack', stack], {
    cwd: path.resolve(__dirname, '..'),
    encoding: 'utf8',
  });
  if (result.error) throw new Error(`the Pulumi CLI is needed to read stack ${stack}'s outputs: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`pulumi stack output failed for stack ${stack} (has it been deployed?):\n${result.stderr.trim()}`);
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`pulumi stack output adminBundle did not return JSON: ${result.stdout.slice(0, 200)}`);
  }
}

/** Checks the output's shape; every missing field is named. */
export function bundleFromOutput(value: unknown): BundleInput {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const fields = ['bootstrapServers', 'caCertPem', 'certPem', 'keyPem', 'password'] as const;
  const missing = fields.filter((f) => typeof v[f] !== 'string' || v[f] === '');
  if (missing.length > 0) throw new Error(`the stack's adminBundle output lacks ${missing.join(', ')}: run npm run up first`);
  return { bootstrapServers: v.bootstrapServers as string, caCertPem: v.caCertPem as string, certPem: v.certPem as string, keyPem: v.keyPem as string, password: v.password as string };
}

function main(): void {
  const stack = process.argv[2] ?? process.env.PULUMI_STACK ?? 'dev';
  if (!/^[A-Za-z0-9._-]+$/.test(stack)) throw new Error(`stack name ${JSON.stringify(stack)} is not a Pulumi stack name`);
  const dir = path.resolve(__dirname, stack);
  const written = writeBundle(dir, bundleFromOutput(stackOutput(stack)));
  process.stdout.write(`Wrote the admin bundle of stack ${stack}:\n${written.map((f) => `  ${path.relative(process.cwd(), f)}`).join('\n')}\n`);
  process.stdout.write(`Try: kcat -F ${path.relative(process.cwd(), path.join(dir, 'kcat.conf'))} -L\n`);
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`certs: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
