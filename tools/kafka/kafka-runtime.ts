// Where the Apache Kafka jars resolved by `npm run setup` live, and how to run a class from them.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');

interface PackageJson { config?: { kafkaVersion?: string } }

/** The Kafka version the tests run and the stack deploys by default (package.json config.kafkaVersion). */
export function kafkaVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
  const version = pkg.config?.kafkaVersion;
  if (!version) throw new Error('package.json has no config.kafkaVersion');
  return version;
}

export function kafkaLibsDir(version = kafkaVersion()): string {
  return path.join(repoRoot, '.cache', 'kafka', version, 'libs');
}

/** The JVM arguments that put every Kafka jar on the class path; fails with the fix when setup has not run. */
export function kafkaClasspathArgs(version = kafkaVersion()): string[] {
  const libs = kafkaLibsDir(version);
  if (!existsSync(path.join(libs, '.complete'))) {
    throw new Error(`Apache Kafka ${version} jars are not in ${libs}: run 'npm run setup' first`);
  }
  return ['-cp', `${libs}/*`];
}

export const log4jConfigPath = path.join(__dirname, 'log4j2.properties');

/** JVM arguments for a Kafka command-line tool class (quiet logging, small heap). */
export function kafkaToolJvmArgs(mainClass: string, heapMb = 256): string[] {
  return [`-Xmx${heapMb}m`, `-Dlog4j2.configurationFile=${log4jConfigPath}`, ...kafkaClasspathArgs(), mainClass];
}
