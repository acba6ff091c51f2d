// Pure translation of a ContainerSpec into what the Docker Engine API takes, doing what the docker
// provider does with the same inputs (uploads with the given mode and owner, ports bound to a host
// address, one network with aliases), so a test run on the engine matches a `pulumi up`.
import { readFileSync } from 'node:fs';
import type { ContainerSpec, FileUpload } from '../../infra/render/container-spec';
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
    RestartPolicy: { Name: string };
    Memory?: number;
  };
  NetworkingConfig: { EndpointsConfig: Record<string, { Aliases: string[] }> };
}

const NANOS_PER_SECOND = 1_000_000_000;

export function containerCreateBody(spec: ContainerSpec, network: string, labels: Record<string, string>): ContainerCreateBody {
  const body: ContainerCreateBody = {
    Image: spec.image,
    Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
    Labels: labels,
    ExposedPorts: Object.fromEntries(spec.ports.map((p) => [`${p.internal}/tcp`, {}])),
    HostConfig: {
      NetworkMode: network,
      PortBindings: Object.fromEntries(spec.ports.map((p) => [`${p.internal}/tcp`, [{ HostIp: p.ip, HostPort: String(p.external) }]])),
      Mounts: spec.volumes.map((v) => ({ Type: 'volume', Source: v.volumeName, Target: v.containerPath })),
      RestartPolicy: { Name: spec.restart },
    },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: spec.networkAliases } } },
  };
  if (spec.entrypoint) body.Entrypoint = spec.entrypoint;
  if (spec.command) body.Cmd = spec.command;
  if (spec.user) body.User = spec.user;
  if (spec.memoryMb) body.HostConfig.Memory = spec.memoryMb * 1024 * 1024;
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

function uploadContent(upload: FileUpload): Buffer {
  if (upload.hostPath) {
    try {
      return readFileSync(upload.hostPath);
    } catch (error) {
      throw new Error(`upload ${upload.path}: cannot read ${upload.hostPath} on this machine: ${(error as Error).message}`, { cause: error });
    }
  }
  if (!upload.base64) return Buffer.from(upload.content, 'utf8');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(upload.content.replace(/\s+/g, ''))) {
    throw new Error(`upload ${upload.path}: content is marked base64 but is not base64`);
  }
  return Buffer.from(upload.content, 'base64');
}

/** The archive the provider would upload: every file with its mode (default 0o644) and owner (default root). */
export function uploadArchive(spec: ContainerSpec): Buffer | undefined {
  if (spec.uploads.length === 0) return undefined;
  for (const upload of spec.uploads) {
    if (!upload.path.startsWith('/')) throw new Error(`container ${spec.name}: upload path ${JSON.stringify(upload.path)} is not absolute`);
  }
  return tarArchive(spec.uploads.map((u) => ({ path: u.path, content: uploadContent(u), mode: u.mode ?? 0o644, uid: u.owner ?? 0, gid: u.group ?? 0 })));
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
