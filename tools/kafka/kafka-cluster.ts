// A real Apache Kafka cluster in KRaft mode, run as local JVMs on free loopback ports, for tests
// and for `npm run kafka:local`. The caller passes each node's server.properties (so the exact
// properties the stack renders can be started); the harness formats storage, starts the JVMs,
// waits until metadata answers, and always cleans up (see watchdog.sh for the hard-kill case).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { c1OnlyJvmOption } from '../../infra/render/kafka-tool-env';
import { installCreateTopicsFix } from '../../services/core/kafkajs-create-topics-fix';
import { freePorts } from './free-port';
import { kafkaClasspathArgs, kafkaToolJvmArgs, log4jConfigPath } from './kafka-runtime';

// Every admin a test makes creates topics as the services' would: waiting until a KRaft broker that
// has not applied a new topic yet stops answering UNKNOWN_TOPIC_OR_PARTITION.
installCreateTopicsFix();

export interface NodePorts {
  /** KRaft controller listener. */
  controller: number;
  /** Listener the brokers use between themselves (INTERNAL in the stack). */
  internal: number;
  /** Listener clients use from the host (EXTERNAL in the stack). */
  external: number;
}

export interface NodeContext {
  nodeId: number;
  nodeCount: number;
  host: string;
  /** This node's folder: data lives in `${dir}/data`; files given in `files` are written here. */
  dir: string;
  dataDir: string;
  ports: NodePorts;
  /** `controller.quorum.voters` for a static quorum of every node. */
  voters: string;
}

export interface KafkaClusterOptions {
  /** 1 (combined broker+controller) or 3 (a three-node quorum); every node is broker and controller. */
  nodes?: number;
  /** The server.properties of one node; the default is a plaintext, no-ACL cluster. */
  properties?: (ctx: NodeContext) => string;
  /** Files every node needs (keystores, …), written into each node's folder before it starts. */
  files?: (ctx: NodeContext) => Record<string, string | Buffer>;
  /** kafkajs settings (ssl, …) for the readiness check against the external listener. */
  client?: Omit<KafkaConfig, 'brokers'>;
  heapMb?: number;
  /**
   * 'quick-start' (the default, for tests) compiles with C1 alone: a three-node TLS quorum answers in
   * about 7.7 s instead of 13.1 s on 2 cores, and the tests' small workloads ran no slower. 'server'
   * keeps the JVM's defaults (both compilers), for long runs: the benchmarks and `npm run local`.
   */
  jvm?: 'quick-start' | 'server';
  startTimeoutMs?: number;
  /** Further `kafka-storage format` arguments (e.g. `--add-scram` for a SCRAM user that exists from the start). */
  formatArgs?: string[];
}

interface RunningNode {
  ctx: NodeContext;
  watchdog: ChildProcess;
  logFile: string;
  pidFile: string;
  exited: Promise<number | null>;
}

const watchdogScript = path.join(__dirname, 'watchdog.sh');
const jitOptions: Record<Required<KafkaClusterOptions>['jvm'], string[]> = { 'quick-start': [c1OnlyJvmOption], server: [] };
const liveClusters = new Set<KafkaCluster>();

