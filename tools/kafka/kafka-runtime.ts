// Where the Apache Kafka jars resolved by `npm run setup` live, and how to run a class from them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { kafkaVersion, repoRoot } from '../../infra/config/project-package';
import { shortRunJvmOptions } from '../../infra/render/kafka-tool-env';

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

/**
 * JVM arguments for a Kafka command-line tool class (quiet logging, small heap). A tool that runs for
 * a moment gets the short-run JVM (infra/render/kafka-tool-env.ts); `server: true` keeps the JVM's
 * defaults, for the benchmarks' anchors, which are measured as Kafka ships them.
 */
export function kafkaToolJvmArgs(mainClass: string, options: { heapMb?: number; server?: boolean } = {}): string[] {
  return [
    `-Xmx${options.heapMb ?? 256}m`, ...(options.server ? [] : shortRunJvmOptions),
    `-Dlog4j2.configurationFile=${log4jConfigPath}`, ...kafkaClasspathArgs(), mainClass,
  ];
}
