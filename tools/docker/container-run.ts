// Runs ContainerSpecs on a real Docker engine for a test: network, volumes, containers (files uploaded
// before the entrypoint runs), started wave by wave in dependsOn order, each waited for until healthy.
// Everything is labelled with the run's id; teardown removes exactly that, reaper.sh removes it when
// the test process dies without tearing down, and the next run sweeps what a killed reaper left.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ContainerSpec } from '../../infra/render/container-spec';
import { containerCreateBody, healthcheckCommand, startWaves, uploadRequests, type UploadRequest } from './container-config';
import { DockerEngine, demultiplex } from './engine';

export const RUN_LABEL = 'pipeline.test-run';
export const OWNER_LABEL = 'pipeline.test-owner-pid';

export interface Leftovers {
  containers: string[];
  networks: string[];
  volumes: string[];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

interface ContainerState {
  Status: string;
  ExitCode: number;
  Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] };
}
interface ContainerInspect {
  Id: string;
  State: ContainerState;
  Config: { Labels: Record<string, string> | null };
}
interface LabelledList {
  Labels?: Record<string, string> | null;
}

const reaperScript = path.join(__dirname, 'reaper.sh');

export interface ReadyOptions {
  /** Wait for Docker's own health verdict, without running the check here (see waitReady). */
  dockerHealth?: boolean;
}