export function plaintextProperties(ctx: NodeContext): string {
  return [
    `process.roles=broker,controller`,
    `node.id=${ctx.nodeId}`,
    `controller.quorum.voters=${ctx.voters}`,
    `listeners=CONTROLLER://${ctx.host}:${ctx.ports.controller},INTERNAL://${ctx.host}:${ctx.ports.internal},EXTERNAL://${ctx.host}:${ctx.ports.external}`,
    `advertised.listeners=INTERNAL://${ctx.host}:${ctx.ports.internal},EXTERNAL://${ctx.host}:${ctx.ports.external}`,
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT`,
    `controller.listener.names=CONTROLLER`,
    `inter.broker.listener.name=INTERNAL`,
    `log.dirs=${ctx.dataDir}`,
    `num.partitions=1`,
    `offsets.topic.replication.factor=${Math.min(ctx.nodeCount, 3)}`,
    `transaction.state.log.replication.factor=${Math.min(ctx.nodeCount, 3)}`,
    `transaction.state.log.min.isr=${Math.min(ctx.nodeCount, 2)}`,
    `group.initial.rebalance.delay.ms=0`,
    '',
  ].join('\n');
}

/**
 * A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, as Kafka's Uuid prints it.
 * Like Kafka's Uuid.randomUuid, never one starting with '-': kafka-storage would read it as an option.
 */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export class KafkaCluster {
  readonly clusterId = randomClusterId();
  readonly dir: string;
  private readonly nodes = new Map<number, RunningNode>();
  private readonly contexts: NodeContext[] = [];
  private stopped = false;

  private constructor(private readonly options: Required<Omit<KafkaClusterOptions, 'client' | 'files' | 'formatArgs'>> & KafkaClusterOptions) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'kafka-harness-'));
  }

  static async start(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
    const nodeCount = options.nodes ?? 1;
    if (nodeCount !== 1 && nodeCount < 3) throw new Error(`nodes must be 1 or at least 3 (a quorum of 2 tolerates no failure), got ${nodeCount}`);
    const cluster = new KafkaCluster({
      nodes: nodeCount,
      properties: options.properties ?? plaintextProperties,
      heapMb: options.heapMb ?? 512,
      jvm: options.jvm ?? 'quick-start',
      startTimeoutMs: options.startTimeoutMs ?? 90_000,
      ...(options.files ? { files: options.files } : {}),
      ...(options.client ? { client: options.client } : {}),
      ...(options.formatArgs ? { formatArgs: options.formatArgs } : {}),
    });
    liveClusters.add(cluster);
    installExitHandlers();
    try {
      await cluster.prepare();
      await Promise.all(cluster.contexts.map((ctx) => cluster.launch(ctx)));
      await cluster.waitUntilReady();
      return cluster;
    } catch (error) {
      const logs = cluster.logTail();
      await cluster.stop();
      throw new Error(`${(error as Error).message}\n--- broker logs ---\n${logs}`, { cause: error });
    }
  }

  get nodeIds(): number[] {
    return this.contexts.map((ctx) => ctx.nodeId);
  }

  context(nodeId: number): NodeContext {
    const ctx = this.contexts.find((c) => c.nodeId === nodeId);
    if (!ctx) throw new Error(`no node ${nodeId} in this cluster`);
    return ctx;
  }

  /** host:port of the running nodes' external (or internal) listeners. */
  bootstrap(listener: 'external' | 'internal' = 'external'): string[] {
    return this.contexts
      .filter((ctx) => this.nodes.has(ctx.nodeId))
      .map((ctx) => `${ctx.host}:${ctx.ports[listener]}`);
  }

  /** A kafkajs client for the external listener, with the cluster's client settings unless overridden. */
  kafka(config: Omit<KafkaConfig, 'brokers'> = {}): Kafka {
    return new Kafka({ logLevel: logLevel.NOTHING, ...this.options.client, ...config, brokers: this.bootstrap() });
  }

  /** Stops one node: SIGTERM (controlled shutdown) or SIGKILL (a crash). Its data stays for restartNode. */
  async stopNode(nodeId: number, how: 'graceful' | 'kill' = 'graceful'): Promise<void> {
    const node = this.nodes.get(nodeId);
    if (!node) return;
    const pid = readPid(node.pidFile);
    if (how === 'kill' && pid) tryKill(pid, 'SIGKILL');
    else node.watchdog.kill('SIGTERM');
    const timer = setTimeout(() => pid && tryKill(pid, 'SIGKILL'), 20_000);
    await node.exited;
    clearTimeout(timer);
    this.nodes.delete(nodeId);
  }

  async restartNode(nodeId: number): Promise<void> {
    if (this.nodes.has(nodeId)) await this.stopNode(nodeId);
    await this.launch(this.context(nodeId));
    await this.waitUntilReady();
  }

  /** The last lines of every node's log. */
  logTail(lines = 60): string {
    return this.contexts
      .map((ctx) => {
        const file = path.join(ctx.dir, 'kafka.log');
        const text = existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
        return `--- node ${ctx.nodeId} ---\n${text}`;
      })
      .join('\n');
  }

  /** Wraps a test body so that a failure prints the brokers' logs before it is reported. */
  guard<T>(body: () => Promise<T>): () => Promise<T> {
    return async () => {
      try {
        return await body();
      } catch (error) {
        process.stderr.write(`\n${this.logTail()}\n`);
        throw error;
      }
    };
  }

  /** Kills every node and removes every file the cluster wrote. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([...this.nodes.keys()].map((id) => this.stopNode(id, 'kill')));
    rmSync(this.dir, { recursive: true, force: true });
    liveClusters.delete(this);
  }

  private async prepare(): Promise<void> {
    const count = this.options.nodes;
    const ports = await freePorts(count * 3);
    const host = '127.0.0.1';
    const voters = Array.from({ length: count }, (_, i) => `${i + 1}@${host}:${ports[i * 3]}`).join(',');
    for (let i = 0; i < count; i++) {
      const dir = path.join(this.dir, `node-${i + 1}`);
      const ctx: NodeContext = {
        nodeId: i + 1,
        nodeCount: count,
        host,
        dir,
        dataDir: path.join(dir, 'data'),
        ports: { controller: ports[i * 3]!, internal: ports[i * 3 + 1]!, external: ports[i * 3 + 2]! },
        voters,
      };
      mkdirSync(ctx.dataDir, { recursive: true });
      for (const [name, content] of Object.entries(this.options.files?.(ctx) ?? {})) {
        writeFileSync(path.join(dir, name), content, { mode: 0o600 });
      }
      writeFileSync(path.join(dir, 'server.properties'), this.options.properties(ctx), { mode: 0o600 });
      this.contexts.push(ctx);
    }
    await Promise.all(this.contexts.map((ctx) => this.formatStorage(ctx)));
  }

  private async formatStorage(ctx: NodeContext): Promise<void> {
    const args = [
      ...kafkaToolJvmArgs('kafka.tools.StorageTool'), 'format', '-t', this.clusterId, '-c', path.join(ctx.dir, 'server.properties'),
      ...(this.options.formatArgs ?? []),
    ];
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('close', (code) => resolve({ code, output }));
    });
    if (result.code !== 0) throw new Error(`kafka-storage format failed for node ${ctx.nodeId}:\n${result.output}`);
  }

  private async launch(ctx: NodeContext): Promise<void> {
    const logFile = path.join(ctx.dir, 'kafka.log');
    const pidFile = path.join(ctx.dir, 'kafka.pid');
    const javaArgs = [
      `-Xmx${this.options.heapMb}m`, `-Xms${Math.min(this.options.heapMb, 256)}m`, '-XX:+UseG1GC', ...jitOptions[this.options.jvm],
      `-Dlog4j2.configurationFile=${log4jConfigPath}`, ...kafkaClasspathArgs(),
      'kafka.Kafka', path.join(ctx.dir, 'server.properties'),
    ];
    const watchdog = spawn('bash', [watchdogScript, String(process.pid), this.dir, logFile, pidFile, '--', 'java', ...javaArgs], {
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => watchdog.on('exit', (code) => resolve(code)));
    this.nodes.set(ctx.nodeId, { ctx, watchdog, logFile, pidFile, exited });
    void exited.then(() => this.nodes.get(ctx.nodeId)?.watchdog === watchdog && this.nodes.delete(ctx.nodeId));
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + this.options.startTimeoutMs;
    const expected = this.nodes.size;
    let lastError = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.nodes.size < expected) throw new Error('a Kafka node exited while starting');
      const admin = this.kafka({ retry: { retries: 0 }, connectionTimeout: 2_000 }).admin();
      try {
        await admin.connect();
        const { brokers, controller } = await admin.describeCluster();
        if (brokers.length >= expected && controller !== null && controller >= 0) return;
        lastError = `${brokers.length}/${expected} brokers registered`;
      } catch (error) {
        lastError = (error as Error).message;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`Kafka did not answer metadata within ${this.options.startTimeoutMs} ms: ${lastError}`);
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const killAll = (): void => {
    for (const cluster of liveClusters) {
      for (const ctx of cluster.nodeIds.map((id) => cluster.context(id))) {
        const pid = readPid(path.join(ctx.dir, 'kafka.pid'));
        if (pid) tryKill(pid, 'SIGKILL');
      }
      rmSync(cluster.dir, { recursive: true, force: true });
    }
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // A program with its own handler (kafka:local) decides how to exit; otherwise exit as the signal would.
      if (process.listenerCount(signal) === 0) process.exit(128 + (os.constants.signals[signal] ?? 0));
    });
  }
}

/** Used by the SIGINT test: are any harness JVMs alive on this machine? */
export function harnessJvmPids(): number[] {
  const out = spawnSync('pgrep', ['-f', '^java .*kafka\\.Kafka .*kafka-harness-'], { encoding: 'utf8' }).stdout ?? '';
  return out.split('\n').filter(Boolean).map(Number);
}
