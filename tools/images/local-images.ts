// The local images tools/images/build.sh makes, by name, and a way to (re)build them from Node: the
// container tests call it first, so a test file run alone still finds fresh images.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { kafkaVersion } from '../kafka/kafka-runtime';

const buildScript = path.join(__dirname, 'build.sh');

export interface LocalImages {
  debianBase: string;
  kafka: string;
  nodeBase: string;
  prometheus: string;
  /** services/Dockerfile built on nodeBase, tagged by the hash of its inputs. */
  services: string;
}

/**
 * Builds what is missing or stale (seconds when nothing changed) and returns every tag. Prometheus'
 * tag carries the Debian package's upstream version, so it is read from the engine after the build.
 */
export function buildLocalImages(): LocalImages {
  const run = (args: string[]): string => {
    const result = spawnSync('bash', [buildScript, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.status !== 0) {
      throw new Error(`tools/images/build.sh ${args.join(' ')} failed (exit ${result.status}):\n${result.stderr}`);
    }
    return result.stdout.trim();
  };
  run([]);
  const services = run(['services']).split('\n').at(-1) ?? '';
  const prometheus = spawnSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', 'pipeline/prometheus'], { encoding: 'utf8' })
    .stdout.split('\n')
    .find((tag) => /^pipeline\/prometheus:\d/.test(tag));
  if (!prometheus) throw new Error('build.sh finished but no pipeline/prometheus:<version> image exists');
  return {
    debianBase: 'pipeline/debian-base:bookworm',
    kafka: `pipeline/kafka:${kafkaVersion()}`,
    nodeBase: `pipeline/node-base:${process.versions.node.split('.')[0]}`,
    prometheus,
    services,
  };
}

/** Exit code of `build.sh --check`: 0 when every base image is present and carries its inputs' hash. */
export function checkLocalImages(): { ok: boolean; report: string } {
  const result = spawnSync('bash', [buildScript, '--check'], { encoding: 'utf8' });
  return { ok: result.status === 0, report: result.stderr };
}
