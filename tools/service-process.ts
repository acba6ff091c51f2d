// The one way to run the producer or the consumer (services/<entry>/main.ts) as a local process,
// for tests, benchmarks and `npm run local`: output (stdout and stderr) appended to a log file, and
// under the Kafka harness's watchdog, so the service dies with the process that started it, even
// when that one is SIGKILLed. Signals go to the service itself, never only to its watchdog: a
// SIGKILLed or SIGSTOPped watchdog would leave the service running unwatched.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { consumerNodeFlags } from '../services/consumer/node-flags';
import { repoRoot } from './kafka/kafka-runtime';

export type ServiceEntry = 'producer' | 'consumer';

export interface ServiceOptions {
  /** What messages call it; the entry by default. */
  name?: string;
  /** Command-line flags after the entry point (`--file`, `--rate`, …). */
  args?: string[];
  /** Node's own flags, before the entry point (`--cpu-prof`, …), after those the service always runs with (the consumer's consumerNodeFlags). */
  nodeArgs?: string[];
  /** The environment `env` is laid over; this process's by default. A container's is clean: pass `{ PATH }`. */
  baseEnv?: NodeJS.ProcessEnv;
  /**
   * Runs the compiled JavaScript under this directory (`<dir>/services/<entry>/main.js`, as the image
   * does) instead of the TypeScript sources through tsx. Benchmarks use it: tsx adds about a second
   * of start-up to every process.
   */
  compiledDir?: string;
}

export interface Service {
  name: string;
  /** The watchdog: it exits when the service does, with the service's exit code (128 + n after signal n). */
  child: ChildProcess;
  exited: Promise<number | null>;
  logFile: string;
  /** Holds the service's own pid, written by the watchdog once it has started it. */
  pidFile: string;
  /** Whether the service has not exited yet. */
  running(): boolean;
  /** The whole log so far. */
  log(): string;
  /** The log's last lines, for error messages. */
  tail(lines?: number): string;
  /** Sends a signal to the service process itself; nothing once it has exited. */
  signal(signal: NodeJS.Signals): Promise<void>;
}

const watchdogScript = path.join(__dirname, 'kafka', 'watchdog.sh');

export function startService(entry: ServiceEntry, env: Record<string, string>, logFile: string, options: ServiceOptions = {}): Service {
  const childEnv: NodeJS.ProcessEnv = { ...(options.baseEnv ?? process.env), ...env };
  delete childEnv.NODE_TEST_CONTEXT; // a service, not part of a test run
  const pidFile = `${logFile}.pid`;
  const child = spawn('bash', [watchdogScript, String(process.pid), pidFile, logFile, pidFile, '--',
    process.execPath, ...(entry === 'consumer' ? consumerNodeFlags : []), ...(options.nodeArgs ?? []), ...entryArgs(entry, options.compiledDir), ...(options.args ?? [])], { cwd: repoRoot, env: childEnv, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  return {
    name: options.name ?? entry,
    child,
    exited,
    logFile,
    pidFile,
    running,
    log,
    tail: (lines = 40) => log().split('\n').slice(-lines).join('\n') || '(no log)',
    signal: async (signal) => {
      if (!running()) return;
      const pid = await servicePid(pidFile, running);
      if (pid === undefined) return;
      try {
        process.kill(pid, signal);
      } catch {
        // exited meanwhile
      }
    },
  };
}

function entryArgs(entry: ServiceEntry, compiledDir: string | undefined): string[] {
  return compiledDir ? [path.join(compiledDir, 'services', entry, 'main.js')] : ['--import', 'tsx', `services/${entry}/main.ts`];
}

/**
 * Sends `signal` (SIGTERM by default) and waits for the exit; a service still running `graceMs`
 * later (a minute by default: a loaded machine can take long to finish a transaction) is SIGKILLed.
 * Resolves with the exit code, 0 after a graceful stop.
 */
export async function stopService(service: Service, options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<number | null> {
  if (!service.running()) return service.exited;
  await service.signal(options.signal ?? 'SIGTERM');
  const timer = setTimeout(() => void service.signal('SIGKILL'), options.graceMs ?? 60_000);
  const code = await service.exited;
  clearTimeout(timer);
  return code;
}

/** Runs a service to its exit, SIGKILLed after `timeoutMs` (a hang is a failure too); its exit code and whole log. */
export async function runService(entry: ServiceEntry, env: Record<string, string>, logFile: string, options: ServiceOptions & { timeoutMs: number }): Promise<{ code: number | null; log: string }> {
  const service = startService(entry, env, logFile, options);
  const timer = setTimeout(() => void service.signal('SIGKILL'), options.timeoutMs);
  const code = await service.exited;
  clearTimeout(timer);
  return { code, log: service.log() };
}

/** The service's pid once the watchdog has written it; undefined when the watchdog exited first. */
async function servicePid(pidFile: string, running: () => boolean): Promise<number | undefined> {
  for (;;) {
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
    if (Number.isInteger(pid) && pid > 0) return pid;
    if (!running()) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}
