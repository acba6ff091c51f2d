// What terraform-provider-docker (behind @pulumi/docker's Container) does with the values this
// repository renders, as far as a second `up` is concerned: create turns them into an Engine API
// body (time.ParseDuration, MiB to bytes), read turns `docker inspect` back into values
// (Duration.String(), bytes to MiB, one port per host binding). A rendered value survives a round
// trip through a real engine unchanged exactly when the provider sees no diff.
import { goDuration, type DockerReadBackValues } from '../../infra/render/docker-values';

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const MiB = 1024 * 1024;

/** Go's time.ParseDuration for the non-negative values the provider accepts ("1m30s", "1.5s", "0s"). */
export function parseGoDuration(text: string): number {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  let match: RegExpExecArray | null;
  while ((match = part.exec(text)) !== null) {
    total += Number(match[1]) * UNITS[match[2]!]!;
    at = part.lastIndex;
  }
  if (at === 0 || at !== text.length) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  return Math.round(total);
}

export interface ProviderCreateFields {
  Healthcheck?: { Test: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number };
  ExposedPorts: Record<string, Record<string, never>>;
  HostConfig: {
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
    RestartPolicy: { Name: string };
    Memory?: number;
    MemorySwap?: number;
    LogConfig: { Type: string };
  };
}

/** The parts of the provider's ContainerCreate body that come from the read-back values. */
export function providerCreateFields(values: DockerReadBackValues): ProviderCreateFields {
  const fields: ProviderCreateFields = {
    ExposedPorts: {},
    HostConfig: { PortBindings: {}, RestartPolicy: { Name: values.restart }, LogConfig: { Type: values.logDriver } },
  };
  for (const p of values.ports) {
    const key = `${p.internal}/${p.protocol}`;
    fields.ExposedPorts[key] = {};
    (fields.HostConfig.PortBindings[key] ??= []).push({ HostIp: p.ip, HostPort: String(p.external) });
  }
  if (values.memory) fields.HostConfig.Memory = values.memory * MiB;
  if (values.memorySwap) fields.HostConfig.MemorySwap = values.memorySwap > 0 ? values.memorySwap * MiB : values.memorySwap;
  if (values.healthcheck) {
    const h = values.healthcheck;
    fields.Healthcheck = {
      Test: h.tests,
      Interval: parseGoDuration(h.interval),
      Timeout: parseGoDuration(h.timeout),
      Retries: h.retries,
      StartPeriod: parseGoDuration(h.startPeriod),
    };
  }
  return fields;
}

export interface InspectForReadBack {
  Config: { Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number } | null };
  HostConfig: { Memory: number; MemorySwap: number; RestartPolicy: { Name: string }; LogConfig: { Type: string } };
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
}

/** resourceDockerContainerRead for the same fields: what state holds after `up` or `refresh`. */
export function providerReadBack(inspect: InspectForReadBack): DockerReadBackValues {
  const ports = Object.entries(inspect.NetworkSettings.Ports ?? {})
    .sort(([a], [b]) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
    .flatMap(([key, bindings]) => (bindings ?? []).map((b) => {
      const [internal, protocol] = key.split('/');
      return { internal: Number(internal), external: Number(b.HostPort), ip: b.HostIp, protocol: protocol as 'tcp' };
    }));
  const values: DockerReadBackValues = {
    ports,
    restart: inspect.HostConfig.RestartPolicy.Name as DockerReadBackValues['restart'],
    logDriver: inspect.HostConfig.LogConfig.Type,
  };
  const h = inspect.Config.Healthcheck;
  if (h) {
    values.healthcheck = {
      tests: h.Test,
      interval: goDuration(h.Interval ?? 0),
      timeout: goDuration(h.Timeout ?? 0),
      retries: h.Retries ?? 0,
      startPeriod: goDuration(h.StartPeriod ?? 0),
    };
  }
  const memory = inspect.HostConfig.Memory / MiB;
  if (memory) values.memory = memory;
  const swap = inspect.HostConfig.MemorySwap > 0 ? inspect.HostConfig.MemorySwap / MiB : inspect.HostConfig.MemorySwap;
  if (swap) values.memorySwap = swap;
  return values;
}
