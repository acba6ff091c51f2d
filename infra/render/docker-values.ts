// The docker.Container values of a ContainerSpec, written the way the docker provider reads them
// back from the engine (terraform-provider-docker's resourceDockerContainerRead), so that a preview
// right after `up` shows no change. Every field here is one the provider reads back and compares
// with the program; a value written any other way is a diff on every `up`:
// - healthcheck durations: read back as Go's time.Duration String() ("1m0s", never "60s");
// - memorySwap: read back from HostConfig.MemorySwap, which Docker fills in (2 × memory) when the
//   program leaves it out;
// - ports: read back from the engine's bindings with their protocol (`tcp`) and host address;
// - restart policy and log driver: read back from HostConfig; the log driver otherwise follows the
//   daemon's default, which need not be the provider's default `json-file`.
import type { ContainerSpec, Healthcheck, PortMapping } from './container-spec';

const NANOS = { us: 1_000, ms: 1_000_000, s: 1_000_000_000, m: 60_000_000_000, h: 3_600_000_000_000 } as const;

/** Fraction digits of `value / unit`, Go style: no trailing zeros, no point when whole. */
function withFraction(value: number, unit: number, digits: number): string {
  const whole = Math.floor(value / unit);
  const rest = value % unit;
  if (rest === 0) return String(whole);
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

/**
 * Go's time.Duration.String() for a whole number of nanoseconds: "0s", "500ms", "15s", "1m0s",
 * "1m30s", "1h0m0s". Docker keeps durations as nanoseconds and the provider prints them this way.
 */
export function goDuration(nanoseconds: number): string {
  if (!Number.isSafeInteger(nanoseconds) || nanoseconds < 0) throw new Error(`duration ${nanoseconds} ns: must be a whole, non-negative number of nanoseconds`);
  if (nanoseconds === 0) return '0s';
  if (nanoseconds < NANOS.us) return `${nanoseconds}ns`;
  if (nanoseconds < NANOS.ms) return `${withFraction(nanoseconds, NANOS.us, 3)}µs`;
  if (nanoseconds < NANOS.s) return `${withFraction(nanoseconds, NANOS.ms, 6)}ms`;
  const hours = Math.floor(nanoseconds / NANOS.h);
  const minutes = Math.floor((nanoseconds % NANOS.h) / NANOS.m);
  const seconds = `${withFraction(nanoseconds % NANOS.m, NANOS.s, 9)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/** Whole seconds (as the specs hold them) as Go prints them. */
export function goDurationOfSeconds(seconds: number): string {
  return goDuration(Math.round(seconds * NANOS.s));
}

/**
 * Memory plus swap, in MiB, for a container with a memory limit: equal to the limit, i.e. no swap.
 * Left out, Docker gives the container as much swap again as memory (reported as 2 × memory) where
 * the host has swap accounting. A JVM or Node heap that is swapped out stalls for seconds (a broker
 * drops out of the ISR, a consumer out of its group); being killed at the limit is the failure the
 * healthcheck and the restart policy handle. Written explicitly, the engine reports it back as is.
 */
export function memorySwapMb(memoryMb: number): number {
  return memoryMb;
}

/** The log driver every container is created with: the provider's default, pinned so the daemon's own default cannot differ. */
export const logDriver = 'json-file';

export interface DockerHealthcheckValues {
  tests: string[];
  interval: string;
  timeout: string;
  retries: number;
  startPeriod: string;
}

export function dockerHealthcheck(h: Healthcheck): DockerHealthcheckValues {
  return {
    tests: [...h.test],
    interval: goDurationOfSeconds(h.intervalSeconds),
    timeout: goDurationOfSeconds(h.timeoutSeconds),
    retries: h.retries,
    startPeriod: goDurationOfSeconds(h.startPeriodSeconds),
  };
}

export interface DockerPortValues {
  internal: number;
  external: number;
  ip: string;
  protocol: 'tcp';
}

export function dockerPorts(ports: PortMapping[]): DockerPortValues[] {
  return ports.map((p) => ({ internal: p.internal, external: p.external, ip: p.ip, protocol: 'tcp' }));
}

/** The plain (never secret) docker.Container values of a spec that the provider reads back. */
export interface DockerReadBackValues {
  ports: DockerPortValues[];
  restart: ContainerSpec['restart'];
  healthcheck?: DockerHealthcheckValues;
  memory?: number;
  memorySwap?: number;
  logDriver: string;
}

export function dockerReadBackValues(spec: ContainerSpec): DockerReadBackValues {
  const values: DockerReadBackValues = { ports: dockerPorts(spec.ports), restart: spec.restart, logDriver };
  if (spec.healthcheck) values.healthcheck = dockerHealthcheck(spec.healthcheck);
  if (spec.memoryMb) {
    values.memory = spec.memoryMb;
    values.memorySwap = memorySwapMb(spec.memoryMb);
  }
  return values;
}
