// prometheus.yml for the stack's Prometheus: one scrape job per service, each listing its
// containers by name:port on the stack network. Pure text so the same file can be checked by
// promtool and started on a real Prometheus in the tests.
import { ConfigError } from '../../services/core/env';
import { toYaml } from './yaml';

export interface ScrapeJob {
  /** Becomes the `job` label; dashboards may group by it. */
  job: string;
  /** `host:port` of every instance, e.g. `producer:9464`. */
  targets: string[];
}

export interface PrometheusConfigArgs {
  scrapeIntervalSeconds: number;
  targets: ScrapeJob[];
}

const jobNamePattern = /^[a-zA-Z_][a-zA-Z0-9_-]*$/;
// A DNS name (container names, network aliases) or an IPv4 address, then a port.
const targetPattern = /^([a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?):(\d{1,5})$/;

/** Renders prometheus.yml; throws ConfigError naming every bad job, target or interval. */
export function renderPrometheusConfig(args: PrometheusConfigArgs): string {
  return toYaml(prometheusConfig(args), 'Rendered by infra/render/prometheus-config.ts; edits are overwritten on the next deploy.');
}

/** prometheus.yml's keys, as far as we use them (a type alias, so it is a YamlValue). */
export type PrometheusYaml = {
  global: { scrape_interval: string; scrape_timeout: string; evaluation_interval: string };
  scrape_configs: { job_name: string; metrics_path: string; scheme: 'http'; static_configs: { targets: string[] }[] }[];
};

/** The same configuration as a plain object, in Prometheus' own key names. */
export function prometheusConfig(args: PrometheusConfigArgs): PrometheusYaml {
  const problems = checkArgs(args);
  if (problems.length > 0) throw new ConfigError(problems);
  const interval = args.scrapeIntervalSeconds;
  return {
    global: {
      scrape_interval: `${interval}s`,
      // Prometheus refuses a scrape timeout longer than the interval.
      scrape_timeout: `${Math.min(10, interval)}s`,
      evaluation_interval: `${interval}s`,
    },
    scrape_configs: args.targets.map(({ job, targets }) => ({
      job_name: job,
      metrics_path: '/metrics',
      scheme: 'http',
      static_configs: [{ targets }],
    })),
  };
}

function checkArgs({ scrapeIntervalSeconds, targets }: PrometheusConfigArgs): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(scrapeIntervalSeconds) || scrapeIntervalSeconds < 1 || scrapeIntervalSeconds > 3600) {
    problems.push(`scrapeIntervalSeconds=${String(scrapeIntervalSeconds)} is not an integer in [1, 3600]`);
  }
  if (targets.length === 0) problems.push('targets is empty: there is nothing to scrape');
  const seenJobs = new Set<string>();
  for (const { job, targets: instances } of targets) {
    if (!jobNamePattern.test(job)) problems.push(`job ${JSON.stringify(job)} is not a valid job name (${jobNamePattern.source})`);
    if (seenJobs.has(job)) problems.push(`job ${JSON.stringify(job)} is listed twice`);
    seenJobs.add(job);
    if (instances.length === 0) problems.push(`job ${JSON.stringify(job)} has no targets`);
    problems.push(...checkTargets(job, instances));
  }
  return problems;
}

function checkTargets(job: string, instances: string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const target of instances) {
    const port = Number(targetPattern.exec(target)?.[3] ?? NaN);
    if (!(port >= 1 && port <= 65535)) {
      problems.push(`job ${JSON.stringify(job)}: target ${JSON.stringify(target)} is not host:port with a port in [1, 65535]`);
    }
    if (seen.has(target)) problems.push(`job ${JSON.stringify(job)}: target ${JSON.stringify(target)} is listed twice`);
    seen.add(target);
  }
  return problems;
}
