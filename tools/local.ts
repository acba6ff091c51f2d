// `npm run local`: the whole pipeline on this machine, without Docker or Pulumi. The secured broker
// (the stack's rendered properties, generated certificates, topics and ACLs), the producer on a
// generated or given CSV, the consumer, and Prometheus when it is installed; progress while it
// works, then a summary of the windows and where the client bundle is. Ctrl-C stops everything.
//
//   npm run local -- [--file data.csv | --rows N] [--rate N] [--stack dev] [--exit]
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeBundle } from '../certs/bundle';
import { renderPrometheusConfig } from '../infra/render/prometheus-config';
import { serviceScrapeTargets } from '../infra/render/service-containers';
import { metricNames } from '../services/core/metric-names';
import { writeGeneratedCsv } from '../services/producer/generator';
import { PrometheusServer } from '../test/support/prometheus-server';
import { startTlsCluster, type TlsCluster } from '../test/support/tls-cluster';
import { readAll } from '../test/support/consumer-run';
import { freePorts } from './kafka/free-port';
import { repoRoot } from './kafka/kafka-runtime';
import { loadStack, provisionTopicsAndAcls, scrapeMetric, serviceEnvs } from './local-stack';
import { startService, stopService, type Service } from './service-process';

interface Options { file?: string; rows: number; rate?: number; stack: string; exit: boolean }

