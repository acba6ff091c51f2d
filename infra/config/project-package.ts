// The repository's package.json as the program and the tools both read it: where the repository is,
// and the Kafka version it deploys by default (package.json config.kafkaVersion), in one place.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');

interface PackageJson { config?: { kafkaVersion?: string } }

/** The Kafka version the stack deploys by default and the tests run. */
export function kafkaVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
  const version = pkg.config?.kafkaVersion;
  if (!version) throw new Error('package.json has no config.kafkaVersion');
  return version;
}
