// The Kafka Streams peer (bench/streams-peer, built by setup): the consumer's job as a Kafka Streams
// application, run on the same raw topic as ours with its own certificate and least-privilege ACLs,
// and the check that its committed windows equal ours. Used by both benchmarks and by the test that
// keeps the peer from drifting (test/integration/streams-peer.test.ts).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Kafka } from 'kafkajs';
import { aclProvider } from '../infra/kafka-admin/acl-provider';
import { topicProvider } from '../infra/kafka-admin/topic-provider';
import { aclBindings, type AclRule } from '../infra/security/acl-rules';
import type { ConsumerSettings } from '../services/consumer/config';
import { readAll } from '../test/support/consumer-run';
import type { TlsCluster } from '../test/support/tls-cluster';
import { kafkaVersion, repoRoot } from '../tools/kafka/kafka-runtime';
import { adminConnection } from '../tools/local-stack';
import type { Throughput } from './anchors';
import { throughput, type Row } from './setup';

/** The peer's principal (its certificate's CN) and the prefix of everything it owns. */
export const peerPrincipal = 'streams-peer';

export function streamsPeerLibs(version = kafkaVersion()): string {
  return path.join(repoRoot, '.cache', 'streams-peer', version, 'libs');
}

/** The JVM's class path; fails with the fix when setup has not built the peer. */
function classpath(): string {
  const libs = streamsPeerLibs();
  if (!existsSync(path.join(libs, '.complete'))) throw new Error(`the Kafka Streams peer is not built in ${libs}: run 'npm run setup' first`);
  return `${libs}/*`;
}

export interface PeerTopics {
  applicationId: string;
  raw: string;
  processed: string;
  late: string;
  deadLetter: string;
}

/**
 * What the peer may do, and nothing more: read the raw topic; own every topic, group and
 * transactional id under its prefix (its output topics, and the repartition and changelog topics
 * Kafka Streams creates, writes, reads and purges). No cluster-level rights.
 */
export function streamsPeerAclRules(rawTopic: string): AclRule[] {
  const own = (type: 'topic' | 'group' | 'transactionalId', operations: AclRule['operations']): AclRule =>
    ({ principal: peerPrincipal, resource: { type, name: peerPrincipal, patternType: 'prefixed' }, operations });
  return [
    { principal: peerPrincipal, resource: { type: 'topic', name: rawTopic, patternType: 'literal' }, operations: ['Read', 'Describe'] },
    own('topic', ['Create', 'Read', 'Write', 'Describe', 'DescribeConfigs', 'Delete']),
    own('group', ['Read', 'Describe']),
    own('transactionalId', ['Write', 'Describe']),
  ];
}

/** Grants the peer's ACLs for a raw topic (once per broker and raw topic). */
export async function grantStreamsPeerAcls(tls: TlsCluster, rawTopic: string): Promise<void> {
  const connection = adminConnection(tls);
  const noTopics = { raw: '', processed: '', deadLetter: '', late: '', repartition: '', changelog: '', sourceOffsets: '' };
  for (const binding of aclBindings(streamsPeerAclRules(rawTopic), noTopics)) await aclProvider.create({ ...binding, connection });
}

/** The output topics of one peer run, named under its application id (Kafka Streams creates its internal topics itself). */
export async function createPeerTopics(tls: TlsCluster, rawTopic: string, applicationId: string, processedPartitions: number): Promise<PeerTopics> {
  if (!applicationId.startsWith(peerPrincipal)) throw new Error(`the peer's application.id must start with '${peerPrincipal}' (its ACL prefix), got '${applicationId}'`);
  const topics: PeerTopics = { applicationId, raw: rawTopic, processed: `${applicationId}-processed`, late: `${applicationId}-late`, deadLetter: `${applicationId}-dead-letter` };
  const connection = adminConnection(tls);
  const replicationFactor = Math.min(3, tls.cluster.bootstrap().length);
  await topicProvider.create({ name: topics.processed, partitions: processedPartitions, replicationFactor, config: {}, connection });
  await topicProvider.create({ name: topics.late, partitions: 1, replicationFactor, config: {}, connection });
  await topicProvider.create({ name: topics.deadLetter, partitions: 1, replicationFactor, config: {}, connection });
  return topics;
}

/** The consumer's window settings the peer takes over (group keys as plain names: the peer checks them itself). */
export type PeerWindowSettings = Pick<ConsumerSettings, 'tumblingSizeMs' | 'slidingSizeMs' | 'slidingAdvanceMs' | 'graceMs' | 'topN' | 'idleTimeoutMs'> & { groupBy: readonly string[] };