export class ContainerRun {
  readonly runId = `run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  readonly labels: Record<string, string> = { [RUN_LABEL]: this.runId, [OWNER_LABEL]: String(process.pid) };
  private readonly containers = new Map<string, { id: string; spec: ContainerSpec }>();
  private reaper: ChildProcess | undefined;

  private constructor(
    readonly engine: DockerEngine,
    readonly readyTimeoutMs: number,
  ) {}

  /** Sweeps what killed earlier runs left, and arms the reaper for this one. */
  static async begin(options: { engine?: DockerEngine; readyTimeoutMs?: number } = {}): Promise<ContainerRun> {
    const run = new ContainerRun(options.engine ?? new DockerEngine(), options.readyTimeoutMs ?? 180_000);
    await run.engine.request('GET', '/_ping');
    await sweepAbandonedRuns(run.engine);
    run.reaper = spawn('bash', [reaperScript, String(process.pid), `${RUN_LABEL}=${run.runId}`], { detached: true, stdio: 'ignore' });
    run.reaper.unref();
    return run;
  }

  async createNetwork(name: string): Promise<void> {
    await this.engine.json('POST', '/networks/create', { body: { Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: this.labels } });
  }

  /** Volumes are created by name as the stack names them; one that already exists is not ours to use. */
  async createVolume(name: string): Promise<void> {
    const volume = await this.engine.json<LabelledList>('POST', '/volumes/create', { body: { Name: name, Labels: this.labels } });
    if (volume.Labels?.[RUN_LABEL] !== this.runId) {
      throw new Error(`volume ${name} already exists outside this test run; remove it (docker volume rm ${name}) and rerun`);
    }
  }

  /** Creates the container and writes its uploads into it, as the provider does; it does not start it. */
  async create(spec: ContainerSpec, network: string): Promise<void> {
    const body = containerCreateBody(spec, network, this.labels);
    const uploads = uploadRequests(spec);
    const { Id } = await this.engine.json<{ Id: string }>('POST', '/containers/create', { query: { name: spec.name }, body });
    this.containers.set(spec.name, { id: Id, spec });
    for (const upload of uploads) await this.upload(spec.name, upload);
  }

  /** One upload into a created container, failing with the daemon's words as the provider does. */
  async upload(name: string, upload: UploadRequest): Promise<void> {
    const query = { path: '/', ...(upload.copyUIDGID ? { copyUIDGID: 'true' } : {}) };
    try {
      await this.engine.request('PUT', `/containers/${this.id(name)}/archive`, { query, tar: upload.archive });
    } catch (error) {
      throw new Error(`container ${name}: Unable to upload volume content (${upload.file}): ${(error as Error).message}`, { cause: error });
    }
  }

  /** The whole stack: network, volumes, containers, then starts in dependsOn waves, each wave healthy (see waitReady). */
  async up(network: string, specs: ContainerSpec[], ready: ReadyOptions = {}): Promise<void> {
    startWaves(specs);
    await this.createNetwork(network);
    await this.add(network, specs, ready);
  }

  /**
   * More containers on an existing network, started in dependsOn waves. Dependencies already
   * running in this run count as started (as resources already created do for Pulumi).
   */
  async add(network: string, specs: ContainerSpec[], ready: ReadyOptions = {}): Promise<void> {
    const running = [...this.containers.keys()].filter((name) => !specs.some((s) => s.name === name));
    const waves = startWaves(specs.map((s) => ({ ...s, dependsOn: s.dependsOn.filter((d) => !running.includes(d)) })));
    for (const volume of new Set(specs.flatMap((s) => s.volumes.map((v) => v.volumeName)))) await this.createVolume(volume);
    for (const spec of specs) await this.create(spec, network);
    for (const wave of waves) await Promise.all(wave.map((name) => this.start(name, ready)));
  }

  private id(name: string): string {
    const entry = this.containers.get(name);
    if (!entry) throw new Error(`no container ${name} in this run (known: ${[...this.containers.keys()].join(', ') || 'none'})`);
    return entry.id;
  }

  async inspect(name: string): Promise<ContainerInspect> {
    return this.engine.json<ContainerInspect>('GET', `/containers/${this.id(name)}/json`);
  }

  /** Starts a created or stopped container and, unless told not to, waits until it is ready (see waitReady). */
  async start(name: string, options: { wait?: boolean } & ReadyOptions = {}): Promise<void> {
    await this.engine.request('POST', `/containers/${this.id(name)}/start`, { accept: [304] });
    if (options.wait ?? true) await this.waitReady(name, undefined, options);
  }

  /** Runs `body`; if it fails, the error carries the last log lines of the named containers. */
  async withLogsOnFailure<T>(names: string[], body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      const logs = await Promise.all(names.map(async (n) => `--- ${n} ---\n${await this.logs(n, 40).catch((e: Error) => e.message)}`));
      (error as Error).message += `\n${logs.join('\n')}`;
      throw error;
    }
  }

  /**
   * Until healthy (or running, without a healthcheck). A container that is not restarted on success
   * and has exited 0 has done its job (a one-shot producer): that counts as ready too.
   *
   * Healthy means its healthcheck passes: Docker's own verdict, or the same check run here by
   * `docker exec` while Docker's says "starting". Docker 20.10 runs the first check one interval
   * (15 s) after the start and has no start interval, so waiting on Docker alone added up to 15 s
   * to every wave of a stack. The check is run again no sooner than twice its last duration (a
   * Kafka probe is a JVM of about 1.7 CPU seconds) and at most once a second.
   */
  async waitReady(name: string, timeoutMs = this.readyTimeoutMs, options: ReadyOptions = {}): Promise<void> {
    const spec = this.containers.get(name)?.spec;
    const healthcheck = spec?.healthcheck;
    const oneShot = spec?.restart === 'no' || spec?.restart === 'on-failure';
    const deadline = Date.now() + timeoutMs;
    let state: ContainerState | undefined;
    const probe = { passed: false, running: false, nextAt: 0 };
    while (Date.now() < deadline) {
      state = (await this.inspect(name)).State;
      if (state.Status === 'running' && (!healthcheck || state.Health?.Status === 'healthy' || probe.passed)) return;
      if (oneShot && state.Status === 'exited' && state.ExitCode === 0) return;
      if (state.Health?.Status === 'unhealthy') break;
      if (state.Status === 'exited' || state.Status === 'dead') break;
      if (healthcheck && !options.dockerHealth && state.Status === 'running' && !probe.running && Date.now() >= probe.nextAt) {
        probe.running = true;
        const began = Date.now();
        void this.exec(name, healthcheckCommand(healthcheck.test)).then(
          (result) => { probe.passed ||= result.exitCode === 0; },
          () => undefined,
        ).finally(() => {
          probe.running = false;
          probe.nextAt = Date.now() + Math.max(1_000, 2 * (Date.now() - began));
        });
      }
      await sleep(500);
    }
    const last = state?.Health?.Log?.at(-1);
    const why = !state ? 'no state' : `status ${state.Status}, exit code ${state.ExitCode}, health ${state.Health?.Status ?? 'none'}`;
    throw new Error(
      `container ${name} did not become ready (${why})` +
        (last ? `\n--- last healthcheck (exit ${last.ExitCode}) ---\n${last.Output.trim()}` : '') +
        `\n--- logs ---\n${await this.logs(name, 80).catch((e: Error) => e.message)}`,
    );
  }

  async kill(name: string, signal = 'SIGKILL'): Promise<void> {
    await this.engine.request('POST', `/containers/${this.id(name)}/kill`, { query: { signal } });
  }

  /** SIGTERM, then SIGKILL after `timeoutSeconds`, as `docker stop`. */
  async stop(name: string, timeoutSeconds = 30): Promise<void> {
    await this.engine.request('POST', `/containers/${this.id(name)}/stop`, { query: { t: timeoutSeconds }, accept: [304] });
  }

  /** Waits until the container's main process has exited; returns its exit code. */
  async wait(name: string): Promise<number> {
    const { StatusCode } = await this.engine.json<{ StatusCode: number }>('POST', `/containers/${this.id(name)}/wait`);
    return StatusCode;
  }

  /** stdout and stderr of the container, interleaved by stream, the last `tail` lines of each. */
  async logs(name: string, tail = 200): Promise<string> {
    const { body } = await this.engine.request('GET', `/containers/${this.id(name)}/logs`, { query: { stdout: 1, stderr: 1, tail } });
    const { stdout, stderr } = demultiplex(body);
    return `${stdout}${stderr ? `--- stderr ---\n${stderr}` : ''}`;
  }

  /** Runs a command in a running container (docker exec) and collects its output and exit code. */
  async exec(name: string, cmd: string[], options: { user?: string; env?: Record<string, string> } = {}): Promise<ExecResult> {
    const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const { Id } = await this.engine.json<{ Id: string }>('POST', `/containers/${this.id(name)}/exec`, {
      body: { Cmd: cmd, AttachStdout: true, AttachStderr: true, Env: env, ...(options.user ? { User: options.user } : {}) },
    });
    const { body } = await this.engine.request('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: false } });
    const { ExitCode } = await this.engine.json<{ ExitCode: number }>('GET', `/exec/${Id}/json`);
    return { exitCode: ExitCode, ...demultiplex(body) };
  }

  /** A one-off container on the network (a client inside it): runs to completion, returns output. */
  async runOnce(spec: ContainerSpec, network: string): Promise<ExecResult> {
    await this.create(spec, network);
    await this.engine.request('POST', `/containers/${this.id(spec.name)}/start`);
    const exitCode = await this.wait(spec.name);
    const { body } = await this.engine.request('GET', `/containers/${this.id(spec.name)}/logs`, { query: { stdout: 1, stderr: 1 } });
    await this.remove(spec.name);
    return { exitCode, ...demultiplex(body) };
  }

  async remove(name: string): Promise<void> {
    await this.engine.request('DELETE', `/containers/${this.id(name)}`, { query: { force: true, v: true }, accept: [404] });
    this.containers.delete(name);
  }

  /** Removes every container, network and volume of this run, then disarms the reaper. */
  async teardown(): Promise<void> {
    await removeLabelled(this.engine, `${RUN_LABEL}=${this.runId}`);
    this.containers.clear();
    this.reaper?.kill('SIGTERM');
  }

  /** What of this run still exists on the engine (empty after teardown). */
  async leftovers(): Promise<Leftovers> {
    return listLabelled(this.engine, `${RUN_LABEL}=${this.runId}`);
  }
}

export async function listLabelled(engine: DockerEngine, label: string): Promise<Leftovers> {
  const filters = JSON.stringify({ label: [label] });
  const [containers, networks, volumes] = await Promise.all([
    engine.json<{ Names: string[] }[]>('GET', '/containers/json', { query: { all: true, filters } }),
    engine.json<{ Name: string }[]>('GET', '/networks', { query: { filters } }),
    engine.json<{ Volumes: { Name: string }[] | null }>('GET', '/volumes', { query: { filters } }),
  ]);
  return {
    containers: containers.map((c) => (c.Names[0] ?? '').replace(/^\//, '')),
    networks: networks.map((n) => n.Name),
    volumes: (volumes.Volumes ?? []).map((v) => v.Name),
  };
}

/** Containers first (they hold the networks and volumes), then networks, then volumes. */
export async function removeLabelled(engine: DockerEngine, label: string): Promise<void> {
  const filters = JSON.stringify({ label: [label] });
  const containers = await engine.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: true, filters } });
  await Promise.all(containers.map((c) => engine.request('DELETE', `/containers/${c.Id}`, { query: { force: true, v: true }, accept: [404] })));
  const networks = await engine.json<{ Id: string }[]>('GET', '/networks', { query: { filters } });
  await Promise.all(networks.map((n) => engine.request('DELETE', `/networks/${n.Id}`, { accept: [404] })));
  const volumes = await engine.json<{ Volumes: { Name: string }[] | null }>('GET', '/volumes', { query: { filters } });
  await Promise.all((volumes.Volumes ?? []).map((v) => engine.request('DELETE', `/volumes/${encodeURIComponent(v.Name)}`, { query: { force: true }, accept: [404] })));
}

/** Removes the resources of earlier runs whose owning process is gone (a reaper that was killed too). */
export async function sweepAbandonedRuns(engine: DockerEngine): Promise<string[]> {
  const filters = JSON.stringify({ label: [RUN_LABEL] });
  const [containers, networks, volumes] = await Promise.all([
    engine.json<LabelledList[]>('GET', '/containers/json', { query: { all: true, filters } }),
    engine.json<LabelledList[]>('GET', '/networks', { query: { filters } }),
    engine.json<{ Volumes: LabelledList[] | null }>('GET', '/volumes', { query: { filters } }),
  ]);
  const abandoned = new Set<string>();
  for (const item of [...containers, ...networks, ...(volumes.Volumes ?? [])]) {
    const run = item.Labels?.[RUN_LABEL];
    const owner = Number(item.Labels?.[OWNER_LABEL]);
    if (run && !processAlive(owner)) abandoned.add(run);
  }
  for (const run of abandoned) await removeLabelled(engine, `${RUN_LABEL}=${run}`);
  return [...abandoned];
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
