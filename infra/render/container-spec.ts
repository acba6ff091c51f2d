// One description of a container, rendered by pure functions from plain values. The Pulumi
// components turn it into docker.Container resources (inside Output.apply, so secrets stay secret);
// the container tests replay the very same specs against a real Docker engine.

export interface FileUpload {
  /** Absolute path inside the container. */
  path: string;
  /** UTF-8 text (properties, PEM) or, with `base64: true`, base64 of binary content (PKCS12). */
  content: string;
  base64?: boolean;
  /** True for private keys, passwords and stores: Pulumi keeps the resource input secret. */
  secret?: boolean;
  /**
   * Octal file mode. Every upload is owned by root:root (see ProviderUpload in
   * infra/components/docker-container.ts for why no owner is ever set): a key is 0o640, readable by
   * its service, which runs with group 0, and by nobody else in the container.
   */
  mode?: number;
}

/**
 * A file of the Docker host mounted read-only (a dataset of gigabytes): it never passes through the
 * deploying process, unlike an upload. `hostPath` is resolved by the Docker daemon, on its host.
 */
export interface BindMount {
  hostPath: string;
  containerPath: string;
  readOnly: true;
}

/** The container label that carries a bind-mounted file's size and mtime: a changed file replaces the container. */
export const bindVersionLabel = 'pipeline.bind-version';

/**
 * `<size>-<mtime ms>` of each bound file as the deploying machine sees it (`missing` when it has no
 * such file, as with a remote DOCKER_HOST), joined in mount order.
 */
export function bindVersion(binds: readonly BindMount[], stat: (path: string) => { size: number; mtimeMs: number } | undefined): string {
  return binds.map((b) => {
    const s = stat(b.hostPath);
    return s ? `${s.size}-${Math.round(s.mtimeMs)}` : 'missing';
  }).join(',');
}

export interface PortMapping {
  /** Port inside the container. */
  internal: number;
  /** Port on the Docker host. */
  external: number;
  /** Host address to bind; 127.0.0.1 unless a stack opts out. */
  ip: string;
}

export interface VolumeMount {
  volumeName: string;
  containerPath: string;
}

export interface Healthcheck {
  test: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface ContainerSpec {
  /** Container name; also its host name on the stack's network. */
  name: string;
  image: string;
  entrypoint?: string[];
  command?: string[];
  env: Record<string, string>;
  ports: PortMapping[];
  uploads: FileUpload[];
  volumes: VolumeMount[];
  /** Host files mounted read-only; absent when none. */
  binds?: BindMount[];
  /** Extra DNS names on the stack network. */
  networkAliases: string[];
  user?: string;
  restart: 'no' | 'on-failure' | 'unless-stopped' | 'always';
  healthcheck?: Healthcheck;
  /** Memory limit in MiB, if any. */
  memoryMb?: number;
  /** Names of containers (specs) that must be started (and healthy, if they have a healthcheck) first. */
  dependsOn: string[];
}

/** Mode of a private key or any file that holds a secret: root's, and group 0's (the service's). */
export const secretFileMode = 0o640;

/**
 * The container user for a service running as `uid`: group 0, the group that reads the root-owned
 * secret files (the convention of images built to run under an arbitrary uid). Numeric, so neither
 * the daemon nor the container needs a passwd entry for it.
 */
export function runAsWithRootGroup(uid: number): string {
  return `${uid}:0`;
}
