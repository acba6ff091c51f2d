// What both benchmarks share: arguments, the generated dataset and its expected window count (the
// SQL oracle), the stack's own broker with mutual TLS and its client settings for the anchors,
// window counting through the consumer's metrics, the machine's details and the table.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { StackConfig } from '../infra/config/stack-config';
import { metricNames } from '../services/core/metric-names';
import { producerDefaults } from '../services/producer/config';
import { writeGeneratedCsv } from '../services/producer/generator';
import { kafkaVersion, repoRoot } from '../tools/kafka/kafka-runtime';
import { startTlsCluster, type TlsCluster } from '../test/support/tls-cluster';
import { scrapeMetric } from '../tools/local-stack';
import type { Service } from '../tools/service-process';
import type { ClientProperties, Throughput } from './anchors';

export interface Row { benchmark: string; what: string; result: Throughput; anchor?: string; ratio?: number }

export function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1000) throw new Error(`${name} must be an integer ≥ 1000 (got ${process.argv[i + 1]})`);
  return value;
}

/** Every value given after `name` on the command line (`--env A=1 --env B=2`). */
export function flagValues(name: string): string[] {
  return process.argv.flatMap((arg, i) => (arg === name && process.argv[i + 1] ? [process.argv[i + 1]!] : []));
}