export interface PeerRunOptions {
  tls: TlsCluster;
  topics: PeerTopics;
  settings: PeerWindowSettings;
  rawPartitions: number;
  repartitionPartitions: number;
  threads: number;
  /** The run ends when this many window results are committed. */
  expectWindows: number;
  /** Certificates, properties, state and the log go here. */
  workDir: string;
  timeoutMs: number;
  heapMb?: number;
  /** More JVM options (a profiler, say). */
  jvmArgs?: string[];
}

export interface PeerRun {
  /** JVM start → the expected windows committed, as ours is timed (start → last window committed). */
  seconds: number;
  windows: number;
  peakRssMiB: number;
}

/** Runs the peer to the last expected window; the JVM dies with this process (watchdog), and on timeout. */
export async function runStreamsPeer(options: PeerRunOptions): Promise<PeerRun> {
  const dir = path.join(options.workDir, options.topics.applicationId);
  mkdirSync(dir, { recursive: true });
  const { tls, topics, settings } = options;
  const cert = tls.pki.client(peerPrincipal);
  const file = (name: string, text: string): string => {
    writeFileSync(path.join(dir, name), text, { mode: 0o600 });
    return path.join(dir, name);
  };
  const properties: Record<string, string | number> = {
    'application.id': topics.applicationId,
    // The consumer's listener: the one the stack's containers use.
    'bootstrap.servers': tls.cluster.bootstrap('internal').join(','),
    'security.protocol': 'SSL',
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': file('ca.pem', tls.pki.ca.certPem),
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': file('keystore.pem', `${cert.keyPem.trim()}\n${cert.certPem.trim()}\n`),
    'num.stream.threads': options.threads,
    'state.dir': path.join(dir, 'state'),
    'replication.factor': Math.min(3, tls.cluster.bootstrap().length),
    'auto.offset.reset': 'earliest',
    'peer.topic.raw': topics.raw,
    'peer.topic.processed': topics.processed,
    'peer.topic.late': topics.late,
    'peer.topic.dead-letter': topics.deadLetter,
    'peer.raw-partitions': options.rawPartitions,
    'peer.repartition-partitions': options.repartitionPartitions,
    'peer.window.tumbling-size-ms': settings.tumblingSizeMs,
    'peer.window.sliding-size-ms': settings.slidingSizeMs,
    'peer.window.sliding-advance-ms': settings.slidingAdvanceMs,
    'peer.window.grace-ms': settings.graceMs,
    'peer.window.group-by': settings.groupBy.join(','),
    'peer.window.top-n': settings.topN,
    // Longer than one raw partition can run ahead of another in any run here, and longer than the
    // datasets are old: the store's changelog entries carry event times, and its topic's retention.ms
    // is this plus a day, so a shorter one lets the broker delete the state a restore needs (see docs/benchmarks.md).
    'peer.window.retention-ms': 10 * 365 * 24 * 3_600_000,
    'peer.idle-timeout-ms': settings.idleTimeoutMs,
    'peer.expect-windows': options.expectWindows,
  };
  const propsFile = file('peer.properties', Object.entries(properties).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const logFile = path.join(dir, 'peer.log');
  const pidFile = path.join(dir, 'peer.pid');
  const watchdog = path.join(repoRoot, 'tools', 'kafka', 'watchdog.sh');
  const started = Date.now();
  const child = spawn('bash', [watchdog, String(process.pid), path.join(dir, 'state'), logFile, pidFile, '--',
    'java', `-Xmx${options.heapMb ?? 1024}m`, ...(options.jvmArgs ?? []), '-cp', classpath(), 'dev.pipeline.peer.StreamsPeer', propsFile], { stdio: 'ignore' });
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '(no log)');
  const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const text = log();
  const done = text.split('\n').map((l) => /^\{"done":true.*\}$/.test(l) ? JSON.parse(l) as { windows: number; atMs: number; peakRssKiB: number } : undefined).find(Boolean);
  if (code !== 0 || !done) {
    throw new Error(`the Kafka Streams peer (${topics.applicationId}) ${Date.now() - started >= options.timeoutMs ? `did not commit ${options.expectWindows} windows within ${options.timeoutMs / 1000} s` : `exited ${code}`}:\n${text.split('\n').slice(-40).join('\n')}`);
  }
  return { seconds: (done.atMs - started) / 1000, windows: done.windows, peakRssMiB: done.peakRssKiB / 1024 };
}

/** Window results by record key, each parsed; a key twice is an error (results are final, one per window). */
export async function committedWindows(kafka: Kafka, topic: string): Promise<Map<string, unknown>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const windows = new Map<string, unknown>();
    for (const r of await readAll(kafka, admin, topic, 120_000)) {
      if (windows.has(r.key!)) throw new Error(`${topic}: window ${r.key} committed twice`);
      windows.set(r.key!, JSON.parse(r.value!));
    }
    return windows;
  } finally {
    await admin.disconnect();
  }
}

