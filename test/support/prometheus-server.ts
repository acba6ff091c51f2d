// A real Prometheus (the Debian package's binary) on a free loopback port with a given
// prometheus.yml, for tests that need scrapes and PromQL. It runs under tools/kafka/watchdog.sh, so
// it dies with the test process even on SIGKILL; stop() removes everything it wrote.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../tools/kafka/free-port';

const watchdogScript = path.join(__dirname, '../../tools/kafka/watchdog.sh');

/** `promtool check config` on a config text: the exit status and what promtool said. */
export function promtoolCheckConfig(config: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
  try {
    const file = path.join(dir, 'prometheus.yml');
    writeFileSync(file, config);
    const result = spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' });
    if (result.error) throw result.error;
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class PrometheusServer {
  private stopped = false;

  private constructor(
    readonly url: string,
    /** Config, data and log; removed by stop(), or by the watchdog if the test process dies. */
    readonly dir: string,
    private readonly watchdog: ChildProcess,
    private readonly exited: Promise<number | null>,
  ) {}

  static async start(config: string, options: { readyTimeoutMs?: number } = {}): Promise<PrometheusServer> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'prometheus-test-'));
    writeFileSync(path.join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    const args = [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ];
    const watchdog = spawn('bash', [watchdogScript, String(process.pid), dir, path.join(dir, 'prometheus.log'), path.join(dir, 'prometheus.pid'), '--', 'prometheus', ...args], {
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => watchdog.on('exit', (code) => resolve(code)));
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, dir, watchdog, exited);
    try {
      await server.waitUntilReady(options.readyTimeoutMs ?? 30_000);
    } catch (error) {
      const log = server.logTail();
      await server.stop();
      throw new Error(`${(error as Error).message}\n${log}`, { cause: error });
    }
    return server;
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    let gone = false;
    void this.exited.then(() => (gone = true));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (gone) throw new Error('prometheus exited while starting');
      try {
        if ((await fetch(`${this.url}/-/ready`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`prometheus was not ready within ${timeoutMs} ms`);
  }

  /** Scrape targets by job, with their health as Prometheus sees it. */
  async targets(): Promise<{ job: string; instance: string; health: string; lastError: string }[]> {
    const body = (await (await fetch(`${this.url}/api/v1/targets?state=active`)).json()) as {
      data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] };
    };
    return body.data.activeTargets.map((t) => ({ job: t.labels.job ?? '', instance: t.labels.instance ?? '', health: t.health, lastError: t.lastError }));
  }

  /** The Prometheus process id, once the watchdog has started it. */
  pid(): number | undefined {
    const file = path.join(this.dir, 'prometheus.pid');
    const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN;
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  logTail(lines = 40): string {
    const file = path.join(this.dir, 'prometheus.log');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no prometheus log)';
  }

  /** Stops Prometheus and removes its folder. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.watchdog.kill('SIGTERM');
    const pid = this.pid();
    const timer = setTimeout(() => {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    await this.exited;
    clearTimeout(timer);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