/** `KEY=VALUE` values of a repeatable flag, as an environment. */
export function envFlag(name: string): Record<string, string> {
  return Object.fromEntries(flagValues(name).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** Node flags that make a service write one CPU profile per thread to `dir` when it exits (`--cpu-prof`). */
export function cpuProfileArgs(dir: string): string[] {
  return ['--cpu-prof', '--cpu-prof-dir', path.resolve(dir)];
}

/**
 * Compiles services/ to JavaScript as the image's build stage does (into .cache/bench-build) and
 * returns the directory for startService's `compiledDir`: a benchmark times what a deployment runs,
 * not tsx compiling the sources at start-up. Takes about ten seconds.
 */
export function compileServices(): string {
  const dir = path.join(repoRoot, '.cache', 'bench-build');
  mkdirSync(dir, { recursive: true });
  const tsconfig = path.join(dir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify({
    extends: path.join(repoRoot, 'tsconfig.json'),
    compilerOptions: { noEmit: false, rootDir: repoRoot, outDir: path.join(dir, 'out') },
    include: [path.join(repoRoot, 'services', '**', '*.ts')],
  }));
  say('compiling the services (as the image does)');
  const tsc = spawnSync(path.join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  return path.join(dir, 'out');
}

/**
 * The gzip level our producer runs with on this stack (its `producer.gzipLevel`, or the producer's
 * default): the anchors compress at it too (kcat's `compression.level`, the Java producer's
 * `compression.gzip.level`), so that both sides spend the same effort compressing.
 */
export const producerGzipLevel = (config: StackConfig): number => config.services.producer.settings.gzipLevel ?? producerDefaults.gzipLevel;
export const kcatGzip = (client: ClientProperties, level: number): ClientProperties => ({ ...client, 'compression.codec': 'gzip', 'compression.level': String(level) });

export const say = (text: string): void => void process.stderr.write(`bench: ${text}\n`);

export const throughput = (records: number, seconds: number, bytes: number): Throughput => ({ records, seconds, recordsPerSecond: records / seconds, megabytesPerSecond: bytes / 1e6 / seconds });

export interface Dataset {
  csv: string;
  bytes: number;
  malformed: number;
  expectedWindows: number;
  /** The oracle's windows by result key (`<kind>|<key>|<start ms>`). */
  oracleWindows: Map<string, Record<string, unknown>>;
}

/** The fields of a window result the oracle computes too; a benchmark compares ours with it on these. */
const oracleFields = ['events', 'eventsByType', 'purchases', 'revenue', 'averagePurchasePrice', 'distinctUsers', 'distinctSessions', 'viewToPurchaseConversion', 'topProducts', 'lateRecords'] as const;

/**
 * Where our committed windows differ from the oracle's (at most `limit` lines; empty when equal):
 * every oracle window must be ours with the same fields; a window of ours the oracle lacks must be
 * one the producer's end of input closed (the oracle has no end of input). A fast wrong processor
 * is no result: the benchmarks stop on a difference.
 */
export function oracleDifferences(ours: Map<string, unknown>, oracle: Map<string, Record<string, unknown>>, limit = 10): string[] {
  const problems: string[] = [];
  for (const [key, expected] of oracle) {
    const window = ours.get(key) as Record<string, unknown> | undefined;
    if (!window) problems.push(`${key}: missing from ours`);
    else {
      const wrong = oracleFields.filter((f) => !isDeepStrictEqual(window[f], expected[f]) && !(f === 'averagePurchasePrice' && roundingTie(window[f], expected[f])));
      if (wrong.length > 0) problems.push(`${key}: ${wrong.map((f) => `${f} ours ${JSON.stringify(window[f])}, oracle ${JSON.stringify(expected[f])}`).join('; ')}`);
    }
  }
  for (const [key, window] of ours) if (!oracle.has(key) && (window as { endOfInput?: unknown }).endOfInput !== true) problems.push(`${key}: only in ours`);
  return problems.length > limit ? [...problems.slice(0, limit), `… and ${problems.length - limit} more`] : problems;
}

/**
 * The average purchase price is rounded to whole micros; at an exact half the oracle (Python's
 * round, to even) and ours (Math.round, up) may differ by one micro.
 */
function roundingTie(ours: unknown, oracle: unknown): boolean {
  return typeof ours === 'number' && typeof oracle === 'number' && Math.abs(ours - oracle) <= 1.000001e-6;
}

/** Throws, naming the differences, unless our committed windows equal the oracle's. */
export function checkAgainstOracle(ours: Map<string, unknown>, dataset: Dataset): void {
  const differences = oracleDifferences(ours, dataset.oracleWindows);
  if (differences.length > 0) throw new Error(`our consumer committed other windows than the oracle's:\n${differences.join('\n')}`);
}

/** A generated CSV (fixed seed) and how many windows the SQL oracle finds in it with the stack's settings. */
export async function generateDataset(rows: number, config: StackConfig, work: string): Promise<Dataset> {
  say(`generating ${rows} rows`);
  const csv = path.join(work, 'events.csv');
  const summary = await writeGeneratedCsv(csv, { rows, seed: 42, eventsPerSecond: 200, outOfOrderMs: 5_000, lateRate: 0.001, lateByMs: 600_000, malformedRate: 0.001 });
  const settings = config.services.consumer.settings;
  const raw = config.topics.find((t) => t.role === 'raw')!;
  say('computing the expected windows (SQL oracle)');
  const oracle = spawnSync('python3', [path.join(repoRoot, 'test', 'oracle', 'windows_oracle.py'), JSON.stringify({
    partitions: raw.partitions, tumblingMs: settings.tumblingSizeMs, slidingMs: settings.slidingSizeMs, advanceMs: settings.slidingAdvanceMs,
    graceMs: settings.graceMs, topN: settings.topN, groupBy: settings.groupBy,
  })], { input: readFileSync(csv), maxBuffer: 1024 * 1024 * 1024 });
  if (oracle.status !== 0) throw new Error(`oracle failed: ${String(oracle.stderr)}`);
  const windows = (JSON.parse(String(oracle.stdout)) as { windows: Record<string, unknown>[] }).windows;
  const oracleWindows = new Map(windows.map((w) => [`${String(w.windowKind)}|${String(w.key)}|${String(w.windowStartMs)}`, w]));
  return { csv, bytes: summary.bytes, malformed: summary.malformed, expectedWindows: windows.length, oracleWindows };
}

/**
 * What the anchors send: the same bytes our producer sends (canonical events as JSON, same fields and
 * sizes, from the CSV's first rows), one per line; `kcatFile` repeats them to `rows` lines.
 */
export function writeAnchorPayloads(csv: string, rows: number, work: string): { payloadFile: string; kcatFile: string; payloadBytes: number } {
  const sample = readFileSync(csv, 'utf8').split('\n').slice(1, 2001).filter(Boolean);
  const payloadFile = path.join(work, 'payloads.txt');
  const payloads = sample.map((line, i) => {
    const [time, eventType, productId, categoryId, categoryCode, brand, price, userId, sessionId] = line.split(',');
    return JSON.stringify({
      schemaVersion: 1, eventId: `events.csv:${i + 2}`, eventTime: Date.parse(`${time?.replace(' UTC', 'Z').replace(' ', 'T')}`) || 0, eventType,
      productId, categoryId: categoryId || null, categoryCode: categoryCode || null, brand: brand || null, price: Number(price) || 0, quantity: 1,
      userId: userId || null, sessionId: sessionId || null, country: null, source: 'rees46',
    });
  });
  writeFileSync(payloadFile, payloads.join('\n') + '\n');
  const kcatFile = path.join(work, 'kcat-payloads.txt');
  writeFileSync(kcatFile, Array.from({ length: Math.ceil(rows / payloads.length) }, () => payloads.join('\n')).join('\n').split('\n').slice(0, rows).join('\n') + '\n');
  const payloadBytes = Math.round(payloads.reduce((s, p) => s + p.length, 0) / payloads.length);
  return { payloadFile, kcatFile, payloadBytes };
}

export interface BenchBroker {
  tls: TlsCluster;
  bootstrap: string;
  /** The admin identity for Java tools and for kcat. */
  javaClient: ClientProperties;
  kcatClient: ClientProperties;
}

/** One broker with the stack's rendered properties, mutual TLS and ACLs; the admin's files written to `work`. */
export async function startBenchBroker(work: string): Promise<BenchBroker> {
  say('starting the broker (rendered properties, mutual TLS, ACLs)');
  const tls = await startTlsCluster({ nodes: 1, jvm: 'server' });
  const files = { ca: path.join(work, 'ca.pem'), cert: path.join(work, 'admin.pem'), key: path.join(work, 'admin-key.pem'), keystore: path.join(work, 'admin-keystore.pem') };
  writeFileSync(files.ca, tls.pki.ca.certPem);
  writeFileSync(files.cert, tls.admin.certPem);
  writeFileSync(files.key, tls.admin.keyPem);
  writeFileSync(files.keystore, `${tls.admin.keyPem.trim()}\n${tls.admin.certPem.trim()}\n`);
  return {
    tls,
    bootstrap: tls.cluster.bootstrap()[0]!,
    javaClient: { 'security.protocol': 'SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': files.ca, 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': files.keystore },
    kcatClient: { 'security.protocol': 'ssl', 'ssl.ca.location': files.ca, 'ssl.certificate.location': files.cert, 'ssl.key.location': files.key },
  };
}

/** A process's resident set (VmRSS) or its peak so far (VmHWM) in MiB, from Linux /proc. */
export function processMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** CPU seconds (user + system, every thread) a process has used so far. */
export function processCpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The pid of a service started by startService (its watchdog wrote it). */
export const servicePid = (service: Service): number => Number(readFileSync(service.pidFile, 'utf8').trim());

/** Polls the consumer's metrics until it has emitted `expected` windows; the moment it did. */
export async function waitForWindows(consumer: Service, metricsPort: number, expected: number, timeoutMs: number, onPoll?: () => Promise<void>, options: { allClosed?: boolean } = {}): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const emitted = await scrapeMetric(metricsPort, metricNames.consumer.windowsEmitted);
    // With the producer's end of input, ours also emits the windows only it closes (the oracle's
    // count leaves them out): done is then every window closed, not the count reached.
    if (emitted >= expected && (!options.allClosed || (await scrapeMetric(metricsPort, metricNames.consumer.openWindows)) === 0)) return Date.now();
    if (Date.now() > deadline) throw new Error(`the consumer emitted ${emitted} of ${expected} windows within ${timeoutMs / 1000} s`);
    if (consumer.child.exitCode !== null) throw new Error(`the consumer exited (${consumer.child.exitCode}):\n${consumer.tail()}`);
    await onPoll?.();
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function machineInfo(): Record<string, string | number> {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`,
    node: process.version, java: spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0] ?? '', kafka: kafkaVersion(),
    kcat: spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '',
  };
}

/** One round of our producer, with the anchor measured just before it on the same broker. */
export interface PairedRound { ours: Throughput; anchor: Throughput }

/**
 * The round whose ratio (ours / anchor) is the median of all the rounds' ratios. One pair moves with
 * whatever else the machine is doing: in one `bench:producer` run on 2026-12-07, kcat -P alone ran
 * anywhere from 133,050 to 174,969 rows/s. The median of three is not moved by one bad round or one
 * lucky one. With an even count it takes the lower of the two middle rounds.
 */
export function medianRound(rounds: readonly PairedRound[]): PairedRound & { ratio: number } {
  if (rounds.length === 0) throw new Error('medianRound needs at least one round');
  const rated = rounds.map((r) => ({ ...r, ratio: r.ours.recordsPerSecond / r.anchor.recordsPerSecond })).sort((a, b) => a.ratio - b.ratio);
  return rated[Math.floor((rated.length - 1) / 2)]!;
}

export function formatTable(rows: Row[]): string {
  const lines = [['benchmark', 'what', 'records', 'seconds', 'records/s', 'MB/s', 'vs anchor', 'ratio']];
  for (const r of rows) {
    lines.push([r.benchmark, r.what, String(r.result.records), r.result.seconds.toFixed(1), Math.round(r.result.recordsPerSecond).toLocaleString('en-US'),
      r.result.megabytesPerSecond ? r.result.megabytesPerSecond.toFixed(1) : '', r.anchor ?? '', r.ratio !== undefined ? r.ratio.toFixed(2) : '']);
  }
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  const fmt = (l: string[]): string => `| ${l.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [fmt(lines[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.slice(1).map(fmt)].join('\n');
}

/** Runs a benchmark's main, exiting 1 with its error. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  });
}