/** Where two sets of window results differ (missing, extra, or any field unequal), at most `limit` lines; empty when equal. */
export function windowDifferences(ours: Map<string, unknown>, peer: Map<string, unknown>, limit = 10): string[] {
  const problems: string[] = [];
  for (const [key, value] of ours) {
    if (!peer.has(key)) problems.push(`${key}: only in ours`);
    else if (!isDeepStrictEqual(value, peer.get(key))) problems.push(`${key}: ours ${JSON.stringify(value)}\n  peer ${JSON.stringify(peer.get(key))}`);
  }
  for (const key of peer.keys()) if (!ours.has(key)) problems.push(`${key}: only in the peer's`);
  return problems.length > limit ? [...problems.slice(0, limit), `… and ${problems.length - limit} more`] : problems;
}

/**
 * Our windows as the peer can have them. Those the producer's end of input closed (`endOfInput:
 * true`) are optional: Kafka Streams has no end of input (the peer dead-letters the markers), so
 * it closes such a window only when its idle rule lets stream time pass the window's close, and
 * then without the mark. Every other window of ours the peer must have.
 */
export function comparableToPeer(ours: Map<string, unknown>, peer: Map<string, unknown>): Map<string, unknown> {
  const comparable = new Map<string, unknown>();
  for (const [key, window] of ours) {
    const { endOfInput, ...unmarked } = window as { endOfInput?: unknown };
    if (endOfInput !== true) comparable.set(key, window);
    else if (peer.has(key)) comparable.set(key, unmarked);
  }
  return comparable;
}

export interface PeerMeasurement {
  threads: number;
  run: PeerRun;
}

/**
 * The peer with 1 and with 2 stream threads, one after the other on the same full raw topic (a
 * fresh application id each, so each reads it from the start), each checked against our committed
 * windows: a peer that computed something else is no anchor, so a difference throws.
 */
export async function measureStreamsPeer(options: Omit<PeerRunOptions, 'threads' | 'topics'> & {
  rawTopic: string; processedPartitions: number; ours: Map<string, unknown>; threads?: number[]; say: (text: string) => void;
}): Promise<PeerMeasurement[]> {
  await grantStreamsPeerAcls(options.tls, options.rawTopic);
  const kafka = options.tls.cluster.kafka({ retry: { retries: 15, initialRetryTime: 300, maxRetryTime: 5_000 } });
  const measured: PeerMeasurement[] = [];
  for (const threads of options.threads ?? [1, 2]) {
    options.say(`anchor: the Kafka Streams peer, ${threads} stream thread${threads > 1 ? 's' : ''}, on the same topic`);
    const topics = await createPeerTopics(options.tls, options.rawTopic, `${peerPrincipal}-${threads}t-${Date.now()}`, options.processedPartitions);
    const run = await runStreamsPeer({ ...options, topics, threads });
    const peer = await committedWindows(kafka, topics.processed);
    const differences = windowDifferences(comparableToPeer(options.ours, peer), peer);
    if (differences.length > 0) throw new Error(`the Kafka Streams peer (${threads} threads) committed other windows than ours:\n${differences.join('\n')}`);
    measured.push({ threads, run });
  }
  return measured;
}

/** The table rows: each peer run as an anchor, then ours against it (ours / Kafka Streams). */
export function peerRows(ours: Throughput, events: number, measured: PeerMeasurement[]): Row[] {
  const rows: Row[] = [];
  const name = (m: PeerMeasurement): string => `Kafka Streams (${m.threads} thread${m.threads > 1 ? 's' : ''})`;
  for (const m of measured) {
    rows.push({ benchmark: 'anchor', what: `${name(m)}: the same job, exactly_once_v2, raw → windows committed`, result: throughput(events, m.run.seconds, 0) });
  }
  for (const m of measured) {
    rows.push({ benchmark: 'processor', what: `  our consumer, against ${name(m)}`, result: ours, anchor: name(m), ratio: ours.recordsPerSecond / (events / m.run.seconds) });
  }
  return rows;
}

/** One line: each processor's peak resident memory in the run, and which windows were found equal (the oracle's always; the peer's when it ran). */
export function peakRssLine(oursMiB: number, measured: PeerMeasurement[], windows: number): string {
  const mib = (n: number): string => `${n.toFixed(0)} MiB`;
  const memory = [`our consumer ${mib(oursMiB)}`, ...measured.map((m) => `Kafka Streams ${m.threads} thread${m.threads > 1 ? 's' : ''} ${mib(m.run.peakRssMiB)}`)].join(', ');
  const equal = measured.length > 0 ? "ours, Kafka Streams' and the oracle's" : "ours and the oracle's";
  return `peak RSS: ${memory}; ${equal} ${windows} committed windows are the same`;
}