export function parseArgs(argv: string[]): Options {
  const options: Options = { rows: 20_000, stack: 'dev', exit: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const count = (what: string): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer (${what})`);
      return n;
    };
    if (flag === '--file') options.file = path.resolve(value());
    else if (flag === '--rows') options.rows = count('rows to generate');
    else if (flag === '--rate') options.rate = count('events per second');
    else if (flag === '--stack') options.stack = value();
    else if (flag === '--exit') options.exit = true;
    else throw new Error(`unknown option ${flag} (known: --file, --rows, --rate, --stack, --exit)`);
  }
  return options;
}

const say = (text: string): void => void process.stdout.write(`${text}\n`);

interface WindowRecord { windowKind: string; key: string; windowStartMs: number; windowStart: string; revenue: number; events: number; purchases: number }

/** Top categories by revenue in each tumbling window, newest windows last. */
export function summarise(records: WindowRecord[], topCategories = 3, lastWindows = 12): string {
  const byStart = new Map<number, WindowRecord[]>();
  for (const r of records) {
    if (r.windowKind !== 'tumbling' || !r.key.startsWith('category:')) continue;
    byStart.set(r.windowStartMs, [...(byStart.get(r.windowStartMs) ?? []), r]);
  }
  const lines = ['window (UTC)          top categories by revenue'];
  const starts = [...byStart.keys()].sort((a, b) => a - b);
  for (const start of starts.slice(-lastWindows)) {
    const top = byStart.get(start)!.sort((a, b) => b.revenue - a.revenue || a.key.localeCompare(b.key)).slice(0, topCategories);
    const cells = top.map((w) => `${w.key.slice('category:'.length)} ${w.revenue.toFixed(2)} (${w.purchases} purchases)`);
    lines.push(`${new Date(start).toISOString().slice(0, 16).replace('T', ' ')}      ${cells.join(' · ')}`);
  }
  if (starts.length > lastWindows) lines.splice(1, 0, `… ${starts.length - lastWindows} earlier windows`);
  if (starts.length === 0) lines.push('(no tumbling window closed: the input\'s event times span less than a window plus its grace)');
  return lines.join('\n');
}

/** One look at the pipeline's metrics. */
export interface PipelineSample {
  now: number;
  producing: boolean;
  sent: number;
  consumed: number;
  /** Window results committed so far. */
  emitted: number;
  /** Records behind on the raw and repartition partitions, summed. */
  lag: number;
}

/**
 * When the summary may be printed: only when the windows it summarises are committed. The quiet
 * period starts once all input is processed (the producer done, every event it sent consumed, no
 * lag left on either stage) and starts again whenever a window closes. The last windows close an
 * idle timeout after the input went quiet, and with many distinct users closing them takes a while,
 * so a quiet period that began earlier (at start, as it once did) could end before the first window
 * closed and print "0 window results". Until a first window has closed the wait is longer, and ends
 * anyway: an input spanning less than a window plus its grace closes none.
 */
export class SummaryGate {
  private quietSince: number | undefined;
  private lastEmitted = -1;

  constructor(private readonly quietMs: number, private readonly firstWindowMs: number) {}

  ready(s: PipelineSample): boolean {
    const processed = !s.producing && s.consumed >= s.sent && s.lag === 0;
    if (!processed) this.quietSince = undefined;
    else if (this.quietSince === undefined || s.emitted !== this.lastEmitted) this.quietSince = s.now;
    this.lastEmitted = s.emitted;
    if (this.quietSince === undefined) return false;
    return s.now - this.quietSince >= (s.emitted > 0 ? this.quietMs : this.firstWindowMs);
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const config = loadStack(options.stack);
  const work = mkdtempSync(path.join(os.tmpdir(), 'pipeline-local-'));
  const services: Service[] = [];
  let tls: TlsCluster | undefined;
  let prometheus: PrometheusServer | undefined;
  let stopping = false;
  const stopAll = async (code: number): Promise<never> => {
    stopping = true;
    say('\nStopping the pipeline…');
    for (const service of services) await stopService(service);
    await prometheus?.stop();
    await tls?.cluster.stop();
    rmSync(work, { recursive: true, force: true });
    say('Stopped; nothing is left running.');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void (stopping ? undefined : stopAll(0)));

  try {
    say(`Starting the ${options.stack} stack's broker (${config.kafka.brokers} node${config.kafka.brokers === 1 ? '' : 's'}, mutual TLS, ACLs)…`);
    tls = await startTlsCluster({ nodes: config.kafka.brokers, controllerTls: config.kafka.controllerTls, jvm: 'server' });
    const names = await provisionTopicsAndAcls(tls, config);
    const bundleDir = path.join(repoRoot, 'certs', 'local');
    rmSync(bundleDir, { recursive: true, force: true });
    mkdirSync(bundleDir, { recursive: true });
    writeBundle(bundleDir, { bootstrapServers: tls.cluster.bootstrap().join(','), caCertPem: tls.pki.ca.certPem, certPem: tls.admin.certPem, keyPem: tls.admin.keyPem, password: randomBytes(18).toString('base64url'), identity: 'admin' });

    let file = options.file;
    if (!file) {
      file = path.join(work, 'events.csv');
      say(`Generating ${options.rows} REES46-style rows (a few out of order, late and malformed)…`);
      await writeGeneratedCsv(file, { rows: options.rows, seed: 1, eventsPerSecond: 20, outOfOrderMs: 5_000, lateRate: 0.002, lateByMs: 600_000, malformedRate: 0.002 });
    }

    const [producerPort = 0, consumerPort = 0] = await freePorts(2);
    if (spawnSync('prometheus', ['--version']).status === 0) {
      const targets = serviceScrapeTargets(config.services).map((t) => ({ job: t.job, targets: [`127.0.0.1:${t.job === 'producer' ? producerPort : consumerPort}`] }));
      prometheus = await PrometheusServer.start(renderPrometheusConfig({ scrapeIntervalSeconds: config.monitoring.scrapeIntervalSeconds, targets }));
    }
    const envs = serviceEnvs(tls, config, names, work);
    const producerEnv: Record<string, string> = { ...envs.producer, PRODUCER_FILE: file, METRICS_PORT: String(producerPort), LOG_LEVEL: 'warn' };
    if (options.rate) producerEnv.PRODUCER_RATE = String(options.rate);
    // Windows of a finished input close 5 s after it goes quiet, not the stack's 30 s.
    services.push(startService('consumer', { ...envs.consumers[0]!, METRICS_PORT: String(consumerPort), CONSUMER_IDLE_TIMEOUT_MS: '5000', LOG_LEVEL: 'warn' }, path.join(work, 'consumer.log')));
    const producer = startService('producer', producerEnv, path.join(work, 'producer.log'));
    services.push(producer);
    say(`Pipeline running: bootstrap ${tls.cluster.bootstrap().join(',')}${prometheus ? `, Prometheus ${prometheus.url}` : ' (prometheus not installed: no metrics server)'}`);
    say(`  broker files: ${tls.cluster.dir}\n  service files and logs: ${work}`);

    const names_ = metricNames.producer;
    let [read, sent, rejected] = [0, 0, 0];
    // The consumer's idle timeout is 5 s: the last windows close a few seconds after the input is processed.
    const gate = new SummaryGate(12_000, 45_000);
    for (;;) {
      await new Promise((r) => setTimeout(r, 2_000));
      if (stopping) return;
      const producing = producer.child.exitCode === null;
      if (producing) {
        [read, sent, rejected] = await Promise.all([scrapeMetric(producerPort, names_.rowsRead), scrapeMetric(producerPort, names_.rowsSent), scrapeMetric(producerPort, names_.rowsRejected)]);
      }
      const [consumed, emitted, late, lag] = await Promise.all([
        scrapeMetric(consumerPort, metricNames.consumer.eventsConsumed), scrapeMetric(consumerPort, metricNames.consumer.windowsEmitted), scrapeMetric(consumerPort, metricNames.consumer.lateEvents),
        scrapeMetric(consumerPort, metricNames.consumer.lag),
      ]);
      say(`  producer: read ${read}, sent ${sent}, rejected ${rejected}${producing ? '' : ' (done)'} · consumer: ${consumed} events, ${emitted} windows, ${late} late, ${lag} behind`);
      if (!producing && (await producer.exited) !== 0) throw new Error(`the producer failed:\n${producer.tail()}`);
      // Its metrics went with it: the final account is the summary line it printed.
      const account = producing ? null : / read (\d+) = sent (\d+) \+ rejected (\d+)/.exec(producer.log());
      if (account) [read, sent, rejected] = account.slice(1).map(Number) as [number, number, number];
      if (gate.ready({ now: Date.now(), producing, sent, consumed, emitted, lag })) break;
    }
    say(`\nProducer: ${producer.log().split('\n').find((l) => / = sent /.test(l) && !l.startsWith('{')) ?? 'done'}`);
    const kafka = tls.cluster.kafka();
    const admin = kafka.admin();
    await admin.connect();
    const windows = (await readAll(kafka, admin, names.processed)).map((r) => JSON.parse(r.value ?? '{}') as WindowRecord);
    const lateCount = (await readAll(kafka, admin, names.late)).length;
    await admin.disconnect();
    say(`Consumer: ${windows.length} window results in ${names.processed}, ${lateCount} late records in ${names.late}\n`);
    say(summarise(windows));
    say(`\nClient bundle (admin): ${bundleDir}  — e.g. kcat -F ${path.join(bundleDir, 'kcat.conf')} -C -t ${names.processed} -e`);
    if (options.exit) await stopAll(0);
    say('The broker stays up for you to explore. Press Ctrl-C to stop everything.');
  } catch (error) {
    process.stderr.write(`local: ${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll(1);
  }
}

if (require.main === module) void main();
