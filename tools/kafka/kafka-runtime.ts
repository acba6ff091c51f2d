// Where the Apache Kafka jars resolved by `npm run setup` live, and how to run a class from them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { kafkaVersion, repoRoot } from '../../infra/config/project-package';

export { kafkaVersion, repoRoot };

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
