// Pure translation of a ContainerSpec into what the Docker Engine API takes, doing what the docker
// provider does with the same inputs (each upload its own archive, made from the very upload inputs
// the program gives the provider, under the provider's copyUIDGID rule; ports bound to a host
// address; one network with aliases), so a test run on the engine matches a `pulumi up`.
import { statSync } from 'node:fs';
import { providerUpload, type ProviderUpload } from '../../infra/components/docker-container';
import { bindVersion, bindVersionLabel, type ContainerSpec } from '../../infra/render/container-spec';
import { memorySwapMb } from '../../infra/render/docker-values';
import { tarArchive } from './tar';

export interface ContainerCreateBody {
  Image: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env: string[];
  User?: string;
  Labels: Record<string, string>;
  ExposedPorts: Record<string, Record<string, never>>;
  Healthcheck?: { Test: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number };
  HostConfig: {
    NetworkMode: string;
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
    Mounts: { Type: 'volume'; Source: string; Target: string }[];
    /** `host:container:ro`, as the docker provider passes a volume with a host path (a missing host path becomes a directory). */
    Binds?: string[];
    RestartPolicy: { Name: string };
    Memory?: number;
    MemorySwap?: number;
  };
  NetworkingConfig: { EndpointsConfig: Record<string, { Aliases: string[] }> };
}

const NANOS_PER_SECOND = 1_000_000_000;

export function containerCreateBody(spec: ContainerSpec, network: string, labels: Record<string, string>): ContainerCreateBody {
  const body: ContainerCreateBody = {
    Image: spec.image,
    Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
    Labels: spec.binds?.length ? { ...labels, [bindVersionLabel]: bindVersion(spec.binds, (p) => statSync(p, { throwIfNoEntry: false })) } : labels,
    ExposedPorts: Object.fromEntries(spec.ports.map((p) => [`${p.internal}/tcp`, {}])),
    HostConfig: {
      NetworkMode: network,
      PortBindings: Object.fromEntries(spec.ports.map((p) => [`${p.internal}/tcp`, [{ HostIp: p.ip, HostPort: String(p.external) }]])),
      Mounts: spec.volumes.map((v) => ({ Type: 'volume', Source: v.volumeName, Target: v.containerPath })),
      ...(spec.binds?.length ? { Binds: spec.binds.map((b) => `${b.hostPath}:${b.containerPath}:ro`) } : {}),
      RestartPolicy: { Name: spec.restart },
    },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: spec.networkAliases } } },
  };
  if (spec.entrypoint) body.Entrypoint = spec.entrypoint;
  if (spec.command) body.Cmd = spec.command;
  if (spec.user) body.User = spec.user;
  if (spec.memoryMb) body.HostConfig.Memory = spec.memoryMb * 1024 * 1024;
  if (spec.memoryMb) body.HostConfig.MemorySwap = memorySwapMb(spec.memoryMb) * 1024 * 1024; // as the program sets it: no swap
  if (spec.healthcheck) {
    const h = spec.healthcheck;
    body.Healthcheck = {
      Test: h.test,
      Interval: h.intervalSeconds * NANOS_PER_SECOND,
      Timeout: h.timeoutSeconds * NANOS_PER_SECOND,
      Retries: h.retries,
      StartPeriod: h.startPeriodSeconds * NANOS_PER_SECOND,
    };
  }
  return body;
}

/** One PUT /containers/{id}/archive, as the provider makes it for one upload. */
export interface UploadRequest {
  file: string;
  archive: Buffer;
  /** The query flag: the daemon then chowns to the container's user, looked up on the *host*. */
  copyUIDGID: boolean;
}

function uploadContent(upload: ProviderUpload): Buffer {
  if (upload.contentBase64 === undefined) return Buffer.from(upload.content ?? '', 'utf8');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(upload.contentBase64.replace(/\s+/g, ''))) {
    throw new Error(`upload ${upload.file}: content is marked base64 but is not base64`);
  }
  return Buffer.from(upload.contentBase64, 'base64');
}

/**
 * The docker provider's upload rule, for one upload: its own tar archive holding the file with
 * `permissions` as its mode (0644 when unset) and `owner`/`group` (numeric) in the header, and
 * `copyUIDGID` exactly when `owner` or `group` is set. Nothing is resolved here that the daemon
 * would resolve: with copyUIDGID the daemon itself looks the container's user up (and fails as it does
 * for the provider).
 */
export function uploadRequest(upload: ProviderUpload): UploadRequest {
  const mode = upload.permissions === undefined ? 0o644 : Number.parseInt(upload.permissions, 8);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`upload ${upload.file}: permissions ${JSON.stringify(upload.permissions)} is not an octal mode`);
  const id = (value: string | undefined, what: string): number => {
    if (value === undefined) return 0;
    if (!/^\d+$/.test(value)) throw new Error(`upload ${upload.file}: ${what} ${JSON.stringify(value)} is not numeric`);
    return Number(value);
  };
  return {
    file: upload.file,
    archive: tarArchive([{ path: upload.file, content: uploadContent(upload), mode, uid: id(upload.owner, 'owner'), gid: id(upload.group, 'group') }]),
    copyUIDGID: upload.owner !== undefined || upload.group !== undefined,
  };
}

/** What the provider would send for a spec's uploads: the program's own upload inputs, one request each. */
export function uploadRequests(spec: ContainerSpec): UploadRequest[] {
  for (const upload of spec.uploads) {
    if (!upload.path.startsWith('/')) throw new Error(`container ${spec.name}: upload path ${JSON.stringify(upload.path)} is not absolute`);
  }
  return spec.uploads.map((u) => uploadRequest(providerUpload(u)));
}

/**
 * The specs grouped into start waves: every container comes after all it depends on. Fails on a
 * name given twice, a dependency on a container that is not in the list, or a cycle.
 */
export function startWaves(specs: ContainerSpec[]): string[][] {
  const byName = new Map<string, ContainerSpec>();
  for (const spec of specs) {
    if (byName.has(spec.name)) throw new Error(`two containers are named ${spec.name}`);
    byName.set(spec.name, spec);
  }
  for (const spec of specs) {
    for (const dep of spec.dependsOn) {
      if (!byName.has(dep)) throw new Error(`container ${spec.name} depends on ${dep}, which is not defined`);
    }
  }
  const waves: string[][] = [];
  const placed = new Set<string>();
  while (placed.size < specs.length) {
    const wave = specs.filter((s) => !placed.has(s.name) && s.dependsOn.every((d) => placed.has(d))).map((s) => s.name);
    if (wave.length === 0) {
      const rest = specs.filter((s) => !placed.has(s.name)).map((s) => s.name);
      throw new Error(`containers depend on each other in a cycle: ${rest.join(', ')}`);
    }
    wave.forEach((name) => placed.add(name));
    waves.push(wave);
  }
  return waves;
}

/** A healthcheck's test as the command Docker runs for it: CMD runs its arguments, CMD-SHELL runs one line with /bin/sh -c. */
export function healthcheckCommand(test: string[]): string[] {
  const [kind, ...rest] = test;
  if (kind === 'CMD' && rest.length > 0) return rest;
  if (kind === 'CMD-SHELL' && rest.length === 1) return ['/bin/sh', '-c', rest[0]!];
  throw new Error(`unsupported healthcheck test ${JSON.stringify(test)}: expected ["CMD", ...args] or ["CMD-SHELL", command]`);
}
